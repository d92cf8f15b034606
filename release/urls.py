# SPDX-License-Identifier: Apache-2.0
"""URLs from configuration and from services: which are safe to use, and how they are shown. Pure.

Hosts are compared as `urllib.parse` reads them, never by looking at text: in
`http://localhost:1@registry.example.com/` the host is registry.example.com (`localhost:1` is a
user name and password).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import urlsplit

HIDDEN = "<hidden>"
PLAIN_SCHEMES = frozenset({"http", "svn"})  # schemes that send everything unencrypted


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or exactly `localhost` (a name like 127.example.org is not loopback)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(url: str) -> str:
    """The host `url` connects to, as urllib parses it ("" when it has none or is malformed)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a malformed port raises here
    except ValueError:
        return ""
    return parts.hostname or ""


def registry_host(registry: str) -> str:
    """The host of a registry given as `host[:port]` ("" when it is not one)."""
    if registry.count(":") > 1 and not registry.startswith("["):  # a bare IPv6 address, no port
        try:
            return str(ipaddress.ip_address(registry))
        except ValueError:
            return ""
    return host_of(f"//{registry}")


def _split_authority(url: str) -> tuple[str, str, str]:
    """(`scheme://`, authority, the rest) of `url`, by text alone: urllib refuses some URLs a user
    may still have typed (`https://[x:secret@host/`), and those must be hidden all the same."""
    head, sep, tail = url.partition("//")
    if not sep:
        return url, "", ""
    cut = min((i for i in (tail.find(c) for c in "/?#") if i >= 0), default=len(tail))
    return head + sep, tail[:cut], tail[cut:]


def has_credentials(url: str) -> bool:
    """True when `url` names a user (and maybe a password or token) before its host."""
    return "@" in _split_authority(url)[1]


def hide_credentials(url: str) -> str:
    """`url` with any user name and password replaced by `<hidden>`, for messages and reprs."""
    head, authority, rest = _split_authority(url)
    if "@" not in authority:
        return url
    return f"{head}{HIDDEN}@{authority.rpartition('@')[2]}{rest}"


def is_plain(url: str) -> bool:
    """True when `url` goes over the network unencrypted (http://, svn://)."""
    return url.split(":", 1)[0].lower() in PLAIN_SCHEMES


def plain_allowed(url: str, allowed_hosts: Collection[str] = ()) -> bool:
    """An unencrypted `url` is used only for a loopback host, or a host listed in `allowed_hosts`."""
    if not is_plain(url):
        return True
    host = host_of(url)
    return bool(host) and (is_loopback_host(host) or host.lower() in {h.lower() for h in allowed_hosts})
