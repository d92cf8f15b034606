# SPDX-License-Identifier: Apache-2.0
"""Housekeeping of the svn dist tree: which folders may go. Pure.

The ASF asks that `release/` holds only the current releases (older ones stay in the archive),
and `dev/` only candidates still under vote. Here: in `release/<name>/`, the newest release of
each X.Y line stays and the older ones (and withdrawn ones) may go; in `dev/<name>/`, a candidate
may go once a release of its line is at least its version, or a newer candidate of the same
version was staged. A version's shipped constraints (`constraints-<V>/`, beside its folder) go
with it. Entries that are not versions (KEYS) are never touched.

What cleanup trusts: a release counts as withdrawn only when its signed record says so
(`confirmed_withdrawals`); a `withdrawn-V` tag anyone with push rights can push, or an index yank,
does not. The newest release of a line is never removed unless the release manager names it, even
when withdrawn. `--remove` removes exactly the listing `invoke cleanup` printed: the listing's
digest is written with it, and a fresh plan with another digest is refused (`listing_refusal`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
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


@dataclass(frozen=True)
class RecordEvidence:
    """What a release's record says about a withdrawal, and whether its signature holds."""

    found: bool  # a record of the version was found (locally, or in svn release/)
    signed: bool  # its detached signature is good, by a key in the project's KEYS
    withdrawn: bool  # it records a withdrawal


def confirmed_withdrawals(claimed: Collection[ReleaseVersion],
                          evidence: Mapping[ReleaseVersion, RecordEvidence]
                          ) -> tuple[frozenset[ReleaseVersion], tuple[str, ...]]:
    """The versions withdrawn by their signed record, and a line for each claim that is not
    (a `withdrawn-V` tag or an index yank with no signed record behind it: not counted)."""
    withdrawn = {v for v, e in evidence.items() if e.found and e.signed and e.withdrawn}
    ignored = []
    for version in sorted(set(claimed) - withdrawn):
        found = evidence.get(version, RecordEvidence(False, False, False))
        why = ("no record of it" if not found.found else "its record's signature does not check out"
               if not found.signed else "its signed record records no withdrawal")
        ignored.append(f"{version} is marked withdrawn in the registry or index, but {why}: not counted as "
                       "withdrawn")
    return frozenset(withdrawn), tuple(ignored)


def plan_cleanup(released: Iterable[str], candidates: Iterable[str],
                 withdrawn: Collection[ReleaseVersion] = (), named: Collection[ReleaseVersion] = ()
                 ) -> tuple[Removal, ...]:
    """The folders of `release/<name>/` (`released`) and `dev/<name>/` (`candidates`) that may go.

    `withdrawn`: the releases withdrawn by their signed record. The newest release of each line, and
    the newest that is not withdrawn, stay unless `named`."""
    release_folders = [(f, v) for f, v in _folders(released) if not v.is_prerelease]
    dev_folders = [(f, v) for f, v in _folders(candidates) if v.is_prerelease]
    finals = sorted({v for _, v in release_folders})
    newest: dict[str, ReleaseVersion] = {}  # the newest release of each line that is not withdrawn
    highest: dict[str, ReleaseVersion] = {}  # the newest of each line, withdrawn or not
    for version in finals:
        highest[version.line] = max(version, highest.get(version.line, version))
        if version not in withdrawn:
            newest[version.line] = max(version, newest.get(version.line, version))
    removals = []
    for folder, version in release_folders:
        kept = version in {newest.get(version.line), highest[version.line]}
        if kept and version not in named:
            continue
        if version in withdrawn:
            removals.append(Removal("release", folder, "withdrawn"))
        elif kept:
            removals.append(Removal("release", folder, f"named: the newest of {version.line}"))
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


def listing_digest(removals: Sequence[Removal], urls: Sequence[str]) -> str:
    """The digest of a listing: what `--remove` must find again to remove anything."""
    listing = [[r.area, r.name, r.why, url] for r, url in zip(removals, urls, strict=True)]
    return hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()


def listing_refusal(printed: str | None, fresh: str, command: str = "invoke cleanup") -> str:
    """Why `--remove` must not remove the fresh listing ("" when it is the printed one); `command` is
    the one that prints the listing."""
    if printed is None:
        return f"no listing was printed to remove: run {command}, read it, then {command} --remove"
    if printed != fresh:
        return (f"svn, the registry or the records changed since {command} printed its listing: run "
                f"{command} again, read it, then {command} --remove")
    return ""


def kept_in_atr(train: str) -> str:
    """What a train staging in ATR has to clean: nothing. ATR keeps each release (its API deletes one
    for ATR's administrators only), and the train writes nothing to svn dev/ or release/."""
    return (f"nothing to remove: the {train} train stages in ATR, which keeps each release, and puts nothing "
            "in svn dev/ or release/ (a draft ATR holds is deleted on ATR's own pages)")
