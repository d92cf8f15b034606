# SPDX-License-Identifier: Apache-2.0
"""Withdrawing distributions of a published wave (`invoke withdraw --train`). Pure.

From the wave's record (`wave.json`: what the vote promoted, the files promotion released, that it
was published) `plan_wave_withdrawal` decides which distributions go, or why it refuses: a wave not
published, a name the wave did not release, `--only` for a versioned train (its distributions go
together), no reason. A flat train's withdrawn sdists and wheels (with their `.asc` and `.sha512`)
leave its flat release folder; nothing is put back in their place (the previous version is in the
ASF archive, and a flat folder holds only what is current). A
versioned train's release folders (`3.3.3/`, `task-sdk/1.3.3/`) stay where they are, as a single
release's folder does when it is withdrawn: `cleanup --train` lists them (`withdrawn_folders`). Its
images (`images`: the final whose tags `publish --train` put on the voted images) are withdrawn as a
single release's are, by the single release's plan (`plan/withdraw.py`): the tag `withdrawn-V` on
V's image, every alias on V moved back to the highest remaining release that owns it by the
release-time rule, V's own tags kept. Which releases remain is read as `publish --train` read it when
it gave the aliases (the registry's version and `withdrawn-V` tags, the index), with what the
train's waves record (`train_state`): a wave's published images make its final a release, a
withdrawal it records makes that final withdrawn, even before a run stopped short put its marker. A
wave staged in ATR has nothing in svn; ATR's API offers a committee no withdrawal of a finished
release, so the plan says what the release manager asks for by hand (`by_hand`). Final tags stay:
a withdrawn version is still a released version number, so the next wave never takes it again.

The record keeps each withdrawal (`withdrawn`: name -> version, reason, when, the key of who did it,
the files, the svn revision, what the index said): the announcement leaves those distributions out,
`verify --train` names them, and a rerun changes nothing that is recorded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from packaging.utils import canonicalize_name

from release.errors import RefusedError, VersionError
from release.plan.commands import Action, CommandPlan, Where
from release.plan.declared import tag_for
from release.plan.release import TagAction, TargetState
from release.plan.wave import distribution_of
from release.plan.withdraw import WithdrawPlan
from release.trains import SvnLayout, Train
from release.versions import ReleaseVersion, parse_version

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
    # a versioned train's release folders, under the project's (`3.3.3`, `task-sdk/1.3.3`): they stay
    # until `cleanup --train` lists them
    folders: tuple[str, ...] = ()
    by_hand: str = ""  # what the release manager must do by hand (a wave in ATR: its files there)
    flat_files: bool = True  # its files leave the flat release folder in svn (not versioned's or ATR's)
    images: str = ""  # the final whose images the wave published, withdrawn with it ("": none)

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
                "folders": list(self.folders), "by_hand": self.by_hand or None, "images": self.images or None,
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


def images_version(recorded: Mapping[str, Any]) -> str:
    """The final whose images the wave published (`publish --train` recorded their tags under
    `published.images`): its record's images' version; "" when it published none."""
    found, images = recorded.get("published"), recorded.get("images")
    if not isinstance(found, dict) or not found.get("images") or not isinstance(images, dict):
        return ""
    return str(images.get("version") or "")


def train_state(state: TargetState, records: Iterable[Mapping[str, Any]]) -> TargetState:
    """`state` (the registry's tags and the index, read as for a single release) with what the train's
    waves record (`records`: each wave.json): the final of a wave that published images is released,
    and withdrawn when the wave records a withdrawal (a run that stopped after recording it and before
    the `withdrawn-V` tag leaves the registry silent), so no alias goes back to it."""
    released, withdrawn = set(state.released), set(state.withdrawn)
    for recorded in records:
        version = images_version(recorded)
        if version:
            released.add(parse_version(version))
            if withdrawals(recorded):
                withdrawn.add(parse_version(version))
    return replace(state, released=tuple(sorted(released)), withdrawn=frozenset(withdrawn))


def _release_folders(recorded: Mapping[str, Any]) -> tuple[str, ...]:
    """A versioned wave's release folders, as its promotion recorded them (candidate -> release)."""
    promoted = recorded.get("promoted")
    pairs = promoted.get("folders") if isinstance(promoted, dict) else None
    return tuple(str(pair[1]) for pair in pairs or () if isinstance(pair, (list, tuple)) and len(pair) == 2)


def in_atr_by_hand(recorded: Mapping[str, Any], chosen: Iterable[Withdrawn]) -> str:
    """What the release manager asks for by hand to take withdrawn files out of a wave finished in ATR:
    ATR's API (e354d17) offers a committee no withdrawal, and deletes a release for its administrators
    only."""
    found = recorded.get("promoted")
    promoted: Mapping[str, Any] = found if isinstance(found, dict) else {}
    held = promoted.get("atr")
    atr: Mapping[str, Any] = held if isinstance(held, dict) else {}
    release = str(atr.get("release") or "the wave's release")
    url = str(promoted.get("url") or "ATR's downloads")
    names = [f.rsplit("/", 1)[-1] for d in chosen for f in d.files]
    return (f"ATR's API offers a committee no withdrawal (it deletes a release for ATR's administrators "
            f"only): ask them to remove {', '.join(names) or 'nothing'} of release {release} from {url}")


def plan_wave_withdrawal(train: Train, date: str, recorded: Mapping[str, Any], *, only: Collection[str] = (),
                         reason: str, in_atr: bool = False) -> WaveWithdrawal:
    """The published distributions of the `train` wave of `date` to withdraw (all, or those `only`
    names by name or id; a versioned train's all together), or why a run refuses (`refusals`, the
    first one said). `in_atr`: the train stages in ATR, which keeps the files (`by_hand`)."""
    def refused(why: str) -> WaveWithdrawal:
        return WaveWithdrawal(train.name, date, reason.strip(), (), (why,))

    versioned = train.svn is SvnLayout.VERSIONED
    if versioned and only:
        return refused(f"train {train.name} releases its distributions together: they are withdrawn together "
                       "(give no --only)")
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
    return WaveWithdrawal(train.name, date, reason.strip(), chosen,
                          folders=_release_folders(recorded) if versioned and not in_atr else (),
                          by_hand=in_atr_by_hand(recorded, chosen) if in_atr else "",
                          flat_files=not versioned and not in_atr,
                          images=images_version(recorded) if versioned and train.images else "")


def files_to_remove(withdrawal: WaveWithdrawal, listing: Iterable[str]) -> tuple[str, ...]:
    """The files of the withdrawn distributions the flat release folder still holds (`listing`: the
    names in it), by their path under the project's release folder: what one svn commit removes."""
    if not withdrawal.flat_files:
        return ()
    there = set(listing)
    return tuple(f for d in withdrawal.distributions for f in d.files if f.rsplit("/", 1)[-1] in there)


def withdrawn_folders(records: Iterable[Mapping[str, Any]]) -> dict[str, frozenset[ReleaseVersion]]:
    """The release folders of a versioned train that its waves' records (`records`: each wave.json)
    say are withdrawn, by the train's folder they are in (`""` for the project's own, `task-sdk`): what
    `cleanup --train` lists, as a single release's cleanup lists a withdrawn release."""
    found: dict[str, set[ReleaseVersion]] = {}
    for recorded in records:
        for entry in withdrawals(recorded).values():
            for path in entry.get("files") or ():
                folder, _, version = str(path).rpartition("/")[0].rpartition("/")
                try:
                    released = parse_version(version)
                except VersionError:
                    continue  # a flat train's file: no folder of its own
                found.setdefault(folder, set()).add(released)
    return {folder: frozenset(versions) for folder, versions in found.items()}


def withdrawal_record(withdrawal: WaveWithdrawal, *, at: str, key: str) -> dict[str, dict[str, Any]]:
    """The record of each distribution this withdrawal adds (its svn revision and what the index said
    are recorded once done; what is left to do by hand with it)."""
    by_hand = {"by_hand": withdrawal.by_hand} if withdrawal.by_hand else {}
    return {d.name: {"version": d.version, "reason": withdrawal.reason, "at": at, "key": key,
                     "files": list(d.files), **by_hand} for d in withdrawal.new}


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


def image_actions(plan: WithdrawPlan, repository: str) -> tuple[Action, ...]:
    """What withdrawing a release's images does in the registry (`repository`: registry/image): its
    `withdrawn-V` tag, each alias on V moved back or left there (and why); aliases not on V are not
    named (a rerun finds none on it)."""
    marker = plan.marker
    published = (f"tag {repository}:{marker.tag} on {marker.source} ({plan.marker_digest}): {marker.reason}"
                 if marker.action is TagAction.CREATE else
                 f"leave {repository}:{marker.tag} as it is: the withdrawal is published already")
    aliases = []
    for family in plan.families:
        for change in family.changes:
            if change.action is TagAction.MOVE:
                aliases.append(f"move {repository}:{change.tag} to {change.source}'s image: {change.reason}")
            elif not change.reason.startswith("does not point at"):
                aliases.append(f"leave {repository}:{change.tag}: {change.reason}")
    return tuple(Action(Where.REGISTRY, does) for does in (published, *aliases))


def plan_withdraw_wave(withdrawal: WaveWithdrawal, *, record: str, release_url: str,
                       removed: Iterable[str], index: str, images: Iterable[Action] = ()) -> CommandPlan:
    """`invoke withdraw --train --dry-run`: what withdrawing would record, do in the registry to the
    wave's images (`images`, from `image_actions`), remove from the flat release folder (`removed`: the
    files it still holds, in one commit), leave in a versioned train's release folders, tell the index,
    and ask for by hand (a wave in ATR)."""
    gone = tuple(removed)
    cleanup = f"invoke cleanup --train {withdrawal.train}"
    return CommandPlan("withdraw", f"{withdrawal.train} {withdrawal.date}", (
        *(Action(Where.DIST, f"leave {d.name} {d.version} as recorded: withdrawn already {d.earlier}")
          for d in withdrawal.distributions if d.earlier),
        *(Action(Where.DIST, f"record in {record}: {d.name} {d.version} withdrawn ({withdrawal.reason})")
          for d in withdrawal.new),
        *images,
        *(Action(Where.SVN, f"remove {release_url}/{path} (the ASF archive keeps it)") for path in gone),
        *(Action(Where.SVN, f"leave {release_url}/{folder} in place: {cleanup} lists it to remove (the ASF "
                            "archive keeps it)") for folder in withdrawal.folders),
        *(Action(Where.INDEX, f"tell {index} {d.name} {d.version} is withdrawn (yanked where it can, else "
                              "where to yank it by hand)") for d in withdrawal.untold),
        *((Action(Where.ATR, f"by hand: {withdrawal.by_hand}"),) if withdrawal.by_hand else ()),
    ), withdrawal.refusals, options=f"--train {withdrawal.train} --date {withdrawal.date}")
