# SPDX-License-Identifier: Apache-2.0
"""Airflow's own released sources as a repository: each distribution builds from its release tag
with its own build backend (hatchling for the meta package, core and the task SDK; flit for the
providers, from PyPI), into an sdist and a wheel with PyPI's name and version, and the sdist holds
the same files, byte for byte, as the one on PyPI."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from airflow_sources import PROVIDERS, SDISTS, Sdist, download, git

from release.adapters.git import export_commit

pytestmark = [pytest.mark.trains, pytest.mark.slow]

# flit's own `flit build` adds the files git tracks beside the ones pyproject.toml names; the
# PEP 517 backend (`python -m build`) names only those, so each provider's `.gitignore` is the one
# file PyPI's sdist has and this one lacks.
ONLY_IN_PYPI = {s.name: {".gitignore"} for s in PROVIDERS}


def _members(archive: Path) -> dict[str, bytes]:
    """The files of an sdist by their path under its top folder."""
    with tarfile.open(archive) as tar:
        found = {}
        for member in tar.getmembers():
            if member.isfile():
                data = tar.extractfile(member)
                assert data is not None
                found[member.name.split("/", 1)[1]] = data.read()
        return found


def test_the_repository_is_laid_out_as_airflows(airflow_repo: Path) -> None:
    tracked = set(git(airflow_repo, "ls-files").splitlines())
    assert {"pyproject.toml", "airflow-core/pyproject.toml", "airflow-core/hatch_build.py",
            "task-sdk/pyproject.toml", "providers/http/provider.yaml", "providers/common/io/provider.yaml",
            "shared/logging/src/airflow_shared/logging/__init__.py"} <= tracked
    link = airflow_repo / "airflow-core/src/airflow/_shared/logging"
    assert link.is_symlink()
    assert link.resolve() == airflow_repo / "shared/logging/src/airflow_shared/logging"
    assert not any(name.endswith("PKG-INFO") for name in tracked)
    assert git(airflow_repo, "status", "--porcelain") == ""
    for sdist in PROVIDERS:
        meta = (airflow_repo / sdist.path / "provider.yaml").read_text()
        assert "state: ready" in meta and "source-date-epoch:" in meta
        assert f"package-name: {sdist.name}" in meta


def test_the_later_commits_touch_three_providers(airflow_repo: Path) -> None:
    changed = git(airflow_repo, "diff", "--name-only", "providers-http/6.3.0", "HEAD").splitlines()
    touched = {path for path in ("providers/http", "providers/ftp", "providers/common/io", "providers/imap",
                                 "providers/sqlite", "airflow-core", "task-sdk")
               if any(name.startswith(path + "/") for name in changed)}
    assert touched == {"providers/http", "providers/ftp", "providers/common/io"}
    assert "  - 6.3.1\n  - 6.3.0\n" in (airflow_repo / "providers/http/provider.yaml").read_text()


def test_the_same_sources_give_the_same_commits(airflow_repo: Path, tmp_path: Path) -> None:
    from airflow_sources import make_airflow_repo

    again = make_airflow_repo(tmp_path / "again")
    assert git(again, "rev-parse", "HEAD") == git(airflow_repo, "rev-parse", "HEAD")


def _build(source: Path, out: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return sorted(p.name for p in out.iterdir())


@pytest.mark.parametrize("sdist", SDISTS, ids=[s.name for s in SDISTS])
def test_each_distribution_builds_from_its_tag_as_on_pypi(airflow_repo: Path, tmp_path: Path,
                                                          sdist: Sdist) -> None:
    tree = export_commit(airflow_repo, git(airflow_repo, "rev-parse", f"{sdist.tag}^{{commit}}"),
                         tmp_path / "tree")
    built = _build(tree / sdist.path, tmp_path / "dist")
    assert built == sorted([sdist.filename, sdist.wheel])
    ours, pypi = _members(tmp_path / "dist" / sdist.filename), _members(download((sdist,))[sdist.name])
    assert set(pypi) - set(ours) == ONLY_IN_PYPI.get(sdist.name, set())
    assert set(ours) - set(pypi) == set()
    assert [name for name in ours if name != "PKG-INFO" and ours[name] != pypi[name]] == []
