# SPDX-License-Identifier: Apache-2.0
"""A versioned train's constraints as git refs, with real git in a throwaway repository: the git
adapter's commit onto a branch without a checkout (`commit_files`, `holds_files`) and its moving tag
(`move_tag`); the wave's `constraints tags` step run by the wave's executor on Airflow's core train
(its images stood in, its constraints files placed in the wave's constraints folder as the
constraints step leaves them: test_trains_core_images.py makes them from real images); and what
promotion tags (`constraints-3.3.3`, `constraints-latest` only forward)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git as git_cli

from release.adapters import git
from release.adapters.clients import Clients
from release.adapters.git import GitReader
from release.config import ReleaseConfig, parse_config
from release.errors import RefusedError
from release.pipeline.trains import constraints_source, plan_train, run_wave, tag_constraints
from release.pipeline.wave_run import ConstraintsWritten, WaveRunning
from release.plan.wave import WavePromotion, WaveStepName, final_constraints, wave_promotion
from release.plan.wave_facts import constraints_glob, constraints_versions
from release.record import sha512_of
from release.trains import SvnLayout
from tests.unit.memory_git import MemoryGit
from tests.unit.pipeline.test_trains import CORE, DATE, core_files
from tests.unit.pipeline.test_wave_run import FINGERPRINT, TARGET, MemoryWave
from tests.unit.test_trains import airflow_table

FILES = {"constraints-3.11.txt": b"# apache-airflow 3.3.3rc1\napache-airflow==3.3.3\nattrs==25.1.0\n",
         "constraints-3.13.txt": b"# apache-airflow 3.3.3rc1\napache-airflow==3.3.3\nattrs==25.1.0\n"}


def checkout_state(root: Path) -> tuple[str, str, str, str]:
    """HEAD, the branch checked out, the index and the work tree's changes: what committing onto another
    branch must leave as it is."""
    return (git_cli(root, "rev-parse", "HEAD"), git_cli(root, "symbolic-ref", "HEAD"),
            git_cli(root, "ls-files", "--stage"), git_cli(root, "status", "--porcelain"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "airflow"
    root.mkdir()
    git_cli(root, "init", "-q", "-b", "main")
    git_cli(root, "config", "user.name", "Release Manager")
    git_cli(root, "config", "user.email", "rm@example.invalid")
    return root


def commit_tree(root: Path, files: dict[str, str | None], subject: str) -> str:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text or "")
    git_cli(root, "add", "-A")
    git_cli(root, "commit", "-q", "-m", subject)
    return git_cli(root, "rev-parse", "HEAD")


# --- the git adapter ----------------------------------------------------------------------------------


def test_files_are_committed_onto_a_branch_without_touching_the_checkout(repo: Path) -> None:
    commit_tree(repo, {"README.md": "airflow\n", "setup.py": "# setup\n"}, "Airflow")
    (repo / "README.md").write_text("edited, not committed\n")  # a change in the work tree
    (repo / "setup.py").write_text("# staged\n")
    git_cli(repo, "add", "setup.py")  # and one in the index
    before = checkout_state(repo)

    first, made = git.commit_files(repo, "constraints-3-3", FILES, "Constraints of 3.3.3rc1")
    assert made and checkout_state(repo) == before
    assert git_cli(repo, "rev-parse", "constraints-3-3") == first
    assert git_cli(repo, "rev-list", "--parents", "-n", "1", first) == first  # an orphan: no parent
    assert git_cli(repo, "ls-tree", "--name-only", first).split() == ["constraints-3.11.txt",
                                                                     "constraints-3.13.txt"]
    shown = git_cli(repo, "show", f"{first}:constraints-3.11.txt") + "\n"
    assert shown.encode() == FILES["constraints-3.11.txt"]
    assert git_cli(repo, "log", "-1", "--format=%s", first) == "Constraints of 3.3.3rc1"
    assert git.holds_files(repo, first, FILES) and not git.holds_files(repo, first, {
        "constraints-3.11.txt": FILES["constraints-3.11.txt"]})

    # the same files again: no commit; other files: a commit on the tip
    assert git.commit_files(repo, "constraints-3-3", FILES, "again") == (first, False)
    changed = {**FILES, "constraints-3.11.txt": b"apache-airflow==3.3.3\nattrs==25.2.0\n"}
    second, made = git.commit_files(repo, "constraints-3-3", changed, "Constraints of 3.3.3rc2")
    assert made and git_cli(repo, "rev-parse", f"{second}^") == first
    assert git_cli(repo, "rev-list", "--count", "constraints-3-3") == "2"
    assert checkout_state(repo) == before and git_cli(repo, "fsck", "--no-dangling") == ""


def test_a_bad_branch_or_file_name_is_refused_and_nothing_is_committed(repo: Path) -> None:
    commit_tree(repo, {"README.md": "airflow\n"}, "Airflow")
    with pytest.raises(RefusedError, match=r"^'constraints\.\.3' is not a valid git branch name$"):
        git.commit_files(repo, "constraints..3", FILES, "m")
    for name in ("sub/constraints-3.11.txt", ".hidden", "-x"):
        with pytest.raises(RefusedError, match=f"cannot commit {name!r} onto a branch"):
            git.commit_files(repo, "constraints-3-3", {name: b"x\n"}, "m")
    with pytest.raises(RefusedError, match="cannot commit 'no files' onto a branch"):
        git.commit_files(repo, "constraints-3-3", {}, "m")
    assert git_cli(repo, "branch", "--list", "constraints-*") == ""


def test_a_moving_tag_is_created_moved_and_left_where_it_is(repo: Path) -> None:
    first = commit_tree(repo, {"a.txt": "1\n"}, "one")
    second = commit_tree(repo, {"a.txt": "2\n"}, "two")
    assert git.move_tag(repo, "constraints-latest", first, "latest: 3.3.2")
    assert git.tag_commit(repo, "constraints-latest") == first
    assert not git.move_tag(repo, "constraints-latest", first, "latest: 3.3.2")
    assert git.move_tag(repo, "constraints-latest", second, "latest: 3.3.3")
    assert git.tag_commit(repo, "constraints-latest") == second
    assert git_cli(repo, "cat-file", "-t", "constraints-latest") == "tag"  # annotated, as ensure_tag's
    assert "latest: 3.3.3" in git_cli(repo, "cat-file", "-p", "constraints-latest")


# --- the wave's constraints tags step -------------------------------------------------------------------


def core_repo(repo: Path) -> tuple[ReleaseConfig, str]:
    """Airflow's core released as 3.3.2 (task SDK 1.3.2), then its versions moved to 3.3.3 and 1.3.3."""
    commit_tree(repo, core_files(), "Airflow 3.3.2")
    git_cli(repo, "tag", "3.3.2")
    git_cli(repo, "tag", "task-sdk/1.3.2")
    head = commit_tree(repo, core_files("3.3.3", "1.3.3"), "Update version to 3.3.3")
    return parse_config(repo, airflow_table()), head


