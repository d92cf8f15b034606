# SPDX-License-Identifier: Apache-2.0
"""The one way to run an outside program: echo it, find it, turn failures into project errors.

Output is captured (returned, and its last line in the error) or, with `log=`, appended to a log
file after the command line, so a noisy tool (a build backend) stays off the console.
`run_limited` reads at most so many bytes of a program's output: a program that passes on what a
server sends (`svn cat`, `svn list`) is stopped when there is more.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from release.adapters.net import CHUNK, read_limited
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


@dataclass(frozen=True)
class Output:
    """What `run_limited` read: the exit code, the output (bytes), the end of stderr (text)."""

    returncode: int
    stdout: bytes
    stderr: str


def run_limited(
    args: Sequence[str | os.PathLike[str]],
    *,
    limit: int,
    source: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    hint: str = "",
) -> Output:
    """Run a program and return its result with at most `limit` bytes of standard output; when it
    writes more, it is killed and a ServiceError names `source` (where the output comes from, e.g.
    the URL) and the limit. Its exit code is not checked: the result's stderr (its last 64 KiB, as
    text) says why it failed."""
    argv = [str(a) for a in args]
    argv[0] = which(argv[0], hint=hint)
    log.debug("+ %s", shown(argv))
    merged_env = None if env is None else {**os.environ, **env}
    with subprocess.Popen(argv, cwd=cwd, env=merged_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        errors: list[bytes] = []
        drain = threading.Thread(target=_keep_tail, args=(process.stderr, errors), daemon=True)
        drain.start()
        out = process.stdout
        try:
            stdout = read_limited(iter(lambda: out.read(CHUNK), b""), limit, source)
        except BaseException:
            process.kill()
            raise
        finally:
            process.wait()
            drain.join()
    stderr = b"".join(errors).decode("utf-8", errors="replace")
    return Output(process.returncode, stdout, stderr)


def _keep_tail(stream: IO[bytes], into: list[bytes], keep: int = 1 << 16) -> None:
    """Read `stream` to its end, keeping only its last `keep` bytes in `into`."""
    tail_bytes = b""
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        tail_bytes = (tail_bytes + chunk)[-keep:]
    into.append(tail_bytes)


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
