# SPDX-License-Identifier: Apache-2.0
"""The package index: what it holds (PEP 503 simple pages, with hashes), downloads, twine uploads.

Credentials are twine's business: `~/.pypirc` or TWINE_USERNAME/TWINE_PASSWORD. They are never
passed on a command line or logged.

An index is not trusted: a file name it gives is used only when it is a plain wheel or sdist name
(never a path), and a downloaded file is kept only when its sha256 is the expected one. A project
page, and a download, are read up to a limit the caller may state (defaults below): an index that
sends more is stopped with one error line naming the URL.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import requests
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from release.adapters.cmd import run
from release.adapters.net import read_limited, too_large
from release.errors import CommandError, RefusedError, ServiceError, VerificationError
from release.urls import hide_credentials

log = logging.getLogger("release.index")
_TIMEOUT = 30.0
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What a wheel or sdist file name is made of (PEP 427/625 names, PEP 440 versions with `+` and `!`);
# it starts with a letter or digit, so it is never hidden, never `..` and never an option.
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
PAGE_LIMIT = 64 << 20  # a project's simple page: PyPI's largest are tens of MB
DOWNLOAD_LIMIT = 4 << 30  # one wheel or sdist (PyPI's own upload limit is lower)


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    sha256: str | None
    version: str | None
    yanked: bool = False  # PEP 592: the link carries data-yanked


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, bool]] = []
        self._href: str | None = None
        self._yanked = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            found = dict(attrs)
            self._href = found.get("href") or ""
            self._yanked = "data-yanked" in found
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip(), self._yanked))
            self._href = None


def _version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):  # ValueError: a number too long
        return None


def is_path_like(name: str) -> bool:
    """True for a name that could reach outside a directory: separators, `..`, NUL, absolute."""
    return not name or any(c in name for c in "/\\\0") or ".." in name or name != name.strip()


def is_distribution_filename(name: str) -> bool:
    """True only for a plain wheel or sdist file name (`x-1.0-py3-none-any.whl`, `x-1.0.tar.gz`)."""
    return not is_path_like(name) and _FILENAME.fullmatch(name) is not None and _version_of(name) is not None


def parse_simple_page(page_url: str, html: str) -> list[IndexFile]:
    """The wheels and sdists a PEP 503 project page links to, with the sha256 of each link's fragment.

    A file name (the link text, else the last part of the URL) that is a path is refused: the page is
    hostile or broken (ServiceError). Other files (eggs, installers, odd names) are left out.
    """
    parser = _LinkParser()
    parser.feed(html)
    files = []
    for href, text, yanked in parser.links:
        url, fragment = urldefrag(urljoin(page_url, href))
        name = text or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if is_path_like(name):
            raise ServiceError(f"package index page {hide_credentials(page_url)} links to {name[:100]!r}, "
                               f"not a plain file name; refusing the page (a hostile or broken index)")
        if not is_distribution_filename(name):
            log.warning("package index page %s: ignoring %r, not a wheel or sdist file name",
                        hide_credentials(page_url), name)
            continue
        digest = fragment.split("=", 1)[1].lower() if fragment.startswith("sha256=") else ""
        sha256 = digest if _SHA256.fullmatch(digest) else None
        files.append(IndexFile(filename=name, url=url, sha256=sha256, version=_version_of(name),
                               yanked=yanked))
    return files


def _stream(session: requests.Session, url: str, handle: int, limit: int) -> str:
    """Write the body of `url` to the open file `handle` (closing it), at most `limit` bytes; its sha256."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(handle, "wb") as sink:
        try:
            with session.get(url, stream=True, timeout=_TIMEOUT) as response:
                if response.status_code != 200:
                    raise ServiceError(f"package index: {hide_credentials(url)}: HTTP {response.status_code}")
                for chunk in response.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > limit:
                        raise too_large(url, limit)
                    digest.update(chunk)
                    sink.write(chunk)
        except requests.RequestException as exc:
            shown, what = hide_credentials(url), type(exc).__name__
            raise ServiceError(f"package index: downloading {shown} failed ({what})") from None
    return digest.hexdigest()


def download_file(url: str, sha256: str, dest: Path, *, filename: str | None = None,
                  session: requests.Session | None = None, limit: int = DOWNLOAD_LIMIT) -> Path:
    """Download `url` to `dest/<filename>` (default: the URL's last part), kept only if its sha256 is
    `sha256`, and only when it is at most `limit` bytes (ServiceError, the file removed, otherwise).

    `filename` must be a plain wheel or sdist name (RefusedError otherwise). The bytes go to a
    temporary file in `dest` and are renamed into place only when the hash matches; on a mismatch the
    temporary file is removed and a VerificationError names the file and both hashes.
    """
    name = filename if filename is not None else unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not is_distribution_filename(name):
        raise RefusedError(f"{name[:100]!r} from {hide_credentials(url)} is not a plain wheel or sdist file "
                           f"name; not downloaded")
    expected = sha256.lower()
    if not _SHA256.fullmatch(expected):
        raise RefusedError(f"{name}: {sha256[:100]!r} is not a sha256 (64 hex digits); not downloaded")
    dest.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=dest, prefix=f".{name}.", suffix=".partial")
    try:
        actual = _stream(session or requests.Session(), url, handle, limit)
        if actual != expected:
            raise VerificationError(f"{name} from {hide_credentials(url)} has sha256 {actual}, not the "
                                    f"expected {expected}; the download was removed")
        Path(partial).chmod(0o644)
        Path(partial).replace(dest / name)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return dest / name


