# SPDX-License-Identifier: Apache-2.0
"""Housekeeping of svn: list what `plan/cleanup.py` says may go, and remove it only when asked, and
only the very listing that was printed.

A release counts as withdrawn here only through its signed record: dist/<V>/release.json (else its
copy in svn release/<name>/<V>/) recording a withdrawal, with a good detached signature by a key in
the project's KEYS. A `withdrawn-V` tag or an index yank alone is listed as not counted.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from release.adapters import gpg, svn
from release.config import ReleaseConfig
from release.errors import RefusedError
from release.plan.cleanup import (
    RecordEvidence,
    Removal,
    listing_digest,
    listing_refusal,
    plan_cleanup,
)
from release.progress import Progress, to_log
from release.record import RECORD_NAME, release_dir
from release.versions import ReleaseVersion, parse_existing


@dataclass(frozen=True)
class CleanupResult:
    removals: tuple[Removal, ...]
    urls: tuple[str, ...]  # one per removal, in the same order
    revision: int | None  # the commit that removed them; None for a listing or when nothing goes
    digest: str = ""  # the listing's digest: what --remove must find again
    ignored: tuple[str, ...] = ()  # withdrawal marks not counted (no signed record behind them)


def _says_withdrawn(data: bytes) -> bool:
    try:
        found = json.loads(data)
    except ValueError:
        return False
    return isinstance(found, dict) and isinstance(found.get("withdrawn"), dict)


def record_evidence(config: ReleaseConfig, versions: Collection[ReleaseVersion], *, svn_release_url: str,
                    keys_url: str) -> dict[ReleaseVersion, RecordEvidence]:
    """For each of `versions`: its record (dist/<V>/, else svn release/<name>/<V>/), whether a key in
    KEYS signed it, and whether it records a withdrawal."""
    found: dict[ReleaseVersion, RecordEvidence] = {}
    if not versions:
        return found
    with tempfile.TemporaryDirectory(prefix="release-cleanup-") as tmp, gpg.temporary_home() as home:
        work = Path(tmp)
        keys = work / "KEYS"
        keys.write_text(svn.read_text(keys_url), encoding="utf-8")
        gpg.import_keys(keys, gnupghome=home)
        for version in sorted(versions):
            local = release_dir(config.root, str(version)) / RECORD_NAME
            if local.is_file():
                data: bytes | None = local.read_bytes()
                asc = local.with_name(RECORD_NAME + ".asc")
                signature = asc.read_bytes() if asc.is_file() else None
            else:
                folder = svn.join(svn_release_url, config.name, str(version))
                data = svn.cat_bytes(svn.join(folder, RECORD_NAME))
                asc_url = svn.join(folder, RECORD_NAME + ".asc")
                signature = svn.cat_bytes(asc_url) if data is not None else None
            if data is None:
                found[version] = RecordEvidence(False, False, False)
                continue
            good = False
            if signature is not None:
                checked = work / str(version)
                checked.mkdir()
                (checked / RECORD_NAME).write_bytes(data)
                (checked / f"{RECORD_NAME}.asc").write_bytes(signature)
                good = gpg.verify_detached(checked / f"{RECORD_NAME}.asc", checked / RECORD_NAME,
                                           gnupghome=home).good
            found[version] = RecordEvidence(True, good, _says_withdrawn(data))
    return found


def locally_withdrawn(config: ReleaseConfig) -> set[ReleaseVersion]:
    """The versions whose local record (dist/<V>/release.json) records a withdrawal."""
    dist = config.root / "dist"
    names = [p.name for p in dist.iterdir() if (p / RECORD_NAME).is_file()] if dist.is_dir() else []
    return {v for v in parse_existing(names)
            if _says_withdrawn((release_dir(config.root, str(v)) / RECORD_NAME).read_bytes())}


def cleanup_svn(config: ReleaseConfig, *, svn_dev_url: str, svn_release_url: str,
                withdrawn: Collection[ReleaseVersion] = (), named: Collection[ReleaseVersion] = (),
                ignored: tuple[str, ...] = (), remove: bool = False, printed: str | None = None,
                progress: Progress = to_log) -> CleanupResult:
    """The old releases and finished candidates of `config.name` in svn (`withdrawn`: those withdrawn
    by their signed record); with `remove`, removed in one commit when the listing is the `printed`
    one, else only listed."""
    dev = svn.join(svn_dev_url, config.name)
    release = svn.join(svn_release_url, config.name)
    removals = plan_cleanup(svn.list_folder(release), svn.list_folder(dev), withdrawn, named)
    urls = tuple(svn.join(dev if r.area == "dev" else release, r.name) for r in removals)
    digest = listing_digest(removals, urls)
    if not removals or not remove:
        return CleanupResult(removals, urls, None, digest, ignored)
    refusal = listing_refusal(printed, digest)
    if refusal:
        raise RefusedError(refusal)
    names = ", ".join(f"{r.area}/{r.name}" for r in removals)
    revision = svn.remove(urls, f"Remove old releases and finished candidates of {config.project}: {names}")
    progress(f"removed {len(urls)} folders (r{revision})")
    return CleanupResult(removals, urls, revision, digest, ignored)
