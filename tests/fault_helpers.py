# SPDX-License-Identifier: Apache-2.0
"""Faults for the fault suite, injected into the real services: a misbehaving HTTP proxy on 127.0.0.1
in front of the real registry or index, a small filesystem that can be filled, and the pipeline as a
process that is killed or interrupted when its output reaches a point."""

from __future__ import annotations

import base64
import contextlib
import errno
import http.client
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade"}


@dataclass
class Rule:
    """What the proxy does to requests matching `method` and `path` (a regex searched in the path).

    action: `fail` answers 500 without passing the request on; `stall` passes it on, then keeps
    the answer back for `seconds` (the client times out although the service did the work);
    `delay` waits `seconds` before passing it on; `hook` calls `hook()` (in the proxy's thread,
    the client waiting for its answer), then passes the request on.
    `after`: the rule is armed only once a request matching (method, path) got a 2xx answer.
    `hits` counts the requests it acted on: a test checks that its fault went off.
    """

    method: str
    path: str
    action: str = "fail"
    times: int = 1
    seconds: float = 0.0
    after: tuple[str, str] | None = None
    hook: Callable[[], None] | None = None
    hits: int = 0
    armed: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.hits < self.times and method == self.method and re.search(self.path, path) is not None


@dataclass
class FaultProxy:
    """A plain-HTTP proxy on 127.0.0.1 in front of a real service on `upstream` (a port on
    127.0.0.1). It passes requests on unchanged (Host included, so a registry's Location headers
    name the proxy) unless a rule says otherwise. With `password`, requests (or only those whose
    method is in `auth_methods`) must carry Basic credentials, checked and removed here."""

    upstream: int
    user: str = ""
    password: str = ""
    auth_methods: frozenset[str] = frozenset()  # empty: every method
    rules: list[Rule] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @contextlib.contextmanager
    def faulty(self, *rules: Rule) -> Iterator[list[Rule]]:
        self.rules[:] = list(rules)
        try:
            yield self.rules
        finally:
            self.rules.clear()

    def rule_for(self, method: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.after is not None and not rule.armed:
                continue
            if rule.matches(method, path):
                rule.hits += 1
                return rule
        return None

    def answered(self, method: str, path: str, status: int) -> None:
        self.seen.append((method, path, status))
        for rule in self.rules:
            if rule.after is not None and 200 <= status < 300 and method == rule.after[0] \
                    and re.search(rule.after[1], path):
                rule.armed = True

    def authorised(self, method: str, header: str | None) -> bool:
        if not self.password or (self.auth_methods and method not in self.auth_methods):
            return True
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        owner = self.owner
        body = self._body()
        if not owner.authorised(self.command, self.headers.get("Authorization")):
            self._answer(401, [("WWW-Authenticate", 'Basic realm="fault-proxy"')], b"")
            owner.answered(self.command, self.path, 401)
            return
        rule = owner.rule_for(self.command, self.path)
        if rule is not None and rule.action == "delay":
            time.sleep(rule.seconds)
        if rule is not None and rule.action == "hook" and rule.hook is not None:
            rule.hook()
        if rule is not None and rule.action == "fail":
            self._answer(500, [("Content-Type", "text/plain")], b"injected fault")
            owner.answered(self.command, self.path, 500)
            return
        # A header sent several times (docker sends one Accept per manifest type it takes) is passed
        # on whole: keeping only one makes the registry answer another manifest type.
        headers: dict[str, str] = {}
        for name in {k.lower(): k for k in self.headers}.values():
            if name.lower() not in _HOP:
                headers[name] = ", ".join(self.headers.get_all(name) or [])
        if owner.password and (not owner.auth_methods or self.command in owner.auth_methods):
            headers.pop("Authorization", None)
        if body:
            headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection("127.0.0.1", owner.upstream, timeout=600)
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except OSError:  # the service died: the client sees its connection dropped, as without a proxy
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            owner.answered(self.command, self.path, 0)
            return
        finally:
            connection.close()
        if rule is not None and rule.action == "stall":
            time.sleep(rule.seconds)
        answer = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP | {"content-length"}]
        with contextlib.suppress(OSError):  # a client that gave up waiting
            self._answer(response.status, answer, data)
        owner.answered(self.command, self.path, response.status)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle


# --------------------------------------------------------------------------- a small, full disk