def placed_constraints(run: WaveRunning) -> ConstraintsWritten:
    """The constraints step stood in: the files the test placed in the wave's constraints folder (the
    real step writes what each image installed there)."""
    folder = run.directory / "constraints"
    placed = sorted(folder.glob("constraints-*.txt")) if folder.is_dir() else []
    return ConstraintsWritten({f"constraints/{p.name}": {"sha512": sha512_of(p)} for p in placed}, {})


def run_core(config: ReleaseConfig) -> tuple[object, list[str]]:
    """The core wave's run: the build, signing, PMC checks, staging, images, constraints files, their
    provenance and index stood in for (no files are built: tests/unit/pipeline/test_wave_run.py), the
    tags, the constraints tags and the vote email the real ones, on real git."""
    said: list[str] = []
    memory = MemoryWave(MemoryGit())
    stood_in = {name: runner for name, runner in memory.runners().items()
                if name not in (WaveStepName.TAGS, WaveStepName.CONSTRAINTS_TAGS)}
    stood_in[WaveStepName.CONSTRAINTS] = placed_constraints
    done = run_wave(config, plan_train(config, CORE, date=DATE), TARGET, key=FINGERPRINT, runners=stood_in,
                    index=memory.index, announce=lambda name, does: None, say=said.append,
                    clients=Clients(memory.registry, memory.index))
    return done, said


