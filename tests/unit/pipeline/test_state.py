# SPDX-License-Identifier: Apache-2.0
"""The observation of the target (pipeline/state.py), the plan's only input from outside, against
in-memory clients: released and withdrawn versions, the index's files, the digests a plan needs."""

from __future__ import annotations

import pytest

from release.adapters.clients import Clients
from release.errors import ServiceError
from release.pipeline.state import observe, observe_or_empty, withdrawn_now
from release.plan.tags import withdrawn_tag
from release.versions import parse_version
from tests.unit.builders import IMAGE, sample_config
from tests.unit.memory import MemoryIndex, MemoryRegistry

V = parse_version
CONFIG = sample_config()


def clients() -> Clients:
    registry, index = MemoryRegistry(), MemoryIndex()
    for version in ("1.10.5", "1.10.6", "2.0.0rc1"):
        registry.push(IMAGE, f"{version}-python3.11", {})
    registry.copy_tag(IMAGE, "1.10.6-python3.11", "latest")
    registry.copy_tag(IMAGE, "1.10.5-python3.11", withdrawn_tag("1.10.5"))
    index.projects["sample-app"] = {"sample_app-1.10.4.tar.gz": b"a", "sample_app-1.10.6.tar.gz": b"b",
                                    "sample_app-1.9.0.tar.gz": b"c"}
    index.yanked.add(("sample-app", "1.9.0"))
    return Clients(registry, index)


def test_released_versions_come_from_the_registrys_tags_and_the_index() -> None:
    state = observe(CONFIG, V("1.10.7"), clients())
    assert [str(v) for v in state.released] == ["1.9.0", "1.10.4", "1.10.5", "1.10.6", "2.0.0rc1"]
    assert {str(v) for v in state.withdrawn} == {"1.9.0", "1.10.5"}  # a withdrawn tag, a yanked release
    assert [str(v) for v in state.current] == ["1.10.4", "1.10.6", "2.0.0rc1"]
    assert "sample_app-1.10.6.tar.gz" in state.index_files


def test_the_digests_observed_are_those_of_the_tags_the_plan_could_touch() -> None:
    found = clients()
    state = observe(CONFIG, V("1.10.7"), found)
    latest = found.registry.manifest_digest(IMAGE, "latest")
    assert state.tags == {"latest": latest}
    asked = {c[2] for c in found.registry.calls if c[0] == "manifest_digest"}  # type: ignore[attr-defined]
    assert {"1.10.7", "1.10.7-python3.11", "1.10.7-python3.13", "1.10", "latest"} <= asked


def test_the_withdrawn_releases_are_the_tags_and_the_yanked_versions() -> None:
    assert {str(v) for v in withdrawn_now(CONFIG, clients())} == {"1.9.0", "1.10.5"}


def test_a_service_that_does_not_answer_is_an_empty_target_for_a_dry_run() -> None:
    found = clients()
    found.index.fail["files"] = "connection refused"  # type: ignore[attr-defined]
    with pytest.raises(ServiceError):
        observe(CONFIG, V("1.10.7"), found)
    state, why = observe_or_empty(CONFIG, V("1.10.7"), found)
    assert state.released == () and "connection refused" in why and state.unreachable == why
