# SPDX-License-Identifier: Apache-2.0
"""Install the outside programs the sandbox needs on a fresh Debian/Ubuntu machine."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable

from release import locks
from release.adapters import apt, pip
from release.errors import ToolMissingError
from release.progress import Progress


def apt_install(packages: list[str], progress: Progress, *,
                unless: Callable[[], bool] = lambda: False) -> None:
    """Install Debian packages, one process of this machine at a time (dpkg refuses a second);
    nothing when `unless()` says, once it is this process's turn, that another installed them."""
    with locks.machine("apt", progress, what="running apt-get"):
        if unless():
            return
        progress(f"apt-get install -y {' '.join(packages)}")
        apt.install(packages)


def ensure_program(program: str, apt_package: str, progress: Progress) -> str:
    """Absolute path of `program`, installing its Debian package first when it is missing."""
    found = shutil.which(program)
    if found is not None:
        return found
    if not apt.can_install():
        raise ToolMissingError(
            f"'{program}' is not installed; install the Debian/Ubuntu package '{apt_package}' "
            f"(`sudo apt-get install -y {apt_package}`) and run the sandbox up again"
        )
    apt_install([apt_package], progress, unless=lambda: shutil.which(program) is not None)
    found = shutil.which(program)
    if found is None:
        raise ToolMissingError(f"installed '{apt_package}' but '{program}' is still not on PATH")
    return found


def pypiserver_argv(progress: Progress) -> list[str]:
    """Command prefix that runs pypiserver, pip-installing it into this interpreter if needed."""
    if importlib.util.find_spec("pypiserver") is not None:
        return [sys.executable, "-m", "pypiserver"]
    script = shutil.which("pypi-server")
    if script is not None:
        return [script]
    progress(f"pip install pypiserver (into {sys.executable})")
    pip.install("pypiserver")
    importlib.invalidate_caches()
    if importlib.util.find_spec("pypiserver") is None:
        raise ToolMissingError(f"pip installed pypiserver but {sys.executable} cannot import it")
    return [sys.executable, "-m", "pypiserver"]
