# SPDX-License-Identifier: Apache-2.0
"""The vote email: a function of its data alone."""

from __future__ import annotations

from datetime import datetime, timezone

from release.steps.vote import VoteEmail, render_vote_email


def test_render_vote_email_is_a_function_of_its_data() -> None:
    vote = VoteEmail(project="Apache Airflow", final="1.10.6", candidate="1.10.6rc2",
                     mailing_list="dev@airflow.apache.org", svn_url="https://dist.invalid/dev/airflow/1.10.6rc2",
                     files=(("apache-airflow-1.10.6-source.tar.gz", "ab" * 64),), fingerprint="F" * 40,
                     keys_url="https://dist.invalid/release/airflow/KEYS", tag="1.10.6rc2", commit="c" * 40,
                     release_notes="### Fixed\n- Things.\n",
                     closes=datetime(2026, 1, 4, 9, 0, tzinfo=timezone.utc))
    text = render_vote_email(vote)
    assert text == render_vote_email(vote)
    lines = text.splitlines()
    assert lines[:2] == ["To: dev@airflow.apache.org",
                         "Subject: [VOTE] Release Apache Airflow 1.10.6 from 1.10.6rc2"]
    assert "  apache-airflow-1.10.6-source.tar.gz" in lines and f"    sha512: {'ab' * 64}" in lines
    assert "at least 72 hours, until 2026-01-04 09:00 UTC, and passes with at least three" in text
    for choice in ("[ ] +1 approve the release", "[ ] +0 no opinion", "[ ] -1 do not release, because ..."):
        assert choice in lines
    assert text.endswith("### Fixed\n- Things.\n")


def test_the_vote_email_names_each_distribution_and_its_version() -> None:
    vote = VoteEmail(project="Apache Airflow", final="3.0.0", candidate="3.0.0rc1", mailing_list="dev@a",
                     svn_url="u", files=(), fingerprint="F", keys_url="k", tag="3.0.0rc1", commit="c",
                     release_notes="n", closes=datetime(2026, 1, 4, 9, 0, tzinfo=timezone.utc),
                     distributions=(("apache-airflow", "3.0.0"), ("apache-airflow-task-sdk", "1.0.0")))
    text = render_vote_email(vote)
    assert "It releases these distributions:\n\n  apache-airflow 3.0.0\n  apache-airflow-task-sdk 1.0.0\n\n" \
           "The files to vote on are in svn:" in text
