# SPDX-License-Identifier: Apache-2.0
"""The one progress type: a step reports plain lines or `Event`s to a `Progress` callable.

The library only reports; the command line decides how it looks (`console.progress`), and the
library's default sends lines to logging. A build tool's own output is an `Event` of kind
`output`: kept for logs and benchmarks, not shown as progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("release")


@dataclass(frozen=True)
class Event:
    """One thing that happened. `subject` says what it is about (`python3.11`, a file, a tag).
    kind: info | started | step | output | built | failed | smoked | pushing | pushed | reused | cache |
    note.
    `step`/`total`: the Dockerfile step a build is at."""

    message: str
    subject: str = ""
    kind: str = "info"
    step: int | None = None
    total: int | None = None
    cached: bool = False
    elapsed: float = 0.0

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}" if self.subject else self.message


Progress = Callable[["str | Event"], None]


def to_log(item: str | Event) -> None:
    """The library's default: progress to the `release` logger, build output left out."""
    if isinstance(item, str) or item.kind != "output":
        log.info("%s", item)


def shown(item: str | Event) -> str | None:
    """The line to show a person for `item`, or None for a build tool's own output."""
    if isinstance(item, Event) and item.kind == "output":
        return None
    return str(item)
