# SPDX-License-Identifier: Apache-2.0
"""The executor (pipeline/release.py), driven through the publishing half of a release with
in-memory clients: a publish that joins image jobs (push, upload, aliases), its dry run against
what it did, a failure in each of those steps and the rerun after it (which skips what is done and
refuses what differs), and the aliases decided again right before they move; the release report
and option parsing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import RefusedError, ReleaseError, ServiceError
from release.pipeline.release import ReleaseReport, RunOptions, execute, parse_force
from release.pipeline.state import observe
from release.plan.images import LABEL_ARGS
from release.plan.release import Mode, ReleasePlan, StepName, plan_release
from release.plan.tags import withdrawn_tag
from release.record import TagEntry, load_record, release_dir
from release.versions import parse_version
from tests.unit.builders import IMAGE, TARGET, place_packages, sample_config
from tests.unit.memory import MemoryIndex, MemoryRegistry

V = parse_version
VERSION_LABEL = LABEL_ARGS["IMAGE_VERSION"]
PUBLISHING = (StepName.PUSH, StepName.UPLOAD, StepName.ALIASES)


@dataclasses.dataclass
class World:
    """A checkout whose image jobs pushed their version tags and whose packages were built and signed."""

    config: ReleaseConfig
    registry: MemoryRegistry
    index: MemoryIndex
    lines: list[str] = dataclasses.field(default_factory=list)

    @property
    def clients(self) -> Clients:
        return Clients(self.registry, self.index)

    def image_jobs(self, version: str) -> dict[str, str]:
        """What `invoke images --version V --push` leaves: each flavour's version tag."""
        return {flavour: self.registry.push(IMAGE, f"{version}-python{flavour}", {VERSION_LABEL: version})
                for flavour in self.config.python}

    def built(self, version: str) -> None:
        """dist/<V>/ as `invoke build` and `invoke sign` leave it: the files, recorded and signed."""
        record = load_record(release_dir(self.config.root, version), version)
        place_packages(record, version,
                       (f"sample_app-{version}.tar.gz", f"sample_app-{version}-py3-none-any.whl"))
        record.step_done("build")
        record.step_done("sign")

    def plan(self, version: str) -> ReleasePlan:
        """The plan of `invoke publish --version V` against what the target holds now, its
        publishing steps (the report signs with gpg and the provenance goes to svn: not here)."""
        state = observe(self.config, V(version), self.clients)
        plan = plan_release(self.config, V(version), state, registry=TARGET.registry, mode=Mode.PUBLISH)
        return dataclasses.replace(plan, steps=tuple(s for s in plan.steps if s.name in PUBLISHING))

    def run(self, plan: ReleasePlan) -> ReleaseReport:
        return execute(plan, self.config, TARGET, RunOptions(flavours=self.config.python),
                       announce=lambda name, does: self.lines.append(f"==> {name}"), say=self.say,
                       clients=self.clients)

    def say(self, line: object) -> None:
        self.lines.append(str(line))

    def tag(self, tag: str) -> str | None:
        return self.registry.repositories.get(IMAGE, {}).get(tag)


@pytest.fixture
def world(tmp_path: Path) -> World:
    """A project that joins image jobs into a final built here: no PMC votes on it (vote = "none")."""
    config = sample_config(tmp_path, {"default-python": "3.11", "registry": TARGET.registry, "vote": "none"})
    return World(config, MemoryRegistry(TARGET.registry), MemoryIndex())


@pytest.fixture
def voting(tmp_path: Path) -> World:
    """The same project with the ASF vote (the default): a final ships only from a voted candidate."""
    config = sample_config(tmp_path, {"default-python": "3.11", "registry": TARGET.registry})
    return World(config, MemoryRegistry(TARGET.registry), MemoryIndex())


def released(world: World, version: str) -> dict[str, str]:
    world.built(version)
    digests = world.image_jobs(version)
    world.run(world.plan(version))
    return digests


def did(report: ReleaseReport) -> dict[str, object]:
    return {"steps": report.steps, "uploads": report.uploads,
            "tags": {t: e.action for t, e in report.tags.items()}}


