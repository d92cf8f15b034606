# SPDX-License-Identifier: Apache-2.0
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


def plan_cleanup(released: Iterable[str], candidates: Iterable[str],
                 withdrawn: Collection[ReleaseVersion] = ()) -> tuple[Removal, ...]:
    """The folders of `release/<name>/` (`released`) and `dev/<name>/` (`candidates`) that may go."""
    release_folders = [(f, v) for f, v in _folders(released) if not v.is_prerelease]
    dev_folders = [(f, v) for f, v in _folders(candidates) if v.is_prerelease]
    finals = sorted({v for _, v in release_folders})
    newest: dict[str, ReleaseVersion] = {}
    for version in finals:
        if version not in withdrawn:
            newest[version.line] = max(version, newest.get(version.line, version))
    removals = []
    for folder, version in release_folders:
        if version in withdrawn:
            removals.append(Removal("release", folder, "withdrawn"))
        elif version != newest[version.line]:
            removals.append(Removal("release", folder,
                                    f"older than {newest[version.line]}, the newest of {version.line}"))
    staged = {v for _, v in dev_folders}
    for folder, candidate in dev_folders:
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
