# SPDX-License-Identifier: Apache-2.0
"""The files the dry run names are the files the build writes and the sign step signs, for every
kind of version (final, rc, alpha, beta, dev, post) and a release of two distributions.

No engine and no services: a tiny real project (the sample, and the sample with its SDK) is built
in a temporary git checkout by the build step itself, with its own file names; the plan is the one
`invoke release --dry-run` shows with the sandbox down. The run against the real services, images
included, is tests/integration/test_plan_is_program.py; this one costs a package build per case.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_sample_repo
from vote_fixtures import build_recorded

from benchmarks.bench import set_version
from release.config import load_config
from release.pipeline.release import RunOptions, dry_run_plan
from release.record import load_record, release_dir
from release.steps.sign import files_to_sign
from release.versions import companion_version, parse_version

pytestmark = pytest.mark.slow

SDK = "0.3.0"  # the version the SDK of the sample with its SDK declares, as a final


def checkout(where: Path, version: str, fixture: str = "sample") -> Path:
    """The sample as a git checkout declaring the version `version` is built from, with its
    changelog section."""
    root = make_sample_repo(where / fixture, fixture=fixture)
    declared = str(parse_version(version).in_tree)
    if declared != "1.10.6":
        set_version(root, declared)
    return root


def built_as_planned(root: Path, version: str) -> tuple[set[str], set[str], set[str], set[str]]:
    """(the plan's svn/ and pypi/ files, the build's), (the plan's signed files, what sign signs)."""
    config = load_config(root)
    release = parse_version(version)
    plan = dry_run_plan(config, release, RunOptions(flavours=config.python))
    build_recorded(config, release)  # its own names: no plan handed to it
    directory = release_dir(root, version)
    made = {p.relative_to(directory).as_posix() for where in ("svn", "pypi")
            for p in (directory / where).iterdir()}
    planned = {a.path for a in plan.artefacts if a.path.startswith(("svn/", "pypi/"))}
    record = load_record(directory, version)
    signed = {p.relative_to(directory).as_posix() for p in files_to_sign(record, directory)}
    planned_signed = {a.path for a in plan.artefacts if a.signed and a.path.startswith(("svn/", "pypi/"))}
    return planned, made, planned_signed, signed


@pytest.mark.parametrize("version", ["1.10.6", "1.10.6rc1", "1.10.6a1", "1.10.6b1", "1.10.6.dev1",
                                     "1.10.6.post1"])
def test_every_kind_of_version_builds_and_signs_what_its_plan_names(tmp_path: Path, version: str) -> None:
    release = parse_version(version)
    planned, made, planned_signed, signed = built_as_planned(checkout(tmp_path, version), version)
    assert made == planned
    assert signed == planned_signed
    # only a candidate is voted on as another version than its own
    voted = str(release.voted)
    assert f"svn/sample-app-{voted}-source.tar.gz" in made
    assert (voted != version) == release.is_rc
    assert {p for p in made if p.startswith("pypi/")} == {f"pypi/sample_app-{version}.tar.gz",
                                                          f"pypi/sample_app-{version}-py3-none-any.whl"}


def test_two_distributions_build_and_sign_the_files_their_plan_names(tmp_path: Path) -> None:
    """A beta: its own version everywhere, the SDK's with the beta's suffix (a candidate of two
    distributions is run against the services in test_plan_is_program.py)."""
    version = "1.10.6b1"
    release = parse_version(version)
    planned, made, planned_signed, signed = built_as_planned(checkout(tmp_path, version, "sample-multi"),
                                                             version)
    assert made == planned and signed == planned_signed
    sdk_voted, sdk_index = companion_version(SDK, release.voted), companion_version(SDK, release)
    assert f"svn/sample_app_sdk-{sdk_voted}-py3-none-any.whl" in made
    assert f"pypi/sample_app_sdk-{sdk_index}.tar.gz" in made
