"""The smoke test's pure checks: PID 1 (also under emulation) and the image's platform."""

from __future__ import annotations

from typing import Any

from release.adapters.engine import ImageInfo
from release.steps.smoke import Expected, fact_checks, init_of

INIT = "/opt/venv/bin/dumb-init"


def test_pid1_is_the_first_word_of_its_command_line() -> None:
    assert init_of([INIT, "--", "bash"]) == "dumb-init"
    assert init_of(INIT) == "dumb-init"  # an older probe's single string
    assert init_of(None) == "" and init_of([]) == ""


def test_under_emulation_the_emulator_in_front_of_pid1_is_looked_through() -> None:
    assert init_of(["/usr/libexec/qemu-binfmt/aarch64-binfmt-P", INIT, INIT]) == "dumb-init"
    assert init_of(["/usr/bin/qemu-aarch64-static", INIT, "--"]) == "dumb-init"
    assert init_of(["/usr/bin/qemu-aarch64", "/bin/sh", "-c"]) == "sh"
    assert init_of(["/bin/bash", INIT]) == "bash"  # only an emulator is looked through


def facts(**changes: Any) -> dict[str, Any]:
    return {"python": "3.11", "version": "1.0", "wheels": "", "pip_check": [0, ""], "uid": 50000,
            "tools": {}, "pid1": [INIT, "--"], "machine": "aarch64", **changes}


def info(architecture: str) -> ImageInfo:
    return ImageInfo("sha256:x", 1, {}, (), "50000:0", (), (), architecture=architecture, os="linux")


def by_name(found: list[Any]) -> dict[str, Any]:
    return {c.name: c for c in found}


def test_the_platform_check_wants_the_config_and_the_running_machine_to_be_the_platforms() -> None:
    expect = Expected("3.11", "app", "1.0", {}, {}, platform="linux/arm64")
    assert by_name(fact_checks(facts(), info("arm64"), expect))["platform"].ok
    wrong = by_name(fact_checks(facts(machine="x86_64"), info("amd64"), expect))["platform"]
    assert not wrong.ok
    assert wrong.detail == "the image is linux/amd64 and runs as 'x86_64'; expected linux/arm64 (aarch64)"
    assert not by_name(fact_checks(facts(), info("amd64"), expect))["platform"].ok  # config says otherwise
    anywhere = Expected("3.11", "app", "1.0", {}, {})
    assert "platform" not in by_name(fact_checks(facts(), info("arm64"), anywhere))
