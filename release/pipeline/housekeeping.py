# SPDX-License-Identifier: Apache-2.0
"""Withdraw a release and clean svn up, against the target as it stands (observed, then planned)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from release import locks
from release.adapters import svn
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.pipeline.connect import Target, clients_for
from release.pipeline.recording import withdraw_recorded
from release.pipeline.state import observe_for_withdraw, withdrawn_now
from release.plan.cleanup import Removal, confirmed_withdrawals
from release.plan.release import plan_images
from release.plan.withdraw import WithdrawPlan, plan_withdraw
from release.progress import Progress
from release.record import record_of, release_dir, write_atomic
from release.steps.cleanup import CleanupResult, cleanup_svn, locally_withdrawn, record_evidence
from release.steps.provenance import publish_provenance
from release.steps.sign import sign_record
from release.steps.withdraw import WithdrawResult
from release.versions import ReleaseVersion


def withdraw_plan(config: ReleaseConfig, version: ReleaseVersion, target: Target) -> WithdrawPlan:
    """Where withdrawing `version` moves the aliases, decided from the registry and index now."""
    clients = clients_for(target)
    return plan_withdraw(config, version, observe_for_withdraw(config, version, clients))


def withdraw(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, reason: str, key: str = "",
             say: Progress) -> WithdrawResult:
    """Withdraw `version`: its marker, its aliases moved back, the index told, and its record signed
    again and published again where the release published it (attached to each image, and a final's
    in svn release/), so `verify --published` reports the withdrawal."""
    clients = clients_for(target)
    plan_withdraw(config, version, observe_for_withdraw(config, version, clients))  # refuses at once
    # held throughout, as every run of V does: a run of V writing its record at the same time
    # refuses this withdrawal at once (nothing moved), and is never overwritten by it
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        # the project's aliases are decided and moved by one run at a time: a release moving latest
        # meanwhile is seen here (planned again under the lock), and the tag mover re-checks each alias
        with locks.aliases(config.root / "dist", say):
            plan = plan_withdraw(config, version, observe_for_withdraw(config, version, clients))
            result = withdraw_recorded(config, plan, registry=clients.registry, index=clients.index,
                                       reason=reason, progress=say)
        sign_record(result.record, key=key or target.signing_key, gnupghome=target.gnupghome)
        republish_record(config, version, target, clients, say=say)
    return result


def republish_record(config: ReleaseConfig, version: ReleaseVersion, target: Target, clients: Clients, *,
                     say: Progress) -> None:
    """The signed record (with its withdrawal) attached again to each image the release attested,
    and for a final committed again to svn release/<name>/<V>/ (staging in svn; in ATR each image's
    artifact carries its image signature and the constraints files as the release attached them)."""
    record = record_of(config.root, version)
    if not record.is_done("report"):  # the provenance step (which records nothing) follows the report
        say(f"{version} published no record (no report step in {record.path}): nothing to republish")
        return
    images, indexes = plan_images(config, version, target.repository(config.image), config.python,
                                  config.image_platforms, registry=target.registry)
    attested = images + tuple(index.as_image() for index in indexes)
    digests = {}
    for planned in attested:
        digest = clients.registry.manifest_digest(config.image, planned.tag)
        if digest:
            digests[planned.key] = digest
    extra = {}
    if config.constraints:
        constraints = config.root / config.constraints
        extra[constraints.name] = constraints
    folder = None if version.is_prerelease or config.uses_atr else svn.join(target.svn_release, config.name,
                                                                             str(version))
    publish_provenance(record, [p for p in attested if p.key in digests], digests,
                       registry=clients.registry, image=config.image, svn_folder=folder, extra=extra,
                       in_atr=config.uses_atr, progress=say)


CLEANUP_PLAN = ".cleanup-plan.json"  # under dist/: the listing `invoke cleanup` printed last


def printed_listing(path: Path) -> str | None:
    """The digest of the cleanup listing written to `path`, or None when none was (or it is unreadable)."""
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["digest"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_listing(path: Path, removals: Sequence[Removal], urls: Sequence[str], digest: str,
                  **extra: Any) -> None:
    """A cleanup listing as `--remove` reads it back: its digest, `extra`, and each removal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"digest": digest, **extra, "removals": [
        {"area": r.area, "name": r.name, "why": r.why, "url": u} for r, u in zip(removals, urls)]},
        indent=2) + "\n")


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
    printed = printed_listing(path) if remove else None
    result = cleanup_svn(config, svn_dev_url=target.svn_dev, svn_release_url=target.svn_release,
                         withdrawn=withdrawn, named=named, ignored=ignored, remove=remove, printed=printed,
                         progress=say)
    if remove:
        path.unlink(missing_ok=True)
    else:
        write_listing(path, result.removals, result.urls, result.digest, named=sorted(str(v) for v in named))
    return result
