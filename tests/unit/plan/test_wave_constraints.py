# SPDX-License-Identifier: Apache-2.0
"""A versioned train's constraints as git refs (Airflow's core): its run's `constraints tags` step
(`constraints-3.3.3rc1` on the branch `constraints-3-3`), what goes onto the branch, what promotion
tags (`constraints-3.3.3` on the same commit, `constraints-latest` only for the highest final, by
the rule `latest` follows) and what its dry run says, and the configurations refused."""

from __future__ import annotations

from typing import Any

import pytest

from release.plan.commands import plan_promote_wave
from release.plan.wave import (
    ConstraintsRef,
    WavePlan,
    WaveStepName,
    constraints_on_branch,
    final_constraints,
    plan_wave,
    wave_promotion,
    wave_to_json,
)
from release.plan.wave_facts import latest_ahead
from release.trains import SvnLayout
from release.versions import parse_version
from tests.unit.test_trains import refused
from tests.unit.test_wave import CORE, DATE, core, five, provider, versions, wave

RC1 = ConstraintsRef("constraints-3-3", "constraints-3.3.3rc1", "")


def core_wave(**options: Any) -> WavePlan:
    return plan_wave(CORE, core(), date=DATE, project="apache-airflow", **options)


def test_a_candidates_run_tags_its_constraints_after_its_tags_and_before_the_vote_email() -> None:
    plan = core_wave(constraints_tagged=versions("3.3.2"))
    assert plan.constraints == RC1  # a candidate never moves constraints-latest
    assert [s.name.value for s in plan.steps] == ["build", "sign", "stage", "tags", "index",
                                                  "constraints tags", "vote email"]
    step = next(s for s in plan.steps if s.name is WaveStepName.CONSTRAINTS_TAGS)
    assert step.does == (f"the constraints files of dist/core-{DATE}/constraints/ (what the images "
                         "installed) committed to the root of branch constraints-3-3 (a new commit only "
                         "when they changed), that commit tagged constraints-3.3.3rc1; a tag is never moved")
    data = wave_to_json(plan, project="apache-airflow", commit="c" * 40)
    assert data["constraints"] == {"branch": "constraints-3-3", "tag": "constraints-3.3.3rc1", "latest": None}
    assert "constraints tags" in [s["name"] for s in data["steps"]]
    in_atr = [s.name.value for s in core_wave(atr=True).steps]
    assert in_atr[-3:] == ["constraints tags", "vote email", "atr-vote"]


def test_a_later_candidate_and_a_rerun_name_their_own_constraints_tag() -> None:
    rc2 = plan_wave(CORE, core(tagged=("3.3.2", "3.3.3rc1"), sdk_tagged=("1.3.2", "1.3.3rc1")), date=DATE,
                    project="apache-airflow", constraints_tagged=versions("3.3.2", "3.3.3rc1"))
    assert rc2.constraints == ConstraintsRef("constraints-3-3", "constraints-3.3.3rc2", "")
    # a rerun of rc1: its own constraints tag is there, the plan (and so the step) is the same
    assert core_wave(constraints_tagged=versions("3.3.2", "3.3.3rc1")) == core_wave(
        constraints_tagged=versions("3.3.2"))


def test_only_a_versioned_train_with_something_to_release_tags_constraints() -> None:
    flat = wave(*five(http=provider("http", "6.3.1", commits=2)))
    assert flat.constraints is None and WaveStepName.CONSTRAINTS_TAGS not in [s.name for s in flat.steps]
    nothing = plan_wave(CORE, core(commits=0, meta="3.3.2", sdk="1.3.2"), date=DATE, project="x")
    assert nothing.constraints is None and nothing.steps == ()


@pytest.mark.parametrize(("tagged", "latest"), [
    (("3.3.2", "3.3.3rc1"), "constraints-latest"),  # the highest final: constraints-latest moves
    ((), "constraints-latest"),  # the first constraints tag of all
    (("3.3.2", "3.4.0", "3.3.3rc1"), ""),  # a patch on an older line: it stays on 3.4.0
    (("3.3.2", "3.4.0rc1"), "constraints-latest"),  # a candidate of a later line is no final
])
def test_promotion_tags_the_final_on_the_candidates_constraints_commit(tagged: tuple[str, ...], latest: str
                                                                       ) -> None:
    plan = core_wave()
    final = final_constraints(plan, versions(*tagged), CORE)
    promotion = wave_promotion(plan, (), SvnLayout.VERSIONED, final)
    assert promotion.constraints == ConstraintsRef("constraints-3-3", "constraints-3.3.3", latest)
    assert promotion.constraints_from == "constraints-3.3.3rc1"
    actions = [a.does for a in plan_promote_wave("core", DATE, promotion, dev_url="D", release_url="R",
                                                 commit="c" * 40).actions]
    tagging = actions[-3:-1] if latest else actions[-2:]
    assert tagging == [
        "tag cccccccccccc as task-sdk/1.3.3",
        "tag the commit of constraints-3.3.3rc1 (branch constraints-3-3) as constraints-3.3.3"]
    moves = [a for a in actions if "constraints-latest" in a]
    assert moves == ([] if not latest else [
        "move constraints-latest there: the highest final (never back from a higher one)"])


def test_a_wave_without_constraints_refs_promotes_no_constraints_tag() -> None:
    promotion = wave_promotion(core_wave(), (), SvnLayout.VERSIONED)  # none decided
    assert (promotion.constraints, promotion.constraints_from) == (None, "")
    flat = wave(*five(http=provider("http", "6.3.1", commits=2)))
    assert wave_promotion(flat, (), SvnLayout.FLAT, final_constraints(flat, (), CORE)).constraints is None


def test_constraints_latest_never_moves_back_from_a_higher_final() -> None:
    tags = {"constraints-3.3.2": "a" * 40, "constraints-3.4.0": "b" * 40, "constraints-3.4.1rc1": "d" * 40,
            "constraints-latest": "b" * 40}
    final = parse_version("3.3.3")
    assert latest_ahead(CORE, final, "b" * 40, tags) == parse_version("3.4.0")
    assert latest_ahead(CORE, final, "a" * 40, tags) is None  # 3.3.2 -> 3.3.3 is forward
    assert latest_ahead(CORE, final, None, tags) is None  # no constraints-latest yet
    assert latest_ahead(CORE, final, "d" * 40, tags) is None  # a candidate's commit names no final
    assert latest_ahead(CORE, parse_version("3.4.0"), "b" * 40, tags) is None  # where it is already


def test_the_branch_holds_the_constraints_files_at_its_root_as_airflows_branches_do() -> None:
    folder = ["constraints-3.11.txt", "constraints-3.11.txt.asc", "constraints-3.11.txt.sha512",
              "constraints-slim-3.13.txt", "constraints-3.13.txt", "notes.txt", "constraints-latest.txt",
              "constraints-.txt"]
    assert constraints_on_branch(folder) == ("constraints-3.11.txt", "constraints-3.13.txt",
                                             "constraints-slim-3.13.txt")
    assert constraints_on_branch([]) == ()


@pytest.mark.parametrize(("train", "words"), [
    ({"distributions": "providers/**", "tag": "providers-{id}/{version}", "svn": "flat", "images": [],
      "constraints": {}},
     "trains.p.constraints: a flat train's distributions each have their own version"),
    ({"distributions": [{"name": "app"}], "constraints": {}},
     "trains.p.constraints: its constraints files are what the train's images installed, and the train "
     "has no images: add `images`, or leave `constraints` out"),
])
def test_constraints_need_a_versioned_train_with_images(train: dict[str, object], words: str) -> None:
    assert words in refused({"p": train})
