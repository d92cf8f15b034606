# SPDX-License-Identifier: Apache-2.0
"""Check every image before anything is pushed: it must be exactly what the release promises.

Per image: the Python is the flavour; the installed package is the release's version, from a
wheel whose sha256 is the one the release built; `pip check` passes; the default user is the
configured uid; no compiler or node on PATH and no C headers (build tools stay in the build
stages); every shared library of the environment finds the libraries it links to; PID 1 is the
init; the labels are right; a shell and the app command run; and the image is its platform's (its
config's architecture, and what `platform.machine()` says inside it). Another architecture's image
runs the same checks under emulation. Every check runs; failures raise one SmokeFailed naming image
and check. A variant's image is checked against that variant's config.

These checks run in one container per image (a probe started through the image's entrypoint,
release/image/smoke_probe.py, runs the shell and the app command itself); only when that probe
cannot run do the shell and the app command get containers of their own, so that each still gets
a verdict. Images are smoked concurrently, as many at once as there are cores.

The second half is the application's own checks, from `[tool.release]`: `smoke-commands` and
`health-check`. Each smoke command runs in a fresh container (no network) and must exit 0 and, when
it says so, print `expect`. The health check starts the configured server inside one container and
polls its URL from inside that container with the image's own python3 (release/image/health_watch.py;
so no port is published and no network is needed), then stops it: the URL must answer 200, with
`expect` in the body, in time.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from release import platforms
from release.adapters.engine import Engine, ImageInfo
from release.config import HealthCheck, ReleaseConfig, SmokeCommand
from release.errors import CommandError, ServiceError, VerificationError
from release.identity import ImageId
from release.image import HEALTH_WATCH, SMOKE_PROBE, script
from release.plan.images import (
    WHEEL_SHA256_LABEL,
    WHEELS_RECORD,
    WheelFile,
    label_mismatches,
    parse_wheels_record,
    wheel_sha256_label,
)
from release.plan.release import PlannedImage
from release.record import sha256_of

BUILD_TOOLS = ("node", "npm", "gcc", "cc", "c++", "g++", "clang")
HEADER_DIRS = ("/usr/include", "/usr/local/include")
INIT = "dumb-init"
# Under qemu-user (another architecture's image), /proc shows the emulator as PID 1's first word,
# then the program it runs: Debian's binfmt wrapper (`aarch64-binfmt-P`) or `qemu-aarch64[-static]`.
EMULATOR = re.compile(r"^(qemu-[\w.-]+|\w+-binfmt-\w*)$")

APP_COMMAND_TIMEOUT = 120  # seconds, for the shell and the app command inside the probe

CHECK_FACTS = {"python": "facts", "version": "facts", "wheel-sha256": "facts", "pip-check": "pip_check",
               "user": "facts", "no-build-tools": "facts", "init": "facts", "labels": "facts",
               "shell": "shell", "app-command": "app_command", "platform": "facts"}


# --- the application's own checks (smoke-commands, health-check) and the verdict type of every check ---

TAIL = 400
STOP_GRACE = 20  # seconds the server gets to stop after SIGTERM, before SIGKILL


@dataclass(frozen=True)
class Check:
    """One named verdict of an image's smoke test: of the image itself, or of the app's own checks."""

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


@dataclass(frozen=True)
class SmokeReport:
    ref: str
    image: ImageId
    checks: tuple[Check, ...]
    seconds: float = 0.0
    platform: str = ""  # the platform it ran as
    timeouts: str = ""  # how its timeouts were lengthened, and why ('' natively)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def as_record(self) -> dict[str, Any]:
        def verdict(check: Check) -> str:
            return "skipped" if check.skipped else ("ok" if check.ok else f"FAILED: {check.detail}")

        found = {c.name: verdict(c) for c in self.checks}
        return {**found, "timeouts": self.timeouts} if self.timeouts else found


class SmokeFailed(VerificationError):
    def __init__(self, message: str, reports: Sequence[SmokeReport]):
        super().__init__(message)
        self.reports = tuple(reports)


@dataclass(frozen=True)
class Expected:
    """What one image must show."""

    image: ImageId  # its flavour is the Python it must run
    name: str
    version: str
    wheels: Mapping[str, str]  # filename -> sha256, the files the release built
    labels: Mapping[str, str]
    uid: int = 50000
    app_command: tuple[str, ...] = ()
    forbidden_tools: tuple[str, ...] = field(default=BUILD_TOOLS)
    smoke_commands: tuple[SmokeCommand, ...] = ()
    health_check: HealthCheck | None = None
    platform: str = ""  # linux/arm64: the image's config and `platform.machine()` must say so
    host: str = ""  # the machine's platform; another `platform` runs emulated, with longer timeouts

    @property
    def timeout_factor(self) -> int:
        return platforms.timeout_factor(self.platform, self.host or self.platform)

    def timeout(self, seconds: int) -> int:
        """`seconds`, allowed for a check natively, as long as this image may take."""
        return seconds * self.timeout_factor


def wheel_files(wheels: Sequence[Path]) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in wheels}


def expected_for(
    config: ReleaseConfig, image: PlannedImage, version: str, wheels: Mapping[str, str]
) -> Expected:
    """What the image of `result` must show: its variant's app command, smoke commands and health check."""
    variant = config.for_variant(image.image.variant)
    return Expected(image=image.image, name=config.name, version=version, wheels=dict(wheels),
                    labels=dict(image.labels), uid=config.uid, app_command=variant.app_command,
                    smoke_commands=variant.smoke_commands, health_check=variant.health_check,
                    platform=image.platform, host=config.host_platform)


