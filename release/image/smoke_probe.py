# SPDX-License-Identifier: Apache-2.0
"""Runs inside the image with its own python3 (3.9+), started through the image's entrypoint by the
smoke test (release/steps/smoke.py):

    python3 -c SOURCE NAME WHEELS_RECORD TOOLS HEADER_DIRS TIMEOUT [APP_COMMAND...]

TOOLS and HEADER_DIRS are comma-separated. Prints one JSON line: the facts (Python version, uid,
machine, NAME's installed version, the wheels record, each tool's path, PID 1's command line, the C
headers found, the shared libraries that miss one they link to), and the exit code, output and
time of `pip check`, `bash -c true` and the app command, which run at the same time (each on its
own: the app command gets no other process's output).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

LDD_BATCH = 100


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def read_text(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def pid1(cmdline: str = "/proc/1/cmdline") -> list[str] | None:
    """PID 1's first three words (under emulation the emulator comes first)."""
    try:
        return [word.decode() for word in Path(cmdline).read_bytes().split(b"\0")[:3]]
    except OSError:
        return None


def headers(tops: Iterable[str]) -> list[Any]:
    """[how many C headers are under `tops`, the first five of them]."""
    found = sorted(str(Path(folder) / name) for top in tops for folder, _, names in os.walk(top)
                   for name in names if name.endswith((".h", ".hpp")))
    return [len(found), found[:5]]


def shared_libraries(tops: Iterable[str]) -> list[str]:
    """Every shared library (`*.so`, `*.so.N`) under `tops`, sorted."""
    return sorted({str(Path(folder) / name) for top in set(tops) for folder, _, names in os.walk(top)
                   for name in names if name.endswith(".so") or ".so." in name})


def missing_libraries(ldd_output: str, first: str, exists: Callable[[Path], bool] = Path.exists
                      ) -> dict[str, list[str]]:
    """What `ldd LIB...` says is not found, per library (`first`: the library ldd names no header for,
    when it was given only one). A wheel's vendored libraries (auditwheel's *.libs) find their
    siblings through the extension that loads them, not through ldd's search: those do not count."""
    missing: dict[str, list[str]] = {}
    current = first
    for line in ldd_output.splitlines():
        if not line.startswith(("\t", " ")) and line.endswith(":"):
            current = line[:-1]
        elif "=> not found" in line:
            needed = line.split("=>")[0].strip()
            if not exists(Path(current).parent / needed):
                missing.setdefault(current, []).append(needed)
    return missing


def ldd_missing(libraries: Sequence[str]) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for start in range(0, len(libraries), LDD_BATCH):
        out = subprocess.run(["ldd", *libraries[start:start + LDD_BATCH]], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, check=False).stdout
        missing.update(missing_libraries(out, libraries[start]))
    return missing


def facts(name: str, record: str, tools: str, header_dirs: str) -> dict[str, Any]:
    """What the image shows, without running anything but `ldd`."""
    started = time.monotonic()
    found: dict[str, Any] = {
        "python": "{}.{}".format(*sys.version_info[:2]), "uid": os.getuid(), "machine": platform.machine(),
        "seconds": {}, "version": installed_version(name), "wheels": read_text(record),
        "tools": {tool: shutil.which(tool) for tool in tools.split(",")}, "pid1": pid1(),
        "headers": headers(header_dirs.split(",")),
    }
    libraries = shared_libraries({sys.prefix, sysconfig.get_path("platstdlib")})
    found["libraries"] = [len(libraries), ldd_missing(libraries) if shutil.which("ldd") else None]
    found["seconds"]["facts"] = time.monotonic() - started
    return found


def run_all(commands: Mapping[str, Sequence[str]], timeout: float, into: dict[str, Any]) -> None:
    """Run each command at once (pip check alone takes seconds to start); put [exit code, the end of
    its output] under its name in `into`, and its time under `into["seconds"]`."""
    def run(name: str, command: Sequence[str]) -> None:
        began = time.monotonic()
        try:
            done = subprocess.run(list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=timeout,
                                  check=False)
            into[name] = [done.returncode, done.stdout[-2000:]]
        except subprocess.TimeoutExpired:
            into[name] = [-1, f"did not finish in {timeout:g}s"]
        except OSError as exc:
            into[name] = [127, str(exc)]
        into["seconds"][name] = time.monotonic() - began

    threads = [threading.Thread(target=run, args=item) for item in commands.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main(argv: Sequence[str]) -> None:
    name, record, tools, header_dirs, timeout = argv[:5]
    app_command = argv[5:]
    found = facts(name, record, tools, header_dirs)
    commands = {"pip_check": [sys.executable, "-m", "pip", "check"], "shell": ["bash", "-c", "true"]}
    if app_command:
        commands["app_command"] = list(app_command)
    run_all(commands, float(timeout), found)
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1:])
