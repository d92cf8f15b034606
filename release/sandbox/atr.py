# SPDX-License-Identifier: Apache-2.0
"""A real Apache Trusted Releases (ATR) server in the sandbox, in test mode, reaching nothing.

ATR's source is a `git archive --prefix=atr/` tarball of apache/tooling-trusted-releases, named by
RELEASE_ATR_SOURCE (tested: e354d17, 2025-10-29). It is unpacked once under `.release/atr/`
(checked by the tarball's sha256), into a venv of Python 3.13 filled from its uv lock (kept while the
lock and the interpreter are the same), and served by hypercorn with a self-signed certificate.

It runs in a network namespace of its own that holds nothing but a loopback interface: ATR's
lookups of whimsy.apache.org and projects.apache.org and its mails through mail-relay.apache.org
fail at once, and nothing leaves the machine. hypercorn listens on a unix socket in ATR's state
folder; socat forwards 127.0.0.1:PORT on the host to it, so the namespace needs no route at all.

Stopping ends every process in the namespace, whatever session its workers made for themselves
(ATR's workers call setsid), then removes the namespace: nothing is left running, also when the
server died while starting.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.adapters import atr, gpg, net, netns, process, uv
from release.adapters.cmd import run
from release.errors import CommandError, ConfigError, ServiceError, ToolMissingError
from release.progress import Progress
from release.sandbox.state import Layout, log_tail
from release.sandbox.tools import ensure_program

SOURCE_ENV = "RELEASE_ATR_SOURCE"  # the tarball
PYTHON_ENV = "RELEASE_ATR_PYTHON"  # a Python 3.13 interpreter, when none is found
PROJECT = COMMITTEE = "test"  # what ATR's test mode seeds; its user `test` is their release manager
SSH_PORT = 2222  # ATR's own SSH server (rsync uploads), inside the namespace: reachable from nowhere
START_TIMEOUT = 180.0
ASF_USER_ID = f"Release Sandbox (ATR) <{atr.SANDBOX_UID}@apache.org>"
# asfquart is pinned to a git commit of its repository in ATR's lock (GitHub, unreachable here); the
# same code is asfquart 0.1.12 on PyPI (the commit only bumps its version).
_FROM_PYPI = {"asfquart": "asfquart==0.1.12"}
# The workers limit their address space to 1 GiB; the JVM's default reservations do not fit in it.
_JAVA_OPTIONS = ("-Xmx256m -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=32m "
                 "-XX:CompressedClassSpaceSize=64m -XX:+UseSerialGC")


@dataclass(frozen=True)
class AtrServer:
    """Where the sandbox's ATR answers, and how to log in to it."""

    url: str
    ca_file: Path
    token_file: Path
    netns: str
    log: Path

    def target(self, project: str = PROJECT, committee: str = COMMITTEE) -> atr.AtrTarget:
        return atr.AtrTarget(self.url, project, committee, ca_file=self.ca_file, token_file=self.token_file,
                             uid=atr.SANDBOX_UID)


@dataclass(frozen=True)
class Paths:
    """Everything ATR's sandbox keeps, under `<root>/.release/atr/`."""

    home: Path

    @classmethod
    def of(cls, layout: Layout) -> Paths:
        return cls(layout.state_dir / "atr")

    def source(self, sha256: str) -> Path:
        return self.home / f"source-{sha256[:12]}"

    @property
    def venv(self) -> Path:
        return self.home / "venv"

    @property
    def state(self) -> Path:  # ATR's STATE_DIR: database, files, certificate, socket, worker log
        return self.home / "state"

    @property
    def socket(self) -> Path:
        return self.state / "atr.sock"

    @property
    def cert(self) -> Path:
        return self.state / "cert.pem"

    @property
    def key(self) -> Path:
        return self.state / "key.pem"

    @property
    def token(self) -> Path:
        return self.home / "token"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def worker_log(self) -> Path:
        return self.state / "atr-worker.log"

    @property
    def server_marker(self) -> str:  # hypercorn's command line: --bind unix:<socket>
        return f"unix:{self.socket}"

    @property
    def bridge_marker(self) -> str:  # socat's: UNIX-CONNECT:<socket>
        return f"UNIX-CONNECT:{self.socket}"


