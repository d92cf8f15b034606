# SPDX-License-Identifier: Apache-2.0
"""Whole releases of the sample app on a real sandbox: tags, `latest` ownership, faults, resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git
from release_helpers import SampleRelease

from release import sandbox
from release.errors import RefusedError, ReleaseError
from release.pipeline.release import ReleaseReport
from release.record import sha256_of
from release.steps.publish import upload_packages

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]
HISTORY = ("1.10.6", "2.0.0rc1", "2.0.0", "1.10.7")


@dataclass
class History:
    """A sample that released HISTORY in order, with what the registry and index held after each."""

    sample: SampleRelease
    reports: dict[str, ReleaseReport] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # version -> tag -> digest
    index: dict[str, dict[str, str | None]] = field(default_factory=dict)  # version -> file -> sha256


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Every test here reads this release history and leaves it as it found it; a test that
    changes the sample or its services makes its own (see `refused`)."""
    found = History(SampleRelease.create(tmp_path_factory.mktemp("release") / "sample"))
    try:
        for version in HISTORY:
            found.reports[version] = found.sample.release(version)
            found.tags[version] = found.sample.tag_digests()
            found.index[version] = found.sample.index().hashes("sample-app")
        yield found
    finally:
        sandbox.down(found.sample.root)


def digest_of_flavour(tags: dict[str, str], version: str, flavour: str) -> str:
    return tags[f"{version}-python{flavour}"]


def assert_aliases(tags: dict[str, str], alias: str, version: str) -> None:
    """`alias` and `alias-pythonP` point where `version`'s tags point, flavour by flavour."""
    for flavour in ("3.11", "3.13"):
        assert tags[f"{alias}-python{flavour}"] == tags[f"{version}-python{flavour}"], (alias, flavour)
    assert tags[alias] == tags[f"{version}-python3.11"]


def test_patch_then_rc_then_final_then_older_line(history: History) -> None:
    root = history.sample.root
    tags = history.tags["1.10.6"]
    assert set(history.reports["1.10.6"].images) == {"1.10.6-python3.11", "1.10.6-python3.13"}
    constraints = root / "dist" / "1.10.6" / "constraints"
    assert sorted(p.name for p in constraints.iterdir()) == [
        f"constraints-{p}.txt{suffix}" for p in ("3.11", "3.13") for suffix in ("", ".asc", ".sha512")]
    assert "sample-app==1.10.6" in (constraints / "constraints-3.11.txt").read_text().splitlines()
    assert tags["1.10.6"] == tags["1.10.6-python3.11"]
    assert_aliases(tags, "latest", "1.10.6")
    assert_aliases(tags, "1.10", "1.10.6")
    dist = root / "dist" / "1.10.6" / "pypi"
    assert {p.name: sha256_of(p) for p in dist.iterdir()} == history.index["1.10.6"]
    assert (root / "dist" / "1.10.6" / "release.json.asc").is_file()

    after_rc = history.tags["2.0.0rc1"]
    assert "2.0.0rc1-python3.13" in after_rc and "2.0.0rc1" in after_rc
    assert "2.0" not in after_rc
    assert after_rc["latest"] == tags["latest"], "an RC must never move latest"
    # the sample releases finals in one command (vote = "none"): its candidate gets a call to test it
    assert (root / "dist" / "2.0.0rc1" / "candidate-email.txt").is_file()

    after_final = history.tags["2.0.0"]
    assert_aliases(after_final, "latest", "2.0.0")
    assert_aliases(after_final, "2.0", "2.0.0")
    assert_aliases(after_final, "1.10", "1.10.6")

    after_patch = history.tags["1.10.7"]
    assert_aliases(after_patch, "1.10", "1.10.7")
    assert after_patch["latest"] == after_final["latest"], "an older-line patch must never move latest"
    assert after_patch["2.0"] == after_final["2.0"]
    assert set(history.reports["1.10.7"].to_json()["moved"]) == {"1.10", "1.10-python3.11", "1.10-python3.13"}


def test_dry_run_shows_which_tags_would_move_and_changes_nothing(history: History) -> None:
    sample = history.sample
    before = sample.tag_digests()
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), "release", "--version", "1.10.8",
         "--dry-run", "--json"],
        cwd=sample.root, env={**os.environ, "RELEASE_ROOT": str(sample.root)},
        capture_output=True, text=True, timeout=300,
    )
    # the tree is 1.10.7's: a real run would refuse it, so the dry run names that and exits 6
    assert result.returncode == 6, result.stderr
    plan = json.loads(result.stdout)
    assert [p["check"] for p in plan["problems"]] == ["version", "changelog"]
    assert plan["version"] == "1.10.8"
    tags = {t["tag"]: t for t in plan["tags"]}
    assert tags["1.10.8"]["python"] == "3.11" and tags["1.10-python3.13"]["python"] == "3.13"
    assert "latest" not in tags, "2.0.0 is released, so 1.10.8 must not take latest"
    change = tags["1.10-python3.13"]
    assert (change["current_digest"], change["action"]) == (before["1.10-python3.13"], "move")
    assert change["source"] == "1.10.8-python3.13"
    assert tags["1.10.8"]["action"] == "create"
    assert any("declares version 1.10.7" in w for w in plan["warnings"])
    assert sample.tag_digests() == before
    assert not (sample.root / "dist" / "1.10.8").exists()


def test_rerun_of_a_finished_release_changes_nothing(history: History) -> None:
    sample = history.sample
    before = sample.tag_digests()
    hashes = sample.index().hashes("sample-app")
    sample.lines.clear()
    report = sample.release("1.10.7")
    assert sample.tag_digests() == before
    assert sample.index().hashes("sample-app") == hashes
    assert report.to_json()["moved"] == {}
    assert any("already on the index with the same sha256" in line for line in sample.lines)


def test_reusing_a_version_with_other_content_is_refused_by_the_index(
    history: History, tmp_path: Path
) -> None:
    sample = history.sample
    wheel = next((sample.root / "dist" / "1.10.6" / "pypi").glob("*.whl"))
    impostor = tmp_path / wheel.name
    impostor.write_bytes(wheel.read_bytes() + b"\0")
    with pytest.raises(RefusedError, match="different content"):
        upload_packages(sample.index(), "sample-app", [impostor])
    assert sample.index().hashes("sample-app")[wheel.name] == sha256_of(wheel)


@pytest.fixture
def refused(tmp_path: Path) -> Iterator[SampleRelease]:
    """A sample of its own that released 1.10.6 for one flavour: the test changes its code."""
    sample = SampleRelease.create(tmp_path / "sample", flavours=("3.11",))
    try:
        sample.release("1.10.6")
        yield sample
    finally:
        sandbox.down(sample.root)


def test_reusing_a_version_with_other_content_is_refused_by_the_registry(refused: SampleRelease) -> None:
    before = refused.tag_digests()
    (refused.root / "sample_app" / "notes.py").write_text("CHANGED = True\n")
    git(refused.root, "add", "sample_app/notes.py")
    git(refused.root, "commit", "-qm", "Change the code but keep the version")
    (refused.root / "dist" / "1.10.6").rename(refused.root / "dist" / "1.10.6.first")
    with pytest.raises(ReleaseError, match="already in the registry") as caught:
        refused.release("1.10.6")
    assert caught.value.exit_code == 6  # RefusedError
    assert refused.tag_digests() == before
