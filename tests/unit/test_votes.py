# SPDX-License-Identifier: Apache-2.0
"""Counting a PMC vote: what a vote line is, the plain-text format, the window, the roster and the
ASF rules, and the replies the release manager must read. Pure."""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta, timezone
from types import FrameType

import pytest

from release.errors import RefusedError
from release.roster import Roster
from release.votes import (
    MIN_BINDING_PLUS,
    VOTE_HOURS,
    Review,
    Tally,
    Vote,
    count_votes,
    earliest_close,
    normalise,
    parse_decision,
    parse_plain,
    parse_time,
    read_vote,
)

OPENED = datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 7, tzinfo=timezone.utc)
ROSTER = Roster.of(("jane@apache.org", "joe@apache.org", "ann", "bob"))


def at(hours: float) -> datetime:
    return OPENED + timedelta(hours=hours)


def vote(who: str, value: int, hours: float | None = 1, *, says_binding: bool = False,
         thread: bool = False) -> Vote:
    name, _, address = who.partition("|")
    return Vote(name, address, value, None if hours is None else at(hours), says_binding,
                from_thread=thread, timed_by="From line" if thread and hours is not None else "")


def count(votes: list[Vote], *, closed_at: datetime | None = None, unread: Sequence[Review] = (),
          decisions: dict[str, int | None] | None = None) -> Tally:
    return count_votes(votes, ROSTER, opened=OPENED, now=NOW, closed_at=closed_at, unread=unread,
                       decisions=decisions)


PASSING = [vote("Jane|jane@apache.org", 1, 2), vote("Joe|joe@apache.org", 1, 10),
           vote("Ann|ann@apache.org", 1, 80)]


# --- what a vote is --------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "value"), [
    ("+1", 1), ("-1", -1), ("0", 0), ("+0", 0), ("-0", 0), ("+1.0", 1), ("+1 (binding)", 1),
    ("+1, checked the signatures", 1), ("-1: the NOTICE is wrong", -1), ("+1.", 1), ("+1!", 1),
    ("+1(binding)", 1), ("  -1 ", -1),
    ("\u22121 (binding)", -1),  # MINUS SIGN
    ("\u20131", -1),  # EN DASH
    ("\u20141", -1),  # EM DASH
    ("\u20121", -1),  # FIGURE DASH
    ("\uff0b\uff11", 1),  # FULLWIDTH PLUS and ONE
    ("\ufe631", -1),  # SMALL HYPHEN-MINUS
    ("\u200b+1", 1),  # a ZERO WIDTH SPACE before it
])
def test_an_explicit_sign_is_a_vote_whatever_dash_or_minus_is_used(line: str, value: int) -> None:
    found = read_vote(normalise(line))
    assert found is not None and found.value == value


@pytest.mark.parametrize("line", [
    "1) the LICENSE is missing", "1 the LICENSE is missing", "1", "0) first point", "+10", "-12", "0.5 is",
    "+1-ish", "+ 1", "I am +1", "[ ] +1 approve the release", "> +1", "2", "-",
])
def test_anything_else_is_not_a_vote(line: str) -> None:
    assert read_vote(normalise(line)) is None


def test_binding_is_read_after_the_sign() -> None:
    found = [read_vote(line) for line in ("+1 (binding)", "+1 (non-binding)", "+1 non binding")]
    assert [v.says_binding if v else None for v in found] == [True, False, False]


# --- the plain-text format -------------------------------------------------------------------------


def test_a_plain_vote_line_gives_vote_voter_time_and_comment() -> None:
    thread = parse_plain("+1  Jane Doe <Jane@Apache.org>  2026-11-27T09:12:00Z  checked sigs\n")
    [found] = thread.votes
    assert found == Vote("Jane Doe", "jane@apache.org", 1, datetime(2026, 11, 27, 9, 12, tzinfo=timezone.utc),
                         False, "checked sigs")
    assert found.voter == "Jane Doe <jane@apache.org>" and found.key == "jane@apache.org"
    assert thread.opened is None and not found.from_thread


