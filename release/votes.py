# SPDX-License-Identifier: Apache-2.0
"""Counting a PMC vote by the ASF rules. Pure: votes in, a tally out.

The rules (https://www.apache.org/foundation/voting.html): the vote is open at least 72 hours, and
passes with at least three binding +1 and more binding +1 than binding -1. A vote is binding when
it is sent from the address of a binding voter (release/roster.py); a name, or saying "binding",
never makes it so. Each voter's last vote counts, a binding voter's across all their addresses.

The votes come from the release manager's plain-text list or from an mbox export of the `[VOTE]`
thread (release/vote_thread.py). Plain-text format, one vote a line (`#` starts a comment line):

    VOTE  VOTER  [WHEN]  [comment]
    +1  Jane Doe <jane@apache.org>  2026-11-27T09:12:00Z
    -1  bob@example.org  2026-11-28 10:00 UTC  the NOTICE file is wrong

VOTE is an explicit sign: +1, -1, +0, -0 or 0 (a bare `1` is not a vote); VOTER an address, with or
without a name (a name alone is never binding); WHEN an ISO 8601 time (UTC when no offset is given).

Counted are the votes cast between the opening (never before the candidate was staged) and the
close (`--closed-at`, else the last vote counted). A vote dated after now, one from an mbox with no
readable time, and every reply of the thread that does not say one vote plainly are not counted:
they are listed for the release manager to read, and while one of a binding voter's is unread the
vote does not pass. The release manager says how such a voter counts (`--count ADDRESS=+1|0|-1|none`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from release.errors import RefusedError
from release.roster import Roster

VOTE_HOURS = 72
MIN_BINDING_PLUS = 3

# An explicit sign, then the end of the line, a space or punctuation: never part of a number
# (`+10`, `0.5`) or a list marker (`0)`).
_SIGN = re.compile(r"\s*(?P<vote>[+-][01]|0)(?:\.0)?(?=$|[\s,;:!(\[/]|\.(?:\s|$))")
_WHEN = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})?", re.I)
# An address starts where a word starts and holds one @: each character is looked at a bounded
# number of times, so a long line without one is read in linear time.
_ADDRESS = re.compile(r"<(?P<bracketed>[^<>\s@]+@[^<>\s@]+)>"
                      r"|(?<![^\s<>(),;])(?P<bare>[^\s<>(),;@]+@[^\s<>(),;@]+)")
_BINDING = re.compile(r"\b(non[- ]?)?binding\b", re.I)
# Dashes and minus signs that mail clients and keyboards put where `-` was meant; NFKC already
# folds the full-width and small forms of `+` and `-`.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58"), "-")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"), None)
_PLAIN = {**_DASHES, **_INVISIBLE}

DECISIONS = {"+1": 1, "-1": -1, "0": 0, "+0": 0, "-0": 0, "none": None}


def normalise(text: str) -> str:
    """`text` with the look-alikes of `+`, `-` and digits made plain, and invisible marks removed."""
    return unicodedata.normalize("NFKC", text).translate(_PLAIN)


@dataclass(frozen=True)
class VoteLine:
    value: int  # +1, 0 or -1
    says_binding: bool
    rest: str  # what follows the sign


def read_vote(line: str) -> VoteLine | None:
    """The vote a line starts with (after `normalise`), or None when it does not start with one."""
    found = _SIGN.match(line)
    if found is None:
        return None
    rest = line[found.end():]
    return VoteLine(int(found["vote"]), _says_binding(rest), rest.strip())


def _says_binding(text: str) -> bool:
    found = _BINDING.search(text)
    return found is not None and not found.group(1)


@dataclass(frozen=True)
class Vote:
    name: str
    address: str  # lower case; "" when a plain-text vote gives none
    value: int  # +1, 0 or -1
    when: datetime | None  # UTC; None when it gives no time
    says_binding: bool = False  # the voter wrote "(binding)"
    comment: str = ""
    timed_by: str = ""  # mbox: what gave the time (`From line`, `Received`, `Date`, or "" when nothing did)
    from_thread: bool = False  # read from an mbox export (else the release manager's list)

    @property
    def voter(self) -> str:
        if self.name and self.address:
            return f"{self.name} <{self.address}>"
        return self.name or self.address

    @property
    def key(self) -> str:
        """Who cast it, outside the roster: one voter's later vote replaces the earlier one."""
        return self.address or self.name.casefold()


@dataclass(frozen=True)
class Review:
    """A reply not counted as it stands: listed for the release manager to read."""

    name: str
    address: str
    when: datetime | None
    why: str
    excerpt: str = ""  # its first lines, as they were read
    binding: bool = False  # from a binding voter's address
    needs_reading: bool = False  # a binding voter's, not outdated by a later vote: the vote waits for it

    @property
    def voter(self) -> str:
        return Vote(self.name, self.address, 0, None).voter


