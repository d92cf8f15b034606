# SPDX-License-Identifier: Apache-2.0
"""Runs at the same time (security review): `latest` and `X.Y` never move backwards, and two runs of one
version never both write its record, nor do a run and `vote-result`, `withdraw` or `constraints` of
that version. Real releases on a real sandbox; a run is held at a chosen step through the progress
callable it is given (a seam, nothing is patched)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from release_helpers import SampleRelease
from vote_fixtures import staged_hours_ago

from release import locks, sandbox
from release.identity import ImageId
from release.pipeline.release import ReleaseReport, RunOptions, run_release
from release.plan.release import TagAction, TagChange
from release.progress import Event
from release.record import load_record, release_dir
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


def invoke_in(sample: SampleRelease, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
                          cwd=sample.root, env={**os.environ, "RELEASE_ROOT": str(sample.root)},
                          capture_output=True, text=True, timeout=600)


def test_a_vote_result_while_a_run_of_the_candidate_writes_its_record_loses_nothing(
        sample: SampleRelease, tmp_path: Path) -> None:
    """A rerun of the candidate holds the record it loaded while its images step runs; counting the
    vote then is refused at once (before, the count was recorded and the run's save dropped it)."""
    rc = "1.3.0rc1"
    sample.set_vote("asf")  # a vote is counted only for a project that votes
    try:
        _vote_result_during_a_rerun(sample, rc, tmp_path)
    finally:
        sample.set_vote("none")


def _vote_result_during_a_rerun(sample: SampleRelease, rc: str, tmp_path: Path) -> None:
    sample.release(rc)
    directory = release_dir(sample.root, rc)
    opened = staged_hours_ago(directory, rc, 96)
    votes = tmp_path / "votes.txt"
    votes.write_text("".join(f"+1 {who}@sample.invalid {(opened + timedelta(hours=h)).isoformat()}\n"
                             for who, h in (("jane", 1), ("joe", 2), ("ann", 73))))
    held, go_on = threading.Event(), threading.Event()
    in_images = []

    def hold_inside_the_images_step(line: str) -> None:
        if line == "==> images":
            in_images.append(line)
        elif in_images and not line.startswith("==>") and not held.is_set():
            held.set()  # the step has read the record and will save it when its images are checked
            assert go_on.wait(WAIT), "the test never let the run go on"

    rerun = Run(sample, rc, hold_inside_the_images_step)
    rerun.start()
    try:
        assert held.wait(WAIT), f"{rc} never reached its images: {rerun.error or rerun.lines[-5:]}"
        during = invoke_in(sample, "vote-result", "--version", rc, "--votes", str(votes))
    finally:
        go_on.set()
    rerun.join(WAIT)
    assert rerun.error is None, f"{rc}: {rerun.error}"
    if during.returncode == 0:
        assert load_record(directory, rc).vote_result is not None, "the run dropped the vote result"
    assert during.returncode == 6, during.stderr
    refusal = f"error: another run of {rc} holds dist/{rc}; wait for it"
    assert during.stderr.strip().splitlines()[-1] == refusal
    assert load_record(directory, rc).vote_result is None

    after = invoke_in(sample, "vote-result", "--version", rc, "--votes", str(votes))
    assert after.returncode == 0, after.stderr
    record = load_record(directory, rc)
    assert record.vote_result is not None and record.vote_result.passed
    assert record.is_done("images") and record.is_done("report")  # the run's writes are all there
    subprocess.run(["gpg", "--homedir", str(sample.services().gnupghome), "--batch", "--verify",
                    f"{record.path}.asc", str(record.path)], check=True, capture_output=True)


def test_withdraw_and_constraints_are_refused_while_a_run_of_the_version_holds_it(
        sample: SampleRelease) -> None:
    directory = release_dir(sample.root, "1.0.0")
    tags, record = sample.tag_digests(), (directory / "release.json").read_bytes()
    with locks.release_run(directory, "1.0.0"):
        refused = [invoke_in(sample, "withdraw", "--version", "1.0.0", "--reason", "a test of the lock"),
                   invoke_in(sample, "constraints", "--version", "1.0.0")]
    for result in refused:
        assert result.returncode == 6, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last == "error: another run of 1.0.0 holds dist/1.0.0; wait for it"
    assert sample.tag_digests() == tags, "a refused withdrawal moved a tag"
    assert (directory / "release.json").read_bytes() == record
