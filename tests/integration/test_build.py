# SPDX-License-Identifier: Apache-2.0
"""Building the release files: from the commit only, reproducibly, final names for svn, rc names for PyPI."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import git, make_sample_repo
from vote_fixtures import built_sample

from release.config import load_config
from release.errors import CommandError, ConfigError, RefusedError, VerificationError
from release.record import sha512_of
from release.steps.build import (
    BuildResult,
    build_release,
    check_packages,
)
from release.versions import parse_version

RC = "1.10.6rc1"
V_RC = parse_version(RC)
NOTES = "### Fixed\n- The scheduler no longer loses a heartbeat on restart."


@pytest.fixture(scope="module")
def rc_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    return built_sample(tmp_path_factory, RC)


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def metadata_version(package: Path) -> str:
    if package.suffix == ".whl":
        with zipfile.ZipFile(package) as wheel:
            [meta] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
            text = wheel.read(meta).decode()
    else:
        with tarfile.open(package) as sdist:
            [info] = [m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("PKG-INFO")]
            handle = sdist.extractfile(info)
            assert handle is not None
            text = handle.read().decode()
    return next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Version: "))


@pytest.mark.slow
def test_candidate_layout_final_names_for_svn_rc_names_for_pypi(rc_build: tuple[Path, BuildResult]) -> None:
    root, result = rc_build
    directory = root / "dist" / RC
    assert names(directory) == ["build.log", "pypi", "release.json", "svn"]
    assert names(directory / "svn") == [
        "sample-app-1.10.6-source.tar.gz", "sample_app-1.10.6-py3-none-any.whl", "sample_app-1.10.6.tar.gz"]
    assert names(directory / "pypi") == [
        "sample_app-1.10.6rc1-py3-none-any.whl", "sample_app-1.10.6rc1.tar.gz"]
    for package in (directory / "svn").glob("sample_app-*"):
        assert metadata_version(package) == "1.10.6"
    for package in (directory / "pypi").iterdir():
        assert metadata_version(package) == RC
    assert result.release_notes == NOTES
    assert result.declared_in == "sample_app/__init__.py"
    assert [p.parent.name for p in result.svn_files + result.pypi_files] == ["svn"] * 3 + ["pypi"] * 2


@pytest.mark.slow
def test_the_record_says_what_was_built_from_what(rc_build: tuple[Path, BuildResult]) -> None:
    root, result = rc_build
    record = json.loads((root / "dist" / RC / "release.json").read_text())
    commit = git(root, "rev-parse", "HEAD")
    assert record["build"]["commit"] == result.commit == commit
    assert record["build"]["source_date_epoch"] == int(git(root, "log", "-1", "--format=%ct"))
    assert record["build"]["release_notes"] == NOTES
    assert record["steps"]["build"]["commit"] == commit
    assert set(record["files"]) == {
        "svn/sample-app-1.10.6-source.tar.gz", "svn/sample_app-1.10.6-py3-none-any.whl",
        "svn/sample_app-1.10.6.tar.gz", "pypi/sample_app-1.10.6rc1-py3-none-any.whl",
        "pypi/sample_app-1.10.6rc1.tar.gz"}
    for relative, entry in record["files"].items():
        assert entry["sha512"] == sha512_of(root / "dist" / RC / relative)
        assert entry["set"] == relative.split("/")[0]
    assert record["files"]["svn/sample-app-1.10.6-source.tar.gz"]["kind"] == "source"


@pytest.mark.slow
def test_tarballs_are_normalised(rc_build: tuple[Path, BuildResult]) -> None:
    root, result = rc_build
    for tarball in (root / "dist" / RC / "svn").glob("*.tar.gz"):
        raw = tarball.read_bytes()
        assert raw[4:8] == b"\0\0\0\0"  # gzip header mtime
        with tarfile.open(tarball) as archive:
            members = archive.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        top = members[0].name
        assert top in {"sample-app-1.10.6", "sample_app-1.10.6"} and members[0].isdir()
        for member in members:
            assert member.name == top or member.name.startswith(top + "/")
            assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
            assert member.mtime == result.source_date_epoch
            assert member.mode == (0o755 if member.isdir() else 0o644)
    with tarfile.open(root / "dist" / RC / "svn" / "sample-app-1.10.6-source.tar.gz") as source:
        listed = {m.name.split("/", 1)[1] for m in source.getmembers() if "/" in m.name}
    assert listed == set(git(root, "ls-files").split()) | {"sample_app"}


@pytest.mark.slow
def test_building_again_from_the_same_commit_gives_the_same_bytes(
        rc_build: tuple[Path, BuildResult], tmp_path: Path) -> None:
    first, _ = rc_build
    clone = tmp_path / "elsewhere"
    subprocess.run(["git", "clone", "-q", str(first), str(clone)], check=True)
    build_release(load_config(clone), V_RC)
    for relative in json.loads((first / "dist" / RC / "release.json").read_text())["files"]:
        assert (clone / "dist" / RC / relative).read_bytes() == (first / "dist" / RC / relative).read_bytes()


@pytest.mark.slow
def test_a_final_release_puts_the_same_bytes_in_both_sets(tmp_path_factory: pytest.TempPathFactory) -> None:
    root, result = built_sample(tmp_path_factory, "1.10.6")
    directory = root / "dist" / "1.10.6"
    assert names(directory / "pypi") == ["sample_app-1.10.6-py3-none-any.whl", "sample_app-1.10.6.tar.gz"]
    for package in (directory / "pypi").iterdir():
        assert package.read_bytes() == (directory / "svn" / package.name).read_bytes()
    assert result.release_notes == NOTES


def test_a_dirty_tree_is_refused_naming_the_files(sample_repo: Path) -> None:
    (sample_repo / "README.md").write_text("local edit\n")
    with pytest.raises(RefusedError, match=r"uncommitted changes to tracked files \(README.md\)"):
        build_release(load_config(sample_repo), V_RC)


def test_a_declared_version_mismatch_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = make_sample_repo(tmp_path / "sample", version="1.10.5")
    with pytest.raises(RefusedError, match=r"sample_app/__init__.py declares version '1.10.5'.*'1.10.6'"):
        build_release(load_config(root), V_RC)


def test_a_version_without_changelog_section_is_refused(sample_repo: Path) -> None:
    init = sample_repo / "sample_app" / "__init__.py"
    init.write_text(init.read_text().replace('"1.10.6"', '"1.10.7"'))
    git(sample_repo, "commit", "-q", "-am", "1.10.7")
    with pytest.raises(RefusedError, match=r"no section for 1.10.7 \(sections: 1.10.6, 1.10.5\)"):
        build_release(load_config(sample_repo), parse_version("1.10.7rc1"))


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside"])
def test_a_committed_link_out_of_the_tree_is_refused_in_one_line(sample_repo: Path, target: str) -> None:
    (sample_repo / "sample_app" / "link").symlink_to(target)
    git(sample_repo, "add", "sample_app/link")
    git(sample_repo, "commit", "-q", "-m", "a link out of the tree")
    with pytest.raises(RefusedError) as caught:
        build_release(load_config(sample_repo), V_RC)
    message = str(caught.value)
    assert "'sample_app/link'" in message and "cannot be released" in message
    assert not (sample_repo / "dist").exists()


def test_the_changelog_is_read_from_the_commit(sample_repo: Path) -> None:
    pyproject = sample_repo / "pyproject.toml"
    named = "[tool.release]\nchangelog = \"CHANGELOG.md\"\n"
    pyproject.write_text(pyproject.read_text().replace("[tool.release]\n", named))
    changelog = sample_repo / "CHANGELOG.md"
    kept = changelog.read_text()
    changelog.unlink()
    git(sample_repo, "commit", "-q", "-am", "no changelog")
    changelog.write_text(kept)  # in the working tree only: not what is released
    with pytest.raises(ConfigError, match=r"^\[tool.release\] changelog: CHANGELOG\.md is not in the commit"):
        build_release(load_config(sample_repo), V_RC)


@pytest.mark.slow
def test_a_build_from_another_commit_is_refused(rc_build: tuple[Path, BuildResult], tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(rc_build[0], root)
    (root / "README.md").write_text("changed\n")
    git(root, "commit", "-q", "-am", "later commit")
    with pytest.raises(RefusedError, match=r"dist/1.10.6rc1 was built from [0-9a-f]{12}, HEAD is"):
        build_release(load_config(root), V_RC)


@pytest.mark.slow
def test_twine_check_failures_name_the_package(rc_build: tuple[Path, BuildResult], tmp_path: Path) -> None:
    wheel = next((rc_build[0] / "dist" / RC / "pypi").glob("*.whl"))
    broken = tmp_path / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("METADATA"):
                data = data.replace(b"Description-Content-Type: text/markdown\n", b"")
            target.writestr(item, data)
    sdist = next((rc_build[0] / "dist" / RC / "pypi").glob("*.tar.gz"))
    with pytest.raises(VerificationError, match=rf"twine check --strict failed for {broken.name}:") as caught:
        check_packages([sdist, broken])
    assert sdist.name not in str(caught.value).split(":")[0]


def commit_setup_py(root: Path, old: str, new: str, message: str) -> None:
    setup = root / "setup.py"
    setup.write_text(setup.read_text().replace(old, new))
    git(root, "commit", "-q", "-am", message)


def test_the_build_backends_output_goes_to_the_log_not_the_console(
        sample_repo: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # the old license spelling: setuptools warns about the classifier in every hook
    old_style = ('license="Apache-2.0",\n'
                 '    classifiers=["License :: OSI Approved :: Apache Software License"],')
    commit_setup_py(sample_repo, 'license_expression="Apache-2.0",', old_style,
                    "A license classifier, which setuptools warns about")
    progress: list[str] = []
    result = build_release(load_config(sample_repo), parse_version("1.10.6"), progress=progress.append)
    console = "".join(capfd.readouterr()) + "\n".join(progress)
    log = (result.directory / "build.log").read_text()
    for backend_says in ("running egg_info", "running bdist_wheel", "License classifiers are deprecated"):
        assert backend_says in log
        assert backend_says not in console
    hooks = [line.split()[3] for line in log.splitlines() if line.startswith("+ ") and "_in_process" in line]
    assert hooks == ["get_requires_for_build_sdist", "build_sdist",
                     "get_requires_for_build_wheel", "build_wheel"]
    assert log.startswith("# ") and f"building sample-app 1.10.6 from {result.commit}" in log.splitlines()[0]
    assert progress[-1].endswith(f"(the build backend's output: {result.directory / 'build.log'})")


def test_a_failing_build_names_the_log_and_shows_its_end(
        sample_repo: Path, capfd: pytest.CaptureFixture[str]) -> None:
    commit_setup_py(sample_repo, "\nsetup(", '\nraise SystemExit("the sample is broken on purpose")\nsetup(',
                    "Break the build")
    with pytest.raises(CommandError) as caught:
        build_release(load_config(sample_repo), parse_version("1.10.6"), progress=lambda line: None)
    log = sample_repo / "dist" / "1.10.6" / "build.log"
    message = str(caught.value)
    assert message.startswith("building the sdist of sample-app-1.10.6 failed: ")
    assert f"its output is in {log}, ending with:" in message
    assert message.splitlines()[-1] == "  the sample is broken on purpose"
    assert len(message.splitlines()) <= 31  # the first line and at most 30 of the log
    assert caught.value.exit_code == 4
    assert "the sample is broken on purpose" in log.read_text()
    assert "broken on purpose" not in "".join(capfd.readouterr())
