# SPDX-License-Identifier: Apache-2.0
"""towncrier news fragments: the project's settings (`[tool.towncrier]` or `towncrier.toml`) and the
fragments not yet released, laid out as towncrier's default template lays them out (without the
version's own title, which the emails write themselves). Pure: names and text in, text out.

The rules are towncrier's: `<issue>.<type>[.<counter>][.<ext>]`, the type found from the end among
the configured types (towncrier's five by default), `+` for a fragment without an issue, files of
unknown type skipped unless `ignore` is configured (then they are an error, as `towncrier build`
makes them), `misc`-like types (`showcontent = false`) listing their issues only. A project's own
`template` and `wrap` are not applied: the notes read the same in every email; an empty fragment
without an issue, which towncrier shows as an empty bullet, is left out.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from release.errors import ConfigError, RefusedError

_IGNORED = (".gitignore", ".gitkeep", ".keep", "readme", "readme.md", "readme.rst")


@dataclass(frozen=True)
class FragmentType:
    key: str  # the type as fragment names spell it: `bugfix` in `123.bugfix.rst`
    name: str  # its heading in the notes
    showcontent: bool = True  # False: only the issues are listed (towncrier's `misc`)


DEFAULT_TYPES = (
    FragmentType("feature", "Features"),
    FragmentType("bugfix", "Bugfixes"),
    FragmentType("doc", "Improved Documentation"),
    FragmentType("removal", "Deprecations and Removals"),
    FragmentType("misc", "Misc", showcontent=False),
)


@dataclass(frozen=True)
class Towncrier:
    """A project's towncrier settings, paths relative to the repository root."""

    base: str = "newsfragments"  # `directory`, or `<package_dir>/<package>` when it is not set
    filename: str = "NEWS.rst"  # the news file `towncrier build` writes
    types: tuple[FragmentType, ...] = DEFAULT_TYPES
    sections: tuple[tuple[str, str], ...] = (("", ""),)  # (title, folder under `base`)
    nested: bool = False  # no `directory`: a section's fragments are in <base>/<folder>/newsfragments
    orphan_prefix: str = "+"
    issue_format: str = ""  # "" is towncrier's: `#123` for a number, the issue as written otherwise
    issue_pattern: str = ""
    all_bullets: bool = True
    ignore: tuple[str, ...] | None = None  # set: a file that is no fragment is an error
    underlines: tuple[str, ...] = ("=", "-", "~")

    @property
    def folders(self) -> tuple[tuple[str, str], ...]:
        """(section title, the folder holding its fragments), in the configured order."""
        found = []
        for title, folder in self.sections:
            parts = [self.base, folder, "newsfragments" if self.nested else ""]
            found.append((title, "/".join(p.strip("/") for p in parts if p.strip("/")) or "."))
        return tuple(found)

    @property
    def directory(self) -> str:
        return self.folders[0][1]

    @property
    def markdown(self) -> bool:
        return self.filename.endswith(".md")

    def with_directory(self, directory: str) -> Towncrier:
        return replace(self, base=directory.strip("/"), nested=False)


def _expect(key: str, value: Any, kind: type, what: str, *, empty: bool = False) -> Any:
    if not isinstance(value, kind) or (kind is str and not value and not empty):
        raise ConfigError(f"[tool.towncrier] {key}: expected {what}, got {value!r}")
    return value


def _types(table: Mapping[str, Any]) -> tuple[FragmentType, ...]:
    """towncrier's three ways: `[tool.towncrier.fragment.X]` tables (sorted by key), an array of
    `[[tool.towncrier.type]]` tables (in order), or its five default types."""
    if table.get("fragment"):
        fragments = _expect("fragment", table["fragment"], dict, "tables like [tool.towncrier.fragment.doc]")
        found = []
        for key in sorted(fragments):
            options = _expect(f"fragment.{key}", fragments[key], dict, "a table")
            found.append(FragmentType(key, str(options.get("name", key.capitalize())),
                                      bool(options.get("showcontent", True))))
        return tuple(found)
    if table.get("type"):
        found = []
        for item in _expect("type", table["type"], list, "an array of [[tool.towncrier.type]] tables"):
            item = _expect("type", item, dict, "a table with name and directory")
            name = _expect("type: name", item.get("name"), str, "the type's heading")
            key = _expect("type: directory", item.get("directory", name.lower()), str, "the type's name")
            found.append(FragmentType(key, name, bool(item.get("showcontent", True))))
        return tuple(found)
    return DEFAULT_TYPES


