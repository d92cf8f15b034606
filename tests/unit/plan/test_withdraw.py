# SPDX-License-Identifier: Apache-2.0
"""Withdrawing a release: where each alias goes back to, and the tag that publishes it. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.config import parse_config
from release.errors import RefusedError
from release.plan.release import TagAction, TargetState, plan_release
from release.plan.withdraw import owners, plan_withdraw, withdraw_tags_to_observe
from release.versions import ReleaseVersion
from release.versions import parse_version as V

CONFIG = parse_config(Path("/src"), {"name": "sample-app", "image": "sample/app", "python": ["3.11", "3.13"],
                                     "default-python": "3.11"})


def digest(version: str, python: str) -> str:
    return f"sha256:{version}-{python}"


def images(*versions: str) -> dict[str, str]:
    """Version tags as a release pushes them: per flavour, and bare for the default flavour."""
    tags = {}
    for version in versions:
        for python in CONFIG.python:
            tags[f"{version}-python{python}"] = digest(version, python)
        tags[version] = digest(version, "3.11")
    return tags


def alias(tags: dict[str, str], prefix: str, version: str) -> dict[str, str]:
    for python in CONFIG.python:
        tags[f"{prefix}-python{python}"] = digest(version, python)
    tags[prefix] = digest(version, "3.11")
    return tags


def state(released: tuple[str, ...], tags: dict[str, str], withdrawn: tuple[str, ...] = ()) -> TargetState:
    return TargetState(released=tuple(V(v) for v in released), tags=tags,
                       withdrawn=frozenset(V(v) for v in withdrawn))


def moves(plan: object) -> dict[str, str]:
    return {c.tag: c.source for c in plan.moves}  # type: ignore[attr-defined]


HISTORY = ("1.10.6", "2.0.0rc1", "2.0.0", "1.10.7", "2.0.1")


def released_history() -> dict[str, str]:
    tags = images(*HISTORY)
    alias(tags, "1.10", "1.10.7")
    alias(tags, "2.0", "2.0.1")
    return alias(tags, "latest", "2.0.1")


def test_withdrawing_the_newest_moves_latest_and_its_line_back() -> None:
    plan = plan_withdraw(CONFIG, V("2.0.1"), state(HISTORY, released_history()))
    assert moves(plan) == {
        "2.0-python3.11": "2.0.0-python3.11", "2.0-python3.13": "2.0.0-python3.13", "2.0": "2.0.0-python3.11",
        "latest-python3.11": "2.0.0-python3.11", "latest-python3.13": "2.0.0-python3.13",
        "latest": "2.0.0-python3.11",
    }
    assert plan.families[0].digests == {"2.0.0-python3.11": digest("2.0.0", "3.11"),
                                        "2.0.0-python3.13": digest("2.0.0", "3.13")}
    assert plan.marker.tag == "withdrawn-2.0.1" and plan.marker.action is TagAction.CREATE
    assert plan.marker_digest == digest("2.0.1", "3.11") and plan.kept == ()


def test_withdrawing_an_older_line_patch_moves_only_its_line() -> None:
    plan = plan_withdraw(CONFIG, V("1.10.7"), state(HISTORY, released_history()))
    assert moves(plan) == {"1.10-python3.11": "1.10.6-python3.11", "1.10-python3.13": "1.10.6-python3.13",
                           "1.10": "1.10.6-python3.11"}
    latest = next(c for c in plan.families[1].changes if c.tag == "latest")
    assert latest.action is TagAction.SKIP and latest.reason == "does not point at 1.10.7"


def test_a_release_candidate_is_never_an_owner() -> None:
    tags = alias(alias(images("1.10.6", "2.0.0rc1", "2.0.0"), "2.0", "2.0.0"), "latest", "2.0.0")
    alias(tags, "1.10", "1.10.6")
    plan = plan_withdraw(CONFIG, V("2.0.0"), state(("1.10.6", "2.0.0rc1", "2.0.0"), tags))
    assert moves(plan) == {"latest-python3.11": "1.10.6-python3.11", "latest-python3.13": "1.10.6-python3.13",
                           "latest": "1.10.6-python3.11"}
    assert {c.tag: c.reason for c in plan.kept} == {
        "2.0-python3.11": "no other release can hold 2.0: it stays on 2.0.0",
        "2.0-python3.13": "no other release can hold 2.0: it stays on 2.0.0",
        "2.0": "no other release can hold 2.0: it stays on 2.0.0",
    }


def test_already_withdrawn_releases_are_never_owners() -> None:
    tags = alias(alias(images("1.10.5", "1.10.6", "1.10.7"), "1.10", "1.10.7"), "latest", "1.10.7")
    now = state(("1.10.5", "1.10.6", "1.10.7"), tags, withdrawn=("1.10.6",))
    plan = plan_withdraw(CONFIG, V("1.10.7"), now)
    assert set(moves(plan).values()) == {"1.10.5-python3.11", "1.10.5-python3.13"}


def test_an_owner_without_a_flavour_keeps_that_alias_where_it_is() -> None:
    tags = alias(alias(images("1.10.6", "1.10.7"), "1.10", "1.10.7"), "latest", "1.10.7")
    del tags["1.10.6-python3.13"]
    plan = plan_withdraw(CONFIG, V("1.10.7"), state(("1.10.6", "1.10.7"), tags))
    assert "1.10-python3.13" not in moves(plan)
    assert {c.tag: c.reason for c in plan.kept}["latest-python3.13"] == (
        "no other release can hold latest-python3.13: 1.10.6 has no python3.13 image; it stays on 1.10.7")


def test_a_rerun_after_the_aliases_moved_moves_nothing() -> None:
    tags = alias(alias(images("1.10.6", "1.10.7"), "1.10", "1.10.6"), "latest", "1.10.6")
    tags["withdrawn-1.10.7"] = digest("1.10.7", "3.11")
    plan = plan_withdraw(CONFIG, V("1.10.7"), state(("1.10.6", "1.10.7"), tags, withdrawn=("1.10.7",)))
    assert plan.moves == () and plan.marker.action is TagAction.VERIFY


def test_an_unreleased_version_is_refused() -> None:
    with pytest.raises(RefusedError, match=r"1\.10\.9 is not released"):
        plan_withdraw(CONFIG, V("1.10.9"), state(("1.10.6",), images("1.10.6")))


def test_a_version_without_images_is_refused() -> None:
    with pytest.raises(RefusedError, match=r"no 1\.10\.6-python3\.11 image"):
        plan_withdraw(CONFIG, V("1.10.6"), state(("1.10.6",), {}))


def test_the_owners_follow_the_release_rule() -> None:
    found = owners(CONFIG, V("2.0.1"), state(HISTORY, {}))
    assert found == {"2.0": V("2.0.0"), "latest": V("2.0.0")}
    assert owners(CONFIG, V("1.10.6"), state(("1.10.6",), {})) == {"1.10": None, "latest": None}


def test_the_tags_to_observe_cover_aliases_versions_and_owners() -> None:
    names = set(withdraw_tags_to_observe(CONFIG, V("2.0.1"), state(HISTORY, {})))
    assert {"withdrawn-2.0.1", "latest", "2.0-python3.13", "2.0.1-python3.13", "2.0.0-python3.11",
            "2.0.0-python3.13"} <= names
    assert "1.10.7-python3.11" not in names


def test_a_withdrawn_version_is_never_chosen_for_latest_by_a_later_release() -> None:
    """After 2.0.1 is withdrawn, releasing 1.10.8 must not give it latest (2.0.0 holds it), and
    2.0.0 again owns its line; a withdrawn 2.0.1 never counts as the higher release."""
    after = state(HISTORY, released_history(), withdrawn=("2.0.1",))
    plan = plan_release(CONFIG, V("2.0.0"), after, registry="r")
    assert plan.owns_latest and plan.owns_line
    patch = plan_release(CONFIG, V("1.10.8"), after, registry="r")
    assert not patch.owns_latest
    everything = state(("1.10.6", "2.0.0"), {}, withdrawn=("2.0.0",))
    assert plan_release(CONFIG, V("1.10.8"), everything, registry="r").owns_latest


def test_releasing_a_withdrawn_version_again_is_flagged() -> None:
    plan = plan_release(CONFIG, V("2.0.1"), state(HISTORY, {}, withdrawn=("2.0.1",)), registry="r")
    assert plan.withdrawn and plan.to_json()["withdrawn"] is True
    assert any("2.0.1 was withdrawn" in w for w in plan.warnings)


def test_plan_to_json() -> None:
    plan = plan_withdraw(CONFIG, V("2.0.1"), state(HISTORY, released_history()))
    data = plan.to_json()
    assert data["version"] == "2.0.1" and data["marker"]["tag"] == "withdrawn-2.0.1"
    assert [f["owner"] for f in data["families"]] == ["2.0.0", "2.0.0"]


def versions(*texts: str) -> tuple[ReleaseVersion, ...]:
    return tuple(V(t) for t in texts)


def test_state_current_leaves_the_withdrawn_out() -> None:
    assert state(("1.0.0", "1.0.1"), {}, withdrawn=("1.0.1",)).current == versions("1.0.0")
