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


def test_a_runner_takes_a_final_only_where_its_tag_and_a_candidates_share_a_commit(sample_repo: Path) -> None:
    """publish-promoted.yml: whoever can push a tag could push a bare final tag; the runner ships the
    release folder only for a final tagged on a candidate's commit, and names the newest candidate."""
    from release.steps.promote import candidate_of
    from release.versions import parse_version

    final = parse_version("1.10.6")
    with pytest.raises(RefusedError, match=r"no git tag 1\.10\.6 .*git push origin 1\.10\.6"):
        candidate_of(sample_repo, final)
    voted = git_cli(sample_repo, "rev-parse", "HEAD")
    git_cli(sample_repo, "tag", "-a", "-m", "rc1", "1.10.6rc1")
    (sample_repo / "LATER.txt").write_text("after the candidate\n")
    git_cli(sample_repo, "add", "LATER.txt")
    git_cli(sample_repo, "commit", "-qm", "After the candidate")
    git_cli(sample_repo, "tag", "-a", "-m", "rc2", "1.10.6rc2")
    (sample_repo / "LATER.txt").write_text("after both candidates\n")
    git_cli(sample_repo, "commit", "-qam", "After both candidates")
    git_cli(sample_repo, "tag", "-a", "-m", "bare", "1.10.6")  # no candidate on this commit
    with pytest.raises(RefusedError, match=r"where no candidate of 1\.10\.6 is tagged"):
        candidate_of(sample_repo, final)
    git_cli(sample_repo, "tag", "-d", "1.10.6")
    git_cli(sample_repo, "tag", "-a", "-m", "final", "1.10.6", voted)
    git_cli(sample_repo, "tag", "-a", "-m", "other", "1.10.7rc1", voted)  # another final's candidate
    assert candidate_of(sample_repo, final) == (voted, parse_version("1.10.6rc1"))
