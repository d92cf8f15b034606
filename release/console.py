# SPDX-License-Identifier: Apache-2.0
"""How output looks: messages on stderr (rich), machine output alone on stdout.

rich is imported when the first message is printed, not with this module: `--help` and the
commands that print nothing of their own start without it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from release.progress import Event, shown

if TYPE_CHECKING:
    from rich.console import Console

_started = time.monotonic()


@cache
def _err() -> Console:
    from rich.console import Console

    # Logs and CI have no terminal width; 80 columns would fold every digest in the tables.
    return Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 160)


def __getattr__(name: str) -> Console:
    """`console.err`: the stderr console (tests capture it), made when first asked for."""
    if name == "err":
        return _err()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def escape(text: str) -> str:
    """`text` with rich's markup escaped, to print it as it is."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def markup(line: str) -> None:
    """A line of console markup (whose variable parts the caller escaped)."""
    _err().print(line)


def progress(item: str | Event) -> None:
    """One progress line, with the seconds since the command started; build tools' own output is
    left to the logs. Tool output is printed as text, never read as console markup."""
    line = shown(item)
    if line is not None:
        _err().print(f"[dim]{time.monotonic() - _started:6.1f}s[/dim] {escape(line)}")


def step(name: str, does: str) -> None:
    _err().print(f"[bold cyan]==>[/bold cyan] [bold]{escape(name)}[/bold]: {escape(does)}")


def warn(message: str) -> None:
    _err().print(f"[yellow]warning:[/yellow] {escape(message)}")


def error(message: str) -> None:
    """An error, as text: it often quotes a tool's output, which is never read as markup."""
    _err().print(f"[bold red]error:[/bold red] {escape(message)}")


def ok(message: str) -> None:
    _err().print(f"[green]ok:[/green] {escape(message)}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def short(digest: str | None) -> str:
    """`sha256:` and 12 hex digits, like docker shows image ids."""
    return "-" if not digest else digest[:19]


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=escape(title), title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(escape(column), overflow="fold")
    for row in rows:
        grid.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    _err().print(grid)
