# SPDX-License-Identifier: Apache-2.0
"""Airflow's core train (a folder per release, three distributions under one vote) run on Airflow's
own sources (tests/airflow_sources.py) against a local svn repository, a throwaway key, git and a
local pypiserver, no sandbox: `invoke release --train core` (rc1, its rc-numbered packages on the
index pinning each other's candidates: fetched and resolved from there with pip), a rerun, `verify`
with a rebuild,
`verify --version 3.3.3rc1` in a voter's clone without dist/ (and its refusals when the tags are
missing), `vote-result` from the votes, `promote`, `publish --version 3.3.3` in a runner's clone
without dist/ (the promoted files read from svn release) then `publish` in the promoting tree (finding
them on the index), `announce`, `cleanup` of older
release and candidate folders, and the withdrawal of the whole release (then listed by cleanup).
The core's images, and the constraints tags set from what they installed, are left out here
(test_trains_core_images.py builds them in the sandbox). Each step's wall time and the git and svn
commands it ran (counted through logging wrappers on PATH) are printed (`pytest -s`): the figures in
docs/trains.md."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from airflow_sources import copy_repo, git, prepare_core
from conftest import REPO_ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from vote_fixtures import make_svn, shared_keyring, svn

from release.adapters.index import PackageIndex
from release.plan.images import parse_metadata
from release.record import sha512_of
from tests.integration.test_trains_release import (
    three_binding_votes,
    wave_profile,
)
from tests.unit.test_trains import AIRFLOW

pytestmark = pytest.mark.trains
DATE = "2026-12-07"
SOURCE = "apache-airflow-3.3.3-source.tar.gz"
CORE_FILES = [SOURCE, "apache_airflow-3.3.3.tar.gz", "apache_airflow-3.3.3-py3-none-any.whl",
              "apache_airflow_core-3.3.3.tar.gz", "apache_airflow_core-3.3.3-py3-none-any.whl"]
SDK_FILES = ["apache_airflow_task_sdk-1.3.3.tar.gz", "apache_airflow_task_sdk-1.3.3-py3-none-any.whl"]
TRAIN = {"apache-airflow": "3.3.3rc1", "apache-airflow-core": "3.3.3rc1",
         "apache-airflow-task-sdk": "1.3.3rc1"}  # each one's candidate
RC_FILES = sorted(f"{name.replace('-', '_')}-{rc}{end}" for name, rc in TRAIN.items()
                  for end in (".tar.gz", "-py3-none-any.whl"))


def signed(names: list[str]) -> list[str]:
    return sorted(f"{n}{s}" for n in names for s in ("", ".asc", ".sha512"))


class Steps:
    """Runs the commands in the core's repository, timing each and counting its git and svn commands."""

    def __init__(self, root: Path, profile: Path, gnupghome: Path, tmp: Path) -> None:
        self.root, self.profile, self.gnupghome = root, profile, gnupghome
        self.log = tmp / "commands.log"
        wrappers = tmp / "wrappers"
        wrappers.mkdir()
        for tool in ("git", "svn"):
            real = subprocess.run(["which", tool], check=True, capture_output=True, text=True).stdout.strip()
            (wrappers / tool).write_text(f'#!/bin/sh\necho "{tool} $1" >> "{self.log}"\nexec {real} "$@"\n')
            (wrappers / tool).chmod(0o755)
        self.env = {**os.environ, "RELEASE_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "300",
                    "GNUPGHOME": str(gnupghome), "PATH": f"{wrappers}:{os.environ['PATH']}",
                    "TWINE_USERNAME": "core", "TWINE_PASSWORD": "core-pa55"}
        self.figures: list[tuple[str, float, int, int]] = []

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        before = self.log.read_text().splitlines() if self.log.exists() else []
        start = time.monotonic()
        found = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args,
                                "--profile", str(self.profile)], cwd=cwd or self.root,
                               env={**self.env, "RELEASE_ROOT": str(cwd or self.root)},
                               capture_output=True, text=True, timeout=900)
        took = time.monotonic() - start
        ran = (self.log.read_text().splitlines() if self.log.exists() else [])[len(before):]
        shown = " ".join("FILE" if a.startswith("/") else a for a in args)
        self.figures.append((shown, took, sum(c.startswith("git ") for c in ran),
                             sum(c.startswith("svn ") for c in ran)))
        return found

    def report(self) -> str:
        return "\n".join(f"{what:<60} {took:6.1f} s  git {gits:3d}  svn {svns:3d}"
                         for what, took, gits, svns in self.figures)


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check"],
                          capture_output=True, text=True, timeout=300)


