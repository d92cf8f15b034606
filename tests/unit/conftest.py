# SPDX-License-Identifier: Apache-2.0
"""Unit tests are pure: a test here that starts a process or opens a socket fails.

Every way to start a program (subprocess, fork, spawn, exec, system) and every way to reach the
network (connect, bind, create_connection) raises while a unit test runs. The attempt is also
remembered, so code that swallows the error (an `except Exception` around a health check) still
fails the test when it ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest

MESSAGE = "unit tests may not start processes / open sockets: move this test to tests/integration"

_PROCESS_STARTERS = (
    "fork", "forkpty", "posix_spawn", "posix_spawnp", "system",
    "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
)


_CALL_FAILED = pytest.StashKey[bool]()


class ImpureTestError(RuntimeError):
    """A unit test tried to start a process or open a socket."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if call.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def _no_processes_or_sockets(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., NoReturn]:
        def refused(*args: Any, **kwargs: Any) -> NoReturn:
            attempts.append(what)
            raise ImpureTestError(f"{what}: {MESSAGE}")

        return refused

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("subprocess.Popen"))
    for name in _PROCESS_STARTERS:
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse(f"os.{name}"))
    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "bind", refuse("socket.bind"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    yield
    if attempts and not request.node.stash.get(_CALL_FAILED, False):  # else the test failed already
        tried = ", ".join(sorted(set(attempts)))
        pytest.fail(f"{request.node.nodeid} tried {tried}: {MESSAGE}", pytrace=False)
