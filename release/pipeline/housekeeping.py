# SPDX-License-Identifier: Apache-2.0
"""Withdraw a release and clean svn up, against the target as it stands (observed, then planned)."""

from __future__ import annotations

from release import locks
from release.config import ReleaseConfig
from release.pipeline.connect import Target, clients_for
from release.pipeline.state import observe_for_withdraw, withdrawn_now
from release.plan.withdraw import WithdrawPlan, plan_withdraw
from release.progress import Progress
from release.record import release_dir
from release.steps.cleanup import CleanupResult, cleanup_svn
from release.steps.sign import sign_record
from release.steps.withdraw import WithdrawResult, withdraw_release
from release.versions import ReleaseVersion


def withdraw_plan(config: ReleaseConfig, version: ReleaseVersion, target: Target) -> WithdrawPlan:
    """Where withdrawing `version` moves the aliases, decided from the registry and index now."""
    clients = clients_for(target)
    return plan_withdraw(config, version, observe_for_withdraw(config, version, clients))


def withdraw(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, reason: str, key: str = "",
             say: Progress) -> WithdrawResult:
    clients = clients_for(target)
    plan = plan_withdraw(config, version, observe_for_withdraw(config, version, clients))
    # held throughout, as every run of V does: a run of V writing its record at the same time
    # refuses this withdrawal at once (nothing moved), and is never overwritten by it
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        result = withdraw_release(config, plan, registry=clients.registry, index=clients.index, reason=reason,
                                  progress=say)
        sign_record(result.record, key=key or target.signing_key, gnupghome=target.gnupghome)
    return result


def cleanup(config: ReleaseConfig, target: Target, *, remove: bool, say: Progress) -> CleanupResult:
    """svn's old releases and finished candidates; the withdrawn releases come from the registry."""
    clients = clients_for(target)
    return cleanup_svn(config, svn_dev_url=target.svn_dev, svn_release_url=target.svn_release,
                       withdrawn=withdrawn_now(config, clients), remove=remove,
                       progress=say)
