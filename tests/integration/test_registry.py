# SPDX-License-Identifier: Apache-2.0
"""The registry adapter against a real `docker-registry` and against a fake token-auth registry.

Images are pushed with plain HTTP (blob uploads and a schema2 manifest), no container engine.
The bearer-token flow runs against a small loopback registry written with http.server that
issues its own tokens behind basic auth.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import logging
import re
import signal
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from release.adapters.net import free_port
from release.adapters.registry import (
    Manifest,
    RegistryAuth,
    RegistryClient,
)
from release.errors import ServiceError

REGISTRY_BINARY = "/usr/bin/docker-registry"
SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
USER = "robot$release"
PASSWORD = "s3cr3t:pa55-w0rd"  # a test credential that must never leak


@pytest.fixture(autouse=True)
def _no_real_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's ~/.docker/config.json."""
    empty = tmp_path / "docker-config-empty"
    empty.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(empty))



def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# =========================================================================== the real registry


@dataclass
class LiveRegistry:
    process: subprocess.Popen[bytes]
    port: int
    storage: Path
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def blobs(self) -> set[str]:
        """Every blob the registry stores, by digest, read from its storage directory."""
        root = self.storage / "docker" / "registry" / "v2" / "blobs"
        return {f"{p.parent.parent.parent.name}:{p.parent.name}" for p in root.glob("*/*/*/data")}

    def uploads_in_progress(self) -> list[Path]:
        root = self.storage / "docker" / "registry" / "v2" / "repositories"
        return [p for p in root.glob("**/_uploads/*") if p.is_dir()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def start_registry(directory: Path) -> LiveRegistry:
    if not Path(REGISTRY_BINARY).exists():
        pytest.fail(f"{REGISTRY_BINARY} is not installed (apt-get install docker-registry)")
    storage = directory / "storage"
    storage.mkdir(parents=True)
    port = free_port()
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n"
        "  level: warn\n"
        "storage:\n"
        "  filesystem:\n"
        f"    rootdirectory: {storage}\n"
        "  delete:\n"
        "    enabled: true\n"
        "http:\n"
        f"  addr: 127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    log = directory / "registry.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(config)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    live = LiveRegistry(process, port, storage, log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"docker-registry exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            if requests.get(f"{live.url}/v2/", timeout=1).status_code == 200:
                return live
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    live.stop()
    pytest.fail(f"docker-registry did not answer on {live.address}:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRegistry]:
    live = start_registry(tmp_path_factory.mktemp("registry"))
    yield live
    live.stop()


# --------------------------------------------------------------------------- pushing without docker


def upload_blob(base: str, repository: str, data: bytes) -> str:
    """Monolithic upload: POST opens an upload session, PUT ?digest= completes it."""
    digest = sha256(data)
    opened = requests.post(f"{base}/v2/{repository}/blobs/uploads/", timeout=10)
    assert opened.status_code == 202, opened.text
    location = urljoin(f"{base}/", opened.headers["Location"])
    done = requests.put(
        location,
        params={"digest": digest},
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == digest
    return digest


def tiny_layer(content: bytes) -> tuple[bytes, str]:
    """A gzipped tar with one file; returns (compressed bytes, diff id of the tar)."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    raw = tar_bytes.getvalue()
    return gzip.compress(raw, mtime=0), sha256(raw)


@dataclass
class PushedImage:
    raw: bytes
    digest: str
    media_type: str
    config_digest: str
    layer_digest: str
    labels: dict[str, str] = field(default_factory=dict)


def push_image(
    base: str,
    repository: str,
    tag: str,
    labels: dict[str, str],
    *,
    payload: bytes = b"hello\n",
    oci: bool = False,
    architecture: str = "amd64",
) -> PushedImage:
    """Push a one-layer image (config with Labels + a gzip layer) and tag it."""
    layer, diff_id = tiny_layer(payload)
    config = json.dumps(
        {
            "architecture": architecture,
            "os": "linux",
            "config": {"Labels": labels, "Cmd": ["true"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        sort_keys=True,
    ).encode()
    config_digest = upload_blob(base, repository, config)
    layer_digest = upload_blob(base, repository, layer)
    media_type = OCI_MANIFEST if oci else SCHEMA2
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json"
            if oci
            else "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": config_digest,
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"
                if oci
                else "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": layer_digest,
            }
        ],
    }
    raw = json.dumps(manifest, indent=3).encode()
    put_raw_manifest(base, repository, tag, raw, media_type)
    return PushedImage(raw, sha256(raw), media_type, config_digest, layer_digest, labels)


def put_raw_manifest(base: str, repository: str, tag: str, raw: bytes, media_type: str) -> None:
    answer = requests.put(
        f"{base}/v2/{repository}/manifests/{tag}", data=raw, headers={"Content-Type": media_type}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["Docker-Content-Digest"] == sha256(raw)


def push_index(base: str, repository: str, tag: str, images: list[PushedImage]) -> bytes:
    index = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_LIST,
        "manifests": [
            {
                "mediaType": image.media_type,
                "size": len(image.raw),
                "digest": image.digest,
                "platform": {"architecture": arch, "os": "linux"},
            }
            for image, arch in zip(images, ["amd64", "arm64"])
        ],
    }
    raw = json.dumps(index, indent=2).encode()
    put_raw_manifest(base, repository, tag, raw, MANIFEST_LIST)
    return raw


class RecordingSession(requests.Session):
    """A session that remembers every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls.append((str(method), str(url)))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="module")
def app(registry: LiveRegistry) -> PushedImage:
    """`sample/app:1.10.6-python3.11`, pushed once for the module."""
    return push_image(
        registry.url,
        "sample/app",
        "1.10.6-python3.11",
        {"org.opencontainers.image.version": "1.10.6", "org.apache.airflow.python": "3.11"},
    )


@pytest.fixture
def client(registry: LiveRegistry) -> Iterator[RegistryClient]:
    session = RecordingSession()
    yield RegistryClient(registry.address, session=session)
    session.close()


# --------------------------------------------------------------------------- tests on the real registry


@pytest.mark.sandbox
def test_ping(client: RegistryClient) -> None:
    assert client.ping()


@pytest.mark.sandbox
def test_loopback_registries_are_spoken_to_over_plain_http(
    registry: LiveRegistry, client: RegistryClient
) -> None:
    assert client.base == f"http://{registry.address}/v2"
    assert repr(client) == f"RegistryClient({registry.address!r})"


@pytest.mark.sandbox
def test_tags(registry: LiveRegistry, client: RegistryClient, app: PushedImage) -> None:
    push_image(registry.url, "tags/demo", "b", {})
    push_image(registry.url, "tags/demo", "1.10.6", {})
    push_image(registry.url, "tags/demo", "a", {})
    assert client.tags("tags/demo") == ["1.10.6", "a", "b"]
    assert "1.10.6-python3.11" in client.tags("sample/app")


@pytest.mark.sandbox
def test_tags_of_an_unknown_repository(client: RegistryClient) -> None:
    assert client.tags("no/such/repository") == []


@pytest.mark.sandbox
def test_manifest_digest_present_and_absent(client: RegistryClient, app: PushedImage) -> None:
    assert client.manifest_digest("sample/app", "1.10.6-python3.11") == app.digest
    assert client.manifest_digest("sample/app", app.digest) == app.digest
    assert client.manifest_digest("sample/app", "9.9.9") is None
    assert client.manifest_digest("no/such/repository", "latest") is None


@pytest.mark.sandbox
def test_get_manifest(client: RegistryClient, app: PushedImage) -> None:
    manifest = client.get_manifest("sample/app", "1.10.6-python3.11")
    assert manifest is not None
    assert manifest.raw == app.raw  # byte for byte, so the digest survives a copy
    assert manifest.digest == "sha256:" + hashlib.sha256(manifest.raw).hexdigest() == app.digest
    assert manifest.media_type == SCHEMA2
    assert manifest.body["config"]["digest"] == app.config_digest
    by_digest = client.get_manifest("sample/app", app.digest)
    assert by_digest == manifest


@pytest.mark.sandbox
def test_get_manifest_absent(client: RegistryClient, app: PushedImage) -> None:
    assert client.get_manifest("sample/app", "nope") is None
    assert client.get_manifest("no/such/repository", "1.10.6") is None


@pytest.mark.sandbox
def test_copy_tag_uploads_no_blob(registry: LiveRegistry, client: RegistryClient, app: PushedImage) -> None:
    blobs_before = registry.blobs()
    assert app.config_digest in blobs_before
    assert app.layer_digest in blobs_before
    session = client.session
    assert isinstance(session, RecordingSession)
    session.calls.clear()

    digest = client.copy_tag("sample/app", "1.10.6-python3.11", "1.10-python3.11")

    assert digest == app.digest
    assert client.manifest_digest("sample/app", "1.10-python3.11") == app.digest
    assert "1.10-python3.11" in client.tags("sample/app")
    assert registry.blobs() == blobs_before
    assert registry.uploads_in_progress() == []
    copy_calls = session.calls[:2]
    assert [method for method, _ in copy_calls] == ["GET", "PUT"]
    assert all("/manifests/" in url for _, url in copy_calls)
    assert not any("/blobs/" in url for _, url in session.calls)


@pytest.mark.sandbox
def test_copy_tag_from_a_digest(client: RegistryClient, app: PushedImage) -> None:
    assert client.copy_tag("sample/app", app.digest, "1.10.6") == app.digest
    assert client.manifest_digest("sample/app", "1.10.6") == app.digest


@pytest.mark.sandbox
def test_copy_tag_moves_an_existing_alias(registry: LiveRegistry, client: RegistryClient) -> None:
    old = push_image(registry.url, "moving/app", "1.10.5", {"v": "1.10.5"}, payload=b"old\n")
    new = push_image(registry.url, "moving/app", "1.10.6", {"v": "1.10.6"}, payload=b"new\n")
    assert old.digest != new.digest
    client.copy_tag("moving/app", "1.10.5", "latest")
    assert client.manifest_digest("moving/app", "latest") == old.digest
    client.copy_tag("moving/app", "1.10.6", "latest")
    assert client.manifest_digest("moving/app", "latest") == new.digest
    assert client.image_labels("moving/app", "latest") == {"v": "1.10.6"}
    assert client.manifest_digest("moving/app", "1.10.5") == old.digest


@pytest.mark.sandbox
def test_copy_tag_of_a_missing_source(client: RegistryClient, app: PushedImage) -> None:
    with pytest.raises(ServiceError, match=r"sample/app:9\.9\.9 does not exist"):
        client.copy_tag("sample/app", "9.9.9", "latest")
    assert client.manifest_digest("sample/app", "latest") is None


@pytest.mark.sandbox
def test_copy_keeps_oci_manifests_and_indexes_intact(registry: LiveRegistry, client: RegistryClient) -> None:
    oci = push_image(registry.url, "multi/app", "oci", {"kind": "oci"}, payload=b"oci\n", oci=True)
    arm = push_image(registry.url, "multi/app", "arm", {"kind": "arm"}, payload=b"arm\n")
    raw_index = push_index(registry.url, "multi/app", "1.0.0", [oci, arm])
    assert client.copy_tag("multi/app", "oci", "oci-copy") == oci.digest
    copied = client.get_manifest("multi/app", "oci-copy")
    assert copied is not None
    assert copied.media_type == OCI_MANIFEST
    assert client.copy_tag("multi/app", "1.0.0", "latest") == sha256(raw_index)
    index = client.get_manifest("multi/app", "latest")
    assert index is not None
    assert index.media_type == MANIFEST_LIST
    assert index.raw == raw_index


@pytest.mark.sandbox
def test_image_labels(client: RegistryClient, app: PushedImage) -> None:
    assert client.image_labels("sample/app", "1.10.6-python3.11") == app.labels
    assert client.image_labels("sample/app", app.digest) == app.labels


@pytest.mark.sandbox
def test_image_labels_of_an_index_are_those_of_its_first_image(
    registry: LiveRegistry, client: RegistryClient
) -> None:
    first = push_image(registry.url, "indexed/app", "amd", {"arch": "amd64"}, payload=b"amd\n")
    second = push_image(registry.url, "indexed/app", "arm", {"arch": "arm64"}, payload=b"arm\n")
    push_index(registry.url, "indexed/app", "2.0.0", [first, second])
    assert client.image_labels("indexed/app", "2.0.0") == {"arch": "amd64"}


@pytest.mark.sandbox
def test_image_without_labels(registry: LiveRegistry, client: RegistryClient) -> None:
    push_image(registry.url, "bare/app", "1.0.0", {}, payload=b"bare\n")
    assert client.image_labels("bare/app", "1.0.0") == {}


@pytest.mark.sandbox
def test_image_labels_absent(client: RegistryClient, app: PushedImage) -> None:
    assert client.image_labels("sample/app", "0.0.0") is None
    assert client.image_labels("no/such/repository", "latest") is None


@pytest.mark.sandbox
def test_put_manifest_refused_by_the_registry(client: RegistryClient, app: PushedImage) -> None:
    body = json.loads(app.raw)
    body["layers"][0]["digest"] = "sha256:" + "0" * 64  # a blob the registry does not have
    raw = json.dumps(body).encode()
    with pytest.raises(ServiceError, match=r"setting sample/app:broken failed \(HTTP 400\)"):
        client.put_manifest("sample/app", "broken", Manifest(raw, SCHEMA2, sha256(raw)))
    assert client.manifest_digest("sample/app", "broken") is None


@pytest.mark.sandbox
def test_put_manifest_returns_the_registry_digest(client: RegistryClient, app: PushedImage) -> None:
    manifest = client.get_manifest("sample/app", app.digest)
    assert manifest is not None
    assert client.put_manifest("sample/app", "again", manifest) == app.digest


@pytest.mark.sandbox
def test_a_stopped_registry_is_a_clear_service_error(tmp_path: Path) -> None:
    live = start_registry(tmp_path)
    try:
        push_image(live.url, "gone/app", "1.0.0", {})
        client = RegistryClient(live.address)
        assert client.tags("gone/app") == ["1.0.0"]
    finally:
        live.stop()
    assert not client.ping()
    calls: list[Callable[[], object]] = [
        lambda: client.tags("gone/app"),
        lambda: client.manifest_digest("gone/app", "1.0.0"),
        lambda: client.get_manifest("gone/app", "1.0.0"),
        lambda: client.copy_tag("gone/app", "1.0.0", "latest"),
        lambda: client.image_labels("gone/app", "1.0.0"),
    ]
    for call in calls:
        with pytest.raises(ServiceError) as caught:
            call()
        message = str(caught.value)
        assert live.address in message
        assert "not reachable" in message
        assert "is it running?" in message
        assert caught.value.exit_code == 5


# =========================================================================== a fake token-auth registry


class FakeRegistry:
    """A loopback registry that requires a bearer token (or basic auth) and issues tokens itself.

    Tokens are bound to a scope (`repository:<name>:pull` or `...:pull,push`) and to a generation;
    `expire_tokens()` starts a new generation, invalidating every token handed out so far.
    """

    def __init__(self, mode: str = "bearer") -> None:
        self.mode = mode
        self.page_size = 1000
        self.loop_link = False
        self.tag_pages: list[dict[str, str]] = []
        self.generation = 0
        self.issued: dict[str, tuple[int, str]] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str | None]] = []
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeHandler)
        self.server.fake = self  # type: ignore[attr-defined]
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def realm(self) -> str:
        return f"http://{self.address}/token"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def expire_tokens(self) -> None:
        with self.lock:
            self.generation += 1

    def store(self, repository: str, tag: str, raw: bytes, media_type: str = SCHEMA2) -> str:
        digest = sha256(raw)
        with self.lock:
            self.manifests[(repository, tag)] = (raw, media_type)
            self.manifests[(repository, digest)] = (raw, media_type)
        return digest

    def tags_of(self, repository: str) -> list[str]:
        return sorted(
            ref for repo, ref in self.manifests if repo == repository and not ref.startswith("sha256:")
        )

    def issue(self, scope: str) -> str:
        with self.lock:
            token = f"tok-{self.generation}-{len(self.issued)}"
            self.issued[token] = (self.generation, scope)
        return token

    def allows(self, authorization: str | None, repository: str, action: str) -> bool:
        if self.mode == "basic":
            expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            return authorization == f"Basic {expected}"
        if not authorization or not authorization.startswith("Bearer "):
            return False
        generation, scope = self.issued.get(authorization[len("Bearer ") :], (-1, ""))
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        return (
            generation == self.generation
            and kind == "repository"
            and name == repository
            and action in actions.split(",")
        )


