# SPDX-License-Identifier: Apache-2.0
"""Withdrawing distributions of a published flat wave (`invoke withdraw --train`). Pure.

From the wave's record (`wave.json`: what the vote promoted, the files promotion released, that it
was published) `plan_wave_withdrawal` decides which distributions go, or why it refuses: a versioned
train, a wave not published, a name the wave did not release, no reason. Each withdrawn
distribution's sdist and wheel (with their `.asc` and `.sha512`) leave the train's flat release
folder; nothing is put back in their place (the previous version is in the ASF archive, and a
flat folder holds only what is current). Its final tag stays: a withdrawn version is still a
released version number, so the next wave never takes it again.

The record keeps each withdrawal (`withdrawn`: name -> version, reason, when, the key of who did it,
the files, the svn revision, what the index said): the announcement leaves those distributions out,
`verify --train` names them, and a rerun changes nothing that is recorded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from release.errors import RefusedError
from release.plan.commands import Action, CommandPlan, Where
from release.plan.declared import tag_for
from release.plan.wave import distribution_of
from release.trains import SvnLayout, Train
from release.versions import parse_version

WITHDRAWN = "withdrawn"  # wave.json's key: distribution name -> its withdrawal


@dataclass(frozen=True)
class Withdrawn:
    """One released distribution of the wave, as withdrawing it takes it."""

    name: str
    id: str  # what the train's tags name it by ("" when its tags do not)
    version: str  # the final version the wave released
    files: tuple[str, ...]  # its sdist and wheel with .asc and .sha512, under the project's release folder
    earlier: str = ""  # when and why it was withdrawn already ("": not yet)
    told: str = ""  # what the index said when it was told ("": not told yet)


@dataclass(frozen=True)
class WaveWithdrawal:
    train: str
    date: str
    reason: str
    distributions: tuple[Withdrawn, ...]  # the ones asked for, withdrawn already or not
    refusals: tuple[str, ...] = ()  # why a run refuses (the first is said)

    @property
    def new(self) -> tuple[Withdrawn, ...]:
        """The distributions this withdrawal records (the others are recorded already)."""
        return tuple(d for d in self.distributions if not d.earlier)

    @property
    def untold(self) -> tuple[Withdrawn, ...]:
        """The distributions the index is still to be told about."""
        return tuple(d for d in self.distributions if not d.told)

    def check(self) -> None:
        """Refuse, before anything changes, a withdrawal that is not carried out."""
        if self.refusals:
            raise RefusedError(self.refusals[0])

    def to_json(self) -> dict[str, Any]:
        return {"train": self.train, "date": self.date, "reason": self.reason,
                "distributions": [{"name": d.name, "id": d.id, "version": d.version, "files": list(d.files),
                                   "withdrawn_already": d.earlier or None} for d in self.distributions],
                "refusals": list(self.refusals)}


def _canonical(name: str) -> str:
    return str(canonicalize_name(name))


def withdrawals(recorded: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What the wave's record says is withdrawn: name -> its withdrawal."""
    found = recorded.get(WITHDRAWN)
    if not isinstance(found, dict):
        return {}
    return {str(name): dict(entry) for name, entry in found.items() if isinstance(entry, dict)}


def _ident(train: Train, name: str, version: str, final_tag: str) -> str:
    """The id the train's tags give `name` (the listed one, else read back from its final tag)."""
    listed = next((d.id for d in train.distributions if _canonical(d.name) == _canonical(name)), "")
    if listed or "{id}" not in train.tag:
        return listed
    head, _, tail = tag_for(train.tag, version, ident="\0", name=name).partition("\0")
    inner = final_tag[len(head):len(final_tag) - len(tail)] if tail else final_tag[len(head):]
    return inner if final_tag.startswith(head) and final_tag.endswith(tail) and inner else ""


def published(train: Train, recorded: Mapping[str, Any]) -> tuple[Withdrawn, ...]:
    """Every distribution the wave released, with its files; () when the record shows no publication."""
    vote, promoted = recorded.get("vote"), recorded.get("promoted")
    if not isinstance(recorded.get("published"), dict) or not isinstance(promoted, dict) \
            or not isinstance(vote, dict):
        return ()
    lines = [str(line).partition(" ") for line in vote.get("promoted") or ()]
    tags = [str(tag) for tag in promoted.get("tags") or ()]
    files = [str(path) for path in promoted.get("files") or ()]
    earlier = {_canonical(k): v for k, v in withdrawals(recorded).items()}
    found = []
    for (name, _, candidate), tag in zip(lines, tags if len(tags) == len(lines) else [""] * len(lines)):
        version = parse_version(candidate).final
        owned = tuple(f for f in files if distribution_of(f) == (_canonical(name), version))
        done = earlier.get(_canonical(name))
        found.append(Withdrawn(name, _ident(train, name, str(version), tag), str(version), owned,
                               f"on {done.get('at')}: {done.get('reason')}" if done else "",
                               str(done.get("index") or "") if done else ""))
    return tuple(found)


