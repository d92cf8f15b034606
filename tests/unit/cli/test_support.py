# SPDX-License-Identifier: Apache-2.0
"""What every task shares: errors become one line and their family's exit code; options are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke.exceptions import Exit

from release import console
from release.cli.support import (
    comma_list,
    flavours_of,
    options_for,
    reports_errors,
    required_version,
    wave_date,
)
from release.config import parse_config
from release.errors import (
    CommandError,
    ConfigError,
    RefusedError,
    ReleaseError,
    ServiceError,
    ToolMissingError,
    VerificationError,
    VersionError,
)
from release.pipeline.release import RunOptions  # imported here: GitPython starts `git` when first imported

CONFIG = parse_config(Path("/src"), {"name": "sample-app", "python": ["3.11", "3.13"]})


def exit_of(error: BaseException) -> tuple[int, str]:
    """The exit code and the console output of a task that raises `error`."""

    @reports_errors
    def task() -> None:
        raise error

    with console.err.capture() as captured, pytest.raises(Exit) as caught:
        task()
    return caught.value.code, captured.get()


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ReleaseError("plain"), 1),
        (ConfigError("bad key"), 2),
        (VersionError("bad version"), 2),
        (ToolMissingError("no gpg"), 3),
        (CommandError("gpg failed"), 4),
        (ServiceError("registry down"), 5),
        (RefusedError("dirty tree"), 6),
        (VerificationError("bad signature"), 7),
    ],
)
def test_each_error_family_exits_with_its_code_and_one_line(error: ReleaseError, code: int) -> None:
    assert exit_of(error) == (code, f"error: {error}\n")


def test_an_interrupt_exits_130_and_says_how_to_resume() -> None:
    assert exit_of(KeyboardInterrupt()) == (130, "error: interrupted; rerun the same command to resume\n")


def test_an_error_quoting_console_markup_is_printed_as_it_is() -> None:
    """Tool output in a message (`[/x]`, `[bold]`) is text, never markup (and never a traceback)."""
    message = "svn: E170000: URL 'file:///r/[/x]' doesn't exist [bold]really[/bold] [link=x]"
    assert exit_of(CommandError(message)) == (4, f"error: {message}\n")


def test_console_lines_and_tables_print_markup_as_text() -> None:
    with console.err.capture() as captured:
        console.warn("[/x] warned")
        console.ok("[red]ok[/red]")
        console.step("[/build]", "does [/x]")
        console.table("T [/x]", ["c [/y]"], [["[/z] cell"]])
    text = captured.get()
    for literal in ("[/x] warned", "[red]ok[/red]", "[/build]: does [/x]", "T [/x]", "c [/y]", "[/z] cell"):
        assert literal in text


def test_a_full_disk_is_one_line_not_a_traceback() -> None:
    error = OSError(28, "No space left on device", "/srv/dist/1.10.6/release.json")
    assert exit_of(error) == (1, "error: /srv/dist/1.10.6/release.json: No space left on device; fix that "
                                 "and rerun the same command to resume\n")


def test_a_signing_key_option_that_gpg_would_read_as_an_option_is_refused() -> None:
    with pytest.raises(ConfigError, match="--sign-with"):
        options_for(CONFIG, "", 1, "--homedir=/tmp/evil", "")


def test_other_exceptions_are_not_hidden() -> None:
    @reports_errors
    def task() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        task()


def test_a_missing_version_is_a_plain_release_error() -> None:
    with pytest.raises(ReleaseError, match=r"--version is required, e\.g\. --version 1\.10\.6") as caught:
        required_version("")
    assert caught.value.exit_code == 1
    assert required_version("1.10.6") == "1.10.6"


def test_flavours_default_to_all_and_must_be_configured() -> None:
    assert flavours_of(CONFIG, "") == ("3.11", "3.13")
    assert flavours_of(CONFIG, " 3.13, ") == ("3.13",)
    with pytest.raises(ReleaseError, match=r"--python 3\.12 is not a configured flavour \(3\.11, 3\.13\)"):
        flavours_of(CONFIG, "3.11,3.12")


def test_options_for_a_run() -> None:
    options = options_for(CONFIG, "3.11", 2, "F" * 40, "latest, 1.10", allow_dirty=True)
    assert isinstance(options, RunOptions)
    assert options.flavours == ("3.11",) and options.jobs == 2 and options.sign_with == "F" * 40
    assert options.force == frozenset({"latest", "1.10"}) and options.allow_dirty
    assert options_for(CONFIG, "", 0, "", "").jobs == 0  # as many as the machine has room for
    with pytest.raises(ReleaseError, match=r"--jobs -1: give 1 or more, or 0"):
        options_for(CONFIG, "", -1, "", "")


def test_a_waves_date_is_today_in_utc_or_the_given_day() -> None:
    import datetime

    assert wave_date("", today=datetime.date(2026, 12, 7)) == "2026-12-07"
    assert wave_date("2026-11-30") == "2026-11-30"
    for bad in ("2026-13-01", "7.12.2026", "20261207", "2026-12-07T10:00"):
        with pytest.raises(ReleaseError, match=r"^--date '.*': give the wave's date as YYYY-MM-DD"):
            wave_date(bad)


def test_a_comma_list_drops_blanks() -> None:
    assert comma_list(" http, ftp,,") == ("http", "ftp") and comma_list("") == ()
