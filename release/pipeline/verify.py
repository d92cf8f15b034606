# SPDX-License-Identifier: Apache-2.0
"""What a PMC member runs before voting, sequenced: the candidate read from svn dev/ (or ATR), its
signatures, checksums and file list, the checks made by hand on its sources, a rebuild of the
tagged commit (the build step's `build_commit`) compared byte for byte, and the checks of its
images. The checks themselves are the verify step's (`steps/verify.py`); `invoke verify` and
staging (which verifies what it committed as a voter would) both run this."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from release.adapters import git, svn
from release.config import ReleaseConfig
from release.errors import VerificationError
from release.plan.verify_report import FileCheck, VerifyReport
from release.progress import Progress, to_log
from release.record import sha256_of
from release.steps.build import build_commit
from release.steps.verify import (
    SKIPPED_CHECKS,
    Fetch,
    check_contents,
    check_files,
    compare_rebuild,
    finish_report,
    is_artefact,
    keys_keyring,
)
from release.versions import ReleaseVersion

# (checks, the voted commit, the KEYS file, the rebuilt candidate's wheels (filename -> sha256) or None):
# what `invoke verify` adds for the candidate's images (steps/check_provenance.py)
ImageChecks = Callable[[dict[str, FileCheck], str, Path, "Mapping[str, str] | None"], None]


def verify_candidate(config: ReleaseConfig, version_rc: ReleaseVersion, *, svn_dev_url: str,
                     keys_url: str, repo_root: Path, commit: str | None = None, rebuild: bool = True,
                     image_checks: ImageChecks | None = None, progress: Progress = to_log,
                     fetch: Fetch | None = None) -> VerifyReport:
    """Check the staged candidate; the report when everything holds, else CandidateRejected (exit 7).
    `fetch` reads the candidate from elsewhere than svn dev/ (Apache Trusted Releases, by revision)."""
    target = version_rc
    final = str(target.voted)  # what the candidate's files carry (versions.py: the voted version)
    url = fetch.where if fetch is not None else svn.join(svn_dev_url, config.name, str(target))
    if fetch is None and not svn.exists(url):
        raise VerificationError(f"no candidate at {url}")
    checks: dict[str, FileCheck] = {}
    with tempfile.TemporaryDirectory(prefix="release-verify-") as work:
        progress(f"checking out {url}")
        folder = (fetch.into(Path(work) / "candidate") if fetch is not None
                  else svn.export(url, Path(work) / "candidate"))
        keys = Path(work) / "KEYS"
        progress(f"importing {keys_url} into a throwaway keyring; checking signatures and checksums")
        with keys_keyring(svn.read_text(keys_url), Path(work), keys_url) as home:
            check_files(folder, config, final, home, checks)
        if config.checks_sources:
            progress("checking LICENSE and NOTICE, license headers, binaries, and the wheels against the "
                     "sdists")
            artefacts = sorted(n for n in checks if (folder / n).is_file() and is_artefact(n, config, final))
            check_contents(folder, artefacts, config, checks)
        else:
            progress(f"no checks of LICENSE, NOTICE, headers and binaries: {SKIPPED_CHECKS}")
        if rebuild:
            commit = commit or git.tag_commit(repo_root, str(target))
            if commit is None:
                raise VerificationError(f"no git tag {target} in {repo_root}; fetch tags or pass the commit")
            progress(f"rebuilding {final} from {commit[:12]} to compare bytes")
            rebuilt = build_commit(repo_root, commit, config=config, version=final,
                                   out=Path(work) / "rebuilt", with_source=True, progress=progress)
            compare_rebuild(folder, rebuilt, checks)
        if image_checks is not None:
            wheels: dict[str, str] | None = None
            commit = commit or git.tag_commit(repo_root, str(target)) or ""
            if rebuild and target.voted != target:  # the images install the wheel built as the candidate
                progress(f"rebuilding {target} from {commit[:12]} to compare with the images' wheel")
                made = build_commit(repo_root, commit, config=config, version=str(target),
                                    out=Path(work) / "rebuilt-candidate", with_source=False,
                                    progress=progress)
                wheels = {p.name: sha256_of(p) for p in made if p.name.endswith(".whl")}
            image_checks(checks, commit, keys, wheels)
    report = VerifyReport(str(target), url, commit or "", tuple(checks[name] for name in sorted(checks)))
    return finish_report(report, progress)
