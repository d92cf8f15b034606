# SPDX-License-Identifier: Apache-2.0
"""The candidate's email: a function of its data alone; a `[VOTE]` with the PMC's words for a project
that votes, a call to test it with no vote and no PMC for one that does not (`vote = "none"`). And
the candidate staging takes: what dist/<rc>/ recorded as built and signed, refused otherwise."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from release.config import parse_config
from release.errors import RefusedError
from release.steps.vote import (
    CANDIDATE_EMAIL_NAME,
    EMAIL_NAME,
    VoteEmail,
    email_name,
    render_vote_email,
    signed_candidate,
)
from release.versions import parse_version
from tests.unit.builders import place_signed, sample_config

AIRFLOW_RC = VoteEmail(project="Apache Airflow", final="1.10.6", candidate="1.10.6rc2",
                       mailing_list="dev@airflow.apache.org", svn_url="https://dist.invalid/dev/airflow/1.10.6rc2",
                       files=(("apache-airflow-1.10.6-source.tar.gz", "ab" * 64),), fingerprint="F" * 40,
                       keys_url="https://dist.invalid/release/airflow/KEYS", tag="1.10.6rc2", commit="c" * 40,
                       release_notes="### Fixed\n- Things.\n",
                       closes=datetime(2026, 1, 4, 9, 0, tzinfo=timezone.utc))


def test_render_vote_email_is_a_function_of_its_data() -> None:
    vote = AIRFLOW_RC
    text = render_vote_email(vote)
    assert text == render_vote_email(vote)
    lines = text.splitlines()
    assert lines[:2] == ["To: dev@airflow.apache.org",
                         "Subject: [VOTE] Release Apache Airflow 1.10.6 from 1.10.6rc2"]
    assert "  apache-airflow-1.10.6-source.tar.gz" in lines and f"    sha512: {'ab' * 64}" in lines
    assert "at least 72 hours, until 2026-01-04 09:00 UTC, and passes with at least three" in text
    for choice in ("[ ] +1 approve the release", "[ ] +0 no opinion", "[ ] -1 do not release, because ..."):
        assert choice in lines
    assert "Only PMC members' votes are binding" in text
    assert text.endswith("Release notes for 1.10.6:\n\n### Fixed\n- Things.\n")


def test_the_vote_email_names_each_distribution_and_its_version() -> None:
    vote = VoteEmail(project="Apache Airflow", final="3.0.0", candidate="3.0.0rc1", mailing_list="dev@a",
                     svn_url="u", files=(), fingerprint="F", keys_url="k", tag="3.0.0rc1", commit="c",
                     release_notes="n", closes=datetime(2026, 1, 4, 9, 0, tzinfo=timezone.utc),
                     distributions=(("apache-airflow", "3.0.0"), ("apache-airflow-task-sdk", "1.0.0")))
    text = render_vote_email(vote)
    assert "It releases these distributions:\n\n  apache-airflow 3.0.0\n  apache-airflow-task-sdk 1.0.0\n\n" \
           "The files to vote on are in svn:" in text


def test_a_project_that_does_not_vote_gets_a_call_to_test_with_no_vote_and_no_pmc() -> None:
    text = render_vote_email(dataclasses.replace(AIRFLOW_RC, project="Sample", policy="none"))
    lines = text.splitlines()
    assert lines[:2] == ["To: dev@airflow.apache.org",
                         "Subject: Sample 1.10.6rc2: release candidate of 1.10.6, ready for testing"]
    assert "Release candidate 1.10.6rc2 of Sample 1.10.6 is ready for testing." in lines
    assert "Its files are in svn:" in lines and "  apache-airflow-1.10.6-source.tar.gz" in lines
    assert "Please try it and reply with anything that should stop 1.10.6 from being released." in lines
    lowered = text.lower()
    for word in ("vote", "pmc", "binding", "+1", "72 hours"):
        assert word not in lowered, word
    assert text.endswith("Release notes for 1.10.6:\n\n### Fixed\n- Things.\n")


@pytest.mark.parametrize("policy", ["asf", "none"])
def test_no_address_and_no_notes_are_said_not_made_up(policy: str) -> None:
    unset = dataclasses.replace(AIRFLOW_RC, mailing_list="", release_notes="", policy=policy)
    text = render_vote_email(unset)
    assert text.startswith("To: (no address: set [tool.release] mailing-list)\n")
    assert text.endswith("There are no release notes for 1.10.6: the project keeps no changelog.\n")


def test_the_email_file_is_named_for_the_policy(tmp_path: Path) -> None:
    base = {"name": "x", "python": ["3.11"]}
    assert email_name(parse_config(tmp_path, base)) == EMAIL_NAME == "vote-email.txt"
    assert email_name(parse_config(tmp_path, {**base, "vote": "none"})) == CANDIDATE_EMAIL_NAME


# --- the candidate staging takes: built, signed, unchanged ---------------------------------------------

WHEEL = "sample_app-1.10.6-py3-none-any.whl"


def test_the_signed_candidate_is_what_its_record_says(tmp_path: Path) -> None:
    directory = place_signed(tmp_path, "1.10.6rc1", [WHEEL]).directory
    found = signed_candidate(sample_config(tmp_path), parse_version("1.10.6rc1"), fingerprint="ffff " * 10)
    assert found.artefacts == ("svn/sample_app-1.10.6-py3-none-any.whl",)
    assert [p.relative_to(directory).as_posix() for p in found.files] == [
        "svn/sample_app-1.10.6-py3-none-any.whl", "svn/sample_app-1.10.6-py3-none-any.whl.asc",
        "svn/sample_app-1.10.6-py3-none-any.whl.sha512"]
    assert (found.signer, found.commit, found.release_notes) == ("F" * 40, "c" * 40, "- Notes.")
    assert found.distributions == (("sample-app", "1.10.6"),)
    assert found.stage is None and found.folder == directory / "svn"


def test_staging_refuses_what_is_not_a_built_and_signed_unchanged_candidate(tmp_path: Path) -> None:
    config, rc = sample_config(tmp_path), parse_version("1.10.6rc1")
    not_rc = "1.10.6 is not a release candidate; stage one like 1.10.6rc1"
    with pytest.raises(RefusedError, match=re.escape(not_rc)):
        signed_candidate(config, parse_version("1.10.6"))
    with pytest.raises(RefusedError, match=re.escape("build and sign 1.10.6rc1 before staging it")):
        signed_candidate(config, rc)
    directory = place_signed(tmp_path, "1.10.6rc1", [WHEEL]).directory
    with pytest.raises(RefusedError, match=f"signed with {'F' * 40}, not ABCD"):
        signed_candidate(config, rc, fingerprint="ABCD")
    unplanned = "but the plan uploads other.whl; build and sign 1.10.6rc1 again"
    with pytest.raises(RefusedError, match=re.escape(unplanned)):
        signed_candidate(config, rc, planned=["other.whl"])
    (directory / "svn" / "sample_app-1.10.6-py3-none-any.whl.asc").write_text("changed", encoding="utf-8")
    with pytest.raises(RefusedError, match="changed since it was built or signed"):
        signed_candidate(config, rc)
