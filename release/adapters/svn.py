# SPDX-License-Identifier: Apache-2.0
"""Subversion (dist.apache.org style dev/ and release/ trees), never prompting for anything.

What is read from a repository (a file, a folder's listing, KEYS over http) is read up to a limit the
caller may state (defaults below): a server that sends more is stopped with one error line.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.adapters.cmd import run, run_limited
from release.adapters.net import CHUNK, read_limited
from release.errors import CommandError, ServiceError

_HINT = "install Subversion (Debian: apt-get install subversion)"
TEXT_LIMIT = 16 << 20  # a KEYS file: Apache's largest are a few MB
FILE_LIMIT = 64 << 20  # a signature, a checksum, a release record
LISTING_LIMIT = 16 << 20  # the names in one folder
_MISSING = ("W170000", "E170000", "E200009", "E160013", "W160013")  # the svn codes for "no such path"


def _svn(*args: str) -> list[str]:
    return ["svn", *args, "--non-interactive"]


def join(url: str, *parts: str) -> str:
    return "/".join([url.rstrip("/"), *(part.strip("/") for part in parts)])


def create_repository(path: Path) -> str:
    """A new, empty repository at `path` (`svnadmin create`); its file:// URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run(["svnadmin", "create", str(path)], hint=_HINT)
    return path.resolve().as_uri()


def exists(url: str) -> bool:
    """True when `url` names a file or folder in the repository; ServiceError when svn can't tell."""
    result = run(_svn("info", url), check=False, hint=_HINT)
    if result.returncode == 0:
        return True
    if any(code in result.stderr for code in _MISSING):
        return False
    lines = result.stderr.strip().splitlines()
    raise ServiceError(f"svn info {url} failed: {lines[-1] if lines else 'no output'}")


def pinned(url: str, revision: int) -> str:
    """`url` as it was in `revision` (a peg revision): later commits do not change what it names."""
    return f"{url}@{revision}"


def head_revision(url: str) -> int:
    """The repository's newest revision, read through `url`: pin it to check and copy the same thing."""
    result = run(_svn("info", "--show-item", "revision", url), hint=_HINT)
    try:
        return int(result.stdout.strip())
    except ValueError:
        raise ServiceError(f"svn info {url} gave no revision: {result.stdout.strip()[:80]!r}") from None


def export(url: str, dest: Path) -> Path:
    """Copy folder `url` into the new directory `dest`, with no `.svn` bookkeeping."""
    run(_svn("export", "--quiet", url, str(dest)), hint=_HINT)
    return dest


def import_folder(source: Path, url: str, message: str) -> int:
    """Commit the files in `source` as the new folder `url` (parents created); the new revision."""
    result = run(_svn("import", "--no-ignore", "--no-auto-props", "-m", message, str(source), url),
                 hint=_HINT)
    return _committed_revision(result.stdout)


def mkdir(urls: Sequence[str], message: str) -> int:
    """Create the folders `urls` (parents too) in one commit; the new revision."""
    result = run(_svn("mkdir", "--parents", "-m", message, *urls), hint=_HINT)
    return _committed_revision(result.stdout)


def write_text(url: str, text: str, message: str) -> int | None:
    """Commit `text` as file `url`, added or changed, through a throwaway working copy of its
    folder; the new revision, or None when the file already held `text`."""
    folder, _, name = url.rstrip("/").rpartition("/")
    with tempfile.TemporaryDirectory(prefix="svn-wc-") as tmp:
        work = Path(tmp) / "wc"
        run(_svn("checkout", "--depth", "files", folder, str(work)), hint=_HINT)
        (work / name).write_text(text, encoding="utf-8")
        run(_svn("add", "--force", str(work / name)), hint=_HINT)
        result = run(_svn("commit", "-m", message, str(work)), hint=_HINT)
    return _committed_revision(result.stdout) if result.stdout.strip() else None


def _literal(path: Path | str) -> str:
    """A path svn takes as written: a trailing `@` stops it reading `a@b` as a peg revision."""
    return f"{path}@"


