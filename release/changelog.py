# SPDX-License-Identifier: Apache-2.0
"""Release notes from a Keep-a-Changelog file (`## [1.10.6] - 2026-11-20`). Pure: text in, text out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from release.errors import RefusedError

# `## [1.10.6] - 2026-11-20`, `## 1.10.6 (2026-11-20)`, `## v1.10.6`, `## [Unreleased]`
_HEADING = re.compile(
    r"^##[ \t]+\[?v?(?P<version>[^\]\s]+)\]?(?:.*?(?P<date>\d{4}-\d{2}-\d{2}))?.*$"
)
_LINK_DEFINITION = re.compile(r"^\[[^\]]+\]:\s+\S+")


@dataclass(frozen=True)
class ChangelogSection:
    version: str
    date: str  # "" when the heading has none
    body: str  # the text under the heading, trimmed; what the vote email calls the release notes


def _headings(lines: list[str]) -> list[tuple[int, re.Match[str]]]:
    found = []
    for number, line in enumerate(lines):
        if line.startswith("## "):
            match = _HEADING.match(line.rstrip())
            if match:
                found.append((number, match))
    return found


def versions_in(text: str) -> list[str]:
    """Every version that has a section, in file order (`Unreleased` included as written)."""
    return [match.group("version") for _, match in _headings(text.splitlines())]


def find_section(text: str, version: str) -> ChangelogSection | None:
    """The section of exactly `version` (1.10.6 does not match 1.10.60), or None."""
    lines = text.splitlines()
    headings = _headings(lines)
    for index, (start, match) in enumerate(headings):
        if match.group("version") != version:
            continue
        end = headings[index + 1][0] if index + 1 < len(headings) else len(lines)
        body = [line for line in lines[start + 1:end] if not _LINK_DEFINITION.match(line)]
        return ChangelogSection(version, match.group("date") or "", "\n".join(body).strip())
    return None


def release_notes(text: str, version: str, *, source: str = "CHANGELOG.md") -> str:
    """The body of `version`'s section; RefusedError when the changelog does not describe it."""
    section = find_section(text, version)
    if section is None:
        have = ", ".join(versions_in(text)) or "none"
        raise RefusedError(f"{source} has no section for {version} (sections: {have}); "
                           f"add `## [{version}] - YYYY-MM-DD` with the release notes and commit it")
    return section.body
