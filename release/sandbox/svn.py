"""A local Subversion repository laid out like dist.apache.org: dev/<name>/ and release/<name>/KEYS."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from release.adapters.cmd import run
from release.sandbox.state import Progress
from release.sandbox.tools import ensure_program

_SVN = ["svn", "--non-interactive"]


def repo_url(repo: Path) -> str:
    return repo.resolve().as_uri()


def _exists(url: str) -> bool:
    return run([*_SVN, "info", url], check=False).returncode == 0


def _cat(url: str) -> str | None:
    result = run([*_SVN, "cat", url], check=False)
    return result.stdout if result.returncode == 0 else None


def ensure_repo(
    repo: Path, names: Sequence[str], keys: str, cache: Path, progress: Progress
) -> dict[str, Any]:
    """Create the repository if needed, then make sure each project's folders and KEYS are there."""
    ensure_program("svnadmin", "subversion", progress)
    ensure_program("svn", "subversion", progress)
    if not (repo / "format").exists():
        repo.parent.mkdir(parents=True, exist_ok=True)
        run(["svnadmin", "create", str(repo)])
        progress(f"svn: created repository {repo}")
    url = repo_url(repo)
    for name in names:
        missing = [f"{url}/{top}/{name}" for top in ("dev", "release") if not _exists(f"{url}/{top}/{name}")]
        if missing:
            run([*_SVN, "mkdir", "--parents", "-m", f"Create sandbox folders for {name}", *missing])
            progress(f"svn: created {', '.join(m.removeprefix(url + '/') for m in missing)}")
        if _cat(f"{url}/release/{name}/KEYS") == keys:
            continue
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="svn-wc-", dir=cache) as tmp:
            wc = Path(tmp) / "wc"
            run([*_SVN, "checkout", "--depth", "files", f"{url}/release/{name}", str(wc)])
            (wc / "KEYS").write_text(keys, encoding="utf-8")
            run([*_SVN, "add", "--force", str(wc / "KEYS")])
            run([*_SVN, "commit", "-m", f"Sandbox signing key for {name}", str(wc)])
        progress(f"svn: committed release/{name}/KEYS")
    return {"url": url, "names": sorted(set(names))}


def svn_status(repo: Path, names: Sequence[str]) -> dict[str, Any]:
    url = repo_url(repo)
    answering = (repo / "format").exists() and _exists(url)
    return {
        "url": url,
        "answering": answering,
        "names": list(names),
        "keys": {name: answering and _exists(f"{url}/release/{name}/KEYS") for name in names},
    }
