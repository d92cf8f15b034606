# SPDX-License-Identifier: Apache-2.0
"""The one way to run an outside program: echo it, find it, turn failures into project errors.

Output is captured (returned, and its last line in the error) or, with `log=`, appended to a log
file after the command line, so a noisy tool (a build backend) stays off the console.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.errors import CommandError, ToolMissingError
from release.urls import hide_credentials

log = logging.getLogger("release.cmd")
TAIL_LINES = 30


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of `text`, indented, for an error message."""
    return "\n".join(f"  {line}" for line in text.rstrip().splitlines()[-lines:])

# What libraries that run programs themselves raise (pypa/build installing its requirements), so
# that callers can catch it without importing subprocess.
CalledProcessError = subprocess.CalledProcessError


def shown(argv: Sequence[str]) -> str:
    """A command line as messages and logs show it: credentials in a URL argument are hidden."""
    return shlex.join([hide_credentials(arg) if "://" in arg else arg for arg in argv])


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
    log_file: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a program and return its result; raise CommandError with its stderr when it fails.

    With `log_file`, stdout and stderr go (interleaved) to the end of that file after a `+ command`
    line instead of being captured; the result's stdout holds them too, and a failure names the log
    and shows its last lines.
    """
    argv = [str(a) for a in args]
    argv[0] = which(argv[0], hint=hint)
    log.debug("+ %s", shown(argv))
    merged_env = None if env is None else {**os.environ, **env}
    if log_file is not None:
        return _run_logged(argv, cwd=cwd, env=merged_env, input_text=input_text, check=check,
                           log_file=log_file)
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
        raise CommandError(f"{name} {shown(argv[1:])[:200]} failed (exit {result.returncode}): {last}")
    return result


def _run_logged(
    argv: list[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str] | None,
    input_text: str | None,
    check: bool,
    log_file: Path,
) -> subprocess.CompletedProcess[str]:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    where = f"  (in {cwd})" if cwd else ""
    with open(log_file, "ab") as handle:
        handle.write(f"+ {shown(argv)}{where}\n".encode())
        handle.flush()
        start = handle.tell()
        result = subprocess.run(
            argv, cwd=cwd, env=env, input=input_text, text=True, stdout=handle, stderr=subprocess.STDOUT,
            check=False,
        )
    with open(log_file, "rb") as handle:
        handle.seek(start)
        output = handle.read().decode("utf-8", errors="replace")
    if check and result.returncode != 0:
        name = Path(argv[0]).name
        raise CommandError(
            f"{name} {shown(argv[1:])[:200]} failed (exit {result.returncode}); its output is in "
            f"{log_file}, ending with:\n{tail(output) or '  (no output)'}"
        )
    return subprocess.CompletedProcess(argv, result.returncode, stdout=output, stderr="")
