# SPDX-License-Identifier: Apache-2.0
"""The net adapter against a loopback HTTP server: free ports, status probes, plain GETs."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from conftest import http_server

from release.adapters import net


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.end_headers()
            return
        ok = self.path == "/ok"
        body = self.headers.get("Accept", "fine").encode() if ok else b"no"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    with http_server(_Handler) as port:
        yield f"http://127.0.0.1:{port}"


def test_a_free_port_can_be_bound_and_a_listening_one_is_not_free() -> None:
    port = net.free_port()
    assert 0 < port < 65536 and net.port_is_free(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert not net.port_is_free(port)


def test_status_is_what_the_service_says_without_following_redirects(server: str) -> None:
    assert net.http_status(f"{server}/ok") == 200
    assert net.http_status(f"{server}/missing") == 404
    assert net.http_status(f"{server}/moved") == 302


def test_nothing_listening_is_no_status_and_no_body() -> None:
    url = f"http://127.0.0.1:{net.free_port()}/"
    assert net.http_status(url, timeout=1) is None
    assert net.http_get(url, timeout=1) is None


def test_get_returns_the_body_of_a_200_only(server: str) -> None:
    assert net.http_get(f"{server}/ok") == b"fine"
    assert net.http_get(f"{server}/ok", headers={"Accept": "text/plain"}) == b"text/plain"
    assert net.http_get(f"{server}/missing") is None
