# SPDX-License-Identifier: Apache-2.0
"""A versioned train's wave (Airflow's core: a folder per release, its distributions together): where
its files are staged, the tags its run sets, what promoting it does, and the promote dry run's actions."""

from __future__ import annotations

from release.plan.commands import plan_promote_wave
from release.plan.wave import (
    WavePlan,
    WaveStepName,
    candidate_tags,
    dev_folders,
    plan_wave,
    wave_promotion,
    wave_to_json,
)
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
