# SPDX-License-Identifier: Apache-2.0
"""Release notes from whichever changelog the project keeps. Pure: names and text in, text out.

- Markdown, as Keep a Changelog writes it (`## [1.10.6] - 2026-11-20`; any heading level);
- reStructuredText, a titled section per version (`CHANGES.rst`, pip's `NEWS.rst`);
- towncrier news fragments (`newsfragments/<id>.<type>.rst`, see release/newsfragments.py):
  the section of its news file once `towncrier build` wrote it, else the fragments not yet released;
- none at all: the emails then say there are no release notes.

Reading the files is the caller's: release/notes.py reads them from the tree of the commit released.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from release.errors import ConfigError, RefusedError
from release.newsfragments import Towncrier, render_fragments

MARKDOWN, RST, TOWNCRIER, NONE, AUTO = "markdown", "rst", "towncrier", "none", "auto"
FORMATS = (AUTO, MARKDOWN, RST, TOWNCRIER, NONE)
# Where projects keep their changelog, in the order they are looked for when `changelog` is not set.
COMMON_NAMES = tuple(
    f"{folder}{stem}{suffix}"
    for folder in ("", "docs/")
    for stem in ("CHANGELOG", "CHANGES", "NEWS", "HISTORY", "RELEASE_NOTES", "RELEASE-NOTES")
    for suffix in (".md", ".rst", "", ".txt", ".markdown")
)
SHOWN = 6  # the sections a refusal lists (a long-lived changelog has hundreds)
_SUFFIXES = {".md": MARKDOWN, ".markdown": MARKDOWN, ".rst": RST}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A version-like word: `1.10.6`, `v2.0.0rc1`, `24.3.post1`
_VERSION_WORD = re.compile(r"(?<![\w.+-])v?("
                           r"\d+(?:\.\d+)+(?:[-.]?(?:a|b|c|rc|alpha|beta|pre|post|dev)\.?\d*)*)"
                           r"(?![\w+]|\.\d)", re.I)
_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_LINK_DEFINITION = re.compile(r"^\[[^\]]+\]:\s+\S+")
_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}[ \t]*$")


@dataclass(frozen=True)
class ChangelogSection:
    version: str
    date: str  # "" when the title has none
    body: str  # the text under the title, trimmed; what the emails call the release notes


@dataclass(frozen=True)
class Changelog:
    """Where a project's release notes come from: `format` is one of FORMATS (`auto`: decided from
    the file's contents), `path` the file (for towncrier its news file), "" for none."""

    format: str
    path: str = ""
    towncrier: Towncrier | None = None

    def describe(self) -> str:
        if self.format == NONE:
            return "no changelog"
        if self.towncrier is not None:
            return f"towncrier: {self.towncrier.directory}/ news fragments, else {self.path}"
        return f"{self.path} ({self.format})"


@dataclass(frozen=True)
class _Title:
    start: int  # its first line (the overline, if any)
    end: int  # the first line after it
    text: str
    style: str  # Markdown: `#2` for `## `, `_1` for a `===` underline; reStructuredText: `=` for an
    # underline of `=`, `==` for an over- and underline of `=`


def format_of(path: str, text: str) -> str:
    """MARKDOWN or RST: from the file name, else from the contents: `#` headings naming versions are
    Markdown, else titles underlined (or overlined) with punctuation are reStructuredText."""
    for suffix, found in _SUFFIXES.items():
        if path.lower().endswith(suffix):
            return found
    lines = text.splitlines()
    if any(t.style.startswith("#") and _first_version(t.text) for t in _markdown_titles(lines)):
        return MARKDOWN
    return RST if any(_first_version(t.text) for t in _rst_titles(lines)) else MARKDOWN


def _markdown_titles(lines: list[str]) -> list[_Title]:
    titles, fenced = [], False
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        atx = _ATX.match(line)
        if atx:
            titles.append(_Title(number, number + 1, atx.group(2).strip(), f"#{len(atx.group(1))}"))
        elif (number + 1 < len(lines) and line.strip() and not line.startswith((" ", "\t", "-", "*"))
              and _SETEXT.match(lines[number + 1]) and (number == 0 or not lines[number - 1].strip())):
            level = "_1" if lines[number + 1].startswith("=") else "_2"  # underlined: level 1 or 2
            titles.append(_Title(number, number + 2, line.strip(), level))
    return titles


