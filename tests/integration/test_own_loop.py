# SPDX-License-Identifier: Apache-2.0
"""This repository through its own vote loop, as an ASF project would release it: a clone of the
commit under test, its changelog's Unreleased section named for 0.1.0 (what a release manager
commits first), and a profile that is its own [tool.release] with `vote = "asf"`, a PMC, and one
flavour. Candidate (its own PMC checks pass), verify with a rebuild, vote-result from a thread,
promote, publish, announce, all into the sandbox; the tool's own image then runs the tool."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git
from vote_fixtures import Mail, staged_hours_ago, vote_thread

from release import __version__, sandbox
from release.adapters.index import PackageIndex
from release.record import sha256_of

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]
FINAL = __version__
RC = f"{FINAL}rc1"
PMC = ["Jane <jane@release-pipeline.invalid>", "Joe <joe@release-pipeline.invalid>",
       "Ann <ann@release-pipeline.invalid>"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the clone, its profile): HEAD of this repository with the release's changelog section."""
    root = tmp_path_factory.mktemp("own") / "release-pipeline"
    git(root.parent, "clone", "-q", str(REPO_ROOT), str(root))
    git(root, "config", "user.email", "rm@release-pipeline.invalid")
    git(root, "config", "user.name", "Release Manager")
    changelog = root / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## [Unreleased]", f"## [{FINAL}] - 2026-12-07", 1))
    git(root, "commit", "-qam", f"Release notes of {FINAL}")
    table = (root / "pyproject.toml").read_text().split("[tool.release]\n", 1)[1].split("\n[tool.", 1)[0]
    table = table.replace('vote = "none"', 'vote = "asf"')
    table = re.sub(r'(?m)^python = \[.*\]$', 'python = ["3.11"]', table)
    voters = ", ".join(f'"{who.split("<")[1].rstrip(">")}"' for who in PMC)
    profile = root.parent / "asf.toml"
    profile.write_text(f"[tool.release]\n{table}\nbinding-voters = [{voters}]\n")
    try:
        yield root, profile
    finally:
        sandbox.down(root)


def invoke(root: Path, profile: Path, *args: str) -> str:
    """`invoke TASK ... --profile` in the clone, with its own tasks.py; its stderr."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "RELEASE_ROOT": str(root)}
    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(root), *args, "--profile",
                           str(profile)], cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"invoke {' '.join(args)}: exit {done.returncode}\n{done.stderr[-4000:]}"
    return done.stderr


def test_this_repository_releases_itself_through_the_asf_vote_loop(clone: tuple[Path, Path]) -> None:
    root, profile = clone
    invoke(root, profile, "release", "--version", RC)  # its candidate passes its own PMC checks
    invoke(root, profile, "verify", "--version", RC)  # signatures, a rebuild, its images
    opened = staged_hours_ago(root / "dist" / RC, RC, 96)
    thread = vote_thread(root.parent / "thread.mbox", [Mail(who, "+1 (binding)", hours)
                                                       for who, hours in zip(PMC, (2, 20, 73))],
                         opened=opened, candidate=RC)
    counted = invoke(root, profile, "vote-result", "--version", RC, "--votes", str(thread))
    assert f"then: invoke promote --version {FINAL} --from-rc {RC}" in counted
    invoke(root, profile, "promote", "--version", FINAL, "--from-rc", RC)
    invoke(root, profile, "publish", "--version", FINAL)
    invoke(root, profile, "announce", "--version", FINAL)

    services = sandbox.load(root)
    assert services is not None
    voted = {p.name: sha256_of(p) for p in (root / "dist" / FINAL / "pypi").iterdir()}
    index = PackageIndex(services.index_url, f"{services.index_url}simple/")
    assert {n: h for n, h in index.hashes("release-pipeline").items() if "rc" not in n} == voted
    image = f"{services.registry}/release-pipeline:{FINAL}"
    shown = subprocess.run(["docker", "run", "--rm", image, "release-pipeline", "--version"],
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0 and FINAL in shown.stdout, shown.stderr
    announcement = (root / "dist" / FINAL / "announce-email.txt").read_text()
    assert f"Subject: [ANNOUNCE] Release Pipeline {FINAL} released" in announcement
    assert f"pip install release-pipeline=={FINAL}" in announcement