@dataclass
class SmallDisk:
    """A tmpfs mounted at `path` (root only): the pipeline's dist/ on a disk that can be filled."""

    path: Path
    size: str = "64m"

    def mount(self) -> SmallDisk:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755", "tmpfs", str(self.path)],
                       check=True)
        return self

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)

    @property
    def filler(self) -> Path:
        return self.path / ".filler"

    def fill(self) -> None:
        """Take every free block: the pipeline's next new file gets ENOSPC on its first write."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * (1 << 16))
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the pipeline as a process


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    fired: bool  # whether the trigger went off

    @property
    def last_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


def run_pipeline(
    argv: list[str], *, cwd: Path, env: dict[str, str], when: str = "",
    then: Callable[[subprocess.Popen[str]], None] | None = None, timeout: float = 1800.0,
    started: Callable[[subprocess.Popen[str]], None] | None = None,
) -> Outcome:
    """Run `argv` in its own process group; when a line of its output contains `when`, call
    `then(process)` once (kill it, interrupt it, fill its disk...). `started(process)` is called as
    soon as it runs (a test that stops it later needs it). Its whole output is returned."""
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    if started is not None:
        started(process)
    out: list[str] = []
    err: list[str] = []
    fired = threading.Event()

    def read(stream: IO[str], into: list[str]) -> None:
        for line in stream:
            into.append(line)
            if when and then is not None and not fired.is_set() and when in line:
                fired.set()
                then(process)

    readers = [threading.Thread(target=read, args=(s, into), daemon=True)
               for s, into in ((process.stdout, out), (process.stderr, err))]
    for reader in readers:
        reader.start()
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(f"{argv} did not finish in {timeout:.0f}s:\n{''.join(err)[-3000:]}") from None
    for reader in readers:
        reader.join(60)
    return Outcome(returncode, "".join(out), "".join(err), fired.is_set())


def kill_group(sig: int) -> Callable[[subprocess.Popen[str]], None]:
    """Send `sig` to the pipeline and every program it started (twine, gpg, git), as a crash or a
    Ctrl-C in its terminal would."""

    def send(process: subprocess.Popen[str]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)

    return send


# --------------------------------------------------------------------------- bad inputs

# The fault suite's bad `[tool.release]` values, tried under each key; every pair is refused with
# exit 2 and one line naming the key (tests/unit/test_config.py checks every pair, the suite a sample
# through the real command), except the pairs below, which are valid configuration.
CONFIG_KEYS = ["registry", "index", "svn-dev", "keys-url", "changelog", "dockerfile", "mailing-list",
               "signing-key", "python", "default-python", "build-args", "uid", "image", "name", "nonsense"]
BAD_CONFIG_VALUES = ["1", "true", "[1, 2]", '"../outside"', '"/etc/passwd"', '"ftp://files.example/"',
                     '"http://pypi.example/"', '"https://u:secret@pypi.example/"', '"dev@x\\nBcc: all@x"',
                     '"-K"', "{ a = 1 }", '""', '"localhost:1@registry.example.com"', '["3.11", "3.11"]',
                     '"3.12"']
VALID_CONFIG_PAIRS = {
    ("image", '"3.12"'): "a repository may be named 3.12 (registry/3.12:tag is a valid reference)",
    ("name", '"3.12"'): "3.12 is a valid distribution name (PEP 508: letters, digits, '.', '-', '_')",
    ("changelog", '"3.12"'): "a file in the repository may be named 3.12",
    ("dockerfile", '"3.12"'): "a file in the repository may be named 3.12",
    ("changelog", '"localhost:1@registry.example.com"'): "a file name may hold ':' and '@'; it is no URL",
    ("dockerfile", '"localhost:1@registry.example.com"'): "a file name may hold ':' and '@'; it is no URL",
    ("changelog", '""'): "a project that keeps no changelog says so with changelog = \"\"",
}
BAD_CONFIG_PAIRS = [(key, value) for key in CONFIG_KEYS for value in BAD_CONFIG_VALUES
                    if (key, value) not in VALID_CONFIG_PAIRS]


def config_refusal_prefix(key: str) -> str:
    """How the one error line for a bad value of `key` starts."""
    return "[tool.release] unknown key 'nonsense'" if key == "nonsense" else f"[tool.release] {key}"


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: quotes, backslashes and control characters escaped, anything else
    as it is (json.dumps would escape a character beyond U+FFFF as a surrogate pair, which TOML
    refuses: the profile, not the value, would then be what is refused)."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else
                      "\\\\" if c == "\\" else '\\"' if c == '"' else c for c in text)
    return f'"{escaped}"'


def with_bad_value(table: str, key: str, value: str) -> str:
    """A `[tool.release]` profile: `table` (the lines after the header) with `key = value` instead."""
    lines = [line for line in table.splitlines() if not line.startswith(f"{key} =")]
    return "[tool.release]\n" + f"{key} = {value}\n" + "\n".join(lines) + "\n"


# Damage to .release/services.json, each refused with exit 5 (tests/unit/test_sandbox_state.py
# checks every one). ("complete", False) is not damage: a sandbox whose last `up` stopped half-way,
# which the next command brings up.
SERVICES_DAMAGE: list[tuple[str, Any]] = [
    ("processes", []), ("processes", {"registry": 5}), ("registry", 5000), ("complete", "yes"),
    ("base_images", ["x"]), ("names", "sample-app"), ("signing_key", None)]