class _FakeHandler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def fake(self) -> FakeRegistry:
        fake: FakeRegistry = self.server.fake  # type: ignore[attr-defined]
        return fake

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(
            status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})}
        )

    def _handle(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        authorization = self.headers.get("Authorization")
        if url.path == "/token":
            self._token(parse_qs(url.query), authorization)
            return
        fake.requests.append((method, url.path, authorization))
        match = re.fullmatch(r"/v2/(?P<repo>.+?)/(?P<kind>tags|manifests)/(?P<ref>.+)", url.path)
        if match is None:
            self._send(404)
            return
        repo, kind, ref = match["repo"], match["kind"], match["ref"]
        action = "pull" if method in {"GET", "HEAD"} else "push"
        if not fake.allows(authorization, repo, action):
            if fake.mode == "basic":
                challenge = 'Basic realm="fake registry"'
            elif fake.mode == "no-realm":
                challenge = f'Bearer service="fake",scope="repository:{repo}:pull"'
            else:
                actions = "pull" if action == "pull" else "pull,push"
                challenge = f'Bearer realm="{fake.realm}",service="fake",scope="repository:{repo}:{actions}"'
            self._json(401, {"errors": [{"code": "UNAUTHORIZED"}]}, {"WWW-Authenticate": challenge})
            return
        if repo == "broken":
            self._json(500, {"errors": [{"code": "UNKNOWN"}]})
        elif kind == "tags":
            self._tags(repo, parse_qs(url.query))
        elif method == "PUT":
            digest = fake.store(repo, ref, body, self.headers.get("Content-Type", ""))
            self._send(201, headers={"Docker-Content-Digest": digest})
        elif (repo, ref) in fake.manifests:
            raw, media_type = fake.manifests[(repo, ref)]
            self._send(200, raw, {"Content-Type": media_type, "Docker-Content-Digest": sha256(raw)})
        else:
            self._json(404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]})

    def _tags(self, repo: str, query: dict[str, list[str]]) -> None:
        """Pages of at most `page_size` tags whatever `n` asks for, like hosted registries do."""
        fake = self.fake
        tags = fake.tags_of(repo)
        if not tags:
            self._json(404, {"errors": [{"code": "NAME_UNKNOWN"}]})
            return
        fake.tag_pages.append({key: values[0] for key, values in query.items()})
        size = min(int(query.get("n", ["100"])[0]), fake.page_size)
        last = query.get("last", [""])[0]
        rest = [tag for tag in tags if tag > last]
        page = rest[:size]
        headers = {}
        if fake.loop_link:
            headers["Link"] = f'</v2/{repo}/tags/list?n={size}>; rel="next"'
        elif len(rest) > size:
            headers["Link"] = f'</v2/{repo}/tags/list?last={page[-1]}&n={size}>; rel="next"'
        self._json(200, {"name": repo, "tags": page}, headers)

    def _token(self, query: dict[str, list[str]], authorization: str | None) -> None:
        fake = self.fake
        params = {key: values[0] for key, values in query.items()}
        fake.token_requests.append({"params": params, "authorization": authorization})
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if authorization != expected:
            self._json(401, {"details": "bad credentials"})
        elif fake.mode == "token-not-json":
            self._send(200, b"<html>gateway</html>", {"Content-Type": "text/html"})
        elif fake.mode == "token-missing":
            self._json(200, {"expires_in": 300})
        elif fake.mode == "token-list":
            self._json(200, ["tok"])
        elif fake.mode == "access-token":
            self._json(200, {"access_token": fake.issue(params.get("scope", ""))})
        else:
            self._json(200, {"token": fake.issue(params.get("scope", "")), "expires_in": 300})


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    server = FakeRegistry()
    yield server
    server.close()