def namespace_of(layout: Layout) -> str:
    return "release-atr-" + hashlib.sha256(str(layout.state_dir).encode()).hexdigest()[:10]


def source_tarball(env: dict[str, str] | None = None) -> Path:
    found = (env if env is not None else os.environ).get(SOURCE_ENV, "")
    if not found:
        raise ConfigError(f"{SOURCE_ENV} is not set: name a `git archive --prefix=atr/` tarball of "
                          f"apache/tooling-trusted-releases (tested: {atr.TESTED_VERSION}) for the "
                          "sandbox's ATR")
    path = Path(found)
    if not path.is_file():
        raise ConfigError(f"{SOURCE_ENV}={found}: no such file")
    return path


def find_python() -> Path:
    """A Python 3.13 that runs (ATR needs `~=3.13.0`): RELEASE_ATR_PYTHON, pyenv's, or python3.13
    on PATH (which may be a pyenv shim that runs none)."""
    named = os.environ.get(PYTHON_ENV)
    candidates = [Path(named)] if named else []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(pyenv.glob("3.13*/bin/python3.13"), reverse=True)
    on_path = shutil.which("python3.13")
    candidates += [Path(on_path)] if on_path else []
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            try:
                if uv.python_version(candidate).startswith("3.13."):
                    return candidate
            except CommandError:
                continue
    raise ToolMissingError("ATR needs Python 3.13 and none was found; install one (e.g. `pyenv install "
                           f"3.13`) or set {PYTHON_ENV} to its interpreter")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unpack(tarball: Path, paths: Paths, progress: Progress) -> Path:
    """ATR's source tree (the tarball's `atr/`), unpacked once: reused while the tarball's sha256
    is the one recorded next to it."""
    sha256 = _sha256(tarball)
    folder = paths.source(sha256)
    marker = folder / ".unpacked"
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == sha256:
        return folder / "atr"
    progress(f"atr: unpacking {tarball.name} (sha256 {sha256[:12]})")
    paths.home.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    partial = Path(tempfile.mkdtemp(prefix=".source-", dir=paths.home))
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
        bad = [m.name for m in members if not (m.name == "atr" or m.name.startswith("atr/")) or ".." in m.name
               or m.name.startswith("/") or m.issym() or m.islnk()]
        if bad:
            shutil.rmtree(partial, ignore_errors=True)
            raise ConfigError(f"{tarball} is not a `git archive --prefix=atr/` tarball of ATR: it holds "
                              f"{bad[0]!r}")
        archive.extractall(partial, members)  # every member checked above
    (partial / ".unpacked").write_text(sha256 + "\n", encoding="utf-8")
    partial.replace(folder)
    for old in paths.home.glob("source-*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    return folder / "atr"


def requirements(locked: str) -> str:
    """ATR's locked requirements as pip reads them, with `_FROM_PYPI`'s substitutes."""
    lines = []
    for line in locked.splitlines():
        name = line.split("@", 1)[0].split("==", 1)[0].strip().lower()
        lines.append(_FROM_PYPI.get(name, line) if line and not line.startswith((" ", "#")) else line)
    return "\n".join(lines) + "\n"


def ensure_venv(source: Path, python: Path, paths: Paths, log_file: Path, progress: Progress) -> Path:
    """ATR's environment: reused while its lock and interpreter are the ones it was made from."""
    key = hashlib.sha256((source / "uv.lock").read_bytes() + str(python).encode()).hexdigest()
    marker = paths.venv / ".release-lock"
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == key:
        progress(f"atr: reusing its environment {paths.venv}")
        return paths.venv
    started = time.monotonic()
    progress(f"atr: making its environment (Python {uv.python_version(python)}, from its uv.lock)")
    shutil.rmtree(paths.venv, ignore_errors=True)
    uv.create(python, paths.venv, log_file=log_file)
    wanted = paths.venv / "requirements.txt"
    wanted.write_text(requirements(uv.export_locked(source, paths.venv, log_file=log_file)), encoding="utf-8")
    uv.install(paths.venv, wanted, log_file=log_file)
    marker.write_text(key + "\n", encoding="utf-8")
    progress(f"atr: environment ready in {time.monotonic() - started:.1f}s")
    return paths.venv


def ensure_certificate(source: Path, venv: Path, paths: Paths, log_file: Path) -> None:
    """A self-signed certificate for 127.0.0.1, made by ATR's own script (it writes `./state/`)."""
    if paths.cert.is_file() and paths.key.is_file():
        return
    paths.state.mkdir(parents=True, exist_ok=True)
    script = source / "scripts" / "generate-certificates"
    run([venv / "bin" / "python", script], cwd=paths.home, log_file=log_file)


def ensure_asf_user_id(gnupghome: Path, fingerprint: str, progress: Progress) -> None:
    """ATR takes a signature only from a key that names an @apache.org address: the sandbox's key
    gets the address of ATR's test user, as a release manager's key carries theirs."""
    keys = gpg.list_keys(fingerprint, gnupghome=gnupghome)
    if keys and any(f"<{atr.SANDBOX_UID}@apache.org>" in uid for uid in keys[0].user_ids):
        return
    gpg.add_user_id(fingerprint, ASF_USER_ID, gnupghome=gnupghome)
    progress(f"atr: the sandbox's key {fingerprint} also names {ASF_USER_ID}")


def _secrets(paths: Paths) -> dict[str, str]:
    """SECRET_KEY and JWT_SECRET_KEY, made once and kept: restarts keep sessions and tokens valid."""
    if not paths.secrets.is_file():
        paths.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(paths.secrets, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{secrets.token_hex(32)}\n{secrets.token_hex(32)}\n")
    secret, jwt_secret = paths.secrets.read_text(encoding="utf-8").split()[:2]
    return {"SECRET_KEY": secret, "JWT_SECRET_KEY": jwt_secret}


def server_env(paths: Paths, venv: Path, port: int) -> dict[str, str]:
    """ATR's whole environment (nothing else of this process's: no token of the user's leaks in)."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(paths.home), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
        "ALLOW_TESTS": "1", "APP_HOST": f"127.0.0.1:{port}", "STATE_DIR": str(paths.state),
        "SSH_HOST": "127.0.0.1", "SSH_PORT": str(SSH_PORT), "JAVA_TOOL_OPTIONS": _JAVA_OPTIONS,
        **_secrets(paths),
    }


def _server(record: dict[str, Any], paths: Paths) -> int | None:
    pid = record.get("pid")
    return pid if isinstance(pid, int) and process.matches(pid, paths.server_marker) else None


def _bridge(record: dict[str, Any], paths: Paths) -> int | None:
    pid = record.get("bridge_pid")
    return pid if isinstance(pid, int) and process.matches(pid, paths.bridge_marker) else None


def ensure(layout: Layout, previous: dict[str, Any], *, gnupghome: Path, fingerprint: str,
           progress: Progress) -> dict[str, Any]:
    """Reuse the running ATR, or start it; return its record (what `load` and `stop` read)."""
    if os.geteuid() != 0:
        raise ToolMissingError("the sandbox's ATR runs in a network namespace of its own, which needs root")
    ensure_program("ip", "iproute2", progress)
    ensure_program("socat", "socat", progress)
    paths = Paths.of(layout)
    ensure_asf_user_id(gnupghome, fingerprint, progress)
    source = unpack(source_tarball(), paths, progress)
    found = load(previous)
    if found and _server(previous, paths) and _bridge(previous, paths) and atr.answers(found.target()):
        progress(f"atr: already running on {found.url} (pid {previous['pid']})")
        return _with_token(previous, found, progress)
    stop(layout, previous)
    venv = ensure_venv(source, find_python(), paths, layout.log("atr-setup"), progress)
    ensure_certificate(source, venv, paths, layout.log("atr-setup"))
    port = previous.get("port")
    if not isinstance(port, int) or not net.port_is_free(port):
        port = net.free_port()
    record, server = _start(layout, paths, source, venv, port, progress)
    try:
        return _with_token(record, server, progress)
    except BaseException:  # not recorded yet: nothing of it may be left running
        stop(layout, record)
        raise


def _start(layout: Layout, paths: Paths, source: Path, venv: Path, port: int, progress: Progress
           ) -> tuple[dict[str, Any], AtrServer]:
    """hypercorn in a new namespace on ATR's socket, socat from 127.0.0.1:`port` to it; both in their
    own sessions. When ATR does not answer, or the wait is interrupted (it is not recorded yet),
    everything started is ended before saying why."""
    name = namespace_of(layout)
    server = AtrServer(f"https://127.0.0.1:{port}", paths.cert, paths.token, name, layout.log("atr"))
    record: dict[str, Any] = {"pid": None, "port": port, "netns": name, "url": server.url,
                              "log": str(server.log), "ca_file": str(paths.cert),
                              "token_file": str(paths.token)}
    hypercorn = [str(venv / "bin" / "hypercorn"), "--bind", paths.server_marker, "--keyfile", str(paths.key),
                 "--certfile", str(paths.cert), "atr.server:app"]
    argv = [ensure_program("ip", "iproute2", progress), *netns.exec_argv(name, hypercorn)[1:]]
    bridge = [ensure_program("socat", "socat", progress), f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
              paths.bridge_marker]
    netns.create(name)
    paths.socket.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        record["pid"] = process.spawn(argv, log_file=server.log, cwd=source,
                                      env=server_env(paths, venv, port), inherit_env=False)
        record["bridge_pid"] = process.spawn(bridge, log_file=layout.log("atr-bridge"))
        answered = process.wait_until(lambda: atr.answers(server.target()), timeout=START_TIMEOUT,
                                      interval=0.5, while_alive=record["pid"])
    except BaseException:
        stop(layout, record)
        raise
    if not answered:
        alive = process.alive(record["pid"])
        stop(layout, record)
        why = f"did not answer within {START_TIMEOUT:.0f}s" if alive else "stopped while starting"
        raise ServiceError(f"ATR {why}: {log_tail(server.log)}; see {server.log} and {paths.worker_log}")
    progress(f"atr: answering on {server.url} after {time.monotonic() - started:.1f}s (pid {record['pid']}, "
             f"in network namespace {name}: loopback only), log {server.log}")
    return record, server


def _with_token(record: dict[str, Any], server: AtrServer, progress: Progress) -> dict[str, Any]:
    """The record, once the sandbox holds a working token of ATR's test user (made when not)."""
    target = server.target()
    if server.token_file.is_file():
        try:
            atr.AtrClient(target, atr.credentials(target)).login()
            return record
        except ConfigError:
            progress("atr: the sandbox's token is no longer valid; making a new one")
    made = atr.mint_sandbox_token(server.url, server.ca_file, label="release-pipeline sandbox")
    fd = os.open(server.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(made.token.reveal() + "\n")
    progress(f"atr: made a personal access token for its test user {made.uid} ({server.token_file})")
    return record


def stop(layout: Layout, record: dict[str, Any]) -> list[int]:
    """End the bridge, then the server and every process in ATR's namespace at once (its workers
    stop on SIGTERM themselves), then remove the namespace; the pids that had to be killed."""
    paths = Paths.of(layout)
    bridge = _bridge(record, paths)
    if bridge is not None:
        process.stop(bridge, paths.bridge_marker)
    name = namespace_of(layout)
    with_ip = shutil.which("ip") is not None
    pids = netns.pids(name) if with_ip else []
    server = _server(record, paths)
    if server is not None and server not in pids:
        pids.append(server)
    killed = process.terminate(pids, timeout=15.0)
    if with_ip:
        netns.delete(name)
    record["pid"] = None
    record["bridge_pid"] = None
    return killed


def load(record: dict[str, Any]) -> AtrServer | None:
    if not isinstance(record.get("url"), str):
        return None
    return AtrServer(str(record["url"]), Path(str(record["ca_file"])), Path(str(record["token_file"])),
                     str(record["netns"]), Path(str(record["log"])))


def status(layout: Layout, record: dict[str, Any]) -> dict[str, Any]:
    paths = Paths.of(layout)
    server = load(record)
    name = namespace_of(layout)
    present = bool(shutil.which("ip")) and netns.exists(name)
    return {
        "url": server.url if server else None,
        "pid": record.get("pid"),
        "running": _server(record, paths) is not None,
        "bridge_running": _bridge(record, paths) is not None,
        "answering": bool(server) and atr.answers(server.target()) if server else False,
        "netns": name if present else None,
        "processes_in_netns": len(netns.pids(name)) if present else 0,
        "log": str(layout.log("atr")),
        "worker_log": str(paths.worker_log),
        "tested_version": atr.TESTED_VERSION,
    }
