# SPDX-License-Identifier: Apache-2.0
"""Registry credentials go to a bearer-token service only over https, or over plain http to the
registry's own loopback host (security review, finding 5). The token services here are http.server
instances on other loopback addresses."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from integration.test_registry import PASSWORD, USER, FakeRegistry, assert_no_secret
from release.adapters.registry import RegistryAuth, RegistryClient, credentials_allowed

SECRET = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.mark.parametrize(("realm", "registry"), [
    ("https://auth.example.org/token", "registry.example.org"),  # a hosted registry's token service
    ("https://auth.example.org/token", "127.0.0.1:5000"),
    ("http://127.0.0.1:5001/token", "127.0.0.1:5000"),  # the sandbox: same loopback host, other port
    ("http://localhost/token", "localhost:5000"),
    ("http://LOCALHOST:5001/token", "localhost"),
    ("http://[::1]:5001/token", "[::1]:5000"),
])
def test_credentials_may_go(realm: str, registry: str) -> None:
    assert credentials_allowed(realm, registry)


@pytest.mark.parametrize(("realm", "registry"), [
    ("http://registry.example.org/token", "registry.example.org"),  # plain http off this machine
    ("http://evil.example/token", "127.0.0.1:5000"),
    ("http://127.0.0.2:5001/token", "127.0.0.1:5000"),  # another loopback host
    ("http://localhost:5001/token", "127.0.0.1:5000"),  # the same machine, but not the same name
    ("http://localhost:1@evil.example/token", "localhost:5000"),  # user info, not the host
    ("http://127.0.0.1:5000@evil.example/token", "127.0.0.1:5000"),
    ("http://localhost.evil.example/token", "localhost"),
    ("http://127.0.0.1.evil.example/token", "127.0.0.1"),
    ("http://127.0.0.1:port/token", "127.0.0.1"),
    ("http://[::1/token", "[::1]:5000"),
    ("ftp://127.0.0.1/token", "127.0.0.1"),
    ("//127.0.0.1/token", "127.0.0.1"),
    ("https:///token", "127.0.0.1"),
    ("", "127.0.0.1"),
])
def test_credentials_may_not_go(realm: str, registry: str) -> None:
    assert not credentials_allowed(realm, registry)


# --------------------------------------------------------------------------- real servers


class TokenService:
    """A token service on `host` that records what it is sent and issues `registry`'s tokens."""

    def __init__(self, host: str, registry: FakeRegistry) -> None:
        self.registry = registry
        self.asked: list[tuple[str, str | None]] = []
        self.server = ThreadingHTTPServer((host, 0), _TokenHandler)
        self.server.service = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def netloc(self) -> str:
        return f"{self.server.server_address[0]}:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _TokenHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        service: TokenService = self.server.service  # type: ignore[attr-defined]
        service.asked.append((self.path, self.headers.get("Authorization")))
        scope = parse_qs(urlsplit(self.path).query).get("scope", [""])[0]
        body = json.dumps({"token": service.registry.issue(scope)}).encode()  # anonymous pulls are fine
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RealmElsewhere(FakeRegistry):
    """The fake token-auth registry on 127.0.0.1, naming a token service of the test's choice."""

    elsewhere = ""

    @property
    def realm(self) -> str:
        return self.elsewhere


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RealmElsewhere]:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no config.json: never the developer's
    server = RealmElsewhere()
    server.store("a", "1.0.0", b"{}")
    server.store("b", "2.0.0", b"{}")
    yield server
    server.close()


@pytest.fixture
def other_host(fake: RealmElsewhere) -> Iterator[TokenService]:
    """A token service on another loopback host (127.0.0.2) than the registry's (127.0.0.1)."""
    service = TokenService("127.0.0.2", fake)
    yield service
    service.close()


def authed(fake: RealmElsewhere) -> RegistryClient:
    return RegistryClient(fake.address, auth=RegistryAuth(USER, PASSWORD))


def test_a_plain_http_realm_on_another_host_gets_no_credentials(
        fake: RealmElsewhere, other_host: TokenService, caplog: pytest.LogCaptureFixture) -> None:
    """Before the fix the token service was sent `Authorization: Basic <user:password>`."""
    fake.elsewhere = f"http://{other_host.netloc}/token"
    client = authed(fake)
    assert client.tags("a") == ["1.0.0"] and client.tags("b") == ["2.0.0"]  # anonymous tokens do
    assert [authorization for _, authorization in other_host.asked] == [None, None]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"registry {fake.address}: its token service http://127.0.0.2 is neither https nor plain http on "
        f"the registry's own loopback host; asking it for a token without credentials"]
    assert_no_secret(caplog.text)


def test_user_info_in_the_realm_does_not_make_it_the_registry_host(
        fake: RealmElsewhere, other_host: TokenService, caplog: pytest.LogCaptureFixture) -> None:
    fake.elsewhere = f"http://{fake.address}@{other_host.netloc}/token"  # naively: "http://127.0.0.1:..."
    assert authed(fake).tags("a") == ["1.0.0"]
    [(_, authorization)] = other_host.asked
    assert authorization != SECRET and PASSWORD not in str(authorization)
    assert "token service http://127.0.0.2 is neither https" in caplog.text


def test_the_registry_own_loopback_host_still_gets_credentials(fake: RealmElsewhere,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    service = TokenService("127.0.0.1", fake)
    try:
        fake.elsewhere = f"http://{service.netloc}/token"
        assert authed(fake).tags("a") == ["1.0.0"]
    finally:
        service.close()
    assert [authorization for _, authorization in service.asked] == [SECRET]
    assert "WARNING" not in caplog.text
