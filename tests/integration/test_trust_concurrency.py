# SPDX-License-Identifier: Apache-2.0
"""Runs at the same time (security review): `latest` and `X.Y` never move backwards, and two runs of one
version never both write its record. Real releases on a real sandbox; the first run is held right
before its aliases move through the progress callable it is given (a seam, nothing is patched)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from conftest import REPO_ROOT
from release_helpers import SampleRelease

from release import locks, sandbox
from release.identity import ImageId
from release.pipeline.release import ReleaseReport, RunOptions, run_release
from release.plan.release import TagAction, TagChange
from release.progress import Event
from release.record import release_dir
from release.steps.tags import apply_changes
from release.versions import parse_version

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]
WAIT = 900.0  # seconds a release may take on a busy machine; only ever a limit, never measured


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRelease]:
    found = SampleRelease.create(tmp_path_factory.mktemp("race") / "sample", flavours=("3.11",))
    found.release("1.0.0")
    yield found
    sandbox.down(found.root)


class Run(threading.Thread):
    """One release in a thread, with its own progress lines."""

    def __init__(self, sample: SampleRelease, version: str, on_line: Callable[[str], None]) -> None:
        super().__init__(daemon=True)
        self.sample, self.version, self.on_line = sample, version, on_line
        self.lines: list[str] = []
        self.report: ReleaseReport | None = None
        self.error: BaseException | None = None

    def say(self, item: str | Event) -> None:
        self.lines.append(str(item))
        self.on_line(str(item))

    def run(self) -> None:
        try:
            self.report = run_release(self.sample.config, parse_version(self.version), self.sample.target(),
                                      RunOptions(flavours=("3.11",)), say=self.say,
                                      announce=lambda name, does: self.say(f"==> {name}"))
        except BaseException as exc:  # handed to the test
            self.error = exc


def test_the_older_of_two_racing_releases_never_takes_latest_back(sample: SampleRelease) -> None:
    sample.set_version("1.1.0")
    held, go_on = threading.Event(), threading.Event()
    in_aliases = []

    def hold_before_the_aliases_move(line: str) -> None:
        if line == "==> aliases":
            in_aliases.append(line)
        elif in_aliases and not held.is_set():  # its first word in the step: the aliases are decided
            held.set()
            assert go_on.wait(WAIT), "the test never let the first release go on"

    first = Run(sample, "1.1.0", hold_before_the_aliases_move)
    first.start()
    assert held.wait(WAIT), f"1.1.0 never reached its aliases: {first.error or first.lines[-5:]}"

    sample.set_version("1.2.0")  # 1.1.0 is built: the checkout moves on to the next release
    waiting = threading.Event()
    second = Run(sample, "1.2.0",
                 lambda line: waiting.set() if line.startswith("waiting for another run") else None)
    second.start()
    while not waiting.is_set() and second.is_alive():
        waiting.wait(1.0)
    go_on.set()
    for run in (first, second):
        run.join(WAIT)
        assert run.error is None, f"{run.version}: {run.error}"

    tags = sample.tag_digests()
    assert tags["latest"] == tags["latest-python3.11"] == tags["1.2.0-python3.11"], "latest moved backwards"
    assert tags["1.2"] == tags["1.2.0-python3.11"] and tags["1.1"] == tags["1.1.0-python3.11"]
    assert waiting.is_set(), "the second release never waited for the first one's aliases"


def test_an_alias_on_a_higher_release_is_left_there_by_the_tag_mover(sample: SampleRelease) -> None:
    """Runs from other checkouts share no lock: the re-check right before an alias moves holds."""
    tags = sample.tag_digests()
    older, newest = tags["1.0.0-python3.11"], tags["latest"]
    assert older != newest
    lines: list[str] = []
    change = TagChange("latest", ImageId("3.11"), True, TagAction.MOVE, newest, "1.0.0-python3.11")
    [entry] = apply_changes(sample.registry(), sample.config.image, [change], {"1.0.0-python3.11": older},
                            version=parse_version("1.0.0"), progress=lambda line: lines.append(str(line)))
    assert sample.tag_digests()["latest"] == newest
    assert entry.action == "skip" and entry.digest == newest
    assert any("never moves backwards" in line for line in lines)


def test_a_second_run_of_the_same_version_is_refused_at_once(sample: SampleRelease) -> None:
    directory = release_dir(sample.root, "1.2.0")
    with locks.release_run(directory, "1.2.0"):
        result = subprocess.run(
            [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), "release", "--version",
             "1.2.0"],
            cwd=sample.root, env={**os.environ, "RELEASE_ROOT": str(sample.root)}, capture_output=True,
            text=True, timeout=600,
        )
    assert result.returncode == 6, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == "error: another run of 1.2.0 holds dist/1.2.0; wait for it"
    assert "Traceback" not in result.stderr