@dataclass(frozen=True)
class Thread:
    votes: tuple[Vote, ...]
    opened: datetime | None = None  # the [VOTE] message's time, when the export has it
    subject: str = ""  # the [VOTE] message's subject
    unread: tuple[Review, ...] = ()  # replies in the thread that do not say one vote plainly
    outside: int = 0  # messages of the export that are not replies to this candidate's [VOTE]
    roots: tuple[str, ...] = ()  # the [VOTE] messages of this candidate: `subject (sender, time)`


@dataclass(frozen=True)
class Tally:
    opened: datetime
    closed: datetime
    binding: tuple[Vote, ...]  # the counted votes, each voter's last
    non_binding: tuple[Vote, ...]
    claimed: tuple[Vote, ...] = ()  # said "binding" but are not binding voters: counted as non-binding
    late: tuple[Vote, ...] = ()  # cast after the close: not counted
    review: tuple[Review, ...] = ()  # not counted as they stand: for the release manager to read
    decided: tuple[tuple[str, str], ...] = ()  # (voter, +1|0|-1|none) as the release manager counted them
    changed: tuple[str, ...] = ()  # voters whose last vote differs from an earlier one
    hours: int = VOTE_HOURS  # how long the vote must stay open (a train's policy may ask for more)
    needed: int = MIN_BINDING_PLUS  # the binding +1 votes it needs at least

    @property
    def hours_open(self) -> float:
        return (self.closed - self.opened).total_seconds() / 3600

    def count(self, value: int, *, binding: bool) -> int:
        return sum(1 for v in (self.binding if binding else self.non_binding) if v.value == value)

    @property
    def needs_reading(self) -> tuple[Review, ...]:
        return tuple(r for r in self.review if r.needs_reading)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The ASF rules this vote fails, and unread binding replies, one line each; empty when it passes."""
        found = []
        if self.hours_open < self.hours:
            found.append(f"it was open {self.hours_open:.1f} hours, less than {self.hours}")
        plus, minus = self.count(1, binding=True), self.count(-1, binding=True)
        if plus < self.needed:
            found.append(f"{plus} binding +1 vote{'s' if plus != 1 else ''}, at least {self.needed} "
                         "are needed")
        if plus <= minus:
            found.append(f"{minus} binding -1 against {plus} binding +1: more binding +1 than -1 are needed")
        unread = sorted({r.address for r in self.needs_reading})
        if unread:
            found.append(f"replies of binding voters need reading ({', '.join(unread)}): say how each "
                         "counts with --count ADDRESS=+1|0|-1|none")
        return tuple(found)

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def too_early(self) -> bool:
        return self.hours_open < self.hours


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is taken as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time like `2026-11-29T13:00Z` or `2026-11-29 13:00 UTC`; naive means UTC."""
    found = _WHEN.fullmatch(text.strip())
    if found is None:
        raise RefusedError(f"{text!r} is not a time like 2026-11-29T13:00:00Z")
    return _when(found)


def _when(found: re.Match[str]) -> datetime:
    zone = (found["zone"] or "").upper()
    offset = "+00:00" if zone in {"", "Z", "UTC", "GMT"} else zone
    if len(offset) == 5:  # +0100
        offset = f"{offset[:3]}:{offset[3:]}"
    clock = found["time"] if found["time"].count(":") == 2 else f"{found['time']}:00"
    try:
        return utc(datetime.fromisoformat(f"{found['date']}T{clock}{offset}"))
    except ValueError:
        raise RefusedError(f"{found.group(0)!r} is not a valid time") from None


def parse_decision(text: str) -> tuple[str, int | None]:
    """`--count ADDRESS=+1|0|-1|none`: (address, the vote to count, None for no vote)."""
    address, _, value = text.partition("=")
    address = address.strip().lower()
    if not _ADDRESS.fullmatch(address) or value.strip().lower() not in DECISIONS:
        raise RefusedError(f"--count {text!r}: give ADDRESS=+1, ADDRESS=0, ADDRESS=-1 or ADDRESS=none, "
                           "e.g. --count jane@apache.org=+1")
    return address, DECISIONS[value.strip().lower()]


def _voter(text: str) -> tuple[str, str]:
    """(name, address) from `Jane Doe <jane@apache.org>`, `jane@apache.org` or `Jane Doe`."""
    found = _ADDRESS.search(text)
    address = (found["bracketed"] or found["bare"]).lower() if found else ""
    name = (text[:found.start()] + text[found.end():]) if found else text
    name = _BINDING.sub("", name)
    name = re.sub(r"[()\[\]]", " ", name)
    return " ".join(name.split()).strip(" :,;-"), address


def parse_plain(text: str, *, source: str = "votes") -> Thread:
    """Votes from the plain-text format; a line that is not a vote is refused, naming it."""
    votes = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = normalise(line).strip()
        if not stripped or stripped.startswith("#"):
            continue
        vote = read_vote(stripped)
        if vote is None:
            raise RefusedError(f"{source} line {number}: {stripped[:60]!r} is not a vote; write "
                               "`+1 Jane Doe <jane@apache.org> 2026-11-27T09:12:00Z`")
        rest = vote.rest
        when_found = _WHEN.search(rest)
        moment = _when(when_found) if when_found else None
        who, comment = (rest[:when_found.start()], rest[when_found.end():]) if when_found else (rest, "")
        name, address = _voter(who)
        if not (name or address):
            raise RefusedError(f"{source} line {number}: the vote names no voter")
        votes.append(Vote(name, address, vote.value, moment, _says_binding(who), comment.strip()))
    return Thread(tuple(votes))


