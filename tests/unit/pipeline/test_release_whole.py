# SPDX-License-Identifier: Apache-2.0
"""The executor (pipeline/release.py) driven through whole releases, a final and a candidate, in
memory and in seconds: every step of the plan in order, what the run reports equal to what its plan
said (steps, files, uploads, tags), a failure in each step and the rerun after it ending where a
run without the failure ends, and nothing published past the step that failed; a release with a
variant, one on two platforms (the index step), and the publish of a promoted candidate (the
voted-files step).

The registry and the index are in-memory clients; the steps that run local programs (the build,
gpg, svn, the engine's builds and probes) are the in-memory steps of tests/unit/memory.py, handed
to `execute` as its `steps` (build, sign and sbom return their products and the executor's runners
record them) and `runners` (the rest). Push, upload, aliases and the release report's files are the
executor's own.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import RefusedError, ReleaseError, ServiceError
from release.pipeline.release import ReleaseReport, RunOptions, execute, make_plan
from release.plan.release import Mode, ReleasePlan, StepName, artefact_kind
from release.record import PromotionInfo, ReleaseRecord, load_record, release_dir
from release.steps.promote import voted_entries
from release.versions import parse_version
from tests.unit.builders import IMAGE, TARGET, sample_config
from tests.unit.memory import MemoryIndex, MemoryRegistry, MemorySteps

FINAL, RC = "1.10.6", "1.10.6rc1"


@dataclasses.dataclass
class World:
    """A checkout, the target's registry and index, and the steps that run local programs."""

    config: ReleaseConfig
    registry: MemoryRegistry
    index: MemoryIndex
    steps: MemorySteps
    lines: list[str] = dataclasses.field(default_factory=list)

    @property
    def clients(self) -> Clients:
        return Clients(self.registry, self.index)

    @property
    def options(self) -> RunOptions:
        return RunOptions(flavours=self.config.python)

    def plan(self, version: str) -> ReleasePlan:
        """What `invoke release --version V --dry-run` shows against the target as it stands."""
        return make_plan(self.config, parse_version(version), TARGET, self.options, clients=self.clients)

    def run(self, plan: ReleasePlan) -> ReleaseReport:
        return execute(plan, self.config, TARGET, self.options, clients=self.clients, steps=self.steps,
                       runners=self.steps.runners(), announce=lambda name, does: self.lines.append(name),
                       say=lambda line: self.lines.append(str(line)))

    def release(self, version: str) -> tuple[ReleasePlan, ReleaseReport]:
        plan = self.plan(version)
        return plan, self.run(plan)

    def record(self, version: str) -> ReleaseRecord:
        return load_record(release_dir(self.config.root, version), version)


def make_world(root: Path, **table: Any) -> World:
    """A checkout of the sample with two flavours; `table`: more of its [tool.release]. Its finals
    ship in one command (`vote = "none"`, with the PMC's checks kept): the executor is what is
    driven here; the final a vote allows only from a promoted candidate is the promote tests' part."""
    root.mkdir(parents=True, exist_ok=True)
    config = sample_config(root, {"default-python": "3.11", "registry": TARGET.registry, "vote": "none",
                                  "source-checks": True, **table})
    registry = MemoryRegistry(TARGET.registry)
    return World(config, registry, MemoryIndex(), MemorySteps(registry))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path / "checkout")


def planned(plan: ReleasePlan) -> dict[str, Any]:
    """A plan in the terms of its run's report (as `--dry-run --json` shows it)."""
    return {"steps": [s.name.value for s in plan.steps],
            "files": {p for a in plan.artefacts for p in (a.path, *a.companions)},
            "uploads": {u.filename: u.action.value for u in plan.uploads},
            "tags": {t.tag: t.action.value for t in plan.tags}}


def did(report: ReleaseReport) -> dict[str, Any]:
    return {"steps": report.steps, "files": set(report.files), "uploads": report.uploads,
            "tags": {t: e.action for t, e in report.tags.items()}}


