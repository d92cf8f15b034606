# SPDX-License-Identifier: Apache-2.0
"""Staging a candidate, step by step: the candidate as built and signed (steps/vote.py), the checks
PMC members make by hand on its files when the project's policy has them (steps/verify.py), then
in svn the tag and the commit (steps/vote.py), what svn holds verified exactly as a voter would
(`invoke verify`), and only then its email; in ATR the upload. A refusal before the commit leaves
svn and ATR untouched; a candidate that fails the voter's verification gets no email.
"""

from __future__ import annotations

from datetime import datetime

from release.adapters.clients import Atr
from release.config import ReleaseConfig
from release.errors import VerificationError
from release.pipeline.recording import record_stage
from release.pipeline.verify import verify_candidate
from release.plan.atr import AtrPlan
from release.plan.verify_report import CandidateRejected
from release.progress import Progress, to_log
from release.record import record_of
from release.steps.verify import refuse_failed_contents
from release.steps.vote import (
    AtrUploaded,
    SignedCandidate,
    StageResult,
    commit_candidate,
    signed_candidate,
    upload_to_atr,
    write_vote_email,
)
from release.versions import ReleaseVersion


def _pmc_checks(config: ReleaseConfig, candidate: SignedCandidate, before: str, progress: Progress) -> None:
    if config.checks_sources:
        progress(f"checking LICENSE and NOTICE, license headers, binaries and the wheels before {before}")
        refuse_failed_contents(config, candidate.folder, str(candidate.version.final))


def stage_in_svn(config: ReleaseConfig, version: ReleaseVersion, *, svn_dev_url: str, keys_url: str,
                 fingerprint: str | None = None, now: datetime | None = None,
                 progress: Progress = to_log) -> StageResult:
    """Commit `dist/<rc>/svn/*` to `<svn_dev_url>/<name>/<rc>/`, tag the commit, verify what svn
    holds as a voter would, write the vote email, and record the stage (a rerun keeps the opening
    and the revision recorded before)."""
    candidate = signed_candidate(config, version, fingerprint=fingerprint)
    _pmc_checks(config, candidate, "staging", progress)
    committed = commit_candidate(config, candidate, svn_dev_url=svn_dev_url, progress=progress)
    url = committed.url
    progress(f"verifying {url} as a voter would")
    try:
        verify_candidate(config, version, svn_dev_url=svn_dev_url, keys_url=keys_url, repo_root=config.root,
                         commit=candidate.commit, progress=progress)
    except CandidateRejected as exc:
        raise VerificationError(f"{url} fails verification ({', '.join(exc.report.failed)}); no vote email "
                                f"was written: remove it (svn rm {url}) and stage a new candidate") from None
    staged = write_vote_email(config, candidate, committed, keys_url=keys_url, now=now, progress=progress)
    record_stage(record_of(config.root, version), staged.stage)
    return staged


def upload_candidate(config: ReleaseConfig, version: ReleaseVersion, plan: AtrPlan, client: Atr, *,
                     keys_text: str, progress: Progress = to_log) -> AtrUploaded:
    """The candidate's files (`plan.files`, unchanged since they were built and signed, passing the
    PMC checks first) uploaded to its release in ATR (steps/vote.py `upload_to_atr`)."""
    candidate = signed_candidate(config, version, planned=plan.files)
    _pmc_checks(config, candidate, "uploading", progress)
    return upload_to_atr(config, candidate, plan, client, keys_text=keys_text, progress=progress)
