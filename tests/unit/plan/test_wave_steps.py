# SPDX-License-Identifier: Apache-2.0
"""The steps of a wave's run, planned with the wave (pure): what `invoke release --train` runs and
its dry run prints, each with what it does with this wave's files, folders and tags."""

from __future__ import annotations

import re
from pathlib import Path

from release.config import parse_config
from release.plan.wave import (
    DistributionFacts,
    WaveImage,
    WaveStepName,
    exclude,
    plan_wave,
    wave_atr_folder,
    wave_atr_release,
    wave_to_json,
    with_images,
)
from release.versions import parse_version
from tests.unit.test_trains import PROVIDERS, airflow_table
from tests.unit.test_wave import CORE, DATE, core, five, provider, wave

ALL = ["build", "sign", "PMC checks", "stage", "tags", "index", "vote email"]


def three() -> list[DistributionFacts]:
    return five(http=provider("http", "6.3.1", commits=2), ftp=provider("ftp", "3.16.2", commits=1),
                common_io=provider("common-io", "1.11.1", commits=3))


def test_a_wave_of_a_project_that_checks_its_sources_runs_seven_steps_each_saying_what_it_does() -> None:
    plan = wave(*three(), checks_sources=True)
    assert [s.name.value for s in plan.steps] == ALL
    does = {s.name: s.does for s in plan.steps}
    assert does[WaveStepName.BUILD] == ("an sdist and a wheel of each of the 3 distributions and the source "
                                        f"tarball apache_airflow_providers-{DATE}-source.tar.gz, from the "
                                        "wave's commit; for the index, each one's sdist and wheel again "
                                        "with its rc-numbered version")
    assert does[WaveStepName.SIGN] == "X.asc and X.sha512 of the 7 files, with a key listed in KEYS"
    assert does[WaveStepName.STAGE] == ("one svn commit of the 21 files, signatures included, to "
                                        "dev/apache-airflow/providers (flat)")
    assert does[WaveStepName.TAGS] == ("providers-common-io/1.11.1rc1, providers-ftp/3.16.2rc1, "
                                       f"providers-http/6.3.1rc1, providers/{DATE} on the wave's commit; "
                                       "a tag is never moved")
    assert does[WaveStepName.INDEX] == (
        "the 6 rc-numbered sdists and wheels (apache-airflow-providers-common-io 1.11.1rc1, "
        "apache-airflow-providers-ftp 3.16.2rc1, apache-airflow-providers-http 6.3.1rc1) to the package "
        "index, one project at a time, for users to test; the same bytes there are skipped, other bytes "
        "refused")
    assert does[WaveStepName.VOTE_EMAIL].startswith(
        f"dist/providers-{DATE}/vote-email.txt: the wave's [VOTE]")
    assert does[WaveStepName.PMC_CHECKS].startswith("LICENSE and NOTICE, license headers")


def test_without_source_checks_the_run_has_no_pmc_checks_and_an_empty_wave_no_steps() -> None:
    assert [s.name.value for s in wave(*three()).steps] == [s for s in ALL if s != "PMC checks"]
    assert wave(*five()).steps == ()  # nothing changed: nothing to run (the run is refused)


def test_the_steps_are_in_the_dry_runs_json_and_stay_with_the_plan_after_the_vote() -> None:
    plan = wave(*three(), checks_sources=True)
    data = wave_to_json(plan, project="apache-airflow", commit="c" * 40)
    assert [s["name"] for s in data["steps"]] == ALL
    assert data["steps"][3]["does"] == ("one svn commit of the 21 files, signatures included, to "
                                        "dev/apache-airflow/providers (flat)")
    assert exclude(plan, {"ftp": "a regression"}).steps == plan.steps