def _sign(value: int | None) -> str:
    return "none" if value is None else (f"{value:+d}" if value else "0")


def count_votes(votes: Sequence[Vote], roster: Roster | Iterable[str], *, opened: datetime,
                closed_at: datetime | None = None, now: datetime | None = None,
                unread: Iterable[Review] = (), decisions: Mapping[str, int | None] | None = None,
                hours: int = VOTE_HOURS, needed: int = MIN_BINDING_PLUS) -> Tally:
    """Each voter's last vote between `opened` and the close, split by the roster.

    The close is `closed_at`, else the last reply in the window. Votes dated after `now` (default: the
    clock), votes of the thread with no time and votes from before the opening are not counted:
    they are listed for review with the `unread` replies. `decisions` (address -> vote, None for no
    vote) is how the release manager counts a voter after reading; it replaces that voter's votes.
    RefusedError when the close cannot be told (votes from the release manager's list carry no
    time and no `closed_at` is given), or a decision names no one who replied.
    """
    opened = utc(opened)
    moment = utc(now) if now is not None else datetime.now(timezone.utc)
    if not isinstance(roster, Roster):
        roster = Roster.of(roster)

    def who(address: str, key: str) -> str:
        return roster.member(address) or key

    review: list[Review] = []
    window: list[Vote] = []
    for vote in votes:
        if vote.when is None and vote.from_thread:
            why = "no time: the export gives none for it and its Date header does not parse"
        elif vote.when is not None and vote.when > moment:
            why = f"dated {when(vote.when)} (by its {vote.timed_by or 'line'}), after now"
        elif vote.when is not None and vote.when < opened:
            why = f"dated {when(vote.when)}, before the vote opened at {when(opened)}"
        else:
            window.append(vote)
            continue
        review.append(Review(vote.name, vote.address, vote.when, f"{_sign(vote.value)} not counted: {why}",
                             vote.comment))
    unread = [*review, *unread]
    # without a close, the vote closes at the last reply of the window, a vote or one to read
    times = [v.when for v in window if v.when is not None] + \
            [r.when for r in unread if r.when is not None and opened <= r.when <= moment]
    if closed_at is not None:
        closed = utc(closed_at)
    elif times:
        closed = max(times)
    elif window:
        raise RefusedError("the votes carry no times: pass --closed-at with the time the vote closed")
    else:
        closed = moment  # nothing to count: the count closes now
    counted = [v for v in window if v.when is None or v.when <= closed]
    late = tuple(v for v in window if v.when is not None and v.when > closed)

    last: dict[str, Vote] = {}
    changed = []
    for index in sorted(range(len(counted)), key=lambda i: (counted[i].when or opened, i)):
        vote = counted[index]
        key = who(vote.address, vote.key)
        earlier = last.pop(key, None)
        if earlier is not None and earlier.value != vote.value:
            changed.append(f"{vote.voter}: {_sign(earlier.value)}, then {_sign(vote.value)}")
        last[key] = vote

    decided: dict[str, tuple[str, int | None]] = {}  # voter -> (address as given, the vote counted)
    for address, value in (decisions or {}).items():
        key = who(address, address)
        names = [v.name for v in votes if who(v.address, v.key) == key] + \
                [r.name for r in unread if r.address and who(r.address, r.address) == key]
        if not names:
            raise RefusedError(f"--count {address}: no reply from {address} in the votes; name a voter "
                               "whose reply you read")
        last.pop(key, None)
        if value is not None:
            last[key] = Vote(names[-1], address, value, None,
                             comment="as the release manager counted it (--count)")
        decided[key] = (address, value)

    listed = []
    for item in unread:
        member = roster.member(item.address)
        later = last.get(member) if member else None
        outdated = (item.when is not None and later is not None and later.when is not None
                    and later.when > item.when)
        outside = item.when is not None and (item.when < opened or (
            closed_at is not None and utc(closed_at) < item.when <= moment))
        listed.append(replace(item, binding=member is not None,
                              needs_reading=member is not None and member not in decided
                              and not outdated and not outside))

    binding = tuple(v for k, v in last.items() if roster.member(k) is not None)
    others = tuple(v for k, v in last.items() if roster.member(k) is None)
    return Tally(opened, closed, binding, others, tuple(v for v in others if v.says_binding), late,
                 tuple(listed), tuple((address, _sign(value)) for address, value in decided.values()),
                 tuple(changed), hours, needed)


def earliest_close(opened: datetime, hours: int = VOTE_HOURS) -> datetime:
    return utc(opened) + timedelta(hours=hours)


def voters(votes: Iterable[Vote], value: int) -> list[str]:
    return [v.voter for v in votes if v.value == value]
