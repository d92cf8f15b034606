# SPDX-License-Identifier: Apache-2.0
"""The loopback network the sandbox's services listen on: free ports, and whether a URL answers;
and reading an answer of at most so many bytes, for every adapter that reads one.

Plain HTTP through urllib with no proxy: a proxy must never stand in for a local service.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from release.errors import ServiceError
from release.urls import hide_credentials

CHUNK = 1 << 16
HTTP_LIMIT = 16 << 20  # http_get's default: the sandbox's probes read a few bytes


def too_large(source: str, limit: int) -> ServiceError:
    """The one error line for an answer larger than its read allows, naming where it came from."""
    return ServiceError(f"{hide_credentials(source)}: stopped reading at {limit} bytes, the most this read "
                        "takes; the answer is larger (a broken or hostile server?)")


def read_limited(chunks: Iterable[bytes], limit: int, source: str) -> bytes:
    """The bytes of `chunks`, read until they end; ServiceError naming `source` and `limit` as soon
    as there are more than `limit` of them (the rest is never read)."""
    found: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(source, limit)
        found.append(chunk)
    return b"".join(found)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


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


def http_get(url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0,
             limit: int = HTTP_LIMIT) -> bytes | None:
    """Body of a 200 answer, or None for any other answer or none at all; ServiceError when the body
    is larger than `limit` bytes."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return read_limited(iter(lambda: response.read(CHUNK), b""), limit, url)
    except (urllib.error.URLError, OSError):
        return None
