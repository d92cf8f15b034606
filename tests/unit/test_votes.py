# SPDX-License-Identifier: Apache-2.0
"""Counting a PMC vote: the plain-text and mbox formats, the roster, and the ASF rules. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from release.errors import RefusedError
from release.votes import (
    MIN_BINDING_PLUS,
    VOTE_HOURS,
    Vote,
    count_votes,
    earliest_close,
    is_binding,
    parse_mbox,
    parse_plain,
    parse_roster,
    parse_time,
    parse_votes,
    split_mbox,
)

OPENED = datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)
ROSTER = ("jane@apache.org", "joe@apache.org", "ann", "Bob Stone")


def at(hours: float) -> datetime:
    return OPENED + timedelta(hours=hours)


def vote(who: str, value: int, hours: float | None = 1, *, says_binding: bool = False) -> Vote:
    name, _, address = who.partition("|")
    return Vote(name, address, value, None if hours is None else at(hours), says_binding)


PASSING = [vote("Jane|jane@apache.org", 1, 2), vote("Joe|joe@apache.org", 1, 10),
           vote("Ann|ann@apache.org", 1, 80)]


# --- the plain-text format -----------------------------------------------------------------------


def test_a_plain_vote_line_gives_vote_voter_time_and_comment() -> None:
    thread = parse_plain("+1  Jane Doe <Jane@Apache.org>  2026-11-27T09:12:00Z  checked sigs\n")
    [found] = thread.votes
    assert found == Vote("Jane Doe", "jane@apache.org", 1, datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc),
                         False, "checked sigs")
    assert found.voter == "Jane Doe <jane@apache.org>" and found.key == "jane@apache.org"
    assert thread.opened is None


@pytest.mark.parametrize(("line", "value", "name", "address", "binding"), [
    ("+1 jane@apache.org", 1, "", "jane@apache.org", False),
    ("-1 Bob Stone", -1, "Bob Stone", "", False),
    ("0 Ann", 0, "Ann", "", False),
    ("+0 Ann", 0, "Ann", "", False),
    ("-0 Ann", 0, "Ann", "", False),
    ("1 Ann", 1, "Ann", "", False),
    ("+1.0 Ann", 1, "Ann", "", False),
    ("+1 (binding) Jane Doe <jane@apache.org>", 1, "Jane Doe", "jane@apache.org", True),
    ("+1 Jane Doe <jane@apache.org> (binding)", 1, "Jane Doe", "jane@apache.org", True),
    ("+1 Jim (non-binding)", 1, "Jim", "", False),
    ("+1 Jim, non binding", 1, "Jim", "", False),
    ("  +1: Jim", 1, "Jim", "", False),
])
def test_plain_vote_lines(line: str, value: int, name: str, address: str, binding: bool) -> None:
    [found] = parse_plain(line).votes
    assert (found.value, found.name, found.address, found.says_binding) == (value, name, address, binding)
    assert found.when is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-27T09:12:00Z", datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc)),
    ("2026-11-27 09:12 UTC", datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc)),
    ("2026-11-27T09:12", datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc)),
    ("2026-11-27T09:12:30.5+01:00", datetime(2026, 11, 27, 8, 12, 30, tzinfo=timezone.utc)),
    ("2026-11-27 10:12 +0100", datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc)),
    ("2026-11-27T04:12-0500", datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc)),
    ("2026-11-27 09:12 gmt", datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc)),
])
def test_times_are_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected
    [found] = parse_plain(f"+1 jane@apache.org {text}").votes
    assert found.when == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00Z", "2026-11-27", "2026-02-30 10:00"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(RefusedError, match="time"):
        parse_time(text)


def test_comments_and_blank_lines_are_skipped() -> None:
    thread = parse_plain("# the vote on 1.10.6rc1\n\n+1 Ann\n   \n# -1 Bob\n")
    assert [v.name for v in thread.votes] == ["Ann"]


def test_a_line_that_is_not_a_vote_is_refused_with_its_number() -> None:
    with pytest.raises(RefusedError, match=r"votes.txt line 2: 'Jane says yes' is not a vote"):
        parse_plain("+1 Ann\nJane says yes\n", source="votes.txt")


def test_a_vote_without_a_voter_is_refused() -> None:
    with pytest.raises(RefusedError, match="line 1: the vote names no voter"):
        parse_plain("+1   2026-11-27T09:12:00Z\n")


def test_plus_ten_is_not_a_vote() -> None:
    with pytest.raises(RefusedError, match="is not a vote"):
        parse_plain("+10 Ann")


# --- mbox ----------------------------------------------------------------------------------------


def message(sender: str, date: str, subject: str, body: str) -> str:
    return (f"From {sender.split('<')[-1].rstrip('>')} Thu Nov 26 12:30:00 2026\n"
            f"From: {sender}\nDate: {date}\nSubject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n"
            f"{body}\n\n")


VOTE_MAIL = message("RM <rm@apache.org>", "Thu, 26 Nov 2026 12:30:00 +0000",
                    "[VOTE] Release Sample App 1.10.6 from 1.10.6rc1",
                    "Please vote:\n\n[ ] +1 approve the release\n[ ] -1 do not release\n")
THREAD = VOTE_MAIL + "".join([
    message("Jane Doe <jane@apache.org>", "Thu, 26 Nov 2026 14:30:00 +0000",
            "Re: [VOTE] Release Sample App 1.10.6 from 1.10.6rc1",
            "+1 (binding)\n\nChecked signatures.\n\n> [ ] +1 approve the release\n"),
    message("Jim <jim@example.org>", "Fri, 27 Nov 2026 09:00:00 +0100",
            "Re: [VOTE] Release Sample App 1.10.6 from 1.10.6rc1",
            "> -1 do not release\n\n+1 non-binding, built it on arm64\n"),
    message("Joe <JOE@apache.org>", "Sat, 28 Nov 2026 10:00:00 -0500",
            "Re: [VOTE] Release Sample App 1.10.6 from 1.10.6rc1", "Question: is the NOTICE right?\n"),
    message("Joe <JOE@apache.org>", "Sun, 29 Nov 2026 13:00:00 +0000",
            "Re: [VOTE] Release Sample App 1.10.6 from 1.10.6rc1", "-1 the NOTICE year is wrong\n"),
    message("RM <rm@apache.org>", "Sun, 29 Nov 2026 14:00:00 +0000",
            "[RESULT][VOTE] Release Sample App 1.10.6 from 1.10.6rc1", "+1 3 votes\n"),
])


def test_an_mbox_thread_gives_the_opening_and_each_replys_vote() -> None:
    thread = parse_mbox(THREAD)
    assert thread.opened == OPENED
    assert thread.subject == "[VOTE] Release Sample App 1.10.6 from 1.10.6rc1"
    assert [(v.voter, v.value, v.when, v.says_binding) for v in thread.votes] == [
        ("Jane Doe <jane@apache.org>", 1, at(2), True),
        ("Jim <jim@example.org>", 1, datetime(2026, 11, 27, 8, tzinfo=timezone.utc), False),
        ("Joe <joe@apache.org>", -1, datetime(2026, 11, 29, 13, tzinfo=timezone.utc), False),
    ]
    assert thread.votes[2].comment == "the NOTICE year is wrong"


def test_parse_votes_tells_an_mbox_from_plain_text() -> None:
    assert parse_votes(THREAD).opened == OPENED
    assert parse_votes("+1 Ann").votes[0].name == "Ann"


def test_split_mbox_keeps_every_message() -> None:
    assert len(split_mbox(THREAD)) == 6
    assert split_mbox("") == []


def test_the_earliest_vote_message_opens_the_vote() -> None:
    resent = message("RM <rm@apache.org>", "Fri, 27 Nov 2026 12:30:00 +0000",
                     "[VOTE] Release Sample App 1.10.6 from 1.10.6rc1 (resent)", "again\n")
    assert parse_mbox(resent + VOTE_MAIL).opened == OPENED


def test_a_message_without_a_date_has_no_time() -> None:
    text = message("Ann <ann@apache.org>", "not a date", "Re: [VOTE] x", "+1")
    [found] = parse_mbox(text).votes
    assert found.when is None


def test_an_html_only_message_has_no_vote() -> None:
    text = ("From a@b Thu Nov 26 12:30:00 2026\nFrom: a@b\nDate: Thu, 26 Nov 2026 14:30:00 +0000\n"
            "Subject: Re: [VOTE] x\nContent-Type: text/html\n\n<p>+1</p>\n")
    assert parse_mbox(text).votes == ()


# --- the roster ----------------------------------------------------------------------------------


def test_a_roster_file_has_one_voter_a_line_and_comments() -> None:
    roster = parse_roster("# PMC\njane@apache.org\n\n  Bob Stone  # chair\n")
    assert roster == ("jane@apache.org", "Bob Stone")


@pytest.mark.parametrize(("who", "binding"), [
    ("|jane@apache.org", True),  # by address
    ("Ann Other|ann@apache.org", True),  # by Apache id
    ("Anna|ann@example.org", False),  # the id counts only with an apache.org address
    ("bob stone|", True),  # by name, any case
    ("Jim|jim@example.org", False),
    ("|", False),
])
def test_binding_voters_are_found_by_address_id_or_name(who: str, binding: bool) -> None:
    assert is_binding(vote(who, 1), ROSTER) is binding


# --- counting and the rules ----------------------------------------------------------------------


def test_three_binding_plus_ones_over_72_hours_pass() -> None:
    tally = count_votes(PASSING, ROSTER, opened=OPENED)
    assert tally.passed and tally.reasons == ()
    assert tally.closed == at(80) and tally.hours_open == 80
    assert tally.count(1, binding=True) == 3


def test_too_early() -> None:
    votes = [*PASSING[:2], vote("Ann|ann@apache.org", 1, 71.9)]
    tally = count_votes(votes, ROSTER, opened=OPENED)
    assert tally.too_early and not tally.passed
    assert tally.reasons == (f"it was open 71.9 hours, less than {VOTE_HOURS}",)


def test_closed_at_counts_for_the_hours_open() -> None:
    votes = [*PASSING[:2], vote("Ann|ann@apache.org", 1, 5)]
    assert count_votes(votes, ROSTER, opened=OPENED).too_early
    assert count_votes(votes, ROSTER, opened=OPENED, closed_at=at(VOTE_HOURS)).passed


def test_too_few_binding_votes() -> None:
    votes = [*PASSING[:2], vote("Jim|jim@example.org", 1, 80), vote("Kim|kim@example.org", 1, 81)]
    tally = count_votes(votes, ROSTER, opened=OPENED)
    assert tally.reasons == (f"2 binding +1 votes, at least {MIN_BINDING_PLUS} are needed",)
    assert tally.count(1, binding=False) == 2


def test_a_binding_minus_one_majority() -> None:
    votes = [*PASSING, vote("Bob Stone|", -1, 85), vote("|joe@apache.org", -1, 86),
             vote("Ann|ann@apache.org", -1, 87), vote("Jane|jane@apache.org", -1, 88)]
    tally = count_votes(votes, ROSTER, opened=OPENED)
    assert tally.count(1, binding=True) == 0 and tally.count(-1, binding=True) == 4
    assert "4 binding -1 against 0 binding +1: more binding +1 than -1 are needed" in tally.reasons


def test_a_tie_fails_and_a_binding_minus_one_minority_passes() -> None:
    four = [*PASSING, vote("Bob Stone|", 1, 3)]
    minority = count_votes([*four, vote("|joe@apache.org", -1, 90)], ("jane@apache.org", "joe@apache.org",
                           "ann", "Bob Stone", "kim@apache.org"), opened=OPENED)
    assert minority.count(1, binding=True) == 3 and minority.count(-1, binding=True) == 1 and minority.passed
    roster = (*ROSTER, "kim@apache.org", "lee@apache.org", "max@apache.org")
    tie = [*PASSING, vote("|kim@apache.org", -1, 4), vote("|lee@apache.org", -1, 5),
           vote("|max@apache.org", -1, 6)]
    assert count_votes(tie, roster, opened=OPENED).reasons == (
        "3 binding -1 against 3 binding +1: more binding +1 than -1 are needed",)


def test_every_failed_rule_is_given() -> None:
    tally = count_votes([vote("|jane@apache.org", -1, 2)], ROSTER, opened=OPENED)
    assert len(tally.reasons) == 3


def test_each_voters_last_vote_counts() -> None:
    votes = [vote("|jane@apache.org", -1, 1), *PASSING[1:], vote("Jane|JANE@apache.org".lower(), 1, 90)]
    tally = count_votes(votes, ROSTER, opened=OPENED)
    assert tally.count(-1, binding=True) == 0 and tally.passed
    assert len(tally.binding) == 3


def test_the_last_vote_is_the_latest_in_time_not_in_the_file() -> None:
    votes = [vote("|jane@apache.org", 1, 50), vote("|jane@apache.org", -1, 10), *PASSING[1:]]
    tally = count_votes(votes, ROSTER, opened=OPENED)
    assert tally.count(1, binding=True) == 3


def test_votes_after_the_close_are_not_counted() -> None:
    votes = [*PASSING, vote("|joe@apache.org", -1, 100)]
    tally = count_votes(votes, ROSTER, opened=OPENED, closed_at=at(90))
    assert tally.passed and [v.address for v in tally.late] == ["joe@apache.org"]


def test_saying_binding_does_not_make_a_vote_binding() -> None:
    votes = [*PASSING[:2], vote("Jim|jim@example.org", 1, 80, says_binding=True)]
    tally = count_votes(votes, ROSTER, opened=OPENED)
    assert not tally.passed and [v.voter for v in tally.claimed] == ["Jim <jim@example.org>"]


def test_votes_without_times_need_a_closed_at() -> None:
    votes = [vote("|jane@apache.org", 1, None), vote("|joe@apache.org", 1, None), vote("Ann|", 1, None)]
    with pytest.raises(RefusedError, match="pass --closed-at"):
        count_votes(votes, ROSTER, opened=OPENED)
    tally = count_votes(votes, ROSTER, opened=OPENED, closed_at=at(73))
    assert tally.passed and tally.late == ()


def test_zero_votes_count_for_nothing() -> None:
    tally = count_votes([*PASSING, vote("Bob Stone|", 0, 4)], ROSTER, opened=OPENED)
    assert tally.passed and tally.count(0, binding=True) == 1


def test_naive_times_are_utc() -> None:
    tally = count_votes(PASSING, ROSTER, opened=OPENED.replace(tzinfo=None))
    assert tally.opened == OPENED


def test_the_mbox_thread_counted() -> None:
    thread = parse_mbox(THREAD)
    tally = count_votes(thread.votes, ROSTER, opened=thread.opened or OPENED)
    assert [v.voter for v in tally.binding] == ["Jane Doe <jane@apache.org>", "Joe <joe@apache.org>"]
    assert tally.hours_open == pytest.approx(72.5)
    assert not tally.passed


def test_earliest_close() -> None:
    assert earliest_close(OPENED) == at(72)