def planned(plan: ReleasePlan) -> dict[str, object]:
    return {"steps": [s.name.value for s in plan.steps],
            "uploads": {u.filename: u.action.value for u in plan.uploads},
            "tags": {t.tag: t.action.value for t in plan.tags}}


def test_a_publish_does_what_its_plan_said_tag_for_tag_and_file_for_file(world: World) -> None:
    world.built("1.10.6")
    digests = world.image_jobs("1.10.6")
    plan = world.plan("1.10.6")
    report = world.run(plan)
    assert did(report) == planned(plan)
    assert set(report.tags) == {"1.10.6-python3.11", "1.10.6-python3.13", "1.10.6", "1.10-python3.11",
                                "1.10-python3.13", "1.10", "latest-python3.11", "latest-python3.13", "latest"}
    assert world.tag("latest") == world.tag("1.10.6") == digests["3.11"]
    assert world.tag("latest-python3.13") == digests["3.13"]
    assert world.index.uploads == ["sample_app-1.10.6.tar.gz", "sample_app-1.10.6-py3-none-any.whl"]
    uploaded = world.index.projects["sample-app"]["sample_app-1.10.6.tar.gz"]
    assert uploaded == b"sample_app-1.10.6.tar.gz of 1.10.6"
    written = json.loads((release_dir(world.config.root, "1.10.6") / "report.json").read_text())
    assert written["steps"] == ["push", "upload", "aliases"] and written["moved"] == {}
    record = load_record(release_dir(world.config.root, "1.10.6"), "1.10.6")
    assert {"push", "upload", "aliases"} <= set(record.steps)
    assert record.tags["latest"].digest == digests["3.11"] and record.tags["latest"].flavour == "3.11"


def test_a_rerun_of_a_finished_publish_verifies_and_skips_everything(world: World) -> None:
    released(world, "1.10.6")
    uploads_before = list(world.index.uploads)
    plan = world.plan("1.10.6")
    report = world.run(plan)
    assert did(report) == planned(plan)
    assert {a for t, a in did(report)["tags"].items() if t.startswith("1.10.6")} == {"verify"}  # type: ignore[union-attr]
    assert set(report.uploads.values()) == {"skip"} and world.index.uploads == uploads_before


def test_a_push_that_fails_half_way_is_finished_by_the_rerun(world: World) -> None:
    world.built("1.10.6")
    world.image_jobs("1.10.6")
    world.registry.fail["copy_tag:1.10.6"] = "connection reset"
    with pytest.raises(ServiceError, match="connection reset"):
        world.run(world.plan("1.10.6"))
    assert world.index.uploads == [] and world.tag("latest") is None  # nothing after the push
    del world.registry.fail["copy_tag:1.10.6"]
    plan = world.plan("1.10.6")
    report = world.run(plan)
    assert did(report) == planned(plan)
    assert report.tags["1.10.6"].action == "create" and world.tag("latest") == world.tag("1.10.6")


def test_an_upload_that_fails_is_resumed_and_nothing_moved_before_it(world: World) -> None:
    world.built("1.10.6")
    world.image_jobs("1.10.6")
    world.index.fail["upload"] = "503 Service Unavailable"
    with pytest.raises(ServiceError, match="503"):
        world.run(world.plan("1.10.6"))
    assert world.tag("1.10.6") is not None  # pushed: immutable tags go first
    assert world.tag("latest") is None  # no alias before the packages are on the index
    del world.index.fail["upload"]
    plan = world.plan("1.10.6")
    assert {t.tag: t.action.value for t in plan.immutable}["1.10.6"] == "verify"
    report = world.run(plan)
    assert did(report) == planned(plan)
    assert set(report.uploads.values()) == {"upload"} and world.tag("latest") == world.tag("1.10.6")


def test_aliases_that_fail_to_move_are_moved_by_the_rerun(world: World) -> None:
    world.built("1.10.6")
    world.image_jobs("1.10.6")
    world.registry.fail["copy_tag:latest"] = "timeout"
    with pytest.raises(ServiceError, match="timeout"):
        world.run(world.plan("1.10.6"))
    assert world.tag("1.10") == world.tag("1.10.6")  # aliases move one at a time
    del world.registry.fail["copy_tag:latest"]
    plan = world.plan("1.10.6")
    report = world.run(plan)
    assert did(report) == planned(plan)
    assert report.tags["1.10"].action == "skip" and report.tags["latest"].action == "create"


