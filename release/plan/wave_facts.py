# SPDX-License-Identifier: Apache-2.0
"""What the pipeline reads from git to plan a train's wave, and the facts it makes of it. Pure.

The pipeline asks the git adapter for the tree's file list (a pattern train only), the texts this
module names (`files_to_read`), the tags matching its globs (`tag_globs`) and, per distribution,
the commits since the commit its last final tag points at (`since`); this module turns those
answers into the `DistributionFacts` the wave planner decides from. A voter's clone planning a
versioned wave's candidate (`3.3.3rc1`) finds its commit by the lead's tag (`lead_tag`) and counts
only the candidates before it (`earlier_candidates`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from release.errors import ConfigError, RefusedError, VersionError
from release.plan.declared import (
    Declared,
    declared_state,
    declared_version,
    find_distributions,
    tag_for,
    tag_glob,
    tagged_versions,
)
from release.plan.wave import Commit, DistributionFacts
from release.trains import Train, VersionFrom, VersionSource
from release.versions import ReleaseVersion, parse_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib


@dataclass(frozen=True)
class Member:
    """One distribution of a train, before its files are read (`name` is "" until its pyproject names it)."""

    path: str
    id: str
    name: str
    version: VersionSource
    tag: str
    svn_folder: str


def members(train: Train, tree: Iterable[str] = ()) -> tuple[Member, ...]:
    """The train's distributions: the listed ones, or the folders of `tree` (every file's path) its
    pattern finds."""
    if train.is_pattern:
        return tuple(Member(f.path, f.id, "", train.version, train.tag, train.svn_folder)
                     for f in find_distributions(train, tree))
    return tuple(Member(d.path, d.id, d.name, d.version, d.tag, d.svn_folder) for d in train.distributions)


def _pyproject(member: Member) -> str:
    return _join(member.path, "pyproject.toml")


def _join(path: str, file: str) -> str:
    return file if path in ("", ".") else f"{path}/{file}"


def files_to_read(train: Train, found: Sequence[Member]) -> list[str]:
    """Every file the facts come from: each one's version file, pyproject (for its name) and state file."""
    wanted: set[str] = set()
    for member in found:
        if member.version.kind is VersionFrom.RELEASE:
            raise ConfigError(f"train {train.name}: {member.name} takes its version from --version; a wave "
                              "reads each distribution's version from the tree")
        wanted.add(member.version.path_in(member.path))
        if not member.name:
            wanted.add(_pyproject(member))
        if train.state:
            wanted.add(_join(member.path, train.state))
    return sorted(wanted)


def tag_globs(found: Sequence[Member]) -> list[str]:
    """The glob of every tag a distribution of the train can have: `providers-http/*`, `task-sdk/*`, `*`."""
    return sorted({tag_glob(m.tag, ident=m.id, name=m.name or "*") for m in found})


def _name_of(member: Member, texts: Mapping[str, str | None]) -> str:
    if member.name:
        return member.name
    where = _pyproject(member)
    try:
        name = tomllib.loads(texts.get(where) or "").get("project", {}).get("name")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {' '.join(str(exc).split())}") from None
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: names no [project] name")
    return name


def facts_from(train: Train, found: Sequence[Member], texts: Mapping[str, str | None],
               tags: Iterable[str]) -> list[DistributionFacts]:
    """Each distribution's declared version, state and tagged versions (no commits yet: `since` says
    from where to count them)."""
    tags = list(tags)
    facts = []
    for member in found:
        name = _name_of(member, texts)
        where = member.version.path_in(member.path)
        text = texts.get(where)
        if text is None:
            raise ConfigError(f"train {train.name}: {where} is not in the commit; {name} declares its "
                              "version there")
        declared = declared_version(member.version, text, where)
        state = Declared()
        if train.state:
            state_file = _join(member.path, train.state)
            state = declared_state(texts.get(state_file) or "", state_file)
        facts.append(DistributionFacts(
            name=name, id=member.id, path=member.path, declared=declared, tag=member.tag,
            svn_folder=member.svn_folder, state=state.state, source_date_epoch=state.source_date_epoch,
            tagged=tagged_versions(member.tag, tags, ident=member.id, name=name)))
    return facts


