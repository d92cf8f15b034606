# SPDX-License-Identifier: Apache-2.0
"""Housekeeping of svn: list what `plan/cleanup.py` says may go, and remove it only when asked."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from release.adapters import svn
from release.config import ReleaseConfig
from release.plan.cleanup import Removal, plan_cleanup
from release.progress import Progress, to_log
from release.versions import ReleaseVersion


@dataclass(frozen=True)
class CleanupResult:
    removals: tuple[Removal, ...]
    urls: tuple[str, ...]  # one per removal, in the same order
    revision: int | None  # the commit that removed them; None for a listing or when nothing goes


def cleanup_svn(config: ReleaseConfig, *, svn_dev_url: str, svn_release_url: str,
                withdrawn: Collection[ReleaseVersion] = (), remove: bool = False,
                progress: Progress = to_log) -> CleanupResult:
    """The old releases and finished candidates of `config.name` in svn; removed in one commit with
    `remove`, else only listed."""
    dev = svn.join(svn_dev_url, config.name)
    release = svn.join(svn_release_url, config.name)
    removals = plan_cleanup(svn.list_folder(release), svn.list_folder(dev), withdrawn)
    urls = tuple(svn.join(dev if r.area == "dev" else release, r.name) for r in removals)
    if not removals or not remove:
        return CleanupResult(removals, urls, None)
    names = ", ".join(f"{r.area}/{r.name}" for r in removals)
    revision = svn.remove(urls, f"Remove old releases and finished candidates of {config.project}: {names}")
    progress(f"removed {len(urls)} folders (r{revision})")
    return CleanupResult(removals, urls, revision)
