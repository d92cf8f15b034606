# SPDX-License-Identifier: Apache-2.0
"""After the vote: counting it into the record, the promotion gate, publishing voted files, and the
announcement's preconditions. Records and files in a temporary folder; no process, no network."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from vote_fixtures import Mail, vote_subject, vote_thread

from release import locks
from release.config import ReleaseConfig, parse_config
from release.errors import ConfigError, RefusedError
from release.pipeline.recording import count_vote
from release.pipeline.release import check_can_run, own_versions, publish_mode, voted_files
from release.plan.release import Mode, ReleasePlan, TargetState, plan_release
from release.record import (
    BuildInfo,
    FileEntry,
    PromotionInfo,
    ReleaseRecord,
    StageInfo,
    TagEntry,
    VoteResultInfo,
    WithdrawalInfo,
    load_record,
    release_dir,
    sha512_of,
)
from release.steps.announce import announcement, check_published
from release.steps.promote import check_vote_result
from release.steps.result import RESULT_EMAIL, VoteResult, binding_voters, opened_at
from release.versions import parse_version as V

OPENED = datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)
PMC = ["jane@sample.invalid", "joe@sample.invalid", "ann@sample.invalid"]


def config_at(root: Path, **extra: object) -> ReleaseConfig:
    return parse_config(root, {"name": "sample-app", "project": "Sample App", "python": ["3.11"],
                               "mailing-list": "dev@sample.invalid", "binding-voters": PMC, **extra})


def staged(root: Path, rc: str = "1.10.6rc1") -> None:
    record = load_record(release_dir(root, rc), rc)
    record.set_stage(StageInfo("svn://dev/sample-app/" + rc, rc, "c" * 40, "F" * 40, "k", {"a.whl": "ab"},
                               (OPENED + timedelta(hours=72)).isoformat(), 2, opened=OPENED.isoformat()))


def votes(root: Path, *lines: str) -> Path:
    path = root / "votes.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PASS = ("+1 Jane <jane@sample.invalid> 2026-11-26T14:00:00Z", "+1 joe@sample.invalid 2026-11-27T10:00:00Z",
        "+1 Ann <ann@sample.invalid> 2026-11-29T13:00:00Z", "+1 Jim <jim@example.org> 2026-11-28T08:00:00Z")
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_a_passing_vote_is_recorded_and_its_email_written(tmp_path: Path) -> None:
    config = config_at(tmp_path)
    staged(tmp_path)
    result = count_vote(config, V("1.10.6rc1"), votes_file=votes(tmp_path, *PASS), now=NOW)
    assert result.passed
    assert result.email == tmp_path / "dist" / "1.10.6rc1" / RESULT_EMAIL
    assert "The vote has passed: 3 binding +1, 0 binding -1." in result.email.read_text()
    recorded = load_record(release_dir(tmp_path, "1.10.6rc1"), "1.10.6rc1").vote_result
    assert recorded is not None and recorded.passed and recorded.reasons == ()
    assert recorded.binding == {"Jane <jane@sample.invalid>": "+1", "joe@sample.invalid": "+1",
                                "Ann <ann@sample.invalid>": "+1"}
    assert recorded.non_binding == {"Jim <jim@example.org>": "+1"}
    assert recorded.opened == OPENED.isoformat() and recorded.closed == "2026-11-29T13:00:00+00:00"
    assert recorded.source_sha512 == sha512_of(tmp_path / "votes.txt") and recorded.email == RESULT_EMAIL


TOO_FEW = (*PASS[:2], "+1 Jim <jim@example.org> 2026-11-29T13:00:00Z")
AGAINST = (*PASS, "-1 jane@sample.invalid 2026-11-29T14:00:00Z", "-1 joe@sample.invalid 2026-11-29T14:00:00Z",
           "-1 ann@sample.invalid 2026-11-29T14:00:00Z")


@pytest.mark.parametrize(("lines", "reason"), [
    (TOO_FEW, "2 binding +1 votes, at least 3 are needed"),
    (AGAINST, "3 binding -1 against 0 binding +1: more binding +1 than -1 are needed"),
])
def test_a_failed_vote_is_recorded_with_its_reasons(tmp_path: Path, lines: tuple[str, ...],
                                                    reason: str) -> None:
    staged(tmp_path)
    result = count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=votes(tmp_path, *lines),
                        now=NOW)
    assert not result.passed and reason in result.tally.reasons
    recorded = load_record(release_dir(tmp_path, "1.10.6rc1"), "1.10.6rc1").vote_result
    assert recorded is not None and not recorded.passed and reason in recorded.reasons
    assert "The vote has not passed:" in result.email.read_text()


def test_a_project_that_does_not_vote_has_no_votes_to_count(tmp_path: Path) -> None:
    staged(tmp_path)
    with pytest.raises(RefusedError) as caught:
        count_vote(config_at(tmp_path, vote="none"), V("1.10.6rc1"), votes_file=votes(tmp_path, *PASS),
                   now=NOW)
    assert str(caught.value) == ('[tool.release] vote = "none": this project\'s releases are not voted on, '
                                 'so there are no votes to count; set vote = "asf" if a PMC votes on them')
    assert not (tmp_path / "dist" / "1.10.6rc1" / RESULT_EMAIL).exists()


def test_a_result_without_a_mailing_list_says_so_in_one_line(tmp_path: Path) -> None:
    staged(tmp_path)
    said: list[object] = []
    config = parse_config(tmp_path, {"name": "sample-app", "python": ["3.11"], "binding-voters": PMC})
    result = count_vote(config, V("1.10.6rc1"), votes_file=votes(tmp_path, *PASS), now=NOW,
                        progress=said.append)
    assert result.email.read_text().startswith("To: (no address: set [tool.release] mailing-list)\n")
    assert (f"{result.email} has no address to go to: [tool.release] mailing-list is not set; set it, or "
            "fill in the To: line before sending") in said


def test_a_vote_open_less_than_72_hours_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    staged(tmp_path)
    early = (*PASS[:2], "+1 ann@sample.invalid 2026-11-28T12:00:00Z")
    with pytest.raises(RefusedError, match=r"open 47\.5 hours .* at least 72 hours: wait until "
                                           r"2026-11-29 12:30 UTC"):
        count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=votes(tmp_path, *early),
                   now=datetime(2026, 11, 28, 13, tzinfo=timezone.utc))
    with pytest.raises(RefusedError, match=r"pass --closed-at with the time it closed \(at least "):
        count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=votes(tmp_path, *early), now=NOW)
    assert load_record(release_dir(tmp_path, "1.10.6rc1"), "1.10.6rc1").vote_result is None
    assert not (tmp_path / "dist" / "1.10.6rc1" / RESULT_EMAIL).exists()
    closed = count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=votes(tmp_path, *early),
                        closed_at=datetime(2026, 11, 29, 13, tzinfo=timezone.utc), now=NOW)
    assert closed.passed


def test_votes_after_the_close_are_recorded_for_review(tmp_path: Path) -> None:
    staged(tmp_path)
    late = (*PASS, "-1 joe@sample.invalid 2026-11-30T10:00:00Z")
    result = count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=votes(tmp_path, *late),
                        closed_at=datetime(2026, 11, 29, 14, tzinfo=timezone.utc), now=NOW)
    assert result.passed
    found = load_record(release_dir(tmp_path, "1.10.6rc1"), "1.10.6rc1").vote_result
    assert found is not None and found.review == (
        "joe@sample.invalid (binding), 2026-11-30 10:00 UTC: -1 not counted: cast after the vote closed at "
        "2026-11-29 14:00 UTC",)


def test_closed_at_in_the_future_is_refused(tmp_path: Path) -> None:
    staged(tmp_path)
    with pytest.raises(RefusedError, match=r"--closed-at .* is in the future"):
        count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=votes(tmp_path, *PASS),
                   closed_at=NOW + timedelta(days=1), now=NOW)


def test_counting_needs_a_staged_candidate_a_roster_and_a_readable_file(tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="not a release candidate"):
        count_vote(config_at(tmp_path), V("1.10.6"), votes_file=tmp_path / "v")
    with pytest.raises(RefusedError, match="was never staged for a vote; stage it first"):
        count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=tmp_path / "v")
    staged(tmp_path)
    with pytest.raises(ConfigError, match="no binding voters are configured"):
        count_vote(parse_config(tmp_path, {"name": "sample-app", "python": ["3.11"]}), V("1.10.6rc1"),
                   votes_file=tmp_path / "v")
    with pytest.raises(RefusedError, match="cannot read the votes from"):
        count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=tmp_path / "missing.txt")


def test_binding_voters_come_from_the_list_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "PMC.txt").write_text("# roster\nann@sample.invalid\nBob Stone <bob@sample.invalid>, bob\n")
    config = parse_config(tmp_path, {"name": "x", "python": ["3.11"], "binding-voters": ["jane@x", "joe"],
                                     "binding-voters-file": "PMC.txt"})
    roster = binding_voters(config)
    assert roster.members == (frozenset({"jane@x"}), frozenset({"joe@apache.org"}),
                              frozenset({"ann@sample.invalid"}),
                              frozenset({"bob@sample.invalid", "bob@apache.org"}))
    missing = parse_config(tmp_path, {"name": "x", "python": ["3.11"], "binding-voters-file": "nope.txt"})
    with pytest.raises(ConfigError, match="binding-voters-file: cannot read"):
        binding_voters(missing)


def test_a_name_alone_in_the_roster_is_refused_naming_its_line(tmp_path: Path) -> None:
    (tmp_path / "PMC.txt").write_text("# roster\nann@sample.invalid\nBob Stone\n")
    config = parse_config(tmp_path, {"name": "x", "python": ["3.11"], "binding-voters-file": "PMC.txt"})
    refusal = (r"^\[tool.release\] binding-voters-file PMC.txt line 3: 'Bob Stone' is not an address or an "
               r"Apache id .* never by a name: give the ")
    with pytest.raises(ConfigError, match=refusal):
        binding_voters(config)


def test_an_older_record_opens_the_vote_72_hours_before_it_closes(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6rc1")
    record.set_stage(StageInfo("u", "t", "c", "f", "k", {}, (OPENED + timedelta(hours=72)).isoformat()))
    assert opened_at(record) == OPENED


# --- hostile vote threads: real mbox exports, counted as `invoke vote-result` counts them ---------

JANE, JOE, ANN = "Jane <jane@sample.invalid>", "Joe <joe@sample.invalid>", "Ann <ann@sample.invalid>"
IDS = {"binding-voters": ["jane", "joe", "ann@sample.invalid"]}  # two by their Apache ids


def counted(root: Path, *mails: Mail, closed_at: datetime | None = None, voters: dict[str, Any] | None = None,
            **options: Any) -> VoteResult:
    staged(root)
    export = vote_thread(root / "thread.mbox", mails, opened=OPENED)
    return count_vote(config_at(root, **(voters or {})), V("1.10.6rc1"), votes_file=export,
                      closed_at=closed_at, now=NOW, **options)


def recorded(root: Path) -> VoteResultInfo:
    found = load_record(release_dir(root, "1.10.6rc1"), "1.10.6rc1").vote_result
    assert found is not None
    return found


def test_outsiders_named_like_pmc_members_never_pass_a_vote(tmp_path: Path) -> None:
    result = counted(tmp_path, Mail("jane <x@evil.example>", "+1 (binding)", 2),
                     Mail("joe <y@evil.example>", "+1 (binding)", 10),
                     Mail('"ann@sample.invalid" <z@evil.example>', "+1 (binding)", 80), voters=IDS)
    assert not result.passed and recorded(tmp_path).binding == {}
    assert "+1 (binding): 0\n" in result.email.read_text()
    assert "0 binding +1 votes, at least 3 are needed" in recorded(tmp_path).reasons


def test_a_member_voting_from_two_addresses_counts_once(tmp_path: Path) -> None:
    voters = {"binding-voters": ["jane@sample.invalid, jane.doe@home.example", "joe@sample.invalid",
                                 "ann@sample.invalid"]}
    result = counted(tmp_path, Mail(JANE, "+1", 2), Mail("Jane D <jane.doe@home.example>", "+1", 10),
                     Mail(JOE, "+1", 80), voters=voters)
    assert not result.passed
    assert recorded(tmp_path).binding == {"Jane D <jane.doe@home.example>": "+1", JOE: "+1"}


def test_an_earlier_vote_message_does_not_open_the_vote_before_the_staging(tmp_path: Path) -> None:
    early = Mail("RM <rm@sample.invalid>", "Please vote", -72, subject=vote_subject(), replies_to="",
                 id="<early@sample.invalid>")
    with pytest.raises(RefusedError, match=r"was open 20\.0 hours \(from 2026-11-26 12:30 UTC"):
        counted(tmp_path, early, Mail(JANE, "+1", 2, replies_to="<early@sample.invalid>"),
                Mail(JOE, "+1", 10), Mail(ANN, "+1", 20))
    assert load_record(release_dir(tmp_path, "1.10.6rc1"), "1.10.6rc1").vote_result is None


def test_a_mail_from_2099_does_not_close_the_vote_in_2099(tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match=r"was open 20\.0 hours"):
        counted(tmp_path, Mail(JANE, "+1", 2), Mail(JOE, "+1", 10), Mail(ANN, "+1", 20),
                Mail("Kim <kim@example.org>", "+1", 24 * 365 * 73))
    with pytest.raises(RefusedError, match=r"was open 21\.0 hours"):  # the archive's time, not the Date
        counted(tmp_path, Mail(JANE, "+1", 2), Mail(JOE, "+1", 10), Mail(ANN, "+1", 20),
                Mail("Kim <kim@example.org>", "+1", 21, date="Fri, 01 Jan 2099 00:00:00 +0000"))


def test_a_vote_with_no_readable_time_is_not_counted_whatever_closed_at_says(tmp_path: Path) -> None:
    result = counted(tmp_path, Mail(JANE, "+1", 2), Mail(JOE, "+1", 10), Mail(ANN, "+1", None, date="soon"),
                     closed_at=OPENED + timedelta(hours=80))
    assert not result.passed and recorded(tmp_path).binding == {JANE: "+1", JOE: "+1"}
    assert recorded(tmp_path).review == (f"{ANN} (binding), no time: +1 not counted: no time: the export "
                                         "gives none for it and its Date header does not parse",)


def test_other_threads_discussions_and_votes_from_before_the_staging_do_not_count(tmp_path: Path) -> None:
    rc0, discuss = "<vote-1.10.6rc0@sample.invalid>", "<discuss@sample.invalid>"
    result = counted(
        tmp_path, Mail(JANE, "+1", 2), Mail(JOE, "+1", 10),
        Mail("RM <rm@sample.invalid>", "Please vote", -100, subject=vote_subject("1.10.6rc0"), replies_to="",
             id=rc0),
        Mail(ANN, "+1", 30, subject=f"Re: {vote_subject('1.10.6rc0')}", replies_to=rc0),
        Mail("RM <rm@sample.invalid>", "Shall we release?", -200, subject="[DISCUSS] 1.10.6", replies_to="",
             id=discuss),
        Mail(ANN, "+1", 40, subject="Re: [DISCUSS] 1.10.6", replies_to=discuss),
        closed_at=OPENED + timedelta(hours=80))
    assert not result.passed and recorded(tmp_path).binding == {JANE: "+1", JOE: "+1"}
    assert result.outside == 4
    before = counted(tmp_path, Mail(JANE, "+1", 2), Mail(JOE, "+1", 10), Mail(ANN, "+1", -5),
                     closed_at=OPENED + timedelta(hours=80))
    assert not before.passed and "before the vote opened" in recorded(tmp_path).review[0]


@pytest.mark.parametrize("against", [
    Mail(ANN, None, 30, html="<div dir='ltr'>-1 (binding): the NOTICE is wrong</div>"),
    Mail(ANN, "\u22121 (binding)", 30),
    Mail(ANN, "\u20131 (binding)", 30),
    Mail(ANN, "\u20141", 30),
], ids=["html-only", "minus-sign", "en-dash", "em-dash"])
def test_a_binding_minus_one_however_it_is_written_is_counted(tmp_path: Path, against: Mail) -> None:
    result = counted(tmp_path, Mail(JANE, "+1", 2), Mail(JOE, "+1", 10), Mail(ANN, "+1", 20), against,
                     closed_at=OPENED + timedelta(hours=80))
    assert not result.passed and recorded(tmp_path).binding == {JANE: "+1", JOE: "+1", ANN: "-1"}


@pytest.mark.parametrize("body", [
    "A question first.\n\n-----Original Message-----\nFrom: Jane\nSent: Thursday\n\n+1 (binding)\n",
    "A question first.\n\nFrom: Jane Doe <jane@sample.invalid>\nSent: Thursday, November 26, 2026 2:30 PM\n"
    "To: dev@sample.invalid\nSubject: Re: [VOTE]\n\n+1 (binding)\n",
    "A question first.\n\nOn Thu, Nov 26, 2026 at 2:30 PM Jane <jane@sample.invalid> wrote:\n+1 (binding)\n",
    "A question first.\n________________________________\nFrom: Jane\n+1 (binding)\n",
    "1) the LICENSE is missing\n2) the NOTICE year is wrong\n",
], ids=["original-message", "outlook-block", "on-wrote", "underscores", "numbered-list"])
def test_a_reply_that_is_not_a_vote_holds_the_vote_for_the_release_manager(tmp_path: Path, body: str) -> None:
    result = counted(tmp_path, Mail(JANE, "+1", 2), Mail(JOE, "+1", 10), Mail(ANN, body, 80))
    assert not result.passed and recorded(tmp_path).binding == {JANE: "+1", JOE: "+1"}
    [line] = recorded(tmp_path).review
    assert line.startswith(f"{ANN} (binding), 2026-11-29 20:30 UTC: no vote in it")
    assert line in result.email.read_text()
    assert "replies of binding voters need reading (ann@sample.invalid)" in recorded(tmp_path).reasons[-1]


def test_the_release_manager_says_how_an_unread_reply_counts(tmp_path: Path) -> None:
    mails = (Mail(JANE, "+1", 2), Mail(JOE, "+1", 10), Mail(ANN, "Looks good to me, ship it", 80))
    with pytest.raises(RefusedError, match="--count needs --decided-by NAME"):
        counted(tmp_path, *mails, decisions={"ann@sample.invalid": 1})
    result = counted(tmp_path, *mails, decisions={"ann@sample.invalid": 1}, decided_by="Release Manager")
    assert result.passed
    found = recorded(tmp_path)
    assert found.decided == {"ann@sample.invalid": "+1"} and found.decided_by == "Release Manager"
    assert found.binding == {JANE: "+1", JOE: "+1", "Ann <ann@sample.invalid>": "+1"}
    assert found.review and "no vote in it" in found.review[0]
    assert ("Counted as the release manager read their replies, decided by Release Manager: "
            "ann@sample.invalid: +1.") in result.email.read_text()


def test_a_vote_result_waits_for_a_running_release_of_the_candidate(tmp_path: Path) -> None:
    """A run of 1.10.6rc1 holds dist/1.10.6rc1/.lock while it writes the record, as `invoke release`
    does: counting the vote then is refused at once, and neither loses the other's writes."""
    staged(tmp_path)
    export = vote_thread(tmp_path / "thread.mbox", (Mail(JANE, "+1", 2), Mail(JOE, "+1", 10),
                                                    Mail(ANN, "+1", 80)), opened=OPENED)
    directory = release_dir(tmp_path, "1.10.6rc1")
    loaded, go_on = threading.Event(), threading.Event()

    def release() -> None:
        with locks.release_run(directory, "1.10.6rc1"):
            record = load_record(directory, "1.10.6rc1")
            loaded.set()
            assert go_on.wait(30)
            record.step_done("images", {"smoke": {"1.10.6rc1-python3.11": True}})

    running = threading.Thread(target=release)
    running.start()
    try:
        assert loaded.wait(30)
        with pytest.raises(RefusedError, match=r"^another run of 1\.10\.6rc1 holds dist/1\.10\.6rc1; wait "):
            count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=export, now=NOW)
    finally:
        go_on.set()
        running.join(30)
    assert load_record(directory, "1.10.6rc1").vote_result is None
    assert count_vote(config_at(tmp_path), V("1.10.6rc1"), votes_file=export, now=NOW).passed
    record = load_record(directory, "1.10.6rc1")
    assert record.is_done("images") and record.vote_result is not None and record.vote_result.passed