def authed(fake: FakeRegistry, password: str = PASSWORD) -> RegistryClient:
    return RegistryClient(fake.address, auth=RegistryAuth(USER, password))


CHALLENGE = 'Bearer realm="{realm}",service="x",scope="repository:a:pull"'


def test_token_parses_the_challenge_and_sends_basic_credentials(fake: FakeRegistry) -> None:
    client = authed(fake)
    token = client._token(CHALLENGE.format(realm=fake.realm))
    assert token == "tok-0-0"
    [asked] = fake.token_requests
    assert asked["params"] == {"service": "x", "scope": "repository:a:pull"}
    assert asked["authorization"] == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def test_token_keeps_commas_inside_quoted_values(fake: FakeRegistry) -> None:
    client = authed(fake)
    client._token(f'Bearer realm="{fake.realm}",service="x",scope="repository:a:pull,push"')
    assert fake.token_requests[0]["params"]["scope"] == "repository:a:pull,push"


def test_token_accepts_access_token(fake: FakeRegistry) -> None:
    fake.mode = "access-token"
    assert authed(fake)._token(CHALLENGE.format(realm=fake.realm)) == "tok-0-0"


def test_bearer_flow_end_to_end(fake: FakeRegistry) -> None:
    digest = fake.store("a", "1.10.6", b'{"schemaVersion": 2}')
    client = authed(fake)
    assert client.tags("a") == ["1.10.6"]
    assert client.manifest_digest("a", "1.10.6") == digest
    manifest = client.get_manifest("a", "1.10.6")
    assert manifest is not None
    assert manifest.digest == digest
    # one token for the repository, reused for every later read
    assert len(fake.token_requests) == 1
    assert fake.token_requests[0]["params"]["scope"] == "repository:a:pull"
    unauthenticated = [r for r in fake.requests if r[2] is None]
    assert len(unauthenticated) == 1


