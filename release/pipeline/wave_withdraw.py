# SPDX-License-Identifier: Apache-2.0
"""Withdraw distributions of a published wave: decided from its record (plan/wave_withdraw.py),
recorded in wave.json first, then a flat train's files removed from its flat release folder in one
svn commit (a versioned train's release folders stay for `cleanup --train`; a wave in ATR has none
in svn, and what ATR keeps is said to be asked for by hand) and the index told about each, holding
the wave's lock (dist/<train>-<date>/.lock).

A rerun does what is left: files already gone are not removed again, a distribution the index was
told about is not told again, and what is recorded stays as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from release import locks
from release.adapters import svn
from release.adapters.clients import Index
from release.config import ReleaseConfig
from release.pipeline.connect import Target, clients_for
from release.pipeline.wave_record import read_record, record_path, update_record
from release.plan.commands import CommandPlan
from release.plan.wave_withdraw import (
    WITHDRAWN,
    WaveWithdrawal,
    files_to_remove,
    plan_wave_withdrawal,
    plan_withdraw_wave,
    withdrawal_record,
    withdrawals,
)
from release.progress import Progress
from release.trains import Train


@dataclass(frozen=True)
class WaveWithdrawn:
    withdrawal: WaveWithdrawal
    record: Path  # wave.json
    removed: tuple[str, ...]  # the URLs removed now
    revision: int | None  # their commit (None: the release folder held none of them)
    told: Mapping[str, str]  # name -> what the index said, told now


def _decide(config: ReleaseConfig, train: Train, date: str, only: Collection[str], reason: str
            ) -> WaveWithdrawal:
    return plan_wave_withdrawal(train, date, read_record(record_path(config, train.name, date)), only=only,
                                reason=reason, in_atr=config.stages_in_atr(train))


def withdraw_wave_plan(config: ReleaseConfig, train: Train, *, date: str, only: Collection[str], reason: str,
                       target: Target) -> CommandPlan:
    """`invoke withdraw --train --dry-run`: what would be recorded, removed from the flat release folder
    (as it holds them now), left in a versioned train's release folders, told to the index and asked
    for by hand, or why a run would refuse; reading only."""
    withdrawal = _decide(config, train, date, only, reason)
    release = svn.join(target.svn_release, config.name)
    reads = withdrawal.flat_files and not withdrawal.refusals
    listing = svn.list_folder(svn.join(release, train.svn_folder)) if reads else []
    return plan_withdraw_wave(withdrawal, record=str(record_path(config, train.name, date)),
                              release_url=release, removed=files_to_remove(withdrawal, listing),
                              index=clients_for(target).index.shown_simple)


def _update(path: Path, done: Mapping[str, Mapping[str, Any]]) -> None:
    """Add `done` (name -> values) to the recorded withdrawals."""
    found = withdrawals(read_record(path))
    update_record(path, **{WITHDRAWN: {**found, **{name: {**found.get(name, {}), **values}
                                             for name, values in done.items()}}})


def withdraw_wave(config: ReleaseConfig, train: Train, *, date: str, only: Collection[str], reason: str,
                  target: Target, say: Progress, index: Index | None = None) -> WaveWithdrawn:
    """Withdraw the published distributions of the `train` wave of `date` (all, or those `only` names;
    a versioned train's all together): recorded in wave.json (the reason, when, the configured signing
    key), a flat train's files removed from its flat release folder in one commit (nothing is put
    back: the ASF archive keeps every release; a versioned train's release folders stay, for cleanup
    to list), the index told about each (it yanks where it can, else says where to yank by hand), and
    for a wave in ATR what to ask ATR's administrators for said."""
    path = record_path(config, train.name, date)
    _decide(config, train, date, only, reason).check()  # before any service is reached
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
        client = index if index is not None else clients_for(target).index
        for distribution in withdrawal.untold:
            told[distribution.name] = client.yank(distribution.name, distribution.version)
            say(told[distribution.name])
        if told:
            _update(path, {name: {"index": line} for name, line in told.items()})
        if withdrawal.by_hand:
            say(f"by hand: {withdrawal.by_hand}")
    return WaveWithdrawn(withdrawal, path, tuple(svn.join(release, p) for p in gone), revision, told)
