# SPDX-License-Identifier: Apache-2.0
"""Withdrawing a release against in-memory registry and index: the aliases never move backwards,
even when a higher release took them after the withdrawal was planned."""

from __future__ import annotations

from pathlib import Path

from release.adapters.clients import Clients
from release.config import parse_config
from release.pipeline.recording import withdraw_recorded
from release.pipeline.state import observe_for_withdraw
from release.plan.images import LABEL_ARGS
from release.plan.verify_report import FileCheck
from release.plan.withdraw import plan_withdraw
from release.record import WithdrawalInfo, load_record, release_dir
from release.steps.check_provenance import withdrawal_check
from release.versions import parse_version as V
from tests.unit.memory import MemoryIndex, MemoryRegistry

IMAGE = "sample/app"
VERSION_LABEL = LABEL_ARGS["IMAGE_VERSION"]


def released(registry: MemoryRegistry, version: str, *, aliases: bool = True) -> str:
    digest = registry.push(IMAGE, f"{version}-python3.11", {VERSION_LABEL: version})
    registry.copy_tag(IMAGE, digest, version)
    if aliases:
        for alias in ("latest", "latest-python3.11", V(version).line, f"{V(version).line}-python3.11"):
            registry.copy_tag(IMAGE, digest, alias)
    return digest


def test_withdrawing_while_a_higher_release_takes_latest_never_moves_it_backwards(tmp_path: Path) -> None:
    """1.1.0 is withdrawn while 1.2.0 is released: the plan said `latest` goes back to 1.0.0, but
    by the time it moves 1.2.0 holds it, and it stays there."""
    config = parse_config(tmp_path, {"name": "sample-app", "image": IMAGE, "python": ["3.11"]})
    registry, index = MemoryRegistry(), MemoryIndex()
    released(registry, "1.0.0")
    withdrawn = released(registry, "1.1.0")
    state = observe_for_withdraw(config, V("1.1.0"), Clients(registry, index))
    plan = plan_withdraw(config, V("1.1.0"), state)
    assert {c.tag: c.source for c in plan.moves}["latest"] == "1.0.0-python3.11"
    newer = released(registry, "1.2.0")  # the release of 1.2.0 moves latest meanwhile
    lines: list[str] = []
    result = withdraw_recorded(config, plan, registry=registry, index=index, reason="broken",
                               progress=lambda line: lines.append(str(line)))
    tags = registry.repositories[IMAGE]
    assert tags["latest"] == tags["latest-python3.11"] == newer
    assert tags["1.1"] == withdrawn  # no other release of 1.1 can hold it
    assert result.aliases["latest"] == "left on a higher release"
    assert any("never moves backwards" in line for line in lines)
    assert tags["withdrawn-1.1.0"] == tags["1.1.0"]
    assert load_record(release_dir(tmp_path, "1.1.0"), "1.1.0").withdrawal is not None



def test_verify_published_reports_a_withdrawal_from_the_signed_record(tmp_path: Path) -> None:
    record = load_record(release_dir(tmp_path, "1.1.0"), "1.1.0")
    fine = FileCheck("withdrawal")
    withdrawal_check(fine, record, V("1.1.0"), marked=False)
    assert fine.ok and fine.passed == ["not withdrawn"]
    forged = FileCheck("withdrawal")  # a bare withdrawn-V tag: named, not taken for a withdrawal
    withdrawal_check(forged, record, V("1.1.0"), marked=True)
    assert forged.problems == ["the registry marks 1.1.0 withdrawn (withdrawn-1.1.0), but its signed record "
                               "records no withdrawal"]
    when = "2026-12-07T14:00:00+00:00"
    record.set_withdrawal(WithdrawalInfo("the NOTICE is wrong", when, "withdrawn-1.1.0", {}, "yanked"))
    withdrawn = FileCheck("withdrawal")
    withdrawal_check(withdrawn, record, V("1.1.0"), marked=True)
    assert withdrawn.problems == ["1.1.0 was withdrawn on 2026-12-07T14:00:00+00:00: the NOTICE is wrong"]
