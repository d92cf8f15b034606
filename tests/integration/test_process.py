# SPDX-License-Identifier: Apache-2.0
"""The process adapter against real processes: background services started, recognised, stopped."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from release.adapters import process

SLEEPER = "import sys, time; print('up', flush=True); time.sleep(float(sys.argv[1]))"


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """A background python that sleeps a minute; its pid, its marker and its log."""
    marker = str(tmp_path / "marker")
    log_file = tmp_path / "logs" / "sleeper.log"
    pid = process.spawn([sys.executable, "-c", SLEEPER, "60", marker], log_file=log_file)
    # Until the child has exec'd, /proc shows the parent's command line, without the marker.
    assert process.wait_until(lambda: process.matches(pid, marker), timeout=10, interval=0.01)
    yield pid, marker, log_file
    process.stop(pid, marker, timeout=2)


def test_a_spawned_service_runs_in_its_own_session_and_logs(sleeper: tuple[int, str, Path]) -> None:
    pid, marker, log_file = sleeper
    assert process.alive(pid) and process.matches(pid, marker)
    assert os.getsid(pid) != os.getsid(0)
    assert process.wait_until(lambda: "up" in log_file.read_text(), timeout=10, while_alive=pid)
    assert "started:" in log_file.read_text() and marker in log_file.read_text()


def test_only_the_process_with_the_marker_is_stopped(sleeper: tuple[int, str, Path]) -> None:
    pid, marker, _ = sleeper
    assert not process.matches(pid, "another service")
    assert process.stop(pid, "another service") is False and process.alive(pid)
    assert process.stop(pid, marker) is True
    assert not process.alive(pid) and not process.matches(pid, marker)
    assert process.stop(pid, marker) is False  # already gone


def test_nothing_runs_under_no_pid() -> None:
    assert not process.matches(None, "x") and not process.matches(0, "x")


def test_waiting_gives_up_when_the_watched_process_dies(tmp_path: Path) -> None:
    pid = process.spawn([sys.executable, "-c", "pass"], log_file=tmp_path / "short.log")
    started = time.monotonic()
    assert process.wait_until(lambda: False, timeout=30, interval=0.05, while_alive=pid) is False
    assert time.monotonic() - started < 10
    assert not process.alive(pid)  # exited and reaped, not a zombie


def test_waiting_returns_as_soon_as_the_check_holds() -> None:
    calls: list[int] = []

    def third_time() -> bool:
        calls.append(1)
        return len(calls) == 3

    assert process.wait_until(third_time, timeout=10, interval=0.01) is True and len(calls) == 3
    assert process.wait_until(lambda: False, timeout=0.05, interval=0.01) is False


FORKER = ("import os, sys, time\n"
          "if os.fork() == 0:\n"
          "    open(sys.argv[2], 'w').write(str(os.getpid()))\n"
          "    time.sleep(60)\n"
          "else:\n"
          "    time.sleep(60)\n")


def test_stopping_a_service_ends_what_it_forked_in_its_session_too(tmp_path: Path) -> None:
    # socat's `fork` leaves a child per open connection: stopping the listener alone left one
    # bridging to a server that was gone, still naming the sandbox's files.
    marker, child_file = str(tmp_path / "marker"), tmp_path / "child.pid"
    pid = process.spawn([sys.executable, "-c", FORKER, marker, str(child_file)], log_file=tmp_path / "f.log")
    assert process.wait_until(lambda: child_file.is_file() and child_file.read_text() != "", timeout=10,
                              interval=0.01)
    child = int(child_file.read_text())
    assert process.alive(child) and os.getpgid(child) == pid
    assert process.stop(pid, marker, timeout=5) is True
    assert not process.alive(pid) and not process.alive(child)


def test_stopping_a_service_leaves_a_process_that_left_its_session_alone(tmp_path: Path) -> None:
    script = FORKER.replace("open(sys.argv[2]", "os.setsid(); open(sys.argv[2]")
    marker, child_file = str(tmp_path / "marker"), tmp_path / "child.pid"
    pid = process.spawn([sys.executable, "-c", script, marker, str(child_file)], log_file=tmp_path / "f.log")
    assert process.wait_until(lambda: child_file.is_file() and child_file.read_text() != "", timeout=10,
                              interval=0.01)
    child = int(child_file.read_text())
    try:
        assert process.stop(pid, marker, timeout=5) is True
        assert not process.alive(pid) and process.alive(child)
    finally:
        os.kill(child, 9)