def write_constraints(config: ReleaseConfig, files: dict[str, bytes]) -> Path:
    """The wave's constraints folder as the constraints step leaves it: each image's file with its
    .asc and .sha512."""
    folder = config.root / "dist" / f"core-{DATE}" / "constraints"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
        for suffix in (".asc", ".sha512"):
            (folder / f"{name}{suffix}").write_text(f"{suffix} of {name}\n")
    return folder


def test_the_waves_run_commits_its_constraints_to_the_branch_and_tags_the_candidate(repo: Path) -> None:
    config, head = core_repo(repo)
    write_constraints(config, FILES)
    before = checkout_state(repo)
    done, said = run_core(config)
    assert done.steps == ("build", "sign", "PMC checks", "stage", "tags", "images", "constraints", "sbom",
                          "attest", "provenance", "index", "constraints tags", "vote email")
    branch = git_cli(repo, "rev-parse", "constraints-3-3")
    assert git_cli(repo, "rev-parse", "constraints-3.3.3rc1^{commit}") == branch
    assert git_cli(repo, "ls-tree", "--name-only", branch).split() == sorted(FILES)  # no .asc, no .sha512
    assert git_cli(repo, "rev-parse", "3.3.3rc1^{commit}") == head  # the candidate's own tag, as before
    assert checkout_state(repo)[:3] == before[:3]  # HEAD, its branch and the index
    record = json.loads((repo / "dist" / f"core-{DATE}" / "wave.json").read_text())
    assert record["constraints_tags"] == {"branch": "constraints-3-3", "commit": branch,
                                          "tag": "constraints-3.3.3rc1", "files": sorted(FILES)}
    assert "constraints tags" in record["steps"]
    assert f"2 constraints files on constraints-3-3 at {branch[:12]} (a new commit), tagged " \
           "constraints-3.3.3rc1" in said

    again, said = run_core(config)  # a rerun: nothing committed, nothing tagged
    assert again.constraints is not None and not again.constraints.committed and not again.constraints.tagged
    assert git_cli(repo, "rev-parse", "constraints-3-3") == branch
    assert f"constraints-3.3.3rc1 names {branch[:12]} on constraints-3-3 with these 2 files already" in said

    write_constraints(config, {**FILES, "constraints-3.13.txt": b"apache-airflow==3.3.3\nattrs==26.0\n"})
    with pytest.raises(RefusedError) as changed:
        run_core(config)
    assert str(changed.value) == (
        f"git tag constraints-3.3.3rc1 names {branch[:12]}, which holds other constraints files than "
        f"{repo / 'dist' / f'core-{DATE}' / 'constraints'}; a tag is never moved")
    assert git_cli(repo, "rev-parse", "constraints-3-3") == branch


def test_the_step_refuses_in_one_line_without_constraints_files(repo: Path) -> None:
    config, _ = core_repo(repo)
    folder = repo / "dist" / f"core-{DATE}" / "constraints"
    for made in (False, True):  # no folder; a folder with only signatures and other files
        if made:
            folder.mkdir(parents=True)
            (folder / "constraints-3.11.txt.asc").write_text("signature\n")
            (folder / "notes.txt").write_text("notes\n")
        with pytest.raises(RefusedError) as refused:
            run_core(config)
        assert str(refused.value) == (
            f"{folder} holds no constraints files (constraints-P.txt) to tag constraints-3.3.3rc1 on: the "
            "wave's constraints step writes them from its images; run the wave again")
    record = json.loads((repo / "dist" / f"core-{DATE}" / "wave.json").read_text())
    assert "constraints tags" not in record["steps"] and "vote email" not in record["steps"]
    assert git_cli(repo, "branch", "--list", "constraints-*") == ""
    assert git_cli(repo, "tag", "--list", "constraints-*") == ""


# --- promotion's constraints tags ----------------------------------------------------------------------


