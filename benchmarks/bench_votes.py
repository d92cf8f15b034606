# SPDX-License-Identifier: Apache-2.0
"""Section `votes` of `nox -s bench`: reading vote lines and threads, pure and local (no sandbox).

A plain-text vote line of N characters is read in time linear in N: a line ten times as long
takes about ten times as long, where the address pattern of the first version re-read the rest of
the line from every character (a 20,000-character line took 2.6 s, one of 200,000 would take
minutes). Each line is read several times and the best time kept; lines of 20,000 and 200,000
characters are measured side by side in this run.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable

from release.errors import RefusedError
from release.votes import parse_plain

FILLERS = {"letters": "a", "times": "2026-11-27T", "brackets": "<a@"}
RATIO_GOAL = 20.0  # linear: about 10 for ten times the characters; quadratic: about 100
SHORT_GOAL = 0.05  # seconds for a 20,000-character line (the first version: 2.6 s)


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def read_line(line: str) -> None:
    with contextlib.suppress(RefusedError):  # a line naming no voter is refused: reading it is measured
        parse_plain(line)


def bench_votes() -> list[tuple[str, float, float, float]]:
    """(filler, seconds for 20,000 characters, seconds for 200,000, their ratio) for each filler."""
    found = []
    for name, filler in FILLERS.items():
        short, long = ("+1 " + filler * (size // len(filler)) for size in (20_000, 200_000))
        seconds_short = best_of(9, functools.partial(read_line, short))
        seconds_long = best_of(9, functools.partial(read_line, long))
        found.append((name, seconds_short, seconds_long, seconds_long / max(seconds_short, 1e-9)))
    return found
