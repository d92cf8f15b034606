# SPDX-License-Identifier: Apache-2.0
"""The in-image health watcher of the app smoke checks, run as a real local process against a real
local HTTP server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from release.adapters.net import free_port
from release.steps.app_smoke import WATCH


def http_server(port: int, directory: Path) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
            "--directory", str(directory)]


def watch(url: str, timeout: float, expect: str, *command: str) -> dict[str, Any]:
    argv = [sys.executable, "-c", WATCH, url, str(timeout), expect, "5", *command]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 30, check=True)
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


@pytest.mark.slow
def test_the_watcher_sees_a_server_answer_then_stops_it(tmp_path: Path) -> None:
    (tmp_path / "health").write_text('{"db":"ok"}')
    port = free_port()
    found = watch(f"http://127.0.0.1:{port}/health", 30, '"db":"ok"', *http_server(port, tmp_path))
    assert found["ok"] and found["status"] == 200
    assert found["exit"] is None
    assert "GET /health" in found["log"]
    with pytest.raises(ConnectionRefusedError):  # stopped
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


@pytest.mark.slow
def test_the_watcher_reports_a_server_that_exits_or_never_answers(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    exited = watch(url, 30, "", sys.executable, "-c", "import sys; print('no config'); sys.exit(4)")
    assert (exited["ok"], exited["exit"]) == (False, 4)
    assert "no config" in exited["log"]
    silent = watch(url, 2, "", "sleep", "60")
    assert (silent["ok"], silent["status"], silent["exit"]) == (False, None, None)
    missing = watch(url.replace("/health", "/nope"), 3, "", *http_server(port, tmp_path))
    assert (missing["ok"], missing["status"]) == (False, 404)
