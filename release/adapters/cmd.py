"""The one way to run an outside program: echo it, find it, turn failures into project errors."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.errors import CommandError, ToolMissingError

log = logging.getLogger("release.cmd")

# What libraries that run programs themselves raise (pypa/build installing its requirements), so
# that callers can catch it without importing subprocess.
CalledProcessError = subprocess.CalledProcessError


def which(program: str, *, hint: str = "") -> str:
    """Absolute path of `program`, or a ToolMissingError that says how to get it."""
    found = shutil.which(program)
    if found is None:
        extra = f" ({hint})" if hint else ""
        raise ToolMissingError(f"'{program}' is not installed or not on PATH{extra}")
    return found


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    check: bool = True,
    capture: bool = True,
    hint: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run a program and return its result; raise CommandError with its stderr when it fails."""
    argv = [str(a) for a in args]
    argv[0] = which(argv[0], hint=hint)
    log.debug("+ %s", shlex.join(argv))
    merged_env = None if env is None else {**os.environ, **env}
    result = subprocess.run(
        argv,
        cwd=cwd,
        env=merged_env,
        input=input_text,
        text=True,
        capture_output=capture,
        check=False,
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines()
        last = detail[-1] if detail else "no output"
        name = Path(argv[0]).name
        raise CommandError(f"{name} {shlex.join(argv[1:])[:200]} failed (exit {result.returncode}): {last}")
    return result