def test_a_file_the_index_has_with_other_bytes_is_refused_and_no_alias_moves(world: World) -> None:
    world.built("1.10.6")
    world.image_jobs("1.10.6")
    world.index.projects["sample-app"] = {"sample_app-1.10.6.tar.gz": b"other bytes"}
    with pytest.raises(RefusedError, match=r"sample_app-1\.10\.6\.tar\.gz is already on .* with different"):
        world.run(world.plan("1.10.6"))
    assert world.tag("latest") is None


def test_an_immutable_tag_on_another_image_is_refused_before_anything_is_published(world: World) -> None:
    world.built("1.10.6")
    world.image_jobs("1.10.6")
    other = world.registry.push(IMAGE, "elsewhere", {VERSION_LABEL: "1.10.6"}, platform="linux/arm64")
    world.registry.repositories[IMAGE]["1.10.6"] = other
    plan = world.plan("1.10.6")
    assert next(t for t in plan.tags if t.tag == "1.10.6").reason == "must be this release's image"
    with pytest.raises(RefusedError, match="a released tag is never overwritten"):
        world.run(plan)
    assert world.tag("1.10.6") == other and world.index.uploads == []


def test_a_publish_of_a_release_that_was_never_built_and_signed_is_refused(world: World) -> None:
    world.image_jobs("1.10.6")
    with pytest.raises(RefusedError, match="neither promoted from a vote nor built and signed"):
        world.run(world.plan("1.10.6"))


def test_a_higher_release_appearing_after_the_plan_keeps_latest(world: World) -> None:
    released(world, "1.10.6")
    world.built("1.10.7")
    world.image_jobs("1.10.7")
    plan = world.plan("1.10.7")
    assert "latest" in {t.tag for t in plan.aliases}
    higher = world.image_jobs("2.0.0")  # another checkout publishes 2.0.0 meanwhile
    world.registry.repositories[IMAGE]["latest"] = higher["3.11"]
    report = world.run(plan)
    assert any(line.startswith("latest: no longer moves") for line in report.replanned)
    assert world.tag("latest") == higher["3.11"] and world.tag("1.10") == world.tag("1.10.7")


def test_an_older_line_patch_moves_its_line_and_never_latest(world: World) -> None:
    released(world, "1.11.0")
    world.built("1.10.7")
    world.image_jobs("1.10.7")
    plan = world.plan("1.10.7")
    report = world.run(plan)
    assert did(report) == planned(plan)
    assert "latest" not in report.tags and world.tag("1.10") == world.tag("1.10.7")
    assert world.tag("latest") == world.tag("1.11.0")


def test_a_withdrawn_release_is_refused_before_any_step(world: World) -> None:
    digests = released(world, "1.10.6")
    world.registry.repositories[IMAGE][withdrawn_tag("1.10.6")] = digests["3.11"]
    with pytest.raises(RefusedError, match="withdrawn"):
        world.run(world.plan("1.10.6"))


def test_every_step_that_fails_leaves_a_record_the_rerun_continues_from(world: World) -> None:
    """A failure in each publishing step, one after the other, each rerun going one step further."""
    world.built("1.10.6")
    world.image_jobs("1.10.6")
    failures = [("registry", "copy_tag:1.10.6"), ("index", "upload"), ("registry", "copy_tag:1.10")]
    done: list[list[str]] = []
    for service, operation in failures:
        client = world.registry if service == "registry" else world.index
        client.fail[operation] = "broken on purpose"
        with pytest.raises(ReleaseError):
            world.run(world.plan("1.10.6"))
        del client.fail[operation]
        record = load_record(release_dir(world.config.root, "1.10.6"), "1.10.6")
        done.append(sorted(set(record.steps) - {"build", "sign"}))
    assert done == [[], ["push"], ["push", "upload"]]
    plan = world.plan("1.10.6")
    assert did(world.run(plan)) == planned(plan)


