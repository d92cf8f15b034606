# SPDX-License-Identifier: Apache-2.0
"""Count the vote on a staged candidate and write the `[RESULT][VOTE]` email.

The counting and the ASF rules are pure (release/votes.py, release/vote_thread.py); this step reads
the votes file and the binding voters (`read_ballot`, which refuses before anything is held), opens
the vote no earlier than the candidate was staged (its record's stage entry), refuses a vote that
has not been open 72 hours (nothing is written then), and returns the result, passed or failed.
The pipeline records it in dist/<rc>/release.json, holding dist/<rc>/.lock around the count as every
run of that version does, so a run writing the record at the same time never loses the result, nor
the result the run's writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from release.adapters.clients import Atr
from release.config import ReleaseConfig
from release.emails import missing_recipient, render_result_email, review_line
from release.errors import ConfigError, RefusedError
from release.plan.atr import AtrPlan
from release.progress import Progress, to_log
from release.record import ReleaseRecord, VoteResultInfo, load_record, release_dir, sha512_of, write_atomic
from release.roster import Roster, addresses_of, roster_lines
from release.versions import ReleaseVersion
from release.vote_thread import parse_votes
from release.votes import VOTE_HOURS, Review, Tally, Thread, count_votes, earliest_close, utc, when

RESULT_EMAIL = "vote-result-email.txt"


@dataclass(frozen=True)
class VoteResult:
    candidate: str
    tally: Tally
    email: Path
    info: VoteResultInfo  # what the pipeline records
    outside: int = 0  # messages of the export that are not replies to this candidate's [VOTE]
    roots: tuple[str, ...] = ()  # this candidate's [VOTE] messages in the export

    @property
    def passed(self) -> bool:
        return self.tally.passed


def binding_voters(config: ReleaseConfig) -> Roster:
    """`binding-voters` and the lines of `binding-voters-file`: ConfigError when there are none,
    or naming the entry that is not an address or an Apache id."""
    entries = [("[tool.release] binding-voters", entry) for entry in config.binding_voters]
    if config.binding_voters_file:
        path = config.root / config.binding_voters_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"[tool.release] binding-voters-file: cannot read {path} ({exc})") from None
        entries += [(f"[tool.release] binding-voters-file {config.binding_voters_file} line {number}", entry)
                    for number, entry in roster_lines(text)]
    if not entries:
        raise ConfigError("no binding voters are configured: list the PMC in [tool.release] binding-voters "
                          "or binding-voters-file")
    return Roster.joined(addresses_of(entry, where) for where, entry in entries)


def opened_at(record: ReleaseRecord) -> datetime:
    """When the vote opened, by the record: the staging time (older records: the close minus 72 h)."""
    stage = record.stage
    assert stage is not None
    if stage.opened:
        return utc(datetime.fromisoformat(stage.opened))
    return utc(datetime.fromisoformat(stage.vote_closes)) - timedelta(hours=VOTE_HOURS)


def _sign(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _late(tally: Tally, roster: Roster) -> list[Review]:
    """Votes cast after the close, as lines of the review list."""
    return [Review(v.name, v.address, v.when, f"{_sign(v.value)} not counted: cast after the vote closed at "
                   f"{when(tally.closed)}", v.comment, binding=roster.member(v.address) is not None)
            for v in tally.late]


def _staged(directory: Path, candidate: ReleaseVersion) -> ReleaseRecord:
    record = load_record(directory, str(candidate))
    if record.stage is None:
        raise RefusedError(f"{directory}: {candidate} was never staged for a vote; stage it first "
                           f"(invoke release --version {candidate})")
    return record


@dataclass(frozen=True)
class Ballot:
    """The votes to count on a candidate, read and checked before its record is held."""

    candidate: ReleaseVersion
    votes_file: Path
    thread: Thread
    roster: Roster
    now: datetime
    closed_at: datetime | None = None
    decisions: Mapping[str, int | None] | None = None
    decided_by: str = ""


def read_ballot(config: ReleaseConfig, candidate: ReleaseVersion, *, votes_file: Path,
                closed_at: datetime | None = None, now: datetime | None = None,
                decisions: Mapping[str, int | None] | None = None, decided_by: str = "") -> Ballot:
    """The votes of `votes_file` on `candidate` with the binding voters, refused as the count would be
    before anything is held or written: a project that does not vote, a final version, a candidate
    never staged, --count without --decided-by, an unreadable file, a close in the future.

    `decisions` (address -> +1, 0, -1 or None for no vote) is how the release manager counts a
    voter after reading their replies, recorded with `decided_by`."""
    if not config.votes:
        raise RefusedError(f"[tool.release] vote = \"{config.vote}\": this project's releases are not voted "
                           "on, so there are no votes to count; set vote = \"asf\" if a PMC votes on them")
    if not candidate.is_rc:
        raise RefusedError(f"{candidate} is not a release candidate; count the votes on one like "
                           f"{candidate.final}rc1")
    if decisions and not decided_by.strip():
        raise RefusedError("--count needs --decided-by NAME: who read the replies is recorded with the "
                           "result")
    _staged(release_dir(config.root, str(candidate)), candidate)
    roster = binding_voters(config)
    try:
        text = votes_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedError(f"cannot read the votes from {votes_file} ({exc}); give a plain-text file or an "
                           "mbox export of the vote thread") from None
    thread = parse_votes(text, candidate=str(candidate), source=votes_file.name)
    moment = utc(now or datetime.now(timezone.utc))
    if closed_at is not None and utc(closed_at) > moment:
        raise RefusedError(f"--closed-at {when(closed_at)} is in the future; give the time the vote closed")
    return Ballot(candidate, votes_file, thread, roster, moment, closed_at, decisions, decided_by.strip())


def count_result(config: ReleaseConfig, ballot: Ballot) -> VoteResult:
    """Count `ballot` from when the candidate's record says its vote opened, and write the
    [RESULT][VOTE] email; the result for the pipeline to record. A vote open less than 72 hours is
    refused, with nothing written."""
    candidate = ballot.candidate
    directory = release_dir(config.root, str(candidate))
    staged = opened_at(_staged(directory, candidate))  # what a run wrote since the ballot was read
    thread = ballot.thread
    opened = max(staged, thread.opened) if thread.opened else staged
    tally = count_votes(thread.votes, ballot.roster, opened=opened, closed_at=ballot.closed_at,
                        now=ballot.now, unread=thread.unread, decisions=ballot.decisions)
    if tally.too_early:
        wait = earliest_close(opened)
        hint = (f"wait until {when(wait)}" if ballot.now < wait else
                f"pass --closed-at with the time it closed (at least {when(wait)})")
        raise RefusedError(f"the vote on {candidate} was open {tally.hours_open:.1f} hours (from "
                           f"{when(opened)} to {when(tally.closed)}); ASF votes stay open at least "
                           f"{VOTE_HOURS} hours: {hint}")
    email = directory / RESULT_EMAIL
    write_atomic(email, render_result_email(
        project=config.project, final=str(candidate.final), candidate=str(candidate),
        mailing_list=config.mailing_list, tally=tally, thread_subject=thread.subject,
        decided_by=ballot.decided_by))
    info = VoteResultInfo(
        passed=tally.passed, opened=tally.opened.isoformat(), closed=tally.closed.isoformat(),
        binding={v.voter: _sign(v.value) for v in tally.binding},
        non_binding={v.voter: _sign(v.value) for v in tally.non_binding},
        reasons=tally.reasons, source=str(ballot.votes_file), source_sha512=sha512_of(ballot.votes_file),
        email=RESULT_EMAIL,
        review=tuple(review_line(r) for r in (*tally.review, *_late(tally, ballot.roster))),
        decided=dict(tally.decided), decided_by=ballot.decided_by if tally.decided else "")
    return VoteResult(str(candidate), tally, email, info, thread.outside, thread.roots)


def tell_counted(config: ReleaseConfig, result: VoteResult, progress: Progress = to_log) -> None:
    """What the release manager is told once the result is recorded: the email's missing address, if
    so, and what was counted."""
    missing = missing_recipient(config.mailing_list, "mailing-list", result.email)
    if missing:
        progress(missing)
    tally = result.tally
    progress(f"{len(tally.binding)} binding and {len(tally.non_binding)} non-binding votes counted, "
             f"{len(tally.review)} replies listed for reading; result email written to {result.email}")


def resolve_in_atr(plan: AtrPlan, client: Atr, tally: Tally, *, progress: Progress = to_log) -> str:
    """The counted vote resolved in ATR: `passed` or `failed` ("" while the vote cannot be decided:
    open less than 72 hours, or binding replies still to read). A result ATR holds already is left
    alone; a contradicting one is refused by the adapter."""
    if tally.too_early or tally.needs_reading:
        progress(f"ATR: the vote on {plan.where} is left open: {'; '.join(tally.reasons)}")
        return ""
    resolution = "passed" if tally.passed else "failed"
    if client.resolve_vote(plan.release, resolution):
        progress(f"ATR: the vote on {plan.where} resolved as {resolution}")
    else:
        progress(f"ATR: the vote on {plan.where} was resolved as {resolution} already")
    return resolution
