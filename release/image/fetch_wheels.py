# SPDX-License-Identifier: Apache-2.0
"""Runs in the image's build stages with the base image's python3 (3.9+), before any pip exists:

    python3 fetch_wheels.py WHEEL_DIR BIN_DIR name==version...
    python3 fetch_wheels.py --uv VERSION      # prints where uv is in the mounted cache

Downloads each wheel from the package index (PIP_INDEX_URL, else PyPI, then each of
PIP_EXTRA_INDEX_URL), concurrently, and checks it against the sha256 the index lists; every wheel
but uv's goes to WHEEL_DIR. When the build mounts a download cache at CACHE_DIR (BuildKit's `RUN
--mount=type=cache`), a wheel already there under its sha256 is not downloaded again, which file
(and sha256) an index gave for a pinned spec on this machine is remembered, so a later build asks
the index nothing, and uv's binary (40 MB) is kept there, outside every layer: the build stages
that run uv mount the cache and ask `--uv` for it (fetching it again if the cache lost it).
Without the mount nothing is kept and uv's binary goes to BIN_DIR (no pip is needed to get uv).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import html
import io
import json
import os
import platform
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Callable, TypeVar

CACHE_DIR = "/root/.cache/release-pipeline"
ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
ARCHITECTURES = {"amd64": "x86_64", "arm64": "aarch64"}
ATTEMPTS = 4  # network errors in a build container are often passing (a name that did not resolve)
T = TypeVar("T")


def machine_tags(machine: str, libc: str) -> tuple[str, str]:
    """(libc family, architecture) as wheel platform tags spell them: ('manylinux', 'x86_64')."""
    arch = ARCHITECTURES.get(machine.lower(), machine)
    return ("manylinux" if libc == "glibc" else "musllinux"), arch


def wanted(name: str, version: str, libc: str, arch: str) -> re.Pattern[str]:
    """The wheel file names of `name==version` this machine can run: pure Python or its platform's."""
    return re.compile(rf"{name}-{re.escape(version)}-py3-none-(any|.*{libc}[_0-9]*_{arch})\.whl$")


def parse_listing(page: str, kind: str, body: bytes) -> list[tuple[str, str, str | None]]:
    """A simple-index project page (PEP 691 JSON or PEP 503 HTML) as (file name, URL, sha256)."""
    if kind.endswith("json"):
        return [(f["filename"], urllib.parse.urljoin(page, f["url"]), f.get("hashes", {}).get("sha256"))
                for f in json.loads(body)["files"]]
    found: list[tuple[str, str, str | None]] = []
    for href in re.findall(r"href=\"([^\"]+)\"", body.decode()):
        url, _, fragment = html.unescape(href).partition("#")
        sha = fragment[7:] if fragment.startswith("sha256=") else None
        found.append((urllib.parse.unquote(url.rsplit("/", 1)[-1]), urllib.parse.urljoin(page, url), sha))
    return found


def indexes(environ: Mapping[str, str]) -> list[str]:
    first = environ.get("PIP_INDEX_URL") or "https://pypi.org/simple/"
    return [first, *environ.get("PIP_EXTRA_INDEX_URL", "").split()]


def uv_binary(blob: bytes) -> bytes:
    """The `uv` executable inside uv's wheel."""
    with zipfile.ZipFile(io.BytesIO(blob)) as wheel:
        member = next(n for n in wheel.namelist() if n.endswith(".data/scripts/uv"))
        return wheel.read(member)


def mounted(path: str, mountinfo: Iterable[str]) -> bool:
    """True when `path` is a mount point in /proc/self/mountinfo's lines (their fifth field)."""
    return any(len(fields) > 4 and fields[4] == path for fields in (line.split() for line in mountinfo))


def cached(cache: Path | None, sha: str, download: Callable[[], bytes]) -> bytes:
    """The file with this sha256 from `cache` (a directory, or None for no cache), else downloaded
    (and kept there); a cached file whose bytes do not match is downloaded again."""
    path = cache / "sha256" / sha if cache is not None else None
    if path is not None and path.is_file():
        blob = path.read_bytes()
        if hashlib.sha256(blob).hexdigest() == sha:
            return blob
    blob = download()
    if path is not None and hashlib.sha256(blob).hexdigest() == sha:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{sha}.{os.getpid()}.part")
        partial.write_bytes(blob)
        partial.replace(path)
    return blob


def resolved_path(cache: Path, index: str, spec: str, libc: str, arch: str) -> Path:
    """Where the cache remembers the file an index gave for `spec` on this machine."""
    key = hashlib.sha256(f"{index}\n{spec}\n{libc}\n{arch}".encode()).hexdigest()
    return cache / "resolved" / key


