# SPDX-License-Identifier: Apache-2.0
"""What is read by digest must hash to it; a manifest PUT's answered digest must be that of the bytes
sent (security review, finding 4). A real `docker-registry` behind a small proxy on 127.0.0.1 that
alters what passes through it."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from integration.test_registry import LiveRegistry, PushedImage, push_image, sha256, start_registry
from release.adapters.registry import Manifest, RegistryClient, check_digest, require_digest
from release.errors import VerificationError

REPO = "sample/app"
TAG = "1.10.6-python3.11"
LABELS = {"org.opencontainers.image.version": "1.10.6", "org.opencontainers.image.revision": "a" * 40}


# --------------------------------------------------------------------------- digests (no process, no socket)


def test_well_formed_digests() -> None:
    assert require_digest("sha256:" + "0" * 64, "x") == "sha256:" + "0" * 64
    assert require_digest("sha512:" + "f" * 128, "x") == "sha512:" + "f" * 128
    for bad in ["sha256:" + "0" * 63, "sha256:" + "A" * 64, "md5:" + "0" * 32, "sha256:../../x", "", None, 5]:
        with pytest.raises(VerificationError, match="is not a sha256 or sha512 digest"):
            require_digest(bad, "manifest x")


def test_check_digest() -> None:
    check_digest(b"{}", sha256(b"{}"), "manifest x")
    with pytest.raises(VerificationError) as caught:
        check_digest(b"{} ", sha256(b"{}"), "manifest x")
    assert str(caught.value) == (f"manifest x: the registry sent bytes with digest {sha256(b'{} ')}, "
                                 f"not {sha256(b'{}')}; refusing them")


# --------------------------------------------------------------------------- a proxy that lies


class TamperingProxy:
    """Forwards every request to `upstream` as it is, except what a test asks it to alter."""

    def __init__(self, upstream: LiveRegistry) -> None:
        self.upstream_port = upstream.port
        self.manifest_bodies = False  # GET of a manifest: other bytes, with a digest header to match
        self.config_labels = False  # GET of a blob: the revision label replaced
        self.put_digest: str | None = None  # PUT of a manifest: this Docker-Content-Digest instead
        self.seen: list[tuple[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.proxy = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _ProxyHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def _forward(self) -> None:
        proxy: TamperingProxy = self.server.proxy  # type: ignore[attr-defined]
        proxy.seen.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        kept = {"accept", "content-type", "authorization"}
        headers = {k: v for k, v in self.headers.items() if k.lower() in kept}
        upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=10)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            status, answered = answer.status, dict(answer.getheaders())
        finally:
            upstream.close()
        if self.command == "GET" and "/manifests/" in self.path and proxy.manifest_bodies and status == 200:
            data = data.replace(b'"schemaVersion": 2', b'"schemaVersion": 2, "forged": true')
            answered["Docker-Content-Digest"] = sha256(data)
        if self.command == "GET" and "/blobs/" in self.path and proxy.config_labels and status == 200:
            data = data.replace(b"a" * 40, b"b" * 40)  # the revision label
        if self.command == "PUT" and "/manifests/" in self.path and proxy.put_digest and status == 201:
            answered["Docker-Content-Digest"] = proxy.put_digest
        self.send_response(status)
        for name, value in answered.items():
            if name.lower() not in {"content-length", "connection", "transfer-encoding", "date", "server"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


@pytest.fixture(autouse=True)
def _no_real_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "docker-config-empty"
    empty.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(empty))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRegistry]:
    live = start_registry(tmp_path_factory.mktemp("registry"))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def app(registry: LiveRegistry) -> PushedImage:
    return push_image(registry.url, REPO, TAG, LABELS)


@pytest.fixture
def proxy(registry: LiveRegistry) -> Iterator[TamperingProxy]:
    server = TamperingProxy(registry)
    yield server
    server.close()


@pytest.fixture
def client(proxy: TamperingProxy) -> RegistryClient:
    return RegistryClient(proxy.address)


def test_an_honest_path_passes(client: RegistryClient, app: PushedImage) -> None:
    manifest = client.get_manifest(REPO, app.digest)
    assert manifest is not None and manifest.raw == app.raw and manifest.digest == app.digest
    assert client.image_labels(REPO, TAG) == LABELS
    assert client.put_manifest(REPO, "honest", manifest) == app.digest


def test_a_manifest_read_by_digest_must_hash_to_it(client: RegistryClient, proxy: TamperingProxy,
                                                   app: PushedImage) -> None:
    """Before the fix the forged bytes were returned as the manifest `app.digest` names."""
    proxy.manifest_bodies = True
    with pytest.raises(VerificationError) as caught:
        client.get_manifest(REPO, app.digest)
    message = str(caught.value)
    assert f"manifest {REPO}@{app.digest}" in message and "refusing them" in message
    assert caught.value.exit_code == 7


def test_a_copy_from_a_forged_digest_moves_no_tag(registry: LiveRegistry, client: RegistryClient,
                                                  proxy: TamperingProxy, app: PushedImage) -> None:
    proxy.manifest_bodies = True
    with pytest.raises(VerificationError):
        client.copy_tag(REPO, app.digest, "copied")
    assert not any(method == "PUT" for method, _ in proxy.seen)
    assert RegistryClient(registry.address).manifest_digest(REPO, "copied") is None


def test_labels_come_from_a_config_that_hashes_to_its_digest(client: RegistryClient, proxy: TamperingProxy,
                                                             app: PushedImage) -> None:
    """Before the fix the forged revision label was read as the image's."""
    proxy.config_labels = True
    with pytest.raises(VerificationError, match=f"{REPO}:{TAG}: its image config: the registry sent bytes"):
        client.image_labels(REPO, TAG)


def test_a_manifest_put_answered_with_another_digest_is_refused(client: RegistryClient, proxy: TamperingProxy,
                                                                app: PushedImage) -> None:
    """Before the fix the registry's word was returned as the digest of the new tag."""
    forged = sha256(b"something else")
    proxy.put_digest = forged
    with pytest.raises(VerificationError) as caught:
        client.put_manifest(REPO, "lied-about", Manifest(app.raw, app.media_type, app.digest))
    assert str(caught.value) == (f"registry {client.registry}: {REPO}:lied-about was sent a manifest with "
                                 f"digest {app.digest}, but the registry says it stored {forged}")


def test_a_put_returns_the_digest_of_the_bytes_sent(client: RegistryClient, app: PushedImage) -> None:
    """A Manifest whose `digest` field is wrong does not make the returned digest wrong."""
    body = json.loads(app.raw)
    raw = json.dumps(body).encode()  # the same manifest, other bytes
    assert client.put_manifest(REPO, "compact", Manifest(raw, app.media_type, app.digest)) == sha256(raw)
