# SPDX-License-Identifier: Apache-2.0
"""Run images of another architecture on this host: qemu-user-static through binfmt_misc.

Needed only when a platform other than the host's is configured. On a Debian machine as root the
sandbox installs `qemu-user-static` and `binfmt-support`, mounts binfmt_misc when it is not, and
enables the emulator; elsewhere it says what to run.
"""

from __future__ import annotations

from collections.abc import Sequence

from release import locks, platforms
from release.adapters import apt, binfmt
from release.errors import ToolMissingError
from release.progress import Progress
from release.sandbox.tools import ensure_program

PACKAGES = ("qemu-user-static", "binfmt-support")


def foreign(wanted: Sequence[str], host: str) -> list[platforms.PlatformInfo]:
    """The platforms of `wanted` that are not `host`'s, which need an emulator here."""
    return [platforms.info(p) for p in wanted if p != host]


def ensure_emulation(wanted: Sequence[str], host: str, progress: Progress) -> None:
    """Make every platform of `wanted` runnable here; ToolMissingError saying how when it cannot.
    binfmt_misc is the machine's: one process of it at a time sets it up."""
    if not foreign(wanted, host):
        return
    with locks.machine("binfmt", progress, what="setting up emulation"):
        _ensure_emulation(wanted, host, progress)


def _ensure_emulation(wanted: Sequence[str], host: str, progress: Progress) -> None:
    for found in foreign(wanted, host):
        current = binfmt.entry(found.qemu) if binfmt.mounted() else None
        if current is not None and current.enabled and current.fixed_binary:
            continue
        if not apt.can_install():
            raise ToolMissingError(
                f"{found.name} images run here only under emulation: as root, `apt-get install -y "
                f"{' '.join(PACKAGES)}`, `mount -t binfmt_misc binfmt_misc {binfmt.ROOT}` if it is not "
                f"mounted, then `update-binfmts --enable {found.qemu}`"
            )
        ensure_program(f"{found.qemu}-static", PACKAGES[0], progress)
        ensure_program("update-binfmts", PACKAGES[1], progress)
        if not binfmt.mounted():
            progress(f"mounting binfmt_misc on {binfmt.ROOT}")
            binfmt.mount()
        progress(f"enabling {found.qemu} in binfmt_misc for {found.name}")
        binfmt.enable(found.qemu)
        current = binfmt.entry(found.qemu)
        if current is None or not current.enabled:
            raise ToolMissingError(f"update-binfmts --enable {found.qemu} left no enabled {binfmt.ROOT}/"
                                   f"{found.qemu}; {found.name} images cannot run here")
        if not current.fixed_binary:
            raise ToolMissingError(
                f"{binfmt.ROOT}/{found.qemu} is registered without the F flag ({current.flags or 'none'}); "
                f"containers cannot find its emulator: register qemu-user-static's entry (Debian's has F)"
            )
        progress(f"{found.name}: {current.interpreter} (flags {current.flags})")
