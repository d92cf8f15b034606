# SPDX-License-Identifier: Apache-2.0
"""pip, installing into this interpreter: the sandbox's own Python tools (pypiserver)."""

from __future__ import annotations

import sys

from release.adapters.cmd import run


def install(requirement: str) -> None:
    """`pip install requirement` into the running interpreter (`sys.executable`)."""
    run([sys.executable, "-m", "pip", "install", requirement], hint="pip is needed to install sandbox tools")