def _check(name: str, ok: bool, detail: str) -> Check:
    return Check(name, ok, "" if ok else detail)


def _run(engine: Engine, ref: str, command: Sequence[str], platform: str = "", timeout: float = 120
         ) -> tuple[int, str]:
    try:
        result = engine.run(ref, command, timeout=timeout, platform=platform or None)
    except CommandError as exc:
        return -1, str(exc)
    return result.exit_code, (result.stdout + result.stderr).strip()


def init_of(argv: Any) -> str:
    """The program PID 1 runs, from the first words of its command line (a string from older
    probes); the emulator that runs another architecture's init is looked through."""
    words = [str(w) for w in argv] if isinstance(argv, list) else [str(argv or "")]
    names = [Path(w).name for w in words if w]
    if len(names) > 1 and EMULATOR.match(names[0]):
        return names[1]
    return names[0] if names else ""


def fact_checks(facts: Mapping[str, Any], info: ImageInfo, expect: Expected) -> list[Check]:
    """Pure: the checks that compare the probe's facts and the image config with `expect`."""
    checks = [
        _check("python", facts.get("python") == expect.image.flavour,
               f"python3 is {facts.get('python')}, expected {expect.image.flavour}"),
        _check("version", facts.get("version") == expect.version,
               f"{expect.name} {facts.get('version')} is installed, expected {expect.version}"),
    ]
    recorded = parse_wheels_record(facts.get("wheels") or "")
    label = info.labels.get(WHEEL_SHA256_LABEL)
    want_label = wheel_sha256_label(WheelFile(n, s) for n, s in expect.wheels.items())
    checks.append(_check(
        "wheel-sha256", recorded == dict(expect.wheels) and label == want_label,
        f"image installed {recorded or 'no recorded wheels'} (label {label!r}); the release built "
        f"{dict(expect.wheels)}",
    ))
    code, output = facts.get("pip_check") or [-1, "no result"]
    checks.append(_check("pip-check", code == 0, f"pip check: {output.strip()[-300:]}"))
    config_uid = info.user.split(":")[0]
    checks.append(_check(
        "user", facts.get("uid") == expect.uid and config_uid == str(expect.uid),
        f"runs as uid {facts.get('uid')} (USER {info.user!r}), expected {expect.uid}",
    ))
    found = {tool: path for tool, path in (facts.get("tools") or {}).items() if path}
    checks.append(_check("no-build-tools", not found, f"on PATH: {found}"))
    count, first = facts.get("headers") or [0, []]
    checks.append(_check("no-headers", count == 0, f"{count} C headers, e.g. {', '.join(first)}"))
    libraries, missing = facts.get("libraries") or [0, None]
    if missing is None:
        checks.append(Check("shared-libs", True, "no ldd in the image", skipped=True))
    else:
        listing = "; ".join(f"{Path(lib).name}: {', '.join(sorted(set(needs)))}"
                            for lib, needs in missing.items())
        detail = f"{len(missing)} of {libraries} shared libraries miss libraries: {listing[:400]}"
        checks.append(_check("shared-libs", not missing, detail))
    pid1 = init_of(facts.get("pid1"))
    checks.append(_check("init", pid1 == INIT, f"PID 1 is {facts.get('pid1')!r}, expected {INIT}"))
    problems = label_mismatches(expect.labels, info.labels)
    checks.append(_check("labels", not problems, "; ".join(problems)))
    if expect.platform:
        machine = platforms.info(expect.platform).machine
        checks.append(_check(
            "platform", info.platform == expect.platform and facts.get("machine") == machine,
            f"the image is {info.platform} and runs as {facts.get('machine')!r}; expected {expect.platform} "
            f"({machine})",
        ))
    code, output = facts.get("shell") or [-1, "no result"]
    checks.append(_check("shell", code == 0, f"bash -c true: exit {code}: {output.strip()[-300:]}"))
    checks.append(_command_check(expect, facts.get("app_command") or [-1, "no result"]))
    seconds = facts.get("seconds") or {}
    return [replace(c, seconds=round(float(seconds.get(CHECK_FACTS.get(c.name, ""), 0)), 3)) for c in checks]


