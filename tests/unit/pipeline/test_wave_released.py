# SPDX-License-Identifier: Apache-2.0
"""A promoted wave found where it was not promoted (`pipeline/wave_released.py`, a runner's clone with
the tags and no wave.json), against an in-memory git: the commit the final's tag names, the wave as
voted on planned again there (the candidate voted on, not the next), what its final tags say was
promoted, and the refusals before any service is reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.config import parse_config
from release.errors import RefusedError
from release.pipeline.wave_released import released_wave
from tests.unit.memory_git import MemoryGit
from tests.unit.pipeline.test_trains import CORE, DATE, PROVIDERS, core_files, released
from tests.unit.test_trains import airflow_table


def promoted_core(rcs: int = 2) -> tuple[MemoryGit, str]:
    git = released()
    git.commit("An rc that failed its vote", core_files("3.3.3", "1.3.3"))
    for rc in range(1, rcs):
        git.tag(f"3.3.3rc{rc}")
        git.tag(f"task-sdk/1.3.3rc{rc}")
        git.commit(f"Fix after rc{rc}", {"airflow-core/src/airflow/fix.py": f"# {rc}\n"})
    commit = git.commits[-1][0]
    for tag in (f"3.3.3rc{rcs}", f"task-sdk/1.3.3rc{rcs}", "3.3.3", "task-sdk/1.3.3"):
        git.tag(tag)
    git.commit("Work after the release", {"airflow-core/src/airflow/later.py": "# later\n"})
    return git, commit


def test_a_versioned_wave_is_found_by_its_finals_tag_and_planned_at_the_candidate_voted_on(
        tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    git, commit = promoted_core()
    wave = released_wave(config, CORE, date=DATE, final="3.3.3", reader=git)
    assert wave.commit == commit and wave.name == "3.3.3"
    assert wave.promotion.tags == ("3.3.3", "task-sdk/1.3.3")
    assert {f.split("/")[0] for f in wave.promotion.files} == {"3.3.3", "task-sdk"}
    assert {str(e.candidate) for e in wave.plan.entries} == {"3.3.3rc2", "1.3.3rc2"}  # voted on: rc2
    assert [i.tag for i in wave.plan.images] == ["3.3.3rc2-python3.11", "3.3.3rc2-python3.13"]


def test_what_a_runner_refuses_before_reading_svn(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    git, commit = promoted_core()
    for train, final, says in (
            (CORE, "3.3.4", "no git tag 3.3.4: the core wave of 3.3.4 is not promoted"),
            (CORE, "3.3.3rc2", "--version 3.3.3rc2: give the final the vote promoted, e.g. 3.3.3"),
            (PROVIDERS, "6.3.1", "--version 6.3.1: train providers's waves are found by their date")):
        with pytest.raises(RefusedError, match=f"^{says}"):
            released_wave(config, train, date=DATE, final=final, reader=git)
    git.tag("task-sdk/1.3.3", git.commits[0][0])  # moved off the wave's commit
    with pytest.raises(RefusedError, match=f"^git tag task-sdk/1.3.3 is on {git.commits[0][0][:12]}, not on "
                                           f"the core wave's commit {commit[:12]}"):
        released_wave(config, CORE, date=DATE, final="3.3.3", reader=git)
