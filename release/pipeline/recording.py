# SPDX-License-Identifier: Apache-2.0
"""What the pipeline records of a step's product in the release record: the build's files and
facts, the signatures, the SBOMs. The steps return these products and never write the record;
the executor's runners (pipeline/release.py) and the vote workflow's and image jobs' own build
and sign (pipeline/vote.py, pipeline/images.py) record them here, one way for all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from release.record import ReleaseRecord

if TYPE_CHECKING:
    from release.steps.build import BuildResult
    from release.steps.sbom import WrittenSbom
    from release.steps.sign import SignResult


def record_build(record: ReleaseRecord, built: BuildResult) -> None:
    """The built files, what they were built from, and the build step done."""
    record.add_files(built.files)
    record.set_build(built.info)
    record.step_done("build", {"commit": built.commit, "source_date_epoch": built.source_date_epoch})


def record_signed(record: ReleaseRecord, signed: SignResult) -> None:
    """Every signed file's `.asc` and `.sha512`, and the sign step done with the key's fingerprint."""
    record.add_signatures(signed.signatures)
    record.step_done("sign", {"key": signed.fingerprint})


def record_sboms(record: ReleaseRecord, sboms: Sequence[WrittenSbom]) -> None:
    """Each image's SBOM and its signatures, and the sbom step done with the digest each describes."""
    record.add_signatures(s for sbom in sboms for s in sbom.signatures)
    for sbom in sboms:
        record.put_sbom(sbom.entry)
    record.step_done("sbom", {"sboms": {s.entry.path: s.entry.digest for s in sboms}})
