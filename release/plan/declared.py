# SPDX-License-Identifier: Apache-2.0
"""What a train's tree declares, read from file texts the pipeline hands over. Pure.

Which folders a pattern train's distributions are (`find_distributions`), each one's declared
version (pyproject, a `__version__`, provider.yaml's `versions`), its state and source-date-epoch
(provider.yaml), and which of its versions the existing git tags name (`tagged_versions`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath
from typing import Any

import yaml

from release.errors import ConfigError, VersionError
from release.trains import Train, VersionFrom, VersionSource
from release.versions import ReleaseVersion, parse_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib

_ATTRIBUTE = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.MULTILINE)


class State(str, Enum):
    """A distribution's state, as Airflow's provider.yaml spells it."""

    READY = "ready"  # released when it changed
    NOT_READY = "not-ready"  # released only when listed by name
    SUSPENDED = "suspended"  # never released
    REMOVED = "removed"  # gets one last release, then its sources go


@dataclass(frozen=True)
class Found:
    """A distribution a pattern found: its folder, and its id (the folder under the pattern's fixed
    part, `/` as `-`: `providers/common/io` -> `common-io`, as in `providers-common-io/1.11.0`)."""

    path: str
    id: str


def _fixed_part(pattern: str) -> tuple[str, ...]:
    parts = PurePosixPath(pattern).parts
    fixed = []
    for part in parts:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    return tuple(fixed)


def _matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """`*` is one path segment, `**` one or more."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_matches(parts[n:], rest) for n in range(1, len(parts) + 1))
    return bool(parts) and PurePosixPath(parts[0]).match(head) and _matches(parts[1:], rest)


def find_distributions(train: Train, files: Iterable[str]) -> tuple[Found, ...]:
    """The folders of the tree (`files`: every file's path) that match the train's pattern and hold a
    pyproject.toml, sorted; a folder inside another one found is part of it, not a distribution."""
    pattern = PurePosixPath(train.pattern).parts
    fixed = _fixed_part(train.pattern)
    folders = sorted({str(PurePosixPath(f).parent) for f in files
                      if PurePosixPath(f).name == "pyproject.toml"})
    matched = [f for f in folders if _matches(PurePosixPath(f).parts, pattern)]
    outer = [f for f in matched if not any(f.startswith(other + "/") for other in matched)]
    return tuple(Found(f, "-".join(PurePosixPath(f).parts[len(fixed):])) for f in outer)


def declared_version(source: VersionSource, text: str, where: str) -> str:
    """The final version `text` (the file `where`) declares, read as `source` says."""
    found: Any = None
    try:
        if source.kind is VersionFrom.PYPROJECT:
            found = tomllib.loads(text).get("project", {}).get("version")
        elif source.kind is VersionFrom.ATTRIBUTE:
            match = _ATTRIBUTE.search(text)
            found = match.group(1) if match else None
        elif source.kind is VersionFrom.PROVIDER_YAML:
            versions = (yaml.safe_load(text) or {}).get("versions")
            found = str(versions[0]) if isinstance(versions, list) and versions else None
    except (tomllib.TOMLDecodeError, yaml.YAMLError, AttributeError) as exc:
        raise ConfigError(f"{where}: cannot read its version: {_one_line(exc)}") from None
    if not isinstance(found, str):
        raise ConfigError(f"{where}: declares no version ({source.kind.value})")
    try:
        version = parse_version(found)
    except VersionError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if version.is_prerelease or version.value.post is not None:
        raise ConfigError(f"{where}: declares {found}; declare the final X.Y.Z, the release adds rcN itself")
    return found


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


@dataclass(frozen=True)
class Declared:
    """What a provider.yaml-like file says beside the version."""

    state: State = State.READY
    source_date_epoch: int | None = None


def declared_state(text: str, where: str) -> Declared:
    """`state:` (default ready) and `source-date-epoch:` of a provider.yaml."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {_one_line(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with state: and versions:")
    try:
        state = State(data.get("state", State.READY.value))
    except ValueError:
        known = ", ".join(s.value for s in State)
        raise ConfigError(f"{where}: state: {data.get('state')!r} is not one of {known}") from None
    epoch = data.get("source-date-epoch")
    if epoch is not None and (not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0):
        raise ConfigError(f"{where}: source-date-epoch: expected seconds since 1970, got {epoch!r}")
    return Declared(state, epoch)


def tag_for(template: str, version: ReleaseVersion | str, *, ident: str, name: str) -> str:
    """The git tag of `version` by the template: `providers-{id}/{version}` -> `providers-http/6.3.1rc1`."""
    return template.format(version=version, id=ident, name=name)


def tag_glob(template: str, *, ident: str, name: str) -> str:
    """The tags a template can name for one distribution, as a glob: `providers-http/*`."""
    return template.format(version="*", id=ident, name=name)


def tagged_versions(template: str, tags: Iterable[str], *, ident: str,
                    name: str) -> tuple[ReleaseVersion, ...]:
    """The versions (finals and candidates) whose tags exist, sorted; other tags are ignored."""
    head, _, tail = template.format(version="\0", id=ident, name=name).partition("\0")
    found = []
    for tag in tags:
        if tag.startswith(head) and tag.endswith(tail) and len(tag) > len(head) + len(tail):
            try:
                found.append(parse_version(tag[len(head):len(tag) - len(tail)]))
            except VersionError:
                continue
    return tuple(sorted(set(found)))
