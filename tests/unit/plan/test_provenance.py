# SPDX-License-Identifier: Apache-2.0
"""Provenance, pure parts: names and places (plan/provenance.py), the plan's SBOM and signature
artefacts, the SBOM model built from an image's facts (steps/sbom.py), and the record's entries."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from release.plan.images import ImageSource, WheelFile
from release.plan.provenance import (
    ARTIFACT_TYPE,
    SBOM_LABEL,
    artifact_layers,
    artifact_manifest,
    attachment_tag,
    blob_digest,
    image_signature_path,
    lookaside_path,
    media_type,
    registries_d,
    sbom_file,
    sbom_path,
    settled,
    signature_policy,
    signed_identity,
)
from release.plan.release import StepName, TargetState, plan_release, release_steps
from release.plan.sbom import summarise, validate
from release.plan.tags import BuildKind
from release.record import ImageSignatureEntry, SbomEntry, load_record
from release.steps.provenance import same_as_published
from release.steps.sbom import Described, ImageFacts, make_bom, render
from release.versions import parse_version
from tests.unit.builders import sample_config
from tests.unit.planning import planned_image

DIGEST = "sha256:" + "ab" * 32
WHEEL_SHA = "cd" * 32
CONFIG = sample_config(table={"base-image": "{registry}/sandbox/python:{python}"})


def test_names_carry_the_image_tag_and_later_the_platform() -> None:
    assert sbom_file("sample-app", "1.10.6-python3.11") == "sample-app-1.10.6-python3.11.cdx.json"
    assert sbom_path("a", "1-python3.11", "linux/arm64") == "sbom/a-1-python3.11-linux-arm64.cdx.json"
    assert image_signature_path("a", "1-python3.11") == "image-signatures/a-1-python3.11.sig"
    assert media_type("x.cdx.json") == "application/vnd.cyclonedx+json"
    assert media_type("release.json.asc") == "application/pgp-signature"


def test_the_attachment_tag_and_the_lookaside_path_follow_the_digest() -> None:
    assert attachment_tag(DIGEST) == f"sha256-{'ab' * 32}.att"
    assert lookaside_path("apache/airflow", DIGEST) == f"apache/airflow@sha256={'ab' * 32}/signature-1"
    assert signed_identity("127.0.0.1:5000/sample/app", "1.10.6-python3.11") == \
        "127.0.0.1:5000/sample/app:1.10.6-python3.11"
    with pytest.raises(ValueError):
        attachment_tag("not-a-digest")


def test_an_artifact_manifest_names_its_subject_its_type_and_its_files_by_title() -> None:
    one, two = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    raw = artifact_manifest({"release.json": (one, 10), "x.cdx.json": (two, 5)},
                            subject=("application/vnd.docker.distribution.manifest.v2+json", DIGEST, 500),
                            annotations={"org.opencontainers.image.version": "1.10.6"})
    body = json.loads(raw)
    assert body["artifactType"] == ARTIFACT_TYPE
    assert body["config"] == {"mediaType": "application/vnd.oci.empty.v1+json", "digest": blob_digest(b"{}"),
                              "size": 2}
    assert body["subject"]["digest"] == DIGEST
    assert artifact_layers(body) == {"release.json": one, "x.cdx.json": two}
    assert [layer["mediaType"] for layer in body["layers"]] == ["application/json",
                                                                 "application/vnd.cyclonedx+json"]


def test_the_documented_policy_matches_the_repository_so_aliases_need_no_signature() -> None:
    policy = signature_policy("reg.example/apache/airflow", "/etc/pki/airflow-KEYS")
    rule = policy["transports"]["docker"]["reg.example/apache/airflow"][0]
    assert rule == {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/etc/pki/airflow-KEYS",
                    "signedIdentity": {"type": "matchRepository"}}
    assert registries_d("reg.example", "https://dist.example/airflow/signatures") == (
        "docker:\n  reg.example:\n    lookaside: https://dist.example/airflow/signatures\n")


def test_release_images_name_their_sbom_in_a_label_master_images_name_none() -> None:
    source = ImageSource(name="sample-app", version="1.10.6", title="Sample", dockerfile_sha256="0" * 64,
                         wheels=(WheelFile("sample_app-1.10.6-py3-none-any.whl", WHEEL_SHA),))
    release = planned_image(source, registry="r", base_image="b", base_digest="sha256:" + "0" * 64)
    master = planned_image(source, registry="r", base_image="b", base_digest="sha256:" + "0" * 64,
                           kind=BuildKind.MASTER)
    assert release.labels[SBOM_LABEL] == "sample-app-1.10.6-python3.11.cdx.json"
    assert master.labels[SBOM_LABEL] == ""


def test_the_plan_signs_and_attests_between_push_and_aliases_and_publishes_after_the_report() -> None:
    names = [s.name for s in release_steps(parse_version("1.10.6"))]
    assert names.index(StepName.PUSH) < names.index(StepName.SBOM) < names.index(StepName.ATTEST) \
        < names.index(StepName.ALIASES)
    assert names[-2:] == [StepName.REPORT, StepName.PROVENANCE]


def test_the_dry_run_lists_each_images_sbom_with_companions_and_its_signature() -> None:
    plan = plan_release(CONFIG, parse_version("1.10.6"), TargetState(), registry="127.0.0.1:5000")
    data = plan.to_json()
    found = {a["path"]: a["companions"] for a in data["artefacts"]
             if a["kind"] in {"sbom", "image-signature"}}
    assert found == {
        "sbom/sample-app-1.10.6-python3.11.cdx.json": ["sbom/sample-app-1.10.6-python3.11.cdx.json.asc",
                                                       "sbom/sample-app-1.10.6-python3.11.cdx.json.sha512"],
        "sbom/sample-app-1.10.6-python3.13.cdx.json": ["sbom/sample-app-1.10.6-python3.13.cdx.json.asc",
                                                       "sbom/sample-app-1.10.6-python3.13.cdx.json.sha512"],
        "image-signatures/sample-app-1.10.6-python3.11.sig": [],
        "image-signatures/sample-app-1.10.6-python3.13.sig": [],
    }
    assert [i["sbom"] for i in data["images"]] == ["sbom/sample-app-1.10.6-python3.11.cdx.json",
                                                   "sbom/sample-app-1.10.6-python3.13.cdx.json"]


FACTS = ImageFacts(
    python=({"name": "sample-app", "version": "1.10.6", "licences": ["Apache-2.0"], "expression": True},
            {"name": "dumb-init", "version": "1.2.5", "licences": ["MIT License"], "expression": False},
            {"name": "old", "version": "0.1", "licences": ["UNKNOWN"], "expression": False}),
    debian=({"name": "python3", "version": "3.11.2-1+b1", "arch": "amd64", "source": "python3-defaults",
             "licences": ["PSF-2.0", "GPL-2+"]},
            {"name": "libc6", "version": "2.36-9", "arch": "amd64", "source": "glibc", "licences": []}),
    os={"ID": "debian", "VERSION_ID": "12", "VERSION_CODENAME": "bookworm", "PRETTY_NAME": "Debian 12"},
    wheels={"sample_app-1.10.6-py3-none-any.whl": WHEEL_SHA},
    python_version="3.11.2",
)
IMAGE = Described("127.0.0.1:5000/sample/app", "1.10.6-python3.11", DIGEST, "c0ffee")
CREATED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_an_sbom_validates_and_lists_the_wheel_with_its_hash_and_the_debian_packages() -> None:
    text = render(make_bom(FACTS, IMAGE, created=CREATED))
    assert validate(text) == ""
    summary = summarise(text)
    assert summary.digest == DIGEST
    assert summary.python == {"sample-app": "1.10.6", "dumb-init": "1.2.5", "old": "0.1"}
    assert summary.debian == {"python3": "3.11.2-1+b1", "libc6": "2.36-9"}
    assert summary.wheel_sha256 == {WHEEL_SHA}
    data = json.loads(text)
    purls = {c["name"]: c.get("purl") for c in data["components"]}
    assert purls["python3"] == "pkg:deb/debian/python3@3.11.2-1%2Bb1?arch=amd64&distro=bookworm"
    assert purls["sample-app"] == "pkg:pypi/sample-app@1.10.6"
    licences = {c["name"]: c.get("licenses") for c in data["components"]}
    assert licences["python3"] == [{"license": {"id": "PSF-2.0"}}, {"license": {"name": "GPL-2+"}}]
    assert licences["old"] is None


def test_an_sbom_is_the_same_bytes_for_the_same_image() -> None:
    assert render(make_bom(FACTS, IMAGE, created=CREATED)) == render(make_bom(FACTS, IMAGE, created=CREATED))


def test_a_broken_document_does_not_validate() -> None:
    text = render(make_bom(FACTS, IMAGE, created=CREATED))
    data = json.loads(text)
    data["components"][0]["type"] = "spaceship"
    assert validate(json.dumps(data)) != ""


def test_the_record_keeps_sboms_and_image_signatures_as_typed_entries(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put_sbom(SbomEntry("sbom/a.cdx.json", "1" * 128, "3.11", "r/a:1.10.6-python3.11", DIGEST, 120))
    record.put_image_signature(ImageSignatureEntry("image-signatures/a.sig", "2" * 128, "3.11",
                                                   "r/a:1.10.6-python3.11", DIGEST, "F" * 40, "file:///x"))
    again = load_record(tmp_path, "1.10.6")
    assert again.sboms == record.sboms and again.image_signatures == record.image_signatures
    assert json.loads((tmp_path / "release.json").read_text())["sboms"]["sbom/a.cdx.json"]["digest"] == DIGEST


def test_a_rerun_that_only_changes_step_times_publishes_nothing_new(tmp_path: Path) -> None:
    record = {"version": "1.10.6", "steps": {"report": {"finished": "2026-11-01T00:00:00Z", "n": 1}}}
    local = tmp_path / "release.json"
    rerun = {"report": {"finished": "2026-11-02T00:00:00Z", "n": 1}}
    local.write_text(json.dumps({**record, "steps": rerun}))
    sbom = tmp_path / "a.cdx.json"
    sbom.write_bytes(b"{}")
    files = {"release.json": local, "a.cdx.json": sbom}
    published: dict[str, bytes | str] = {"release.json": json.dumps(record).encode(),
                                         "a.cdx.json": blob_digest(b"{}")}
    assert settled(json.dumps(record).encode()) == settled(local.read_bytes())
    assert same_as_published(files, published)
    assert not same_as_published(files, {**published, "a.cdx.json": blob_digest(b"[]")})
    moved = {**record, "tags": {"latest": {"digest": "sha256:1", "action": "skip", "previous": "sha256:1"}}}
    rerun_tags = {**record, "tags": {"latest": {"digest": "sha256:1", "action": "create", "previous": None}}}
    assert settled(json.dumps(moved).encode()) == settled(json.dumps(rerun_tags).encode())
    other = {**record, "images": {"3.11": {"digest": "sha256:2"}}}
    assert not same_as_published(files, {**published, "release.json": json.dumps(other).encode()})
    assert not same_as_published(files, {"release.json": published["release.json"]})

