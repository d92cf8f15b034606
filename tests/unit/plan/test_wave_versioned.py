# SPDX-License-Identifier: Apache-2.0
"""A versioned train's wave (Airflow's core: a folder per release, its distributions together): where
its files are staged, the tags its run sets, what promoting it does, the promote dry run's actions,
what its announcement lists, what its cleanup removes, and how a voter's clone finds its candidate."""

from __future__ import annotations

import pytest

from release.errors import RefusedError
from release.plan.commands import plan_promote_wave
from release.plan.wave import (
    WavePlan,
    WaveStepName,
    candidate_tags,
    candidate_tags_refusal,
    dev_folders,
    plan_wave,
    released,
    versioned_cleanup,
    wave_promotion,
    wave_to_json,
)
from release.plan.wave_facts import candidate_number, earlier_candidates, lead_tag, members
from release.trains import SvnLayout
from tests.unit.test_wave import CORE, DATE, core, five, provider, wave

SOURCE = "apache-airflow-3.3.3-source.tar.gz"


def core_wave() -> WavePlan:
    return plan_wave(CORE, core(), date=DATE, project="apache-airflow", checks_sources=True)


def test_a_versioned_wave_is_staged_in_a_folder_per_candidate_and_a_flat_one_in_its_folder() -> None:
    plan = core_wave()
    assert dev_folders(plan) == ("3.3.3rc1", "task-sdk/1.3.3rc1")
    assert (plan.source_dev, plan.source_release) == (f"3.3.3rc1/{SOURCE}", f"3.3.3/{SOURCE}")
    flat = wave(*five(http=provider("http", "6.3.1", commits=2)))
    assert dev_folders(flat) == ("providers",)
    source = f"providers/apache_airflow_providers-{DATE}-source.tar.gz"
    assert flat.source_release == flat.source_dev == source
    assert dev_folders(wave(*five())) == ()  # nothing in the wave, nothing staged


def test_distributions_sharing_a_tag_get_it_once_named_together_and_the_wave_tag_comes_last() -> None:
    assert candidate_tags(core_wave()) == (
        ("3.3.3rc1", "apache-airflow 3.3.3rc1, apache-airflow-core 3.3.3rc1"),
        ("task-sdk/1.3.3rc1", "apache-airflow-task-sdk 1.3.3rc1"))
    flat = wave(*five(http=provider("http", "6.3.1", commits=2), ftp=provider("ftp", "3.16.2", commits=1)))
    assert candidate_tags(flat) == (
        ("providers-ftp/3.16.2rc1", "apache-airflow-providers-ftp 3.16.2rc1"),
        ("providers-http/6.3.1rc1", "apache-airflow-providers-http 6.3.1rc1"),
        (f"providers/{DATE}", f"the providers wave of {DATE}"))
    tags = next(s for s in core_wave().steps if s.name is WaveStepName.TAGS)
    assert tags.does == "3.3.3rc1, task-sdk/1.3.3rc1 on the wave's commit; a tag is never moved"


def test_the_dry_runs_json_names_where_the_source_release_is_promoted_to() -> None:
    data = wave_to_json(core_wave(), project="apache-airflow", commit="c" * 40)
    assert data["source_tarball"] == {"file": SOURCE, "svn_dev": f"dev/apache-airflow/3.3.3rc1/{SOURCE}",
                                      "svn_release": f"release/apache-airflow/3.3.3/{SOURCE}"}


def test_promoting_a_versioned_wave_copies_each_candidate_folder_whole_and_replaces_nothing() -> None:
    plan = core_wave()
    promotion = wave_promotion(plan, ["3.3.2", "task-sdk"], SvnLayout.VERSIONED)
    assert promotion.folders == (("3.3.3rc1", "3.3.3"), ("task-sdk/1.3.3rc1", "task-sdk/1.3.3"))
    assert promotion.superseded == ()
    assert promotion.tags == ("3.3.3", "task-sdk/1.3.3")  # the meta package and core share theirs
    assert len(promotion.files) == 21 and f"3.3.3/{SOURCE}.asc" in promotion.files
    assert {f.rpartition("/")[0] for f in promotion.files} == {"3.3.3", "task-sdk/1.3.3"}
    wheel = "task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3-py3-none-any.whl"
    assert promotion.source_of(wheel) == "task-sdk/1.3.3rc1/apache_airflow_task_sdk-1.3.3-py3-none-any.whl"
    assert promotion.source_of(f"3.3.3/{SOURCE}") == f"3.3.3rc1/{SOURCE}"


