# SPDX-License-Identifier: Apache-2.0
"""The smoke test's in-image probe (release/image/smoke_probe.py), run as a real local process, as
`python3 -c SOURCE` like in the images, with this Python and with the oldest flavour's (3.9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from release.image import SMOKE_PROBE, script

# The oldest flavour's Python, where this machine has it (pyenv): the images of 3.9 run the probe.
OLDEST = sorted(str(p) for p in Path("/root/.pyenv/versions").glob("3.9*/bin/python3.9"))
INTERPRETERS = [sys.executable, *OLDEST[-1:]]


def probe(record: Path, timeout: float, *command: str, headers: str = "/no-such-dir",
          python: str = sys.executable, name: str = "pytest") -> dict[str, Any]:
    tools = "sh,no-such-tool-here"
    argv = [python, "-c", script(SMOKE_PROBE), name, str(record), tools, headers, str(timeout), *command]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


@pytest.mark.slow
@pytest.mark.skipif(not OLDEST, reason="no Python 3.9 under /root/.pyenv on this machine")
def test_the_probe_runs_on_the_oldest_flavours_python(tmp_path: Path) -> None:
    record = tmp_path / "wheels.sha256"
    record.write_text(f"{'a' * 64}  x-1-py3-none-any.whl\n")
    found = probe(record, 30, "sh", "-c", "echo on-3.9", python=OLDEST[-1], name="pip")
    assert found["python"] == "3.9"
    assert found["version"] and found["wheels"] == record.read_text()
    assert found["app_command"] == [0, "on-3.9\n"] and found["shell"][0] == 0
    assert isinstance(found["libraries"][0], int)


@pytest.mark.slow
def test_the_probe_reports_facts_and_runs_the_shell_and_the_app_command(tmp_path: Path) -> None:
    record = tmp_path / "wheels.sha256"
    record.write_text(f"{'a' * 64}  x-1-py3-none-any.whl\n")
    include = tmp_path / "include" / "sub"
    include.mkdir(parents=True)
    (include / "x.h").write_text("int x;\n")
    (include / "x.c").write_text("int x;\n")
    found = probe(record, 30, sys.executable, "-c", "print('app says hi')",
                  headers=f"{tmp_path / 'include'},/no-such-dir")
    assert found["python"] == "{}.{}".format(*sys.version_info[:2])
    assert found["version"] == pytest.__version__
    assert found["wheels"] == record.read_text()
    assert found["tools"]["sh"] and found["tools"]["no-such-tool-here"] is None
    assert found["shell"][0] == 0
    assert found["app_command"] == [0, "app says hi\n"]
    assert found["headers"] == [1, [str(include / "x.h")]]
    assert len(found["pip_check"]) == 2
    assert set(found["seconds"]) == {"facts", "pip_check", "shell", "app_command"}


@pytest.mark.slow
def test_the_probe_reports_a_missing_or_hanging_app_command(tmp_path: Path) -> None:
    missing = probe(tmp_path / "none", 30, "no-such-app-command")
    assert missing["wheels"] is None
    assert missing["app_command"][0] == 127
    hanging = probe(tmp_path / "none", 1, "sleep", "30")
    assert hanging["app_command"] == [-1, "did not finish in 1s"]
    quiet = probe(tmp_path / "none", 30)
    assert "app_command" not in quiet
    assert quiet["headers"] == [0, []]
