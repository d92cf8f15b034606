# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline init` in git repositories made from real sdists downloaded from PyPI (the
projects of tests/adoption_projects.py, which test_adoption.py releases): what it writes, that the
result is a config the pipeline reads, that `invoke --list` then works, and what it refuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from adoption_helpers import download_sdist, project_repo
from adoption_projects import PROJECTS, AdoptedProject
from conftest import git

from release.config import load_config

pytestmark = pytest.mark.slow  # each downloads an sdist from PyPI


def run(cwd: Path, *args: str, command: tuple[str, ...] = (sys.executable, "-m", "release.cli.main")
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("RELEASE_ROOT", None)  # the project is the folder the command runs in
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def sdists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sdists")


@pytest.fixture(params=PROJECTS, ids=[p.name for p in PROJECTS])
def project(request: pytest.FixtureRequest, sdists: Path, tmp_path: Path) -> tuple[AdoptedProject, Path]:
    adopted: AdoptedProject = request.param
    return adopted, project_repo(adopted, download_sdist(adopted, sdists), tmp_path / adopted.name)


def test_init_writes_a_config_the_pipeline_reads(project: tuple[AdoptedProject, Path]) -> None:
    adopted, root = project
    listed = run(root, "--list")  # no tasks.py yet: the command has every task anyway
    assert listed.returncode == 0 and "init" in listed.stdout and "release" in listed.stdout, listed.stderr
    result = run(root, "init")
    assert result.returncode == 0, result.stderr
    changed = {line.split(maxsplit=1)[1] for line in git(root, "status", "--porcelain").splitlines()}
    assert changed == {"pyproject.toml", "tasks.py", ".gitignore"}
    config = load_config(root)
    assert config.name.lower() == adopted.name and config.vote == "none" and not config.checks_sources
    assert config.app_command == adopted.command
    assert [(c.command, c.expect) for c in config.smoke_commands] == [(adopted.command, "{version}")]
    assert config.python and set(config.python) <= {"3.9", "3.11", "3.13", "3.14"}
    assert "found:" in result.stderr and "left to decide:" in result.stderr
    assert ".release/" in (root / ".gitignore").read_text() and "dist/" in (root / ".gitignore").read_text()
    listed = run(root, "--list", command=(sys.executable, "-m", "invoke"))
    assert listed.returncode == 0, listed.stderr
    assert "release" in listed.stdout and "vote-result" in listed.stdout


def test_what_init_finds_in_each_project(project: tuple[AdoptedProject, Path]) -> None:
    adopted, root = project
    result = run(root, "init", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert git(root, "status", "--porcelain") == ""  # a dry run writes nothing
    stdout, stderr = result.stdout, result.stderr
    assert "--- pyproject.toml (" in stdout and "[tool.release]\n" in stdout
    expected = {
        "datasette": ('python = ["3.11", "3.13", "3.14"]', 'changelog = ""',
                      "version from __version__ in datasette/version.py", "built with setuptools"),
        "mkdocs": ('python = ["3.9", "3.11", "3.13", "3.14"]', 'changelog = ""',
                   "version from __version__ in mkdocs/__init__.py", "built with hatchling"),
        "docutils": ('python = ["3.9", "3.11", "3.13", "3.14"]', 'changelog = "HISTORY.rst"',
                     "version from __version__ in docutils/__init__.py", "built with flit"),
    }[adopted.name]
    for text in expected:
        assert text in stdout + stderr, text


def test_init_refuses_to_overwrite_and_force_replaces(project: tuple[AdoptedProject, Path]) -> None:
    _, root = project
    assert run(root, "init").returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release-pipeline init")
    before = (root / "pyproject.toml").read_text()
    again = run(root, "init")
    assert again.returncode == 6
    assert again.stderr == ("error: pyproject.toml already has [tool.release]; release-pipeline init --force "
                            "replaces it\n")
    assert (root / "pyproject.toml").read_text() == before
    forced = run(root, "init", "--force", "--registry", "registry.example.org:5000")
    assert forced.returncode == 0, forced.stderr
    assert git(root, "status", "--porcelain") == "M pyproject.toml"  # (git() strips the line)
    config = load_config(root)
    assert config.registry == "registry.example.org:5000"
    assert config.base_image == "python:{python}-slim-bookworm"
    assert (root / "pyproject.toml").read_text().count("[tool.release]") == 1


def test_init_help_and_bad_options(tmp_path: Path) -> None:
    helped = run(tmp_path, "init", "--help")
    assert helped.returncode == 0
    for option in ("--dry-run", "--force", "--registry", "--vote"):
        assert option in helped.stdout
    bad = run(tmp_path, "init", "--vote", "pmc")
    assert (bad.returncode, bad.stderr) == (2, "error: --vote pmc: choose one of asf, none\n")
    empty = run(tmp_path, "init")
    assert empty.returncode == 2 and empty.stderr.startswith("error: cannot find the project's name")
    assert list(tmp_path.iterdir()) == []


def test_what_init_wrote_passes_the_preflight(project: tuple[AdoptedProject, Path]) -> None:
    """Committing what `init` wrote is all a project needs for a clean dry run (exit 0: no problem a
    real run would refuse), with the sandbox not even started."""
    adopted, root = project
    assert run(root, "init").returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Release with release-pipeline")
    result = run(root, "release", "--version", adopted.version, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "preflight:" not in result.stderr
    assert not (root / ".release").exists() and not (root / "dist").exists()
