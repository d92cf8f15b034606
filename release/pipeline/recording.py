# SPDX-License-Identifier: Apache-2.0
"""What the pipeline records of a step's product in the release record. The steps return their
products and never write the record; the executor's runners (pipeline/release.py), the vote
workflow (pipeline/vote.py), image jobs (pipeline/images.py) and housekeeping record them here,
one way for all, in the order the steps produced them:

- the build's files and facts, the signatures and the SBOMs (`build_release`, `sign_release`,
  `write_sboms`);
- the vote workflow's stage, vote result, voted files, promotion and withdrawal (steps/vote.py,
  result.py, promote.py, withdraw.py), with the step run and recorded together where a command
  calls it alone (`count_vote`, `promote_in_svn`, `withdraw_recorded`; staging's steps are
  sequenced by pipeline/stage.py, which records its stage here).

The caller holds dist/<V>/.lock as every run of V does, but for the vote result, whose count
`count_vote` holds it around.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from release import locks
from release.adapters.clients import Index, Registry
from release.config import ReleaseConfig
from release.plan.withdraw import WithdrawPlan
from release.progress import Progress, to_log
from release.record import ReleaseRecord, StageInfo, record_of, release_dir
from release.steps.promote import PromoteResult, TakenRelease, VotedEntries, promote_release
from release.steps.result import VoteResult, count_result, read_ballot, tell_counted
from release.steps.withdraw import WithdrawResult, withdraw_release
from release.versions import ReleaseVersion

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


def record_stage(record: ReleaseRecord, stage: StageInfo) -> None:
    """A candidate staged (in svn or ATR): its stage entry, and the stage step done."""
    record.set_stage(stage)
    record.step_done("stage", {"url": stage.url, "revision": stage.revision})


def count_vote(config: ReleaseConfig, candidate: ReleaseVersion, *, votes_file: Path,
               closed_at: datetime | None = None, now: datetime | None = None,
               decisions: Mapping[str, int | None] | None = None, decided_by: str = "",
               resign: Callable[[Path], None] | None = None, progress: Progress = to_log) -> VoteResult:
    """Count `votes_file` for `candidate`, write the [RESULT][VOTE] email and record the result.

    The votes are read and checked first; the count and its record hold dist/<rc>/.lock, so a run of
    the candidate writing its record meanwhile is refused at once and neither loses the other's
    writes. `resign` signs the record again when it was signed (a published candidate's), while the
    lock is still held."""
    ballot = read_ballot(config, candidate, votes_file=votes_file, closed_at=closed_at, now=now,
                         decisions=decisions, decided_by=decided_by)
    directory = release_dir(config.root, str(candidate))
    with locks.release_run(directory, str(candidate)):
        result = count_result(config, ballot)
        record = record_of(config.root, candidate)
        record.set_vote_result(result.info)
        if resign is not None and record.path.with_name(record.path.name + ".asc").exists():
            resign(record.path)
    tell_counted(config, result, progress)
    return result


def record_voted(record: ReleaseRecord, voted: VotedEntries) -> None:
    """The voted files placed in dist/<final>/, their signatures, and the build they came from."""
    record.add_files(voted.files)
    record.add_signatures(voted.signatures)
    record.set_build(voted.build)


def record_promotion(record: ReleaseRecord, promoted: PromoteResult) -> None:
    """A promotion (from svn or ATR): the voted files, the promotion, and the promote step done."""
    record_voted(record, promoted.voted)
    record.set_promotion(promoted.promotion)
    record.step_done("promote", {"from": promoted.from_rc, "url": promoted.promotion.url,
                                 "commit": promoted.commit})


def record_taken(record: ReleaseRecord, taken: TakenRelease) -> None:
    """A final taken from svn release/: its voted files and its promotion, as a promotion records them."""
    record_voted(record, taken.voted)
    record.set_promotion(taken.promotion)


def promote_in_svn(config: ReleaseConfig, final: ReleaseVersion, *, from_rc: ReleaseVersion,
                   svn_dev_url: str, svn_release_url: str, repo_root: Path | None = None,
                   without_vote_result: str = "", progress: Progress = to_log,
                   checked: Callable[[str], None] | None = None) -> PromoteResult:
    """`steps.promote.promote_release`, its promotion recorded in dist/<final>/."""
    promoted = promote_release(config, final, from_rc=from_rc, svn_dev_url=svn_dev_url,
                               svn_release_url=svn_release_url, repo_root=repo_root,
                               without_vote_result=without_vote_result, progress=progress, checked=checked)
    record_promotion(record_of(config.root, final), promoted)
    return promoted


def withdraw_recorded(config: ReleaseConfig, plan: WithdrawPlan, *, registry: Registry, index: Index,
                      reason: str, progress: Progress = to_log) -> WithdrawResult:
    """`steps.withdraw.withdraw_release`, its withdrawal recorded in dist/<V>/ (not signed yet)."""
    result = withdraw_release(config, plan, registry=registry, index=index, reason=reason, progress=progress)
    record_of(config.root, result.version).set_withdrawal(result.withdrawal)
    return result