def remembered(cache: Path | None, index: str, spec: str, libc: str, arch: str) -> tuple[str, bytes] | None:
    """(file name, bytes) of what `index` gave for `spec` before, when both are still in the cache and
    the bytes still have the sha256 the index listed then."""
    if cache is None:
        return None
    try:
        filename, sha = resolved_path(cache, index, spec, libc, arch).read_text().split()
        blob = (cache / "sha256" / sha).read_bytes()
    except (OSError, ValueError):
        return None
    return (filename, blob) if hashlib.sha256(blob).hexdigest() == sha else None


def remember(cache: Path | None, index: str, spec: str, libc: str, arch: str, filename: str, sha: str
             ) -> None:
    if cache is None:
        return
    path = resolved_path(cache, index, spec, libc, arch)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    partial.write_text(f"{filename} {sha}\n")
    partial.replace(path)


def uv_in_cache(cache: Path, version: str, arch: str) -> Path:
    return cache / "uv" / f"{version}-{arch}" / "uv"


def install(name: str, filename: str, blob: bytes, wheel_dir: Path, bin_dir: Path, uv: Path | None) -> None:
    """uv's binary to `uv` (its place in the cache) or into BIN_DIR, any other wheel into WHEEL_DIR."""
    if name != "uv":
        (wheel_dir / filename).write_bytes(blob)
        return
    target = uv or bin_dir / "uv"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"uv.{os.getpid()}.part")
    partial.write_bytes(uv_binary(blob))
    partial.chmod(0o755)
    partial.replace(target)


def retried(action: Callable[[], T], *, attempts: int = ATTEMPTS, pause: float = 2.0,
            sleep: Callable[[float], None] = time.sleep) -> T:
    """`action()`, tried again after a network error (a name that did not resolve, a reset
    connection), waiting a little longer each time; the last error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except OSError as exc:
            if attempt == attempts or (isinstance(exc, urllib.error.HTTPError) and exc.code < 500):
                raise
            print(f"{exc}; trying again ({attempt}/{attempts - 1})", file=sys.stderr)
            sleep(pause * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def listing(page: str) -> list[tuple[str, str, str | None]]:
    def get() -> list[tuple[str, str, str | None]]:
        request = urllib.request.Request(page, headers={"Accept": ACCEPT})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return parse_listing(page, answer.headers.get_content_type(), answer.read())

    return retried(get)


def download(url: str) -> Callable[[], bytes]:
    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=300) as answer:
            return bytes(answer.read())

    return lambda: retried(get)


def fetch(spec: str, wheel_dir: Path, bin_dir: Path, *, sources: list[str], libc: str, arch: str,
          cache: Path | None) -> None:
    name, version = spec.split("==")
    pattern = wanted(name, version, libc, arch)
    uv = uv_in_cache(cache, version, arch) if cache is not None and name == "uv" else None
    if uv is not None and uv.is_file():
        return
    for index in sources:
        known = remembered(cache, index, spec, libc, arch)
        if known is not None:
            install(name, known[0], known[1], wheel_dir, bin_dir, uv)
            return
        try:
            files = listing(f"{index.rstrip('/')}/{name}/")
        except OSError as exc:
            print(f"{index}: {exc}", file=sys.stderr)
            continue
        for filename, url, sha in files:
            if not (pattern.match(filename) and sha):
                continue
            blob = cached(cache, sha, download(url))
            if hashlib.sha256(blob).hexdigest() != sha:
                sys.exit(f"{filename}: sha256 differs from the one {index} lists")
            install(name, filename, blob, wheel_dir, bin_dir, uv)
            remember(cache, index, spec, libc, arch, filename, sha)
            return
    sys.exit(f"no {spec} wheel for {libc} {arch} on {' '.join(sources)}")


def main(argv: list[str]) -> None:
    libc, arch = machine_tags(platform.machine(), platform.libc_ver()[0])
    try:
        with open("/proc/self/mountinfo") as handle:
            cache = Path(CACHE_DIR) if mounted(CACHE_DIR, handle) else None
    except OSError:
        cache = None
    if argv[:1] == ["--uv"]:
        if cache is None:
            sys.exit(f"uv is not in /opt/build/bin and the download cache {CACHE_DIR} is not mounted here")
        fetch(f"uv=={argv[1]}", Path("/nonexistent"), Path("/nonexistent"), sources=indexes(os.environ),
              libc=libc, arch=arch, cache=cache)
        print(uv_in_cache(cache, argv[1], arch))
        return
    wheel_dir, bin_dir, specs = Path(argv[0]), Path(argv[1]), argv[2:]
    with concurrent.futures.ThreadPoolExecutor() as pool:
        futures = [pool.submit(fetch, spec, wheel_dir, bin_dir, sources=indexes(os.environ), libc=libc,
                               arch=arch, cache=cache) for spec in specs]
        for future in futures:
            future.result()


if __name__ == "__main__":
    main(sys.argv[1:])
