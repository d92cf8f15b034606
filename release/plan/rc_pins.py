# SPDX-License-Identifier: Apache-2.0
"""The pins between a versioned train's own distributions in its rc-numbered packages. Pure.

Airflow's core train releases `apache-airflow`, `apache-airflow-core` and `apache-airflow-task-sdk`
together, and they pin each other at the final version: the meta package requires
`apache-airflow-core==3.3.3` and `apache-airflow-task-sdk==1.3.3`, core the task SDK `==1.3.3`. The
packages put on the index during the vote carry the candidates' versions (`3.3.3rc1`, `1.3.3rc1`),
which those pins refuse, so each rc-numbered package gets them rewritten: every clause of a
requirement on a sibling that names the sibling's final version names its candidate instead
(`apache-airflow-core==3.3.3` -> `apache-airflow-core==3.3.3rc1`, `>=1.3.3` -> `>=1.3.3rc1`);
clauses at other versions (`apache-airflow-core>=3.3.0,<3.4.0`), requirements on anything else and
the rest of the metadata stay as they are. The voted packages keep the pins as the tree has them.

`rc_requirement` rewrites one requirement, `rewrite_pins` a pyproject.toml's text (its `[project]`
`dependencies` and `optional-dependencies`, where a backend with static metadata reads them), and
`unmet_pins` checks a built package's `Requires-Dist` lines: each requirement on a sibling must
admit the sibling's candidate.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release.errors import RefusedError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib

Pins = Mapping[str, tuple[str, str]]  # a sibling's canonical name -> (its final version, its candidate)
_RAISED = ("==", ">=", "~=", "===")  # the operators whose clause at the final refuses its candidate
_HEADER = re.compile(r"^[ \t]*\[{1,2}[ \t]*([^\[\]\n]+?)[ \t]*\]{1,2}[ \t]*(?:#.*)?$", re.M)
_TABLES = ("project", "project.optional-dependencies")


def pins_of(siblings: Iterable[tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    """(name, final, candidate) of each distribution of the train -> `Pins`."""
    return {str(canonicalize_name(name)): (final, candidate) for name, final, candidate in siblings}


def _same(version: str, final: str) -> bool:
    try:
        return Version(version) == Version(final)
    except InvalidVersion:
        return False


def rc_requirement(requirement: str, pins: Pins) -> str:
    """`requirement` as the rc-numbered packages carry it: unchanged unless it names a sibling with a
    clause at its final version, which then names its candidate, the rest of the string as it is
    (spacing, extras, markers). Refused when the result still does not admit the candidate (the
    rc-numbered packages would not install together)."""
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return requirement  # not ours to read: the build backend reports it
    pin = pins.get(str(canonicalize_name(parsed.name)))
    if pin is None:
        return requirement
    final, candidate = pin
    head, sep, marker = requirement.partition(";")
    for clause in parsed.specifier:
        if clause.operator in _RAISED and _same(clause.version, final):
            head = re.sub(rf"(?<![<>=!~])({re.escape(clause.operator)})(\s*){re.escape(clause.version)}"
                          r"(?=\s*(?:,|\)|$))", lambda m: f"{m[1]}{m[2]}{candidate}", head)
    rewritten = head + sep + marker
    if not Requirement(rewritten).specifier.contains(candidate, prereleases=True):
        raise RefusedError(f"{requirement!r} refuses {parsed.name} {candidate}, released together with it: "
                           f"pin {parsed.name} at {final} (==, >= or ~=) so that its rc-numbered package "
                           "can name the candidate")
    return rewritten


def _requirements(project: Mapping[str, Any]) -> list[str]:
    found = [r for r in project.get("dependencies") or () if isinstance(r, str)]
    extras = project.get("optional-dependencies") or {}
    if isinstance(extras, Mapping):
        found += [r for group in extras.values() if isinstance(group, list)
                  for r in group if isinstance(r, str)]
    return found


def _spans(text: str) -> list[tuple[int, int]]:
    """Where `[project]` and `[project.optional-dependencies]` are in a pyproject.toml's text."""
    headers = list(_HEADER.finditer(text))
    ends = [h.start() for h in headers[1:]] + [len(text)]
    return [(h.end(), end) for h, end in zip(headers, ends) if h.group(1).replace(" ", "") in _TABLES
            and not h.group(0).lstrip().startswith("[[")]


def _requote(text: str, old: str, new: str) -> str:
    """`text` with each TOML string literal `"old"` (or `'old'`) spelling `new` instead."""
    return re.sub(rf"""(["']){re.escape(old)}\1""", lambda m: f"{m[1]}{new}{m[1]}", text)


def rewrite_pins(text: str, pins: Pins, *, file: str = "pyproject.toml"
                 ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A pyproject.toml's text with its `[project]` requirements on siblings as the rc-numbered
    packages carry them (`rc_requirement`), and each (requirement, rewritten) pair; the rest of the
    text byte for byte. A rewrite it cannot place in the text (a requirement spelt with escapes) is
    refused, naming `file`."""
    try:
        project = tomllib.loads(text).get("project") or {}
    except tomllib.TOMLDecodeError as exc:
        raise RefusedError(f"{file}: {exc}") from exc
    changed = [(r, rc_requirement(r, pins)) for r in dict.fromkeys(_requirements(project))]
    changed = [(old, new) for old, new in changed if new != old]
    for old, new in changed:
        placed = False
        for start, end in reversed(_spans(text)):  # from the end: the spans before stay where they are
            part = text[start:end]
            found = _requote(part, old, new)
            if found != part:
                text, placed = text[:start] + found + text[end:], True
        if not placed:
            raise RefusedError(f"{file}: cannot find {old!r} in its [project] tables to pin the candidate "
                               "there; write it as a plain string")
    return text, tuple(changed)


def unmet_pins(requires: Iterable[str], pins: Pins) -> tuple[str, ...]:
    """The `Requires-Dist` lines of a built package that name a sibling and refuse its candidate."""
    unmet = []
    for line in requires:
        try:
            parsed = Requirement(line)
        except InvalidRequirement:
            continue
        pin = pins.get(str(canonicalize_name(parsed.name)))
        if pin is not None and not parsed.specifier.contains(pin[1], prereleases=True):
            unmet.append(line)
    return tuple(unmet)