def outcome(world: World, version: str) -> dict[str, Any]:
    """Where a release leaves the world: the registry's tags and the index's files (with their
    bytes), svn, what the record says was produced (a tag: where it points, not what the last run
    did to it), the files under dist/<V>/ and their bytes."""
    record = world.record(version)
    directory = record.directory
    files = {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*"))
             if p.is_file() and not p.name.startswith((".", "release.json", "report.json"))}
    return {"tags": dict(world.registry.repositories.get(IMAGE, {})), "index": world.index.projects,
            "svn": {url: data for url, data in world.steps.svn.items() if "release.json" not in url},
            "steps": sorted(record.steps), "files": record.files, "signatures": record.signatures,
            "images": record.images, "constraints": record.constraints, "sboms": record.sboms,
            "image_signatures": record.image_signatures,
            "tags_recorded": {t: e.digest for t, e in record.tags.items()},
            "stage": record.stage, "build": record.build, "on_disk": files}


@pytest.mark.parametrize("version", [FINAL, RC])
def test_a_whole_release_does_what_its_plan_said(world: World, version: str) -> None:
    plan, report = world.release(version)
    assert did(report) == planned(plan)
    assert world.lines[0] == "build" and [n for n in world.lines if n in planned(plan)["steps"]] \
        == planned(plan)["steps"]
    assert sorted(world.record(version).steps) == sorted(planned(plan)["steps"][:-1])  # provenance: no write
    written = json.loads((release_dir(world.config.root, version) / "report.json").read_text())
    assert written["steps"] == report.steps and set(written["files"]) == planned(plan)["files"]


def test_a_final_is_published_and_owns_its_aliases(world: World) -> None:
    world.release(FINAL)
    tags = world.registry.repositories[IMAGE]
    assert tags["latest"] == tags["1.10"] == tags[FINAL] == tags[f"{FINAL}-python3.11"]
    assert tags["1.10.6-python3.13"] != tags[FINAL]
    assert sorted(world.index.uploads) == ["sample_app-1.10.6-py3-none-any.whl", "sample_app-1.10.6.tar.gz"]
    assert f"https://svn.test/release/sample-app/{FINAL}/release.json.asc" in world.steps.svn
    assert StepName.STAGE not in world.steps.ran


def test_a_candidate_is_staged_voted_on_as_the_final_and_moves_no_alias(world: World) -> None:
    plan, report = world.release(RC)
    assert [s.name for s in plan.steps][:4] == [StepName.BUILD, StepName.SIGN, StepName.STAGE,
                                                StepName.IMAGES]
    staged = sorted(url.rpartition("/")[2] for url in world.steps.svn
                    if not url.endswith((".asc", ".sha512")))
    assert staged == ["sample-app-1.10.6-source.tar.gz", "sample_app-1.10.6-py3-none-any.whl",
                      "sample_app-1.10.6.tar.gz"]
    assert len(world.steps.svn) == 9  # each with its .asc and .sha512
    assert sorted(world.index.uploads) == ["sample_app-1.10.6rc1-py3-none-any.whl",
                                           "sample_app-1.10.6rc1.tar.gz"]
    assert "pypi/sample_app-1.10.6rc1.tar.gz.asc" in report.files  # another version than the voted one
    assert "latest" not in world.registry.repositories[IMAGE] and not plan.aliases


def test_a_rerun_of_a_finished_release_verifies_and_skips_as_its_plan_says(world: World) -> None:
    world.release(FINAL)
    before = outcome(world, FINAL)
    plan, report = world.release(FINAL)
    assert did(report) == planned(plan)
    assert set(report.uploads.values()) == {"skip"}
    assert {e.action for e in report.tags.values()} <= {"verify", "skip"}
    assert outcome(world, FINAL) == before


def inject(world: World, step: StepName, version: str) -> tuple[object, str]:
    """Break `step` of `version`'s release: the in-memory step itself, or for the executor's own
    steps the service it talks to; the client and the key to take the failure away again."""
    if step is StepName.PUSH:
        return world.registry, f"copy_tag:{version}"
    if step is StepName.UPLOAD:
        return world.index, "upload"
    if step is StepName.ALIASES:
        return world.registry, "copy_tag:latest"
    return world.steps, step.value


def fail(world: World, step: StepName, version: str) -> None:
    client, key = inject(world, step, version)
    if isinstance(client, MemorySteps):
        client.fail[StepName(key)] = "broken on purpose"
    else:
        assert isinstance(client, MemoryRegistry | MemoryIndex)
        client.fail[key] = "broken on purpose"