def _rst_titles(lines: list[str]) -> list[_Title]:
    titles: list[_Title] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        after = lines[number + 1] if number + 1 < len(lines) else ""
        under = lines[number + 2] if number + 2 < len(lines) else ""
        over = _ADORNMENT.match(line)
        if over and after.strip() and under.rstrip() == line.rstrip() and not _ADORNMENT.match(after):
            titles.append(_Title(number, number + 3, after.strip(), over.group(1) * 2))
            number += 3
            continue
        below = _ADORNMENT.match(after)
        if (line.strip() and not line[0].isspace() and below and not over
                and (number == 0 or not lines[number - 1].strip())):
            titles.append(_Title(number, number + 2, line.strip(), below.group(1)))
            number += 2
            continue
        number += 1
    return titles


def _first_version(title: str) -> str:
    found = _VERSION_WORD.search(title)
    return found.group(1) if found else ""


def _names(title: str, version: str) -> bool:
    """Whether `title` is the title of `version`: the version as a word of it (1.10.6 is not 1.10.60)."""
    word = re.compile(r"(?<![\w.+-])v?" + re.escape(version) + r"(?![\w+]|\.\d)", re.I)
    return bool(word.search(title))


def _release_level(titles: list[_Title]) -> str:
    """The style of the titles that name versions: the most used among them, the first seen on a tie
    (a document title or a `### Fixed` subsection names none)."""
    counts: dict[str, int] = {}
    for title in titles:
        if _first_version(title.text):
            counts[title.style] = counts.get(title.style, 0) + 1
    if not counts:
        return ""
    return max(counts, key=lambda style: counts[style])


def _depth(titles: list[_Title], fmt: str) -> dict[str, int]:
    """Each style's level: Markdown's by the number of `#`, reStructuredText's in order of first use."""
    levels: dict[str, int] = {}
    for title in titles:
        if fmt == MARKDOWN:
            levels[title.style] = int(title.style[1:])
        else:
            levels.setdefault(title.style, len(levels))
    return levels


def _titles(text: str, fmt: str) -> list[_Title]:
    lines = text.splitlines()
    return _markdown_titles(lines) if fmt == MARKDOWN else _rst_titles(lines)


def _releases(titles: list[_Title]) -> list[_Title]:
    style = _release_level(titles)
    return [t for t in titles if t.style == style]


def versions_in(text: str, fmt: str = MARKDOWN) -> list[str]:
    """What every release-level section is titled, in file order: its version (`Unreleased` as written)."""
    return [_first_version(t.text) or t.text.strip("[] ") for t in _releases(_titles(text, fmt))]


def find_section(text: str, version: str, fmt: str = MARKDOWN) -> ChangelogSection | None:
    """The section of exactly `version` (1.10.6 does not match 1.10.60), or None: a title at the level
    of the titles that name versions, which names it first (else names it at all); it runs to the
    next title of that level or a higher one."""
    lines = text.splitlines()
    titles = _titles(text, fmt)
    releases = _releases(titles)
    found = next((t for t in releases if _first_version(t.text).lower().lstrip("v") == version.lower()),
                 None) or next((t for t in releases if _names(t.text, version)), None)
    if found is None:
        return None
    depth = _depth(titles, fmt)
    end = next((t.start for t in titles if t.start > found.start and depth[t.style] <= depth[found.style]),
               len(lines))
    body = [line for line in lines[found.end:end] if not (fmt == MARKDOWN and _LINK_DEFINITION.match(line))]
    date = _DATE.search(found.text)
    return ChangelogSection(version, date.group(0) if date else "", "\n".join(body).strip())


