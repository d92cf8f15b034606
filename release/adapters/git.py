# SPDX-License-Identifier: Apache-2.0
"""The target's git repository, through GitPython: commits, clean exports, release tags."""

from __future__ import annotations

import os
import re
import tarfile
import tempfile
from pathlib import Path

# GitPython refuses to import when no git program is installed; an image that only runs
# `release-pipeline --help` has none, and every call below reports a missing git clearly anyway.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
import git

from release.errors import CommandError, ConfigError, RefusedError

# A full object name: 40 hex digits (SHA-1) or 64 (SHA-256 repositories). Nothing else is taken
# from outside (image labels): a name such as `--output=x` would be an option to git.
_OBJECT_NAME = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _open(root: Path) -> git.Repo:
    try:
        return git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ConfigError(f"{root} is not a git checkout; releases are built from a git commit") from None


def _commit(repo: git.Repo, ref: str) -> git.Commit:
    try:
        commit = repo.commit(ref)
    except (git.BadName, ValueError):
        raise RefusedError(f"{repo.working_dir}: no commit {ref!r}") from None
    return commit


def commit_of(root: Path, ref: str = "HEAD") -> str:
    """Full hash of the commit `ref` names (a branch, tag or hash)."""
    return str(_commit(_open(root), ref).hexsha)


def commit_time(root: Path, commit: str) -> int:
    """The committer timestamp of `commit`: the SOURCE_DATE_EPOCH of everything built from it."""
    return int(_commit(_open(root), commit).committed_date)


def check_object_name(revision: str) -> str:
    """`revision` when it is a full commit hash; RefusedError for anything else (refs, options)."""
    if not _OBJECT_NAME.fullmatch(revision):
        raise RefusedError(f"{revision[:80]!r} is not a full commit hash (40 or 64 lowercase hex digits)")
    return revision


def file_at(root: Path, revision: str, path: str) -> str | None:
    """The text of `path` in commit `revision` (a full hash), or None when the checkout lacks either."""
    repo = _open(root)
    try:
        blob = repo.commit(check_object_name(revision)).tree / path
    except (ValueError, KeyError):  # ValueError: no such commit here; KeyError: no such path in it
        return None
    if not isinstance(blob, git.Blob):
        return None
    return str(blob.data_stream.read().decode("utf-8"))


def changed_files(root: Path) -> list[str]:
    """Tracked files whose content differs from HEAD, staged or not (untracked files don't count)."""
    repo = _open(root)
    try:
        output = repo.git.diff("--name-only", "HEAD")
    except git.GitCommandError as exc:
        raise CommandError(f"git diff in {root} failed: {exc.stderr.strip()}") from None
    return sorted(line for line in str(output).splitlines() if line)


def export_commit(root: Path, commit: str, dest: Path) -> Path:
    """Write the tree of `commit` into `dest` (like `git archive | tar x`): no working-tree changes.

    The archive is streamed into a temporary file beside `dest` and unpacked from there, member by
    member: a large file in the commit is never held in memory."""
    repo = _open(root)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=dest.parent, prefix=".archive-") as stream:
        try:
            repo.archive(stream, treeish=commit, format="tar")
        except git.GitCommandError as exc:
            raise CommandError(f"git archive {commit} in {root} failed: {exc.stderr.strip()}") from None
        stream.seek(0)
        try:
            with tarfile.open(fileobj=stream, mode="r:") as archive:
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(dest, filter="data")
                else:  # pragma: no cover - Python without extraction filters (< 3.9.17)
                    archive.extractall(dest)
        except tarfile.TarError as exc:  # the "data" filter: a link to an absolute path or out of the tree
            raise RefusedError(f"commit {commit[:12]} of {root} cannot be released: {exc} (a source "
                               "release holds only files and links inside it; remove it or make it "
                               "relative)") from None
    return dest


def tag_commit(root: Path, name: str) -> str | None:
    """The commit tag `name` points at, or None when there is no such tag."""
    repo = _open(root)
    if name not in [tag.name for tag in repo.tags]:
        return None
    return str(repo.tags[name].commit.hexsha)


def ensure_tag(root: Path, name: str, commit: str, message: str) -> bool:
    """Create annotated tag `name` on `commit`; True if created, False if it is already there.

    Refuses to move a tag that points elsewhere: release tags are never rewritten.
    """
    existing = tag_commit(root, name)
    if existing == commit:
        return False
    if existing is not None:
        raise RefusedError(f"git tag {name} already points at {existing[:12]}, not {commit[:12]}; "
                           f"release tags are never moved")
    try:
        _open(root).create_tag(name, ref=commit, message=message)
    except git.GitCommandError as exc:
        raise CommandError(f"git tag {name} {commit[:12]} failed: {exc.stderr.strip()}") from None
    return True
