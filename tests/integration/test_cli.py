# SPDX-License-Identifier: Apache-2.0
"""The command line as a release manager meets it: bad input is one clear line and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from vote_fixtures import Mail, vote_thread

from release.record import StageInfo, load_record, release_dir


def invoke(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASE_ROOT": str(cwd), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def write_project(root: Path, table: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.release]\n{table}\n")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("v1.10.6", "did you mean 1.10.6?"),
        ("1.10.6-rc1", "did you mean 1.10.6rc1?"),
        ("1.10", "did you mean 1.10.0?"),
        ("01.10.6", "did you mean 1.10.6?"),
        ("banana", "not canonical PEP 440"),
    ],
)
def test_bad_version_is_one_line_and_exit_2(tmp_path: Path, version: str, expected: str) -> None:
    root = write_project(tmp_path / "p", 'name = "x"\npython = ["3.11"]')
    before = snapshot(root)
    result = invoke(root, "release", "--version", version, "--dry-run")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert expected in lines[0]
    assert snapshot(root) == before


def test_missing_version_is_refused(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", 'name = "x"\npython = ["3.11"]')
    result = invoke(root, "release", "--dry-run")
    assert result.returncode == 1  # a plain ReleaseError
    assert result.stderr == "error: --version is required, e.g. --version 1.10.6\n"


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('name = "x"\npython = []', "python"),
        ('name = "x"\npython = ["3.11"]\ndefault-python = "3.12"', "default-python"),
        ('name = "x"\npython = ["3.11"]\nflavours = ["3.11"]', "flavours"),
        ('name = "x"\npython = "3.11"', "python"),
        ('name = "x"\npython = ["3.11"]\nuid = "50000"', "uid"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, table: str, key: str) -> None:
    root = write_project(tmp_path / "p", table)
    before = snapshot(root)
    result = invoke(root, "release", "--version", "1.10.6", "--dry-run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert key in lines[0]
    assert snapshot(root) == before
    assert not (root / ".release").exists()


def test_task_list_names_the_release_managers_commands() -> None:
    result = invoke(REPO_ROOT, "--list")
    assert result.returncode == 0
    for name in ("release", "sandbox.up", "sandbox.status", "sandbox.down"):
        assert name in result.stdout


def test_release_help_describes_the_options() -> None:
    result = invoke(REPO_ROOT, "release", "--help")
    assert result.returncode == 0
    assert "--dry-run" in result.stdout and "--version" in result.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["promote", "--version", "1.10.6", "--from-rc", "1.10.6rc1", "--without-vote-result"],
     '--without-vote-result needs --reason "why", which is recorded'),
    (["promote", "--version", "1.10.6", "--from-rc", "1.10.6rc1", "--reason", "x"],
     "--reason goes with --without-vote-result"),
    (["vote-result", "--version", "1.10.6rc1"], "--votes is required"),
    (["withdraw", "--version", "1.10.6"], "--reason is required: say why the release is withdrawn"),
    (["vote-result", "--version", "1.10.6rc1", "--votes", "v.txt", "--closed-at", "soon"],
     "'soon' is not a time like 2026-11-29T13:00:00Z"),
    (["vote-result", "--version", "1.10.6rc1", "--votes", "v.txt", "--count", "a@b"],
     "--count 'a@b': give ADDRESS=+1, ADDRESS=0, ADDRESS=-1 or ADDRESS=none"),
    (["vote-result", "--version", "1.10.6rc1", "--votes", "v.txt", "--count", "a@b=+1", "--count", "a@b=yes"],
     "--count 'a@b=yes': give ADDRESS=+1"),
])
def test_the_vote_and_withdraw_options_are_checked_before_anything_runs(tmp_path: Path, args: list[str],
                                                                         expected: str) -> None:
    root = write_project(tmp_path / "p", 'name = "x"\npython = ["3.11"]\nbinding-voters = ["a@b"]')
    (root / "v.txt").write_text("+1 a@b\n")
    before = snapshot(root)
    result = invoke(root, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], result.stderr
    assert snapshot(root) == before


def test_vote_result_lists_what_it_did_not_understand_and_waits_for_the_release_manager(
        tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", 'name = "x"\npython = ["3.11"]\nmailing-list = "dev@x.example"\n'
                                         'binding-voters = ["jane", "joe", "Ann <ann@x.example>"]')
    record = load_record(release_dir(root, "1.0.0rc1"), "1.0.0rc1")
    opened = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=4)
    record.set_stage(StageInfo("svn://dev/x/1.0.0rc1", "1.0.0rc1", "c" * 40, "F" * 40, "k", {},
                               (opened + timedelta(hours=72)).isoformat(), 1, opened=opened.isoformat()))
    thread = vote_thread(tmp_path / "thread.mbox", [
        Mail("Jane <jane@apache.org>", "+1", 2), Mail("Joe <joe@apache.org>", "+1 (binding)", 10),
        Mail("Jim <jim@example.org>", "LGTM, thanks", 11),
        Mail("Ann <ann@x.example>", "1) the LICENSE is missing\n2) so is the NOTICE", 80)],
        opened=opened, candidate="1.0.0rc1")
    args = ("vote-result", "--version", "1.0.0rc1", "--votes", str(thread))

    held = invoke(root, *args)
    assert held.returncode == 7, held.stderr
    assert "Replies not counted as they stand (1 need reading)" in held.stderr
    assert "1) the LICENSE is missing / 2) so is the NOTICE" in held.stderr and "LGTM, thanks" in held.stderr
    last = held.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the vote on 1.0.0rc1 cannot pass yet: ") and "--count ADDRESS=VOTE" in last
    draft = (root / "dist" / "1.0.0rc1" / "vote-result-email.txt").read_text()
    assert "The count is not finished" in draft and "1) the LICENSE is missing" in draft

    undecided = invoke(root, *args, "--count", "ann@x.example=+1")
    assert undecided.returncode == 6 and "--count needs --decided-by NAME" in undecided.stderr

    counted = invoke(root, *args, "--count", "ann@x.example=+1", "--decided-by", "Rita Manager")
    assert counted.returncode == 0, counted.stderr
    result = load_record(release_dir(root, "1.0.0rc1"), "1.0.0rc1").vote_result
    assert result is not None and result.passed
    assert result.decided == {"ann@x.example": "+1"} and result.decided_by == "Rita Manager"


@pytest.mark.parametrize("command", [
    ("release", "--version", "1.10.6"),
    ("publish", "--version", "1.10.6"),
    ("images", "--version", "1.10.6", "--push"),
])
def test_a_final_of_a_voting_project_is_refused_before_anything_starts(tmp_path: Path,
                                                                       command: tuple[str, ...]) -> None:
    """vote = "asf" (the default): a final ships only from its promoted candidate; the refusal is one
    line, exit 6, and no service is started for it (no .release/ sandbox)."""
    root = write_project(tmp_path / "p", 'name = "x"\npython = ["3.11"]')
    result = invoke(root, *command)
    assert result.returncode == 6, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: 1.10.6 is a final and this project's releases are voted on")
    assert "invoke promote --version 1.10.6 --from-rc RC" in lines[0]
    assert not (root / ".release").exists() and not (root / "dist").exists()


def test_invoke_constraints_of_a_project_staging_in_atr_is_refused_before_the_sandbox_starts(
        tmp_path: Path) -> None:
    """Its constraints go out attached to the images: one line, exit 6, no sandbox started for it."""
    root = write_project(tmp_path / "p", 'name = "x"\npython = ["3.11"]\nstaging = "atr"\natr = "sandbox"')
    result = invoke(root, "constraints", "--version", "1.10.6rc1")
    assert result.returncode == 6, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: 1.10.6rc1 is staged in ATR"), result.stderr
    assert not (root / ".release").exists() and not (root / "dist").exists()


def committed(root: Path) -> Path:
    """`root` as a git checkout of one commit holding what is there."""
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.org",
                                                 "commit", "-q", "-m", "x"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def test_the_dry_run_of_a_final_says_whether_a_real_run_refuses_it(tmp_path: Path) -> None:
    voting = committed(write_project(tmp_path / "asf", 'name = "x"\npython = ["3.11"]'))
    result = invoke(voting, "release", "--version", "1.10.6", "--dry-run")
    said = result.stderr.replace("\n", " ")
    assert result.returncode == 6, result.stderr  # the preflight's problems: exit 6
    assert "warning: a real run refuses: 1.10.6 is a final" in said
    assert "error: preflight: 1.10.6 is a final and this project's releases are voted on" in said
    assert "invoke promote --version 1.10.6 --from-rc RC" in said
    one_command = committed(write_project(tmp_path / "none", 'name = "x"\npython = ["3.11"]\nvote = "none"'))
    result = invoke(one_command, "release", "--version", "1.10.6", "--dry-run")
    assert "Traceback" not in result.stderr
    assert "real run refuses" not in result.stderr and "voted on" not in result.stderr
