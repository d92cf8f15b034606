# SPDX-License-Identifier: Apache-2.0
"""Locks between runs of the pipeline on one machine: `flock` on files under the target's `dist/`.

What is shared: every run whose project root (the checkout) is the same, whichever command it
is (`invoke release`, `publish`, `build`, `sign`, `stage`, `promote`, `images --push`):

- `dist/<V>/.lock`: one run per version at a time, held for the whole run. A second run of the
  same version is refused at once (RefusedError), so no two processes write one release record.
- `dist/.aliases.lock`: the moving aliases (`X.Y`, `latest`) of the project are decided and
  moved by one run at a time; the others wait. Runs from other checkouts or machines do not see
  these locks: for them the tag mover's re-check of each alias right before it moves is what
  keeps an alias from moving backwards.

What every checkout on one machine shares, `machine(name)` holds under the system's temporary
folder: the engine's local base images (one build of a recipe, the others wait and reuse it),
starting a Docker Engine, and apt. Two sandboxes coming up at once then do each of these once.

A lock is released when its holder exits, however it exits (`flock` dies with the process).
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from release.errors import RefusedError

RELEASE_LOCK = ".lock"
ALIASES_LOCK = ".aliases.lock"
MACHINE_LOCKS = "release-pipeline-locks"  # under the system's temporary folder


@contextlib.contextmanager
def _flock(path: Path, *, wait: bool, busy: Callable[[], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy()
            if not wait:
                raise
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def release_run(directory: Path, version: str) -> Iterator[None]:
    """Hold `dist/<V>/` for one run; RefusedError (exit 6) when another run holds it."""

    def refuse() -> None:
        raise RefusedError(f"another run of {version} holds dist/{version}; wait for it")

    with _flock(directory / RELEASE_LOCK, wait=False, busy=refuse):
        yield


@contextlib.contextmanager
def aliases(dist: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Hold the project's moving aliases while they are decided and moved; wait for another run."""

    def waiting() -> None:
        say(f"waiting for another run moving this project's aliases ({dist.name}/{ALIASES_LOCK})")

    with _flock(dist / ALIASES_LOCK, wait=True, busy=waiting):
        yield


def machine_lock_path(name: str, folder: Path | None = None) -> Path:
    """Where `machine(name)` locks: one file per name, the name kept to safe characters."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "lock"
    return (folder or Path(tempfile.gettempdir()) / MACHINE_LOCKS) / f"{safe}.lock"


@contextlib.contextmanager
def machine(name: str, say: Callable[[str], None], *, what: str = "",
            folder: Path | None = None) -> Iterator[None]:
    """Hold what every checkout on this machine shares (`name`: "apt", "engine", "base-<recipe>");
    wait for another process holding it, saying so once (`what` names it for the line)."""

    def waiting() -> None:
        say(f"waiting for another process {what or name} on this machine")

    with _flock(machine_lock_path(name, folder), wait=True, busy=waiting):
        yield
