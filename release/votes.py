# SPDX-License-Identifier: Apache-2.0
"""Counting a PMC vote by the ASF rules. Pure: text in, a tally out.

The votes come from a plain-text file or an mbox export of the `[VOTE]` thread. Binding votes are
those of the configured binding voters (the PMC roster); saying "binding" does not make a vote
binding. Each voter's last vote counts. The rules (https://www.apache.org/foundation/voting.html):
the vote is open at least 72 hours, and passes with at least three binding +1 and more binding +1
than binding -1.

Plain-text format, one vote a line (`#` starts a comment line):

    VOTE  VOTER  [WHEN]  [comment]
    +1  Jane Doe <jane@apache.org>  2026-11-27T09:12:00Z
    -1  bob@example.org  2026-11-28 10:00 UTC  the NOTICE file is wrong

VOTE is +1, 0 (or +0, -0) or -1; VOTER a name, an address, or both; WHEN an ISO 8601 time (UTC
when no offset is given). In an mbox, each reply's first unquoted line that starts with a vote is
its vote, the sender is the voter and the Date header the time; the `[VOTE]` message itself gives
the time the vote opened.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from release.errors import RefusedError

VOTE_HOURS = 72
MIN_BINDING_PLUS = 3

_VOTE = re.compile(r"^\s*(?P<vote>[+-]?[01])(?:\.0)?(?![0-9.])")
_WHEN = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})?", re.I)
_ADDRESS = re.compile(r"<(?P<bracketed>[^<>\s]+@[^<>\s]+)>|(?P<bare>[^\s<>(),;]+@[^\s<>(),;]+)")
_BINDING = re.compile(r"\b(non[- ]?)?binding\b", re.I)
_MBOX_FROM = re.compile(r"^From .*\n", re.M)


@dataclass(frozen=True)
class Vote:
    name: str
    address: str  # lower case; "" when the vote gives none
    value: int  # +1, 0 or -1
    when: datetime | None  # UTC; None when a plain-text vote gives no time
    says_binding: bool = False  # the voter wrote "(binding)"
    comment: str = ""

    @property
    def voter(self) -> str:
        if self.name and self.address:
            return f"{self.name} <{self.address}>"
        return self.name or self.address

    @property
    def key(self) -> str:
        """Who cast it: one voter's later vote replaces the earlier one."""
        return self.address or self.name.casefold()


@dataclass(frozen=True)
class Thread:
    votes: tuple[Vote, ...]
    opened: datetime | None = None  # the [VOTE] message's date, when the export has it
    subject: str = ""  # the [VOTE] message's subject


