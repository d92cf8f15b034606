# SPDX-License-Identifier: Apache-2.0
"""The application's own smoke checks, from `[tool.release]`: `smoke-commands` and `health-check`.

Each smoke command runs in a fresh container (no network) and must exit 0 and, when it says
so, print `expect`. The health check starts the configured server inside one container and polls
its URL from inside that container with the image's own python3 (release/image/health_watch.py;
so no port is published and no network is needed), then stops it: the URL must answer 200, with
`expect` in the body, in time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from release.adapters.engine import Engine
from release.config import HealthCheck, SmokeCommand
from release.errors import CommandError, ServiceError
from release.image import HEALTH_WATCH, script

TAIL = 400
STOP_GRACE = 20  # seconds the server gets to stop after SIGTERM, before SIGKILL

@dataclass(frozen=True)
class Check:
    """One named verdict of an image's smoke test; smoke.py's checks of the image itself are Checks too."""

    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False
    seconds: float = 0.0  # how long the check took (inside the container, when it ran in one)


def expected_text(expect: str, version: str) -> str:
    return expect.replace("{version}", version)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TAIL else "..." + text[-TAIL:]


def command_check(command: SmokeCommand, version: str, exit_code: int, output: str) -> Check:
    """Pure: the verdict on one smoke command's exit code and output."""
    name = f"command: {' '.join(command.command)}"
    want = expected_text(command.expect, version)
    if exit_code != 0:
        return Check(name, False, f"exit {exit_code}: {_short(output)}")
    if want not in output:
        return Check(name, False, f"exit 0 but {want!r} is not in the output: {_short(output)}")
    return Check(name, True)


def health_verdict(health: HealthCheck, version: str, found: Mapping[str, Any],
                   timeout_factor: int = 1) -> Check:
    """Pure: the verdict on what the health watcher saw, within the timeout it was given."""
    name = f"health: {health.url}"
    waited = health.timeout * timeout_factor
    if found.get("ok"):
        return Check(name, True)
    if found.get("exit") is not None:
        why = f"the server exited ({found['exit']}) after {found.get('seconds')}s"
    elif found.get("status") is None:
        why = f"no answer within {waited}s"
    elif found.get("status") != 200:
        why = f"HTTP {found['status']} after {waited}s: {_short(str(found.get('body')))}"
    else:
        want = expected_text(health.expect, version)
        why = f"{want!r} not in the answer after {waited}s: {_short(str(found.get('body')))}"
    return Check(name, False, f"{why}; server log: {_short(str(found.get('log') or ''))}")


def run_command(engine: Engine, ref: str, command: SmokeCommand, version: str, platform: str | None = None,
                timeout_factor: int = 1) -> Check:
    try:
        result = engine.run(ref, command.command, timeout=command.timeout * timeout_factor, platform=platform)
    except (CommandError, ServiceError) as exc:
        return Check(f"command: {' '.join(command.command)}", False, str(exc))
    return command_check(command, version, result.exit_code, result.stdout + result.stderr)


def run_health_check(engine: Engine, ref: str, health: HealthCheck, version: str, platform: str | None = None,
                     timeout_factor: int = 1) -> Check:
    waits = health.timeout * timeout_factor
    watch = ["python3", "-c", script(HEALTH_WATCH), health.url, str(waits),
             expected_text(health.expect, version), str(STOP_GRACE), *health.command]
    try:
        result = engine.run(ref, watch, timeout=(health.timeout + STOP_GRACE + 60) * timeout_factor,
                            platform=platform)
    except (CommandError, ServiceError) as exc:
        return Check(f"health: {health.url}", False, str(exc))
    try:
        found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        output = _short(result.stdout + result.stderr)
        detail = f"the health watcher failed (exit {result.exit_code}): {output}"
        return Check(f"health: {health.url}", False, detail)
    return health_verdict(health, version, found, timeout_factor)


def app_checks(
    engine: Engine, ref: str, *, version: str, commands: Sequence[SmokeCommand], health: HealthCheck | None,
    platform: str | None = None, timeout_factor: int = 1,
) -> list[Check]:
    """Every configured smoke command, then the health check; an unconfigured kind is skipped.
    `platform`: the image's (another architecture's runs under emulation, its timeouts multiplied
    by `timeout_factor`)."""
    checks = [timed(partial(run_command, engine, ref, command, version, platform, timeout_factor))
              for command in commands]
    if not commands:
        checks.append(Check("commands", True, "no smoke-commands configured", skipped=True))
    if health is None:
        checks.append(Check("health", True, "no health-check configured", skipped=True))
    else:
        checks.append(timed(lambda: run_health_check(engine, ref, health, version, platform, timeout_factor)))
    return checks


def timed(check: Callable[[], Check]) -> Check:
    """`check()`, with how long it took."""
    started = time.monotonic()
    found = check()
    return replace(found, seconds=round(time.monotonic() - started, 3))