@pytest.mark.parametrize(("line", "value", "name", "address", "binding"), [
    ("+1 jane@apache.org", 1, "", "jane@apache.org", False),
    ("-1 Bob Stone", -1, "Bob Stone", "", False),
    ("0 Ann", 0, "Ann", "", False),
    ("+0 Ann", 0, "Ann", "", False),
    ("-0 Ann", 0, "Ann", "", False),
    ("+1.0 Ann", 1, "Ann", "", False),
    ("\u22121 Ann", -1, "Ann", "", False),
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


@pytest.mark.parametrize("line", ["+10 Ann", "1 Ann", "1) Ann"])
def test_a_number_without_its_sign_is_not_a_vote(line: str) -> None:
    with pytest.raises(RefusedError, match="is not a vote"):
        parse_plain(line)


@contextmanager
def limit(seconds: int) -> Iterator[None]:
    """Interrupt what runs inside after `seconds` (a bound on a hang, never a measurement)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still parsing after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("filler", ["a", "2026-11-27T", "x.y", "<a@", "a@", "@", "(", " ", "-"])
def test_a_long_vote_line_is_read_in_linear_time(filler: str) -> None:
    """200,000 characters: read at once in linear time, hours when each character is read again for
    every later one (a 20,000-character line took 2.6 s). The limit only catches that hang; the
    times themselves are in `nox -s bench` (section votes)."""
    line = "+1 " + filler * (200_000 // len(filler))
    with limit(20), suppress(RefusedError):  # a line naming no voter is refused, in linear time too
        parse_plain(line)


# --- the roster and binding votes ------------------------------------------------------------------


def test_binding_is_by_address_or_apache_id_never_by_name() -> None:
    votes = [vote("jane@apache.org|x@evil.example", 1, 2), vote("ann|y@evil.example", 1, 3),
             vote("Joe|z@evil.example", 1, 4), vote("Jane Doe|", 1, 5), vote("Anna|ann@example.org", 1, 6)]
    tally = count(votes)
    assert tally.binding == ()
    tally = count([vote("Ann Other|ann@apache.org", 1, 2), vote("|JANE@apache.org".lower(), 1, 3)])
    assert [v.address for v in tally.binding] == ["ann@apache.org", "jane@apache.org"]


def test_a_member_voting_from_two_addresses_counts_once_with_the_last_vote() -> None:
    roster = Roster.of(["jane, Jane Doe <jane.doe@home.example>", "joe", "ann"])
    votes = [vote("Jane|jane@apache.org", 1, 2), vote("Jane|jane.doe@home.example", 1, 3),
             vote("Joe|joe@apache.org", 1, 4)]
    tally = count_votes(votes, roster, opened=OPENED, now=NOW, closed_at=at(73))
    assert len(tally.binding) == 2 and tally.count(1, binding=True) == 2 and not tally.passed
    changed = count_votes([*votes, vote("Jane|jane@apache.org", -1, 5)], roster, opened=OPENED, now=NOW,
                          closed_at=at(73))
    assert changed.count(-1, binding=True) == 1 and changed.count(1, binding=True) == 1
    assert changed.changed == ("Jane <jane@apache.org>: +1, then -1",)


# --- the window ------------------------------------------------------------------------------------


def test_three_binding_plus_ones_over_72_hours_pass() -> None:
    tally = count(PASSING)
    assert tally.passed and tally.reasons == ()
    assert tally.closed == at(80) and tally.hours_open == 80
    assert tally.count(1, binding=True) == 3


def test_too_early() -> None:
    tally = count_votes([*PASSING[:2], vote("Ann|ann@apache.org", 1, 71.9)], ROSTER, opened=OPENED, now=NOW)
    assert tally.too_early and not tally.passed
    assert tally.reasons == (f"it was open 71.9 hours, less than {VOTE_HOURS}",)


def test_closed_at_counts_for_the_hours_open() -> None:
    votes = [*PASSING[:2], vote("Ann|ann@apache.org", 1, 5)]
    assert count_votes(votes, ROSTER, opened=OPENED, now=NOW).too_early
    assert count_votes(votes, ROSTER, opened=OPENED, now=NOW, closed_at=at(VOTE_HOURS)).passed


def test_a_vote_dated_after_now_neither_closes_the_vote_nor_counts() -> None:
    in_2099 = Vote("Kim", "kim@example.org", 1, datetime(2099, 1, 1, tzinfo=timezone.utc), timed_by="Date",
                   from_thread=True)
    votes = [*PASSING[:2], vote("Ann|ann@apache.org", 1, 5), in_2099]
    tally = count_votes(votes, ROSTER, opened=OPENED, now=NOW)
    assert tally.closed == at(10) and tally.too_early
    assert [r.why for r in tally.review] == [
        "+1 not counted: dated 2099-01-01 00:00 UTC (by its Date), after now"]
    binding_2099 = count_votes([*PASSING, vote("Joe|joe@apache.org", -1, 24 * 365 * 73, thread=True)], ROSTER,
                               opened=OPENED, now=NOW)
    assert binding_2099.closed == at(80) and not binding_2099.passed
    assert [r.address for r in binding_2099.needs_reading] == ["joe@apache.org"]


def test_a_vote_of_the_thread_without_a_time_is_listed_never_counted() -> None:
    untimed = vote("Bob|bob@apache.org", 1, None, thread=True)
    tally = count_votes([*PASSING[:2], untimed], ROSTER, opened=OPENED, now=NOW, closed_at=at(73))
    assert tally.count(1, binding=True) == 2 and not tally.passed
    [listed] = tally.review
    assert listed.binding and listed.needs_reading and "no time" in listed.why
    assert tally.reasons[-1] == ("replies of binding voters need reading (bob@apache.org): say how each "
                                 "counts with --count ADDRESS=+1|0|-1|none")


def test_votes_before_the_opening_are_listed_not_counted() -> None:
    early = vote("Bob|bob@apache.org", -1, -5)
    tally = count([*PASSING, early])
    assert tally.passed and tally.count(-1, binding=True) == 0
    [listed] = tally.review
    assert listed.why == ("-1 not counted: dated 2026-11-26 07:30 UTC, before the vote opened at "
                          "2026-11-26 12:30 UTC")
    assert not listed.needs_reading  # outside the window: the rules count nothing there


def test_votes_after_the_close_are_not_counted() -> None:
    tally = count([*PASSING, vote("|joe@apache.org", -1, 100)], closed_at=at(90))
    assert tally.passed and [v.address for v in tally.late] == ["joe@apache.org"]


def test_the_release_managers_list_without_times_needs_a_closed_at() -> None:
    votes = [vote(f"|{who}@apache.org", 1, None) for who in ("jane", "joe", "ann")]
    with pytest.raises(RefusedError, match="pass --closed-at"):
        count(votes)
    tally = count(votes, closed_at=at(73))
    assert tally.passed and tally.late == () and tally.review == ()


def test_naive_times_are_utc() -> None:
    assert count_votes(PASSING, ROSTER, opened=OPENED.replace(tzinfo=None), now=NOW).opened == OPENED


# --- the rules -------------------------------------------------------------------------------------


def test_too_few_binding_votes() -> None:
    tally = count([*PASSING[:2], vote("Jim|jim@example.org", 1, 80), vote("Kim|kim@example.org", 1, 81)])
    assert tally.reasons == (f"2 binding +1 votes, at least {MIN_BINDING_PLUS} are needed",)
    assert tally.count(1, binding=False) == 2


def test_a_binding_minus_one_majority() -> None:
    votes = [*PASSING, vote("|bob@apache.org", -1, 85), vote("|joe@apache.org", -1, 86),
             vote("Ann|ann@apache.org", -1, 87), vote("Jane|jane@apache.org", -1, 88)]
    tally = count(votes)
    assert tally.count(1, binding=True) == 0 and tally.count(-1, binding=True) == 4
    assert "4 binding -1 against 0 binding +1: more binding +1 than -1 are needed" in tally.reasons


def test_a_tie_fails_and_a_binding_minus_one_minority_passes() -> None:
    four = [*PASSING, vote("|bob@apache.org", 1, 3)]
    minority = count([*four, vote("|joe@apache.org", -1, 90)])
    assert minority.count(1, binding=True) == 3 and minority.count(-1, binding=True) == 1
    assert minority.passed
    roster = Roster.of(("jane@apache.org", "joe@apache.org", "ann", "kim", "lee", "max"))
    tie = [*PASSING, *(vote(f"|{who}@apache.org", -1, 4) for who in ("kim", "lee", "max"))]
    assert count_votes(tie, roster, opened=OPENED, now=NOW).reasons == (
        "3 binding -1 against 3 binding +1: more binding +1 than -1 are needed",)


def test_every_failed_rule_is_given() -> None:
    assert len(count([vote("|jane@apache.org", -1, 2)]).reasons) == 3


def test_the_last_vote_is_the_latest_in_time_not_in_the_file() -> None:
    votes = [vote("|jane@apache.org", 1, 50), vote("|jane@apache.org", -1, 10), *PASSING[1:]]
    assert count(votes).count(1, binding=True) == 3


def test_saying_binding_does_not_make_a_vote_binding() -> None:
    tally = count([*PASSING[:2], vote("Jim|jim@example.org", 1, 80, says_binding=True)])
    assert not tally.passed and [v.voter for v in tally.claimed] == ["Jim <jim@example.org>"]


def test_zero_votes_count_for_nothing() -> None:
    tally = count([*PASSING, vote("|bob@apache.org", 0, 4)])
    assert tally.passed and tally.count(0, binding=True) == 1


def test_earliest_close() -> None:
    assert earliest_close(OPENED) == at(72)


# --- replies to read, and the release manager's decisions ------------------------------------------


def unread(who: str, hours: float | None, why: str = "no vote in it") -> Review:
    name, _, address = who.partition("|")
    return Review(name, address, None if hours is None else at(hours), why, "1) the LICENSE is missing")


def test_an_unread_reply_of_a_binding_voter_holds_the_vote() -> None:
    votes = [*PASSING, vote("|bob@apache.org", 1, 3)]
    tally = count(votes, unread=[unread("Bob|bob@apache.org", 20)])
    assert not tally.passed and [r.address for r in tally.needs_reading] == ["bob@apache.org"]
    outsider = count(votes, unread=[unread("Jim|jim@example.org", 20)])
    assert outsider.passed and outsider.review[0].needs_reading is False


def test_a_later_vote_of_the_same_member_outdates_an_unread_reply() -> None:
    tally = count([*PASSING, vote("|bob@apache.org", -1, 30)], unread=[unread("Bob|bob@apache.org", 20)])
    assert tally.review[0].binding and not tally.review[0].needs_reading
    assert tally.count(-1, binding=True) == 1 and tally.passed


def test_unread_replies_outside_the_window_do_not_hold_the_vote() -> None:
    tally = count(PASSING, unread=[unread("Bob|bob@apache.org", -3), unread("Bob|bob@apache.org", 95)],
                  closed_at=at(90))
    assert tally.passed and len(tally.review) == 2


def test_the_release_manager_says_how_a_voter_counts() -> None:
    reply = unread("Bob|bob@apache.org", 20)
    minus = count(PASSING, unread=[reply], decisions={"bob@apache.org": -1})
    assert minus.passed and minus.count(-1, binding=True) == 1
    assert minus.decided == (("bob@apache.org", "-1"),) and not minus.needs_reading
    none = count([*PASSING, vote("|bob@apache.org", -1, 5)], unread=[reply],
                 decisions={"bob@apache.org": None})
    assert none.count(-1, binding=True) == 0 and none.decided == (("bob@apache.org", "none"),)
    replaced = count(PASSING[:2], unread=[unread("Ann|ann@apache.org", 20)], decisions={"ann@apache.org": 1},
                     closed_at=at(80))
    assert replaced.passed and replaced.count(1, binding=True) == 3


def test_a_decision_names_someone_who_replied() -> None:
    with pytest.raises(RefusedError, match=r"--count kim@apache.org: no reply from kim@apache.org in the "):
        count(PASSING, decisions={"kim@apache.org": 1})


@pytest.mark.parametrize(("text", "expected"), [
    ("jane@apache.org=+1", ("jane@apache.org", 1)), ("Jane@Apache.org=-1", ("jane@apache.org", -1)),
    ("jane@apache.org=0", ("jane@apache.org", 0)), ("jane@apache.org=none", ("jane@apache.org", None)),
    ("jane@apache.org=-0", ("jane@apache.org", 0)),
])
def test_count_options(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_decision(text) == expected


@pytest.mark.parametrize("text", ["jane@apache.org", "jane=+1", "jane@apache.org=+2", "=+1",
                                  "jane@apache.org=yes"])
def test_bad_count_options(text: str) -> None:
    with pytest.raises(RefusedError, match=r"give ADDRESS=\+1, ADDRESS=0, ADDRESS=-1 or ADDRESS=none"):
        parse_decision(text)
