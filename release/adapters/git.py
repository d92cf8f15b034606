# SPDX-License-Identifier: Apache-2.0
"""The target's git repository, through GitPython: commits, clean exports, release tags, and files
committed onto a branch without a checkout (a train's constraints branch)."""

from __future__ import annotations

import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

# GitPython refuses to import when no git program is installed; an image that only runs
# `release-pipeline --help` has none, and every call below reports a missing git clearly anyway.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

from release.errors import CommandError, ConfigError, RefusedError

if TYPE_CHECKING:  # imported where used: GitPython runs `git --version` when first imported
    import git

# A full object name: 40 hex digits (SHA-1) or 64 (SHA-256 repositories). Nothing else is taken
# from outside (image labels): a name such as `--output=x` would be an option to git.
_OBJECT_NAME = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _open(root: Path) -> git.Repo:
    import git

    try:
        return git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ConfigError(f"{root} is not a git checkout; releases are built from a git commit") from None


def _commit(repo: git.Repo, ref: str) -> git.Commit:
    import git

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
    import git

    repo = _open(root)
    try:
        blob = repo.commit(check_object_name(revision)).tree / path
    except (ValueError, KeyError):  # ValueError: no such commit here; KeyError: no such path in it
        return None
    if not isinstance(blob, git.Blob):
        return None
    return str(blob.data_stream.read().decode("utf-8"))


def has_file(root: Path, revision: str, path: str) -> bool:
    """Whether commit `revision` (a full hash) holds the file `path`."""
    import git

    repo = _open(root)
    try:
        return isinstance(repo.commit(check_object_name(revision)).tree / path, git.Blob)
    except (ValueError, KeyError):
        return False


def changed_files(root: Path) -> list[str]:
    """Tracked files whose content differs from HEAD, staged or not (untracked files don't count)."""
    import git

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
    import git

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
    import git

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


def move_tag(root: Path, name: str, commit: str, message: str) -> bool:
    """Point the annotated moving tag `name` (`constraints-latest`) at `commit`, creating it when
    absent; True if it moved, False if it is there already. Whether it may move (only forward, to a
    higher final) is the planner's to say: release tags go through `ensure_tag`, which never moves."""
    import git

    if tag_commit(root, name) == commit:
        return False
    try:
        _open(root).create_tag(name, ref=commit, message=message, force=True)
    except git.GitCommandError as exc:
        raise CommandError(f"git tag -f {name} {commit[:12]} failed: {exc.stderr.strip()}") from None
    return True


_BLOB_MODE = 0o100644
_BRANCH_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def _tree_of(repo: git.Repo, files: Mapping[str, bytes]) -> str:
    """The tree holding `files` (name -> bytes) at its root, written into the object database as
    objects only (no index, no work tree); its hash."""
    from git.objects.fun import tree_to_stream
    from gitdb import IStream

    bad = sorted(name for name in files if not _BRANCH_FILE.fullmatch(name))
    if bad or not files:
        raise RefusedError(f"cannot commit {bad[0] if bad else 'no files'!r} onto a branch: only plain file "
                           "names at its root")
    entries = []
    for name in sorted(files, key=lambda n: n.encode()):  # git sorts a tree's entries by their bytes
        data = files[name]
        blob = repo.odb.store(IStream(b"blob", len(data), BytesIO(data)))
        entries.append((blob.binsha, _BLOB_MODE, name))
    stream = BytesIO()
    tree_to_stream(entries, stream.write)
    stored = repo.odb.store(IStream(b"tree", len(stream.getvalue()), BytesIO(stream.getvalue())))
    return str(stored.binsha.hex())


def holds_files(root: Path, commit: str, files: Mapping[str, bytes]) -> bool:
    """Whether the tree of `commit` (a full hash) is exactly `files` (name -> bytes) at its root."""
    repo = _open(root)
    return _tree_of(repo, files) == str(_commit(repo, check_object_name(commit)).tree.hexsha)


