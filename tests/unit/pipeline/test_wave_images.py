# SPDX-License-Identifier: Apache-2.0
"""A versioned train's images (`pipeline/wave_images.py`): planned at the lead candidate; checked
for a voter against the staged wheels; after promotion the final tags and the aliases put on the
very images the vote was on, by manifest copy through the one tag mover, by the single release's
rule; against an in-memory registry and index (and an engine holding the pulled images' labels)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from release.adapters.clients import Clients
from release.config import ReleaseConfig, parse_config
from release.errors import ConfigError, RefusedError
from release.pipeline.trains import plan_train
from release.pipeline.wave_images import (
    check_wave_images,
    provenance_record,
    publish_images,
    pushed_digests,
    wave_images,
    wave_wheels,
)
from release.plan.images import LABEL_ARGS, WHEEL_SHA256_LABEL, WHEELS_RECORD
from release.plan.verify_report import FileCheck
from release.record import ImageEntry, ImageSignatureEntry, SbomEntry
from release.steps.check_provenance import REVISION_LABEL
from tests.unit.memory import MemoryIndex, MemoryRegistry
from tests.unit.pipeline.test_trains import CORE, DATE, PROVIDERS, core_files, released, three_changed
from tests.unit.test_trains import airflow_table

VERSION = LABEL_ARGS["IMAGE_VERSION"]
IMAGE = "apache/airflow"


def candidate_images(registry: MemoryRegistry, candidate: str, version: str) -> dict[str, Any]:
    """The images a wave's run pushed under `candidate`'s tags, as wave.json records them."""
    pushed = {}
    for flavour in ("3.11", "3.13"):
        tag = f"{candidate}-python{flavour}"
        digest = registry.push(IMAGE, tag, {VERSION: version, "flavour": flavour})
        entry = ImageEntry(flavour, f"registry.test/{IMAGE}:{tag}", digest, "", "sha256:in", "python",
                           "sha256:b")
        pushed[entry.key] = asdict(entry)
    return {"candidate": candidate, "version": version, "pushed": pushed}


def released_332(registry: MemoryRegistry) -> str:
    digest = registry.push(IMAGE, "3.3.2-python3.11", {VERSION: "3.3.2"})
    for tag in ("3.3.2", "3.3", "latest", "3.3-python3.11", "latest-python3.11"):
        registry.repositories[IMAGE][tag] = digest
    return digest


def setup(tmp_path: Path) -> tuple[ReleaseConfig, MemoryRegistry, Clients]:
    registry = MemoryRegistry()
    return parse_config(tmp_path, airflow_table()), registry, Clients(registry, MemoryIndex())


def test_the_final_tags_and_aliases_go_on_the_voted_images_and_a_rerun_sets_nothing(tmp_path: Path) -> None:
    config, registry, clients = setup(tmp_path)
    released_332(registry)
    recorded = candidate_images(registry, "3.3.3rc1", "3.3.3")
    rc = {p: registry.repositories[IMAGE][f"3.3.3rc1-python{p}"] for p in ("3.11", "3.13")}
    done = publish_images(config, recorded, clients, say=lambda line: None)
    assert done.owns_latest
    tags = registry.repositories[IMAGE]
    for p in ("3.11", "3.13"):  # the rc's digests: nothing was built again
        assert {tags[t] for t in (f"3.3.3-python{p}", f"3.3-python{p}", f"latest-python{p}")} == {rc[p]}
    assert tags["3.3.3"] == tags["latest"] == tags["3.3"] == rc["3.11"]  # the default flavour's
    assert {e.tag: e.action for e in done.tags}["latest"] == "move"
    again = publish_images(config, recorded, clients, say=lambda line: None)
    assert all(e.action in {"skip", "verify"} for e in again.tags)
    assert registry.repositories[IMAGE] == tags


def test_an_older_line_gets_its_own_tags_but_never_latest(tmp_path: Path) -> None:
    config, registry, clients = setup(tmp_path)
    old = released_332(registry)
    recorded = candidate_images(registry, "3.2.5rc1", "3.2.5")
    done = publish_images(config, recorded, clients, say=lambda line: None)
    tags = registry.repositories[IMAGE]
    assert not done.owns_latest and tags["latest"] == tags["3.3"] == old
    assert tags["3.2.5"] == tags["3.2"] == tags["3.2.5-python3.11"] == tags["3.2.5rc1-python3.11"]


def test_a_candidate_tag_that_moved_since_the_vote_is_refused_and_nothing_is_tagged(tmp_path: Path) -> None:
    config, registry, clients = setup(tmp_path)
    recorded = candidate_images(registry, "3.3.3rc1", "3.3.3")
    registry.push(IMAGE, "3.3.3rc1-python3.13", {VERSION: "3.3.3", "rebuilt": "yes"})
    before = dict(registry.repositories[IMAGE])
    with pytest.raises(RefusedError, match=r"^apache/airflow:3.3.3rc1-python3.13 is sha256:\w+, not the "
                                           r"voted image sha256:\w+; the final tags go only on the images "
                                           "voted on$"):
        publish_images(config, recorded, clients, say=lambda line: None)
    assert registry.repositories[IMAGE] == before


def test_the_core_trains_images_are_the_projects_at_the_lead_candidate_and_a_flat_train_has_none(
        tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    core = plan_train(config, CORE, date=DATE, reader=git).plan
    images = wave_images(config, core, "registry.test")
    assert [(i.ref, i.constraints, i.base_image) for i in images] == [
        (f"registry.test/{IMAGE}:3.3.3rc1-python{p}", f"constraints/constraints-{p}.txt",
         f"python:{p}-slim-bookworm") for p in ("3.11", "3.13")]
    assert [i.tag for i in core.images] == ["3.3.3rc1-python3.11", "3.3.3rc1-python3.13"]
    providers = plan_train(config, PROVIDERS, date=DATE, reader=three_changed()).plan
    assert wave_images(config, providers, "registry.test") == () and providers.images == ()


def test_a_train_with_images_of_several_platforms_is_refused_in_one_line(tmp_path: Path) -> None:
    config = parse_config(tmp_path, {**airflow_table(), "platforms": ["linux/amd64", "linux/arm64"]})
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    with pytest.raises(ConfigError, match=r"^\[tool.release\] trains.core.images: a train's images are built "
                                          "for one platform; configure one in \\[tool.release\\] platforms$"):
        plan_train(config, CORE, date=DATE, reader=git)


@dataclass
class PulledImage:
    labels: dict[str, str]


@dataclass
class RecordingEngine:
    """An engine that holds each image's labels and wheels record by digest, as pulled images do."""

    images: dict[str, tuple[dict[str, str], bytes]] = field(default_factory=dict)
    pulled: list[str] = field(default_factory=list)

    def pull_digest(self, repository: str, digest: str) -> PulledImage:
        self.pulled.append(digest)
        return PulledImage(self.images[digest][0])

    def read_file(self, ref: str, path: str, platform: str | None = None) -> bytes | None:
        assert path == WHEELS_RECORD
        return self.images[ref.rpartition("@")[2]][1]