class PackageIndex:
    """An index by its upload URL and its simple URL (pypiserver serves both from one root)."""

    def __init__(self, upload_url: str, simple_url: str, *, session: requests.Session | None = None):
        self.upload_url = upload_url
        self.simple_url = simple_url if simple_url.endswith("/") else simple_url + "/"
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return f"PackageIndex({self.shown_upload!r})"

    @property
    def shown_upload(self) -> str:
        """The upload URL as messages show it: credentials in it (a user's mistake) are hidden."""
        return hide_credentials(self.upload_url)

    @property
    def shown_simple(self) -> str:
        return hide_credentials(self.simple_url)

    def files(self, project: str, *, limit: int = PAGE_LIMIT) -> list[IndexFile]:
        """The files `project`'s simple page lists; a page larger than `limit` bytes is a ServiceError."""
        page = urljoin(self.simple_url, canonicalize_name(project) + "/")
        try:
            with self.session.get(page, timeout=_TIMEOUT, stream=True) as response:
                if response.status_code == 404:
                    return []
                if response.status_code != 200:
                    raise ServiceError(f"package index {hide_credentials(page)}: HTTP {response.status_code}")
                body = read_limited(response.iter_content(1 << 16), limit, page)
                encoding = response.encoding or "utf-8"
                final = response.url
        except requests.RequestException as exc:
            raise ServiceError(
                f"package index {self.shown_simple} is not reachable ({type(exc).__name__}); is it running?"
            ) from None
        return parse_simple_page(final, body.decode(encoding, errors="replace"))

    def versions(self, project: str) -> list[str]:
        return sorted({f.version for f in self.files(project) if f.version is not None})

    def hashes(self, project: str) -> dict[str, str | None]:
        return {f.filename: f.sha256 for f in self.files(project)}

    def yank(self, project: str, version: str) -> str:
        """Yank `version` (PEP 592) where the index offers that through an API; what was done.

        Neither the upload API twine speaks (PyPI's legacy API, pypiserver) nor PyPI itself offers
        yanking to a program: PyPI yanks only in its web interface. So this yanks nothing and says
        where to do it by hand; an index page that shows the files yanked counts as withdrawn.
        """
        yanked = [f for f in self.files(project) if f.version == version and f.yanked]
        if yanked:
            return f"{project} {version} is yanked on {self.simple_url}"
        if "pypi.org" in self.simple_url:
            where = f"https://pypi.org/manage/project/{canonicalize_name(project)}/release/{version}/"
        else:
            where = f"the web interface of {self.simple_url}, if it has one"
        return (f"{self.simple_url} offers no API to yank (PEP 592) {project} {version}: not yanked; "
                f"yank it by hand at {where}")

    def download(self, file: IndexFile, dest: Path) -> Path:
        """`file` into `dest`, checked against the sha256 the index gave (see `download_file`)."""
        if file.sha256 is None:
            raise RefusedError(f"package index {self.shown_simple} gives no sha256 for {file.filename}; "
                               f"not downloaded")
        return download_file(file.url, file.sha256, dest, filename=file.filename, session=self.session)

    def upload(self, paths: Sequence[Path], *, env: Mapping[str, str] | None = None) -> None:
        """Upload with twine; skipping files the index already has is the caller's job.

        `env` adds TWINE_* settings (the sandbox passes throwaway credentials); real indexes use
        the user's own TWINE_* variables or keyring.
        """
        if not paths:
            return
        merged = dict(env or {})
        merged.setdefault("TWINE_NON_INTERACTIVE", "1")
        # The URL goes to twine in its environment, not on the command line a failure message shows.
        merged["TWINE_REPOSITORY_URL"] = self.upload_url
        log.info("twine upload %s to %s", " ".join(p.name for p in paths), self.shown_upload)
        run([sys.executable, "-m", "twine", "upload", "--disable-progress-bar", *[str(p) for p in paths]],
            env=merged)


def download_wheel(requirement: str, dest: Path, *, index_url: str | None = None) -> Path:
    """The release's wheel from the package index (pip's default, or `index_url`), as the image build
    will download it.

    pip keeps only the last part of a file's URL as its name and checks the sha256 the index page
    gives, removing a file that does not match; so a hostile page can neither write outside `dest`
    nor leave a wheel other than the one it advertised.
    """
    dest.mkdir(parents=True, exist_ok=True)
    cert = ["--cert", str(CA_BUNDLE)] if CA_BUNDLE.is_file() else []
    index = ["--index-url", index_url] if index_url else []
    # --isolated: a site pip.conf (find-links, constraints) must not change which file we get.
    run([sys.executable, "-m", "pip", "download", "--isolated", "--no-deps", "--only-binary=:all:", *cert,
         *index, "--dest", str(dest), requirement])
    name, _, version = requirement.partition("==")
    prefix = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"
    found = [p for p in dest.glob("*.whl") if p.name.lower().startswith(prefix)]
    if len(found) != 1:
        raise CommandError(f"pip download {requirement} left {len(found)} matching wheels in {dest}")
    return found[0]


def has_credentials(upload_url: str, environ: Mapping[str, str]) -> bool:
    """Whether twine, as the pipeline runs it (TWINE_REPOSITORY_URL set, so ~/.pypirc is not read),
    has a password for `upload_url`: TWINE_PASSWORD, else the keyring's entry for the URL."""
    if environ.get("TWINE_PASSWORD"):
        return True
    try:
        import keyring
    except ImportError:
        return False
    username = environ.get("TWINE_USERNAME")
    try:
        if username:
            return bool(keyring.get_password(upload_url, username))
        return keyring.get_credential(upload_url, None) is not None  # as twine asks without a username
    except Exception:  # any keyring backend failure means: no password found
        return False
