# SPDX-License-Identifier: Apache-2.0
"""The image smoke test: verdicts from the probe's facts, one container per image, flavours smoked
at once, PID 1 (also under emulation) and the image's platform. Over a fake engine; pure."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from release import platforms
from release.adapters.engine import Engine, ImageInfo, RunResult
from release.config import HealthCheck, SmokeCommand, parse_config
from release.identity import ImageId
from release.plan.images import WHEEL_SHA256_LABEL, WHEELS_RECORD, ImageSource, WheelFile
from release.steps.images import ImageResult, ImageStatus
from release.steps.smoke import (
    APP_COMMAND_TIMEOUT,
    Expected,
    SmokeFailed,
    fact_checks,
    init_of,
    smoke_image,
    smoke_images,
)
from tests.unit.planning import planned_image

SHA = "a" * 64
WHEEL = "sample_app-1.10.6-py3-none-any.whl"
LABELS = {WHEEL_SHA256_LABEL: SHA, "org.opencontainers.image.version": "1.10.6"}
INIT = ("/opt/venv/bin/dumb-init", "--")
INFO = ImageInfo("sha256:" + "1" * 64, 1000, LABELS, (), "50000:0", INIT, ("bash",))
EXPECT = Expected(image=ImageId("3.11"), name="sample-app", version="1.10.6", wheels={WHEEL: SHA},
                  labels=LABELS, app_command=("sample-app",))


def facts(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "python": "3.11", "uid": 50000, "version": "1.10.6", "wheels": f"{SHA}  {WHEEL}\n",
        "pip_check": [0, "No broken requirements found."], "tools": {"gcc": None, "node": None},
        "pid1": "/opt/venv/bin/dumb-init", "shell": [0, ""], "app_command": [0, "sample-app 1.10.6"],
        "seconds": {"facts": 0.01, "pip_check": 0.5, "shell": 0.02, "app_command": 0.25},
    }
    found.update(changes)
    return found


def verdicts(checks: Sequence[Any]) -> dict[str, bool]:
    return {c.name: c.ok for c in checks}


def test_every_generic_check_passes_on_good_facts_and_carries_its_time() -> None:
    checks = fact_checks(facts(), INFO, EXPECT)
    names = ("python", "version", "wheel-sha256", "pip-check", "user", "no-build-tools", "no-headers",
             "shared-libs", "init", "labels", "shell", "app-command")
    assert verdicts(checks) == dict.fromkeys(names, True)
    seconds = {c.name: c.seconds for c in checks}
    assert (seconds["pip-check"], seconds["shell"], seconds["app-command"]) == (0.5, 0.02, 0.25)


def test_the_shell_and_the_app_command_fail_with_their_exit_and_output() -> None:
    found = facts(shell=[127, "bash: not found"], app_command=[2, "Traceback\nImportError: x"])
    checks = {c.name: c for c in fact_checks(found, INFO, EXPECT)}
    assert not checks["shell"].ok and "exit 127" in checks["shell"].detail
    app = checks["app-command"]
    assert not app.ok
    assert "sample-app: exit 2" in app.detail and "ImportError" in app.detail


def test_without_an_app_command_that_check_is_skipped() -> None:
    expect = Expected(**{**EXPECT.__dict__, "app_command": ()})
    (check,) = [c for c in fact_checks(facts(app_command=None), INFO, expect) if c.name == "app-command"]
    assert check.ok and check.skipped


class FakeEngine(Engine):
    """Answers `run` from a function of the command; records every call."""

    def __init__(self, answer: Callable[[Sequence[str]], RunResult]) -> None:
        super().__init__(factory=lambda: pytest.fail("the fake engine must not connect"))
        self.answer = answer
        self.calls: list[tuple[str, ...]] = []
        self.timeouts: list[float] = []

    def inspect(self, ref: str) -> ImageInfo | None:
        return INFO

    def run(
        self, image: str, command: Sequence[str], *, user: str | None = None,
        entrypoint: Sequence[str] | None = None, network_mode: str = "none", timeout: float = 120,
        platform: str | None = None,
    ) -> RunResult:
        self.calls.append(tuple(command))
        self.timeouts.append(timeout)
        return self.answer(command)


def probe_answers(command: Sequence[str]) -> RunResult:
    assert command[:2] == ["python3", "-c"]
    return RunResult(0, "some warning\n" + json.dumps(facts()) + "\n", "")


def test_the_generic_checks_of_one_image_take_one_container() -> None:
    engine = FakeEngine(probe_answers)
    report = smoke_image(engine, "reg/app:1.10.6-python3.11", EXPECT)
    assert report.ok, report.failures
    (probe,) = engine.calls
    assert probe[3:8] == ("sample-app", WHEELS_RECORD, "node,npm,gcc,cc,c++,g++,clang",
                          "/usr/include,/usr/local/include", "120")
    assert probe[8:] == ("sample-app",)  # the app command runs inside the probe
    assert [c.name for c in report.checks][:2] == ["probe", "python"]
    assert {"shell", "app-command", "commands", "health"} <= {c.name for c in report.checks}


def test_another_platforms_image_gets_its_timeouts_multiplied_and_says_so() -> None:
    factor = platforms.EMULATION_FACTOR
    checks = {"smoke_commands": (SmokeCommand(("sample-app", "--help"), timeout=30),),
              "health_check": HealthCheck(("sample-app", "serve"), "http://127.0.0.1:8080/", timeout=40)}
    native = FakeEngine(lambda c: RunResult(0, json.dumps(facts()) + "\n", ""))
    at_home = smoke_image(native, "reg/app:1", Expected(**{**EXPECT.__dict__, **checks,
                                                          "platform": "linux/amd64", "host": "linux/amd64"}))
    emulated = FakeEngine(lambda c: RunResult(0, json.dumps(facts()) + "\n", ""))
    arm64 = Expected(**{**EXPECT.__dict__, **checks, "platform": "linux/arm64", "host": "linux/amd64"})
    report = smoke_image(emulated, "reg/app:1-arm64", arm64)
    assert at_home.timeouts == "" and "timeouts" not in at_home.as_record()
    assert report.timeouts == platforms.timeout_note("linux/arm64", "linux/amd64")
    assert report.as_record()["timeouts"].startswith(f"timeouts x{factor}: linux/arm64 runs under emulation")
    assert emulated.timeouts == [t * factor for t in native.timeouts]
    assert native.timeouts[0] == APP_COMMAND_TIMEOUT * 3 + 60
    # the probe's own limit for the shell and the app command, and the health watcher's wait
    assert emulated.calls[0][7] == str(APP_COMMAND_TIMEOUT * factor) and native.calls[0][7] == "120"
    assert emulated.calls[-1][4] == str(40 * factor) and native.calls[-1][4] == "40"


def test_without_a_probe_the_shell_and_app_command_still_get_verdicts() -> None:
    def no_python(command: Sequence[str]) -> RunResult:
        if command[0] == "python3":
            return RunResult(127, "", "exec: python3: not found")
        return RunResult(0, "ok", "") if command[0] == "bash" else RunResult(1, "", "boom")

    engine = FakeEngine(no_python)
    report = smoke_image(engine, "reg/app:1", EXPECT)
    assert verdicts(report.checks) == {"probe": False, "shell": True, "app-command": False, "commands": True,
                                       "health": True}
    assert [c[0] for c in engine.calls] == ["python3", "bash", "sample-app"]


def image_result(flavour: str) -> ImageResult:
    source = ImageSource(name="sample-app", version="1.10.6", title="Sample App",
                         wheels=(WheelFile(WHEEL, SHA),), dockerfile_sha256="d" * 64)
    planned = planned_image(source, flavour=flavour, registry="reg", image="app", base_image="b",
                            base_digest="sha256:" + "0" * 64)
    return ImageResult(planned, ImageStatus.BUILT)


def test_flavours_are_smoked_at_the_same_time_and_reported_in_order(tmp_path: Path) -> None:
    both_running = threading.Barrier(2, timeout=30)  # broken unless two probes run at once

    def together(command: Sequence[str]) -> RunResult:
        both_running.wait()
        return RunResult(1, "", "failing on purpose")

    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"wheel")
    config = parse_config(tmp_path, {"name": "sample-app", "python": ["3.11", "3.13"]})
    seen: list[str] = []
    with pytest.raises(SmokeFailed) as caught:
        smoke_images(config, [image_result("3.11").planned, image_result("3.13").planned], version="1.10.6",
                     wheels=[wheel], engine=FakeEngine(together),
                     on_report=lambda found: seen.append(found.image.flavour), jobs=2)
    assert [r.image.flavour for r in caught.value.reports] == ["3.11", "3.13"]
    assert sorted(seen) == ["3.11", "3.13"]


# --------------------------------------------------------------------------- PID 1 and the platform

DUMB_INIT = "/opt/venv/bin/dumb-init"


def test_pid1_is_the_first_word_of_its_command_line() -> None:
    assert init_of([DUMB_INIT, "--", "bash"]) == "dumb-init"
    assert init_of(DUMB_INIT) == "dumb-init"  # an older probe's single string
    assert init_of(None) == "" and init_of([]) == ""


def test_under_emulation_the_emulator_in_front_of_pid1_is_looked_through() -> None:
    assert init_of(["/usr/libexec/qemu-binfmt/aarch64-binfmt-P", DUMB_INIT, DUMB_INIT]) == "dumb-init"
    assert init_of(["/usr/bin/qemu-aarch64-static", DUMB_INIT, "--"]) == "dumb-init"
    assert init_of(["/usr/bin/qemu-aarch64", "/bin/sh", "-c"]) == "sh"
    assert init_of(["/bin/bash", DUMB_INIT]) == "bash"  # only an emulator is looked through


def probe_facts(**changes: Any) -> dict[str, Any]:
    return {"python": "3.11", "version": "1.0", "wheels": "", "pip_check": [0, ""], "uid": 50000,
            "tools": {}, "pid1": [DUMB_INIT, "--"], "machine": "aarch64", **changes}


def image_info(architecture: str) -> ImageInfo:
    return ImageInfo("sha256:x", 1, {}, (), "50000:0", (), (), architecture=architecture, os="linux")


def by_name(found: list[Any]) -> dict[str, Any]:
    return {c.name: c for c in found}


def test_the_platform_check_wants_the_config_and_the_running_machine_to_be_the_platforms() -> None:
    expect = Expected(ImageId("3.11"), "app", "1.0", {}, {}, platform="linux/arm64")
    assert by_name(fact_checks(probe_facts(), image_info("arm64"), expect))["platform"].ok
    wrong = by_name(fact_checks(probe_facts(machine="x86_64"), image_info("amd64"), expect))["platform"]
    assert not wrong.ok
    assert wrong.detail == "the image is linux/amd64 and runs as 'x86_64'; expected linux/arm64 (aarch64)"
    assert not by_name(fact_checks(probe_facts(), image_info("amd64"), expect))["platform"].ok
    anywhere = Expected(ImageId("3.11"), "app", "1.0", {}, {})
    assert "platform" not in by_name(fact_checks(probe_facts(), image_info("arm64"), anywhere))
