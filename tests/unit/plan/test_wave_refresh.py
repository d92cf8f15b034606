# SPDX-License-Identifier: Apache-2.0
"""Refreshing a versioned train's published images (`refresh --train`): which tags are looked at,
the dry run's plan for a base that moved and one that did not, a rerun, and the refusals (a
withdrawn release, a wave that published no images, a flat train). Pure, on Airflow's core."""

from __future__ import annotations

from typing import Any

import pytest

from release.plan.wave_refresh import (
    Observed,
    plan_wave_refresh,
    refresh_entry,
    refresh_refusal,
    voted_wheels,
    wave_image_tags,
)
from tests.unit.plan.test_wave_withdraw import CORE, DATE, PROVIDERS, core_record

RECORD = f"dist/core-{DATE}/wave.json"
WHEELS = ("apache_airflow-3.3.3-py3-none-any.whl", "apache_airflow_core-3.3.3-py3-none-any.whl",
          "apache_airflow_task_sdk-1.3.3-py3-none-any.whl")


def pushed(flavour: str, variant: str = "") -> dict[str, Any]:
    return {"flavour": flavour, "variant": variant, "digest": f"sha256:{variant}{flavour}"}


def published_images(**extra: Any) -> dict[str, Any]:
    """wave.json of the core's 3.3.3, its voted images given their final tags by `publish --train`."""
    files = {f"svn/{name}": "0" * 128 for name in (*WHEELS, "apache_airflow-3.3.3.tar.gz")}
    files["pypi/apache_airflow-3.3.3rc1-py3-none-any.whl"] = "1" * 128  # the index's rc-numbered one
    recorded = core_record(images={"candidate": "3.3.3rc1", "version": "3.3.3",
                                   "pushed": {"3.11": pushed("3.11"), "3.13": pushed("3.13"),
                                              "slim-3.11": pushed("3.11", "slim")}},
                           files=files, **extra)
    recorded["published"]["images"] = {"3.3.3-python3.11": "sha256:3.11"}
    return recorded


def test_the_tags_looked_at_are_the_final_tags_the_wave_published() -> None:
    assert wave_image_tags(published_images()) == ("3.3.3-python3.11", "3.3.3-python3.13",
                                                   "slim-3.3.3-python3.11")
    unpublished = core_record(images={"candidate": "3.3.3rc1", "version": "3.3.3", "pushed": {"3.11": {}}})
    assert wave_image_tags(unpublished) == () and wave_image_tags(core_record()) == ()


def test_the_voted_wheels_are_those_of_the_distributions_the_images_install() -> None:
    assert voted_wheels(published_images(), CORE.images) == WHEELS
    assert voted_wheels(published_images(), ["apache-airflow-task-sdk"]) == WHEELS[2:]
    assert voted_wheels(core_record(), CORE.images) == ()


def stale(tag: str) -> Observed:
    return Observed(tag, "stale", "python:3.11-slim-bookworm", "sha256:old", "sha256:new")


def test_a_base_that_moved_is_rebuilt_from_the_voted_wheels_and_one_that_did_not_is_left() -> None:
    observed = [stale("3.3.3-python3.11"), Observed("3.3.3-python3.13", "current", "python:3.13", "sha256:b",
                                                    "sha256:b")]
    plan = plan_wave_refresh(CORE, DATE, published_images(), observed, record=RECORD, wheels=WHEELS)
    assert plan.invocation == f"invoke refresh --train core --date {DATE}" and plan.version == "3.3.3"
    assert plan.refusals == ()
    assert [(a.where.value, a.does) for a in plan.actions] == [
        ("registry", "rebuild 3.3.3-python3.11 FROM python:3.11-slim-bookworm (base sha256:old -> "
                     "sha256:new) "
                     f"from the wave's voted wheels ({', '.join(WHEELS)}) with its constraints "
                     f"(dist/core-{DATE}/constraints/constraints-3.11.txt), smoke it, push it, move "
                     "3.3.3-python3.11 and every alias on its image to it"),
        ("registry", "leave 3.3.3-python3.13: base current"),
        ("dist", f"append each refresh to {RECORD} under `refreshed` (tag, old -> new image, base digests, "
                 "aliases moved, when)"),
    ]


def test_a_variant_is_rebuilt_with_its_own_constraints_and_a_skipped_tag_says_why() -> None:
    observed = [stale("slim-3.3.3-python3.11"),
                Observed("3.3.3-python3.13", "skipped", detail="no base.name/base.digest labels")]
    plan = plan_wave_refresh(CORE, DATE, published_images(), observed, record=RECORD, wheels=WHEELS)
    assert f"(dist/core-{DATE}/constraints/constraints-slim-3.11.txt)" in plan.actions[0].does
    assert plan.actions[1].does == "leave 3.3.3-python3.13: skipped (no base.name/base.digest labels)"


def test_a_rerun_finds_the_bases_current_records_nothing_and_says_what_was_refreshed() -> None:
    done = refresh_entry("3.3.3-python3.11", at="2026-12-08T05:00:00Z", base="python:3.11",
                         old_base="sha256:a", new_base="sha256:b", old_image="sha256:i",
                         new_image="sha256:j", moved=("3.3.3",))
    observed = [Observed(tag, "current") for tag in ("3.3.3-python3.11", "3.3.3-python3.13")]
    plan = plan_wave_refresh(CORE, DATE, published_images(refreshed=[done]), observed, record=RECORD,
                             wheels=WHEELS)
    assert [a.does for a in plan.actions] == [
        "leave 3.3.3-python3.11: base current; refreshed on 2026-12-08T05:00:00Z already",
        "leave 3.3.3-python3.13: base current"]
    assert done["moved"] == ["3.3.3"] and done["old_image"] == "sha256:i"


@pytest.mark.parametrize("withdrawn", [{"withdrawn": {"apache-airflow": {"version": "3.3.3"}}},
                                       {"withdrawn_images": {"version": "3.3.3"}}])
def test_a_withdrawn_release_is_refused(withdrawn: dict[str, Any]) -> None:
    plan = plan_wave_refresh(CORE, DATE, published_images(**withdrawn), [stale("3.3.3-python3.11")],
                             record=RECORD, wheels=WHEELS)
    assert plan.actions == () and plan.refusals == (
        f"3.3.3 (the core wave of {DATE}) is withdrawn: its images keep their tags and are not rebuilt; "
        "release a new version instead",)


def test_a_wave_without_published_images_a_missing_record_and_a_flat_train_are_refused() -> None:
    assert refresh_refusal(CORE, DATE, core_record()) == (
        f"the core wave of {DATE} published no images: publish it first (invoke publish --train core "
        f"--date {DATE})")
    assert refresh_refusal(CORE, DATE, {}) == (
        f"no wave.json for the core wave of {DATE} in dist/core-{DATE}/: refresh from the tree that ran it")
    assert refresh_refusal(PROVIDERS, DATE, published_images()) == (
        "--train providers: only a versioned train with images has images to refresh")
    assert refresh_refusal(CORE, DATE, published_images()) == ""
