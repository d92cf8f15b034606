# SPDX-License-Identifier: Apache-2.0
"""A wave's folder and record: dist/<train>-<date>/ holds its files, `wave.json` (what was built,
signed, staged, tagged, voted, promoted and published) and the emails beside it.

`read_record` is how every command of a wave reads `wave.json`; the wave's executor
(`pipeline/wave_run.py`) writes it for the run, the later commands (`pipeline/trains.py`) add their
own keys with `update_record`. `wave_lock` keeps one run of a wave at a time.
"""

from __future__ import annotations

import json
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release import locks
from release.config import ReleaseConfig
from release.errors import RefusedError
from release.plan.wave import WavePlan
from release.record import write_atomic

WAVE_RECORD = "wave.json"
VOTE_EMAIL = "vote-email.txt"  # beside wave.json
ANNOUNCE_EMAIL = "announce-email.txt"  # beside wave.json
RESULT_EMAIL = "vote-result-email.txt"
_WAVE = re.compile(r"\d{4}-\d{2}-\d{2}")  # a wave's date, after its train's name in its folder


@dataclass(frozen=True)
class Wave:
    plan: WavePlan
    commit: str  # the full hash the wave is planned at (and built from)
    git_calls: int  # git commands run to read its facts


def wave_directory(config: ReleaseConfig, plan: WavePlan) -> Path:
    """Where a wave's files and record go: dist/<train>-<date>/."""
    return config.root / "dist" / f"{plan.train}-{plan.date}"


def record_path(config: ReleaseConfig, train: str, date: str) -> Path:
    """The wave.json of the `train` wave of `date`."""
    return config.root / "dist" / f"{train}-{date}" / WAVE_RECORD


def train_records(config: ReleaseConfig, train: str) -> list[dict[str, Any]]:
    """What each wave of `train` in dist/ records (dist/<train>-<date>/wave.json), oldest first."""
    dist = config.root / "dist"
    found = sorted(dist.glob(f"{train}-*/{WAVE_RECORD}")) if dist.is_dir() else []
    return [read_record(path) for path in found if _WAVE.fullmatch(path.parent.name[len(train) + 1:])]


def read_record(path: Path) -> dict[str, Any]:
    """What `path` (a wave.json) records; {} when there is none."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RefusedError(f"{path} cannot be read ({exc}); move it away to build the wave again") from None
    return data if isinstance(data, dict) else {}


def write_record(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def update_record(path: Path, **values: Any) -> None:
    write_record(path, {**read_record(path), **values})


def wave_lock(config: ReleaseConfig, plan: WavePlan) -> AbstractContextManager[None]:
    """One run of a wave at a time (dist/<train>-<date>/.lock); another is refused, exit 6."""
    return locks.release_run(wave_directory(config, plan), f"{plan.train}-{plan.date}")