def test_report_lists_as_moved_only_tags_that_pointed_elsewhere() -> None:
    report = ReleaseReport("1.10.7", images={"3.11": "sha256:new"})
    report.tags = {
        "1.10.7-python3.11": TagEntry("1.10.7-python3.11", "3.11", "sha256:new", None, "create"),
        "1.10.7": TagEntry("1.10.7", "3.11", "sha256:new", None, "create"),
        "1.10": TagEntry("1.10", "3.11", "sha256:new", "sha256:old", "move"),
        "latest": TagEntry("latest", "3.11", "sha256:new", "sha256:new", "skip"),
    }
    data = report.to_json()
    assert set(data["moved"]) == {"1.10"}
    assert data["version"] == "1.10.7"
    assert data["images"] == {"3.11": "sha256:new"}


def test_force_accepts_a_comma_list_or_a_sequence() -> None:
    assert parse_force("1.10.6, 1.10.6-python3.11,") == frozenset({"1.10.6", "1.10.6-python3.11"})
    assert parse_force(["latest", " "]) == frozenset({"latest"})
    assert parse_force("") == frozenset()


@pytest.mark.parametrize("mode", [Mode.PUBLISH, Mode.RELEASE])
def test_a_final_of_a_voting_project_built_here_is_refused_before_any_step(voting: World, mode: Mode) -> None:
    """`vote = "asf"`: joining image jobs that built a final, or a one-command final, would ship bytes
    no one voted on; nothing is pushed, uploaded or moved, and the one line names the promote path."""
    voting.built("1.10.6")
    pushed = voting.image_jobs("1.10.6")
    state = observe(voting.config, V("1.10.6"), voting.clients)
    plan = plan_release(voting.config, V("1.10.6"), state, registry=TARGET.registry, mode=mode)
    with pytest.raises(RefusedError) as caught:
        voting.run(dataclasses.replace(plan, steps=tuple(s for s in plan.steps if s.name in PUBLISHING)))
    assert "invoke promote --version 1.10.6 --from-rc RC" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert voting.index.uploads == [] and voting.tag("latest") is None
    assert {f: voting.tag(f"1.10.6-python{f}") for f in pushed} == pushed
    assert sorted(load_record(release_dir(voting.config.root, "1.10.6"), "1.10.6").steps) == ["build", "sign"]


def test_a_candidate_of_a_voting_project_is_published_by_the_join(voting: World) -> None:
    released(voting, "1.10.6rc1")
    assert voting.tag("1.10.6rc1") is not None and voting.index.uploads


# --- what `invoke publish` does with a version -----------------------------------------------------------


def test_publish_takes_a_voting_projects_final_from_svn_release_unless_promoted_here(tmp_path: Path) -> None:
    """A CI runner has no dist/<V>/: the final a project votes on comes from the release folder; a
    promotion made here is shipped from dist/<V>/; a candidate, or a project without a vote, is a
    join of image jobs; a rerun after the runner took the files takes them again."""
    from release.pipeline.release import publish_mode
    from release.record import PromotionInfo

    voting = sample_config(tmp_path, {"python": ["3.11"]})
    assert voting.votes
    final, rc = parse_version("1.10.6"), parse_version("1.10.6rc1")
    assert publish_mode(voting, final) is Mode.FROM_RELEASE
    assert publish_mode(voting, rc) is Mode.PUBLISH
    assert publish_mode(dataclasses.replace(voting, vote="none"), final) is Mode.PUBLISH
    record = load_record(release_dir(tmp_path, "1.10.6"), "1.10.6")
    record.set_promotion(PromotionInfo("1.10.6rc1", "dev", "release", 3, "c" * 40))
    record.save()
    assert publish_mode(voting, final) is Mode.PROMOTED
    record.set_promotion(PromotionInfo("1.10.6rc1", "", "release", 3, "c" * 40, taken_from_release=True))
    record.save()
    assert publish_mode(voting, final) is Mode.FROM_RELEASE
    signed = load_record(release_dir(tmp_path, "1.10.7"), "1.10.7")
    signed.step_done("sign")  # built and signed here: the join of image jobs (which refuses a voted final)
    assert publish_mode(voting, parse_version("1.10.7")) is Mode.PUBLISH
