# SPDX-License-Identifier: Apache-2.0
"""A final promoted on another machine, taken from svn release/ by a runner that has no dist/: the
two-distribution sample (an app and its SDK at a version of its own), against a real svn repository,
a real keyring and real git tags."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git, make_sample_repo
from vote_fixtures import make_svn, shared_keyring

from release.config import load_config
from release.errors import RefusedError
from release.pipeline.recording import record_taken
from release.record import load_record, release_dir
from release.steps.build import build_release
from release.steps.promote import TakenRelease, take_released
from release.steps.sign import sign_files
from release.steps.verify import check_release_folder
from release.versions import parse_version

RC, FINAL = parse_version("1.10.6rc1"), parse_version("1.10.6")


def promoted_elsewhere(tmp_path: Path) -> tuple[Path, str, str]:
    """(a fresh clone with the tags, the svn release URL, the KEYS URL) after the release manager
    built, signed and promoted 1.10.6rc1 of the sample with its SDK on their machine."""
    keyring = shared_keyring()
    manager = make_sample_repo(tmp_path / "manager", fixture="sample-multi")
    built = build_release(load_config(manager), RC)
    voted = sorted((built.directory / "svn").iterdir())
    sign_files(voted, built.directory, key=keyring.fingerprint, gnupghome=keyring.home)
    (tmp_path / "svn").mkdir()
    repo = make_svn(tmp_path / "svn", "sample-app", keyring.keys_file.read_text())
    folder = built.directory / "svn"
    (folder / "release.json").write_text("{}\n")  # what a publish puts beside the voted files later
    subprocess.run(["svn", "import", "--non-interactive", "-m", "Release 1.10.6", str(folder),
                    f"{repo.release_url}/sample-app/{FINAL}"], check=True, capture_output=True)
    git(manager, "tag", "-a", "-m", "rc1", str(RC))
    git(manager, "tag", "-a", "-m", "final", str(FINAL))
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(manager), str(runner))
    return runner, repo.release_url, repo.keys_url("sample-app")


def take(root: Path, release_url: str, keys_url: str) -> TakenRelease:
    """The files taken, and recorded in dist/<V>/ as the pipeline's from-release step records them."""
    config = load_config(root)
    taken = take_released(config, FINAL, svn_release_url=release_url, keys_url=keys_url,
                          check=lambda folder, keys: check_release_folder(folder, config, str(FINAL), keys))
    record_taken(load_record(release_dir(root, str(FINAL)), str(FINAL)), taken)
    return taken


def test_a_two_distribution_final_is_taken_with_each_ones_version_and_nothing_else(tmp_path: Path) -> None:
    root, release_url, keys_url = promoted_elsewhere(tmp_path)
    taken = take(root, release_url, keys_url)
    assert taken.from_rc == str(RC) and taken.left_alone == ("release.json",)
    record = load_record(release_dir(root, str(FINAL)), str(FINAL))
    assert record.distributions() == {"sample-app": "1.10.6", "sample-app-sdk": "0.3.0"}
    assert sorted(p.name for p in record.wheels()) == ["sample_app-1.10.6-py3-none-any.whl",
                                                       "sample_app_sdk-0.3.0-py3-none-any.whl"]
    assert record.promotion is not None and record.promotion.taken_from_release
    assert record.build is not None and record.build.commit == git(root, "rev-parse", "HEAD")
    again = take(root, release_url, keys_url)  # a rerun takes the same files again
    assert again.files == taken.files


def test_a_runner_whose_head_left_the_final_tag_is_refused(tmp_path: Path) -> None:
    root, release_url, keys_url = promoted_elsewhere(tmp_path)
    (root / "LATER.txt").write_text("after the release\n")
    git(root, "add", "LATER.txt")
    git(root, "-c", "user.name=x", "-c", "user.email=x@example.org", "commit", "-qm", "Later")
    moved = r"HEAD is [0-9a-f]{12}, not [0-9a-f]{12} where git tag 1\.10\.6 is"
    with pytest.raises(RefusedError, match=moved):
        take(root, release_url, keys_url)
    assert not (root / "dist").exists()
