# SPDX-License-Identifier: Apache-2.0
"""The release plan with staging = "atr" next to svn's: ATR's steps in place of svn's stage, the
release in ATR, the files of the revision, the vote's list, the ignores, the distributions. Pure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from release.config import parse_config
from release.plan.atr import (
    RAT_JAR_MISSING,
    SANDBOX_MAILING_LIST,
    AtrDistribution,
    atr_release,
    candidate_files,
    constraints_attached,
    plan_atr,
)
from release.plan.commands import Where, plan_promote_atr, plan_stage_atr, plan_vote_result
from release.plan.release import Mode, StepName, TargetState, plan_release, release_steps
from release.versions import parse_version

V = parse_version
REGISTRY = "127.0.0.1:5000"
BASE = {"name": "sample-app", "image": "sample/app", "python": ["3.11"], "default-python": "3.11",
        "base-image": "{registry}/sandbox/python:{python}", "mailing-list": "dev@sample.apache.org"}


def config(**extra: Any) -> Any:
    return parse_config(Path("/src"), {**BASE, **extra})


SVN = config()
SANDBOX_ATR = config(staging="atr", atr="sandbox")
REAL_ATR = config(staging="atr", atr="https://release-test.apache.org", **{"atr-project": "sample"})


def names(version: str, mode: Mode = Mode.RELEASE, *, atr: bool) -> list[str]:
    return [s.name.value for s in release_steps(V(version), mode, atr=atr)]


def test_a_candidate_is_staged_in_svn_or_uploaded_checked_and_voted_on_in_atr() -> None:
    svn = names("1.10.6rc1", atr=False)
    atr = names("1.10.6rc1", atr=True)
    assert svn[:4] == ["build", "sign", "stage", "images"]
    assert atr[:6] == ["build", "sign", "atr-upload", "atr-checks", "atr-vote", "images"]
    assert "stage" not in atr and [n for n in atr if n.startswith("atr-")] == ["atr-upload", "atr-checks",
                                                                               "atr-vote"]
    assert [n for n in svn if n != "stage"] == [n for n in atr if not n.startswith("atr-")]


def test_a_final_release_without_a_vote_stages_nowhere_with_either_staging() -> None:
    assert names("1.10.6", atr=True) == names("1.10.6", atr=False)
    assert not any(n.startswith("atr-") or n == "stage" for n in names("1.10.6", atr=True))


def test_a_promoted_release_is_finished_in_atr_after_the_aliases_and_before_the_signed_report() -> None:
    svn = names("1.10.6", Mode.PROMOTED, atr=False)
    atr = names("1.10.6", Mode.PROMOTED, atr=True)
    assert "atr-finish" not in svn
    at = atr.index("atr-finish")
    assert atr[at - 1:at + 3] == ["aliases", "atr-finish", "atr-distributions", "report"]
    assert atr.index("upload") < at and atr.index("push") < at
    assert [n for n in atr if not n.startswith("atr-")] == svn
    provenance = {s.name: s.does for s in release_steps(V("1.10.6"), Mode.PROMOTED, atr=True)}
    assert "svn" not in provenance[StepName.PROVENANCE]


def test_a_publish_join_and_a_plain_release_never_finish_in_atr() -> None:
    for mode in (Mode.RELEASE, Mode.PUBLISH):
        assert not any(n in {"atr-finish", "atr-distributions"} for n in names("1.10.6", mode, atr=True))


def test_the_release_plan_stages_in_atr_only_when_configured() -> None:
    svn = plan_release(SVN, V("1.10.6rc1"), TargetState(), registry=REGISTRY)
    assert svn.atr is None and svn.step(StepName.STAGE) is not None and svn.to_json()["atr"] is None
    atr = plan_release(SANDBOX_ATR, V("1.10.6rc1"), TargetState(), registry=REGISTRY)
    assert atr.step(StepName.STAGE) is None
    assert [s.name for s in atr.steps if s.name.value.startswith("atr-")] == [
        StepName.ATR_UPLOAD, StepName.ATR_CHECKS, StepName.ATR_VOTE]


def test_a_candidate_s_revision_holds_the_voted_files_with_their_signatures_and_checksums() -> None:
    plan = plan_release(SANDBOX_ATR, V("1.10.6rc1"), TargetState(), registry=REGISTRY)
    assert plan.atr is not None
    voted = {a.path.split("/", 1)[1] for a in plan.artefacts if a.path.startswith("svn/")}
    assert voted == {"sample-app-1.10.6-source.tar.gz", "sample_app-1.10.6.tar.gz",
                     "sample_app-1.10.6-py3-none-any.whl"}
    assert set(plan.atr.files) == {n + s for n in voted for s in ("", ".asc", ".sha512")}
    assert len(plan.atr.files) == 9 and list(plan.atr.files) == sorted(plan.atr.files)
    assert not any("rc1" in f for f in plan.atr.files)  # the voted bytes carry the final version
    assert (plan.atr.release, plan.atr.project, plan.atr.committee) == ("1.10.6", "test", "test")


def test_the_sandbox_s_atr_votes_on_its_test_list_and_ignores_only_the_missing_rat_jar() -> None:
    sandbox = plan_atr(SANDBOX_ATR, V("1.10.6rc1"))
    real = plan_atr(REAL_ATR, V("1.10.6rc1"))
    assert sandbox is not None and real is not None
    assert (sandbox.email_to, sandbox.ignores) == (SANDBOX_MAILING_LIST, (RAT_JAR_MISSING,))
    assert (real.email_to, real.ignores) == ("dev@sample.apache.org", ())
    assert sandbox.announce_to == SANDBOX_MAILING_LIST and real.announce_to == REAL_ATR.announce_to
    assert (real.server, real.project, real.committee) == ("https://release-test.apache.org", "sample",
                                                           "sample")
    assert plan_atr(SVN, V("1.10.6rc1")) is None


def test_a_final_records_each_package_on_pypi_and_the_image_on_docker_hub() -> None:
    plan = plan_release(REAL_ATR, V("1.10.6"), TargetState(), registry=REGISTRY)
    assert plan.atr is not None
    assert plan.atr.distributions == (AtrDistribution("pypi", "sample-app", "1.10.6"),
                                      AtrDistribution("docker", "app", "1.10.6", owner="sample"))
    assert plan.atr.distributions[1].shown == "docker: sample/app 1.10.6"
    candidate = plan_release(REAL_ATR, V("1.10.6rc1"), TargetState(), registry=REGISTRY)
    assert candidate.atr is not None and candidate.atr.distributions == ()  # nothing is recorded for a vote


def test_each_distribution_with_its_own_version_is_recorded_with_it() -> None:
    two = config(staging="atr", atr="sandbox", distributions=[
        {"name": "sample-app", "path": "."},
        {"name": "sample-sdk", "path": "sdk", "version-from": "sdk/sample_sdk/__init__.py"}])
    plan = plan_release(two, V("1.10.6"), TargetState(), registry=REGISTRY, versions={"sample-sdk": "0.3.0"})
    assert plan.atr is not None
    assert [(d.platform, d.package, d.version) for d in plan.atr.distributions] == [
        ("pypi", "sample-app", "1.10.6"), ("pypi", "sample-sdk", "0.3.0"), ("docker", "app", "1.10.6")]


@pytest.mark.parametrize(("version", "release"), [("1.10.6rc1", "1.10.6"), ("1.10.6rc2", "1.10.6"),
                                                  ("1.10.6", "1.10.6"), ("2.0.0b1", "2.0.0b1")])
def test_every_candidate_of_a_version_is_a_revision_of_one_release_in_atr(version: str, release: str) -> None:
    assert atr_release(V(version)) == release


def test_candidate_files_are_names_without_the_folder_each_with_its_companions() -> None:
    assert candidate_files(["svn/a.tar.gz", "b.whl"]) == (
        "a.tar.gz", "a.tar.gz.asc", "a.tar.gz.sha512", "b.whl", "b.whl.asc", "b.whl.sha512")


def test_the_plan_s_json_carries_atr_s_part() -> None:
    plan = plan_release(SANDBOX_ATR, V("1.10.6"), TargetState(), registry=REGISTRY, mode=Mode.PROMOTED)
    found = json.loads(json.dumps(plan.to_json()))
    assert found["atr"]["release"] == "1.10.6" and found["atr"]["server"] == "sandbox"
    assert found["atr"]["distributions"][0] == {"platform": "pypi", "package": "sample-app",
                                                "version": "1.10.6", "owner": ""}
    assert [s["name"] for s in found["steps"]][-4:] == ["atr-finish", "atr-distributions", "report",
                                                         "provenance"]


def test_the_stage_command_s_plan_says_what_happens_in_atr_in_order() -> None:
    atr = plan_atr(SANDBOX_ATR, V("1.10.6rc1"), voted=["svn/sample_app-1.10.6.tar.gz"])
    assert atr is not None
    plan = plan_stage_atr(V("1.10.6rc1"), "sample-app", atr, commit="c0ffee" * 7)
    where = [a.where for a in plan.actions]
    assert where == [Where.DIST, Where.GIT, Where.ATR, Where.ATR, Where.ATR, Where.ATR, Where.DIST, Where.ATR]
    assert "rat-jar-missing" in plan.actions[3].does
    assert "upload 3 files to ATR sandbox project test release 1.10.6" in plan.actions[4].does
    assert plan.actions[-1].does.startswith("start the vote on that revision")
    assert "svn" not in " ".join(a.does for a in plan.actions)


def test_vote_result_resolves_in_atr_and_promote_reads_the_voted_revision_back() -> None:
    atr = plan_atr(REAL_ATR, V("1.10.6rc1"))
    assert atr is not None
    assert [a.where for a in plan_vote_result(V("1.10.6rc1"), votes="v.mbox").actions] == [Where.DIST] * 2
    counted = plan_vote_result(V("1.10.6rc1"), votes="v.mbox", atr=atr)
    assert counted.actions[-1].where is Where.ATR and "resolve the vote" in counted.actions[-1].does
    promote = plan_promote_atr(V("1.10.6"), V("1.10.6rc1"), atr, revision="00010", files=["a", "b"])
    assert [a.where for a in promote.actions] == [Where.ATR, Where.GIT, Where.DIST]
    assert "holds the 2 files staged for the vote as revision 00010" in promote.actions[0].does


def test_a_release_that_is_no_candidate_says_nothing_of_it_goes_to_atr() -> None:
    final = plan_release(SANDBOX_ATR, V("1.10.6"), TargetState(), registry=REGISTRY)
    assert any("1.10.6 is not a release candidate: nothing of it goes to ATR" in w for w in final.warnings)
    for plan in (plan_release(SANDBOX_ATR, V("1.10.6rc1"), TargetState(), registry=REGISTRY),
                 plan_release(SANDBOX_ATR, V("1.10.6"), TargetState(), registry=REGISTRY, mode=Mode.PROMOTED),
                 plan_release(SVN, V("1.10.6"), TargetState(), registry=REGISTRY)):
        assert not any("goes to ATR" in w for w in plan.warnings)


@pytest.mark.parametrize(("version", "mode"), [("1.10.6rc1", Mode.RELEASE), ("1.10.6", Mode.PROMOTED),
                                               ("1.10.6", Mode.PUBLISH)])
def test_in_atr_the_constraints_and_image_signatures_are_attached_and_no_step_says_svn(version: str,
                                                                                       mode: Mode) -> None:
    atr = {s.name: s.does for s in release_steps(V(version), mode, atr=True)}
    assert not any("svn" in does for does in atr.values() if "nothing in svn" not in does), atr
    assert "nothing in svn" in atr[StepName.CONSTRAINTS] and "attached" in atr[StepName.CONSTRAINTS]
    assert "nothing in svn" in atr[StepName.ATTEST] and "publish" not in atr[StepName.ATTEST]
    for attached in ("record", "SBOMs", "constraints files", "each image's own signature"):
        assert attached in atr[StepName.PROVENANCE]


def test_with_svn_the_constraints_and_image_signatures_are_published_there_as_before() -> None:
    svn = {s.name: s.does for s in release_steps(V("1.10.6"), Mode.PROMOTED, atr=False)}
    assert svn[StepName.CONSTRAINTS].endswith("publish them in svn")
    assert svn[StepName.ATTEST].endswith("publish the signatures")
    assert svn[StepName.PROVENANCE].endswith("a final's go to svn release/ too")


def test_the_release_plan_in_atr_tells_the_dry_run_what_goes_where() -> None:
    plan = plan_release(SANDBOX_ATR, V("1.10.6rc1"), TargetState(), registry=REGISTRY)
    shown = {s["name"]: s["does"] for s in plan.to_json()["steps"]}
    assert "nothing in svn" in shown["constraints"] and "nothing in svn" in shown["attest"]
    assert "each image's own signature" in shown["provenance"]


def test_invoke_constraints_is_refused_in_atr_saying_where_the_constraints_are() -> None:
    line = constraints_attached(V("1.10.6rc1"))
    assert "\n" not in line and "attached to its images" in line and line.startswith("1.10.6rc1 ")
