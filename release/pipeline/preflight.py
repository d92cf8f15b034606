# SPDX-License-Identifier: Apache-2.0
"""Gather what the preflight decides on (release/plan/preflight.py), reading only: git, the commit's
files, the changelog as the build reads it, gpg, KEYS, docker's and twine's credentials. Nothing is
started or written outside a temporary folder."""

from __future__ import annotations

import configparser
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from release import locks
from release.adapters import docker_config, git, gpg, svn
from release.adapters import index as index_adapter
from release.config import SANDBOX, ReleaseConfig
from release.errors import RefusedError, ReleaseError
from release.notes import notes_of
from release.pipeline.connect import Target
from release.plan.preflight import Facts, read_from_tree
from release.plan.project import ProjectFiles, requires_python
from release.plan.release import TargetState
from release.progress import Progress
from release.record import ReleaseRecord, load_record, record_of, release_dir
from release.sandbox.base_images import SANDBOX_SUITES
from release.steps.build import find_declared_version
from release.versions import ReleaseVersion

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib

HEAD_BYTES = 8192  # what the PMC checks read of each file (licences.is_binary's window)
RESTARTED = ".restarted"  # under dist/: releases started over from another commit (--restart)
PUBLISHING_STEPS = ("stage", "images", "push", "upload", "aliases", "constraints", "attest", "provenance")


def final_tagged(config: ReleaseConfig, version: ReleaseVersion) -> bool:
    """Whether git holds tag `version` here (what `invoke promote` makes); False outside a checkout."""
    try:
        return git.tag_commit(config.root, str(version)) is not None
    except ReleaseError:
        return False


def published(record: ReleaseRecord) -> bool:
    """Whether a run already sent something of the release out (svn, the registry, the index)."""
    return bool(record.images or record.tags) or any(record.is_done(s) for s in PUBLISHING_STEPS)