def mend(world: World, step: StepName, version: str) -> None:
    client, key = inject(world, step, version)
    if isinstance(client, MemorySteps):
        del client.fail[StepName(key)]
    else:
        assert isinstance(client, MemoryRegistry | MemoryIndex)
        del client.fail[key]


FINAL_STEPS = [StepName.BUILD, StepName.SIGN, StepName.IMAGES, StepName.PUSH, StepName.CONSTRAINTS,
               StepName.SBOM, StepName.ATTEST, StepName.UPLOAD, StepName.ALIASES, StepName.REPORT,
               StepName.PROVENANCE]
RC_STEPS = [*FINAL_STEPS[:2], StepName.STAGE, *FINAL_STEPS[2:]]
STEPS = {FINAL: FINAL_STEPS, RC: RC_STEPS}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Where a release without a failure ends, of each version."""
    found = {}
    for version in (FINAL, RC):
        world = make_world(tmp_path_factory.mktemp("clean") / "checkout")
        world.release(version)
        found[version] = outcome(world, version)
    return found


# a candidate moves no alias: its aliases step has nothing to fail at
@pytest.mark.parametrize(("version", "step"), [*((FINAL, s) for s in FINAL_STEPS),
                                               *((RC, s) for s in RC_STEPS if s is not StepName.ALIASES)],
                         ids=lambda value: str(getattr(value, "value", value)))
def test_a_failure_in_each_step_is_finished_by_the_rerun(world: World, clean: dict[str, dict[str, Any]],
                                                         version: str, step: StepName) -> None:
    assert [s.name for s in world.plan(version).steps] == STEPS[version]
    fail(world, step, version)
    with pytest.raises(ReleaseError, match="broken on purpose"):
        world.release(version)
    order = STEPS[version]
    before = order[:order.index(step)]
    # done: exactly the steps before the one that failed (provenance writes no record: it is signed)
    recorded = sorted(s.value for s in before if s is not StepName.PROVENANCE)
    assert sorted(world.record(version).steps) == recorded
    if StepName.UPLOAD not in before:
        assert world.index.uploads == []  # nothing reaches the index before the images are pushed
    if StepName.ALIASES not in before:
        assert "latest" not in world.registry.repositories.get(IMAGE, {})
    assert not (release_dir(world.config.root, version) / "report.json").exists()
    mend(world, step, version)
    plan, report = world.release(version)
    assert did(report) == planned(plan)
    assert outcome(world, version) == clean[version]


def test_every_step_failing_in_turn_each_rerun_goes_one_step_further(world: World) -> None:
    """One release, a failure in each step one after the other: each rerun resumes from the record."""
    done: list[list[str]] = []
    for step in FINAL_STEPS:
        fail(world, step, FINAL)
        with pytest.raises(ReleaseError):
            world.release(FINAL)
        mend(world, step, FINAL)
        done.append(sorted(world.record(FINAL).steps))
    assert [len(d) for d in done] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    plan, report = world.release(FINAL)
    assert did(report) == planned(plan)
    assert report.tags["latest"].action == "skip"  # moved by the run that failed in `report`


def test_a_step_that_fails_before_the_push_leaves_the_registry_without_version_tags(world: World) -> None:
    world.steps.fail[StepName.IMAGES] = "the engine stopped"
    with pytest.raises(ServiceError, match="the engine stopped"):
        world.release(FINAL)
    assert world.registry.repositories == {} and world.index.uploads == []
    assert sorted(world.record(FINAL).steps) == ["build", "sign"]


def test_a_release_with_a_variant_does_what_its_plan_said(tmp_path: Path) -> None:
    world = make_world(tmp_path / "checkout", variants={"slim": {"extras": []}})
    plan, report = world.release(FINAL)
    assert did(report) == planned(plan)
    tags = world.registry.repositories[IMAGE]
    assert tags["slim-latest"] == tags[f"slim-{FINAL}-python3.11"] != tags["latest"]
    assert len(world.record(FINAL).sboms) == 4  # one per flavour and variant


def test_a_release_on_two_platforms_puts_an_index_per_flavour_and_its_rerun_after_a_failure(
        tmp_path: Path) -> None:
    """The index step is the executor's own: a failure while putting the indexes, then the rerun."""
    world = make_world(tmp_path / "checkout", platforms=["linux/amd64", "linux/arm64"])
    plan = world.plan(FINAL)
    assert StepName.INDEX in [s.name for s in plan.steps] and len(plan.indexes) == 2
    world.registry.fail["put_index"] = "broken on purpose"
    with pytest.raises(ReleaseError, match="broken on purpose"):
        world.run(plan)
    assert sorted(world.record(FINAL).steps) == ["build", "images", "sign"]
    assert FINAL not in world.registry.repositories[IMAGE]  # no version tag before its index
    del world.registry.fail["put_index"]
    plan, report = world.release(FINAL)
    assert did(report) == planned(plan)
    tags = world.registry.repositories[IMAGE]
    index = world.registry.image_index(IMAGE, tags[FINAL])
    assert index is not None and sorted(i.platform for i in index.images) == ["linux/amd64", "linux/arm64"]
    assert tags["latest"] == tags[FINAL] == tags[f"{FINAL}-python3.11"]
    assert report.platforms["3.11"] == {i.platform: i.digest for i in index.images}


