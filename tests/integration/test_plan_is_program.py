# SPDX-License-Identifier: Apache-2.0
"""The dry run's plan is what the release then does: tag for tag, file for file, step for step.

For each registry/index state a release meets (first release, RC, patch on an older line, a
release stopped half-way, a rerun of a finished release), every kind of version (final, rc,
alpha, beta, dev, post) and a release of two distributions, the JSON that `invoke release
--dry-run --json` prints before the run must equal what the run reports it did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import REPO_ROOT
from release_helpers import SampleRelease

from release import sandbox
from release.errors import ReleaseError
from release.versions import companion_version, parse_version

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRelease]:
    found = SampleRelease.create(tmp_path_factory.mktemp("program") / "sample")
    found.target()  # brings the sandbox up before the first dry run
    yield found
    sandbox.down(found.root)


def dry_run(sample: SampleRelease, version: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), "release", "--version", version,
         "--dry-run", "--json"],
        cwd=sample.root, env={**os.environ, "RELEASE_ROOT": str(sample.root)},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    plan: dict[str, Any] = json.loads(result.stdout)
    return plan


def planned(plan: dict[str, Any]) -> dict[str, Any]:
    files = set()
    for artefact in plan["artefacts"]:
        files |= {artefact["path"], *artefact["companions"]}
    return {
        "steps": [s["name"] for s in plan["steps"]],
        "files": files,
        "uploads": {u["filename"]: u["action"] for u in plan["uploads"]},
        "tags": {t["tag"]: t["action"] for t in plan["tags"]},
    }


def done(sample: SampleRelease, version: str) -> dict[str, Any]:
    report = json.loads((sample.root / "dist" / version / "report.json").read_text())
    return {
        "steps": report["steps"],
        "files": set(report["files"]),
        "uploads": report["uploads"],
        "tags": {t: v["action"] for t, v in report["tags"].items()},
    }


def release_as_planned(sample: SampleRelease, version: str) -> dict[str, Any]:
    declared = str(parse_version(version).in_tree)  # the build writes in the version each file carries
    if sample.declared() != declared:
        sample.set_version(declared)
    plan = planned(dry_run(sample, version))
    sample.release(version)
    assert done(sample, version) == plan
    return plan


def test_first_release_does_what_its_dry_run_said(sample: SampleRelease) -> None:
    plan = release_as_planned(sample, "1.10.6")
    assert set(plan["tags"].values()) == {"create"}
    assert set(plan["uploads"].values()) == {"upload"}


def test_rerun_of_a_finished_release_verifies_and_skips_as_planned(sample: SampleRelease) -> None:
    if not (sample.root / "dist" / "1.10.6" / "report.json").exists():
        release_as_planned(sample, "1.10.6")
    plan = release_as_planned(sample, "1.10.6")
    assert {a for t, a in plan["tags"].items() if t.startswith("1.10.6")} == {"verify"}
    assert {a for t, a in plan["tags"].items() if not t.startswith("1.10.6")} == {"skip"}
    assert set(plan["uploads"].values()) == {"skip"}


def test_a_candidate_does_what_its_dry_run_said(sample: SampleRelease) -> None:
    if not (sample.root / "dist" / "1.10.6" / "report.json").exists():
        release_as_planned(sample, "1.10.6")
    plan = release_as_planned(sample, "2.0.0rc1")
    assert "stage" in plan["steps"]
    assert not any(t.startswith(("latest", "2.0-", "2.0")) and t != "2.0.0rc1" and "rc1" not in t
                   for t in plan["tags"])


def test_a_release_stopped_half_way_resumes_as_its_new_dry_run_says(sample: SampleRelease) -> None:
    sample.set_version("1.11.0")
    sample.triggers["uploading"] = ("index", 0.0)  # the index dies as the upload starts
    with pytest.raises(ReleaseError):
        sample.release("1.11.0")
    time.sleep(1.0)  # let the killed index's port close before the sandbox restarts it
    sample.target()
    plan = release_as_planned(sample, "1.11.0")
    assert plan["tags"]["1.11.0-python3.11"] == "verify"  # pushed before the stop
    assert set(plan["uploads"].values()) == {"upload"}
    assert plan["tags"]["latest"] == "move"


def test_a_patch_on_an_older_line_does_what_its_dry_run_said(sample: SampleRelease) -> None:
    if not (sample.root / "dist" / "1.11.0" / "report.json").exists():
        sample.set_version("1.11.0")
        release_as_planned(sample, "1.11.0")
    plan = release_as_planned(sample, "1.10.7")
    assert plan["tags"]["1.10"] == "move"
    assert "latest" not in plan["tags"]


@pytest.mark.parametrize("version", ["3.0.0a1", "3.0.0b1", "3.0.0.dev1", "1.10.7.post1"])
def test_every_kind_of_version_does_what_its_dry_run_said(sample: SampleRelease, version: str) -> None:
    if version.startswith("1.10.7") and not (sample.root / "dist" / "1.10.7" / "report.json").exists():
        release_as_planned(sample, "1.10.7")
    plan = release_as_planned(sample, version)
    # only a candidate is voted on as another version: every other kind's files carry their own
    assert f"svn/sample-app-{version}-source.tar.gz" in plan["files"]
    assert not any(name.startswith("pypi/") and name.endswith(".asc") for name in plan["files"])
    assert "stage" not in plan["steps"]


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRelease]:
    found = SampleRelease.create(tmp_path_factory.mktemp("program-multi") / "sample", ("3.11",),
                                 fixture="sample-multi")
    found.target()
    yield found
    sandbox.down(found.root)


@pytest.mark.parametrize("version", ["1.10.6rc1", "1.10.6"])
def test_a_release_of_two_distributions_does_what_its_dry_run_said(multi: SampleRelease,
                                                                   version: str) -> None:
    plan = release_as_planned(multi, version)
    sdk = companion_version("0.3.0", parse_version(version))  # the SDK's own version, the release's suffix
    assert "svn/sample_app_sdk-0.3.0-py3-none-any.whl" in plan["files"]
    assert plan["uploads"] == {f"sample_app-{version}.tar.gz": "upload",
                               f"sample_app-{version}-py3-none-any.whl": "upload",
                               f"sample_app_sdk-{sdk}.tar.gz": "upload",
                               f"sample_app_sdk-{sdk}-py3-none-any.whl": "upload"}
