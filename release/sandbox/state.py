# SPDX-License-Identifier: Apache-2.0
"""Where the sandbox keeps its state, and how it starts a service and waits until it answers."""

from __future__ import annotations

import contextlib
import fcntl
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.adapters import process
from release.errors import ServiceError
from release.progress import Event, Progress

STATE_DIRNAME = ".release"
STATE_FILE = "services.json"



def print_progress(message: str | Event) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Layout:
    """Every path the sandbox uses, all under `<root>/.release`."""

    state_dir: Path

    @classmethod
    def of(cls, root: Path) -> Layout:
        return cls(root.resolve() / STATE_DIRNAME)

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def cache(self) -> Path:
        return self.state_dir / "cache"

    @property
    def registry_dir(self) -> Path:
        return self.state_dir / "registry"

    @property
    def registry_config(self) -> Path:
        return self.state_dir / "registry.yml"

    @property
    def index_dir(self) -> Path:
        return self.state_dir / "index"

    @property
    def svn_repo(self) -> Path:
        return self.state_dir / "svn" / "repo"

    @property
    def gnupghome(self) -> Path:
        return self.state_dir / "gnupg"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"


def read_state(layout: Layout) -> dict[str, Any] | None:
    try:
        text = layout.state_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ServiceError(
            f"{layout.state_file} is not valid JSON ({exc}); delete it and run the sandbox up again"
        ) from exc
    if not isinstance(data, dict):
        raise ServiceError(f"{layout.state_file} does not hold a JSON object; delete it and run up again")
    damaged = state_damage(data)
    if damaged:
        raise ServiceError(f"{layout.state_file} is damaged ({damaged}); delete it and run the sandbox up "
                           "again")
    return data


_TEXT = ("state_dir", "registry", "registry_url", "index_url", "svn_url", "gnupghome", "gnupghome_dir",
         "signing_key")
_PROCESS_FIELDS: dict[str, tuple[type, ...]] = {"pid": (int, type(None)), "port": (int, type(None)),
                                                "started_by_sandbox": (bool,)}


def state_damage(data: Mapping[str, Any]) -> str:
    """What in the state document has a shape the sandbox cannot use ("" when nothing)."""
    for key in _TEXT:
        if key in data and not isinstance(data[key], str):
            return f"{key}: expected text, got {type(data[key]).__name__}"
    if "version" in data and (not isinstance(data["version"], int) or isinstance(data["version"], bool)):
        return "version: expected a number"
    if "complete" in data and not isinstance(data["complete"], bool):
        return "complete: expected true or false"
    names = data.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return "names: expected a list of project names"
    images = data.get("base_images", {})
    if not isinstance(images, dict) or not all(isinstance(v, str) for v in images.values()):
        return "base_images: expected a table of image references"
    processes = data.get("processes", {})
    if not isinstance(processes, dict):
        return "processes: expected a table"
    for name, record in processes.items():
        if not isinstance(record, dict):
            return f"processes.{name}: expected a table"
        for field, types in _PROCESS_FIELDS.items():
            value = record.get(field)
            number_as_bool = int in types and isinstance(value, bool)
            if field in record and (not isinstance(value, types) or number_as_bool):
                expected = "true or false" if bool in types else "a number"
                return f"processes.{name}.{field}: expected {expected}"
    return ""


def write_state(layout: Layout, data: Mapping[str, Any]) -> None:
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    tmp = layout.state_file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(layout.state_file)


@contextlib.contextmanager
def locked(layout: Layout) -> Iterator[None]:
    """Serialise `up`/`down` of one sandbox across processes."""
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    with open(layout.state_dir / "lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_and_wait(
    argv: Sequence[str], *, log_file: Path, marker: str, answers: Callable[[], bool], timeout: float,
    what: str, hint: str = "", cwd: Path | None = None, interval: float = 0.2,
) -> int:
    """Spawn a service and wait until `answers`; if it never does, stop it and say why."""
    pid = process.spawn(argv, log_file=log_file, cwd=cwd)
    if not process.wait_until(answers, timeout=timeout, interval=interval, while_alive=pid):
        process.stop(pid, marker)
        extra = f" ({hint})" if hint else ""
        raise ServiceError(f"{what} within {timeout:.0f}s: {log_tail(log_file)}; see {log_file}{extra}")
    return pid


def log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    tail = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(tail) if tail else "(empty log)"


class Clock:
    """Prefixes progress lines with the seconds since `up` began."""

    def __init__(self, sink: Progress) -> None:
        self._sink = sink
        self._start = time.monotonic()

    def __call__(self, message: str | Event) -> None:
        self._sink(f"[{time.monotonic() - self._start:6.1f}s] {message}")

    def elapsed(self) -> float:
        return time.monotonic() - self._start
