# SPDX-License-Identifier: Apache-2.0
"""Fault: a server that never stops sending, or sends more than the read allows. Every adapter that
reads an answer or a program's output reads up to a limit its caller states (or the documented
default), then stops with one error line naming the URL and the limit.

The endless server is a real HTTP server on 127.0.0.1 that writes until the client hangs up (at
most `CAP` bytes, so that a client reading everything shows up as a server that sent it all); the
svn server is `svnserve` on 127.0.0.1 serving a repository with an oversized file.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from release.adapters import net, svn
from release.adapters.index import PackageIndex, download_file
from release.adapters.registry import MANIFEST_LIMIT, RegistryClient
from release.errors import ServiceError

CAP = 256 << 20  # the most the server sends before it gives up on the client
MiB = 1 << 20


@dataclass
class Endless:
    """What the endless server sent, per path."""

    sent: dict[str, int] = field(default_factory=dict)
    done: dict[str, bool] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: Endless

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        content_type = ("application/vnd.docker.distribution.manifest.v2+json" if "/manifests/" in path
                        else "application/json" if path.startswith("/v2/") else "text/html")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        declared = path.endswith("/declared")  # an honest Content-Length, but far too large
        if declared:
            self.send_header("Content-Length", str(CAP))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<a>" + b"x" * ((64 << 10) - 3)
        sent = 0
        try:
            while sent < CAP:
                if declared:
                    self.wfile.write(chunk)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            if not declared:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client hung up: what a bounded read does
            pass
        with self.state.lock:
            self.state.sent[path] = sent
            self.state.done[path] = sent >= CAP


@pytest.fixture
def endless() -> Iterator[tuple[str, Endless]]:
    state = Endless()

    class Handler(_Handler):
        pass

    Handler.state = state
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def stopped_early(state: Endless, path: str) -> None:
    """The server saw the client hang up long before it had sent everything."""
    deadline = time.monotonic() + 30
    while path not in state.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.done.get(path) is False, f"{path}: the client read all {state.sent.get(path)} bytes"


def one_line(error: pytest.ExceptionInfo[ServiceError], url: str, limit: int) -> None:
    message = str(error.value)
    assert "\n" not in message
    assert message == (f"{url}: stopped reading at {limit} bytes, the most this read takes; the answer is "
                       "larger (a broken or hostile server?)")


@pytest.mark.parametrize("path", ["/keys", "/declared"])
def test_net_get_stops_at_its_limit(endless: tuple[str, Endless], path: str) -> None:
    address, state = endless
    url = f"http://{address}{path}"
    with pytest.raises(ServiceError) as error:
        net.http_get(url, limit=MiB)
    one_line(error, url, MiB)
    stopped_early(state, path)


def test_keys_over_http_stop_at_the_limit(endless: tuple[str, Endless]) -> None:
    address, state = endless
    url = f"http://{address}/dist/release/sample-app/KEYS"
    with pytest.raises(ServiceError) as error:
        svn.read_text(url, limit=2 * MiB)
    one_line(error, url, 2 * MiB)
    stopped_early(state, "/dist/release/sample-app/KEYS")


def test_a_registry_sending_an_endless_manifest_tag_list_or_blob(endless: tuple[str, Endless]) -> None:
    address, state = endless
    client = RegistryClient(address)
    with pytest.raises(ServiceError) as error:
        client.get_manifest("sample/app", "1.0.0")
    one_line(error, f"http://{address}/v2/sample/app/manifests/1.0.0", MANIFEST_LIMIT)
    stopped_early(state, "/v2/sample/app/manifests/1.0.0")
    with pytest.raises(ServiceError, match=r"/v2/sample/app/tags/list\?n=10000: stopped reading at"):
        client.tags("sample/app")
    stopped_early(state, "/v2/sample/app/tags/list")
    digest = "sha256:" + "0" * 64
    with pytest.raises(ServiceError) as error:
        client.get_blob("sample/app", digest, limit=MiB)
    one_line(error, f"http://{address}/v2/sample/app/blobs/{digest}", MiB)
    stopped_early(state, f"/v2/sample/app/blobs/{digest}")


def test_an_index_sending_an_endless_page_or_download(endless: tuple[str, Endless], tmp_path: Path) -> None:
    address, state = endless
    index = PackageIndex(f"http://{address}/", f"http://{address}/simple/")
    with pytest.raises(ServiceError) as error:
        index.files("sample-app", limit=MiB)
    one_line(error, f"http://{address}/simple/sample-app/", MiB)
    stopped_early(state, "/simple/sample-app/")
    url = f"http://{address}/files/sample_app-1.0.0.tar.gz"
    with pytest.raises(ServiceError) as error:
        download_file(url, "0" * 64, tmp_path / "dl", limit=3 * MiB)
    one_line(error, url, 3 * MiB)
    stopped_early(state, "/files/sample_app-1.0.0.tar.gz")
    assert list((tmp_path / "dl").iterdir()) == [], "a partial download was left"


# --------------------------------------------------------------------------- svn


@pytest.fixture
def svnserve(tmp_path: Path) -> Iterator[str]:
    """svnserve on 127.0.0.1 (anonymous reads) serving a repository with a 5 MiB KEYS file and a
    folder of 2,000 names."""
    if shutil.which("svnserve") is None:
        pytest.fail("svnserve is not installed (Debian: apt-get install subversion)")
    repo = tmp_path / "repo"
    subprocess.run(["svnadmin", "create", str(repo)], check=True)
    tree = tmp_path / "tree"
    (tree / "release" / "sample-app").mkdir(parents=True)
    (tree / "release" / "sample-app" / "KEYS").write_bytes(b"pub   rsa4096 2026-01-01\n" * (5 * MiB // 25))
    (tree / "dev" / "many").mkdir(parents=True)
    for index in range(2000):
        (tree / "dev" / "many" / f"sample_app-1.0.{index}-py3-none-any.whl").write_text("")
    subprocess.run(["svn", "import", "-q", "-m", "fixture", str(tree), repo.as_uri()], check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["svnserve", "--daemon", "--foreground", "--root", str(tmp_path),
                               "--listen-host", "127.0.0.1", "--listen-port", str(port)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "svnserve did not start"
                time.sleep(0.1)
        yield f"svn://127.0.0.1:{port}/repo"
    finally:
        server.terminate()
        server.wait(10)


def test_svn_reads_stop_at_their_limit(svnserve: str) -> None:
    keys = f"{svnserve}/release/sample-app/KEYS"
    assert len(svn.read_text(keys)) == 5 * MiB // 25 * 25  # within the default
    with pytest.raises(ServiceError) as error:
        svn.read_text(keys, limit=MiB)
    one_line(error, keys, MiB)
    with pytest.raises(ServiceError) as error:
        svn.cat_bytes(keys, limit=MiB)
    one_line(error, keys, MiB)
    folder = f"{svnserve}/dev/many"
    assert len(svn.list_folder(folder)) == 2000
    with pytest.raises(ServiceError) as error:
        svn.list_folder(folder, limit=16 << 10)
    one_line(error, folder, 16 << 10)