def test_a_versioned_trains_steps_name_its_folders_per_candidate() -> None:
    config = parse_config(Path("/airflow"), airflow_table())
    core = config.train("core")
    facts = [DistributionFacts(name="apache-airflow", id="apache-airflow", path=".", declared="3.3.3",
                               tag="{version}", svn_folder="", tagged=(parse_version("3.3.2"),))]
    plan = plan_wave(core, facts, date=DATE, project="apache-airflow", checks_sources=True)
    stage = next(s for s in plan.steps if s.name is WaveStepName.STAGE)
    assert stage.does == ("one svn commit of the 9 files, signatures included, to "
                          "dev/apache-airflow/3.3.3rc1 (versioned)")
    # its rc-numbered packages go to the index too, pinning each other's candidates
    assert [s.name.value for s in plan.steps] == [*ALL[:-1], "constraints tags", "vote email"]
    assert plan.entries[0].index_files == ("apache_airflow-3.3.3rc1.tar.gz",
                                           "apache_airflow-3.3.3rc1-py3-none-any.whl")
    assert plan.steps[0].does.endswith("with its rc-numbered version, their pins on each other at the final "
                                       "versions pinning the candidates")
    assert plan.index_pins == (("apache-airflow", "3.3.3", "3.3.3rc1"),)


def test_a_versioned_waves_rc_numbered_packages_pin_each_others_candidates_a_flat_ones_nothing() -> None:
    plan = plan_wave(CORE, core(), date=DATE, project="apache-airflow")
    assert plan.index_pins == (("apache-airflow", "3.3.3", "3.3.3rc1"),
                               ("apache-airflow-core", "3.3.3", "3.3.3rc1"),
                               ("apache-airflow-task-sdk", "1.3.3", "1.3.3rc1"))
    assert [e.index_files[1] for e in plan.entries] == [
        "apache_airflow-3.3.3rc1-py3-none-any.whl", "apache_airflow_core-3.3.3rc1-py3-none-any.whl",
        "apache_airflow_task_sdk-1.3.3rc1-py3-none-any.whl"]
    index = next(s for s in plan.steps if s.name is WaveStepName.INDEX)
    assert index.does.startswith("the 6 rc-numbered sdists and wheels (apache-airflow 3.3.3rc1, "
                                 "apache-airflow-core 3.3.3rc1, apache-airflow-task-sdk 1.3.3rc1)")
    data = wave_to_json(plan, project="apache-airflow", commit="c" * 40)
    assert data["index_pins"][2] == {"name": "apache-airflow-task-sdk", "final": "1.3.3",
                                     "candidate": "1.3.3rc1"}
    later = plan_wave(CORE, core(tagged=("3.3.2", "3.3.3rc1"), sdk_tagged=("1.3.2", "1.3.3rc1")), date=DATE,
                      project="apache-airflow")
    assert [c for _, _, c in later.index_pins] == ["3.3.3rc2", "3.3.3rc2", "1.3.3rc2"]
    flat = wave(*three())
    assert flat.index_pins == ()
    assert wave_to_json(flat, project="apache-airflow", commit="c" * 40)["index_pins"] == []


def test_each_distribution_names_its_rc_numbered_sdist_and_wheel_for_the_index_and_signs_none() -> None:
    plan = wave(*three(), checks_sources=True)
    http = next(e for e in plan.entries if e.id == "http")
    assert http.index_files == ("apache_airflow_providers_http-6.3.1rc1.tar.gz",
                                "apache_airflow_providers_http-6.3.1rc1-py3-none-any.whl")
    assert http.files[0] == "apache_airflow_providers_http-6.3.1.tar.gz"  # the vote is on the final's
    assert not any(set(e.index_files) & set(e.files) for e in plan.entries)  # not signed, not in svn
    assert not any("rc" in p for e in plan.entries for p in (*e.svn_dev, *e.svn_release))
    data = wave_to_json(plan, project="apache-airflow", commit="c" * 40)
    assert [d["index"] for d in data["distributions"]] == [list(e.index_files) for e in plan.entries]
    assert data["distributions"][1]["index"] == ["apache_airflow_providers_ftp-3.16.2rc1.tar.gz",
                                                 "apache_airflow_providers_ftp-3.16.2rc1-py3-none-any.whl"]


