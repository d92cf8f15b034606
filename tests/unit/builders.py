# SPDX-License-Identifier: Apache-2.0
"""What the unit tests build their worlds from, in one place: the sample project's configuration,
the target its releases go to, and packages placed under dist/<V>/ and recorded as a build (or a
promotion) leaves them, or as a build and its signing leave a candidate (`place_signed`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from release.config import ReleaseConfig, parse_config
from release.pipeline.connect import Target
from release.record import (
    BuildInfo,
    FileEntry,
    ReleaseRecord,
    load_record,
    release_dir,
    sha512_of,
    signature_entries,
)
from release.versions import parse_version

IMAGE = "sample/app"
TARGET = Target(registry="registry.test", index_upload="https://index.test/legacy/",
                index_simple="https://index.test/simple/", svn_dev="https://svn.test/dev",
                svn_release="https://svn.test/release", signing_key="ABCD", keys_url="https://svn.test/KEYS")


def sample_config(root: Path = Path("/src"), table: Mapping[str, Any] | None = None) -> ReleaseConfig:
    """The sample project (`sample-app`, image `sample/app`, flavours 3.11 and 3.13) checked out at
    `root`; `table`: more of its [tool.release], or keys it gives otherwise."""
    defaults = {"name": "sample-app", "image": IMAGE, "python": ["3.11", "3.13"]}
    return parse_config(root, {**defaults, **(table or {})})


def place_packages(record: ReleaseRecord, version: str, names: Iterable[str]) -> None:
    """Each of `names` in svn/ and pypi/ of the record's folder (bytes naming it and `version`),
    recorded as the build's files."""
    entries = []
    for name in names:
        for where in ("svn", "pypi"):
            path = record.directory / where / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"{name} of {version}".encode())
            entries.append(FileEntry(f"{where}/{name}", sha512_of(path), "wheel", where))
    record.add_files(entries)


def place_signed(root: Path, version: str, names: Iterable[str], *, commit: str = "c" * 40,
                 key: str = "F" * 40) -> ReleaseRecord:
    """dist/<version>/ under `root` as the build and sign steps leave it: `names` placed as
    `place_packages` does, each svn/ file with its .asc and .sha512, built from `commit` (release
    notes "- Notes.", the voted version declared) and signed by `key`."""
    record = load_record(release_dir(root, version), version)
    names = list(names)
    place_packages(record, version, names)
    signed = [record.directory / "svn" / name for name in names]
    for path in signed:
        for suffix in (".asc", ".sha512"):
            path.with_name(path.name + suffix).write_text(f"{suffix} of {path.name}\n", encoding="utf-8")
    record.add_signatures(signature_entries(signed, record.directory))
    voted = str(parse_version(version).voted)
    record.set_build(BuildInfo(commit, 1, "pyproject.toml", voted, "- Notes.",
                               distributions={"sample-app": voted}))
    record.step_done("build")
    record.step_done("sign", {"key": key})
    return record