def test_a_push_after_a_pull_upgrades_the_token_scope(fake: FakeRegistry) -> None:
    """copy_tag reads with a pull token, then writes: the write challenge asks for push."""
    digest = fake.store("a", "1.10.6", b'{"schemaVersion": 2}')
    client = authed(fake)
    assert client.copy_tag("a", "1.10.6", "latest") == digest
    assert fake.tags_of("a") == ["1.10.6", "latest"]
    scopes = [r["params"]["scope"] for r in fake.token_requests]
    assert scopes == ["repository:a:pull", "repository:a:pull,push"]
    # the upgraded token serves reads and writes alike afterwards
    assert client.copy_tag("a", "1.10.6", "1.10") == digest
    assert len(fake.token_requests) == 2


def test_an_expired_token_is_renewed(fake: FakeRegistry) -> None:
    fake.store("a", "1.10.6", b"{}")
    client = authed(fake)
    assert client.tags("a") == ["1.10.6"]
    fake.expire_tokens()
    assert client.tags("a") == ["1.10.6"]
    assert len(fake.token_requests) == 2


def test_tags_follow_the_pages_of_a_registry_that_caps_them(fake: FakeRegistry) -> None:
    names = [f"1.{minor}.{patch}" for minor in range(4) for patch in range(3)]
    for name in names:
        fake.store("apache/airflow", name, name.encode())
    fake.page_size = 5
    assert authed(fake).tags("apache/airflow") == sorted(names)
    assert [page.get("last") for page in fake.tag_pages] == [None, "1.1.1", "1.3.0"]
    assert fake.tag_pages[0]["n"] == "10000"