def test_a_flat_waves_promotion_keeps_its_paths_and_copies_no_folder() -> None:
    plan = wave(*five(http=provider("http", "6.3.1", commits=2)))
    promotion = wave_promotion(plan, ["apache_airflow_providers_http-6.3.0.tar.gz"])
    assert promotion.folders == ()
    assert promotion.superseded == ("providers/apache_airflow_providers_http-6.3.0.tar.gz",)
    assert all(promotion.source_of(f) == f for f in promotion.files)


def test_the_promote_dry_run_of_a_versioned_wave_copies_and_removes_folders() -> None:
    promotion = wave_promotion(core_wave(), (), SvnLayout.VERSIONED)
    plan = plan_promote_wave("core", DATE, promotion, dev_url="https://d/airflow",
                             release_url="https://r/airflow", commit="c" * 40)
    assert [a.does for a in plan.actions] == [
        "check the 21 voted files in https://d/airflow against the sha512 recorded when they were built "
        "and signed",
        "copy https://d/airflow/3.3.3rc1 to https://r/airflow/3.3.3 (the whole folder, server "
        "side, as of the revision checked)",
        "copy https://d/airflow/task-sdk/1.3.3rc1 to https://r/airflow/task-sdk/1.3.3 (the "
        "whole folder, server side, as of the revision checked)",
        "remove https://d/airflow/3.3.3rc1 (released)",
        "remove https://d/airflow/task-sdk/1.3.3rc1 (released)",
        "tag cccccccccccc as 3.3.3", "tag cccccccccccc as task-sdk/1.3.3"]


def test_a_versioned_waves_announcement_lists_each_file_in_its_release_folder_with_its_sum() -> None:
    promotion = wave_promotion(core_wave(), (), SvnLayout.VERSIONED)
    sums = {f.rpartition("/")[2]: f"sum of {f.rpartition('/')[2]}" for f in promotion.files}
    distributions, files = released(["apache-airflow 3.3.3rc1", "apache-airflow-core 3.3.3rc1",
                                     "apache-airflow-task-sdk 1.3.3rc1"], promotion.files, sums, "")
    assert distributions == (("apache-airflow", "3.3.3"), ("apache-airflow-core", "3.3.3"),
                             ("apache-airflow-task-sdk", "1.3.3"))
    assert [path for path, _ in files] == [
        f"3.3.3/{SOURCE}", "3.3.3/apache_airflow-3.3.3-py3-none-any.whl",
        "3.3.3/apache_airflow-3.3.3.tar.gz", "3.3.3/apache_airflow_core-3.3.3-py3-none-any.whl",
        "3.3.3/apache_airflow_core-3.3.3.tar.gz",
        "task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3-py3-none-any.whl",
        "task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3.tar.gz"]
    assert dict(files)["task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3.tar.gz"] == (
        "sum of apache_airflow_task_sdk-1.3.3.tar.gz")
    flat = wave_promotion(wave(*five(http=provider("http", "6.3.1", commits=2))), ())
    flat_sums = {f.rpartition("/")[2]: "s" for f in flat.files}
    assert all("/" not in path for path, _ in released([], flat.files, flat_sums, "providers")[1])


