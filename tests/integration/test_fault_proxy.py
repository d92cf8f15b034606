# SPDX-License-Identifier: Apache-2.0
"""The fault suite's proxy passes requests and answers on as they are, repeated headers included:
docker sends one Accept header per manifest type it takes, and a proxy that kept only one of
them made the registry answer a schema-1 manifest, which docker turns into another image."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest
from conftest import http_server

from tests.fault_helpers import FaultProxy


class Upstream(BaseHTTPRequestHandler):
    seen: ClassVar[list[list[str]]] = []

    def do_GET(self) -> None:
        Upstream.seen.append(self.headers.get_all("Accept") or [])
        self.send_response(200)
        self.send_header("Link", "</v2/a>; rel=first")
        self.send_header("Link", "</v2/b>; rel=next")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[int]:
    Upstream.seen = []
    with http_server(Upstream) as port:
        yield port


def test_repeated_request_and_answer_headers_pass_the_proxy_whole(upstream: int) -> None:
    proxy = FaultProxy(upstream).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        connection.putrequest("GET", "/v2/sample/manifests/1.0")
        connection.putheader("Accept", "application/vnd.oci.image.manifest.v1+json")
        connection.putheader("Accept", "application/vnd.docker.distribution.manifest.v2+json")
        connection.endheaders()
        answer = connection.getresponse()
        answer.read()
        links = answer.headers.get_all("Link")
        connection.close()
    finally:
        proxy.close()
    accepted = [value.strip() for header in Upstream.seen[0] for value in header.split(",")]
    assert accepted == ["application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json"]
    assert links == ["</v2/a>; rel=first", "</v2/b>; rel=next"]
