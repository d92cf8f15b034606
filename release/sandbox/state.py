"""Where the sandbox keeps its state, and the small helpers every service needs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from release.errors import ServiceError

STATE_DIRNAME = ".release"
STATE_FILE = "services.json"

Progress = Callable[[str], None]

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def print_progress(message: str) -> None:
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
    return data


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def http_status(
    url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None, timeout: float = 3.0
) -> int | None:
    """HTTP status of `url` (no redirects followed), or None when nothing answers."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def http_get(url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0) -> bytes | None:
    """Body of a 200 answer, or None for any other answer or none at all."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, OSError):
        return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def wait_until(
    check: Callable[[], bool], *, timeout: float, interval: float = 0.2, while_alive: int | None = None
) -> bool:
    """Poll `check` until it holds or `timeout` passes; give up early if process `while_alive` dies."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if while_alive is not None and not pid_alive(while_alive):
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def pid_alive(pid: int) -> bool:
    _reap(pid)
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError, OSError):
        return False
    return state not in ("Z", "X")


def pid_matches(pid: int | None, marker: str) -> bool:
    """True when `pid` is alive and its command line mentions `marker` (guards against pid reuse)."""
    if not pid or not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return marker in cmdline


def spawn(
    argv: Sequence[str], *, log_file: Path, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> int:
    """Start a long-lived service in its own session so it outlives this process; return its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        _stamp(log, argv)
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN[child.pid] = child
    return child.pid


def _stamp(log: IO[bytes], argv: Sequence[str]) -> None:
    log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} started: {' '.join(argv)}\n".encode())
    log.flush()


def start_and_wait(
    argv: Sequence[str], *, log_file: Path, marker: str, answers: Callable[[], bool], timeout: float,
    what: str, hint: str = "", cwd: Path | None = None, interval: float = 0.2,
) -> int:
    """Spawn a service and wait until `answers`; if it never does, stop it and say why."""
    pid = spawn(argv, log_file=log_file, cwd=cwd)
    if not wait_until(answers, timeout=timeout, interval=interval, while_alive=pid):
        stop_pid(pid, marker)
        extra = f" ({hint})" if hint else ""
        raise ServiceError(f"{what} within {timeout:.0f}s: {log_tail(log_file)}; see {log_file}{extra}")
    return pid


def stop_pid(pid: int, marker: str, *, timeout: float = 10.0) -> bool:
    """SIGTERM (then SIGKILL) a process we started, only if it is still the one we started."""
    if not pid_matches(pid, marker):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: not pid_alive(pid), timeout=timeout, interval=0.1):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), timeout=5.0, interval=0.1)
    return True


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

    def __call__(self, message: str) -> None:
        self._sink(f"[{time.monotonic() - self._start:6.1f}s] {message}")

    def elapsed(self) -> float:
        return time.monotonic() - self._start
