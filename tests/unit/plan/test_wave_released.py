# SPDX-License-Identifier: Apache-2.0
"""A promoted wave read where it was not promoted (a runner's clone, no wave.json): the wave planned
again at its commit, the final tags promotion set there hidden from that plan; what its final tags say
was promoted; the publish dry run's actions."""

from __future__ import annotations

import pytest

from release.errors import RefusedError
from release.plan.commands import Where, plan_publish_wave
from release.plan.wave import packages_of, promoted_by_tags, wave_promotion, without_finals_at
from release.trains import SvnLayout
from tests.unit.plan.test_wave_versioned import SOURCE, core_wave
from tests.unit.test_wave import five, provider, wave

C = "c" * 40
OTHER = "0" * 40


def test_the_plan_again_at_the_commit_sees_no_final_tag_there_but_every_other_tag() -> None:
    tags = {"3.3.3": C, "task-sdk/1.3.3": C, "3.3.3rc1": C, "3.3.2": OTHER, "providers-http/6.3.1": C,
            "providers/2026-12-07": C, "constraints-3.3.3": OTHER, "3.3.4": OTHER}
    assert without_finals_at(tags, C) == {"3.3.3rc1": C, "3.3.2": OTHER, "providers/2026-12-07": C,
                                          "constraints-3.3.3": OTHER, "3.3.4": OTHER}


def test_a_final_tag_moved_off_its_candidates_commit_is_hidden_too_so_the_wave_is_planned_whole() -> None:
    tags = {"providers-http/6.3.1rc1": C, "providers-http/6.3.1": OTHER, "providers-ftp/3.16.1": OTHER}
    assert without_finals_at(tags, C) == {"providers-http/6.3.1rc1": C, "providers-ftp/3.16.1": OTHER}


def test_a_versioned_wave_with_its_final_tags_on_its_commit_is_promoted_whole() -> None:
    plan = core_wave()
    found = promoted_by_tags(plan, {"3.3.3": C, "task-sdk/1.3.3": C}, C, SvnLayout.VERSIONED)
    assert found == wave_promotion(plan, (), SvnLayout.VERSIONED)
    assert f"3.3.3/{SOURCE}" in found.files and f"3.3.3/{SOURCE}.asc" in found.files
    assert sorted(packages_of(found.files)) == ["apache-airflow", "apache-airflow-core",
                                                "apache-airflow-task-sdk"]


def test_a_distribution_without_its_final_tag_was_excluded_at_the_vote() -> None:
    plan = wave(*five(http=provider("http", "6.3.1", commits=2), ftp=provider("ftp", "3.16.2", commits=1)))
    found = promoted_by_tags(plan, {"providers-http/6.3.1": C}, C, SvnLayout.FLAT)
    assert found.tags == ("providers-http/6.3.1",)
    assert sorted(packages_of(found.files)) == ["apache-airflow-providers-http"]
    assert not any("ftp" in f for f in found.files)


def test_a_final_tag_on_another_commit_or_none_at_all_is_refused() -> None:
    plan = core_wave()
    with pytest.raises(RefusedError, match=r"^git tag task-sdk/1.3.3 is on 000000000000, not on the core "
                                           r"wave's commit cccccccccccc: its files were not built from"):
        promoted_by_tags(plan, {"3.3.3": C, "task-sdk/1.3.3": OTHER}, C, SvnLayout.VERSIONED)
    with pytest.raises(RefusedError, match=r"is not promoted: no final tag of it \(3.3.3, task-sdk/1.3.3\)"):
        promoted_by_tags(plan, {}, C, SvnLayout.VERSIONED)
    with pytest.raises(RefusedError, match="nothing planned"):
        promoted_by_tags(wave(*five()), {}, C, SvnLayout.FLAT)


def test_the_dry_run_reads_and_checks_svn_release_before_any_upload_and_names_the_final() -> None:
    plan = plan_publish_wave("core", "3.3.3", {"apache-airflow": ("3.3.3/apache_airflow-3.3.3.tar.gz",)},
                             index="I", released="R", commit=C, final="3.3.3", by_version="3.3.3")
    assert [a.where for a in plan.actions] == [Where.GIT, Where.SVN, Where.INDEX]
    assert plan.actions[1].does == ("read the wave's promoted files from R and check each: signed by a key "
                                    "in KEYS, its .sha512; nothing is uploaded unless all hold")
    assert plan.invocation == "invoke publish --train core --version 3.3.3"
    imaged = plan_publish_wave("core", "3.3.3", {}, index="I", released="R", commit=C, final="3.3.3",
                               by_version="3.3.3", images={"3.3.3rc2-python3.11": ""})
    assert imaged.actions[1].does.endswith("unless all hold and each candidate image names the wave's "
                                           "commit and installed exactly the promoted wheels")
    assert imaged.actions[-1].does.endswith("by manifest copy onto the voted images 3.3.3rc2-python3.11")
    flat = plan_publish_wave("providers", "2026-12-07", {}, index="I", released="R", commit=C)
    assert flat.invocation == "invoke publish --train providers --date 2026-12-07"
    refused = plan_publish_wave("providers", "2026-12-07", {}, index="I", released="R", refusals=("no",))
    assert refused.actions == () and refused.refusals == ("no",)
    assert refused.invocation == "invoke publish --train providers --date 2026-12-07"
