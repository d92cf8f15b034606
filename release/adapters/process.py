# SPDX-License-Identifier: Apache-2.0
"""Long-lived background programs (the sandbox's dockerd, registry and index): start, watch, stop.

A program started here runs in its own session, so it outlives the process that started it. It is
known afterwards by its pid plus a marker, a string its command line carries: pids are reused, and
a process whose command line no longer shows the marker is not ours to stop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

log = logging.getLogger("release.process")

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # started by this process: reaped when they exit


def spawn(
    argv: Sequence[str], *, log_file: Path, cwd: Path | None = None, env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
) -> int:
    """Start `argv` in its own session with its output appended to `log_file`; return its pid.
    `env` is added to this process's environment, or is the whole of it with `inherit_env=False`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log.debug("+ %s &", shlex.join(argv))
    with open(log_file, "ab") as sink:
        sink.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} started: {' '.join(argv)}\n".encode())
        sink.flush()
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=_environment(env, inherit_env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN[child.pid] = child
    return child.pid


def _environment(env: Mapping[str, str] | None, inherit: bool) -> dict[str, str] | None:
    if not inherit:
        return dict(env or {})
    return None if env is None else {**os.environ, **env}


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def alive(pid: int) -> bool:
    """True while process `pid` runs (a zombie does not count)."""
    _reap(pid)
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (IndexError, OSError):
        return False
    return state not in ("Z", "X")


def matches(pid: int | None, marker: str) -> bool:
    """True when `pid` is alive and its command line mentions `marker` (guards against pid reuse)."""
    if not pid or not alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return marker in cmdline


def wait_until(
    check: Callable[[], bool], *, timeout: float, interval: float = 0.2, while_alive: int | None = None
) -> bool:
    """Poll `check` until it holds or `timeout` passes; give up early if process `while_alive` dies."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if while_alive is not None and not alive(while_alive):
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop(pid: int, marker: str, *, timeout: float = 10.0) -> bool:
    """SIGTERM (then SIGKILL) `pid`, only while it still `matches` marker; False when it did not.
    When `pid` leads its own process group (as `spawn` starts it), whatever it forked into that group
    and left behind is ended after it: a forking listener's children hold connections open."""
    if not matches(pid, marker):
        return False
    leads = _group_of(pid) == pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: not alive(pid), timeout=timeout, interval=0.1):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid), timeout=5.0, interval=0.1)
    if leads:
        terminate(_members(pid), timeout=timeout)
    return True


def _group_of(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        return os.getpgid(pid)
    return None


def _members(group: int) -> list[int]:
    """The live processes of process group `group`."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _group_of(int(entry.name)) == group and alive(int(entry.name))]


def terminate(pids: Sequence[int], *, timeout: float = 10.0) -> list[int]:
    """SIGTERM every process of `pids` (then SIGKILL those left after `timeout`); the caller knows
    them to be its own. Returns the pids that had to be killed."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not any(alive(pid) for pid in pids), timeout=timeout, interval=0.1)
    killed = [pid for pid in pids if alive(pid)]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in killed), timeout=5.0, interval=0.1)
    return killed