def since(facts: Sequence[DistributionFacts], tags: Mapping[str, str]) -> dict[str, str | None]:
    """Per distribution folder, the commit its last final tag points at (None: never released)."""
    return {f.path: (tags.get(f.tag_of(f.previous)) if f.previous is not None else None) for f in facts}


def with_commits(facts: Sequence[DistributionFacts], commits: Mapping[str, Sequence[tuple[str, str]]]
                 ) -> list[DistributionFacts]:
    """The facts with the commits (hash, subject) touching each one's folder since its last release."""
    return [replace(f, commits=tuple(Commit(sha, subject) for sha, subject in commits.get(f.path, ())))
            for f in facts]


def constraints_glob(train: Train) -> str:
    """The glob of the train's constraints tags (`constraints-*`), or "" without constraints refs."""
    if train.constraints is None:
        return ""
    return train.constraints.tag.format(version="*", major="*", minor="*")


def constraints_versions(train: Train, tags: Iterable[str]) -> tuple[ReleaseVersion, ...]:
    """The versions the existing constraints tags name (`constraints-3.3.2` -> 3.3.2)."""
    if train.constraints is None:
        return ()
    pattern = re.escape(train.constraints.tag.format(version="\0", major="\1", minor="\2"))
    pattern = pattern.replace("\0", "(?P<version>.+)").replace("\1", r"\d+").replace("\2", r"\d+")
    found = set()
    for tag in tags:
        match = re.fullmatch(pattern, tag)
        if match:
            try:
                found.add(parse_version(match.group("version")))
            except VersionError:
                continue
    return tuple(sorted(found))


def candidate_number(candidate: str) -> int:
    """The rc number of a candidate version the vote names (`3.3.3rc1` -> 1); refused for anything else."""
    try:
        pre = parse_version(candidate).value.pre
    except VersionError:
        pre = None
    if pre is None or pre[0] != "rc":
        raise RefusedError(f"--version {candidate!r}: give the candidate the vote is on, e.g. 3.3.3rc1")
    return pre[1]


def lead_tag(found: Sequence[Member], candidate: str) -> str:
    """The tag of the train's first distribution at `candidate`: where a voter's clone finds the
    commit of a versioned train's wave (`3.3.3rc1`, shared by Airflow's meta package and core)."""
    if not found:
        raise RefusedError("the train has no distributions to find a candidate of")
    lead = found[0]
    return tag_for(lead.tag, candidate, ident=lead.id, name=lead.name)


def earlier_candidates(found: Sequence[Member], tags: Mapping[str, str], rc: int) -> dict[str, str]:
    """`tags` without the candidate tags of rc `rc` or later: what the plan of a wave's rc`rc` counts
    as its earlier candidates, however many later ones were tagged since."""
    def later(tag: str) -> bool:
        return any(v.value.pre is not None and v.value.pre[0] == "rc" and v.value.pre[1] >= rc
                   for m in found for v in tagged_versions(m.tag, [tag], ident=m.id, name=m.name or "*"))

    return {tag: sha for tag, sha in tags.items() if not later(tag)}


def latest_ahead(train: Train, final: ReleaseVersion, latest_at: str | None, tags: Mapping[str, str]
                 ) -> ReleaseVersion | None:
    """The final higher than `final` that `constraints-latest` names now (the constraints tags on its
    commit `latest_at`; `tags`: tag -> commit), or None when moving it to `final` is forward: a
    promotion decided before a higher final was promoted never moves it back."""
    if latest_at is None or train.constraints is None:
        return None
    named = constraints_versions(train, [tag for tag, commit in tags.items() if commit == latest_at])
    finals = [v for v in named if not v.is_prerelease]
    return max(finals) if finals and max(finals) > final else None