def test_tags_stop_at_a_link_that_repeats(fake: FakeRegistry) -> None:
    for name in ("a", "b", "c"):
        fake.store("r", name, name.encode())
    fake.page_size = 2
    fake.loop_link = True
    assert authed(fake).tags("r") == ["a", "b"]
    assert len(fake.tag_pages) <= 3


def test_tokens_are_kept_per_repository(fake: FakeRegistry) -> None:
    fake.store("a", "1.0.0", b"{}")
    fake.store("b/c", "2.0.0", b"{}")
    client = authed(fake)
    assert client.tags("a") == ["1.0.0"]
    assert client.tags("b/c") == ["2.0.0"]
    assert client.manifest_digest("b/c", "2.0.0") is not None
    assert [r["params"]["scope"] for r in fake.token_requests] == ["repository:a:pull", "repository:b/c:pull"]


def test_wrong_credentials_are_a_service_error_that_leaks_nothing(fake: FakeRegistry) -> None:
    fake.store("a", "1.0.0", b"{}")
    client = authed(fake, password="wrong-" + PASSWORD)
    with pytest.raises(ServiceError, match=r"token refused \(HTTP 401\)") as caught:
        client.tags("a")
    assert_no_secret(str(caught.value), "wrong-" + PASSWORD)


def test_without_credentials_the_token_is_refused(fake: FakeRegistry) -> None:
    fake.store("a", "1.0.0", b"{}")
    with pytest.raises(ServiceError, match="token refused"):
        RegistryClient(fake.address).tags("a")
    assert fake.token_requests[0]["authorization"] is None


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("token-not-json", "did not answer JSON"),
        ("token-missing", "gave no token"),
        ("token-list", "gave no token"),
        ("no-realm", "without a realm"),
    ],
)
def test_broken_token_services_are_service_errors(fake: FakeRegistry, mode: str, words: str) -> None:
    fake.mode = mode
    fake.store("a", "1.0.0", b"{}")
    with pytest.raises(ServiceError, match=words) as caught:
        authed(fake).tags("a")
    assert fake.address in str(caught.value)
    assert_no_secret(str(caught.value))


