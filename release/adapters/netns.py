# SPDX-License-Identifier: Apache-2.0
"""Network namespaces through `ip netns` (Debian's iproute2, root only): a network of its own.

A namespace made here holds only a loopback interface and no route anywhere: a program run in it
(`exec_argv`) reaches nothing but itself. Files, unix sockets and processes are shared with the
host as usual, which is how a service in it is reached from outside (a unix socket in a folder).
"""

from __future__ import annotations

import re

from release.adapters.cmd import run

_HINT = "network namespaces need iproute2 (Debian: apt-get install iproute2) and root"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a namespace name (lowercase letters, digits, '-')")
    return name


def names() -> list[str]:
    """The namespaces that exist now."""
    result = run(["ip", "netns", "list"], hint=_HINT)
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def exists(name: str) -> bool:
    return _checked(name) in names()


def create(name: str) -> None:
    """A namespace with only its loopback interface, up; nothing routes out of it."""
    if not exists(name):
        run(["ip", "netns", "add", name], hint=_HINT)
    run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], hint=_HINT)


def delete(name: str) -> None:
    if exists(name):
        run(["ip", "netns", "delete", name], hint=_HINT)


def exec_argv(name: str, argv: list[str]) -> list[str]:
    """`argv` run inside the namespace (`ip netns exec` replaces itself with the program)."""
    return ["ip", "netns", "exec", _checked(name), *argv]


def pids(name: str) -> list[int]:
    """Every process whose network is the namespace's, whatever session or group it made."""
    if not exists(name):
        return []
    result = run(["ip", "netns", "pids", name], check=False, hint=_HINT)
    return sorted(int(word) for word in result.stdout.split() if word.isdigit())


def interfaces(name: str) -> list[str]:
    """The names of the namespace's network interfaces."""
    result = run(["ip", "netns", "exec", _checked(name), "ip", "-o", "link", "show"], hint=_HINT)
    return [line.split(":")[1].strip().split("@")[0] for line in result.stdout.splitlines() if ":" in line]


def routes(name: str) -> list[str]:
    """The namespace's routes in every table, one a line (loopback's own local routes included)."""
    result = run(["ip", "netns", "exec", _checked(name), "ip", "route", "show", "table", "all"], hint=_HINT)
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]
