# SPDX-License-Identifier: Apache-2.0
"""Withdraw a release: publish the withdrawal, move its aliases back, tell the index; the pipeline records it.

The decision where each alias goes is pure (plan/withdraw.py); tags move only through
`steps.tags`. Order: the `withdrawn-V` tag first (from then on every plan leaves V out), then the
aliases, then the index and (the pipeline's) signed record, so a rerun after a failure finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from release.adapters.clients import Index, Registry
from release.config import ReleaseConfig
from release.errors import RefusedError
from release.plan.release import TagAction
from release.plan.withdraw import WithdrawPlan
from release.progress import Progress, to_log
from release.record import RECORD_NAME, TagEntry, WithdrawalInfo, release_dir
from release.steps.tags import apply_changes, point_tag


@dataclass(frozen=True)
class WithdrawResult:
    version: str
    marker: TagEntry
    moved: tuple[TagEntry, ...]
    aliases: dict[str, str]  # alias -> where it points now, or why it stayed
    index: str
    record: Path  # dist/<V>/release.json, where the pipeline records the withdrawal
    withdrawal: WithdrawalInfo


@dataclass(frozen=True)
class ImagesWithdrawn:
    marker: TagEntry
    moved: tuple[TagEntry, ...]
    aliases: dict[str, str]  # alias -> where it points now, or why it stayed


def withdraw_images(config: ReleaseConfig, plan: WithdrawPlan, *, registry: Registry,
                    progress: Progress = to_log) -> ImagesWithdrawn:
    """The registry's part of `plan`: the marker tag, then each alias moved back (the caller holds
    dist/.aliases.lock). A single release's withdrawal and a versioned train's both go through it."""
    image = config.image
    marker = point_tag(registry, image, plan.marker.tag, plan.marker_digest, moving=False,
                       flavour=plan.marker.image.flavour, progress=progress)
    moved: list[TagEntry] = []
    for family in plan.families:
        if family.moves:  # never backwards: an alias another run put on a higher release stays there
            moved += apply_changes(registry, image, family.moves, family.digests, version=family.owner,
                                   progress=progress)
    left = {e.tag for e in moved if e.action == TagAction.SKIP.value}  # the tag mover's re-check held them
    aliases = {c.tag: (c.reason if c.action is not TagAction.MOVE else
                       "left on a higher release" if c.tag in left else c.source)
               for family in plan.families for c in family.changes}
    for change in plan.kept:
        progress(f"{image}:{change.tag}: {change.reason}")
    return ImagesWithdrawn(marker, tuple(moved), aliases)


def withdraw_release(config: ReleaseConfig, plan: WithdrawPlan, *, registry: Registry,
                     index: Index, reason: str, progress: Progress = to_log) -> WithdrawResult:
    """Carry out `plan`: the marker tag, the aliases and the index; the withdrawal, for the pipeline
    to record in dist/<V>/ and sign again (holding dist/<V>/.lock throughout as every run of V does)."""
    if not reason.strip():
        raise RefusedError('say why the release is withdrawn: --reason "..."')
    version = str(plan.version)
    images = withdraw_images(config, plan, registry=registry, progress=progress)
    told = index.yank(config.name, version)
    progress(told)
    withdrawal = WithdrawalInfo(reason.strip(), datetime.now(timezone.utc).isoformat(), plan.marker.tag,
                                images.aliases, told)
    return WithdrawResult(version, images.marker, images.moved, images.aliases, told,
                          release_dir(config.root, version) / RECORD_NAME, withdrawal)