def locate(files: Collection[str], *, configured: str | None, fmt: str = AUTO,
           towncrier: Towncrier | None = None) -> Changelog:
    """Where the notes come from, given the commit's files (paths relative to its root):
    `configured` is `[tool.release] changelog` (None: not set, "" none), `fmt` its
    `changelog-format`, `towncrier` the project's `[tool.towncrier]` settings if it has any."""
    if fmt not in FORMATS:
        raise ConfigError(f"[tool.release] changelog-format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == NONE or configured == "":
        return Changelog(NONE)
    wants_towncrier = fmt == TOWNCRIER or (
        fmt == AUTO and towncrier is not None
        and configured in {None, towncrier.filename, towncrier.directory})
    if wants_towncrier:
        settings = towncrier or Towncrier()
        if configured and configured != settings.filename and not configured.endswith((".md", ".rst")):
            settings = settings.with_directory(configured)
        return Changelog(TOWNCRIER, settings.filename, settings)
    if configured is not None:
        if configured not in files:
            raise ConfigError(f"[tool.release] changelog: {configured} is not in the commit; set it to the "
                              "changelog's path, or to \"\" when the project keeps none")
        return Changelog(fmt, configured)
    by_name = {name.lower(): name for name in files}
    found = next((by_name[n.lower()] for n in COMMON_NAMES if n.lower() in by_name), "")
    return Changelog(fmt, found) if found else Changelog(NONE)


def release_notes(changelog: Changelog, version: str, *, text: str | None = None,
                  fragments: Mapping[str, str] | None = None) -> str:
    """The notes of `version`: "" for a project that keeps no changelog; one RefusedError line naming
    the file and the version when its section is missing, empty or cannot be read. `text` is the
    changelog file's contents (None: the commit has no such file), `fragments` the towncrier news
    fragments (path relative to the root -> contents)."""
    if changelog.format == NONE:
        return ""
    if changelog.towncrier is not None:
        return _towncrier_notes(changelog, changelog.towncrier, version, text, fragments or {})
    if text is None:
        raise RefusedError(f"{changelog.path} is not in the commit; commit it, or set [tool.release] "
                           "changelog")
    return _section_notes(changelog.path, changelog.format, text, version)


def _section_notes(path: str, fmt: str, text: str, version: str) -> str:
    fmt = format_of(path, text) if fmt == AUTO else fmt
    titles = _titles(text, fmt)
    if not _releases(titles):
        kind = "Markdown headings" if fmt == MARKDOWN else "reStructuredText titles"
        raise RefusedError(f"{path}: no section for {version}: found no {kind} naming a version; give each "
                           f"release its own titled section (or set [tool.release] changelog-format)")
    section = find_section(text, version, fmt)
    if section is None:
        found = versions_in(text, fmt)
        more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        have = (", ".join(found[:SHOWN]) + more) or "none"
        example = f"## [{version}] - YYYY-MM-DD" if fmt == MARKDOWN else f"{version} (YYYY-MM-DD) underlined"
        raise RefusedError(f"{path} has no section for {version} (sections: {have}); add `{example}` with "
                           "the release notes and commit it")
    if not section.body:
        raise RefusedError(f"{path}: the section for {version} is empty; write its release notes and "
                           "commit them")
    return section.body


def _towncrier_notes(changelog: Changelog, settings: Towncrier, version: str, text: str | None,
                     fragments: Mapping[str, str]) -> str:
    """The news file's section once `towncrier build` wrote it, else the fragments rendered."""
    if text is not None:
        fmt = format_of(changelog.path, text)
        section = find_section(text, version, fmt) if _releases(_titles(text, fmt)) else None
        if section is not None and section.body:
            return section.body
    rendered = render_fragments(settings, fragments, version)
    if not rendered:
        folders = ", ".join(f"{folder}/" for _, folder in settings.folders)
        raise RefusedError(f"{changelog.path} has no section for {version} and {folders} holds no news "
                           f"fragments; add fragments like {settings.folders[0][1]}/123.feature.rst (types: "
                           f"{', '.join(t.key for t in settings.types)}) or run towncrier build --version "
                           f"{version}, and commit")
    return rendered
