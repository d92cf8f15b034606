# SPDX-License-Identifier: Apache-2.0
"""The in-image health watcher of the app smoke checks (release/image/health_watch.py), run as a
real local process against a real local HTTP server, with this Python and the oldest flavour's."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from release.adapters.net import free_port
from release.image import HEALTH_WATCH, script

OLDEST = sorted(str(p) for p in Path("/root/.pyenv/versions").glob("3.9*/bin/python3.9"))


def http_server(port: int, directory: Path) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
            "--directory", str(directory)]


def watch(url: str, timeout: float, expect: str, *command: str, python: str = sys.executable
          ) -> dict[str, Any]:
    argv = [python, "-c", script(HEALTH_WATCH), url, str(timeout), expect, "5", *command]
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


@pytest.mark.slow
@pytest.mark.skipif(not OLDEST, reason="no Python 3.9 under /root/.pyenv on this machine")
def test_the_watcher_runs_on_the_oldest_flavours_python(tmp_path: Path) -> None:
    (tmp_path / "health").write_text("fine")
    port = free_port()
    found = watch(f"http://127.0.0.1:{port}/health", 30, "fine", *http_server(port, tmp_path),
                  python=OLDEST[-1])
    assert found["ok"] and found["status"] == 200 and found["exit"] is None
