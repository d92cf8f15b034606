# SPDX-License-Identifier: Apache-2.0
"""Image tags: the one place that spells them, and the planner that decides which a build gets. Pure.

Spellings: `V-pythonP` and `V` (immutable), `X.Y-pythonP` and `X.Y`, `latest-pythonP` and
`latest`, `master-pythonP` and `master` (moving). The bare form belongs to the default flavour.
An image variant (e.g. `slim`) prefixes every one of them: `slim-V-pythonP`, `slim-V`,
`slim-latest`, ...; the default image has no prefix.

With several platforms each of those tags is an image index, and each platform's image is pushed
under a helper tag of its own, the flavour's tag and the platform: `V-pythonP-ARCH` (e.g.
`1.10.6-python3.11-arm64`, `master-python3.11-amd64`; a variant's `slim-V-pythonP-ARCH`). A
join assembles the index from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from release import platforms
from release.errors import VersionError
from release.identity import ImageId
from release.versions import ReleaseVersion, parse_existing, shown

FLAVOUR_SEPARATOR = "-python"
VARIANT_SEPARATOR = "-"
MASTER = "master"
LATEST = "latest"
# A variant is a leading word of lowercase letters and digits (release/config.py checks the
# declared names the same way); versions start with a digit, and these words are no variants.
_VARIANT = re.compile(r"^[a-z][a-z0-9]*$")
WITHDRAWN = "withdrawn-"  # `withdrawn-V`: published by `invoke withdraw`, read by every plan
MAX_TAG_LENGTH = 128  # Docker's limit: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
_NOT_VARIANTS = frozenset({LATEST, MASTER, "python", "default", WITHDRAWN.rstrip("-")})


def tag_name(prefix: str, flavour: str | None = None, variant: str = "") -> str:
    """`[VARIANT-]prefix-pythonP`, or the bare `[VARIANT-]prefix` when `flavour` is None."""
    name = prefix if flavour is None else f"{prefix}{FLAVOUR_SEPARATOR}{flavour}"
    return f"{variant}{VARIANT_SEPARATOR}{name}" if variant else name


def version_tag(version: ReleaseVersion | str, flavour: str, variant: str = "") -> str:
    """The immutable tag one flavour's image of a release is pushed under: `[VARIANT-]V-pythonP`."""
    return tag_name(str(version), flavour, variant)


def image_tag(prefix: ReleaseVersion | str, image: ImageId) -> str:
    """The tag `image` of a release (`prefix` its version) or of the master build (`master`) is
    pushed under: `[VARIANT-]prefix-pythonP`, and for one of several platforms' images its helper
    tag `...-ARCH`."""
    tag = tag_name(str(prefix), image.flavour, image.variant)
    return platform_tag(tag, image.platform) if image.platform else tag


@dataclass(frozen=True)
class TagParts:
    """A tag taken apart: `slim-3.3.2-python3.11` -> variant `slim`, prefix `3.3.2`, flavour `3.11`."""

    variant: str
    prefix: str
    flavour: str | None


def parse_tag(name: str) -> TagParts:
    """The variant, prefix and flavour of a tag; the inverse of `tag_name`."""
    rest, separator, found = name.rpartition(FLAVOUR_SEPARATOR)
    flavour: str | None = found
    if not (separator and rest and found and all(part.isdigit() for part in found.split("."))):
        rest, flavour = name, None
    head, separator, tail = rest.partition(VARIANT_SEPARATOR)
    if separator and tail and _VARIANT.match(head) and head not in _NOT_VARIANTS:
        return TagParts(head, tail, flavour)
    return TagParts("", rest, flavour)


def platform_tag(tag: str, platform: str) -> str:
    """The helper tag one platform's image of `tag` is pushed under: `V-pythonP-ARCH`."""
    return f"{tag}-{platforms.info(platform).suffix}"


_PLATFORM_OF_SUFFIX = {p.suffix: p.name for p in platforms.SUPPORTED.values()}  # arm64 -> linux/arm64


