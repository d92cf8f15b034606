# SPDX-License-Identifier: Apache-2.0
"""The dry run is a preflight: each problem a real run would refuse is named, all at once, by
`invoke release --dry-run`, which then exits 6. Cheap: git repositories in a temporary folder, a
throwaway gpg key and a file:// svn repository; no engine, no sandbox, no image builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git, make_sample_repo

from release.adapters import gpg
from release.config import load_config
from release.pipeline.release import start_over
from release.record import BuildInfo, load_record, release_dir
from release.versions import parse_version


def dry_run(root: Path, version: str, *, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "RELEASE_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "400", **(env or {})}
    environ.pop("TWINE_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), "release", "--version", version,
         "--dry-run", "--json"], cwd=root, env=environ, capture_output=True, text=True, timeout=300)


def problems_of(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """check -> the problems' lines, from the JSON plan; each is on stderr as one line too."""
    assert result.returncode == 6, result.stderr
    found: dict[str, list[str]] = {}
    for problem in json.loads(result.stdout)["problems"]:
        line = f"{problem['what']}: {problem['fix']}"
        assert f"error: preflight: {line}\n" in result.stderr
        found.setdefault(problem["check"], []).append(line)
    count = sum(map(len, found.values()))
    assert result.stderr.rstrip().splitlines()[-1].startswith(f"error: the dry run found {count} problem")
    return found


def commit(root: Path, message: str) -> str:
    git(root, "-c", "user.email=rm@sample.invalid", "-c", "user.name=RM", "commit", "-qam", message)
    return git(root, "rev-parse", "HEAD")


