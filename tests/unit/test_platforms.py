# SPDX-License-Identifier: Apache-2.0
"""Platforms: the spellings, what each is called by Debian, qemu and the kernel; binfmt_misc entries."""

from __future__ import annotations

import pytest

from release import platforms
from release.adapters.binfmt import parse_entry
from release.sandbox.emulation import foreign


def test_each_supported_platform_knows_its_other_names() -> None:
    arm = platforms.info("linux/arm64")
    assert (arm.architecture, arm.debian, arm.machine, arm.qemu, arm.os, arm.suffix) == (
        "arm64", "arm64", "aarch64", "qemu-aarch64", "linux", "arm64")
    assert platforms.info("linux/amd64").machine == "x86_64"
    with pytest.raises(ValueError, match="'linux/riscv64' is not a supported platform"):
        platforms.info("linux/riscv64")


@pytest.mark.parametrize(("machine", "platform"), [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"),
                                                   ("arm64", "linux/arm64"), ("amd64", "linux/amd64")])
def test_the_host_platform_comes_from_the_machine_name(machine: str, platform: str) -> None:
    assert platforms.of_machine(machine) == platform
    assert platforms.host_platform(machine) == platform


def test_an_unknown_machine_falls_back_to_the_default_platform() -> None:
    with pytest.raises(ValueError, match="s390x"):
        platforms.of_machine("s390x")
    assert platforms.host_platform("s390x") == platforms.DEFAULT


def test_only_other_platforms_than_the_hosts_need_an_emulator() -> None:
    assert [p.name for p in foreign(["linux/amd64", "linux/arm64"], "linux/amd64")] == ["linux/arm64"]
    assert [p.name for p in foreign(["linux/amd64", "linux/arm64"], "linux/arm64")] == ["linux/amd64"]
    assert foreign(["linux/amd64"], "linux/amd64") == []


def test_a_binfmt_misc_entry_is_read_from_its_proc_file() -> None:
    text = ("enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n"
            "magic 7f454c460201010000000000000000000200b700\n")
    entry = parse_entry("qemu-aarch64", text)
    assert entry.enabled and entry.fixed_binary
    assert entry.interpreter == "/usr/libexec/qemu-binfmt/aarch64-binfmt-P"
    disabled = parse_entry("qemu-aarch64", "disabled\ninterpreter /usr/bin/qemu-aarch64\nflags: \n")
    assert not disabled.enabled and not disabled.fixed_binary


@pytest.mark.parametrize(
    ("platform", "host", "factor"),
    [("linux/arm64", "linux/amd64", platforms.EMULATION_FACTOR),
     ("linux/amd64", "linux/arm64", platforms.EMULATION_FACTOR),
     ("linux/amd64", "linux/amd64", 1), ("linux/arm64", "linux/arm64", 1), ("", "linux/amd64", 1)],
)
def test_smoke_timeouts_grow_only_for_another_platform_than_the_hosts(platform: str, host: str,
                                                                      factor: int) -> None:
    assert platforms.timeout_factor(platform, host) == factor
    assert platforms.emulated(platform, host) is (factor != 1)


def test_emulation_makes_the_timeouts_long_enough_for_a_slow_start() -> None:
    # `release-pipeline --version` took over 120 s under qemu, where the timeout was 120 s
    assert platforms.EMULATION_FACTOR * 120 >= 600


def test_the_output_names_the_factor_and_why() -> None:
    note = platforms.timeout_note("linux/arm64", "linux/amd64")
    assert note == (f"timeouts x{platforms.EMULATION_FACTOR}: linux/arm64 runs under emulation "
                    "(qemu-aarch64) on this linux/amd64 machine")
    assert platforms.timeout_note("linux/amd64", "linux/amd64") == ""
    assert platforms.timeout_note("", "linux/amd64") == ""
