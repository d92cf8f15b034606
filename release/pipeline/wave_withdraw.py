# SPDX-License-Identifier: Apache-2.0
"""Withdraw distributions of a published wave: decided from its record (plan/wave_withdraw.py),
recorded in wave.json first, then a versioned train's images withdrawn as a single release's are
(`withdrawn-V`, the aliases moved back under dist/.aliases.lock by the one tag mover; recorded under
`withdrawn_images`), then a flat train's files removed from its flat release folder in one
svn commit (a versioned train's release folders stay for `cleanup --train`; a wave in ATR has none
in svn, and what ATR keeps is said to be asked for by hand) and the index told about each, holding
the wave's lock (dist/<train>-<date>/.lock).

A rerun does what is left: the marker found there and no alias left on V change nothing in the
registry, files already gone are not removed again, a distribution the index was told about is not
told again, and what is recorded stays as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from release import locks
from release.adapters import svn
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import RefusedError
from release.pipeline.connect import Target, clients_for
from release.pipeline.state import observe_for_withdraw
from release.pipeline.wave_record import read_record, record_path, train_records, update_record
from release.plan.commands import Action, CommandPlan
from release.plan.wave_withdraw import (
    WITHDRAWN,
    WaveWithdrawal,
    files_to_remove,
    image_actions,
    plan_wave_withdrawal,
    plan_withdraw_wave,
    withdrawal_record,
    withdrawals,
)
from release.plan.withdraw import WithdrawPlan, plan_withdraw
from release.progress import Progress
from release.steps.withdraw import withdraw_images
from release.trains import Train
from release.versions import parse_version

WITHDRAWN_IMAGES = "withdrawn_images"  # wave.json's key: the withdrawal of a versioned train's images


@dataclass(frozen=True)
class WaveWithdrawn:
    withdrawal: WaveWithdrawal
    record: Path  # wave.json
    removed: tuple[str, ...]  # the URLs removed now
    revision: int | None  # their commit (None: the release folder held none of them)
    told: Mapping[str, str]  # name -> what the index said, told now
    aliases: Mapping[str, str]  # a versioned train's images: alias -> where it points now, or why it stayed


def _decide(config: ReleaseConfig, train: Train, date: str, only: Collection[str], reason: str
            ) -> WaveWithdrawal:
    return plan_wave_withdrawal(train, date, read_record(record_path(config, train.name, date)), only=only,
                                reason=reason, in_atr=config.stages_in_atr(train))


def _images_plan(config: ReleaseConfig, train: Train, withdrawal: WaveWithdrawal, clients: Clients
                 ) -> WithdrawPlan | None:
    """Where withdrawing the wave's images moves the aliases, from the registry and the index now and
    the train's waves' records; None when the wave published no images."""
    if not withdrawal.images:
        return None
    version = parse_version(withdrawal.images)
    return plan_withdraw(config, version, observe_for_withdraw(config, version, clients,
                                                               train_records(config, train.name)))


def withdraw_wave_plan(config: ReleaseConfig, train: Train, *, date: str, only: Collection[str], reason: str,
                       target: Target, clients: Clients | None = None) -> CommandPlan:
    """`invoke withdraw --train --dry-run`: what would be recorded, tagged and moved back in the
    registry (a versioned train's images, as the registry holds them now), removed from the flat
    release folder (as it holds them now), left in a versioned train's release folders, told to the
    index and asked for by hand, or why a run would refuse; reading only."""
    withdrawal = _decide(config, train, date, only, reason)
    release = svn.join(target.svn_release, config.name)
    reads = withdrawal.flat_files and not withdrawal.refusals
    listing = svn.list_folder(svn.join(release, train.svn_folder)) if reads else []
    clients = clients if clients is not None else clients_for(target)
    images: tuple[Action, ...] = ()
    if not withdrawal.refusals:
        try:
            found = _images_plan(config, train, withdrawal, clients)
        except RefusedError as exc:
            withdrawal = replace(withdrawal, refusals=(str(exc),))
        else:
            images = image_actions(found, target.repository(config.image)) if found else ()
    return plan_withdraw_wave(withdrawal, record=str(record_path(config, train.name, date)),
                              release_url=release, removed=files_to_remove(withdrawal, listing),
                              index=clients.index.shown_simple, images=images)


def _update(path: Path, done: Mapping[str, Mapping[str, Any]]) -> None:
    """Add `done` (name -> values) to the recorded withdrawals."""
    found = withdrawals(read_record(path))
    update_record(path, **{WITHDRAWN: {**found, **{name: {**found.get(name, {}), **values}
                                             for name, values in done.items()}}})


def _withdraw_images(config: ReleaseConfig, train: Train, withdrawal: WaveWithdrawal, path: Path,
                     clients: Clients, say: Progress) -> dict[str, str]:
    """The wave's images withdrawn (planned again under the project's alias lock, as every run that
    moves aliases does), recorded once in wave.json; alias -> where it points now, or why it stayed."""
    with locks.aliases(config.root / "dist", say):
        plan = _images_plan(config, train, withdrawal, clients)
        if plan is None:
            return {}
        done = withdraw_images(config, plan, registry=clients.registry, progress=say)
    if not isinstance(read_record(path).get(WITHDRAWN_IMAGES), dict):  # a rerun keeps the first one's
        update_record(path, **{WITHDRAWN_IMAGES: {
            "version": withdrawal.images, "marker": done.marker.tag, "digest": done.marker.digest,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "aliases": done.aliases}})
    return done.aliases


def withdraw_wave(config: ReleaseConfig, train: Train, *, date: str, only: Collection[str], reason: str,
                  target: Target, say: Progress, clients: Clients | None = None) -> WaveWithdrawn:
    """Withdraw the published distributions of the `train` wave of `date` (all, or those `only` names;
    a versioned train's all together): recorded in wave.json (the reason, when, the configured signing
    key), a flat train's files removed from its flat release folder in one commit (nothing is put
    back: the ASF archive keeps every release; a versioned train's release folders stay, for cleanup
    to list), the index told about each (it yanks where it can, else says where to yank by hand), and
    for a wave in ATR what to ask ATR's administrators for said. A versioned train's images: the tag
    `withdrawn-V`, the aliases on V moved back (`_withdraw_images`), before svn and the index."""
    path = record_path(config, train.name, date)
    _decide(config, train, date, only, reason).check()  # before any service is reached
    reach = clients if clients is not None else clients_for(target)
    _images_plan(config, train, _decide(config, train, date, only, reason), reach)  # refuses before anything
    release = svn.join(target.svn_release, config.name)
    folder = svn.join(release, train.svn_folder)
    told: dict[str, str] = {}
    with locks.release_run(path.parent, f"{train.name}-{date}"):
        withdrawal = _decide(config, train, date, only, reason)
        withdrawal.check()
        for earlier in withdrawal.distributions:
            if earlier.earlier:
                say(f"{earlier.name} {earlier.version} is withdrawn already {earlier.earlier}")
        if withdrawal.new:
            at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            _update(path, withdrawal_record(withdrawal, at=at, key=target.signing_key))
        aliases = _withdraw_images(config, train, withdrawal, path, reach, say)
        gone = files_to_remove(withdrawal, svn.list_folder(folder)) if withdrawal.flat_files else ()
        for kept in withdrawal.folders:
            say(f"{svn.join(release, kept)} stays until invoke cleanup --train {train.name} lists it (the "
                "ASF archive keeps it)")
        revision = None
        if gone:
            names = ", ".join(f"{d.name} {d.version}" for d in withdrawal.distributions)
            revision = svn.remove([svn.join(release, p) for p in gone],
                                  f"Withdraw {names} of the {train.name} wave of {date}")
            say(f"removed {len(gone)} files from {folder} (revision {revision})")
            _update(path, {d.name: {"revision": revision} for d in withdrawal.distributions
                           if set(d.files) & set(gone)})
        for distribution in withdrawal.untold:
            told[distribution.name] = reach.index.yank(distribution.name, distribution.version)
            say(told[distribution.name])
        if told:
            _update(path, {name: {"index": line} for name, line in told.items()})
        if withdrawal.by_hand:
            say(f"by hand: {withdrawal.by_hand}")
    return WaveWithdrawn(withdrawal, path, tuple(svn.join(release, p) for p in gone), revision, told, aliases)
