# SPDX-License-Identifier: Apache-2.0
"""binfmt_misc: whether the kernel runs another architecture's programs through qemu, and turning it on.

Debian's `qemu-user-static` registers its emulators with `binfmt-support` and the F (fix-binary)
flag, so containers of another architecture use the emulator without carrying it. binfmt_misc may
not be mounted in a container or a fresh VM; mounting it and enabling an entry needs root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from release.adapters.cmd import run

ROOT = Path("/proc/sys/fs/binfmt_misc")


@dataclass(frozen=True)
class Entry:
    name: str  # qemu-aarch64
    enabled: bool
    interpreter: str
    flags: str  # e.g. "PF"

    @property
    def fixed_binary(self) -> bool:
        """F: the kernel opened the emulator at registration, so containers need not have it."""
        return "F" in self.flags


def parse_entry(name: str, text: str) -> Entry:
    """An entry from its /proc file: `enabled`, `interpreter /usr/bin/qemu-aarch64-static`, `flags: PF`."""
    enabled, interpreter, flags = False, "", ""
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if line.strip() == "enabled":
            enabled = True
        elif word == "interpreter":
            interpreter = rest.strip()
        elif word == "flags:":
            flags = rest.strip()
    return Entry(name, enabled, interpreter, flags)


def mounted(root: Path = ROOT) -> bool:
    return (root / "status").exists()


def entry(name: str, root: Path = ROOT) -> Entry | None:
    """The registered entry `name`, or None when binfmt_misc does not list it."""
    try:
        return parse_entry(name, (root / name).read_text(encoding="utf-8"))
    except OSError:
        return None


def mount(root: Path = ROOT) -> None:
    """`mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc` (root only)."""
    run(["mount", "-t", "binfmt_misc", "binfmt_misc", root], hint="binfmt_misc needs mount(8) and root")


def enable(name: str) -> None:
    """`update-binfmts --enable NAME`: register the emulator binfmt-support knows under `name`."""
    run(["update-binfmts", "--enable", name], hint="from the Debian package binfmt-support")