def _command_check(expect: Expected, result: Sequence[Any]) -> Check:
    if not expect.app_command:
        return Check("app-command", True, "no app-command configured", skipped=True)
    code, output = result
    command = " ".join(expect.app_command)
    return _check("app-command", code == 0, f"{command}: exit {code}: {str(output).strip()[-300:]}")


def smoke_image(engine: Engine, ref: str, expect: Expected) -> SmokeReport:
    started = time.monotonic()
    info = engine.inspect(ref)
    if info is None:
        info = engine.pull(ref)
    probe = ["python3", "-c", script(SMOKE_PROBE), expect.name, WHEELS_RECORD,
             ",".join(expect.forbidden_tools), ",".join(HEADER_DIRS),
             str(expect.timeout(APP_COMMAND_TIMEOUT)), *expect.app_command]
    probe_started = time.monotonic()
    code, output = _run(engine, ref, probe, expect.platform,
                        timeout=expect.timeout(APP_COMMAND_TIMEOUT * 3 + 60))
    try:
        facts: dict[str, Any] = json.loads(output.splitlines()[-1]) if code == 0 else {}
    except (ValueError, IndexError):
        facts = {}
    probe_check = _check("probe", bool(facts), f"python3 probe failed (exit {code}): {output[-300:]}")
    checks = [replace(probe_check, seconds=round(time.monotonic() - probe_started, 3))]
    if facts:
        checks += fact_checks(facts, info, expect)
    else:  # no probe: the shell and the app command in containers of their own
        def shell() -> Check:
            code, output = _run(engine, ref, ["bash", "-c", "true"], expect.platform,
                                timeout=expect.timeout(APP_COMMAND_TIMEOUT))
            return _check("shell", code == 0, f"bash -c true: exit {code}: {output[-300:]}")

        checks.append(timed(shell))
        if expect.app_command:
            checks.append(timed(lambda: _command_check(
                expect, _run(engine, ref, expect.app_command, expect.platform,
                             timeout=expect.timeout(APP_COMMAND_TIMEOUT)))))
        else:
            checks.append(_command_check(expect, ()))
    checks += app_checks(engine, ref, version=expect.version, commands=expect.smoke_commands,
                         health=expect.health_check, platform=expect.platform or None,
                         timeout_factor=expect.timeout_factor)
    return SmokeReport(ref, expect.image, tuple(checks), time.monotonic() - started, expect.platform,
                       platforms.timeout_note(expect.platform, expect.host or expect.platform))


class Smoker:
    """Smokes images as they are handed over, as many at once as there are cores (at most `jobs`),
    so a flavour is smoked while the next one builds; `reports` waits for all of them."""

    def __init__(self, config: ReleaseConfig, *, version: str, wheels: Sequence[Path], engine: Engine,
                 on_report: Callable[[SmokeReport], None] | None = None, jobs: int | None = None) -> None:
        self.config, self.version, self.engine, self.on_report = config, str(version), engine, on_report
        self.shas = wheel_files(wheels)
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1),
                                       thread_name_prefix="smoke")
        self.futures: dict[str, Future[SmokeReport]] = {}

    def submit(self, image: PlannedImage) -> None:
        self.futures[image.ref] = self.pool.submit(self._smoke, image)

    def _smoke(self, image: PlannedImage) -> SmokeReport:
        try:
            expect = expected_for(self.config, image, self.version, self.shas)
            report = smoke_image(self.engine, image.ref, expect)
        except ServiceError as exc:
            report = SmokeReport(image.ref, image.image, (Check("image", False, str(exc)),),
                                 platform=image.platform)
        if self.on_report is not None:
            with self.lock:
                self.on_report(report)
        return report

    def reports(self, images: Sequence[PlannedImage]) -> list[SmokeReport]:
        """Every report, in the order of `images`; SmokeFailed (with all of them) when any failed."""
        for image in images:
            if image.ref not in self.futures:
                self.submit(image)
        reports = [self.futures[i.ref].result() for i in images]
        failed = [r for r in reports if not r.ok]
        if failed:
            lines = [f"{r.ref}: {c.name}: {c.detail}" for r in failed for c in r.failures]
            lines += [f"{r.ref}: {r.timeouts}" for r in failed if r.timeouts]
            raise SmokeFailed("smoke test failed:\n" + "\n".join(lines), reports)
        return reports

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def smoke_images(
    config: ReleaseConfig,
    images: Sequence[PlannedImage],
    *,
    version: str,
    wheels: Sequence[Path],
    engine: Engine,
    on_report: Callable[[SmokeReport], None] | None = None,
    jobs: int | None = None,
) -> list[SmokeReport]:
    """Smoke every image, as many at once as there are cores (at most `jobs`); raise SmokeFailed
    (with all reports, in the order of `images`) when any check failed."""
    smoker = Smoker(config, version=version, wheels=wheels, engine=engine, on_report=on_report,
                    jobs=min(len(images), jobs or os.cpu_count() or 1))
    try:
        return smoker.reports(images)
    finally:
        smoker.close()