def split_platform(name: str) -> tuple[str, str | None]:
    """`1.10.6-python3.11-arm64` -> (`1.10.6-python3.11`, `linux/arm64`); other tags -> (name, None)."""
    tag, separator, suffix = name.rpartition("-")
    found = _PLATFORM_OF_SUFFIX.get(suffix)
    if separator and found is not None and _split_flavour(tag)[1] is not None:
        return tag, found
    return name, None


def _split_flavour(name: str) -> tuple[str, str | None]:
    prefix, separator, flavour = name.rpartition(FLAVOUR_SEPARATOR)
    if separator and prefix and flavour and all(part.isdigit() for part in flavour.split(".")):
        return prefix, flavour
    return name, None


def split_tag(name: str) -> tuple[str, str | None]:
    """`1.10.6-python3.11` -> (`1.10.6`, `3.11`); `latest` -> (`latest`, None); a variant's tag
    gives the same (`slim-latest` -> (`latest`, None)): `parse_tag` keeps the variant. A platform's
    helper tag (`1.10.6-python3.11-arm64`) is none of these: (`1.10.6-python3.11-arm64`, None)."""
    parts = parse_tag(name)
    return parts.prefix, parts.flavour


def cache_repository(repository: str) -> str:
    """`<image>-cache`: where the build's dependency stages are kept, out of the image's tag list."""
    return f"{repository}-cache"


def cache_tag(flavour: str, deps_hash: str) -> str:
    """`deps-pythonP-<24 hex of the dependency hash>`: one flavour's dependency stage."""
    return f"deps{FLAVOUR_SEPARATOR}{flavour}-{deps_hash.removeprefix('sha256:')[:24]}"


def versions_from_tags(tags: Iterable[str]) -> list[ReleaseVersion]:
    """Released versions named by image tags like `1.10.6`, `1.10.6-python3.11` or a platform's
    `1.10.6-python3.11-arm64` (an image job pushed it: the version is taken)."""
    # A release has a tag per flavour (and platform): each version's name is parsed once.
    return sorted(set(parse_existing({split_tag(split_platform(tag)[0])[0] for tag in tags})))


def withdrawn_tag(version: ReleaseVersion | str) -> str:
    """The tag that publishes a release's withdrawal: `withdrawn-V`, on the image V shipped."""
    return f"{WITHDRAWN}{version}"


def withdrawn_from_tags(tags: Iterable[str]) -> list[ReleaseVersion]:
    """The releases whose withdrawal the registry's tags publish."""
    return sorted(set(parse_existing(t[len(WITHDRAWN):] for t in tags if t.startswith(WITHDRAWN))))


def alias_candidates(name: str, default: str) -> tuple[str, ...]:
    """The tags the planner may point at the same image as the image tag `name`: for `V-pythonP`,
    `X.Y-pythonP` and `latest-pythonP` (and, for the default flavour, `V`, `X.Y` and `latest`); for
    `master-pythonP` of the default flavour, `master`; a variant's tag has the same candidates
    under its prefix (`slim-V-pythonP` -> `slim-X.Y-pythonP`, ...). Anything else has none."""
    parts = parse_tag(name)
    prefix, flavour, variant = parts.prefix, parts.flavour, parts.variant
    if flavour is None:
        return ()
    if prefix == MASTER:
        return (tag_name(MASTER, None, variant),) if flavour == default else ()
    versions = parse_existing([prefix])
    if not versions:
        return ()
    moving = [tag_name(versions[0].line, flavour, variant), tag_name(LATEST, flavour, variant)]
    if flavour == default:
        moving += [tag_name(prefix, None, variant), tag_name(versions[0].line, None, variant),
                   tag_name(LATEST, None, variant)]
    return tuple(moving)


class BuildKind(str, Enum):
    RELEASE = "release"
    MASTER = "master"