def plan_wave_withdrawal(train: Train, date: str, recorded: Mapping[str, Any], *, only: Collection[str] = (),
                         reason: str) -> WaveWithdrawal:
    """The published distributions of the `train` wave of `date` to withdraw (all, or those `only`
    names by name or id), or why a run refuses (`refusals`, the first one said)."""
    def refused(why: str) -> WaveWithdrawal:
        return WaveWithdrawal(train.name, date, reason.strip(), (), (why,))

    if train.svn is not SvnLayout.FLAT:
        return refused(f"train {train.name} has a folder per release in svn: withdrawing its distributions "
                       "is not carried out yet (a flat train's is)")
    released = published(train, recorded)
    if not released:
        return refused(f"the {train.name} wave of {date} is not published: only what a published wave "
                       f"released can be withdrawn (invoke publish --train {train.name} --date {date})")
    keys = {d.name: {_canonical(d.name), *([_canonical(d.id)] if d.id else [])} for d in released}
    unknown = [n for n in only if not any(_canonical(n) in k for k in keys.values())]
    if unknown:
        names = ", ".join(d.name for d in released)
        return refused(f"{unknown[0]} was not released in the {train.name} wave of {date} ({names}); name "
                       "one of those, by name or id")
    if not reason.strip():
        return refused('say why the distributions are withdrawn: --reason "..." (it is recorded)')
    wanted = {_canonical(n) for n in only}
    chosen = tuple(d for d in released if not wanted or keys[d.name] & wanted)
    return WaveWithdrawal(train.name, date, reason.strip(), chosen)


def files_to_remove(withdrawal: WaveWithdrawal, listing: Iterable[str]) -> tuple[str, ...]:
    """The files of the withdrawn distributions the flat release folder still holds (`listing`: the
    names in it), by their path under the project's release folder: what one svn commit removes."""
    there = set(listing)
    return tuple(f for d in withdrawal.distributions for f in d.files if f.rsplit("/", 1)[-1] in there)


def withdrawal_record(withdrawal: WaveWithdrawal, *, at: str, key: str) -> dict[str, dict[str, Any]]:
    """The record of each distribution this withdrawal adds (its svn revision and what the index said
    are recorded once done)."""
    return {d.name: {"version": d.version, "reason": withdrawal.reason, "at": at, "key": key,
                     "files": list(d.files)} for d in withdrawal.new}


def announced(recorded: Mapping[str, Any], distributions: Iterable[tuple[str, str]],
              files: Iterable[tuple[str, str]]
              ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """What a published wave's announcement lists once its withdrawn distributions are left out:
    (name, version) of each distribution and (file name, sha512) of each file; refused when every
    distribution of the wave is withdrawn."""
    gone = {_canonical(name) for name in withdrawals(recorded)}
    kept = tuple(d for d in distributions if _canonical(d[0]) not in gone)
    if not kept:
        names = ", ".join(sorted(withdrawals(recorded)))
        raise RefusedError(f"every distribution of the wave is withdrawn ({names}): there is nothing to "
                           "announce")
    return kept, tuple(f for f in files if (owner := distribution_of(f[0])) is None or owner[0] not in gone)


def withdrawn_lines(recorded: Mapping[str, Any]) -> tuple[str, ...]:
    """One line per withdrawn distribution of a wave, for the reports that name them."""
    return tuple(f"withdrawn: {name} {w.get('version')} on {w.get('at')}: {w.get('reason')}"
                 for name, w in sorted(withdrawals(recorded).items()))


def plan_withdraw_wave(withdrawal: WaveWithdrawal, *, record: str, release_url: str,
                       removed: Iterable[str], index: str) -> CommandPlan:
    """`invoke withdraw --train --dry-run`: what withdrawing would record, remove from the flat
    release folder (`removed`: the files it still holds, in one commit) and tell the index."""
    gone = tuple(removed)
    return CommandPlan("withdraw", f"{withdrawal.train} {withdrawal.date}", (
        *(Action(Where.DIST, f"leave {d.name} {d.version} as recorded: withdrawn already {d.earlier}")
          for d in withdrawal.distributions if d.earlier),
        *(Action(Where.DIST, f"record in {record}: {d.name} {d.version} withdrawn ({withdrawal.reason})")
          for d in withdrawal.new),
        *(Action(Where.SVN, f"remove {release_url}/{path} (the ASF archive keeps it)") for path in gone),
        *(Action(Where.INDEX, f"tell {index} {d.name} {d.version} is withdrawn (yanked where it can, else "
                              "where to yank it by hand)") for d in withdrawal.untold),
    ), withdrawal.refusals, options=f"--train {withdrawal.train} --date {withdrawal.date}")
