# SPDX-License-Identifier: Apache-2.0
"""The vote workflow's steps return what they produced and the pipeline records it
(release/pipeline/recording.py): the stage, the vote result (counted and recorded under the
candidate's lock, a signed record signed again there), a promotion from svn or ATR, a final taken
from svn release/, and a withdrawal (with the in-memory registry and index). Each step alone leaves
the record as it was."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from release import locks
from release.adapters.clients import Clients
from release.config import ReleaseConfig, parse_config
from release.errors import RefusedError
from release.pipeline.recording import (
    count_vote,
    record_promotion,
    record_stage,
    record_taken,
    withdraw_recorded,
)
from release.pipeline.state import observe_for_withdraw
from release.plan.images import LABEL_ARGS
from release.plan.withdraw import plan_withdraw
from release.record import (
    BuildInfo,
    PromotionInfo,
    ReleaseRecord,
    StageInfo,
    VoteResultInfo,
    load_record,
    release_dir,
)
from release.steps.promote import PromoteResult, TakenRelease, VotedCandidate, placed_entries
from release.steps.result import RESULT_EMAIL, count_result, read_ballot
from release.steps.withdraw import withdraw_release
from release.versions import parse_version as V
from tests.unit.memory import MemoryIndex, MemoryRegistry

RC, FINAL = "1.10.6rc1", "1.10.6"
OPENED = datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
PMC = ["jane@sample.invalid", "joe@sample.invalid", "ann@sample.invalid"]
PASS = ("+1 Jane <jane@sample.invalid> 2026-11-26T14:00:00Z", "+1 joe@sample.invalid 2026-11-27T10:00:00Z",
        "+1 Ann <ann@sample.invalid> 2026-11-29T13:00:00Z")
STAGE = StageInfo(f"svn://dev/sample-app/{RC}", RC, "c" * 40, "F" * 40, "k", {"a.whl": "ab"},
                  (OPENED + timedelta(hours=72)).isoformat(), 2, opened=OPENED.isoformat())


def config_at(root: Path) -> ReleaseConfig:
    return parse_config(root, {"name": "sample-app", "project": "Sample App", "python": ["3.11"],
                               "mailing-list": "dev@sample.invalid", "binding-voters": PMC})


def record_of(root: Path, version: str) -> ReleaseRecord:
    return load_record(release_dir(root, version), version)


def votes(root: Path) -> Path:
    path = root / "votes.txt"
    path.write_text("\n".join(PASS) + "\n", encoding="utf-8")
    return path


# --- stage ---------------------------------------------------------------------------------------------


def test_the_stage_a_step_returns_is_recorded_with_the_stage_step(tmp_path: Path) -> None:
    record_stage(record_of(tmp_path, RC), STAGE)
    record = record_of(tmp_path, RC)
    assert record.stage == STAGE
    assert record.steps["stage"].produced == {"url": STAGE.url, "revision": 2}


# --- vote result ---------------------------------------------------------------------------------------


def test_counting_returns_the_result_and_leaves_the_record_to_the_pipeline(tmp_path: Path) -> None:
    record_stage(record_of(tmp_path, RC), STAGE)
    config = config_at(tmp_path)
    counted = count_result(config, read_ballot(config, V(RC), votes_file=votes(tmp_path), now=NOW))
    assert counted.passed and counted.info.passed and counted.info.email == RESULT_EMAIL
    assert counted.info.binding == {"Jane <jane@sample.invalid>": "+1", "joe@sample.invalid": "+1",
                                    "Ann <ann@sample.invalid>": "+1"}
    assert (tmp_path / "dist" / RC / RESULT_EMAIL).is_file()
    assert record_of(tmp_path, RC).vote_result is None  # the step wrote the email, not the record
    recorded = count_vote(config, V(RC), votes_file=votes(tmp_path), now=NOW)
    assert record_of(tmp_path, RC).vote_result == recorded.info == counted.info


def test_a_signed_record_is_signed_again_under_the_lock_with_the_result_in_it(tmp_path: Path) -> None:
    record_stage(record_of(tmp_path, RC), STAGE)
    directory = release_dir(tmp_path, RC)
    seen: list[VoteResultInfo | None] = []

    def resign(path: Path) -> None:
        seen.append(load_record(directory, RC).vote_result)
        held = pytest.raises(RefusedError, match=r"another run of 1\.10\.6rc1 holds")
        with held, locks.release_run(directory, RC):
            pass  # pragma: no cover - the count holds it

    count_vote(config_at(tmp_path), V(RC), votes_file=votes(tmp_path), now=NOW, resign=resign)
    assert seen == []  # an unsigned record is not signed by vote-result
    (directory / "release.json.asc").write_text("signature\n")
    result = count_vote(config_at(tmp_path), V(RC), votes_file=votes(tmp_path), now=NOW, resign=resign)
    assert seen == [result.info]


def test_a_count_refused_before_the_lock_creates_nothing(tmp_path: Path) -> None:
    """A final version is refused before dist/<V>/ is held, so no folder or lock file appears."""
    with pytest.raises(RefusedError, match="not a release candidate"):
        count_vote(config_at(tmp_path), V(FINAL), votes_file=votes(tmp_path), now=NOW)
    assert not (tmp_path / "dist").exists()


# --- promote -------------------------------------------------------------------------------------------


def voted_candidate(root: Path) -> tuple[VotedCandidate, list[Path]]:
    """The candidate's voted files as a promotion places them in dist/<final>/."""
    directory = release_dir(root, FINAL)
    placed = []
    for relative in ("svn/sample_app-1.10.6.tar.gz", "svn/sample_app-1.10.6.tar.gz.asc",
                     "svn/sample_app-1.10.6.tar.gz.sha512", "pypi/sample_app-1.10.6.tar.gz"):
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{path.name}\n")
        placed.append(path)
    build = BuildInfo("c" * 40, 1700000000, "sample_app/__init__.py", FINAL,
                      distributions={"sample-app": FINAL})
    candidate = VotedCandidate(V(RC), STAGE, dict(STAGE.files), build, directory, record_of(root, FINAL), "")
    return candidate, placed


