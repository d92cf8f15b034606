# SPDX-License-Identifier: Apache-2.0
"""Locks between runs of one checkout: one run per version, one alias mover at a time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from release import locks
from release.errors import RefusedError


def test_a_second_run_of_a_version_is_refused_at_once(tmp_path: Path) -> None:
    directory = tmp_path / "dist" / "1.10.6"
    refusal = r"^another run of 1\.10\.6 holds dist/1\.10\.6; wait for it$"
    with locks.release_run(directory, "1.10.6"):
        with pytest.raises(RefusedError, match=refusal) as caught, locks.release_run(directory, "1.10.6"):
            pass
        assert caught.value.exit_code == 6
        with locks.release_run(tmp_path / "dist" / "1.10.7", "1.10.7"):  # another version runs alongside
            pass
    with locks.release_run(directory, "1.10.6"):  # released with its holder
        pass


def test_an_alias_mover_waits_for_the_one_moving_now(tmp_path: Path) -> None:
    order: list[str] = []
    said: list[str] = []
    holding, waited = threading.Event(), threading.Event()

    def second() -> None:
        holding.wait()
        with locks.aliases(tmp_path / "dist", lambda line: (said.append(line), waited.set())):
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with locks.aliases(tmp_path / "dist", said.append):
        holding.set()
        assert waited.wait(10)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
    assert said == ["waiting for another run moving this project's aliases (dist/.aliases.lock)"]


def test_a_machine_lock_waits_for_its_holder_and_says_so_once(tmp_path: Path) -> None:
    order: list[str] = []
    said: list[str] = []
    holding, waited = threading.Event(), threading.Event()

    def second() -> None:
        holding.wait()
        with locks.machine("base-0123abcd", lambda line: (said.append(line), waited.set()),
                           what="building base image python:3.11", folder=tmp_path):
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with locks.machine("base-0123abcd", said.append, folder=tmp_path):
        holding.set()
        assert waited.wait(10)
        with locks.machine("apt", said.append, folder=tmp_path):  # another name does not wait
            order.append("apt")
        order.append("first")
    thread.join(10)
    assert order == ["apt", "first", "second"]
    assert said == ["waiting for another process building base image python:3.11 on this machine"]


def test_a_machine_lock_s_file_is_named_from_safe_characters_only(tmp_path: Path) -> None:
    assert locks.machine_lock_path("base-ab/../cd", tmp_path) == tmp_path / "base-ab-..-cd.lock"
    assert locks.machine_lock_path("///", tmp_path) == tmp_path / "lock.lock"
    assert locks.machine_lock_path("apt").parent.name == locks.MACHINE_LOCKS