def test_an_unreachable_token_service_is_a_service_error(fake: FakeRegistry) -> None:
    client = authed(fake)
    realm = f"http://127.0.0.1:{free_port()}/token"
    with pytest.raises(ServiceError, match="token service unreachable") as caught:
        client._token(CHALLENGE.format(realm=realm))
    assert_no_secret(str(caught.value))


def test_a_registry_error_names_the_operation(fake: FakeRegistry) -> None:
    client = authed(fake)
    with pytest.raises(ServiceError, match=r"listing tags of broken failed \(HTTP 500\)"):
        client.tags("broken")
    with pytest.raises(ServiceError, match=r"reading broken:1\.0\.0 failed \(HTTP 500\)"):
        client.manifest_digest("broken", "1.0.0")
    with pytest.raises(ServiceError, match=r"reading broken:1\.0\.0 failed \(HTTP 500\)"):
        client.get_manifest("broken", "1.0.0")


def test_basic_auth_registry(fake: FakeRegistry) -> None:
    fake.mode = "basic"
    fake.store("a", "1.0.0", b"{}")
    assert authed(fake).tags("a") == ["1.0.0"]
    assert fake.token_requests == []
    with pytest.raises(ServiceError, match=r"listing tags of a failed \(HTTP 401\)") as caught:
        RegistryClient(fake.address).tags("a")
    assert_no_secret(str(caught.value))