def promoted(world: World) -> None:
    """dist/1.10.6/ as `invoke promote --version 1.10.6 --from-rc 1.10.6rc1` leaves it after the
    candidate's release: the voted files (svn's, with their signatures) and the packages among them
    for the index, recorded as promoted."""
    rc = world.record(RC)
    assert rc.stage is not None and rc.build is not None
    record = world.record(FINAL)
    placed = []
    for name in rc.stage.files:
        for where in ("svn", "pypi") if artefact_kind(name) in {"sdist", "wheel"} else ("svn",):
            path = record.directory / where / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(world.steps.svn[f"{rc.stage.url}/{name}"])
            placed.append(path)
    files, signatures = voted_entries(record.directory, placed, RC)
    record.add_files(files)
    record.add_signatures(signatures)
    record.set_build(dataclasses.replace(rc.build, promoted_from=RC))
    release_url = f"{TARGET.svn_release}/sample-app/{FINAL}"
    record.set_promotion(PromotionInfo(RC, rc.stage.url, release_url, 2, rc.build.commit))
    record.step_done("promote", {"from": RC, "url": release_url, "commit": rc.build.commit})


def test_a_promoted_release_publishes_the_voted_files_and_refuses_a_changed_one(world: World) -> None:
    world.release(RC)
    promoted(world)
    plan = make_plan(world.config, parse_version(FINAL), TARGET, world.options, mode=Mode.PROMOTED,
                     clients=world.clients)
    assert [s.name for s in plan.steps][:2] == [StepName.VOTED, StepName.IMAGES]
    voted = release_dir(world.config.root, FINAL) / "pypi" / "sample_app-1.10.6.tar.gz"
    original = voted.read_bytes()
    voted.write_bytes(b"not what was voted on")
    with pytest.raises(RefusedError, match="changed since the vote"):
        world.run(plan)
    assert sorted(world.index.uploads) == [f"sample_app-{RC}-py3-none-any.whl", f"sample_app-{RC}.tar.gz"]
    voted.write_bytes(original)
    report = world.run(plan)
    assert {k: v for k, v in did(report).items() if k != "files"} == \
        {k: v for k, v in planned(plan).items() if k != "files"}
    assert set(report.files) <= planned(plan)["files"]
    assert sorted(world.index.uploads)[:2] == ["sample_app-1.10.6-py3-none-any.whl",
                                               "sample_app-1.10.6.tar.gz"]
    assert world.index.projects["sample-app"]["sample_app-1.10.6.tar.gz"] == original
    tags = world.registry.repositories[IMAGE]
    assert tags["latest"] == tags[FINAL] != tags[RC]


def test_a_promoted_release_reports_the_voted_signatures_its_plan_names(world: World) -> None:
    world.release(RC)
    promoted(world)
    plan = make_plan(world.config, parse_version(FINAL), TARGET, world.options, mode=Mode.PROMOTED,
                     clients=world.clients)
    assert set(world.run(plan).files) == planned(plan)["files"]
