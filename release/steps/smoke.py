"""Check every image before anything is pushed: it must be exactly what the release promises.

Per image: the Python is the flavour; the installed package is the release's version, from a
wheel whose sha256 is the one the release built; `pip check` passes; the default user is the
configured uid; no node/npm/gcc/cc on PATH; PID 1 is the init; the labels are right; a shell
and the app command run; and the image is its platform's (its config's architecture, and what
`platform.machine()` says inside it). Another architecture's image runs the same checks under
emulation. Every check runs; failures raise one SmokeFailed naming image and check.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release import platforms
from release.adapters.engine import Engine, ImageInfo
from release.config import HealthCheck, ReleaseConfig, SmokeCommand
from release.errors import CommandError, ServiceError, VerificationError
from release.plan.images import (
    WHEEL_SHA256_LABEL,
    WHEELS_RECORD,
    WheelFile,
    label_mismatches,
    parse_wheels_record,
    wheel_sha256_label,
)
from release.progress import Progress, to_log
from release.record import sha256_of
from release.steps.app_smoke import Check, app_checks
from release.steps.images import ImageResult, build_images, image_event, push_images

BUILD_TOOLS = ("node", "npm", "gcc", "cc")
INIT = "dumb-init"
# Under qemu-user (another architecture's image), /proc shows the emulator as PID 1's first word,
# then the program it runs: Debian's binfmt wrapper (`aarch64-binfmt-P`) or `qemu-aarch64[-static]`.
EMULATOR = re.compile(r"^(qemu-[\w.-]+|\w+-binfmt-\w*)$")

# Runs inside the image with its own python3 (3.9+): facts as one JSON line.
PROBE = r"""
import json, os, platform, shutil, subprocess, sys
from importlib import metadata
facts = {"python": "%d.%d" % sys.version_info[:2], "uid": os.getuid(), "machine": platform.machine()}
try:
    facts["version"] = metadata.version(sys.argv[1])
except metadata.PackageNotFoundError:
    facts["version"] = None
try:
    facts["wheels"] = open(sys.argv[2]).read()
except OSError:
    facts["wheels"] = None