@dataclass(frozen=True)
class Tag:
    name: str
    image: ImageId  # the image it names (a bare tag: the default flavour's)
    moving: bool  # an alias that later releases may move (X.Y, latest, master)

    @property
    def is_bare(self) -> bool:
        return split_tag(self.name)[1] is None


@dataclass(frozen=True)
class TagPlan:
    version: ReleaseVersion | None
    kind: BuildKind
    tags: tuple[Tag, ...]
    owns_line: bool
    owns_latest: bool

    def as_mapping(self) -> dict[str, str]:
        return {tag.name: tag.image.flavour for tag in self.tags}

    def immutable(self) -> tuple[Tag, ...]:
        return tuple(tag for tag in self.tags if not tag.moving)

    def aliases(self) -> tuple[Tag, ...]:
        return tuple(tag for tag in self.tags if tag.moving)


def _flavoured(prefix: str, flavours: Sequence[str], default: str, variants: Sequence[str], *,
               moving: bool) -> list[Tag]:
    tags = []
    for variant in variants:
        tags += [Tag(tag_name(prefix, p, variant), ImageId(p, variant), moving) for p in flavours]
        tags.append(Tag(tag_name(prefix, None, variant), ImageId(default, variant), moving))
    return tags


def check_tag_length(version: ReleaseVersion, flavours: Sequence[str], several: Sequence[str] = (),
                     variants: Sequence[str] = ("",)) -> None:
    """VersionError when the longest tag of `version` (`[VARIANT-]V-pythonP`, and with `several`
    platforms their helper tags `...-ARCH`) is longer than Docker allows: known before anything is
    built, so nothing is half-released under a tag the registry refuses."""
    variant = max(variants or ("",), key=len)
    flavour = max(flavours, key=lambda p: len(version_tag(version, p, variant)))
    tag = version_tag(version, flavour, variant)
    form = tag_name("V", flavour, variant)
    if several:
        platform = max(several, key=lambda p: len(platform_tag(tag, p)))
        tag, form = platform_tag(tag, platform), f"{form}-{platforms.info(platform).suffix}"
    longest = len(tag)
    if longest > MAX_TAG_LENGTH:
        raise VersionError(f"version {shown(str(version))} is too long for an image tag: its tag for "
                           f"python{flavour} ({form}) would have {longest} characters, "
                           f"Docker allows {MAX_TAG_LENGTH}")


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
    variants: Sequence[str] = ("",),
) -> TagPlan:
    """Every tag of a build, for every image variant ("" is the default image, which has no
    prefix). `existing` is what the registry and index already hold (any order)."""
    if not flavours:
        raise ValueError("at least one Python flavour is needed")
    if default not in flavours:
        raise ValueError(f"default flavour {default} is not one of {', '.join(flavours)}")
    if len(set(flavours)) != len(flavours):
        raise ValueError("Python flavours must be unique")
    if not variants or len(set(variants)) != len(variants):
        raise ValueError("image variants must be given, and unique")
    bad = [v for v in variants if v and (not _VARIANT.match(v) or v in _NOT_VARIANTS)]
    if bad:
        raise ValueError(f"not a variant name: {', '.join(bad)}")
    ordered = list(flavours)
    if kind is BuildKind.MASTER:
        tags = _flavoured(MASTER, ordered, default, variants, moving=True)
        return TagPlan(version, kind, tuple(tags), owns_line=False, owns_latest=False)
    if version is None:
        raise ValueError("a release build needs a version")
    check_tag_length(version, ordered, variants=variants)
    known = list(existing)
    line = owns_line(version, known)
    latest = owns_latest(version, known)
    tags = _flavoured(str(version), ordered, default, variants, moving=False)
    if line:
        tags += _flavoured(version.line, ordered, default, variants, moving=True)
    if latest:
        tags += _flavoured(LATEST, ordered, default, variants, moving=True)
    return TagPlan(version, kind, tuple(tags), owns_line=line, owns_latest=latest)
