# SPDX-License-Identifier: Apache-2.0
"""A project staging in ATR puts nothing in svn: each image's artifact carries its own signature and
every constraints file, and `refresh` finds an image's constraints there. Against the in-memory
registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.config import parse_config
from release.errors import RefusedError
from release.identity import ImageId
from release.plan.release import ReleasePlan, TargetState, plan_release
from release.record import (
    ConstraintsEntry,
    ImageSignatureEntry,
    ReleaseRecord,
    SbomEntry,
    load_record,
    sha512_of,
)
from release.steps.check_provenance import attachment
from release.steps.provenance import constraints_files, image_files, publish_provenance
from release.steps.refresh import attached_constraints
from release.versions import parse_version
from tests.unit.memory import MemoryRegistry

IMAGE = "sample/app"
COMPANIONS = ("", ".asc", ".sha512")


def recorded(root: Path) -> tuple[ReleasePlan, ReleaseRecord]:
    """A final of two flavours as its `report` step leaves dist/<V>/: each image's SBOM, signature
    and constraints file (with companions) written and recorded, the record signed."""
    config = parse_config(root, {"name": "sample-app", "image": IMAGE, "python": ["3.11", "3.13"]})
    plan = plan_release(config, parse_version("1.10.6"), TargetState(), registry="registry.test")
    record = load_record(root / "dist" / "1.10.6", "1.10.6")
    directory = record.directory
    for image in plan.images:
        paths = [image.sbom, image.signature, *(image.sbom + s for s in COMPANIONS[1:]),
                 *(image.constraints + s for s in COMPANIONS)]
        for path in paths:
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / path).write_text(f"{path}\n")
        constraints, digest = directory / image.constraints, "sha256:" + "0" * 64
        constraints.with_name(constraints.name + ".sha512").write_text(f"{sha512_of(constraints)}  x\n")
        record.put_sbom(SbomEntry(image.sbom, sha512_of(directory / image.sbom), image.image.flavour,
                                  image.ref, digest))
        record.put_image_signature(ImageSignatureEntry(
            image.signature, sha512_of(directory / image.signature), image.image.flavour, image.ref, digest,
            "F" * 40))
        record.put_constraints([ConstraintsEntry(image.constraints, sha512_of(constraints),
                                                 image.image.flavour, "", f"{IMAGE}@{digest}")])
    for suffix in (".asc", ".sha512"):
        (directory / f"release.json{suffix}").write_text("signed\n")
    return plan, record


def test_an_image_s_attachment_takes_its_own_signature_and_every_constraints_file(tmp_path: Path) -> None:
    plan, record = recorded(tmp_path)
    first = plan.images[0]
    assert image_files(record, first) == [first.sbom, first.sbom + ".asc", first.sbom + ".sha512"]
    assert image_files(record, first, signature=True)[-1] == first.signature
    assert sorted(constraints_files(record)) == sorted(f"constraints-{p}.txt{s}" for p in ("3.11", "3.13")
                                                       for s in COMPANIONS)
    registry = MemoryRegistry()
    digests = {image.key: registry.push(IMAGE, image.tag, {}) for image in plan.images}
    publish_provenance(record, plan.images, digests, registry=registry, image=IMAGE, svn_folder=None,
                       in_atr=True)
    for image in plan.images:
        files = attachment(registry, IMAGE, digests[image.key])
        assert files is not None
        signatures = [n for n in files if n.endswith(".sig")]
        assert signatures == [Path(image.signature).name]  # its own, not the other image's
        assert files[signatures[0]] == (record.directory / image.signature).read_bytes()
        assert {f"constraints-{p}.txt{s}" for p in ("3.11", "3.13") for s in COMPANIONS} <= set(files)


def test_svn_staging_attaches_no_signature_and_no_constraints(tmp_path: Path) -> None:
    plan, record = recorded(tmp_path)
    registry = MemoryRegistry()
    digests = {image.key: registry.push(IMAGE, image.tag, {}) for image in plan.images}
    publish_provenance(record, plan.images, digests, registry=registry, image=IMAGE, svn_folder=None)
    files = attachment(registry, IMAGE, digests[plan.images[0].key])
    assert files is not None and not any(n.endswith(".sig") or n.startswith("constraints-") for n in files)


def test_a_file_that_differs_from_the_record_is_not_attached(tmp_path: Path) -> None:
    plan, record = recorded(tmp_path)
    first = plan.images[0]
    (record.directory / first.signature).write_text("another signature\n")
    with pytest.raises(RefusedError, match="run the attest step again"):
        image_files(record, first, signature=True)
    (record.directory / first.constraints).unlink()
    with pytest.raises(RefusedError, match="run the constraints step again"):
        constraints_files(record)


def test_refresh_finds_an_image_s_constraints_in_its_attachment_when_the_checksum_holds(
        tmp_path: Path) -> None:
    plan, record = recorded(tmp_path)
    registry = MemoryRegistry()
    digests = {image.key: registry.push(IMAGE, image.tag, {}) for image in plan.images}
    publish_provenance(record, plan.images, digests, registry=registry, image=IMAGE, svn_folder=None,
                       in_atr=True)
    find = attached_constraints(registry, IMAGE, lambda digest: attachment(registry, IMAGE, digest),
                                tmp_path / "found")
    found = find("1.10.6", ImageId("3.13"))
    assert found is not None and found.name == "constraints-3.13.txt"
    assert found.read_bytes() == (record.directory / "constraints" / "constraints-3.13.txt").read_bytes()
    assert find("1.10.5", ImageId("3.13")) is None  # no such image
    bad = attached_constraints(registry, IMAGE, lambda digest: {"constraints-3.13.txt": b"other\n",
                                                                "constraints-3.13.txt.sha512": b"0" * 128},
                               tmp_path / "bad")
    assert bad("1.10.6", ImageId("3.13")) is None
