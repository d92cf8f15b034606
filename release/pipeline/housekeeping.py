# SPDX-License-Identifier: Apache-2.0
"""Withdraw a release and clean svn up, against the target as it stands (observed, then planned)."""

from __future__ import annotations

from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig
from release.pipeline.connect import Target
from release.pipeline.state import observe_for_withdraw, withdrawn_now
from release.plan.withdraw import WithdrawPlan, plan_withdraw
from release.progress import Progress
from release.steps.cleanup import CleanupResult, cleanup_svn
from release.steps.withdraw import WithdrawResult, withdraw_release
from release.versions import ReleaseVersion


def _clients(target: Target) -> tuple[RegistryClient, PackageIndex]:
    return RegistryClient(target.registry), PackageIndex(target.index_upload, target.index_simple)


def withdraw_plan(config: ReleaseConfig, version: ReleaseVersion, target: Target) -> WithdrawPlan:
    """Where withdrawing `version` moves the aliases, decided from the registry and index now."""
    registry, index = _clients(target)
    return plan_withdraw(config, version, observe_for_withdraw(config, version, registry, index))


def withdraw(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, reason: str, key: str = "",
             say: Progress) -> WithdrawResult:
    registry, index = _clients(target)
    plan = plan_withdraw(config, version, observe_for_withdraw(config, version, registry, index))
    return withdraw_release(config, plan, registry=registry, index=index, reason=reason,
                            key=key or target.signing_key, gnupghome=target.gnupghome, progress=say)


def cleanup(config: ReleaseConfig, target: Target, *, remove: bool, say: Progress) -> CleanupResult:
    """svn's old releases and finished candidates; the withdrawn releases come from the registry."""
    registry, index = _clients(target)
    return cleanup_svn(config, svn_dev_url=target.svn_dev, svn_release_url=target.svn_release,
                       withdrawn=withdrawn_now(config, registry, index), remove=remove, progress=say)
