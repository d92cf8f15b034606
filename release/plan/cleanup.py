"""Housekeeping of the svn dist tree: which folders may go. Pure.

The ASF asks that `release/` holds only the current releases (older ones stay in the archive),
and `dev/` only candidates still under vote. Here: in `release/<name>/`, the newest release of
each X.Y line stays and the older ones (and withdrawn ones) may go; in `dev/<name>/`, a candidate
may go once a release of its line is at least its version, or a newer candidate of the same
version was staged. A version's shipped constraints (`constraints-<V>/`, beside its folder) go
with it. Entries that are not versions (KEYS) are never touched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from release.errors import VersionError
from release.versions import ReleaseVersion, parse_version


@dataclass(frozen=True)
class Removal:
    area: str  # release | dev
    name: str  # the folder's name: a version
    why: str


CONSTRAINTS_PREFIX = "constraints-"  # plan.release.constraints_folder: `<name>/constraints-<V>`


def _folders(names: Iterable[str]) -> list[tuple[str, ReleaseVersion]]:
    """(folder, the version it belongs to): a version's own folder `V` or its `constraints-V`."""
    found = set()
    for name in names:
        folder = name.rstrip("/")
        try:
            found.add((folder, parse_version(folder.removeprefix(CONSTRAINTS_PREFIX))))
        except VersionError:
            continue  # KEYS, README, anything that is not a release folder
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def _versions(names: Iterable[str]) -> list[ReleaseVersion]:
    return sorted({version for _, version in _folders(names)})


def plan_cleanup(released: Iterable[str], candidates: Iterable[str],
                 withdrawn: Collection[ReleaseVersion] = ()) -> tuple[Removal, ...]:
    """The folders of `release/<name>/` (`released`) and `dev/<name>/` (`candidates`) that may go."""
    finals = [v for v in _versions(released) if not v.is_prerelease]
    newest: dict[str, ReleaseVersion] = {}
    for version in finals:
        if version not in withdrawn:
            newest[version.line] = max(version, newest.get(version.line, version))
    removals = []
    for folder, version in _folders(released):
        if version.is_prerelease:
            continue
        if version in withdrawn:
            removals.append(Removal("release", folder, "withdrawn"))
        elif version != newest[version.line]:
            removals.append(Removal("release", folder,
                                    f"older than {newest[version.line]}, the newest of {version.line}"))
    staged = [v for v in _versions(candidates) if v.is_prerelease]
    for folder, candidate in _folders(candidates):
        if not candidate.is_prerelease:
            continue
        target = candidate.final
        released_since = [v for v in finals if v.line == target.line and v >= target]
        newer = [c for c in staged if c.final == target and c > candidate]
        if released_since:
            removals.append(Removal("dev", folder, f"{min(released_since)} is released"))
        elif newer:
            removals.append(Removal("dev", folder, f"superseded by {max(newer)}"))
    return tuple(removals)


def candidates_of(final: ReleaseVersion, candidates: Iterable[str]) -> tuple[str, ...]:
    """The candidate folders of `final` (its rcs, alphas, betas, and their shipped constraints): what
    promotion removes from dev/."""
    return tuple(folder for folder, v in _folders(candidates) if v.is_prerelease and v.final == final)
