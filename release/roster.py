# SPDX-License-Identifier: Apache-2.0
"""The binding voters (the PMC roster), known by the addresses their votes are sent from. Pure.

One entry names one member, by one or more of these, separated by commas:

    jane@example.org                 an address
    Jane Doe <jane@example.org>      an address; the name is only for whoever reads the roster
    jane                             an Apache id: the address jane@apache.org

A name alone (`Jane Doe`) is refused: anyone can put any name on a mail, so a vote is binding by
the address it comes from and nothing else. Entries that share an address are one member, so a
member voting from two of their addresses is counted once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from release.errors import ConfigError

APACHE = "apache.org"
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
ADDRESS = re.compile(rf"[^\s@<>()\[\],;:\"\\]+@{_LABEL}(?:\.{_LABEL})*")
_NAMED = re.compile(r"[^<>]*<(?P<address>[^<>]*)>")
FIX = ('give the member\'s address or Apache id instead, e.g. "jane@example.org", '
       '"Jane Doe <jane@example.org>" or "jane" (for jane@apache.org)')


def _split(entry: str) -> list[str]:
    """The parts of an entry between commas that are not inside a quoted name."""
    parts, current, quoted = [], "", False
    for char in entry:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def member_addresses(entry: str) -> frozenset[str]:
    """The addresses one roster entry names, lower case; ValueError saying what is wrong."""
    found = set()
    for item in _split(entry):
        named = _NAMED.fullmatch(item)
        address = named["address"].strip() if named else item
        if ADDRESS.fullmatch(address):
            found.add(address.lower())
        elif _ID.fullmatch(address):
            found.add(f"{address}@{APACHE}")
        elif not item:
            raise ValueError(f"{entry!r} has an empty part; separate one member's addresses by commas")
        else:
            raise ValueError(f"{item!r} is not an address or an Apache id (lower case), and a vote is "
                             f"binding only by the address it is sent from, never by a name: {FIX}")
    return frozenset(found)


def addresses_of(entry: str, where: str) -> frozenset[str]:
    """`member_addresses`, or the ConfigError line that names `where` (the key, the file and line)."""
    try:
        return member_addresses(entry)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Roster:
    """The members, each the set of their addresses."""

    members: tuple[frozenset[str], ...] = ()
    _by_address: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for addresses in self.members:
            key = min(addresses)
            self._by_address.update((address, key) for address in addresses)

    @classmethod
    def of(cls, entries: Iterable[str], *, where: str = "the binding voters") -> Roster:
        """A roster from its entries; ConfigError naming `where` and the entry that is not one."""
        return cls.joined(addresses_of(entry, where) for entry in entries)

    @classmethod
    def joined(cls, entries: Iterable[frozenset[str]]) -> Roster:
        """Members from the entries' addresses: entries sharing an address are one member."""
        members: list[frozenset[str]] = []
        for addresses in entries:
            joined = [m for m in members if m & addresses]
            members = [m for m in members if not m & addresses]
            members.append(addresses.union(*joined))
        return cls(tuple(members))

    def member(self, address: str) -> str | None:
        """The member who sends from `address` (one name for all their addresses), or None."""
        return self._by_address.get(address.strip().lower()) if address else None

    def __len__(self) -> int:
        return len(self.members)


def roster_lines(text: str) -> list[tuple[int, str]]:
    """The entries of a roster file with their line numbers: one member a line, `#` starts a comment."""
    lines = ((number, line.split("#", 1)[0].strip()) for number, line in enumerate(text.splitlines(), 1))
    return [(number, entry) for number, entry in lines if entry]
