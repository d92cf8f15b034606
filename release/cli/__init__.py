# SPDX-License-Identifier: Apache-2.0
"""The command line: `ns`, the invoke collection of every task (release/cli/collection.py).

`ns` is built when first asked for, so that `release-pipeline --version` (release/cli/main.py)
answers without loading invoke or any task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from invoke.collection import Collection

__all__ = ["ns"]


def __getattr__(name: str) -> Collection:
    if name == "ns":
        from release.cli.collection import ns

        return ns
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