def towncrier_settings(table: Mapping[str, Any], *, project_name: str = "", base: str = "") -> Towncrier:
    """The `[tool.towncrier]` table as a Towncrier; `base` is the folder of the file it is in (relative
    to the repository root), `project_name` its `[project] name` (towncrier's default `package`)."""
    def join(*parts: str) -> str:
        return "/".join(p.strip("/") for p in (base, *parts) if p and p.strip("/") not in {"", "."}) or "."

    if "directory" in table:
        folder, nested = join(_expect("directory", table["directory"], str, "a folder")), False
    else:
        package = table.get("package") or project_name
        if not package:
            raise ConfigError("[tool.towncrier]: neither directory nor package is set, so the news fragments "
                              "cannot be found; set directory (e.g. \"newsfragments\")")
        folder, nested = join(str(table.get("package_dir", ".")), str(package)), True
    sections: tuple[tuple[str, str], ...] = (("", ""),)
    if "section" in table:
        items = _expect("section", table["section"], list, "an array of [[tool.towncrier.section]] tables")
        sections = tuple((str(item.get("name", "")), _expect("section: path", item.get("path"), str,
                                                              "a folder", empty=True))
                         for item in items if isinstance(item, dict))
    underlines = tuple(_expect("underlines", table.get("underlines", ["=", "-", "~"]), list,
                               "a list of characters"))
    ignore = table.get("ignore")
    return Towncrier(
        base=folder, nested=nested, filename=join(_expect("filename", table.get("filename", "NEWS.rst"), str,
                                                          "a file name")),
        types=_types(table), sections=sections,
        orphan_prefix=_expect("orphan_prefix", table.get("orphan_prefix", "+"), str, "a prefix", empty=True),
        issue_format=str(table.get("issue_format") or ""),
        issue_pattern=str(table.get("issue_pattern", "")),
        all_bullets=bool(table.get("all_bullets", True)),
        ignore=None if ignore is None else tuple(str(i).lower() for i in ignore),
        underlines=tuple(str(u) for u in underlines) or ("=", "-", "~"),
    )


def parse_name(name: str, types: Sequence[str]) -> tuple[str, str, int] | None:
    """(issue, type, counter) of a fragment's file name, as towncrier reads it, or None."""
    parts = name.split(".")
    for index in reversed(range(1, len(parts))):
        if parts[index] in types:
            issue = ".".join(parts[:index]).strip()
            issue = str(int(issue)) if issue.isdigit() else issue
            counter = int(parts[index + 1]) if len(parts) > index + 1 and parts[index + 1].isdigit() else 0
            return issue, parts[index], counter
    return None


def _issue_key(issue: str) -> tuple[bool, bool, str, int]:
    if issue.isdigit():
        return True, True, "", int(issue)
    found = re.search(r"\d+", issue)
    if not found:
        return False, False, issue, -1
    return False, True, issue[:found.start()] + issue[found.end():], int(found.group())


def _render_issue(settings: Towncrier, issue: str) -> str:
    if settings.issue_format:
        return settings.issue_format.format(issue=issue)
    return f"#{issue}" if issue.isdigit() else issue


def _bullet_rank(text: str) -> int:
    if not text:
        return -1
    return 0 if text[:2] == "- " else 1 if text[:2] == "* " else 2 if text[:3] == "#. " else 3


