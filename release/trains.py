# SPDX-License-Identifier: Apache-2.0
"""Release trains: `[tool.release.trains.NAME]`, read into frozen objects. Pure.

A train is a set of distributions released under one vote, with its own tags, svn layout, images,
vote policy and release notes: Airflow's `core` (apache-airflow, -core and the task SDK at its own
version) and its `providers` (every provider under `providers/`, each at its own version, released
in waves). A configuration without trains is one train: the release's distributions, bare version
tags, a folder per release in svn, the images, as before (`ReleaseConfig.all_trains`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath
from string import Formatter
from typing import Any

from release.errors import ConfigError

TRAIN_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_ID = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
# What git refuses in a ref name (git check-ref-format), plus the characters no tag should carry.
_BAD_REF = re.compile(r"(^[/.]|[/.]$|\.\.|//|@\{|[\x00-\x20\x7f~^:?*\[\\]|\.lock(/|$)|/\.)")


class SvnLayout(str, Enum):
    VERSIONED = "versioned"  # a folder per release: <folder>/<version>/<files>
    FLAT = "flat"  # no version folders: <folder>/<files>, the newest version of each distribution


class VersionFrom(str, Enum):
    RELEASE = "release"  # the version the release manager gives (`--version`): today's single train
    PYPROJECT = "pyproject"  # [project].version of the distribution's pyproject.toml
    ATTRIBUTE = "__version__"  # `__version__ = "..."` in a Python file
    PROVIDER_YAML = "provider.yaml"  # the first of `versions:` in Airflow's provider.yaml


_DEFAULT_FILES = {VersionFrom.PYPROJECT: "pyproject.toml", VersionFrom.PROVIDER_YAML: "provider.yaml"}


@dataclass(frozen=True)
class VersionSource:
    """Where a distribution declares its version: a file relative to its directory, and how to read it."""

    kind: VersionFrom
    file: str = ""

    def path_in(self, directory: str) -> str:
        """The file's path from the repository root, for a distribution in `directory`."""
        return posixpath.normpath(posixpath.join(directory, self.file)) if self.file else ""


@dataclass(frozen=True)
class TrainDistribution:
    """A distribution the train names (`name` is "" for one a pattern finds: its pyproject names it)."""

    name: str
    path: str
    id: str  # what `{id}` in a tag template stands for: the name, or the folder under the pattern
    version: VersionSource
    tag: str  # e.g. `task-sdk/{version}`
    svn_folder: str  # its folder in the dev and release areas ("" = the project's own)


class NotesFrom(str, Enum):
    NONE = "none"
    TOWNCRIER = "towncrier"  # newsfragments, rendered for the release (Airflow's core)
    CHANGELOG = "changelog"  # a changelog file per distribution, its section for the version (providers)


@dataclass(frozen=True)
class ReleaseNotes:
    kind: NotesFrom = NotesFrom.NONE
    # towncrier: its newsfragments folder (root-relative); changelog: the file, relative to each distribution
    path: str = ""


@dataclass(frozen=True)
class VotePolicy:
    """The ASF's rules by default: open at least 72 hours, at least three binding +1."""

    hours: int = 72
    binding: int = 3


@dataclass(frozen=True)
class ConstraintsRefs:
    """Constraints as git refs, as Airflow's install instructions read them: a tag per release on a
    constraints branch, and a moving tag on the highest final."""

    branch: str = "constraints-{major}-{minor}"
    tag: str = "constraints-{version}"
    latest: str = "constraints-latest"


@dataclass(frozen=True)
class Train:
    name: str
    distributions: tuple[TrainDistribution, ...] = ()  # listed ones; a pattern train finds its own
    pattern: str = ""  # e.g. `providers/**`: every folder below providers/ holding a pyproject.toml
    version: VersionSource = VersionSource(VersionFrom.PYPROJECT, "pyproject.toml")  # for found ones
    tag: str = "{version}"  # for found ones
    svn_folder: str = ""  # for found ones
    state: str = ""  # the file (relative to each distribution) with `state:`; "": every one is ready
    svn: SvnLayout = SvnLayout.VERSIONED
    source_tarball: str = ""  # template with {name}, {train}, {version}, {date}; "" = the layout's default
    wave_tag: str = ""  # a tag on the wave's commit, e.g. `providers/{date}`; "" = none
    images: tuple[str, ...] = ()  # the distributions the images install; () = no images
    vote: VotePolicy = VotePolicy()
    notes: ReleaseNotes = ReleaseNotes()
    constraints: ConstraintsRefs | None = None
    staging: str = ""  # svn | atr; "" = the project's own `staging`

    @property
    def is_pattern(self) -> bool:
        return bool(self.pattern)

    def tarball_template(self) -> str:
        if self.source_tarball:
            return self.source_tarball
        if self.svn is SvnLayout.FLAT:
            return "{name}-{train}-{date}-source.tar.gz"
        return "{name}-{version}-source.tar.gz"