def test_a_promotion_is_recorded_as_the_step_returned_it(tmp_path: Path) -> None:
    candidate, placed = voted_candidate(tmp_path)
    voted = placed_entries(candidate, placed)
    promotion = PromotionInfo(RC, "svn://dev/x", "svn://release/x", 5, "c" * 40,
                              removed_candidates=("1.10.6rc0", RC))
    assert record_of(tmp_path, FINAL).files == {}  # what the step returns is not recorded yet
    record_promotion(record_of(tmp_path, FINAL), PromoteResult(
        FINAL, RC, "svn://release/x", 5, "c" * 40, candidate.directory, (placed[-1],), voted, promotion))
    record = record_of(tmp_path, FINAL)
    assert sorted(record.files) == ["pypi/sample_app-1.10.6.tar.gz", "svn/sample_app-1.10.6.tar.gz"]
    assert {e.promoted_from for e in record.files.values()} == {RC}
    assert sorted(record.signatures) == ["svn/sample_app-1.10.6.tar.gz.asc",
                                         "svn/sample_app-1.10.6.tar.gz.sha512"]
    assert record.build is not None and record.build.promoted_from == RC and record.build.commit == "c" * 40
    assert record.promotion == promotion
    assert record.steps["promote"].produced == {"from": RC, "url": "svn://release/x", "commit": "c" * 40}


def test_a_final_taken_from_svn_release_is_recorded_as_its_promotion_without_a_promote_step(
        tmp_path: Path) -> None:
    candidate, placed = voted_candidate(tmp_path)
    promotion = PromotionInfo(RC, "", "svn://release/x", 9, "c" * 40, taken_from_release=True)
    taken = TakenRelease(FINAL, RC, "svn://release/x@9", "c" * 40, candidate.directory,
                         tuple(p.name for p in placed[:3]), ("release.json",),
                         placed_entries(candidate, placed), promotion)
    record_taken(record_of(tmp_path, FINAL), taken)
    record = record_of(tmp_path, FINAL)
    assert record.promotion == promotion and record.build == taken.voted.build
    assert set(record.files) == {e.path for e in taken.voted.files} and len(record.signatures) == 2
    assert not record.is_done("promote")  # the executor records its from-release step itself


# --- withdraw ------------------------------------------------------------------------------------------

IMAGE = "sample/app"


def released(registry: MemoryRegistry, version: str) -> None:
    digest = registry.push(IMAGE, f"{version}-python3.11", {LABEL_ARGS["IMAGE_VERSION"]: version})
    for tag in (version, "latest", "latest-python3.11", V(version).line, f"{V(version).line}-python3.11"):
        registry.copy_tag(IMAGE, digest, tag)


def withdrawing(root: Path) -> tuple[ReleaseConfig, MemoryRegistry, MemoryIndex]:
    config = parse_config(root, {"name": "sample-app", "image": IMAGE, "python": ["3.11"]})
    registry = MemoryRegistry()
    released(registry, "1.0.0")
    released(registry, "1.1.0")
    return config, registry, MemoryIndex()


def test_a_withdrawal_is_recorded_by_the_pipeline_and_not_by_the_step(tmp_path: Path) -> None:
    config, registry, index = withdrawing(tmp_path / "step")
    state = observe_for_withdraw(config, V("1.1.0"), Clients(registry, index))
    plan = plan_withdraw(config, V("1.1.0"), state)
    alone = withdraw_release(config, plan, registry=registry, index=index, reason=" broken ")
    assert alone.withdrawal.reason == "broken" and alone.withdrawal.marker == "withdrawn-1.1.0"
    assert not alone.record.exists()  # the step names the record; it does not write it

    config, registry, index = withdrawing(tmp_path / "pipeline")
    state = observe_for_withdraw(config, V("1.1.0"), Clients(registry, index))
    plan = plan_withdraw(config, V("1.1.0"), state)
    result = withdraw_recorded(config, plan, registry=registry, index=index, reason="broken")
    record = record_of(config.root, "1.1.0")
    assert result.record == record.path and record.withdrawal == result.withdrawal
    assert record.withdrawal.aliases["latest"] == "1.0.0-python3.11"
    assert registry.repositories[IMAGE]["withdrawn-1.1.0"] == registry.repositories[IMAGE]["1.1.0"]
