# SPDX-License-Identifier: Apache-2.0
"""`invoke refresh --train NAME --date D` (or `--version V`): a versioned train's published images
rebuilt on their moved base, through the single release's refresh (`refresh_images`), looking only at
the wave's final tags and handed the wave's inputs: its voted wheels (dist/<train>-<date>/svn/, else
the index, by their recorded sha256), the constraints its images installed (the wave's constraints/
files, else its `constraints-<V>` git tag, by the sha512 wave.json records). Decided by
plan/wave_refresh.py; each refresh is recorded in the wave's wave.json (`refreshed`), holding the
wave's lock. A rerun finds the bases current and changes nothing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from release import locks
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import RefusedError
from release.pipeline.connect import Target, clients_for
from release.pipeline.refresh import observe_refresh, refresh_images
from release.pipeline.wave_record import read_record, record_path, train_records, update_record
from release.plan.commands import CommandPlan
from release.plan.wave_refresh import (
    REFRESHED,
    Observed,
    plan_wave_refresh,
    refresh_entry,
    refresh_refusal,
    refreshes,
    voted_wheels,
    wave_image_tags,
)
from release.plan.wave_withdraw import images_version
from release.progress import Progress
from release.steps.refresh import (
    RefreshItem,
    RefreshReport,
    folder_constraints,
    folder_wheels,
    index_wheels,
    tagged_constraints,
    without_pins,
)
from release.trains import Train


@dataclass(frozen=True)
class WaveRefreshed:
    report: RefreshReport
    record: Path  # wave.json


def wave_of_version(config: ReleaseConfig, train: Train, version: str) -> str:
    """The date of the train's wave whose images are `version` (`--version 3.3.3`)."""
    found = [str(r.get("date") or "") for r in train_records(config, train.name)
             if images_version(r) == version]
    if not found or not found[-1]:
        raise RefusedError(f"--version {version}: no wave of the {train.name} train in dist/ published "
                           f"images of {version}; give its --date")
    return found[-1]


def _observed(items: list[RefreshItem]) -> list[Observed]:
    return [Observed(i.tag, i.status, i.base_image, i.old_base, i.new_base, i.detail) for i in items]


def refresh_wave_plan(config: ReleaseConfig, train: Train, *, date: str, target: Target,
                      clients: Clients | None = None) -> CommandPlan:
    """`invoke refresh --train --dry-run`: which of the wave's final tags would be rebuilt (their base
    moved) or left, or why a run refuses; reading only."""
    path = record_path(config, train.name, date)
    recorded = read_record(path)
    if refresh_refusal(train, date, recorded):
        return plan_wave_refresh(train, date, recorded, (), record=str(path), wheels=())
    clients = clients if clients is not None else clients_for(target)
    items = observe_refresh(config, clients, wave_image_tags(recorded))
    return plan_wave_refresh(train, date, recorded, _observed(items), record=str(path),
                             wheels=voted_wheels(recorded, train.images))


def refresh_wave(config: ReleaseConfig, train: Train, *, date: str, target: Target, say: Progress,
                 clients: Clients | None = None) -> WaveRefreshed:
    """Refresh the wave's stale images (see the module doc) and record each refresh in wave.json."""
    path = record_path(config, train.name, date)
    refusal = refresh_refusal(train, date, read_record(path))
    if refusal:
        raise RefusedError(refusal)
    clients = clients if clients is not None else clients_for(target)
    with locks.release_run(path.parent, f"{train.name}-{date}"):
        recorded = read_record(path)
        promoted = recorded.get("promoted")
        refs = promoted.get("constraints") if isinstance(promoted, dict) else None
        tag = str(refs.get("tag") or "") if isinstance(refs, dict) else ""  # constraints-3.3.3
        written = recorded.get("constraints")
        constraints = written if isinstance(written, dict) else {}
        with tempfile.TemporaryDirectory(prefix="refresh-wave-") as scratch:
            report = refresh_images(
                config, clients, targets=wave_image_tags(recorded), progress=say,
                wheel_sources=[folder_wheels(path.parent / "svn"),
                               index_wheels(clients.index, list(train.images), Path(scratch) / "index")],
                constraints_sources=[
                    without_pins(found, train.images, Path(scratch) / "pinned") for found in (
                        folder_constraints(path.parent, constraints),
                        tagged_constraints(config.root, tag, constraints, Path(scratch) / "tagged"))],
            )
        when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        done = [refresh_entry(i.tag, at=when, base=i.base_image, old_base=i.old_base, new_base=i.new_base,
                              old_image=i.old_digest or "", new_image=i.new_digest or "", moved=i.moved_tags)
                for i in report.changed]
        if done:
            update_record(path, **{REFRESHED: [*refreshes(read_record(path)), *done]})
    return WaveRefreshed(report, path)