# --- the promotion gate --------------------------------------------------------------------------


def result(passed: bool) -> VoteResultInfo:
    return VoteResultInfo(passed, "o", "c", {}, {}, () if passed else ("2 binding +1 votes",))


def test_promotion_needs_a_passing_vote_result_or_a_reason(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6rc1")
    with pytest.raises(RefusedError, match=r"1\.10\.6rc1 has no vote result: count the votes with `invoke "
                                           r"vote-result --version 1\.10\.6rc1 --votes FILE`, or promote it "
                                           r"anyway with --without-vote-result --reason"):
        check_vote_result(record, "")
    record.vote_result = result(False)
    with pytest.raises(RefusedError, match=r"did not pass \(2 binding \+1 votes\): stage a new candidate"):
        check_vote_result(record, "  ")
    check_vote_result(record, "the vote ran on the private list")
    record.vote_result = result(True)
    check_vote_result(record, "")


# --- publishing what was voted -------------------------------------------------------------------


def promoted(root: Path, *, change: str = "") -> None:
    """dist/1.10.6rc1 staged with two files; dist/1.10.6 holding them as `invoke promote` leaves it."""
    rc = load_record(release_dir(root, "1.10.6rc1"), "1.10.6rc1")
    final = load_record(release_dir(root, "1.10.6"), "1.10.6")
    files = {}
    for name in ("sample_app-1.10.6.tar.gz", "sample_app-1.10.6-py3-none-any.whl"):
        for folder in ("svn", "pypi"):
            path = final.directory / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(name.encode())
        files[name] = sha512_of(final.directory / "svn" / name)
    rc.set_stage(StageInfo("u", "t", "c", "f", "k", files, "2026-11-29T12:30:00+00:00"))
    kinds = {name: "wheel" if name.endswith(".whl") else "sdist" for name in files}
    final.add_files(FileEntry(f"{folder}/{name}", digest, kinds[name], folder, "1.10.6rc1")
                    for name, digest in files.items() for folder in ("svn", "pypi"))
    final.set_build(BuildInfo("c", 1, "f", "1.10.6", "notes", "1.10.6rc1", {"sample-app": "1.10.6"}))
    final.set_promotion(PromotionInfo("1.10.6rc1", "d", "svn://release/sample-app/1.10.6", 3, "c"))
    if change:
        (final.directory / change).write_bytes(b"rebuilt")


def records(root: Path) -> tuple[ReleaseRecord, ReleaseRecord]:
    return (load_record(release_dir(root, "1.10.6"), "1.10.6"), load_record(release_dir(root, "1.10.6rc1"),
                                                                             "1.10.6rc1"))


def test_the_voted_files_pass(tmp_path: Path) -> None:
    promoted(tmp_path)
    assert voted_files(*records(tmp_path)) == []


def test_a_file_changed_since_the_vote_is_named(tmp_path: Path) -> None:
    promoted(tmp_path, change="pypi/sample_app-1.10.6-py3-none-any.whl")
    assert voted_files(*records(tmp_path)) == [
        "pypi/sample_app-1.10.6-py3-none-any.whl changed since the vote"]


def test_a_file_never_voted_on_is_named(tmp_path: Path) -> None:
    promoted(tmp_path)
    final, rc = records(tmp_path)
    final.add_files([FileEntry("pypi/extra-1.0-py3-none-any.whl", "0" * 128, "wheel", "pypi")])
    assert voted_files(final, rc) == ["pypi/extra-1.0-py3-none-any.whl was not voted on"]


def test_publish_chooses_the_voted_files_after_a_promotion(tmp_path: Path) -> None:
    config = config_at(tmp_path)
    assert publish_mode(config, V("1.10.6")) is Mode.FROM_RELEASE  # promoted elsewhere, or not at all
    promoted(tmp_path)
    assert publish_mode(config, V("1.10.6")) is Mode.PROMOTED
    assert own_versions(config, V("1.10.6")) == {"sample-app": "1.10.6"}


def plan(root: Path, mode: Mode, **state: Any) -> ReleasePlan:
    return plan_release(config_at(root), V("1.10.6"), TargetState(**state), registry="r", mode=mode)


def test_runs_that_must_not_happen_are_refused_before_any_step(tmp_path: Path) -> None:
    config = config_at(tmp_path)
    with pytest.raises(RefusedError, match=r"neither promoted from a vote nor built and signed here: promote "
                                           r"it \(invoke promote --version 1\.10\.6 --from-rc RC\)"):
        check_can_run(plan(tmp_path, Mode.PUBLISH), config)
    with pytest.raises(RefusedError, match="was not promoted from a vote: invoke promote"):
        check_can_run(plan(tmp_path, Mode.PROMOTED), config)
    promoted(tmp_path)
    check_can_run(plan(tmp_path, Mode.PROMOTED), config)
    with pytest.raises(RefusedError, match=r"promoted from 1\.10\.6rc1: ship the voted files with invoke "
                                           r"publish --version 1\.10\.6"):
        check_can_run(plan(tmp_path, Mode.RELEASE), config)
    withdrawn = plan(tmp_path, Mode.PROMOTED, released=(V("1.10.6"),), withdrawn=frozenset({V("1.10.6")}))
    with pytest.raises(RefusedError, match=r"1\.10\.6 was withdrawn; it is never released again"):
        check_can_run(withdrawn, config)


# --- the announcement ----------------------------------------------------------------------------


def test_only_a_published_final_release_is_announced(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    with pytest.raises(RefusedError, match="pre-release: only final releases are announced"):
        check_published(record, V("1.10.6rc1"))
    with pytest.raises(RefusedError, match=r"not published yet \(upload, aliases, report not done\); "
                                           r"publish it first: invoke promote --version 1\.10\.6 "):
        check_published(record, V("1.10.6"))
    record.set_build(BuildInfo("c", 1, "f", "1.10.6", "notes"))
    with pytest.raises(RefusedError, match=r"first: invoke release --version 1\.10\.6$"):
        check_published(record, V("1.10.6"))
    record.set_promotion(PromotionInfo("1.10.6rc1", "d", "u", 3, "c"))
    record.step_done("upload")
    with pytest.raises(RefusedError, match=r"\(aliases, report not done\); publish it first: invoke publish"):
        check_published(record, V("1.10.6"))
    record.step_done("aliases")
    record.step_done("report")
    check_published(record, V("1.10.6"))
    record.set_withdrawal(WithdrawalInfo("CVE", "w", "withdrawn-1.10.6", {}, "i"))
    with pytest.raises(RefusedError, match=r"withdrawn \(CVE\); a withdrawn release is not announced"):
        check_published(record, V("1.10.6"))


def test_the_announcement_comes_from_the_record(tmp_path: Path) -> None:
    promoted(tmp_path)
    record = load_record(release_dir(tmp_path, "1.10.6"), "1.10.6")
    for tag in ("1.10.6", "1.10.6-python3.11", "latest", "1.10"):
        record.put_tag(TagEntry(tag, "3.11", "sha256:d", None, "create"))
    news = announcement(config_at(tmp_path, **{"announce-list": "announce@x"}), record,
                        keys_url="K", index_url="I", repository="r/sample-app")
    assert news.to == "announce@x" and news.release_notes == "notes"
    assert news.download_url == "svn://release/sample-app/1.10.6"
    assert news.distributions == (("sample-app", "1.10.6"),)
    assert [name for name, _ in news.files] == ["sample_app-1.10.6-py3-none-any.whl",
                                                "sample_app-1.10.6.tar.gz"]
    assert news.images == ("r/sample-app:1.10.6", "r/sample-app:1.10.6-python3.11", "r/sample-app:1.10",
                           "r/sample-app:latest")
    assert json.dumps(news.__dict__)
