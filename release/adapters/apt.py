# SPDX-License-Identifier: Apache-2.0
"""Debian/Ubuntu packages through apt-get: how the sandbox gets the programs it needs (root only)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from release.adapters.cmd import run
from release.errors import ToolMissingError

_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
_updated = False  # `apt-get update` once per process


def can_install() -> bool:
    """True when packages can be installed here: root, on a machine with apt-get."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install(packages: Sequence[str]) -> None:
    """`apt-get install` `packages` without recommends, after one `apt-get update` per process."""
    global _updated
    if not can_install():
        raise ToolMissingError(
            f"cannot install {' '.join(packages)}: not root on a machine with apt-get; "
            f"install them yourself (e.g. `sudo apt-get install -y {' '.join(packages)}`)"
        )
    if not _updated:
        run(["apt-get", "update"], env=_ENV, hint="apt-get is needed to install sandbox tools")
        _updated = True
    run(["apt-get", "install", "-y", "--no-install-recommends", *packages], env=_ENV)