def test_a_clean_candidate_passes(tmp_path: Path) -> None:
    root = make_sample_repo(tmp_path / "sample")
    result = dry_run(root, "1.10.6rc1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["problems"] == []


def test_the_dry_run_names_what_is_wrong_in_the_tree(tmp_path: Path) -> None:
    root = make_sample_repo(tmp_path / "sample")
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace('base-image = "{registry}/sandbox/python:{python}"',
                                         'base-image = "python:{python}-slim-bookworm"\n'
                                         'dockerfile = "Dockerfile"')
    text = text.replace('[tool.release]', '[project]\nname = "sample-app"\nrequires-python = ">=3.10"\n'
                        'dynamic = ["version", "scripts"]\n\n[tool.release]')
    pyproject.write_text(text)
    (root / "CHANGELOG.md").write_text("# Changelog\n\n## [1.10.5] - 2026-01-01\n\n- older\n")
    (root / "sample_app" / "extra.py").write_text("print('no header')\n")
    git(root, "add", "-A")
    git(root, "rm", "-q", "NOTICE")
    commit(root, "break it")
    git(root, "tag", "1.10.6")  # the final is out already
    (root / "README.md").write_text("changed\n")
    found = problems_of(dry_run(root, "1.10.6rc1"))
    assert set(found) == {"dirty-tree", "changelog", "dockerfile", "base-image", "requires-python",
                          "pmc-checks", "released"}, found
    assert "README.md" in found["dirty-tree"][0]
    assert "1.10.6" in found["changelog"][0] and "CHANGELOG.md" in found["changelog"][0]
    assert "python 3.9:" in found["requires-python"][0]
    pmc = " ".join(found["pmc-checks"])
    assert "NOTICE is missing" in pmc and "sample_app/extra.py" in pmc
    assert not (root / "dist").exists() and not (root / ".release").exists()


@pytest.fixture
def release_manager(tmp_path: Path) -> tuple[Path, str, str]:
    """A gpg home with a signing key, and svn whose KEYS holds another key: (home, fingerprint, svn URL)."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    key = gpg.generate_key("RM <rm@sample.invalid>", gnupghome=home, algorithm="ed25519")
    other = gpg.generate_key("Other <other@sample.invalid>", gnupghome=home, algorithm="ed25519")
    subprocess.run(["svnadmin", "create", str(tmp_path / "svn")], check=True)
    keys = tmp_path / "import" / "sample-app" / "KEYS"
    keys.parent.mkdir(parents=True)
    keys.write_text(gpg.keys_entry(other, gnupghome=home))
    url = (tmp_path / "svn").as_uri()
    subprocess.run(["svn", "import", "-q", "-m", "KEYS", str(tmp_path / "import"), f"{url}/release"],
                   check=True)
    return home, key, url


def test_the_dry_run_names_what_is_wrong_with_the_target(tmp_path: Path,
                                                         release_manager: tuple[Path, str, str]) -> None:
    home, key, url = release_manager
    root = make_sample_repo(tmp_path / "sample", version="2.0.0", vote="none")  # its final in one command
    tagged = git(root, "rev-parse", "HEAD")
    git(root, "tag", "2.0.0")
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace("[tool.release]\n", (
        "[tool.release]\n"
        'registry = "127.0.0.1:9"\nindex = "http://127.0.0.1:9/legacy/"\n'
        f'svn-dev = "{url}/dev"\nsvn-release = "{url}/release"\nsigning-key = "{key}"\n')))
    changelog = root / "CHANGELOG.md"
    section = "## [2.0.0] - 2026-12-07\n\n- major\n\n"
    changelog.write_text(changelog.read_text().replace("## [", section + "## [", 1))
    built = commit(root, "real services")
    (root / "README.md").write_text("# Sample\n\nmoved on\n")
    head = commit(root, "after the build")
    record = load_record(release_dir(root, "2.0.0"), "2.0.0")
    record.set_build(BuildInfo(built, 0, "sample_app/__init__.py", "2.0.0"))
    (root / "docker").mkdir()
    found = problems_of(dry_run(root, "2.0.0", env={"GNUPGHOME": str(home),
                                                    "DOCKER_CONFIG": str(tmp_path / "docker")}))
    assert set(found) == {"head-moved", "base-image", "keys", "credentials", "tagged"}, found
    assert built[:12] in found["head-moved"][0] and head[:12] in found["head-moved"][0]
    assert "--restart" in found["head-moved"][0]
    assert "127.0.0.1:9" in found["base-image"][0]
    assert key in found["keys"][0] and "KEYS" in found["keys"][0]
    assert any("docker login 127.0.0.1:9" in line for line in found["credentials"])
    assert any("TWINE_PASSWORD" in line for line in found["credentials"])
    assert tagged[:12] in found["tagged"][0] and built[:12] in found["tagged"][0]


def task(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "RELEASE_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
                          cwd=root, env=environ, capture_output=True, text=True, timeout=300)


def release(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return task(root, "release", *args)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 6, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_rerun_after_head_moved_says_so_before_anything_starts(tmp_path: Path) -> None:
    root = make_sample_repo(tmp_path / "sample", vote="none")  # its final in one command
    built = git(root, "rev-parse", "HEAD")
    record = load_record(release_dir(root, "1.10.6"), "1.10.6")
    record.set_build(BuildInfo(built, 0, "sample_app/__init__.py", "1.10.6"))
    (root / "README.md").write_text("# Sample\n\na fix\n")
    head = commit(root, "a fix after the build")
    line = one_error_line(release(root, "--version", "1.10.6"))
    assert f"was built from {built[:12]}, HEAD is now {head[:12]}" in line and "--restart" in line
    # an image job (split CI) builds the release's images from that same commit, or not at all
    for push in ((), ("--push",)):
        line = one_error_line(task(root, "images", "--version", "1.10.6", "--python", "3.11", *push))
        assert f"was built from {built[:12]}, HEAD is now {head[:12]}" in line
    assert not (root / ".release").exists()  # refused before the sandbox started

    record.step_done("images")  # something of it went out: it cannot start over
    line = one_error_line(release(root, "--version", "1.10.6", "--restart"))
    assert "published already" in line and f"git checkout {built[:12]}" in line

    del record.steps["images"]
    record.save()
    said: list[str] = []
    start_over(load_config(root), parse_version("1.10.6"), lambda line: said.append(str(line)))
    aside = root / "dist" / ".restarted" / f"1.10.6-{built[:12]}"
    assert load_record(aside, "1.10.6").build is not None
    assert load_record(release_dir(root, "1.10.6"), "1.10.6").build is None
    assert any("starts over from" in line for line in said)


def test_a_dockerfile_changed_since_the_commit_is_refused(tmp_path: Path) -> None:
    root = make_sample_repo(tmp_path / "sample", vote="none")  # its final in one command
    (root / "Dockerfile").write_text("FROM scratch\n")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.release]\n",
                                                       '[tool.release]\ndockerfile = "Dockerfile"\n'))
    git(root, "add", "-A")
    commit(root, "a Dockerfile of its own")
    (root / "Dockerfile").write_text("FROM scratch\nLABEL edited=yes\n")
    line = one_error_line(release(root, "--version", "1.10.6"))
    assert "Dockerfile changed since" in line and "git checkout -- Dockerfile" in line
    assert not (root / ".release").exists()
