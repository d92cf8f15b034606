# SPDX-License-Identifier: Apache-2.0
"""The Docker Engine: use the one that answers, or install and start one (root on Debian/Ubuntu)."""

from __future__ import annotations

import os
from typing import Any

from release import locks
from release.adapters import apt, process
from release.adapters.engine import Engine
from release.errors import ServiceError, ToolMissingError
from release.progress import Progress
from release.sandbox.state import Layout, start_and_wait
from release.sandbox.tools import ensure_program

MARKER = "dockerd"
START_TIMEOUT = 90.0


def answering() -> bool:
    return Engine(timeout=5).ping()


def engine_version() -> str | None:
    return Engine(timeout=5).version()


def ensure_engine(layout: Layout, previous: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Return the engine's state record; start dockerd only when nothing answers."""
    pid = previous.get("pid")
    started = bool(previous.get("started_by_sandbox")) and process.matches(pid, MARKER)
    if answering():
        progress(
            f"engine: Docker Engine {engine_version()} answers"
            + (f" (dockerd pid {pid}, started by the sandbox)" if started else "")
        )
        return {"pid": pid if started else None, "started_by_sandbox": started}
    if os.environ.get("DOCKER_HOST"):
        raise ServiceError(
            f"the Docker Engine at DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer; "
            "start it, or unset DOCKER_HOST to let the sandbox start a local dockerd"
        )
    if not apt.can_install():
        raise ToolMissingError(
            "no Docker Engine answers and the sandbox can only start one as root on Debian/Ubuntu; "
            "start Docker (e.g. `sudo systemctl start docker`) and run the sandbox up again"
        )
    dockerd = ensure_program("dockerd", "docker.io", progress)
    with locks.machine("engine", progress, what="starting the Docker Engine"):
        if answering():  # another sandbox coming up at the same time started it
            progress(f"engine: Docker Engine {engine_version()} answers (started by another process)")
            return {"pid": None, "started_by_sandbox": False}
        log_file = layout.log("dockerd")
        new_pid = start_and_wait(
            [dockerd], log_file=log_file, marker=MARKER, answers=answering, timeout=START_TIMEOUT,
            interval=0.5, what="dockerd did not answer",
            hint="dockerd needs root and a kernel with cgroups and overlayfs",
        )
    progress(f"engine: started dockerd (pid {new_pid}), log {log_file}")
    progress(f"engine: Docker Engine {engine_version()} answers")
    return {"pid": new_pid, "started_by_sandbox": True}


def stop_engine(record: dict[str, Any]) -> bool:
    pid = record.get("pid")
    if not record.get("started_by_sandbox") or not isinstance(pid, int):
        return False
    return process.stop(pid, MARKER, timeout=30.0)


def engine_status(record: dict[str, Any]) -> dict[str, Any]:
    pid = record.get("pid")
    started = bool(record.get("started_by_sandbox"))
    return {
        "answering": answering(),
        "version": engine_version(),
        "pid": pid if started else None,
        "started_by_sandbox": started,
        "running": process.matches(pid, MARKER) if started else None,
        "note": "shared engine: `down` leaves it running unless asked to stop it (stop_engine=True)"
        if started
        else "engine not started by the sandbox; never stopped by it",
    }