def test_credentials_come_from_the_docker_config(
    fake: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.mode = "basic"
    fake.store("a", "1.0.0", b"{}")
    write_docker_config(tmp_path / "docker", {fake.address: (USER, PASSWORD)})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    client = RegistryClient(fake.address)
    assert client.auth == RegistryAuth(USER, PASSWORD)
    assert client.tags("a") == ["1.0.0"]


def test_credentials_never_show(fake: FakeRegistry, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.store("a", "1.10.6", b"{}")
    client = authed(fake)
    client.copy_tag("a", "1.10.6", "latest")
    auth = RegistryAuth(USER, PASSWORD)
    for text in (repr(client), str(client), repr(auth), str(auth), f"{auth}", caplog.text):
        assert_no_secret(text)
    for token in fake.issued:
        assert token not in caplog.text
        assert token not in repr(client)
    assert "<hidden>" in repr(auth)
    assert USER in repr(auth)


def assert_no_secret(text: str, password: str = PASSWORD) -> None:
    assert password not in text
    assert base64.b64encode(f"{USER}:{password}".encode()).decode() not in text
    assert "pa55" not in text


def write_docker_config(directory: Path, auths: dict[str, tuple[str, str]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    entries = {
        host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        for host, (user, password) in auths.items()
    }
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": entries}), encoding="utf-8")
    return path
