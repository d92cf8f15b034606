# SPDX-License-Identifier: Apache-2.0
"""Staging and finishing in Apache Trusted Releases through the executor and the steps, with an
in-memory ATR (tests/unit/memory.py): a promoted release is finished in ATR once its images, packages
and aliases are out, then its distributions recorded (a refusal ATR gives offline is a warning
naming it); every rerun changes nothing; ATR's blocking checks stop the run naming the check and
the file; the vote starts once, on the uploaded revision; a voter reads the candidate by revision;
ATR's client is made on first use only, once."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from release.adapters import atr
from release.adapters.atr import AtrTarget, Check
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError, ReleaseError, VerificationError
from release.pipeline.connect import clients_for
from release.pipeline.release import (
    RUNNERS,
    ReleaseReport,
    Run,
    RunOptions,
    execute,
    publish_recorded_constraints,
)
from release.pipeline.state import observe
from release.pipeline.vote import constraints_plan
from release.plan.atr import AtrPlan, plan_atr
from release.plan.images import LABEL_ARGS
from release.plan.release import Mode, ReleasePlan, StepName, TargetState, plan_release
from release.record import BuildInfo, FileEntry, PromotionInfo, load_record, release_dir
from release.steps.result import resolve_in_atr
from release.steps.verify import from_atr
from release.steps.vote import AtrUploaded, check_in_atr, split_email, vote_in_atr
from release.versions import parse_version
from release.votes import Review, Tally, Vote
from tests.unit.builders import IMAGE, place_packages, sample_config
from tests.unit.builders import TARGET as SAMPLE_TARGET
from tests.unit.memory import MemoryAtr, MemoryIndex, MemoryRegistry

V = parse_version
ATR_URL = "https://atr.test"
TARGET = dataclasses.replace(SAMPLE_TARGET, atr=AtrTarget(ATR_URL, "sample", "sample"))
FINISHING = (StepName.PUSH, StepName.UPLOAD, StepName.ALIASES, StepName.ATR_FINISH,
             StepName.ATR_DISTRIBUTIONS)
VOTED = ("sample_app-1.10.6.tar.gz", "sample_app-1.10.6-py3-none-any.whl")


@dataclasses.dataclass
class World:
    config: ReleaseConfig
    registry: MemoryRegistry
    index: MemoryIndex
    atr: MemoryAtr
    lines: list[str] = dataclasses.field(default_factory=list)

    @property
    def clients(self) -> Clients:
        return Clients(self.registry, self.index, atr_client=lambda: self.atr)

    def say(self, line: object) -> None:
        self.lines.append(str(line))

    def promoted(self, version: str = "1.10.6") -> None:
        """dist/<V>/ as `invoke promote` leaves it, the image jobs' version tags pushed, and the
        release in ATR with its vote resolved as passed."""
        record = load_record(release_dir(self.config.root, version), version)
        place_packages(record, version, VOTED)
        record.set_build(BuildInfo("c0ffee", 0, "setup.py", version, release_notes="Fixed things."))
        record.set_promotion(PromotionInfo(f"{version}rc1", f"{ATR_URL}/vote/sample/{version}",
                                           f"{ATR_URL}/vote/sample/{version}", 10, "c0ffee"))
        for flavour in self.config.python:
            self.registry.push(IMAGE, f"{version}-python{flavour}",
                               {LABEL_ARGS["IMAGE_VERSION"]: version})
        self.atr.phases[version], self.atr.revisions[version] = atr.PREVIEW, 10
        self.atr.files[version] = {name: f"{name} of {version}".encode() for name in VOTED}

    def plan(self, version: str = "1.10.6") -> ReleasePlan:
        state = observe(self.config, V(version), self.clients)
        plan = plan_release(self.config, V(version), state, registry=TARGET.registry, mode=Mode.PROMOTED)
        return dataclasses.replace(plan, steps=tuple(s for s in plan.steps if s.name in FINISHING))

    def run(self, plan: ReleasePlan) -> ReleaseReport:
        return execute(plan, self.config, TARGET, RunOptions(flavours=self.config.python),
                       announce=lambda name, does: self.lines.append(f"==> {name}"), say=self.say,
                       clients=self.clients)


@pytest.fixture
def world(tmp_path: Path) -> World:
    config = sample_config(tmp_path, {"python": ["3.11"], "default-python": "3.11",
                                      "registry": TARGET.registry, "staging": "atr", "atr": ATR_URL,
                                      "atr-project": "sample",
                                      "mailing-list": "dev@sample.apache.org",
                                      "announce-list": "announce@apache.org"})
    return World(config, MemoryRegistry(TARGET.registry), MemoryIndex(), MemoryAtr())


def test_a_promoted_release_is_finished_in_atr_after_publishing_and_its_distributions_recorded(
        world: World) -> None:
    world.promoted()
    plan = world.plan()
    assert [s.name for s in plan.steps] == list(FINISHING)
    report = world.run(plan)
    assert report.steps == [s.value for s in FINISHING]
    assert world.index.uploads == list(VOTED)  # the packages went out before ATR finished
    assert world.atr.phases["1.10.6"] == atr.RELEASED
    assert world.atr.announced == [("1.10.6", "announce@apache.org", "1.10.6")]
    assert [(d.platform, d.package, d.version, d.owner) for d in world.atr.recorded] == [
        ("pypi", "sample-app", "1.10.6", ""), ("docker", "app", "1.10.6", "sample")]
    email = (release_dir(world.config.root, "1.10.6") / "announce-email.txt").read_text()
    assert "registry.test/sample/app:1.10.6" in email and "Fixed things." in email
    record = load_record(release_dir(world.config.root, "1.10.6"), "1.10.6")
    assert record.steps["atr-finish"].produced == {"release": "1.10.6", "finished_now": True}
    assert record.steps["atr-distributions"].produced["warnings"] == []


def test_a_rerun_of_a_finished_release_changes_nothing_in_atr(world: World) -> None:
    world.promoted()
    world.run(world.plan())
    announced, recorded = list(world.atr.announced), len(world.atr.recorded)
    world.run(world.plan())
    assert world.atr.announced == announced  # no second announcement
    record = load_record(release_dir(world.config.root, "1.10.6"), "1.10.6")
    assert record.steps["atr-finish"].produced["finished_now"] is False
    assert len(world.atr.recorded) == 2 * recorded  # ATR keeps one record per distribution: asked again
    assert any("was finished already" in line for line in world.lines)


def test_a_distribution_atr_cannot_check_offline_is_a_warning_naming_it(world: World) -> None:
    world.promoted()
    world.atr.offline = True
    report = world.run(world.plan())
    assert report.steps[-1] == "atr-distributions"
    record = load_record(release_dir(world.config.root, "1.10.6"), "1.10.6")
    warnings = record.steps["atr-distributions"].produced["warnings"]
    assert warnings == ["ATR did not record sample-app 1.10.6 on pypi",
                        "ATR did not record app 1.10.6 on docker"]
    assert any(line == "ATR: 0 of 2 distribution(s) recorded" for line in world.lines)


def test_a_release_whose_vote_is_not_resolved_is_not_finished(world: World) -> None:
    world.promoted()
    world.atr.phases["1.10.6"] = atr.CANDIDATE
    with pytest.raises(RefusedError, match="must be resolved as passed"):
        world.run(world.plan())
    assert world.atr.announced == [] and world.atr.recorded == []
    record = load_record(release_dir(world.config.root, "1.10.6"), "1.10.6")
    assert record.is_done("aliases") and not record.is_done("atr-finish")


# --- the steps: checks, vote, reading back ---------------------------------------------------------


def atr_plan(config: ReleaseConfig, version: str = "1.10.6rc1") -> AtrPlan:
    found = plan_atr(config, V(version), voted=VOTED)
    assert found is not None
    return found


SIGNATURE = "atr.tasks.checks.signature.check"
RAT = "atr.tasks.checks.rat.check"


def test_a_blocking_check_stops_the_run_naming_the_check_and_the_file(world: World) -> None:
    world.atr.results = [
        Check(SIGNATURE, "failure", "sample_app-1.10.6.tar.gz.asc", "No valid signature found"),
        Check("atr.tasks.checks.license.files", "failure", "sample_app-1.10.6.tar.gz",
              "No NOTICE file found"),
        Check("atr.tasks.checks.targz.structure", "warning", "sample_app-1.10.6.tar.gz", "root folder"),
    ]
    with pytest.raises(VerificationError) as raised:
        check_in_atr(atr_plan(world.config), world.atr, "00007", progress=world.say)
    message = str(raised.value)
    assert f"{SIGNATURE}: failure on sample_app-1.10.6.tar.gz.asc: No valid signature found" in message
    assert "license.files: failure on sample_app-1.10.6.tar.gz: No NOTICE file found" in message
    assert "revision 00007" in message and "no vote was started" in message
    assert world.lines == ["warning: ATR: atr.tasks.checks.targz.structure: warning on "
                           "sample_app-1.10.6.tar.gz: root folder"]


def test_an_ignored_result_does_not_block(world: World) -> None:
    world.atr.results = [Check(RAT, "failure", "sample_app-1.10.6.tar.gz", "Apache RAT JAR not found at: x")]
    world.atr.add_ignore(atr.Ignore(checker=RAT))
    report = check_in_atr(atr_plan(world.config), world.atr, "00007")
    assert report.blockers == () and len(report.ignored) == 1


def uploaded(world: World, revision: str = "00007") -> AtrUploaded:
    directory = release_dir(world.config.root, "1.10.6rc1")
    record = load_record(directory, "1.10.6rc1")
    record.add_files(FileEntry(f"svn/{name}", "0" * 128, "wheel", "svn") for name in VOTED)
    record.set_build(BuildInfo("c0ffee" * 6 + "abcd", 0, "setup.py", "1.10.6", release_notes="Fixed."))
    world.atr.create_release("1.10.6")
    world.atr.revisions["1.10.6"] = int(revision)
    files = {f"{name}{suffix}": "0" * 128 for name in VOTED for suffix in ("", ".asc", ".sha512")}
    commit = "c0ffee" * 6 + "abcd"
    return AtrUploaded("1.10.6", revision, tuple(files), (), "1.10.6rc1", commit, "ABCD", files)


def test_the_vote_starts_once_on_the_uploaded_revision_and_a_rerun_keeps_its_opening(world: World) -> None:
    found = uploaded(world)
    plan = atr_plan(world.config)
    url = atr.vote_url(ATR_URL, "sample", "1.10.6")
    first = vote_in_atr(world.config, V("1.10.6rc1"), plan, world.atr, found, url=url,
                        keys_url="https://k/KEYS")
    assert first.started and first.stage.revision == 7
    assert first.stage.url == "https://atr.test/vote/sample/1.10.6"
    assert first.mail_warnings == ("mail-relay.apache.org: name resolution failed",)
    [(release, revision, to, subject)] = world.atr.votes
    assert (release, revision, to) == ("1.10.6", "00007", plan.email_to)
    assert subject.startswith("[VOTE] Release")
    email = first.email.read_text()
    assert "revision 00007 in Apache Trusted Releases" in email and url in email
    assert set(first.stage.files) == {n + s for n in VOTED for s in ("", ".asc", ".sha512")}

    record = load_record(release_dir(world.config.root, "1.10.6rc1"), "1.10.6rc1")
    record.set_stage(first.stage)
    again = vote_in_atr(world.config, V("1.10.6rc1"), plan, world.atr, found, url=url,
                        keys_url="https://k/KEYS")
    assert not again.started and len(world.atr.votes) == 1
    assert again.stage.opened == first.stage.opened and again.stage.vote_closes == first.stage.vote_closes


def test_a_vote_running_on_another_revision_is_refused(world: World) -> None:
    found = uploaded(world)
    world.atr.phases["1.10.6"] = atr.CANDIDATE  # a vote started earlier, on revision 00005
    world.atr.revisions["1.10.6"] = 5
    with pytest.raises(RefusedError, match="runs on revision 00005, not on 00007"):
        vote_in_atr(world.config, V("1.10.6rc1"), atr_plan(world.config), world.atr, found,
                    url="https://atr.test/vote/sample/1.10.6", keys_url="https://k/KEYS")


def test_without_a_list_to_send_to_atr_gets_no_vote(world: World) -> None:
    found = uploaded(world)
    plan = dataclasses.replace(atr_plan(world.config), email_to="")
    with pytest.raises(ConfigError, match=r"set \[tool.release\] mailing-list"):
        vote_in_atr(world.config, V("1.10.6rc1"), plan, world.atr, found, url="u", keys_url="k")
    assert world.atr.votes == []


def test_the_vote_email_splits_into_atr_s_subject_and_body() -> None:
    assert split_email("To: dev@x\nSubject: [VOTE] Release X\n\nHello,\n\nvote.\n") == (
        "[VOTE] Release X", "Hello,\n\nvote.\n")


def test_a_voter_reads_the_candidate_from_atr_by_revision(world: World, tmp_path: Path) -> None:
    world.atr.phases["1.10.6"], world.atr.revisions["1.10.6"] = atr.CANDIDATE, 9
    world.atr.files["1.10.6"] = {name: name.encode() for name in VOTED}
    plan = atr_plan(world.config)
    fetch = from_atr(plan, world.atr, "00009", page="https://atr.test/vote/sample/1.10.6")
    assert fetch.where == "https://atr.test/vote/sample/1.10.6 revision 00009"
    folder = fetch.into(tmp_path / "candidate")
    assert sorted(p.name for p in folder.iterdir()) == sorted(VOTED)
    assert from_atr(plan, world.atr).where.endswith("revision 00009")  # the latest by default
    with pytest.raises(VerificationError, match="serves the files of the latest revision only, not of 00004"):
        from_atr(plan, world.atr, "00004")
    with pytest.raises(VerificationError, match="no candidate at ATR"):
        from_atr(atr_plan(world.config, "2.0.0rc1"), world.atr)


# --- the client: made on first use, once -----------------------------------------------------------


def test_atr_s_client_is_made_once_on_first_use_and_only_then_asks_for_the_token(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(atr.TOKEN_ENV, raising=False)
    monkeypatch.delenv(atr.UID_ENV, raising=False)
    monkeypatch.setattr(atr, "_from_keyring", lambda service, uid: None)
    clients = clients_for(TARGET)  # a dry run makes its clients too: no token asked for
    with pytest.raises(ConfigError, match=f"no ATR credentials for atr.test: .*{atr.TOKEN_ENV}"):
        _ = clients.atr
    monkeypatch.setenv(atr.UID_ENV, "jdoe")
    monkeypatch.setenv(atr.TOKEN_ENV, "secret-pat")
    clients = clients_for(TARGET)
    assert clients.atr is clients.atr
    assert "secret-pat" not in repr(clients.atr)


def test_a_project_staging_in_svn_has_no_atr_client() -> None:
    clients = clients_for(dataclasses.replace(TARGET, atr=None))
    with pytest.raises(ConfigError, match='staging = "atr"'):
        _ = clients.atr


# --- the vote's result, resolved in ATR -------------------------------------------------------------


def tally(plus: int, minus: int = 0, *, hours: float = 96, unread: bool = False) -> Tally:
    opened = datetime(2026, 12, 1, tzinfo=timezone.utc)
    votes = tuple(Vote(f"voter{n}", f"v{n}@sample.invalid", 1, None) for n in range(plus))
    votes += tuple(Vote(f"against{n}", f"a{n}@sample.invalid", -1, None) for n in range(minus))
    review = ((Review("x", "x@sample.invalid", None, "unclear", binding=True, needs_reading=True),)
              if unread else ())
    return Tally(opened, opened + timedelta(hours=hours), votes, (), review=review)


def voting(world: World) -> AtrPlan:
    world.atr.create_release("1.10.6")
    world.atr.phases["1.10.6"] = atr.CANDIDATE
    return atr_plan(world.config)


def test_a_passing_count_resolves_atr_s_vote_as_passed_once(world: World) -> None:
    plan = voting(world)
    assert resolve_in_atr(plan, world.atr, tally(3), progress=world.say) == "passed"
    assert world.atr.phases["1.10.6"] == atr.PREVIEW
    assert resolve_in_atr(plan, world.atr, tally(3), progress=world.say) == "passed"
    assert world.lines[-1].endswith("was resolved as passed already")


def test_a_failing_count_resolves_it_as_failed_and_an_undecided_one_leaves_it_open(world: World) -> None:
    plan = voting(world)
    assert resolve_in_atr(plan, world.atr, tally(3, hours=10)) == ""  # open less than 72 hours
    assert resolve_in_atr(plan, world.atr, tally(3, unread=True)) == ""  # binding replies to read
    assert world.atr.phases["1.10.6"] == atr.CANDIDATE
    assert resolve_in_atr(plan, world.atr, tally(1, 2)) == "failed"
    assert world.atr.phases["1.10.6"] == atr.DRAFT  # back to its draft: a new revision can be voted on


# --- the executor's staging runners, after the upload ---------------------------------------------


def staging_run(world: World) -> Run:
    """A run of `invoke release --version 1.10.6rc1` whose atr-upload step has put the candidate in
    ATR as revision 00007 (that step tags git and reads KEYS from svn: the integration tests run it)."""
    plan = plan_release(world.config, V("1.10.6rc1"), TargetState(), registry=TARGET.registry)
    run = Run(plan, world.config, TARGET, RunOptions(flavours=world.config.python), world.say,
              ReleaseReport("1.10.6rc1"), world.clients)
    run.atr_uploaded = uploaded(world)
    return run


def test_the_executor_records_atr_s_checks_and_the_vote_as_the_staging(world: World) -> None:
    run = staging_run(world)
    RUNNERS[StepName.ATR_CHECKS](run)
    RUNNERS[StepName.ATR_VOTE](run)
    record = load_record(release_dir(world.config.root, "1.10.6rc1"), "1.10.6rc1")
    assert record.steps["atr-checks"].produced == {"revision": "00007", "checks": 0, "warnings": 0,
                                                   "ignored": 0}
    assert record.steps["atr-vote"].produced["started"] is True
    assert record.stage is not None and record.stage.revision == 7
    assert record.stage.url == "https://atr.test/vote/sample/1.10.6" and record.is_done("stage")
    RUNNERS[StepName.ATR_VOTE](staging_run(world))  # a rerun: no second vote
    assert len(world.atr.votes) == 1
    record = load_record(release_dir(world.config.root, "1.10.6rc1"), "1.10.6rc1")
    assert record.steps["atr-vote"].produced["started"] is False


def test_a_blocker_stops_the_executor_before_the_vote(world: World) -> None:
    run = staging_run(world)
    world.atr.results = [Check(SIGNATURE, "failure", "sample_app-1.10.6.tar.gz.asc", "No valid signature")]
    with pytest.raises(VerificationError, match=r"sample_app-1\.10\.6\.tar\.gz\.asc"):
        RUNNERS[StepName.ATR_CHECKS](run)
    record = load_record(release_dir(world.config.root, "1.10.6rc1"), "1.10.6rc1")
    assert not record.is_done("atr-checks") and world.atr.votes == []


def test_checks_and_vote_without_an_upload_first_are_refused(world: World) -> None:
    run = staging_run(world)
    run.atr_uploaded = None
    with pytest.raises(ReleaseError, match="the candidate uploaded first"):
        RUNNERS[StepName.ATR_CHECKS](run)


# --- nothing of an ATR release goes to svn ---------------------------------------------------------------


def test_invoke_constraints_is_refused_in_atr_and_its_dry_run_commits_nothing(world: World) -> None:
    with pytest.raises(RefusedError, match="attached to its images") as refused:
        publish_recorded_constraints(world.config, V("1.10.6"), TARGET, say=world.say)
    assert "\n" not in str(refused.value) and refused.value.exit_code == 6
    plan = constraints_plan(world.config, V("1.10.6"), TARGET)
    assert plan.actions == () and plan.refusals == (str(refused.value),)
