# SPDX-License-Identifier: Apache-2.0
"""The command runner's pure part: the end of a program's output, as errors show it."""

from __future__ import annotations

import pytest

from release.adapters.cmd import TAIL_LINES, tail, which
from release.errors import ToolMissingError


def test_tail_keeps_the_last_lines_indented() -> None:
    text = "".join(f"line {n}\n" for n in range(100))
    shown = tail(text).splitlines()
    assert len(shown) == TAIL_LINES == 30
    assert shown[0] == "  line 70" and shown[-1] == "  line 99"
    assert tail("one\ntwo\n\n\n", lines=5) == "  one\n  two"
    assert tail("") == ""


def test_a_missing_program_is_a_tool_missing_error_with_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    expected = r"'svn' is not installed or not on PATH \(apt-get install subversion\)"
    with pytest.raises(ToolMissingError, match=expected) as caught:
        which("svn", hint="apt-get install subversion")
    assert caught.value.exit_code == 3