check = subprocess.run([sys.executable, "-m", "pip", "check"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
facts["pip_check"] = [check.returncode, check.stdout[-2000:]]
facts["tools"] = {tool: shutil.which(tool) for tool in sys.argv[3].split(",")}
try:
    facts["pid1"] = [a.decode() for a in open("/proc/1/cmdline", "rb").read().split(b"\0")[:3]]
except OSError:
    facts["pid1"] = None
print(json.dumps(facts))
"""


@dataclass(frozen=True)
class SmokeReport:
    ref: str
    flavour: str
    checks: tuple[Check, ...]
    seconds: float = 0.0
    platform: str = ""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def as_record(self) -> dict[str, Any]:
        def verdict(check: Check) -> str:
            return "skipped" if check.skipped else ("ok" if check.ok else f"FAILED: {check.detail}")

        return {c.name: verdict(c) for c in self.checks}


class SmokeFailed(VerificationError):
    def __init__(self, message: str, reports: Sequence[SmokeReport]):
        super().__init__(message)
        self.reports = tuple(reports)


@dataclass(frozen=True)
class Expected:
    """What one image must show."""

    flavour: str
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


def wheel_files(wheels: Sequence[Path]) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in wheels}


def expected_for(
    config: ReleaseConfig, result: ImageResult, version: str, wheels: Mapping[str, str]
) -> Expected:
    return Expected(flavour=result.flavour, name=config.name, version=version, wheels=dict(wheels),
                    labels=dict(result.plan.labels), uid=config.uid, app_command=config.app_command,
                    smoke_commands=config.smoke_commands, health_check=config.health_check,
                    platform=result.platform)


def _check(name: str, ok: bool, detail: str) -> Check:
    return Check(name, ok, "" if ok else detail)


def _run(engine: Engine, ref: str, command: Sequence[str], platform: str = "") -> tuple[int, str]:
    try:
        result = engine.run(ref, command, platform=platform or None)
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
        _check("python", facts.get("python") == expect.flavour,
               f"python3 is {facts.get('python')}, expected {expect.flavour}"),
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
    return checks


def smoke_image(engine: Engine, ref: str, expect: Expected) -> SmokeReport:
    started = time.monotonic()
    info = engine.inspect(ref)
    if info is None:
        info = engine.pull(ref)
    probe = [
        "python3", "-c", PROBE, expect.name, WHEELS_RECORD, ",".join(expect.forbidden_tools),
    ]
    code, output = _run(engine, ref, probe, expect.platform)
    try:
        facts: dict[str, Any] = json.loads(output.splitlines()[-1]) if code == 0 else {}
    except (ValueError, IndexError):
        facts = {}
    checks = [_check("probe", bool(facts), f"python3 probe failed (exit {code}): {output[-300:]}")]
    if facts:
        checks += fact_checks(facts, info, expect)
    code, output = _run(engine, ref, ["bash", "-c", "true"], expect.platform)
    checks.append(_check("shell", code == 0, f"bash -c true: exit {code}: {output[-300:]}"))
    if expect.app_command:
        code, output = _run(engine, ref, expect.app_command, expect.platform)
        command = " ".join(expect.app_command)
        checks.append(_check("app-command", code == 0, f"{command}: exit {code}: {output[-300:]}"))
    else:
        checks.append(Check("app-command", True, "no app-command configured", skipped=True))
    checks += app_checks(engine, ref, version=expect.version, commands=expect.smoke_commands,
                         health=expect.health_check, platform=expect.platform or None)
    return SmokeReport(ref, expect.flavour, tuple(checks), time.monotonic() - started, expect.platform)


def smoke_images(
    config: ReleaseConfig,
    results: Sequence[ImageResult],
    *,
    version: str,
    wheels: Sequence[Path],
    engine: Engine | None = None,
    on_report: Callable[[SmokeReport], None] | None = None,
) -> list[SmokeReport]:
    """Smoke every image; raise SmokeFailed (with all reports) when any check failed."""
    engine = engine or Engine()
    shas = wheel_files(wheels)
    reports = []
    for result in results:
        try:
            report = smoke_image(engine, result.ref, expected_for(config, result, str(version), shas))
        except ServiceError as exc:
            report = SmokeReport(result.ref, result.flavour, (Check("image", False, str(exc)),),
                                 platform=result.platform)
        reports.append(report)
        if on_report is not None:
            on_report(report)
    failed = [r for r in reports if not r.ok]
    if failed:
        lines = [f"{r.ref}: {c.name}: {c.detail}" for r in failed for c in r.failures]
        raise SmokeFailed("smoke test failed:\n" + "\n".join(lines), reports)
    return reports


def ship_images(
    config: ReleaseConfig,
    version: str,
    *,
    wheels: Sequence[Path],
    registry: str,
    push: bool = True,
    engine: Engine | None = None,
    progress: Progress = to_log,
    **build_options: Any,
) -> tuple[list[ImageResult], list[SmokeReport]]:
    """Build all flavours, smoke all, then push all: one failure anywhere and nothing is pushed."""
    engine = engine or Engine()
    results = build_images(config, version, wheels=wheels, registry=registry, engine=engine,
                           progress=progress, **build_options)

    several = {r.plan.platform for r in results if r.plan.index_tag}

    def on_report(report: SmokeReport) -> None:
        verdict = "ok" if report.ok else "FAILED " + ", ".join(c.name for c in report.failures)
        message = f"smoke {report.ref}: {verdict}"
        platform = report.platform if report.platform in several else ""
        progress(image_event(report.flavour, "smoked", message, elapsed=report.seconds, platform=platform))

    reports = smoke_images(config, results, version=str(version), wheels=wheels, engine=engine,
                           on_report=on_report)
    if push:
        results = push_images(results, engine=engine, progress=progress)
    return results, reports