def promoted(config: ReleaseConfig) -> WavePromotion:
    """What promoting the core wave decides, from the constraints tags there now."""
    plan = plan_train(config, CORE, date=DATE).plan
    tagged = constraints_versions(CORE, GitReader(config.root).tags_matching([constraints_glob(CORE)]))
    return wave_promotion(plan, (), SvnLayout.VERSIONED, final_constraints(plan, tagged, CORE))


def earlier_final(repo: Path, version: str, *, latest: bool) -> str:
    """An earlier final's constraints: its own branch's commit, tagged, and constraints-latest on it."""
    major, minor, _ = version.split(".")
    commit, _ = git.commit_files(repo, f"constraints-{major}-{minor}",
                                 {"constraints-3.11.txt": version.encode()}, f"Constraints of {version}")
    git.ensure_tag(repo, f"constraints-{version}", commit, version)
    if latest:
        git.move_tag(repo, "constraints-latest", commit, version)
    return commit


def test_promotion_tags_the_final_on_the_candidates_commit_and_moves_latest_there(repo: Path) -> None:
    config, _ = core_repo(repo)
    earlier_final(repo, "3.3.2", latest=True)
    write_constraints(config, FILES)
    run_core(config)
    rc = git_cli(repo, "rev-parse", "constraints-3.3.3rc1^{commit}")
    promotion = promoted(config)
    assert promotion.constraints is not None and promotion.constraints.latest == "constraints-latest"
    said: list[str] = []
    at = constraints_source(config, CORE, DATE, promotion)
    assert at == rc
    tags = ["constraints-3.3.3", "constraints-latest"]
    assert tag_constraints(config, CORE, promotion, at, said.append) == tags
    assert [git_cli(repo, "rev-parse", f"{tag}^{{commit}}") for tag in tags] == [rc, rc]
    assert said == [f"tagged {rc[:12]} on constraints-3-3: constraints-3.3.3, constraints-latest"]
    assert tag_constraints(config, CORE, promotion, at, said.append) == []  # a rerun sets nothing


def test_a_final_on_an_older_line_leaves_constraints_latest_on_the_higher_one(repo: Path) -> None:
    config, _ = core_repo(repo)
    earlier_final(repo, "3.3.2", latest=False)
    newer = earlier_final(repo, "3.4.0", latest=True)
    write_constraints(config, FILES)
    run_core(config)
    promotion = promoted(config)
    assert promotion.constraints is not None and promotion.constraints.latest == ""
    at = constraints_source(config, CORE, DATE, promotion)
    assert tag_constraints(config, CORE, promotion, at, lambda line: None) == ["constraints-3.3.3"]
    assert git_cli(repo, "rev-parse", "constraints-latest^{commit}") == newer


def test_a_promotion_decided_before_a_higher_final_never_moves_latest_back(repo: Path) -> None:
    config, _ = core_repo(repo)
    earlier_final(repo, "3.3.2", latest=True)
    write_constraints(config, FILES)
    run_core(config)
    promotion = promoted(config)  # decided (and recorded) while 3.3.3 was the highest
    assert promotion.constraints is not None and promotion.constraints.latest == "constraints-latest"
    newer = earlier_final(repo, "3.4.0", latest=True)  # then 3.4.0 went out first
    said: list[str] = []
    at = constraints_source(config, CORE, DATE, promotion)
    assert tag_constraints(config, CORE, promotion, at, said.append) == ["constraints-3.3.3"]
    assert git_cli(repo, "rev-parse", "constraints-latest^{commit}") == newer
    assert said[0] == "constraints-latest names 3.4.0, a higher final promoted since: left where it is"


def test_promotion_refuses_before_anything_moves_without_the_candidates_constraints_tag(repo: Path) -> None:
    config, _ = core_repo(repo)
    promotion = promoted(config)  # the candidate's run never tagged its constraints here
    with pytest.raises(RefusedError) as refused:
        constraints_source(config, CORE, DATE, promotion)
    assert str(refused.value) == (
        f"no git tag constraints-3.3.3rc1: the run of the core wave of {DATE} tags its constraints (its "
        "constraints tags step); promote from the tree that ran it, or fetch its tags")
