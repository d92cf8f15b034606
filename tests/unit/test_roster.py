# SPDX-License-Identifier: Apache-2.0
"""The binding voters: members known by their addresses, never by a name. Pure."""

from __future__ import annotations

import pytest

from release.errors import ConfigError
from release.roster import Roster, member_addresses, roster_lines


@pytest.mark.parametrize(("entry", "addresses"), [
    ("jane@example.org", {"jane@example.org"}),
    ("Jane@Example.ORG", {"jane@example.org"}),
    ("Jane Doe <jane@example.org>", {"jane@example.org"}),
    ('"Doe, Jane" <jane@example.org>', {"jane@example.org"}),
    ("jane", {"jane@apache.org"}),
    ("kaxilnaik", {"kaxilnaik@apache.org"}),
    ("jane, Jane Doe <jane.doe@home.example>", {"jane@apache.org", "jane.doe@home.example"}),
])
def test_an_entry_names_one_member_by_addresses_and_apache_ids(entry: str, addresses: set[str]) -> None:
    assert member_addresses(entry) == addresses


@pytest.mark.parametrize("entry", ["Ann Smith", "Ann", "JANE", "Jane Doe <>", "jane@", "@apache.org",
                                   "Jane Doe <jane@example.org> <x@evil.example>", "jane,", "a b@c.d"])
def test_a_name_alone_or_anything_else_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match=r"is not an address or an Apache id|has an empty part"):
        member_addresses(entry)


def test_the_refusal_is_one_line_naming_where_the_entry_is_and_the_fix() -> None:
    with pytest.raises(ConfigError) as refused:
        Roster.of(["jane", "Ann Smith"], where="[tool.release] binding-voters")
    assert str(refused.value) == (
        "[tool.release] binding-voters: 'Ann Smith' is not an address or an Apache id (lower case), and a "
        "vote is binding only by the address it is sent from, never by a name: give the member's address "
        'or Apache id instead, e.g. "jane@example.org", "Jane Doe <jane@example.org>" or "jane" (for '
        "jane@apache.org)")


def test_entries_sharing_an_address_are_one_member() -> None:
    roster = Roster.of(["jane", "jane@apache.org, jane.doe@home.example", "Jane <jane@work.example>, "
                        "jane.doe@home.example", "joe"])
    assert len(roster) == 2
    one = {roster.member(a) for a in ("jane@apache.org", "jane.doe@home.example", "JANE@work.example")}
    assert len(one) == 1 and None not in one
    assert roster.member("joe@apache.org") not in one | {None}
    assert roster.member("jim@example.org") is None and roster.member("") is None


def test_a_roster_file_has_one_member_a_line_and_comments() -> None:
    assert roster_lines("# PMC\njane@apache.org\n\n  Jane Doe <jane@x.example>  # chair\n") == [
        (2, "jane@apache.org"), (4, "Jane Doe <jane@x.example>")]
