# SPDX-License-Identifier: Apache-2.0
"""Housekeeping against a real svn repository and real gpg signatures (no engine, no registry): a
release is withdrawn only through its signed record, never by a bare mark anyone can make; the
newest of a line stays unless named; `--remove` removes exactly the listing that was printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vote_fixtures import Keyring, SvnRepo, generate_key, make_svn, new_gnupghome, shared_keyring, svn

from release.adapters import gpg
from release.config import ReleaseConfig, parse_config
from release.errors import RefusedError
from release.plan.cleanup import confirmed_withdrawals
from release.record import RECORD_NAME, release_dir
from release.steps.cleanup import cleanup_svn, locally_withdrawn, record_evidence
from release.versions import parse_version as V

NAME = "sample-app"


def record(root: Path, version: str, *, withdrawn: bool) -> Path:
    path = release_dir(root, version) / RECORD_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"version": version}
    if withdrawn:
        data["withdrawn"] = {"reason": "a test", "when": "2026-12-07T00:00:00+00:00"}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


World = tuple[ReleaseConfig, SvnRepo, Keyring]


@pytest.fixture
def world(tmp_path: Path) -> World:
    keyring = shared_keyring()
    repo = make_svn(tmp_path, NAME, keyring.keys_file.read_text(encoding="utf-8"))
    for folder in ("1.10.5", "1.10.6", "constraints-1.10.6", "1.9.0"):
        svn("mkdir", "--parents", "-m", f"release {folder}", f"{repo.release_url}/{NAME}/{folder}")
    root = tmp_path / "checkout"
    root.mkdir()
    return parse_config(root, {"name": NAME, "image": "sample/app", "python": ["3.11"]}), repo, keyring


def releases(repo: SvnRepo) -> list[str]:
    return svn("list", f"{repo.release_url}/{NAME}").split()


def test_a_bare_mark_or_a_record_signed_by_another_key_withdraws_nothing(world: World) -> None:
    config, repo, _ = world
    outsider = new_gnupghome()
    stranger = generate_key(outsider, "Mallory <m@evil.example>")  # a key that is not in the project's KEYS
    forged = record(config.root, "1.10.6", withdrawn=True)
    gpg.sign_detached(forged, key=stranger, gnupghome=outsider)
    claimed = {V("1.10.6"), V("1.9.0")}  # 1.9.0: a withdrawn-1.9.0 tag with no record at all
    evidence = record_evidence(config, claimed, svn_release_url=repo.release_url,
                               keys_url=repo.keys_url(NAME))
    withdrawn, ignored = confirmed_withdrawals(claimed, evidence)
    assert withdrawn == frozenset()
    assert [line.split(" is marked")[0] for line in ignored] == ["1.9.0", "1.10.6"]
    listing = cleanup_svn(config, svn_dev_url=repo.dev_url, svn_release_url=repo.release_url,
                          withdrawn=withdrawn, ignored=ignored)
    assert [r.name for r in listing.removals] == ["1.10.5"]  # never the current 1.10.6 nor its constraints
    removed = cleanup_svn(config, svn_dev_url=repo.dev_url, svn_release_url=repo.release_url,
                          withdrawn=withdrawn, remove=True, printed=listing.digest)
    assert removed.revision is not None
    assert releases(repo) == ["1.10.6/", "1.9.0/", "KEYS", "constraints-1.10.6/"]


def test_a_withdrawal_signed_by_a_keys_key_counts_and_the_newest_goes_only_when_named(world: World) -> None:
    config, repo, keyring = world
    signed = record(config.root, "1.10.6", withdrawn=True)
    gpg.sign_detached(signed, key=keyring.fingerprint, gnupghome=keyring.home)
    assert locally_withdrawn(config) == {V("1.10.6")}
    evidence = record_evidence(config, {V("1.10.6")}, svn_release_url=repo.release_url,
                               keys_url=repo.keys_url(NAME))
    withdrawn, ignored = confirmed_withdrawals({V("1.10.6")}, evidence)
    assert withdrawn == {V("1.10.6")} and ignored == ()
    kept = cleanup_svn(config, svn_dev_url=repo.dev_url, svn_release_url=repo.release_url,
                       withdrawn=withdrawn)
    assert kept.removals == ()  # 1.10.6 is still the newest of 1.10, and 1.10.5 the newest left
    named = cleanup_svn(config, svn_dev_url=repo.dev_url, svn_release_url=repo.release_url,
                        withdrawn=withdrawn, named={V("1.10.6")})
    assert {r.name: r.why for r in named.removals} == {"1.10.6": "withdrawn",
                                                       "constraints-1.10.6": "withdrawn"}


def test_remove_refuses_a_listing_that_changed_since_it_was_printed(world: World) -> None:
    config, repo, _ = world
    printed = cleanup_svn(config, svn_dev_url=repo.dev_url, svn_release_url=repo.release_url)
    svn("mkdir", "-m", "another old release lands", f"{repo.release_url}/{NAME}/1.10.4")
    before = releases(repo)
    with pytest.raises(RefusedError, match="changed since invoke cleanup printed its listing"):
        cleanup_svn(config, svn_dev_url=repo.dev_url, svn_release_url=repo.release_url, remove=True,
                    printed=printed.digest)
    with pytest.raises(RefusedError, match="no listing was printed"):
        cleanup_svn(config, svn_dev_url=repo.dev_url, svn_release_url=repo.release_url, remove=True)
    assert releases(repo) == before


def test_the_record_in_svn_counts_when_the_checkout_has_none(world: World, tmp_path: Path) -> None:
    config, repo, keyring = world
    elsewhere = record(tmp_path / "elsewhere", "1.10.6", withdrawn=True)
    gpg.sign_detached(elsewhere, key=keyring.fingerprint, gnupghome=keyring.home)
    work = tmp_path / "wc"
    svn("checkout", f"{repo.release_url}/{NAME}/1.10.6", str(work))
    for name in (RECORD_NAME, RECORD_NAME + ".asc"):
        (work / name).write_bytes((elsewhere.parent / name).read_bytes())
        svn("add", str(work / name))
    svn("commit", "-m", "the withdrawn record", str(work))
    evidence = record_evidence(config, {V("1.10.6")}, svn_release_url=repo.release_url,
                               keys_url=repo.keys_url(NAME))
    assert confirmed_withdrawals({V("1.10.6")}, evidence)[0] == {V("1.10.6")}