@dataclass(frozen=True)
class Tally:
    opened: datetime
    closed: datetime
    binding: tuple[Vote, ...]  # the counted votes, each voter's last
    non_binding: tuple[Vote, ...]
    claimed: tuple[Vote, ...] = ()  # said "binding" but are not binding voters: counted as non-binding
    late: tuple[Vote, ...] = field(default=())  # cast after the close: not counted

    @property
    def hours_open(self) -> float:
        return (self.closed - self.opened).total_seconds() / 3600

    def count(self, value: int, *, binding: bool) -> int:
        return sum(1 for v in (self.binding if binding else self.non_binding) if v.value == value)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The ASF rules this vote fails, one line each; empty when it passes."""
        found = []
        if self.hours_open < VOTE_HOURS:
            found.append(f"it was open {self.hours_open:.1f} hours, less than {VOTE_HOURS}")
        plus, minus = self.count(1, binding=True), self.count(-1, binding=True)
        if plus < MIN_BINDING_PLUS:
            found.append(f"{plus} binding +1 vote{'s' if plus != 1 else ''}, at least {MIN_BINDING_PLUS} "
                         "are needed")
        if plus <= minus:
            found.append(f"{minus} binding -1 against {plus} binding +1: more binding +1 than -1 are needed")
        return tuple(found)

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def too_early(self) -> bool:
        return self.hours_open < VOTE_HOURS


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is taken as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


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
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        vote = _VOTE.match(stripped)
        if vote is None:
            raise RefusedError(f"{source} line {number}: {stripped[:60]!r} is not a vote; write "
                               "`+1 Jane Doe <jane@apache.org> 2026-11-27T09:12:00Z`")
        rest = stripped[vote.end():]
        when_found = _WHEN.search(rest)
        when = _when(when_found) if when_found else None
        who, comment = (rest[:when_found.start()], rest[when_found.end():]) if when_found else (rest, "")
        name, address = _voter(who)
        if not (name or address):
            raise RefusedError(f"{source} line {number}: the vote names no voter")
        votes.append(Vote(name, address, int(vote["vote"]), when, _says_binding(who), comment.strip()))
    return Thread(tuple(votes))


def _says_binding(text: str) -> bool:
    found = _BINDING.search(text)
    return found is not None and not found.group(1)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return ""
    return content if isinstance(content, str) else ""


def _vote_line(body: str) -> re.Match[str] | None:
    """The first unquoted line of a reply that starts with a vote (quotes of the [VOTE] are skipped)."""
    for line in body.splitlines():
        if line.lstrip().startswith(">"):
            continue
        found = _VOTE.match(line)
        if found:
            return found
    return None


def split_mbox(text: str) -> list[str]:
    """The messages of an mbox export (each begins with a `From ` line)."""
    starts = [m.end() for m in _MBOX_FROM.finditer(text)]
    ends = [*(m.start() for m in _MBOX_FROM.finditer(text)), len(text)][1:]
    return [text[start:end] for start, end in zip(starts, ends)]


def parse_mbox(text: str) -> Thread:
    """Votes from an mbox export of the thread: sender, Date, and the first unquoted vote line."""
    votes = []
    opened, subject = None, ""
    for raw in split_mbox(text):
        message = email.message_from_string(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        title = " ".join(str(message.get("subject", "")).split())
        try:
            when = utc(email.utils.parsedate_to_datetime(str(message.get("date", ""))))
        except (TypeError, ValueError, IndexError):
            when = None
        if re.match(r"\[VOTE\]", title, re.I):
            if when is not None and (opened is None or when < opened):
                opened, subject = when, title
            continue
        if re.match(r"\[(RESULT|CANCEL)", title, re.I):
            continue
        found = _vote_line(_body(message))
        if found is None:
            continue  # a question or a discussion in the thread, not a vote
        name, address = email.utils.parseaddr(str(message.get("from", "")))
        line = found.string
        votes.append(Vote(" ".join(name.split()), address.lower(), int(found["vote"]), when,
                          _says_binding(line), line[found.end():].strip()))
    return Thread(tuple(votes), opened, subject)


def parse_votes(text: str, *, source: str = "votes") -> Thread:
    """An mbox export (it starts with a `From ` line) or the plain-text format."""
    return parse_mbox(text) if text.startswith("From ") else parse_plain(text, source=source)


def parse_roster(text: str) -> tuple[str, ...]:
    """Binding voters, one a line (addresses, Apache ids or names); `#` starts a comment."""
    entries = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(entry for entry in entries if entry)


def is_binding(vote: Vote, roster: Collection[str]) -> bool:
    """True when the roster names the voter: by address, by Apache id (the part before
    @apache.org), or by name (case does not matter)."""
    wanted = {entry.strip().casefold() for entry in roster}
    local, _, domain = vote.address.partition("@")
    return (bool(vote.address) and vote.address in wanted) \
        or (domain == "apache.org" and local in wanted) \
        or (bool(vote.name) and vote.name.casefold() in wanted)


def count_votes(votes: Sequence[Vote], roster: Collection[str], *, opened: datetime,
                closed_at: datetime | None = None) -> Tally:
    """Each voter's last vote cast by `closed_at` (default: the last vote's time), split by the roster.

    RefusedError when the close cannot be told: no `closed_at` and no vote carries a time.
    """
    opened = utc(opened)
    times = [v.when for v in votes if v.when is not None]
    if closed_at is None and not times:
        raise RefusedError("the votes carry no times: pass --closed-at with the time the vote closed")
    closed = utc(closed_at) if closed_at is not None else max(times)
    counted = [v for v in votes if v.when is None or v.when <= closed]
    late = tuple(v for v in votes if v.when is not None and v.when > closed)
    last: dict[str, Vote] = {}
    order = sorted(range(len(counted)), key=lambda i: (counted[i].when or opened, i))
    for index in order:
        vote = counted[index]
        last.pop(vote.key, None)
        last[vote.key] = vote
    binding = tuple(v for v in last.values() if is_binding(v, roster))
    others = tuple(v for v in last.values() if not is_binding(v, roster))
    return Tally(opened, closed, binding, others, tuple(v for v in others if v.says_binding), late)


def earliest_close(opened: datetime) -> datetime:
    return utc(opened) + timedelta(hours=VOTE_HOURS)


def voters(votes: Iterable[Vote], value: int) -> list[str]:
    return [v.voter for v in votes if v.value == value]