def test_a_later_rc_of_an_excluded_provider_gets_its_own_rc_numbered_packages() -> None:
    later = wave(*five(http=provider("http", "6.3.1", commits=3, tagged=("6.3.0", "6.3.1rc1"))),
                 retry={"apache-airflow-providers-http": "HttpHook retries regressed"})
    assert later.entries[0].index_files == ("apache_airflow_providers_http-6.3.1rc2.tar.gz",
                                            "apache_airflow_providers_http-6.3.1rc2-py3-none-any.whl")
    index = next(s for s in later.steps if s.name is WaveStepName.INDEX)
    assert "(apache-airflow-providers-http 6.3.1rc2)" in index.does and index.does.startswith("the 2 ")


def test_the_index_step_comes_after_the_tags_and_before_the_vote_email() -> None:
    names = [s.name for s in wave(*three()).steps]
    assert names.index(WaveStepName.INDEX) == names.index(WaveStepName.TAGS) + 1
    assert names[-1] is WaveStepName.VOTE_EMAIL


ATR_STEPS = ["build", "sign", "PMC checks", "atr-upload", "atr-checks", "tags", "index", "vote email",
             "atr-vote"]


def test_a_wave_staging_in_atr_runs_atrs_steps_in_place_of_svns_stage() -> None:
    """With ATR: the upload where svn's stage was, ATR's checks right after it (before anything is
    tagged or on the index), the vote started in ATR last, with the vote email; the release in ATR
    is named for the flat train's wave."""
    plan = wave(*three(), checks_sources=True, atr=True)
    assert [s.name.value for s in plan.steps] == ATR_STEPS
    assert plan.atr_release == f"providers-{DATE}"
    does = {s.name: s.does for s in plan.steps}
    assert does[WaveStepName.ATR_UPLOAD] == (
        f"the 21 files, signatures included, to ATR's release providers-{DATE} as a revision (the signing "
        "key in the committee's keys; a file there with the same bytes is not uploaded again)")
    assert does[WaveStepName.ATR_CHECKS].startswith("ATR's checks of that revision, waited for: a blocking")
    assert does[WaveStepName.VOTE_EMAIL].endswith(", naming ATR's vote page")
    assert does[WaveStepName.ATR_VOTE] == (f"the vote started in ATR on providers-{DATE}'s revision with the "
                                           "vote email (never a second time)")
    assert not any("svn" in text for text in does.values())
    data = wave_to_json(plan, project="apache-airflow", commit="c" * 40)
    assert [s["name"] for s in data["steps"]] == ATR_STEPS and data["atr_release"] == f"providers-{DATE}"
    svn_plan = wave(*three(), checks_sources=True)
    assert svn_plan.atr_release == "" and wave_to_json(svn_plan, project="apache-airflow",
                                                       commit="c" * 40)["atr_release"] is None
    assert wave(*five(), atr=True).atr_release == ""  # an empty wave stages nothing


def test_the_atr_release_of_a_wave_is_its_train_and_date_or_a_versioned_trains_lead_version() -> None:
    assert wave_atr_release(PROVIDERS, DATE, "6.3.1") == f"providers-{DATE}"
    assert wave_atr_release(CORE, DATE, "3.3.3") == "3.3.3"
    assert re.fullmatch(r"[A-Za-z0-9.+-]+", f"providers-{DATE}") and "--" not in f"providers-{DATE}"
    assert wave_atr_folder(PROVIDERS, f"providers-{DATE}") == "providers"
    assert wave_atr_folder(CORE, "3.3.3") == "3.3.3"
    assert plan_wave(CORE, core(), date=DATE, project="apache-airflow", atr=True).atr_release == "3.3.3"


IMAGES = (WaveImage("3.3.3rc1-python3.11", "constraints/constraints-3.11.txt"),
          WaveImage("3.3.3rc1-python3.13", "constraints/constraints-3.13.txt"))
INSTALLS = ("apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk")


