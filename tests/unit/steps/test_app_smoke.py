# SPDX-License-Identifier: Apache-2.0
"""The app's own smoke checks, the second half of the smoke step (release/steps/smoke.py): verdicts,
and the checks over a fake engine. Pure."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from release.adapters.engine import Engine, RunResult
from release.config import HealthCheck, SmokeCommand
from release.errors import CommandError
from release.steps.smoke import (
    app_checks,
    command_check,
    expected_text,
    health_verdict,
)

HEALTH = HealthCheck(("app", "serve"), "http://127.0.0.1:8080/health", 60, '"db":"ok"')
VERSION = "3.3.2"

# --------------------------------------------------------------------------- verdicts


def test_expected_text_fills_in_the_version() -> None:
    assert expected_text("v{version} ({version})", VERSION) == "v3.3.2 (3.3.2)"
    assert expected_text('{"status":"healthy"}', VERSION) == '{"status":"healthy"}'


def test_a_command_passes_on_exit_0_with_the_expected_output() -> None:
    check = command_check(SmokeCommand(("app", "version"), "{version}"), VERSION, 0, "warning\n3.3.2\n")
    assert check.ok
    assert check.name == "command: app version"


def test_a_command_fails_on_a_non_zero_exit_with_its_output() -> None:
    check = command_check(SmokeCommand(("app", "migrate")), VERSION, 2, "Traceback ...\nOperationalError")
    assert not check.ok
    assert "exit 2" in check.detail
    assert "OperationalError" in check.detail


def test_a_command_fails_without_the_expected_output() -> None:
    check = command_check(SmokeCommand(("app", "version"), "{version}"), VERSION, 0, "3.3.1")
    assert not check.ok
    assert "'3.3.2' is not in the output" in check.detail


def test_long_output_is_cut_to_its_end() -> None:
    check = command_check(SmokeCommand(("app",)), VERSION, 1, "x" * 5000 + "the cause")
    assert len(check.detail) < 500
    assert check.detail.endswith("the cause")


@pytest.mark.parametrize(
    ("found", "words"),
    [
        ({"exit": 1, "seconds": 3.0, "log": "ImportError: no module"}, "the server exited (1) after 3.0s"),
        ({"exit": None, "status": None, "log": ""}, "no answer within 60s"),
        ({"exit": None, "status": 503, "body": "starting"}, "HTTP 503 after 60s: starting"),
        ({"exit": None, "status": 200, "body": '{"db":"down"}'}, """'"db":"ok"' not in the answer"""),
    ],
)
def test_health_failures_say_why_and_show_the_server_log(found: dict[str, Any], words: str) -> None:
    check = health_verdict(HEALTH, VERSION, {"ok": False, "log": "last log line", **found})
    assert not check.ok
    assert check.name == "health: http://127.0.0.1:8080/health"
    assert words in check.detail
    assert "server log:" in check.detail


def test_health_failure_under_emulation_names_the_timeout_it_waited() -> None:
    check = health_verdict(HEALTH, VERSION, {"ok": False, "status": None}, timeout_factor=10)
    assert "no answer within 600s" in check.detail


def test_health_passes_when_the_watcher_saw_it() -> None:
    assert health_verdict(HEALTH, VERSION, {"ok": True, "status": 200}).ok


# --------------------------------------------------------------------------- over a fake engine


class FakeEngine(Engine):
    """Answers `run` from a function of the command; records every call."""

    def __init__(self, answer: Callable[[Sequence[str]], RunResult]) -> None:
        super().__init__(factory=lambda: pytest.fail("the fake engine must not connect"))
        self.answer = answer
        self.calls: list[tuple[str, tuple[str, ...], float]] = []

    def run(
        self, image: str, command: Sequence[str], *, user: str | None = None,
        entrypoint: Sequence[str] | None = None, network_mode: str = "none", timeout: float = 120,
        platform: str | None = None,
    ) -> RunResult:
        self.calls.append((image, tuple(command), timeout))
        return self.answer(command)


def healthy(command: Sequence[str]) -> RunResult:
    if command[:2] == ["python3", "-c"]:
        return RunResult(0, json.dumps({"ok": True, "status": 200, "seconds": 4.2}) + "\n", "")
    return RunResult(0, "3.3.2\n", "")


def test_every_command_then_the_health_check_runs_in_the_image() -> None:
    engine = FakeEngine(healthy)
    commands = [SmokeCommand(("app", "version"), "{version}"), SmokeCommand(("app", "migrate"), timeout=300)]
    checks = app_checks(engine, "reg/app:1", version="3.3.2", commands=commands, health=HEALTH)
    assert [c.ok for c in checks] == [True, True, True]
    (image, first, timeout), second, (_, watch, watch_timeout) = engine.calls
    assert (image, first, timeout) == ("reg/app:1", ("app", "version"), 120)
    assert second[1:] == (("app", "migrate"), 300)
    assert watch[:2] == ("python3", "-c")
    assert watch[3:6] == (HEALTH.url, "60", '"db":"ok"')
    assert watch[-2:] == ("app", "serve")
    assert watch_timeout > HEALTH.timeout


def test_nothing_configured_is_skipped_not_failed() -> None:
    engine = FakeEngine(healthy)
    checks = app_checks(engine, "reg/app:1", version="1", commands=[], health=None)
    assert [(c.ok, c.skipped) for c in checks] == [(True, True), (True, True)]
    assert engine.calls == []


def test_an_engine_error_and_a_broken_watcher_are_failed_checks() -> None:
    def broken(command: Sequence[str]) -> RunResult:
        if command[0] == "app":
            raise CommandError("['app'] in reg/app:1 did not finish in 120s")
        return RunResult(1, "", "python3: not found")

    checks = app_checks(FakeEngine(broken), "reg/app:1", version="1", commands=[SmokeCommand(("app",))],
                        health=HEALTH)
    assert [c.ok for c in checks] == [False, False]
    assert "did not finish" in checks[0].detail
    assert "health watcher failed (exit 1)" in checks[1].detail
