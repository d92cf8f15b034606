# SPDX-License-Identifier: Apache-2.0
"""An in-memory git history, read as the git adapter's `GitReader` reads a repository, for unit tests
of the pipeline's train planning (pipeline/trains.py's `GitFacts`)."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class MemoryGit:
    """A linear git history in memory, read as the git adapter's `GitReader` reads a repository: each
    commit (its hash, subject and the files it writes, None removing one), the tags by name, and
    `calls` counting the commands a real repository would run (one per method, as GitReader counts)."""

    commits: list[tuple[str, str, dict[str, str | None]]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # tag -> commit hash
    calls: int = 0

    def commit(self, subject: str, files: Mapping[str, str | None]) -> str:
        sha = hashlib.sha1(f"{len(self.commits)} {subject}".encode()).hexdigest()
        self.commits.append((sha, subject, dict(files)))
        return sha

    def tag(self, name: str, sha: str = "") -> None:
        self.tags[name] = sha or self.commits[-1][0]

    def _position(self, sha: str) -> int:
        found = [n for n, (each, _, _) in enumerate(self.commits) if each == sha]
        if not found:
            raise KeyError(sha)
        return found[0]

    def _tree(self, sha: str) -> dict[str, str]:
        tree: dict[str, str] = {}
        for _, _, files in self.commits[: self._position(sha) + 1]:
            for path, text in files.items():
                if text is None:
                    tree.pop(path, None)
                else:
                    tree[path] = text
        return tree

    def resolve(self, ref: str) -> str:
        return self.commits[-1][0] if ref == "HEAD" else self.tags.get(ref, ref)

    def tree_files(self, commit: str) -> tuple[str, ...]:
        self.calls += 1
        return tuple(sorted(self._tree(commit)))

    def read_files(self, commit: str, paths: list[str]) -> dict[str, str | None]:
        if not paths:
            return {}
        self.calls += 1
        tree = self._tree(commit)
        return {path: tree.get(path) for path in paths}

    def tags_matching(self, patterns: list[str]) -> dict[str, str]:
        self.calls += 1
        return {name: sha for name, sha in self.tags.items()
                if any(fnmatch.fnmatchcase(name, p) for p in patterns)}

    def commits_since(self, head: str, since: dict[str, str | None]
                      ) -> dict[str, tuple[tuple[str, str], ...]]:
        self.calls += len({start for start in since.values() if start is not None})
        self.calls += sum(1 for start in since.values() if start is None)
        last = self._position(head)
        found = {}
        for path, start in since.items():
            first = 0 if start is None else self._position(start) + 1
            prefix = "" if path in ("", ".") else path.rstrip("/") + "/"
            window = reversed(self.commits[first:last + 1])
            found[path] = tuple((sha, subject) for sha, subject, files in window
                                if any(name.startswith(prefix) for name in files))
        return found
