# SPDX-License-Identifier: Apache-2.0
"""A local Subversion repository laid out like dist.apache.org: dev/<name>/ and release/<name>/KEYS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from release.adapters import svn
from release.progress import Progress
from release.sandbox.tools import ensure_program


def repo_url(repo: Path) -> str:
    return repo.resolve().as_uri()


def ensure_repo(repo: Path, names: Sequence[str], keys: Callable[[str], str | None],
                progress: Progress) -> dict[str, Any]:
    """Create the repository if needed, then make sure each project's folders and KEYS are there.
    `keys(current KEYS text)` is the new text, or None when KEYS needs no change."""
    ensure_program("svnadmin", "subversion", progress)
    ensure_program("svn", "subversion", progress)
    if not (repo / "format").exists():
        svn.create_repository(repo)
        progress(f"svn: created repository {repo}")
    url = repo_url(repo)
    for name in names:
        folders = [svn.join(url, top, name) for top in ("dev", "release")]
        missing = [folder for folder in folders if not svn.exists(folder)]
        if missing:
            svn.mkdir(missing, f"Create sandbox folders for {name}")
            progress(f"svn: created {', '.join(m.removeprefix(url + '/') for m in missing)}")
        keys_url = svn.join(url, "release", name, "KEYS")
        text = keys(svn.read_text(keys_url) if svn.exists(keys_url) else "")
        if text is None:
            continue
        svn.write_text(keys_url, text, f"Sandbox signing key for {name}")
        progress(f"svn: committed release/{name}/KEYS with the sandbox key")
    return {"url": url, "names": sorted(set(names))}


def svn_status(repo: Path, names: Sequence[str]) -> dict[str, Any]:
    url = repo_url(repo)
    answering = (repo / "format").exists() and svn.exists(url)
    return {
        "url": url,
        "answering": answering,
        "names": list(names),
        "keys": {name: answering and svn.exists(svn.join(url, "release", name, "KEYS")) for name in names},
    }
