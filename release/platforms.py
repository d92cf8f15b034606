# SPDX-License-Identifier: Apache-2.0
"""Image platforms (`linux/amd64`, `linux/arm64`): the spellings and what each is called elsewhere.

A platform is written as Docker and OCI write it, `os/architecture`. This module knows, for each
platform the pipeline supports, its Debian architecture (debootstrap `--arch`), what
`platform.machine()` prints inside it, and the qemu emulator that runs it on another host. Pure,
except `host_platform()`, which asks the running kernel what it is.
"""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformInfo:
    name: str  # linux/arm64
    architecture: str  # as image configs and index entries say it: arm64
    debian: str  # debootstrap --arch: arm64
    machine: str  # platform.machine() / uname -m inside it: aarch64
    qemu: str  # the binfmt_misc entry of its emulator: qemu-aarch64

    @property
    def os(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def suffix(self) -> str:
        """The platform in names that allow no slash (tags, artifacts): `arm64`."""
        return self.name.split("/", 1)[1].replace("/", "-")


SUPPORTED: dict[str, PlatformInfo] = {
    info.name: info
    for info in (
        PlatformInfo("linux/amd64", "amd64", "amd64", "x86_64", "qemu-x86_64"),
        PlatformInfo("linux/arm64", "arm64", "arm64", "aarch64", "qemu-aarch64"),
    )
}
DEFAULT = "linux/amd64"

# How many times longer a check may take in an image of another platform than the host's: qemu-user
# interprets every instruction, and a Python program's start (its imports) is slowed most of all. A
# `release-pipeline --version` that answers in 0.3 s natively took over 120 s under qemu.
EMULATION_FACTOR = 10


def info(name: str) -> PlatformInfo:
    """What `name` is called elsewhere; ValueError for a platform the pipeline does not support."""
    try:
        return SUPPORTED[name]
    except KeyError:
        known = ", ".join(SUPPORTED)
        raise ValueError(f"{name!r} is not a supported platform; choose from {known}") from None


def of_machine(machine: str) -> str:
    """`x86_64` -> `linux/amd64`, `aarch64` (or `arm64`) -> `linux/arm64`; ValueError otherwise."""
    for found in SUPPORTED.values():
        if machine in {found.machine, found.architecture}:
            return found.name
    raise ValueError(f"no supported platform runs on a {machine!r} machine")


def host_platform(machine: str | None = None) -> str:
    """The platform this machine runs natively (`DEFAULT` on a machine the table does not know)."""
    try:
        return of_machine(machine if machine is not None else _platform.machine())
    except ValueError:
        return DEFAULT


def emulated(platform: str, host: str) -> bool:
    """Whether an image of `platform` runs under emulation on a `host` machine ('' is the host's)."""
    return bool(platform) and platform != host


def timeout_factor(platform: str, host: str) -> int:
    """What the smoke checks' timeouts are multiplied by for an image of `platform` on a `host`
    machine: 1 natively, EMULATION_FACTOR under emulation."""
    return EMULATION_FACTOR if emulated(platform, host) else 1


def timeout_note(platform: str, host: str) -> str:
    """The factor as the output names it; '' natively."""
    if not emulated(platform, host):
        return ""
    factor, emulator = timeout_factor(platform, host), info(platform).qemu
    return f"timeouts x{factor}: {platform} runs under emulation ({emulator}) on this {host} machine"
