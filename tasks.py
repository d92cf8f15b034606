# SPDX-License-Identifier: Apache-2.0
"""Release tasks for invoke: `invoke --list` shows them; the library does the work."""

from release.cli import ns

__all__ = ["ns"]
