# SPDX-License-Identifier: Apache-2.0
"""The plans of the vote workflow's commands: what each would change, where, and its refusals."""

from __future__ import annotations

import json

from release.plan.commands import (
    Where,
    plan_announce_wave,
    plan_build,
    plan_promote,
    plan_promote_wave,
    plan_publish_wave,
    plan_sign,
    plan_stage,
)
from release.plan.release import artefacts
from release.plan.wave import WavePromotion
from release.versions import parse_version

V = parse_version


def test_a_beta_is_built_and_signed_under_its_own_version() -> None:
    files = artefacts("sample-app", V("1.10.6b1"))
    built = plan_build(V("1.10.6b1"), files)
    assert [a.does for a in built.actions][:2] == [
        "build dist/1.10.6b1/svn/sample-app-1.10.6b1-source.tar.gz from HEAD",
        "build dist/1.10.6b1/svn/sample_app-1.10.6b1.tar.gz from HEAD"]
    signed = plan_sign(V("1.10.6b1"), files, key="ABCD")
    assert all("/pypi/" not in a.does for a in signed.actions) and len(signed.actions) == 3


def test_a_candidates_index_files_are_signed_too() -> None:
    signed = plan_sign(V("1.10.6rc1"), artefacts("sample-app", V("1.10.6rc1")), key="ABCD")
    assert sum("/pypi/" in a.does for a in signed.actions) == 2


def test_a_rebuild_names_the_commit_the_record_holds() -> None:
    built = plan_build(V("1.10.6"), artefacts("sample-app", V("1.10.6")), built_from="a" * 40,
                       refusals=["x"])
    assert "from commit aaaaaaaaaaaa (as recorded)" in built.actions[0].does and built.refusals == ("x",)


def test_staging_and_promotion_say_where_each_change_goes() -> None:
    staged = plan_stage(V("1.10.6rc1"), "sample-app", url="https://svn/dev/sample-app/1.10.6rc1",
                        files=["a.tar.gz", "a.tar.gz.asc"], commit="b" * 40)
    assert [a.where for a in staged.actions] == [Where.DIST, Where.GIT, Where.SVN, Where.SVN, Where.DIST]
    promoted = plan_promote(V("1.10.6"), V("1.10.6rc2"), dev_url="d", release_url="r", files=["a"],
                            candidates=["sample-app/1.10.6rc1", "sample-app/1.10.6rc2"])
    assert promoted.actions[-1].does == "remove the candidate dev/sample-app/1.10.6rc2"
    data = json.loads(json.dumps(promoted.to_json()))
    assert data["command"] == "promote" and data["actions"][1] == {"where": "svn", "does": "svn copy d to r"}


def test_a_wave_in_atr_is_promoted_by_reading_it_back_and_published_by_finishing_it_there() -> None:
    http = "providers/apache_airflow_providers_http-6.3.1"
    promotion = WavePromotion((f"{http}.tar.gz", f"{http}.tar.gz.asc", f"{http}.tar.gz.sha512"), (),
                              ("providers-http/6.3.1",))
    where = "ATR sandbox project test release providers-2026-12-07"
    plan = plan_promote_wave("providers", "2026-12-07", promotion, dev_url="D", release_url="R",
                             commit="c" * 40, atr=where)
    assert [(a.where, a.does) for a in plan.actions] == [
        (Where.ATR, f"check that the vote on {where} was resolved as passed and that it holds the files "
                    "staged"),
        (Where.ATR, "read the 3 files back and check them against the sha512 recorded when they were built "
                    "and signed; nothing is copied in svn or moved in ATR"),
        (Where.GIT, "tag cccccccccccc as providers-http/6.3.1")]
    published = plan_publish_wave("providers", "2026-12-07", {"apache-airflow-providers-http": (
        f"{http}.tar.gz",)}, index="I", atr=where)
    assert [a.where for a in published.actions] == [Where.INDEX, Where.ATR, Where.ATR]
    assert published.actions[1].does.startswith(f"finish {where}: ATR moves its files to its downloads and "
                                                "sends the wave's [ANNOUNCE]")
    assert published.actions[2].does.startswith("record each of the 1 packages as distributed on PyPI")
    assert plan_publish_wave("providers", "2026-12-07", {}, index="I", atr=where,
                             refusals=("not promoted",)).actions == ()


def test_a_waves_promotion_and_publication_say_each_file_and_tag_and_name_the_wave() -> None:
    http = "providers/apache_airflow_providers_http-6.3.1"
    older = "providers/apache_airflow_providers_http-6.3.0.tar.gz"
    promotion = WavePromotion((f"{http}.tar.gz", f"{http}.tar.gz.asc", f"{http}-py3-none-any.whl"), (older,),
                              ("providers-http/6.3.1",))
    plan = plan_promote_wave("providers", "2026-12-07", promotion, dev_url="D", release_url="R",
                             commit="c" * 40)
    assert plan.invocation == "invoke promote --train providers --date 2026-12-07"
    does = [a.does for a in plan.actions]
    assert does[0].startswith("check the 3 voted files in D against the sha512")
    assert f"copy {http}.tar.gz to R/{http}.tar.gz" in does
    assert f"remove R/{older} (a newer version replaces it)" in does
    assert f"remove D/{http}.tar.gz (released)" in does
    assert plan.actions[-1].where is Where.GIT and does[-1] == "tag cccccccccccc as providers-http/6.3.1"
    refused = plan_promote_wave("providers", "2026-12-07", WavePromotion((), (), ()), dev_url="D",
                                release_url="R", commit="", refusals=("no vote",))
    assert refused.actions == () and refused.refusals == ("no vote",)
    published = plan_publish_wave("providers", "2026-12-07", {"apache-airflow-providers-http": (
        f"{http}-py3-none-any.whl", f"{http}.tar.gz")}, index="https://upload.pypi.org/legacy/")
    assert [a.does for a in published.actions] == [
        "upload apache_airflow_providers_http-6.3.1-py3-none-any.whl, apache_airflow_providers_http-6.3.1"
        ".tar.gz to https://upload.pypi.org/legacy/ (a file it holds with the same sha256 is skipped, other "
        "bytes refused)"]
    assert published.to_json()["version"] == "providers 2026-12-07"
    assert plan_build(V("1.10.6"), []).invocation == "invoke build --version 1.10.6"
    announced = plan_announce_wave("providers", "2026-12-07", "dist/providers-2026-12-07/announce-email.txt")
    assert announced.invocation == "invoke announce --train providers --date 2026-12-07"
    assert [a.where for a in announced.actions] == [Where.DIST]
    assert announced.actions[0].does.startswith("write dist/providers-2026-12-07/announce-email.txt: each")
    unpublished = plan_announce_wave("providers", "2026-12-07", "e", refusals=("not published yet",))
    assert unpublished.refusals == ("not published yet",)
