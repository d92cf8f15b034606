# SPDX-License-Identifier: Apache-2.0
"""A revision read from an image label reaches git only as a full commit hash (security review, finding 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git as git_cli
from conftest import make_sample_repo

from release import image
from release.adapters import git
from release.config import load_config
from release.errors import RefusedError
from release.steps.refresh import _dockerfile_at

SHA1 = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("revision", [SHA1, "ab" * 32])
def test_full_hashes_are_object_names(revision: str) -> None:
    assert git.check_object_name(revision) == revision


@pytest.mark.parametrize(
    "revision",
    ["HEAD", "main", SHA1[:12], SHA1.upper(), SHA1 + "0", f"{SHA1}^", f" {SHA1}", f"{SHA1}\n",
     "--output=/tmp/owned", "-p", ""],
)
def test_anything_else_is_refused(revision: str) -> None:
    with pytest.raises(RefusedError, match="not a full commit hash"):
        git.check_object_name(revision)


def own_dockerfile(sample_repo: Path) -> Path:
    """The sample as a project that keeps its own Dockerfile (`[tool.release] dockerfile`), committed."""
    (sample_repo / "Dockerfile").write_bytes(image.dockerfile())
    pyproject = sample_repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'dockerfile = "Dockerfile"\n')
    git_cli(sample_repo, "add", "-A")
    git_cli(sample_repo, "commit", "-qm", "a Dockerfile of its own")
    return sample_repo


def test_file_at_reads_a_committed_file(sample_repo: Path) -> None:
    own_dockerfile(sample_repo)
    head = git_cli(sample_repo, "rev-parse", "HEAD")
    committed = (sample_repo / "Dockerfile").read_text()
    (sample_repo / "Dockerfile").write_text("FROM scratch\n")  # the working tree is not what is read
    assert git.file_at(sample_repo, head, "Dockerfile") == committed
    assert git.file_at(sample_repo, head, "no/such/file") is None
    assert git.file_at(sample_repo, head, "sample_app") is None  # a tree, not a file
    assert git.file_at(sample_repo, "f" * 40, "Dockerfile") is None  # a commit this checkout lacks


def test_file_at_refuses_an_option_as_revision(sample_repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "written"
    with pytest.raises(RefusedError, match="not a full commit hash"):
        git.file_at(sample_repo, f"--output={target}", "Dockerfile")
    assert list(tmp_path.iterdir()) == [sample_repo]


def test_refresh_refuses_a_revision_label_that_is_a_git_option(sample_repo: Path, tmp_path: Path) -> None:
    """Before the fix `git show --output=<x>:Dockerfile` wrote the diff of HEAD to `<x>:Dockerfile`."""
    config = load_config(own_dockerfile(sample_repo))
    workdir = tmp_path / "work"
    workdir.mkdir()
    target = tmp_path / "owned"
    with pytest.raises(RefusedError, match="not a full commit hash"):
        _dockerfile_at(config, f"--output={target}", workdir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample", "work"]
    assert list(workdir.iterdir()) == []


def test_refresh_uses_the_dockerfile_of_the_labelled_commit(sample_repo: Path, tmp_path: Path) -> None:
    own_dockerfile(sample_repo)
    head = git_cli(sample_repo, "rev-parse", "HEAD")
    committed = (sample_repo / "Dockerfile").read_text()
    (sample_repo / "Dockerfile").write_text("FROM scratch\n")
    git_cli(sample_repo, "commit", "-qam", "another Dockerfile")
    config = load_config(sample_repo)
    chosen = _dockerfile_at(config, head, tmp_path)
    assert Path(chosen) == tmp_path / "Dockerfile" and Path(chosen).read_text() == committed
    assert _dockerfile_at(config, "", tmp_path) == "Dockerfile"  # no label: the current one
    shipped = load_config(make_sample_repo(tmp_path / "shipped"))  # no Dockerfile of its own
    assert _dockerfile_at(shipped, head, tmp_path) == ""  # the one release-pipeline ships
