# SPDX-License-Identifier: Apache-2.0
"""PEP 440 rules for release versions, on top of `packaging`. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from release.errors import VersionError

_PRE_KINDS = {"a": "alpha", "b": "beta", "rc": "release candidate"}
# Longer than any real version, short enough that every number in it converts (Python refuses
# int() of more than 4300 digits) and that messages stay one line. Image tags have a tighter
# limit of their own (plan/tags.py).
MAX_LENGTH = 200


@dataclass(frozen=True, order=False)
class ReleaseVersion:
    """A canonical release version: exactly X.Y.Z, optionally with aN/bN/rcN, .postN or .devN."""

    value: Version

    def __str__(self) -> str:
        return str(self.value)

    def __lt__(self, other: ReleaseVersion) -> bool:
        return self.value < other.value

    def __le__(self, other: ReleaseVersion) -> bool:
        return self.value <= other.value

    def __gt__(self, other: ReleaseVersion) -> bool:
        return self.value > other.value

    def __ge__(self, other: ReleaseVersion) -> bool:
        return self.value >= other.value

    @property
    def is_prerelease(self) -> bool:
        return self.value.is_prerelease

    @property
    def is_rc(self) -> bool:
        return self.value.pre is not None and self.value.pre[0] == "rc"

    @property
    def line(self) -> str:
        """The release line `X.Y` that `X.Y` tags follow."""
        return f"{self.value.major}.{self.value.minor}"

    @property
    def final(self) -> ReleaseVersion:
        """The version this one becomes when released: 1.10.6rc1 -> 1.10.6."""
        return ReleaseVersion(Version(self.value.base_version))

    @property
    def voted(self) -> ReleaseVersion:
        """The version the voted (svn) files carry: a release candidate's final version, since the
        PMC votes on the very bytes that `promote` then releases; every other version (final,
        alpha, beta, dev, post) carries itself. The one rule, for the plan and the build alike."""
        return self.final if self.is_rc else self

    @property
    def in_tree(self) -> ReleaseVersion:
        """The version the tree declares and the changelog has a section for: a pre-release's
        final version (1.10.6b1 and 1.10.6rc1 come from a tree that says 1.10.6), else itself."""
        return self.final if self.is_prerelease else self

    def accepts_declared(self, declared: str) -> bool:
        """Whether a tree declaring `declared` may be built as this version: `in_tree`, or the
        voted version itself (the build writes in the version each set of files carries)."""
        return declared in {str(self.voted), str(self.in_tree)}


def _padded(version: Version) -> str | None:
    """`version` written as a releasable X.Y.Z[suffix], padding a short release; None if impossible."""
    if version.epoch or version.local is not None or len(version.release) > 3:
        return None
    release = ".".join(str(part) for part in version.release)
    suffix = str(version)[len(release) :]
    return ".".join(str(part) for part in (*version.release, 0, 0)[:3]) + suffix


def _canonical_guess(text: str) -> str | None:
    """The releasable version a release manager probably meant, or None if there is none."""
    candidate = text.strip()
    if candidate[:1] in {"v", "V"}:
        candidate = candidate[1:]
    try:
        return _padded(Version(candidate))
    except ValueError:  # InvalidVersion, or a number too long for int()
        return None


def shown(text: str, limit: int = 40) -> str:
    """`text` quoted for a message, cut short when long (a version can be thousands of characters)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def parse_version(text: str) -> ReleaseVersion:
    """Parse a version the way a release manager must type it; refuse anything non-canonical."""
    if not text or not text.strip():
        raise VersionError("empty version: give one like 1.10.6 or 1.10.6rc1")
    if len(text) > MAX_LENGTH:
        raise VersionError(f"version {shown(text)} is too long to be a release version "
                           f"(at most {MAX_LENGTH} characters)")
    try:
        parsed = Version(text)
    except InvalidVersion:
        parsed = None
    if parsed is None or str(parsed) != text:
        guess = _canonical_guess(text)  # only for the message: a registry's thousands of tags skip it
        hint = f"; did you mean {guess}?" if guess and guess != text else ""
        raise VersionError(f"version {shown(text)} is not canonical PEP 440{hint}")
    if parsed.epoch or parsed.local is not None:
        raise VersionError(f"version {shown(text)}: epochs and local versions are not releasable")
    if len(parsed.release) != 3:
        guess = _canonical_guess(text)
        hint = f"; did you mean {guess}?" if guess else ""
        raise VersionError(f"version {shown(text)} must have exactly three parts X.Y.Z{hint}")
    return ReleaseVersion(parsed)


def companion_version(final: str, release: ReleaseVersion) -> str:
    """The version a distribution with its own version number carries in `release`: its declared
    final version with the release's pre-release or dev suffix (`0.3.0` in `1.10.6rc1` -> `0.3.0rc1`).
    Its voted files carry `companion_version(final, release.voted)`."""
    own = parse_version(final)
    if own.is_prerelease or own.value.post is not None:
        raise VersionError(f"{final} must be a final X.Y.Z: the release adds the candidate's suffix itself")
    return final + str(release.value)[len(release.value.base_version):]


def parse_existing(texts: Iterable[str]) -> list[ReleaseVersion]:
    """Versions found in a registry or index: keep the releasable ones, ignore other tags."""
    found: list[ReleaseVersion] = []
    for text in texts:
        try:
            found.append(parse_version(text))
        except VersionError:
            continue
    return found


def describe(version: ReleaseVersion) -> str:
    """`1.10.6rc1` -> `release candidate 1 of 1.10.6`, for messages."""
    value = version.value
    if value.dev is not None:
        target = str(value).rsplit(".dev", 1)[0]
        return f"development release {value.dev} of {target}"
    if value.pre is not None and value.post is None:
        return f"{_PRE_KINDS[value.pre[0]]} {value.pre[1]} of {version.final}"
    return f"release {version}"
