# SPDX-License-Identifier: Apache-2.0
"""Release notes come from the version's own section of a Keep-a-Changelog file, nothing more."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.changelog import find_section, release_notes, versions_in
from release.errors import RefusedError

CHANGELOG = """# Changelog

All notable changes to this project are documented here.

## [Unreleased]

### Added
- Something nobody released yet.

## [1.10.60] - 2027-01-01

### Fixed
- Not the version you are looking for.

## [1.10.6] - 2026-11-20

### Fixed
- The scheduler no longer loses a heartbeat on restart.

### Security
- Tokens are compared in constant time.

## [1.10.5] - 2026-10-01

### Added
- First packaged release.

[Unreleased]: https://example.invalid/compare/1.10.6...HEAD
[1.10.6]: https://example.invalid/compare/1.10.5...1.10.6
"""


def test_finds_exactly_the_versions_section() -> None:
    section = find_section(CHANGELOG, "1.10.6")
    assert section is not None
    assert section.date == "2026-11-20"
    assert section.body == (
        "### Fixed\n- The scheduler no longer loses a heartbeat on restart.\n\n"
        "### Security\n- Tokens are compared in constant time."
    )


def test_a_prefix_is_not_a_match() -> None:
    section = find_section(CHANGELOG, "1.10.60")
    assert section is not None and "Not the version" in section.body
    assert find_section(CHANGELOG, "1.10") is None
    assert find_section(CHANGELOG, "1.10.7") is None


def test_link_definitions_at_the_end_are_not_notes() -> None:
    section = find_section(CHANGELOG, "1.10.5")
    assert section is not None
    assert section.body == "### Added\n- First packaged release."


def test_versions_in_file_order() -> None:
    assert versions_in(CHANGELOG) == ["Unreleased", "1.10.60", "1.10.6", "1.10.5"]


@pytest.mark.parametrize("heading", [
    "## [1.10.6] - 2026-11-20",
    "## [1.10.6] – 2026-11-20",  # noqa: RUF001 - an en dash, as some editors write it
    "## 1.10.6 (2026-11-20)",
    "## v1.10.6 - 2026-11-20",
    "## [1.10.6](https://example.invalid/1.10.6) - 2026-11-20",
])
def test_heading_styles(heading: str) -> None:
    section = find_section(f"# Changelog\n\n{heading}\n\n- A fix.\n", "1.10.6")
    assert section is not None
    assert (section.date, section.body) == ("2026-11-20", "- A fix.")


def test_a_heading_without_a_date() -> None:
    section = find_section("## 1.10.6\n- A fix.\n## 1.10.5\n- Older.\n", "1.10.6")
    assert section is not None and (section.date, section.body) == ("", "- A fix.")


def test_release_notes_refuses_an_undescribed_version_and_lists_what_is_there() -> None:
    assert release_notes(CHANGELOG, "1.10.6").startswith("### Fixed")
    with pytest.raises(RefusedError, match=r"CHANGES.md has no section for 1.10.7 .*1.10.6, 1.10.5"):
        release_notes(CHANGELOG, "1.10.7", source="CHANGES.md")


_VERSION = st.tuples(*[st.integers(0, 30)] * 3).map(lambda parts: ".".join(map(str, parts)))


@given(st.lists(_VERSION, min_size=1, max_size=8, unique=True), st.data())
def test_every_section_is_found_with_its_own_body(versions: list[str], data: st.DataObject) -> None:
    text = "# Changelog\n\n" + "".join(f"## [{v}] - 2026-01-01\n\n- Change in {v}.\n\n" for v in versions)
    wanted = data.draw(st.sampled_from(versions))
    section = find_section(text, wanted)
    assert section is not None
    assert section.body == f"- Change in {wanted}."
