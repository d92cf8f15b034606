"""The tag planner: which image tags a build gets, and which flavour each points at. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from release.versions import ReleaseVersion


class BuildKind(str, Enum):
    RELEASE = "release"
    MASTER = "master"


@dataclass(frozen=True)
class Tag:
    name: str
    python: str
    moving: bool  # an alias that later releases may move (X.Y, latest, master)

    @property
    def is_bare(self) -> bool:
        return not self.name.endswith(f"-python{self.python}")


@dataclass(frozen=True)
class TagPlan:
    version: ReleaseVersion | None
    kind: BuildKind
    tags: tuple[Tag, ...]
    owns_line: bool
    owns_latest: bool

    def as_mapping(self) -> dict[str, str]:
        return {tag.name: tag.python for tag in self.tags}

    def immutable(self) -> tuple[Tag, ...]:
        return tuple(tag for tag in self.tags if not tag.moving)

    def aliases(self) -> tuple[Tag, ...]:
        return tuple(tag for tag in self.tags if tag.moving)


def _flavoured(prefix: str, flavours: Sequence[str], default: str, *, moving: bool) -> list[Tag]:
    tags = [Tag(f"{prefix}-python{p}", p, moving) for p in flavours]
    tags.append(Tag(prefix, default, moving))
    return tags


def owns_line(version: ReleaseVersion, existing: Iterable[ReleaseVersion]) -> bool:
    """True when `version` is the highest non-prerelease of its X.Y line."""
    if version.is_prerelease:
        return False
    same_line = [v for v in existing if v.line == version.line and not v.is_prerelease]
    return all(version >= v for v in same_line)


def owns_latest(version: ReleaseVersion, existing: Iterable[ReleaseVersion]) -> bool:
    """True when `version` is the highest non-prerelease of all."""
    if version.is_prerelease:
        return False
    return all(version >= v for v in existing if not v.is_prerelease)


def plan_tags(
    *,
    version: ReleaseVersion | None,
    flavours: Sequence[str],
    default: str,
    kind: BuildKind,
    existing: Iterable[ReleaseVersion] = (),
) -> TagPlan:
    """Every tag of a build. `existing` is what the registry and index already hold (any order)."""
    if not flavours:
        raise ValueError("at least one Python flavour is needed")
    if default not in flavours:
        raise ValueError(f"default flavour {default} is not one of {', '.join(flavours)}")
    if len(set(flavours)) != len(flavours):
        raise ValueError("Python flavours must be unique")
    ordered = list(flavours)
    if kind is BuildKind.MASTER:
        tags = _flavoured("master", ordered, default, moving=True)
        return TagPlan(version, kind, tuple(tags), owns_line=False, owns_latest=False)
    if version is None:
        raise ValueError("a release build needs a version")
    known = list(existing)
    line = owns_line(version, known)
    latest = owns_latest(version, known)
    tags = _flavoured(str(version), ordered, default, moving=False)
    if line:
        tags += _flavoured(version.line, ordered, default, moving=True)
    if latest:
        tags += _flavoured("latest", ordered, default, moving=True)
    return TagPlan(version, kind, tuple(tags), owns_line=line, owns_latest=latest)
