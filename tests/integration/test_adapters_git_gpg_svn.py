# SPDX-License-Identifier: Apache-2.0
"""The git, gpg and svn adapters against the real programs, in throwaway repositories and keyrings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git as git_cli
from vote_fixtures import Keyring, generate_key, make_svn, new_gnupghome, shared_keyring, svn

from release.adapters import git, gpg
from release.adapters import svn as svn_adapter
from release.errors import ConfigError, RefusedError, ServiceError

# --- git ---------------------------------------------------------------------------------------------


def test_commit_and_its_time(sample_repo: Path) -> None:
    head = git_cli(sample_repo, "rev-parse", "HEAD")
    assert git.commit_of(sample_repo) == head
    assert git.commit_time(sample_repo, head) == int(git_cli(sample_repo, "log", "-1", "--format=%ct"))


def test_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a git checkout"):
        git.commit_of(tmp_path)


def test_unknown_ref_is_refused(sample_repo: Path) -> None:
    with pytest.raises(RefusedError, match="no commit 'nope'"):
        git.commit_of(sample_repo, "nope")


def test_changed_files_are_tracked_changes_only(sample_repo: Path) -> None:
    assert git.changed_files(sample_repo) == []
    (sample_repo / "untracked.txt").write_text("new\n")
    assert git.changed_files(sample_repo) == []
    (sample_repo / "README.md").write_text("edited\n")
    (sample_repo / "setup.py").write_text("# staged\n")
    git_cli(sample_repo, "add", "setup.py")
    assert git.changed_files(sample_repo) == ["README.md", "setup.py"]


def test_export_is_the_commit_not_the_working_tree(sample_repo: Path, tmp_path: Path) -> None:
    (sample_repo / "README.md").write_text("uncommitted\n")
    (sample_repo / "run.sh").write_text("#!/bin/sh\n")
    (sample_repo / "run.sh").chmod(0o755)
    git_cli(sample_repo, "add", "run.sh")
    git_cli(sample_repo, "commit", "-q", "-m", "script")
    (sample_repo / "stray.txt").write_text("untracked\n")
    tree = git.export_commit(sample_repo, "HEAD", tmp_path / "export")
    assert (tree / "README.md").read_text() != "uncommitted\n"
    assert not (tree / "stray.txt").exists() and not (tree / ".git").exists()
    assert os.access(tree / "run.sh", os.X_OK)
    first = git.export_commit(sample_repo, "HEAD~1", tmp_path / "first")
    assert not (first / "run.sh").exists()


def test_tags_are_created_once_and_never_moved(sample_repo: Path) -> None:
    head = git.commit_of(sample_repo)
    assert git.tag_commit(sample_repo, "1.10.6rc1") is None
    assert git.ensure_tag(sample_repo, "1.10.6rc1", head, "Sample App 1.10.6rc1") is True
    assert git.ensure_tag(sample_repo, "1.10.6rc1", head, "Sample App 1.10.6rc1") is False
    assert git.tag_commit(sample_repo, "1.10.6rc1") == head
    assert git_cli(sample_repo, "cat-file", "-t", "1.10.6rc1") == "tag"  # annotated
    (sample_repo / "README.md").write_text("next\n")
    git_cli(sample_repo, "commit", "-q", "-am", "next")
    with pytest.raises(RefusedError, match="already points at"):
        git.ensure_tag(sample_repo, "1.10.6rc1", git.commit_of(sample_repo), "moved")


# --- gpg ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return shared_keyring()


def test_list_keys_secret_and_public(keyring: Keyring) -> None:
    [secret] = gpg.list_keys(keyring.fingerprint, gnupghome=keyring.home, secret=True)
    assert secret.fingerprint == keyring.fingerprint and secret.can_sign
    assert gpg.list_keys("nobody@nowhere.invalid", gnupghome=keyring.home) == []


def test_sign_and_verify_a_detached_signature(keyring: Keyring, tmp_path: Path) -> None:
    data = tmp_path / "sample_app-1.10.6.tar.gz"
    data.write_bytes(b"release bytes")
    signature = gpg.sign_detached(data, key=keyring.fingerprint, gnupghome=keyring.home)
    assert signature.name == "sample_app-1.10.6.tar.gz.asc"
    assert signature.read_text().startswith("-----BEGIN PGP SIGNATURE-----")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    check = gpg.verify_detached(signature, data, gnupghome=keyring.home)
    assert check.good and check.signer == keyring.fingerprint
    data.write_bytes(b"release bytez")
    bad = gpg.verify_detached(signature, data, gnupghome=keyring.home)
    assert not bad.good and "BADSIG" in bad.detail


def test_a_signature_from_a_key_outside_the_keyring_is_not_good(keyring: Keyring, tmp_path: Path) -> None:
    data = tmp_path / "file"
    data.write_bytes(b"x")
    signature = gpg.sign_detached(data, key=keyring.fingerprint, gnupghome=keyring.home)
    with gpg.temporary_home() as empty:
        check = gpg.verify_detached(signature, data, gnupghome=empty)
    assert not check.good and check.detail.startswith(("ERRSIG", "NO_PUBKEY"))
    assert not empty.exists()


def test_keys_files_are_read_without_importing_and_imported_on_demand(keyring: Keyring) -> None:
    assert gpg.fingerprints_in(keyring.keys_file) == {keyring.fingerprint}
    with gpg.temporary_home() as home:
        assert gpg.list_keys(None, gnupghome=home) == []
        assert gpg.import_keys(keyring.keys_file, gnupghome=home) == {keyring.fingerprint}
        assert [k.fingerprint for k in gpg.list_keys(None, gnupghome=home)] == [keyring.fingerprint]


def test_an_expired_key_is_seen_as_expired() -> None:
    home = new_gnupghome()
    fingerprint = generate_key(home, "Old RM <old@sample.invalid>", expire="1y", faked_time="20200101T000000")
    [key] = gpg.list_keys(fingerprint, gnupghome=home)
    assert key.is_expired() and key.validity == "e"


# --- svn ---------------------------------------------------------------------------------------------


def test_svn_round_trip(tmp_path: Path) -> None:
    repo = make_svn(tmp_path, "sample-app", "KEYS text\n")
    folder = svn_adapter.join(repo.dev_url, "sample-app", "1.10.6rc1")
    assert folder == f"{repo.url}/dev/sample-app/1.10.6rc1"
    assert svn_adapter.exists(repo.dev_url) and not svn_adapter.exists(folder)
    assert svn_adapter.read_text(repo.keys_url("sample-app")) == "KEYS text\n"
    source = tmp_path / "candidate"
    source.mkdir()
    (source / "a.tar.gz").write_bytes(b"\x1f\x8b binary \x00 bytes")
    (source / "a.tar.gz.sha512").write_text("abc  a.tar.gz\n")
    revision = svn_adapter.import_folder(source, folder, "Stage Sample App 1.10.6rc1 for the vote")
    assert revision == 2
    assert svn("list", folder).split() == ["a.tar.gz", "a.tar.gz.sha512"]
    assert "Stage Sample App 1.10.6rc1 for the vote" in svn("log", "-r", "2", repo.url)
    exported = svn_adapter.export(folder, tmp_path / "exported")
    assert (exported / "a.tar.gz").read_bytes() == b"\x1f\x8b binary \x00 bytes"
    assert not (exported / ".svn").exists()
    released = svn_adapter.join(repo.release_url, "sample-app", "1.10.6")
    assert svn_adapter.copy(folder, released, "Release Sample App 1.10.6") == 3
    assert "A /release/sample-app/1.10.6 (from /dev/sample-app/1.10.6rc1:2)" in svn(
        "log", "-v", "-r", "3", repo.url)


def test_svn_failures_are_service_errors(tmp_path: Path) -> None:
    missing = (tmp_path / "no-repo").as_uri()
    with pytest.raises(ServiceError):
        svn_adapter.exists(missing)
    repo = make_svn(tmp_path, "sample-app", "")
    with pytest.raises(ServiceError, match="cannot read"):
        svn_adapter.read_text(f"{repo.url}/release/sample-app/NOPE")