def put_files(url: str, files: Mapping[str, Path], message: str) -> int | None:
    """Commit `files` (relative path under folder `url` -> local file) as added or changed files,
    in one commit, through a sparse working copy holding only those paths (a release folder's
    packages are not downloaded). The folder is created when missing. The new revision, or None
    when every file already held those bytes. Paths may contain `@` (lookaside signatures do)."""
    if not exists(_literal(url)):
        mkdir([_literal(url)], message)
    with tempfile.TemporaryDirectory(prefix="svn-wc-") as tmp:
        work = Path(tmp) / "wc"
        run(_svn("checkout", "--quiet", "--depth", "empty", _literal(url), str(work)), hint=_HINT)
        for relative, source in sorted(files.items()):
            run(_svn("update", "--quiet", "--parents", _literal(work / relative)), hint=_HINT)
            target = work / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        run(_svn("add", "--quiet", "--force", "--no-auto-props", str(work)), hint=_HINT)
        result = run(_svn("commit", "-m", message, str(work)), hint=_HINT)
    return _committed_revision(result.stdout) if result.stdout.strip() else None


def cat_bytes(url: str, *, limit: int = FILE_LIMIT) -> bytes | None:
    """The bytes of file `url`, or None when there is no such file (paths may contain `@`); at most
    `limit` bytes (ServiceError when it is larger)."""
    if not exists(_literal(url)):
        return None
    result = run_limited(_svn("cat", _literal(url)), limit=limit, source=url, hint=_HINT)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise ServiceError(f"svn cat {url} failed: {lines[-1] if lines else 'no output'}")
    return result.stdout


def copy(source_url: str, target_url: str, message: str) -> int:
    """Server-side copy, one commit: how a voted candidate becomes the release. Give `source_url`
    `pinned` to copy what was checked, not whatever HEAD holds by then."""
    result = run(_svn("copy", "--parents", "-m", message, source_url, target_url), hint=_HINT)
    return _committed_revision(result.stdout)


def copy_files(source_urls: Sequence[str], folder_url: str, message: str) -> int:
    """Server-side copy of several files into folder `folder_url` (made when missing), one commit:
    how the voted files of a flat folder become the release. Pin the sources (`pinned`)."""
    if not exists(folder_url):
        mkdir([folder_url], message)
    result = run(_svn("copy", "-m", message, *source_urls, folder_url), hint=_HINT)
    return _committed_revision(result.stdout)


def list_folder(url: str, *, limit: int = LISTING_LIMIT) -> list[str]:
    """The names in folder `url` (folders without their trailing `/`); [] when it does not exist; a
    listing larger than `limit` bytes is a ServiceError."""
    result = run_limited(_svn("list", url), limit=limit, source=url, hint=_HINT)
    if result.returncode != 0:
        if any(code in result.stderr for code in _MISSING):
            return []
        lines = result.stderr.strip().splitlines()
        raise ServiceError(f"svn list {url} failed: {lines[-1] if lines else 'no output'}")
    listing = result.stdout.decode("utf-8", errors="replace")
    return sorted(line.rstrip("/") for line in listing.splitlines() if line.strip())


def remove(urls: Sequence[str], message: str) -> int:
    """Delete `urls` from the repository in one commit; the new revision."""
    result = run(_svn("rm", "-m", message, *urls), hint=_HINT)
    return _committed_revision(result.stdout)


def read_text(url: str, *, limit: int = TEXT_LIMIT) -> str:
    """A text file (like KEYS) at `url`: `svn cat` for repository URLs, a plain GET for http(s); at
    most `limit` bytes (ServiceError when it is larger)."""
    if url.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = read_limited(iter(lambda: response.read(CHUNK), b""), limit, url)
        except (urllib.error.URLError, OSError) as exc:
            raise ServiceError(f"cannot download {url}: {exc}") from None
        return data.decode("utf-8")
    result = run_limited(["svn", "cat", "--non-interactive", url], limit=limit, source=url, hint=_HINT)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise ServiceError(f"cannot read {url}: {lines[-1] if lines else 'svn cat failed'}")
    return result.stdout.decode("utf-8")


def _committed_revision(output: str) -> int:
    for line in reversed(output.strip().splitlines()):
        if line.startswith("Committed revision "):
            return int(line.split()[-1].rstrip("."))
    raise CommandError(f"svn did not report a committed revision: {output.strip()[-200:]}")
