# SPDX-License-Identifier: Apache-2.0
"""The command runner with real programs: captured output, or output kept in a log file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from release.adapters.cmd import run
from release.errors import CommandError

SPEAK = "import sys; print('to stdout'); print('to stderr', file=sys.stderr, flush=True); sys.exit({code})"


def test_captured_output_and_the_last_line_of_a_failure() -> None:
    done = run([sys.executable, "-c", SPEAK.format(code=0)])
    assert (done.stdout, done.stderr) == ("to stdout\n", "to stderr\n")
    with pytest.raises(CommandError, match=r"failed \(exit 3\): to stderr$") as caught:
        run([sys.executable, "-c", SPEAK.format(code=3)])
    assert caught.value.exit_code == 4
    assert run([sys.executable, "-c", SPEAK.format(code=3)], check=False).returncode == 3


def test_a_log_file_gets_each_command_line_then_its_output(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "build.log"
    first = run([sys.executable, "-c", SPEAK.format(code=0)], log_file=log, cwd=tmp_path)
    second = run([sys.executable, "-c", "print('again')"], log_file=log)
    assert first.stdout == "to stdout\nto stderr\n" and second.stdout == "again\n"
    lines = log.read_text().splitlines()
    assert lines[0].startswith(f"+ {sys.executable} -c ") and lines[0].endswith(f"  (in {tmp_path})")
    assert lines[1:3] == ["to stdout", "to stderr"]
    assert lines[3].startswith("+ ") and lines[4:] == ["again"]


def test_a_failure_with_a_log_names_it_and_shows_its_last_30_lines(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("an earlier run\n")
    noisy = "import sys; [print(f'line {n}') for n in range(50)]; sys.exit(2)"
    with pytest.raises(CommandError) as caught:
        run([sys.executable, "-c", noisy], log_file=log)
    first, *shown = str(caught.value).splitlines()
    assert first.endswith(f"failed (exit 2); its output is in {log}, ending with:")
    assert shown == [f"  line {n}" for n in range(20, 50)]
    assert log.read_text().startswith("an earlier run\n+ ")
    assert log.read_text().endswith("line 49\n")