def test_a_versioned_wave_with_images_builds_and_pushes_them_after_its_tags_then_writes_their_constraints(
) -> None:
    plan = with_images(plan_wave(CORE, core(), date=DATE, project="apache-airflow", checks_sources=True),
                       IMAGES, INSTALLS, project="apache-airflow")
    assert [s.name.value for s in plan.steps] == ["build", "sign", "PMC checks", "stage", "tags", "images",
                                                   "constraints", "sbom", "attest", "provenance", "index",
                                                   "constraints tags", "vote email"]
    assert plan.images == IMAGES
    does = {s.name: s.does for s in plan.steps}
    assert does[WaveStepName.IMAGES] == (
        f"3.3.3rc1-python3.11, 3.3.3rc1-python3.13 built from the wave's wheels in dist/core-{DATE}/svn/ "
        "(apache_airflow-3.3.3-py3-none-any.whl, apache_airflow_core-3.3.3-py3-none-any.whl, "
        "apache_airflow_task_sdk-1.3.3-py3-none-any.whl; the voted 3.3.3), smoke-tested, then pushed; "
        "nothing is pushed if one fails, an image pushed before is kept")
    assert does[WaveStepName.CONSTRAINTS] == (
        f"what each image installed, as the single release writes it, into dist/core-{DATE}/"
        "constraints/constraints-3.11.txt, constraints/constraints-3.13.txt, each with X.asc and X.sha512")
    assert does[WaveStepName.SBOM] == (
        f"a CycloneDX SBOM of each image, read inside it (pulled by its digest), into dist/core-{DATE}/"
        "provenance/sbom/, each with X.asc and X.sha512; one written before for the same digest is kept")
    assert does[WaveStepName.ATTEST] == (
        "each image digest signed with the wave's key (simple signing, binding its candidate tag) into "
        f"dist/core-{DATE}/provenance/image-signatures/, and committed to the lookaside tree svn "
        "dev/apache-airflow/signatures/")
    assert does[WaveStepName.PROVENANCE] == (
        f"wave.json as the steps before it recorded it, copied to dist/core-{DATE}/provenance/wave.json, "
        "signed (X.asc, X.sha512), "
        "and attached with each image's SBOM and signature to its digest as an OCI artifact (tag "
        "sha256-<hex>.att); one attached before with the same content is kept")
    found = wave_to_json(plan, project="apache-airflow", commit="c" * 40)
    assert found["images"] == [{"tag": i.tag, "constraints": i.constraints} for i in IMAGES]
    assert [s["name"] for s in found["steps"]][5:10] == ["images", "constraints", "sbom", "attest",
                                                         "provenance"]


def test_the_images_install_only_the_distributions_the_train_names() -> None:
    plan = with_images(plan_wave(CORE, core(), date=DATE, project="apache-airflow"), IMAGES[:1],
                       ("apache_airflow", "Apache-Airflow-Core"), project="apache-airflow")
    images = next(s.does for s in plan.steps if s.name is WaveStepName.IMAGES)
    assert "apache_airflow_core-3.3.3-py3-none-any.whl; the voted 3.3.3" in images
    assert "task_sdk" not in images


def test_a_wave_without_images_or_with_nothing_in_it_is_left_as_it_is() -> None:
    plan = plan_wave(CORE, core(), date=DATE, project="apache-airflow")
    assert with_images(plan, (), INSTALLS, project="apache-airflow") == plan
    assert plan.images == () and wave_to_json(plan, project="apache-airflow", commit="")["images"] == []
    empty = plan_wave(CORE, core("3.3.2", "1.3.2", commits=0), date=DATE, project="apache-airflow")
    assert with_images(empty, IMAGES, INSTALLS, project="apache-airflow") == empty and empty.steps == ()


def test_with_atr_the_images_come_after_the_tags_and_before_the_vote_is_started() -> None:
    planned = plan_wave(CORE, core(), date=DATE, project="apache-airflow", atr=True)
    plan = with_images(planned, IMAGES, INSTALLS, project="apache-airflow")
    assert [s.name.value for s in plan.steps] == ["build", "sign", "atr-upload", "atr-checks", "tags",
                                                   "images", "constraints", "sbom", "attest", "provenance",
                                                   "index", "constraints tags", "vote email", "atr-vote"]
    attest = next(s.does for s in plan.steps if s.name is WaveStepName.ATTEST)
    assert attest.endswith(", nothing in svn (staging in ATR: the signature goes out attached to the digest)")