def _toml(path: Path) -> Mapping[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _ini(path: Path) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8") if path.is_file() else "")
    except (configparser.Error, UnicodeDecodeError):
        return {}
    return {section: dict(parser[section]) for section in parser.sections()}


def _requires_python(tree: Path) -> str:
    setup_py = tree / "setup.py"
    return requires_python(ProjectFiles(
        pyproject=_toml(tree / "pyproject.toml"), setup_cfg=_ini(tree / "setup.cfg"),
        setup_py=setup_py.read_text(encoding="utf-8", errors="replace") if setup_py.is_file() else ""))


def _files(tree: Path) -> list[Path]:
    return [p for p in sorted(tree.rglob("*")) if p.is_file() and not p.is_symlink()]


def _heads(tree: Path, files: list[Path]) -> dict[str, bytes]:
    found = {}
    for path in files:
        with open(path, "rb") as handle:
            found[path.relative_to(tree).as_posix()] = handle.read(HEAD_BYTES)
    return found


def _commit_facts(config: ReleaseConfig, version: ReleaseVersion, commit: str) -> dict[str, Any]:
    """What the commit itself holds: its files, the changelog, Requires-Python, the PMC checks' input."""
    with tempfile.TemporaryDirectory(prefix="release-preflight-") as work:
        tree = git.export_commit(config.root, commit, Path(work) / "commit")
        changelog_error = ""
        try:
            notes_of(tree, config, str(version.in_tree))
        except ReleaseError as exc:
            changelog_error = str(exc).rstrip(".")
        files = _files(tree)
        # the PMC checks read each file's head: only for a candidate that gets them
        heads = _heads(tree, files) if version.is_prerelease and config.checks_sources else {}
        main = tree / config.main.path if config.main.path != "." else tree
        declared = find_declared_version(main, config.name)
        return {"files": frozenset(p.relative_to(tree).as_posix() for p in files), "heads": heads,
                "changelog_error": changelog_error,
                "requires_python": _requires_python(main),
                "declared": (declared.value, declared.file) if declared else None}


def _key_facts(config: ReleaseConfig, target: Target | None, sign_with: str) -> dict[str, Any]:
    """The fingerprint a run signs with and the fingerprints in KEYS, when they can be read now."""
    key = sign_with or (target.signing_key if target is not None else config.signing_key)
    if key == SANDBOX or target is None:
        return {}  # the sandbox is not running: its key and KEYS are unknown here
    found: dict[str, Any] = {"keys_url": target.keys_url}
    try:
        secret = gpg.list_keys(key, gnupghome=target.gnupghome, secret=True)
    except ReleaseError as exc:
        return {"signing_key_error": str(exc).rstrip(".")}
    if len(secret) != 1:
        keyring = target.gnupghome or "~/.gnupg"
        what = "no secret key" if not secret else "several secret keys match"
        return {"signing_key_error": f"{what} {key!r} in {keyring}"}
    found["signing_key"] = secret[0].fingerprint
    try:
        with tempfile.TemporaryDirectory(prefix="release-keys-") as work:
            keys = Path(work) / "KEYS"
            keys.write_text(svn.read_text(target.keys_url), encoding="utf-8")
            found["keys"] = frozenset(gpg.fingerprints_in(keys))
    except ReleaseError:
        pass  # KEYS cannot be read now; the run says so when it signs
    return found


def gather(config: ReleaseConfig, version: ReleaseVersion, state: TargetState, target: Target | None, *,
           sign_with: str = "", restart: bool = False) -> Facts:
    """Every fact the preflight of `version` needs. `target` is None when the sandbox is not
    running: what only it could say (the sandbox's key and KEYS) is left unknown. With `restart`
    a build of which nothing is published is as good as gone (--restart moves it aside)."""
    root = config.root
    head = git.commit_of(root)
    record = record_of(root, version)
    recorded = record.build.commit if record.build else ""
    if restart and not published(record):
        recorded = ""
    tags = {name: commit for name in (str(version), str(version.final))
            if (commit := git.tag_commit(root, name))}
    registry = target.registry if target is not None else config.registry
    return Facts(
        head=head, recorded=recorded, published=published(record), promoted=record.promotion is not None,
        changed=tuple(git.changed_files(root)),
        **_commit_facts(config, version, recorded or head),
        **_key_facts(config, target, sign_with),
        registry_credentials=config.registry == SANDBOX or _has_registry_credentials(registry),
        index_credentials=config.index == SANDBOX or index_adapter.has_credentials(config.index, os.environ),
        released=state.released, tags=tags, sandbox_pythons=tuple(SANDBOX_SUITES),
    )


def commit_facts(config: ReleaseConfig, version: ReleaseVersion) -> Facts:
    """What a real run checks before any step so that everything comes from one commit (cheap:
    git only): HEAD, the recorded commit, tracked changes, which of the files read from the
    working tree the commit holds."""
    root = config.root
    head = git.commit_of(root)
    record = record_of(root, version)
    recorded = record.build.commit if record.build else ""
    commit = recorded or head
    files = frozenset(p for p in read_from_tree(config) if git.has_file(root, commit, p))
    return Facts(head=head, recorded=recorded, published=published(record),
                 promoted=record.promotion is not None, changed=tuple(git.changed_files(root)), files=files)


def start_over(config: ReleaseConfig, version: ReleaseVersion, say: Progress) -> None:
    """`--restart`: a release built from a commit HEAD has left, of which nothing went out, is moved
    aside (dist/.restarted/<V>-<commit>) so the run builds it again from HEAD."""
    root = config.root
    directory = release_dir(root, str(version))
    record = load_record(directory, str(version))
    head = git.commit_of(root)
    if record.build is None or record.build.commit == head:
        say(f"--restart: nothing to start over, dist/{version}/ holds no build of another commit")
        return
    old = record.build.commit
    if published(record):
        raise RefusedError(f"--restart: part of {version} built from {old[:12]} is published already; finish "
                           f"it from that commit (git checkout {old[:12]}) or release a new version")
    aside = root / "dist" / RESTARTED / f"{version}-{old[:12]}"
    with locks.release_run(directory, str(version)):
        aside.mkdir(parents=True, exist_ok=True)
        for entry in directory.iterdir():
            if entry.name != locks.RELEASE_LOCK:
                entry.rename(aside / entry.name)
    say(f"--restart: dist/{version}/ (built from {old[:12]}) moved to {aside}; {version} starts over from "
        f"{head[:12]}")


def _has_registry_credentials(registry: str) -> bool:
    try:
        return docker_config.credentials_for(registry) is not None
    except ReleaseError:
        return False