def sibling_requirements(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a wheel that name a distribution of the train (markers that hold
    without extras only): what installing it asks of the train's other packages."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = parse_metadata(archive.read(meta)).get("Requires-Dist", [])
    return [line for line in requires if canonicalize_name(Requirement(line).name) in TRAIN
            and (Requirement(line).marker is None or Requirement(line).marker.evaluate({"extra": ""}))]


def test_the_core_train_released_voted_promoted_and_published_in_a_folder_per_release(
        airflow_repo: Path, tmp_path: Path, local_index: str) -> None:
    root = copy_repo(airflow_repo, tmp_path / "airflow")
    commit = prepare_core(root, "3.3.3", "1.3.3")
    keyring = shared_keyring()
    (tmp_path / "svn").mkdir()
    repo = make_svn(tmp_path / "svn", "apache-airflow", keyring.keys_file.read_text())
    url = local_index
    profile = wave_profile(tmp_path, repo, keyring.fingerprint, index=url)
    run = Steps(root, profile, keyring.home, tmp_path)
    dev, release = f"{repo.dev_url}/apache-airflow", f"{repo.release_url}/apache-airflow"
    wave = root / "dist" / f"core-{DATE}"

    # the run: built, signed, checked, staged in a folder per candidate, tagged, the vote email
    found = run("release", "--train", "core", "--date", DATE)
    assert found.returncode == 0, found.stderr
    assert sorted(svn("list", f"{dev}/3.3.3rc1").split()) == signed(CORE_FILES)
    assert sorted(svn("list", f"{dev}/task-sdk/1.3.3rc1").split()) == signed(SDK_FILES)
    assert [git(root, "rev-parse", f"{tag}^{{commit}}") for tag in ("3.3.3rc1", "task-sdk/1.3.3rc1")] == [
        commit] * 2
    record = json.loads((wave / "wave.json").read_text())
    assert record["steps"] == ["build", "sign", "PMC checks", "stage", "tags", "index", "vote email"]
    assert record["tags"] == ["3.3.3rc1", "task-sdk/1.3.3rc1"] and record["commit"] == commit
    email = (wave / "vote-email.txt").read_text()
    assert email.startswith("To: dev@airflow.apache.org\nSubject: [VOTE] Release Apache Airflow core "
                            f"{DATE}: 3 distributions\n")
    assert f"\n  {dev}/3.3.3rc1\n  {dev}/task-sdk/1.3.3rc1\n" in email and "released together" in email
    assert all(f"  pip install {name}=={rc}\n" in email for name, rc in TRAIN.items())

    # the rc-numbered packages on the index, never staged; each pins the candidates of the others
    assert record["candidates_published"] == {"index": url, "files": RC_FILES}
    assert "6 rc-numbered files uploaded" in found.stderr
    staged = [n for folder in ("3.3.3rc1", "task-sdk/1.3.3rc1")
              for n in svn("list", f"{dev}/{folder}").split()]
    assert not set(staged) & set(RC_FILES)
    simple = PackageIndex(url, url + "simple/")
    assert {name: simple.versions(name) for name in TRAIN} == {name: [rc] for name, rc in TRAIN.items()}
    fetched = tmp_path / "fetched"
    got = pip("download", "--no-deps", "--index-url", url + "simple/", "--dest", str(fetched),
              *(f"{name}=={rc}" for name, rc in TRAIN.items()))
    assert got.returncode == 0, got.stderr
    assert sorted(p.name for p in fetched.iterdir()) == sorted(f for f in RC_FILES if f.endswith(".whl"))
    assert all(p.read_bytes() == (wave / "pypi" / p.name).read_bytes() for p in fetched.iterdir())
    wanted = {p.name.split("-")[0]: sibling_requirements(p) for p in fetched.iterdir()}
    assert wanted == {"apache_airflow": ["apache-airflow-core==3.3.3rc1",
                                         "apache-airflow-task-sdk==1.3.3rc1"],
                      "apache_airflow_core": ["apache-airflow-task-sdk==1.3.3rc1"],
                      "apache_airflow_task_sdk": ["apache-airflow-core<3.4.0,>=3.3.0"]}  # as the tree has it
    with tarfile.open(wave / "pypi" / "apache_airflow-3.3.3rc1.tar.gz") as sdist:
        info = sdist.extractfile("apache_airflow-3.3.3rc1/PKG-INFO")
        assert info is not None
        assert "Requires-Dist: apache-airflow-core==3.3.3rc1" in info.read().decode().splitlines()
    # a resolve of what the three ask of each other, together, against the index: the rc files only
    resolved = tmp_path / "resolved"
    together = pip("download", "--no-deps", "--index-url", url + "simple/", "--dest", str(resolved),
                   "apache-airflow==3.3.3rc1", *(r for found in wanted.values() for r in found))
    assert together.returncode == 0, together.stderr
    assert sorted(p.name for p in resolved.iterdir()) == sorted(f for f in RC_FILES if f.endswith(".whl"))
    again = run("release", "--train", "core", "--date", DATE)  # a rerun resumes: nothing new
    assert again.returncode == 0, again.stderr
    assert "(there already)" in again.stderr and "tagged nothing new" in again.stderr
    assert "0 rc-numbered files uploaded" in again.stderr and "6 there already" in again.stderr
    assert json.loads((wave / "wave.json").read_text())["staged"] == record["staged"]

    # verify: every staged file read from its folder, signatures, checksums, sources, the rebuild
    checked = run("verify", "--train", "core", "--date", DATE)
    assert checked.returncode == 0, checked.stderr
    assert f"the core wave of {DATE}: 21 files verified" in checked.stderr
    assert "identical to the rebuild" in checked.stderr

    # a voter's clone: the tags, no dist/; the wave's commit found where the candidate's tags point
    voter = tmp_path / "voter"
    git(tmp_path, "clone", "-q", str(root), str(voter))
    assert not (voter / "dist").exists()
    unnamed = run("verify", "--train", "core", "--date", DATE, "--no-rebuild", cwd=voter)
    assert unnamed.returncode == 6 and "e.g. --version 3.3.3rc1" in unnamed.stderr, unnamed.stderr
    cloned = run("verify", "--train", "core", "--version", "3.3.3rc1", "--no-rebuild", cwd=voter)
    assert cloned.returncode == 0, cloned.stderr
    assert "the core wave of 3.3.3rc1: 21 files verified" in cloned.stderr
    assert f"{dev}/3.3.3rc1, {dev}/task-sdk/1.3.3rc1" in cloned.stderr
    git(voter, "tag", "-d", "task-sdk/1.3.3rc1")
    untagged = run("verify", "--train", "core", "--version", "3.3.3rc1", "--no-rebuild", cwd=voter)
    assert untagged.returncode == 6 and untagged.stderr.strip().splitlines()[-1] == (
        f"error: no git tag task-sdk/1.3.3rc1: the core wave of 3.3.3rc1 tags it on {commit[:12]}; fetch the "
        "tags the vote email names"), untagged.stderr
    git(voter, "tag", "task-sdk/1.3.3rc1", f"{commit}~1")  # a tag on another commit than 3.3.3rc1's
    moved = run("verify", "--train", "core", "--version", "3.3.3rc1", "--no-rebuild", cwd=voter)
    assert moved.returncode == 6 and "its candidate tags disagree" in moved.stderr, moved.stderr

    # the vote: staged four days ago as far as the record says; nothing can be excluded
    votes = three_binding_votes(wave, tmp_path, profile)
    excluding = run("vote-result", "--train", "core", "--date", DATE, "--votes", str(votes), "--exclude",
                    "apache-airflow-task-sdk", "--reason", "broken")
    assert excluding.returncode == 6 and excluding.stderr.strip().splitlines() == [
        "error: train core releases its distributions together: none can be excluded at its vote (a vote "
        "that fails is followed by a new candidate of all of them)"]
    voted = run("vote-result", "--train", "core", "--date", DATE, "--votes", str(votes))
    assert voted.returncode == 0, voted.stderr
    assert json.loads((wave / "wave.json").read_text())["vote"]["promoted"] == [
        "apache-airflow 3.3.3rc1", "apache-airflow-core 3.3.3rc1", "apache-airflow-task-sdk 1.3.3rc1"]

    # promotion: each candidate folder copied whole, server side, from the revision checked
    shown = run("promote", "--train", "core", "--date", DATE, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    dry = json.loads(shown.stdout)
    assert dry["refusals"] == [] and [a["does"] for a in dry["actions"]][1:] == [
        f"copy {dev}/3.3.3rc1 to {release}/3.3.3 (the whole folder, server side, as of the revision checked)",
        f"copy {dev}/task-sdk/1.3.3rc1 to {release}/task-sdk/1.3.3 (the whole folder, server side, as of the "
        "revision checked)",
        f"remove {dev}/3.3.3rc1 (released)", f"remove {dev}/task-sdk/1.3.3rc1 (released)",
        f"tag {commit[:12]} as 3.3.3", f"tag {commit[:12]} as task-sdk/1.3.3"]
    promoted = run("promote", "--train", "core", "--date", DATE)
    assert promoted.returncode == 0, promoted.stderr
    assert sorted(svn("list", f"{release}/3.3.3").split()) == signed(CORE_FILES)
    assert sorted(svn("list", f"{release}/task-sdk/1.3.3").split()) == signed(SDK_FILES)
    assert "3.3.3rc1/" not in svn("list", dev).split()
    assert svn("list", f"{dev}/task-sdk").split() == []
    history = svn("log", "--verbose", "--limit", "1", f"{release}/task-sdk/1.3.3")
    assert "A /release/apache-airflow/task-sdk/1.3.3 (from /dev/apache-airflow/task-sdk/1.3.3rc1:" in history
    finals = ("3.3.3", "task-sdk/1.3.3")
    assert [git(root, "rev-parse", f"{tag}^{{commit}}") for tag in finals] == [commit] * 2
    again = run("promote", "--train", "core", "--date", DATE)
    assert again.returncode == 0, again.stderr
    assert "holds the 15 voted files already" in again.stderr and "tagged nothing new" in again.stderr

    # publish from a clone without dist/, as a runner does: the wave found where the final's tag is,
    # its promoted files read from svn release and checked against KEYS and their checksums; the
    # voted sdists and wheels to the same index (pypiserver, as the sandbox runs it), not the
    # rc-numbered ones, which stay there beside them
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(root), str(runner))
    unknown = run("publish", "--train", "core", "--version", "3.3.4", cwd=runner)
    assert unknown.returncode == 6 and unknown.stderr.strip().splitlines()[-1] == (
        "error: no git tag 3.3.4: the core wave of 3.3.4 is not promoted, or its tags are not fetched "
        "(git fetch --tags)"), unknown.stderr
    shown = run("publish", "--train", "core", "--version", "3.3.3", "--dry-run", "--json", cwd=runner)
    assert shown.returncode == 0, shown.stderr
    dry = json.loads(shown.stdout)
    assert dry["refusals"] == [] and [a["does"] for a in dry["actions"]][:2] == [
        f"find the wave at {commit[:12]}, planned again there: its final tags on that commit say what was "
        "promoted",
        f"read the wave's promoted files from {release} and check each: signed by a key in KEYS, its "
        ".sha512; nothing is uploaded unless all hold"]
    from_release = run("publish", "--train", "core", "--version", "3.3.3", cwd=runner)
    assert from_release.returncode == 0, from_release.stderr
    assert (f"6 files uploaded, 0 there already (the 21 promoted files read from svn release and checked, "
            f"tagged on {commit[:12]})") in from_release.stderr
    assert not (runner / "dist").exists()
    # the promoting tree's publish finds them there, the same bytes, and records the wave published
    planned = run("publish", "--train", "core", "--date", DATE, "--dry-run")
    assert planned.returncode == 0 and planned.stderr.count("upload apache_airflow") == 3, planned.stderr
    published = run("publish", "--train", "core", "--date", DATE)
    assert published.returncode == 0, published.stderr
    assert "0 files uploaded, 6 there already" in published.stderr
    on_index = {f: h for name in TRAIN for f, h in simple.hashes(name).items()}
    assert sorted(on_index) == sorted(CORE_FILES[1:] + SDK_FILES + RC_FILES)
    assert all(on_index[f] == hashlib.sha256((wave / "svn" / f).read_bytes()).hexdigest()
               for f in CORE_FILES[1:] + SDK_FILES)  # the voted bytes
    assert json.loads((wave / "wave.json").read_text())["published"]["files"] == sorted(
        CORE_FILES[1:] + SDK_FILES)

    # the announcement: each release folder, each released file with its recorded sha512, pip lines
    shown = run("announce", "--train", "core", "--date", DATE, "--dry-run", "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["refusals"] == [], shown.stderr
    announced = run("announce", "--train", "core", "--date", DATE)
    assert announced.returncode == 0, announced.stderr
    news = (wave / "announce-email.txt").read_text()
    assert f"Subject: [ANNOUNCE] Apache Airflow core {DATE} released\n" in news
    assert f"are at\n\n  {release}/3.3.3\n  {release}/task-sdk/1.3.3\n\n" in news
    sdk = SDK_FILES[0]
    assert f"  {release}/task-sdk/1.3.3/{sdk}\n" in news and f"  {release}/3.3.3/{SOURCE}\n" in news
    assert f"  {sdk}\n    sha512: {sha512_of(wave / 'svn' / sdk)}\n" in news
    assert "/KEYS" in news and "  pip install apache-airflow-task-sdk==1.3.3\n" in news and "rc1" not in news

    # cleanup: older releases of 3.3 and 1.3, and candidates released or superseded, in both folders
    svn("mkdir", "-m", "Older releases and candidates", f"{release}/3.3.2", f"{release}/3.2.1",
        f"{release}/task-sdk/1.3.2", f"{dev}/3.3.3rc2", f"{dev}/3.3.4rc1", f"{dev}/task-sdk/1.3.3rc1")
    unlisted = run("cleanup", "--train", "core", "--remove")
    assert unlisted.returncode == 6 and "no listing was printed" in unlisted.stderr, unlisted.stderr
    listed = run("cleanup", "--train", "core")
    assert listed.returncode == 0 and "4 folders would go" in listed.stderr, listed.stderr
    listing = json.loads((root / "dist" / ".cleanup-plan-core.json").read_text())
    assert sorted((r["url"], r["why"]) for r in listing["removals"]) == [
        (f"{dev}/3.3.3rc2", "3.3.3 is released"), (f"{dev}/task-sdk/1.3.3rc1", "1.3.3 is released"),
        (f"{release}/3.3.2", "older than 3.3.3, the newest of 3.3"),
        (f"{release}/task-sdk/1.3.2", "older than 1.3.3, the newest of 1.3")]
    removed = run("cleanup", "--train", "core", "--remove")
    assert removed.returncode == 0 and "removed 4 folders" in removed.stderr, removed.stderr
    assert [n for n in svn("list", release).split() if n[0].isdigit()] == ["3.2.1/", "3.3.3/"]
    assert svn("list", f"{release}/task-sdk").split() == ["1.3.3/"]
    assert [n for n in svn("list", dev).split() if n[0].isdigit()] == ["3.3.4rc1/"]
    assert svn("list", f"{dev}/task-sdk").split() == []
    quiet = run("cleanup", "--train", "core")
    assert quiet.returncode == 0 and "nothing to remove" in quiet.stderr, quiet.stderr

    # withdraw: the whole release, recorded first; its release folders stay for cleanup to list (as a
    # single release's does), the index told about each distribution (pypiserver has no yank API)
    why = ("--reason", "a licence problem in the task SDK")
    alone = run("withdraw", "--train", "core", "--date", DATE, "--only", "apache-airflow-task-sdk", *why)
    assert alone.returncode == 6 and alone.stderr.strip().splitlines() == [
        "error: train core releases its distributions together: they are withdrawn together (give no "
        "--only)"], alone.stderr
    shown = run("withdraw", "--train", "core", "--date", DATE, *why, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    planned = json.loads(shown.stdout)
    assert planned["refusals"] == [] and [a["where"] for a in planned["actions"]] == [
        "dist"] * 3 + ["svn"] * 2 + ["index"] * 3
    assert planned["actions"][3]["does"] == (
        f"leave {release}/3.3.3 in place: invoke cleanup --train core lists it to remove (the ASF "
        "archive keeps it)")
    withdrawn = run("withdraw", "--train", "core", "--date", DATE, *why)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert "its release folders stay until invoke cleanup --train core lists them" in withdrawn.stderr
    assert withdrawn.stderr.count("offers no API to yank (PEP 592)") == 3, withdrawn.stderr
    entries = json.loads((wave / "wave.json").read_text())["withdrawn"]
    assert sorted(entries) == ["apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"]
    assert {(e["version"], e["reason"], e["key"]) for e in entries.values()} == {
        (v, "a licence problem in the task SDK", keyring.fingerprint) for v in ("3.3.3", "1.3.3")}
    assert all("yank it by hand" in e["index"] for e in entries.values())
    assert [n for n in svn("list", release).split() if n[0].isdigit()] == ["3.2.1/", "3.3.3/"]
    assert svn("list", f"{release}/task-sdk").split() == ["1.3.3/"]  # the folders stay
    before = (wave / "wave.json").read_bytes()
    rerun = run("withdraw", "--train", "core", "--date", DATE, *why)  # a rerun changes nothing
    assert rerun.returncode == 0 and rerun.stderr.count("is withdrawn already on") == 3, rerun.stderr
    assert (wave / "wave.json").read_bytes() == before
    refused = run("announce", "--train", "core", "--date", DATE)
    assert refused.returncode == 6 and "every distribution of the wave is withdrawn" in refused.stderr
    named = run("verify", "--train", "core", "--date", DATE, "--no-rebuild")
    assert "withdrawn: apache-airflow-task-sdk 1.3.3 on " in named.stderr, named.stderr
    tidy = run("cleanup", "--train", "core")
    assert tidy.returncode == 0 and "2 folders would go" in tidy.stderr, tidy.stderr
    assert sorted((r["url"], r["why"]) for r in json.loads(
        (root / "dist" / ".cleanup-plan-core.json").read_text())["removals"]) == [
        (f"{release}/3.3.3", "withdrawn"), (f"{release}/task-sdk/1.3.3", "withdrawn")]
    print(f"\n{run.report()}")


def test_a_core_train_with_constraints_and_no_images_is_refused_in_one_line(airflow_repo: Path,
                                                                           tmp_path: Path) -> None:
    """Its constraints files are what its images installed: without images there is nothing to tag, which
    the configuration says before anything is planned or run."""
    profile = tmp_path / "release.toml"
    profile.write_text(AIRFLOW.replace('images = ["apache-airflow", "apache-airflow-core", '
                                       '"apache-airflow-task-sdk"]\n', ""))
    for args in (("release", "--train", "core", "--dry-run"), ("release", "--train", "core", "--date", DATE)):
        found = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args,
                                "--profile", str(profile)], cwd=airflow_repo, capture_output=True, text=True,
                               env={**os.environ, "RELEASE_ROOT": str(airflow_repo), "NO_COLOR": "1",
                                    "COLUMNS": "300"}, timeout=300)
        assert found.returncode == 2 and found.stderr.strip().splitlines() == [
            "error: [tool.release] trains.core.constraints: its constraints files are what the train's "
            "images installed, and the train has no images: add `images`, or leave `constraints` out"
        ], found.stderr
    assert not (airflow_repo / "dist").exists()
