# SPDX-License-Identifier: Apache-2.0
"""Count the vote on a staged candidate, record the result, and write the `[RESULT][VOTE]` email.

The counting and the ASF rules are pure (release/votes.py); this step reads the votes file and
the binding voters, refuses a vote that has not been open 72 hours (nothing is written then), and
records a result that passed or failed in dist/<rc>/release.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from release.config import ReleaseConfig
from release.emails import missing_recipient, render_result_email, when
from release.errors import ConfigError, RefusedError
from release.progress import Progress, to_log
from release.record import ReleaseRecord, VoteResultInfo, load_record, release_dir, sha512_of, write_atomic
from release.versions import ReleaseVersion
from release.votes import VOTE_HOURS, Tally, count_votes, earliest_close, parse_roster, parse_votes, utc

RESULT_EMAIL = "vote-result-email.txt"


@dataclass(frozen=True)
class VoteResult:
    candidate: str
    tally: Tally
    email: Path
    record: ReleaseRecord

    @property
    def passed(self) -> bool:
        return self.tally.passed


def binding_voters(config: ReleaseConfig) -> tuple[str, ...]:
    """`binding-voters` and the lines of `binding-voters-file`; ConfigError when there are none."""
    found = list(config.binding_voters)
    if config.binding_voters_file:
        path = config.root / config.binding_voters_file
        try:
            found += parse_roster(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"[tool.release] binding-voters-file: cannot read {path} ({exc})") from None
    if not found:
        raise ConfigError("no binding voters are configured: list the PMC in [tool.release] binding-voters "
                          "or binding-voters-file")
    return tuple(found)


def opened_at(record: ReleaseRecord) -> datetime:
    """When the vote opened, by the record: the staging time (older records: the close minus 72 h)."""
    stage = record.stage
    assert stage is not None
    if stage.opened:
        return utc(datetime.fromisoformat(stage.opened))
    return utc(datetime.fromisoformat(stage.vote_closes)) - timedelta(hours=VOTE_HOURS)


def count_result(config: ReleaseConfig, candidate: ReleaseVersion, *, votes_file: Path,
                 closed_at: datetime | None = None, now: datetime | None = None,
                 progress: Progress = to_log) -> VoteResult:
    """Count `votes_file` for `candidate`, write the [RESULT][VOTE] email and record the result."""
    if not config.votes:
        raise RefusedError(f"[tool.release] vote = \"{config.vote}\": this project's releases are not voted "
                           "on, so there are no votes to count; set vote = \"asf\" if a PMC votes on them")
    if not candidate.is_rc:
        raise RefusedError(f"{candidate} is not a release candidate; count the votes on one like "
                           f"{candidate.final}rc1")
    directory = release_dir(config.root, str(candidate))
    record = load_record(directory, str(candidate))
    if record.stage is None:
        raise RefusedError(f"{directory}: {candidate} was never staged for a vote; stage it first "
                           f"(invoke release --version {candidate})")
    roster = binding_voters(config)
    try:
        text = votes_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedError(f"cannot read the votes from {votes_file} ({exc}); give a plain-text file or an "
                           "mbox export of the vote thread") from None
    thread = parse_votes(text, source=votes_file.name)
    opened = thread.opened or opened_at(record)
    moment = utc(now or datetime.now(timezone.utc))
    if closed_at is not None and utc(closed_at) > moment:
        raise RefusedError(f"--closed-at {when(closed_at)} is in the future; give the time the vote closed")
    tally = count_votes(thread.votes, roster, opened=opened, closed_at=closed_at)
    if tally.too_early:
        wait = earliest_close(opened)
        hint = (f"wait until {when(wait)}" if moment < wait else
                f"pass --closed-at with the time it closed (at least {when(wait)})")
        raise RefusedError(f"the vote on {candidate} was open {tally.hours_open:.1f} hours (from "
                           f"{when(opened)} to {when(tally.closed)}); ASF votes stay open at least "
                           f"{VOTE_HOURS} hours: {hint}")
    email = directory / RESULT_EMAIL
    write_atomic(email, render_result_email(
        project=config.project, final=str(candidate.final), candidate=str(candidate),
        mailing_list=config.mailing_list, tally=tally, thread_subject=thread.subject))
    record.set_vote_result(VoteResultInfo(
        passed=tally.passed, opened=tally.opened.isoformat(), closed=tally.closed.isoformat(),
        binding={v.voter: f"{v.value:+d}" if v.value else "0" for v in tally.binding},
        non_binding={v.voter: f"{v.value:+d}" if v.value else "0" for v in tally.non_binding},
        reasons=tally.reasons, source=str(votes_file), source_sha512=sha512_of(votes_file),
        email=RESULT_EMAIL))
    missing = missing_recipient(config.mailing_list, "mailing-list", email)
    if missing:
        progress(missing)
    progress(f"{len(tally.binding)} binding and {len(tally.non_binding)} non-binding votes counted; "
             f"result email written to {email}")
    return VoteResult(str(candidate), tally, email, record)