def test_a_versioned_trains_cleanup_is_a_single_releases_in_each_of_its_folders() -> None:
    removals = versioned_cleanup({
        "": (["3.2.1", "3.3.1", "3.3.2", "3.3.3", "KEYS", "providers", "task-sdk", "constraints-3.3.2"],
             ["3.3.3rc1", "3.3.3rc2", "3.3.4rc1", "3.3.4rc2", "providers", "task-sdk"]),
        "task-sdk": (["1.3.2", "1.3.3"], ["1.3.3rc2", "1.3.4rc1"]),
    })
    assert [(r.area, r.name, r.why) for r in removals] == [
        ("release", "3.3.1", "older than 3.3.3, the newest of 3.3"),
        ("release", "3.3.2", "older than 3.3.3, the newest of 3.3"),
        ("release", "constraints-3.3.2", "older than 3.3.3, the newest of 3.3"),
        ("dev", "3.3.3rc1", "3.3.3 is released"), ("dev", "3.3.3rc2", "3.3.3 is released"),
        ("dev", "3.3.4rc1", "superseded by 3.3.4rc2"),
        ("release", "task-sdk/1.3.2", "older than 1.3.3, the newest of 1.3"),
        ("dev", "task-sdk/1.3.3rc2", "1.3.3 is released")]
    assert versioned_cleanup({"": (["3.3.3"], ["3.3.4rc1"]), "task-sdk": ([], [])}) == ()


def test_a_candidates_tags_must_all_exist_and_point_at_its_commit() -> None:
    plan, commit = core_wave(), "c" * 40
    tags = {"3.3.3rc1": commit, "task-sdk/1.3.3rc1": commit}
    assert candidate_tags_refusal(plan, tags, commit, "3.3.3rc1") == ""
    assert candidate_tags_refusal(plan, {"3.3.3rc1": commit}, commit, "3.3.3rc1") == (
        f"no git tag task-sdk/1.3.3rc1: the core wave of 3.3.3rc1 tags it on {commit[:12]}; fetch the tags "
        "the vote email names")
    moved = {**tags, "task-sdk/1.3.3rc1": "d" * 40}
    assert candidate_tags_refusal(plan, moved, commit, "3.3.3rc1") == (
        f"git tag task-sdk/1.3.3rc1 points at dddddddddddd, not at {commit[:12]} where the other tags of "
        "3.3.3rc1 point: its candidate tags disagree")
    assert candidate_tags_refusal(plan, tags, commit, "3.3.3rc2") == (
        f"the core train at {commit[:12]}, where its tags name 3.3.3rc2, plans apache-airflow 3.3.3rc1: its "
        "candidate tags disagree")
    empty = plan_wave(CORE, core(tagged=("3.3.2", "3.3.3"), sdk_tagged=("1.3.2", "1.3.3")), date=DATE,
                      project="apache-airflow")
    assert candidate_tags_refusal(empty, tags, commit, "3.3.3rc1") == (
        f"the core train has nothing to release at {commit[:12]}, where 3.3.3rc1 points")


def test_a_voters_plan_of_a_candidate_counts_only_the_earlier_rcs_and_finds_its_lead_tag() -> None:
    found = members(CORE)
    assert lead_tag(found, "3.3.3rc2") == "3.3.3rc2"
    tags = dict.fromkeys(("3.3.2", "3.3.3rc1", "3.3.3rc2", "3.3.2rc3", "task-sdk/1.3.2", "task-sdk/1.3.3rc1",
                          "task-sdk/1.3.3rc2", "constraints-3.3.3rc2"), "c")
    assert sorted(earlier_candidates(found, tags, 2)) == [
        "3.3.2", "3.3.3rc1", "constraints-3.3.3rc2", "task-sdk/1.3.2", "task-sdk/1.3.3rc1"]
    assert sorted(earlier_candidates(found, tags, 1)) == ["3.3.2", "constraints-3.3.3rc2", "task-sdk/1.3.2"]
    assert candidate_number("3.3.3rc2") == 2
    for wrong in ("3.3.3", "3.3.3b1", "three"):
        with pytest.raises(RefusedError, match=f"^--version '{wrong}': give the candidate the vote is on"):
            candidate_number(wrong)
