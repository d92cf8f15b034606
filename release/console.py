# SPDX-License-Identifier: Apache-2.0
"""How output looks: messages on stderr (rich), machine output alone on stdout."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from release.progress import Event, shown

# Logs and CI have no terminal width; 80 columns would fold every digest in the tables.
err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 160)
_started = time.monotonic()


def progress(item: str | Event) -> None:
    """One progress line, with the seconds since the command started; build tools' own output is
    left to the logs. Tool output is printed as text, never read as console markup."""
    line = shown(item)
    if line is not None:
        err.print(f"[dim]{time.monotonic() - _started:6.1f}s[/dim] {escape(line)}")


def step(name: str, does: str) -> None:
    err.print(f"[bold cyan]==>[/bold cyan] [bold]{escape(name)}[/bold]: {escape(does)}")


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}")


def error(message: str) -> None:
    """An error, as text: it often quotes a tool's output, which is never read as markup."""
    err.print(f"[bold red]error:[/bold red] {escape(message)}")


def ok(message: str) -> None:
    err.print(f"[green]ok:[/green] {escape(message)}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def short(digest: str | None) -> str:
    """`sha256:` and 12 hex digits, like docker shows image ids."""
    return "-" if not digest else digest[:19]


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    grid = Table(title=escape(title), title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(escape(column), overflow="fold")
    for row in rows:
        grid.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    err.print(grid)