def _collect(settings: Towncrier, folder: str, fragments: Mapping[str, str], version: str
             ) -> dict[str, dict[str, list[str]]]:
    """type -> {entry text -> its issues}, for the fragments directly in `folder`."""
    ignored = {*_IGNORED, *(settings.ignore or ())}
    keys = [t.key for t in settings.types]
    showing = {t.key: t.showcontent for t in settings.types}
    seen: set[tuple[str, str, int]] = set()
    orphans: dict[str, int] = {}
    found: dict[str, dict[str, list[str]]] = {}
    for path in sorted(fragments):
        parent, _, name = path.rpartition("/")
        if (parent or ".") != folder or any(fnmatch.fnmatch(name.lower(), p) for p in ignored):
            continue
        parsed = parse_name(name, keys)
        if parsed is None:
            if settings.ignore is not None:
                raise RefusedError(f"{path}: not a news fragment of {version} (name it <issue>.<type>.rst "
                                   f"with a type among {', '.join(keys)}, or list it in [tool.towncrier] "
                                   "ignore)")
            continue
        issue, kind, counter = parsed
        if settings.orphan_prefix and issue.startswith(settings.orphan_prefix):
            issue, counter = "", orphans.get(kind, 0)
            orphans[kind] = counter + 1
        if settings.issue_pattern and issue and not re.fullmatch(settings.issue_pattern, issue):
            raise RefusedError(f"{path}: the issue {issue!r} does not match [tool.towncrier] issue_pattern "
                               f"{settings.issue_pattern!r}; rename the fragment before releasing {version}")
        if (issue, kind, counter) in seen:
            raise RefusedError(f"{path}: a second fragment for {issue}.{kind} in {folder}/; merge them "
                               f"before releasing {version}")
        seen.add((issue, kind, counter))
        text = fragments[path]
        text = _indent(text.strip()) if settings.all_bullets else text.rstrip()
        if not showing[kind] and issue:
            text = ""
        issues = found.setdefault(kind, {}).setdefault(text, [])
        if issue:
            issues.append(issue)
    return {kind: dict(entries) for kind, entries in found.items()}


def _indent(text: str) -> str:
    """Continuation lines indented under the bullet (blank lines left alone), as towncrier does."""
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(True))[2:]


def _entries(settings: Towncrier, entries: Mapping[str, list[str]]) -> list[str]:
    ordered = [(text, sorted(issues, key=_issue_key)) for text, issues in entries.items()]
    ordered.sort(key=lambda entry: ("" if entry[1] else entry[0], [_issue_key(i) for i in entry[1]]))
    if not settings.all_bullets:
        ordered.sort(key=lambda entry: _bullet_rank(entry[0]))
    lines = []
    for text, issues in ordered:
        if not text and not issues:
            continue  # an empty fragment without an issue says nothing
        rendered = ", ".join(_render_issue(settings, i) for i in issues)
        if text and rendered:
            lines.append(f"- {text} ({rendered})")
        else:
            lines.append(f"- {text or rendered}")
    return lines


def _heading(settings: Towncrier, title: str, level: int) -> list[str]:
    if settings.markdown:
        return [f"{'#' * (level + 1)} {title}", ""]
    underlines = settings.underlines[1:] or ("-", "~")
    return [title, underlines[min(level - 1, len(underlines) - 1)] * len(title), ""]


def render_fragments(settings: Towncrier, fragments: Mapping[str, str], version: str) -> str:
    """The notes `towncrier build --version V` would write for the fragments given (path relative to
    the repository root -> contents), without the version's title; "" when there are none."""
    sections = [(title, _collect(settings, folder, fragments, version)) for title, folder in settings.folders]
    if not any(found for _, found in sections):
        return ""
    lines: list[str] = []
    for title, found in sections:
        level = 1
        if title:
            lines += _heading(settings, title, 1)
            level = 2
        if not found:
            lines += ["No significant changes.", ""]
            continue
        for kind in settings.types:
            if kind.key in found:
                lines += [*_heading(settings, kind.name, level), *_entries(settings, found[kind.key]), ""]
    return "\n".join(lines).strip()