def _error(key: str, message: str) -> ConfigError:
    return ConfigError(f"[tool.release] {key}: {message}")


def _relative(key: str, value: Any, *, allow_root: bool = False, glob: bool = False) -> str:
    if not isinstance(value, str) or (not value.strip() and not allow_root):
        raise _error(key, f"expected a path inside the repository, got {value!r}")
    path = PurePosixPath(value or ".")
    bad = path.is_absolute() or ".." in path.parts or "\\" in value or re.search(r"[\x00-\x1f]", value)
    if bad or (not glob and re.search(r"[*?\[]", value)):
        raise _error(key, f"{value!r} must be a relative path inside the repository")
    return path.as_posix()


def _template(key: str, value: Any, allowed: tuple[str, ...], *, required: str = "",
              ref: bool = False) -> str:
    if not isinstance(value, str) or not value:
        raise _error(key, f"expected a template string, got {value!r}")
    try:
        fields = {name for _, name, _, _ in Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise _error(key, f"{value!r} is not a template: {exc}") from None
    unknown = sorted(fields - set(allowed))
    if unknown:
        named = ", ".join(f"{{{a}}}" for a in allowed) or "none"
        raise _error(key, f"{value!r} uses {{{unknown[0]}}}; it may use {named}")
    if required and required not in fields:
        raise _error(key, f"{value!r} must contain {{{required}}}")
    if ref:
        sample = value.format(**dict.fromkeys(allowed, "x1.0"))
        if _BAD_REF.search(sample):
            raise _error(key, f"{value!r} does not make a valid git tag name")
    return value


def _version_source(key: str, value: Any) -> VersionSource:
    if isinstance(value, str):
        value = {"from": value}
    if not isinstance(value, dict):
        raise _error(key, f"expected a table {{from, file}} or 'pyproject' / 'provider.yaml', got {value!r}")
    unknown = sorted(set(value) - {"from", "file"})
    if unknown:
        raise _error(key, f"unknown field {unknown[0]!r}; known: from, file")
    kinds = [k.value for k in VersionFrom if k is not VersionFrom.RELEASE]
    try:
        kind = VersionFrom(value.get("from"))
    except ValueError:
        kind = None
    if kind is None or kind is VersionFrom.RELEASE:
        raise _error(key, f"from: expected one of {', '.join(kinds)}, got {value.get('from')!r}")
    file = value.get("file", _DEFAULT_FILES.get(kind, ""))
    if not file:
        raise _error(key, f"file: {kind.value} needs the file that declares it, e.g. 'src/pkg/__init__.py'")
    return VersionSource(kind, _relative(f"{key}.file", file))


_DIST_FIELDS = ("name", "path", "id", "version", "tag", "svn-folder")
TAG_FIELDS = ("version", "id", "name")
_KEYS: dict[str, str] = {
    "distributions": "a list of tables {name, path, id, version, tag, svn-folder}, or a pattern like "
                     "'providers/**'",
    "version": "where each distribution's version comes from: {from, file}",
    "state": "the file with each distribution's `state:`, e.g. 'provider.yaml'",
    "tag": "a git tag template like 'providers-{id}/{version}'",
    "svn": "'versioned' or 'flat'",
    "svn-folder": "a folder in the dev and release areas, e.g. 'providers'",
    "source-tarball": "a file name template like 'apache_airflow_providers-{date}-source.tar.gz'",
    "wave-tag": "a git tag template like 'providers/{date}'",
    "images": "a list of the distributions the images install",
    "vote": "a table {hours, binding}",
    "release-notes": "a table {towncrier = 'newsfragments'} or {changelog = 'docs/changelog.rst'}",
    "constraints": "a table {branch, tag, latest}",
    "staging": "'svn' or 'atr' (default: the project's staging)",
}


def _distribution(key: str, item: Any, train: Mapping[str, Any]) -> TrainDistribution:
    if not isinstance(item, dict):
        raise _error(key, f"expected a table {{{', '.join(_DIST_FIELDS)}}}, got {item!r}")
    unknown = sorted(set(item) - set(_DIST_FIELDS))
    if unknown:
        raise _error(key, f"unknown field {unknown[0]!r}; known: {', '.join(_DIST_FIELDS)}")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _error(key, f"name: {name!r} is not a valid distribution name")
    where = f"{key} {name}"
    ident = item.get("id", name)
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        raise _error(f"{where}: id", f"{ident!r} is not an id (letters, digits, '.', '_', '-')")
    return TrainDistribution(
        name=name,
        path=_relative(f"{where}: path", item.get("path", "."), allow_root=True),
        id=ident,
        version=_version_source(f"{where}: version", item["version"]) if "version" in item
        else train["version"],
        tag=_template(f"{where}: tag", item["tag"], TAG_FIELDS, required="version", ref=True) if "tag" in item
        else train["tag"],
        svn_folder=_relative(f"{where}: svn-folder", item["svn-folder"]) if "svn-folder" in item
        else train["svn_folder"],
    )


def _int(key: str, value: Any, lowest: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
        raise _error(key, f"expected a whole number of at least {lowest}, got {value!r}")
    return value


def _vote(key: str, value: Any) -> VotePolicy:
    if not isinstance(value, dict) or set(value) - {"hours", "binding"}:
        raise _error(key, f"expected {_KEYS['vote']}, got {value!r}")
    minimum = VotePolicy()  # the ASF's: a train may ask for more, never for less
    return VotePolicy(_int(f"{key}.hours", value.get("hours", minimum.hours), minimum.hours),
                      _int(f"{key}.binding", value.get("binding", minimum.binding), minimum.binding))


def _notes(key: str, value: Any) -> ReleaseNotes:
    if not isinstance(value, dict) or len(value) != 1 or not set(value) <= {"towncrier", "changelog"}:
        raise _error(key, f"expected {_KEYS['release-notes']}, got {value!r}")
    (kind, path), = value.items()
    return ReleaseNotes(NotesFrom(kind), _relative(f"{key}.{kind}", path))


def _constraints(key: str, value: Any) -> ConstraintsRefs:
    if not isinstance(value, dict) or set(value) - {"branch", "tag", "latest"}:
        raise _error(key, f"expected {_KEYS['constraints']}, got {value!r}")
    default = ConstraintsRefs()
    version_fields = ("version", "major", "minor")
    return ConstraintsRefs(
        branch=_template(f"{key}.branch", value.get("branch", default.branch), ("major", "minor"), ref=True),
        tag=_template(f"{key}.tag", value.get("tag", default.tag), version_fields, required="version",
                      ref=True),
        latest=_template(f"{key}.latest", value.get("latest", default.latest), (), ref=True),
    )


def _string_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _error(key, f"expected a list of strings, got {value!r}")
    return tuple(value)


def parse_train(name: str, table: Any) -> Train:
    """One `[tool.release.trains.NAME]` table, or one ConfigError naming the key."""
    if not TRAIN_NAME.fullmatch(name):  # `$` alone would let a trailing newline through
        shown = name if name.isprintable() else repr(name)  # one line, whatever the name holds
        raise _error(f"trains.{shown}", "a train's name is lowercase letters, digits and single dashes, "
                                        "like 'task-sdk'")
    key = f"trains.{name}"
    if not isinstance(table, dict):
        raise _error(key, f"expected a table with some of {', '.join(_KEYS)}, got {table!r}")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise _error(key, f"unknown key {unknown[0]!r}; known keys: {', '.join(_KEYS)}")
    svn_value = table.get("svn", SvnLayout.VERSIONED.value)
    if svn_value not in {layout.value for layout in SvnLayout}:
        raise _error(f"{key}.svn", f"expected 'versioned' or 'flat', got {svn_value!r}")
    defaults: dict[str, Any] = {
        "version": _version_source(f"{key}.version", table.get("version", "pyproject")),
        "tag": _template(f"{key}.tag", table.get("tag", "{version}"), TAG_FIELDS, required="version",
                         ref=True),
        "svn_folder": _relative(f"{key}.svn-folder", table["svn-folder"]) if "svn-folder" in table else "",
    }
    listed = table.get("distributions")
    pattern = ""
    distributions: tuple[TrainDistribution, ...] = ()
    if isinstance(listed, str):
        pattern = _relative(f"{key}.distributions", listed, glob=True)
        if "*" not in pattern:
            raise _error(f"{key}.distributions",
                         f"{listed!r} is no pattern: list the distributions as tables")
    elif isinstance(listed, list) and listed:
        distributions = tuple(_distribution(f"{key}.distributions", item, defaults) for item in listed)
    else:
        raise _error(f"{key}.distributions", f"expected {_KEYS['distributions']}, got {listed!r}")
    seen: set[str] = set()
    for dist in distributions:
        canonical = re.sub(r"[-_.]+", "-", dist.name).lower()
        if canonical in seen:
            raise _error(f"{key}.distributions", f"{dist.name!r} is listed twice")
        seen.add(canonical)
    layout = SvnLayout(svn_value)
    several = pattern or len(distributions) > 1
    if layout is SvnLayout.FLAT and several and not re.search(r"\{(id|name)\}", defaults["tag"]) and (
            pattern or any(d.tag == defaults["tag"] for d in distributions)):
        raise _error(f"{key}.tag", f"{defaults['tag']!r}: in a flat train each distribution has its own "
                     "versions, so its tags need {id} or {name}, like 'providers-{id}/{version}'")
    staging = table.get("staging", "")
    if "staging" in table and staging not in ("svn", "atr"):
        raise _error(f"{key}.staging", f"expected 'svn' or 'atr', got {staging!r}")
    images = _string_list(f"{key}.images", table.get("images", []))
    if distributions:
        names = {d.name for d in distributions}
        stray = [image for image in images if image not in names]
        if stray:
            raise _error(f"{key}.images", f"{stray[0]!r} is not one of the train's distributions "
                         f"({', '.join(sorted(names))})")
    constraints = _constraints(f"{key}.constraints", table["constraints"]) if "constraints" in table else None
    if constraints is not None and layout is SvnLayout.FLAT:
        raise _error(f"{key}.constraints", "a flat train's distributions each have their own version, and "
                     "constraints tags name one release: only a train with svn = \"versioned\" has them")
    if constraints is not None and not images:
        raise _error(f"{key}.constraints", "its constraints files are what the train's images installed, and "
                     "the train has no images: add `images`, or leave `constraints` out")
    return Train(
        name=name,
        distributions=distributions,
        pattern=pattern,
        version=defaults["version"],
        tag=defaults["tag"],
        svn_folder=defaults["svn_folder"],
        state=_relative(f"{key}.state", table["state"]) if "state" in table else "",
        svn=layout,
        source_tarball=_template(f"{key}.source-tarball", table["source-tarball"],
                                 ("name", "train", "version", "date"))
        if "source-tarball" in table else "",
        wave_tag=_template(f"{key}.wave-tag", table["wave-tag"], ("date", "train"), required="date", ref=True)
        if "wave-tag" in table else "",
        images=images,
        vote=_vote(f"{key}.vote", table["vote"]) if "vote" in table else VotePolicy(),
        notes=_notes(f"{key}.release-notes", table["release-notes"]) if "release-notes" in table
        else ReleaseNotes(),
        constraints=constraints,
        staging=staging,
    )


def parse_trains(key: str, value: Mapping[str, Any]) -> tuple[Train, ...]:
    """`[tool.release.trains]`: a table of trains by name."""
    if not value:
        raise _error(key, "empty; leave the key out for the one train of the release's distributions")
    return tuple(parse_train(name, table) for name, table in value.items())


def default_train(name: str, distributions: tuple[tuple[str, str, str], ...], changelog: str) -> Train:
    """The one train of a configuration without trains: the release's distributions (name, path,
    version-from), each at the release's version unless it declares its own, bare version tags, a
    folder per release, images of the release's own distribution, its changelog."""
    listed = tuple(
        TrainDistribution(
            name=dist, path=path, id=dist, tag="{version}", svn_folder="",
            version=VersionSource(VersionFrom.ATTRIBUTE, _relative_to(version_from, path)) if version_from
            else VersionSource(VersionFrom.RELEASE),
        )
        for dist, path, version_from in distributions
    )
    return Train(name=name, distributions=listed, images=(name,),
                 notes=ReleaseNotes(NotesFrom.CHANGELOG, changelog))


def _relative_to(file: str, directory: str) -> str:
    """`file` (root-relative) as seen from `directory`: `task-sdk/src/x.py` from `task-sdk` is `src/x.py`."""
    parts, base = PurePosixPath(file).parts, PurePosixPath(directory).parts
    if directory in ("", ".") or parts[:len(base)] != base:
        return "/".join([".."] * (0 if directory in ("", ".") else len(base)) + list(parts))
    return "/".join(parts[len(base):])
