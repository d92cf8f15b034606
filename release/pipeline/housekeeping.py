# SPDX-License-Identifier: Apache-2.0
"""Withdraw a release and clean svn up, against the target as it stands (observed, then planned)."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from release import locks
from release.config import ReleaseConfig
from release.pipeline.connect import Target, clients_for
from release.pipeline.state import observe_for_withdraw, withdrawn_now
from release.plan.cleanup import confirmed_withdrawals
from release.plan.withdraw import WithdrawPlan, plan_withdraw
from release.progress import Progress
from release.record import release_dir, write_atomic
from release.steps.cleanup import CleanupResult, cleanup_svn, locally_withdrawn, record_evidence
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


CLEANUP_PLAN = ".cleanup-plan.json"  # under dist/: the listing `invoke cleanup` printed last


def cleanup_plan_path(config: ReleaseConfig) -> Path:
    return config.root / "dist" / CLEANUP_PLAN


def cleanup(config: ReleaseConfig, target: Target, *, remove: bool, named: Collection[ReleaseVersion] = (),
            say: Progress) -> CleanupResult:
    """svn's old releases and finished candidates. A release is withdrawn only by its signed record
    (what the registry and the index mark withdrawn is checked against it). A listing is written to
    dist/.cleanup-plan.json; `remove` removes only when a fresh listing is that one, then drops it."""
    clients = clients_for(target)
    claimed = withdrawn_now(config, clients) | locally_withdrawn(config)
    evidence = record_evidence(config, claimed, svn_release_url=target.svn_release, keys_url=target.keys_url)
    withdrawn, ignored = confirmed_withdrawals(claimed, evidence)
    for line in ignored:
        say(line)
    path = cleanup_plan_path(config)
    printed = None
    if remove and path.is_file():
        try:
            printed = str(json.loads(path.read_text(encoding="utf-8"))["digest"])
        except (ValueError, KeyError, TypeError):
            printed = None
    result = cleanup_svn(config, svn_dev_url=target.svn_dev, svn_release_url=target.svn_release,
                         withdrawn=withdrawn, named=named, ignored=ignored, remove=remove, printed=printed,
                         progress=say)
    if remove:
        path.unlink(missing_ok=True)
    else:
        write_atomic(path, json.dumps({"digest": result.digest, "named": sorted(str(v) for v in named),
                                       "removals": [{"area": r.area, "name": r.name, "why": r.why, "url": u}
                                                    for r, u in zip(result.removals, result.urls)]},
                                      indent=2) + "\n")
    return result