def commit_files(root: Path, branch: str, files: Mapping[str, bytes], message: str) -> tuple[str, bool]:
    """Commit `files` (name -> bytes, at the root) as the whole tree of `branch`, without touching the
    work tree, the index or HEAD: a commit whose parent is the branch's tip, or an orphan commit when
    the branch does not exist yet. When the tip holds exactly these files nothing is committed.
    (the branch's commit now, whether it was made now). The branch is moved from the tip read to the
    new commit only (`git update-ref NEW OLD`): a branch moved meanwhile is refused, never overwritten."""
    import git

    repo = _open(root)
    ref = f"refs/heads/{branch}"
    try:
        repo.git.check_ref_format(ref)
    except git.GitCommandError:
        raise RefusedError(f"{branch!r} is not a valid git branch name") from None
    tip = repo.commit(ref) if ref in {r.path for r in repo.references} else None
    tree = _tree_of(repo, files)
    if tip is not None and str(tip.tree.hexsha) == tree:
        return str(tip.hexsha), False
    made = git.Commit.create_from_tree(repo, repo.tree(tree), message,
                                       parent_commits=[tip] if tip is not None else [], head=False)
    try:  # the old value: the all-zero name for a branch that must not exist yet
        repo.git.update_ref(ref, made.hexsha, tip.hexsha if tip is not None else "0" * len(made.hexsha))
    except git.GitCommandError as exc:
        raise RefusedError(f"git branch {branch} moved while its commit was made ({exc.stderr.strip()}); run "
                           "again") from None
    return str(made.hexsha), True


class GitReader:
    """What a train's plan reads from the repository, in as few git commands as it can: one for the
    tree's file list, one for the files' texts, one for the tags, and one `git log` per commit the
    distributions' last tags point at (a wave's tags share one) plus one per untagged distribution.
    `calls` counts the git commands run (the figure per distribution the trains report)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repo = _open(root)
        self.calls = 0

    def _git(self, *args: str) -> str:
        import git

        self.calls += 1
        try:
            return str(self.repo.git.execute(["git", *args], strip_newline_in_stdout=False))
        except git.GitCommandError as exc:
            raise CommandError(f"git {args[0]} in {self.root} failed: {str(exc.stderr).strip()}") from None

    def resolve(self, ref: str) -> str:
        """The full hash of the commit `ref` names (not counted: GitPython reads it without a command)."""
        return str(_commit(self.repo, ref).hexsha)

    def tree_files(self, commit: str) -> tuple[str, ...]:
        """Every file's path in `commit` (a full hash)."""
        out = self._git("ls-tree", "-r", "-z", "--name-only", check_object_name(commit))
        return tuple(name for name in out.split("\0") if name)

    def read_files(self, commit: str, paths: list[str]) -> dict[str, str | None]:
        """The texts of `paths` in `commit` (None for a path that is not a file there), through the one
        `git cat-file --batch` process GitPython keeps open for the repository: counted as one command."""
        import git

        if not paths:
            return {}
        tree = _commit(self.repo, check_object_name(commit)).tree
        self.calls += 1
        found: dict[str, str | None] = {}
        for path in paths:
            try:
                blob = tree / path
            except KeyError:
                found[path] = None
                continue
            found[path] = blob.data_stream.read().decode("utf-8") if isinstance(blob, git.Blob) else None
        return found

    def tags_matching(self, patterns: list[str]) -> dict[str, str]:
        """Tag name -> the commit it points at, for the tags matching the glob `patterns`."""
        out = self._git("for-each-ref", "--format=%(refname:strip=2)%00%(*objectname)%00%(objectname)",
                        *(f"refs/tags/{p}" for p in patterns))
        found = {}
        for line in out.splitlines():
            name, peeled, direct = line.split("\0")
            found[name] = peeled or direct
        return found

    def commits_since(self, head: str, since: dict[str, str | None]
                      ) -> dict[str, tuple[tuple[str, str], ...]]:
        """Per folder, the commits (hash, subject) reachable from `head` and not from its `since` commit
        that touch a file under it (newest first); every commit touching it when `since` is None."""
        found: dict[str, list[tuple[str, str]]] = {path: [] for path in since}
        groups: dict[str, list[str]] = {}
        for path, start in since.items():
            if start is None:
                out = self._git("log", "--format=%x00%H%x1f%s", check_object_name(head), "--", path)
                found[path] = [_commit_line(c) for c in out.split("\0") if c.strip()]
            else:
                groups.setdefault(check_object_name(start), []).append(path)
        for start, paths in groups.items():
            out = self._git("log", "--format=%x00%H%x1f%s", "--name-only",
                            f"{start}..{check_object_name(head)}")
            for chunk in out.split("\0")[1:]:
                first, _, names = chunk.partition("\n")
                sha, subject = _commit_line(first)
                files = [n for n in names.splitlines() if n]
                for path in paths:
                    prefix = "" if path in ("", ".") else path.rstrip("/") + "/"
                    if any(name.startswith(prefix) for name in files):
                        found[path].append((sha, subject))
        return {path: tuple(commits) for path, commits in found.items()}


def _commit_line(line: str) -> tuple[str, str]:
    """`<hash>\x1f<subject>` as git log prints it with the format above."""
    sha, _, subject = line.strip("\n").partition("\x1f")
    return sha, subject
