"""The package index: what it holds (PEP 503 simple pages, with hashes) and twine uploads.

Credentials are twine's business: `~/.pypirc` or TWINE_USERNAME/TWINE_PASSWORD. They are never
passed on a command line or logged.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import requests
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from release.adapters.cmd import run
from release.errors import CommandError, ServiceError

log = logging.getLogger("release.index")
_TIMEOUT = 30.0
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    sha256: str | None
    version: str | None


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def _version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def parse_simple_page(page_url: str, html: str) -> list[IndexFile]:
    """The files a PEP 503 project page links to, with the sha256 from each link's fragment."""
    parser = _LinkParser()
    parser.feed(html)
    files = []
    for href, text in parser.links:
        url, fragment = urldefrag(urljoin(page_url, href))
        name = text or url.rsplit("/", 1)[-1]
        sha256 = fragment.split("=", 1)[1] if fragment.startswith("sha256=") else None
        files.append(IndexFile(filename=name, url=url, sha256=sha256, version=_version_of(name)))
    return files


class PackageIndex:
    """An index by its upload URL and its simple URL (pypiserver serves both from one root)."""

    def __init__(self, upload_url: str, simple_url: str, *, session: requests.Session | None = None):
        self.upload_url = upload_url
        self.simple_url = simple_url if simple_url.endswith("/") else simple_url + "/"
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return f"PackageIndex({self.upload_url!r})"

    def files(self, project: str) -> list[IndexFile]:
        page = urljoin(self.simple_url, canonicalize_name(project) + "/")
        try:
            response = self.session.get(page, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            raise ServiceError(
                f"package index {self.simple_url} is not reachable ({type(exc).__name__}); is it running?"
            ) from None
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise ServiceError(f"package index {page}: HTTP {response.status_code}")
        return parse_simple_page(response.url, response.text)

    def versions(self, project: str) -> list[str]:
        return sorted({f.version for f in self.files(project) if f.version is not None})

    def hashes(self, project: str) -> dict[str, str | None]:
        return {f.filename: f.sha256 for f in self.files(project)}

    def upload(self, paths: Sequence[Path], *, env: Mapping[str, str] | None = None) -> None:
        """Upload with twine; skipping files the index already has is the caller's job.

        `env` adds TWINE_* settings (the sandbox passes throwaway credentials); real indexes use
        the user's own TWINE_* variables or keyring.
        """
        if not paths:
            return
        merged = dict(env or {})
        merged.setdefault("TWINE_NON_INTERACTIVE", "1")
        log.info("twine upload %s to %s", " ".join(p.name for p in paths), self.upload_url)
        run(
            [sys.executable, "-m", "twine", "upload", "--repository-url", self.upload_url,
             "--disable-progress-bar", *[str(p) for p in paths]],
            env=merged,
        )


def download_wheel(requirement: str, dest: Path) -> Path:
    """The release's wheel from the package index, as the image build will download it."""
    dest.mkdir(parents=True, exist_ok=True)
    cert = ["--cert", str(CA_BUNDLE)] if CA_BUNDLE.is_file() else []
    # --isolated: a site pip.conf (find-links, constraints) must not change which file we get.
    run([sys.executable, "-m", "pip", "download", "--isolated", "--no-deps", "--only-binary=:all:", *cert,
         "--dest", str(dest), requirement])
    name, _, version = requirement.partition("==")
    prefix = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"
    found = [p for p in dest.glob("*.whl") if p.name.lower().startswith(prefix)]
    if len(found) != 1:
        raise CommandError(f"pip download {requirement} left {len(found)} matching wheels in {dest}")
    return found[0]