def test_a_voter_checks_each_image_installs_exactly_the_staged_wheels_and_names_the_waves_commit(
        tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    wave = plan_train(config, CORE, date=DATE, reader=git)
    folder = tmp_path / "svn"
    folder.mkdir()
    staged = {name: hashlib.sha256(name.encode()).hexdigest() for name in wave_wheels(config, wave.plan)}
    for name in staged:
        (folder / name).write_text(name)  # its sha256 is the one above
    registry, engine = MemoryRegistry(), RecordingEngine()
    other = {**staged, "apache_airflow-3.3.3-py3-none-any.whl": "0" * 64}
    for flavour, wheels in (("3.11", staged), ("3.13", other)):
        shas = ",".join(wheels[n] for n in sorted(wheels))
        labels = {REVISION_LABEL: wave.commit, WHEEL_SHA256_LABEL: shas}
        digest = registry.push(IMAGE, f"3.3.3rc1-python{flavour}", labels)
        record = "".join(f"{sha}  {name}\n" for name, sha in sorted(wheels.items()))
        engine.images[digest] = (labels, record.encode())
    checks: dict[str, FileCheck] = {}
    clients = Clients(registry, MemoryIndex(), engine=engine)  # type: ignore[arg-type]
    pulled = check_wave_images(config, wave.plan, clients, folder, wave.commit, checks, say=lambda line: None)
    # each image found, as pulled, for the check of its provenance
    assert [(p.tag, p.labels[REVISION_LABEL], dict(p.installed)) for p in pulled] == [
        ("3.3.3rc1-python3.11", wave.commit, staged), ("3.3.3rc1-python3.13", wave.commit, other)]
    good, bad = checks["image 3.3.3rc1-python3.11"], checks["image 3.3.3rc1-python3.13"]
    assert good.problems == [] and good.passed == [f"labels name the voted commit {wave.commit[:12]}",
                                                   "its wheels are the staged ones, the vote's"]
    assert bad.problems == [f"installs wheels {other}, but the staged wheels are {staged}"]
    del registry.repositories[IMAGE]["3.3.3rc1-python3.13"]
    missing: dict[str, FileCheck] = {}
    check_wave_images(config, wave.plan, clients, folder, wave.commit, missing, say=lambda line: None)
    assert missing["image 3.3.3rc1-python3.13"].problems == [
        f"registry.test/{IMAGE}:3.3.3rc1-python3.13 is not in the registry"]


def test_the_provenance_steps_read_the_waves_sboms_and_signatures_as_a_release_record_in_its_folder(
        tmp_path: Path) -> None:
    """What the single release's sbom, attest and provenance steps read of a wave: a record at
    provenance/wave.json (the copy the provenance step signs and attaches), the candidate's
    version, the SBOMs and image signatures wave.json records, the build's SOURCE_DATE_EPOCH."""
    sbom = SbomEntry("sbom/apache-airflow-3.3.3rc1-python3.11.cdx.json", "ab", "3.11",
                     "registry.test/apache/airflow:3.3.3rc1-python3.11", "sha256:" + "1" * 64, 620)
    signature = ImageSignatureEntry("image-signatures/apache-airflow-3.3.3rc1-python3.11.sig", "cd", "3.11",
                                    sbom.ref, sbom.digest, "F" * 40, "https://svn.test/dev/x/signature-1")
    recorded = {"commit": "c" * 40, "source_date_epoch": 1791328848, "sboms": {sbom.path: asdict(sbom)},
                "image_signatures": {signature.path: asdict(signature)},
                "images": {"pushed": {"3.11": {"digest": sbom.digest}, "3.13": {"digest": ""}}}}
    record = provenance_record(tmp_path, recorded, "3.3.3rc1")
    assert record.path == tmp_path / "provenance" / "wave.json" and record.version == "3.3.3rc1"
    assert record.sboms == {sbom.path: sbom} and record.image_signatures == {signature.path: signature}
    assert record.build is not None and record.build.source_date_epoch == 1791328848
    assert pushed_digests(recorded["images"]["pushed"]) == {"3.11": sbom.digest}  # 3.13 was not pushed
    fresh = provenance_record(tmp_path, {"commit": "c" * 40}, "3.3.3rc1")  # nothing written yet
    assert (fresh.sboms, fresh.image_signatures, fresh.build) == ({}, {}, None)
    assert not (tmp_path / "provenance").exists()  # never saved: wave.json is the wave's record
