# SPDX-License-Identifier: Apache-2.0
"""The [RESULT][VOTE] and [ANNOUNCE] emails. Pure."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from release.emails import (
    Announcement,
    WaveAnnouncement,
    WaveVoteEmail,
    missing_recipient,
    notes_text,
    recipient,
    render_announce_email,
    render_result_email,
    render_wave_announce_email,
    render_wave_result_email,
    render_wave_vote_email,
    wave_candidate,
)
from release.vote_thread import names_candidate
from release.votes import Vote, count_votes

OPENED = datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)
ROSTER = ("jane@apache.org", "joe@apache.org", "ann@apache.org")


def vote(name: str, address: str, value: int, hours: float, says_binding: bool = False) -> Vote:
    return Vote(name, address, value, OPENED + timedelta(hours=hours), says_binding)


def result(votes: list[Vote], subject: str = "") -> str:
    tally = count_votes(votes, ROSTER, opened=OPENED)
    return render_result_email(project="Sample App", final="1.10.6", candidate="1.10.6rc1",
                               mailing_list="dev@sample.invalid", tally=tally, thread_subject=subject)


PASSING = [vote("Jane", "jane@apache.org", 1, 2), vote("Joe", "joe@apache.org", 1, 10),
           vote("Ann", "ann@apache.org", 1, 80), vote("Jim", "jim@example.org", 1, 20),
           vote("Kim", "kim@example.org", 0, 21)]


def test_a_passing_result() -> None:
    text = result(PASSING)
    assert text.startswith("To: dev@sample.invalid\n"
                           "Subject: [RESULT][VOTE] Release Sample App 1.10.6 from 1.10.6rc1\n\n")
    assert "from\n2026-11-26 12:30 UTC to 2026-11-29 20:30 UTC (80.0 hours; at least 72 are required)" in text
    assert "The vote has passed: 3 binding +1, 0 binding -1." in text
    assert ("+1 (binding): 3\n  Jane <jane@apache.org>\n  Joe <joe@apache.org>\n  Ann <ann@apache.org>\n\n"
            "+1 (non-binding): 1\n  Jim <jim@example.org>\n\n0: 1\n  Kim <kim@example.org>\n\n"
            "-1 (binding): 0\n\n-1 (non-binding): 0\n") in text
    assert "1.10.6rc1 will be released as 1.10.6" in text
    assert "not passed" not in text


def test_a_failed_result_says_which_rules_failed() -> None:
    text = result([vote("Jane", "jane@apache.org", 1, 2), vote("Joe", "joe@apache.org", -1, 80),
                   vote("Jim", "jim@example.org", 1, 3, says_binding=True)])
    assert "The vote has not passed:\n- 1 binding +1 vote, at least 3 are needed\n" \
           "- 1 binding -1 against 1 binding +1: more binding +1 than -1 are needed\n" in text
    assert "Counted as non-binding (not in the list of binding voters): Jim <jim@example.org>." in text
    assert "a new release candidate" in text


def test_the_thread_subject_is_kept() -> None:
    text = result(PASSING, subject="[VOTE] Release Apache Sample 1.10.6 (rc1)")
    assert "\nSubject: [RESULT][VOTE] Release Apache Sample 1.10.6 (rc1)\n" in text


def test_late_votes_are_named() -> None:
    tally = count_votes([*PASSING, vote("Joe", "joe@apache.org", -1, 100)], ROSTER, opened=OPENED,
                        closed_at=OPENED + timedelta(hours=90))
    text = render_result_email(project="P", final="1.0.0", candidate="1.0.0rc1", mailing_list="d@x",
                               tally=tally)
    assert "Cast after the vote closed, not counted: Joe <joe@apache.org>." in text


NEWS = Announcement(
    project="Sample App", version="1.10.6", to="announce@sample.invalid",
    release_notes="\n### Fixed\n- The scheduler no longer loses a heartbeat on restart.\n",
    distributions=(("sample-app", "1.10.6"), ("sample-app-sdk", "0.3.0")),
    download_url="file:///svn/release/sample-app/1.10.6",
    files=(("sample-app-1.10.6-source.tar.gz", "a" * 128), ("sample_app-1.10.6.tar.gz", "b" * 128)),
    keys_url="file:///svn/release/sample-app/KEYS",
    images=("127.0.0.1:5000/sample/app:1.10.6", "127.0.0.1:5000/sample/app:latest"),
    index_url="http://127.0.0.1:8080/simple/",
)


def test_the_announcement() -> None:
    text = render_announce_email(NEWS)
    assert text.startswith("To: announce@sample.invalid\nSubject: [ANNOUNCE] Sample App 1.10.6 released\n")
    assert "release of Sample App 1.10.6\n(sample-app 1.10.6, sample-app-sdk 0.3.0)." in text
    assert "  file:///svn/release/sample-app/1.10.6\n\n  file:///svn/release/sample-app/1.10.6/" \
           "sample-app-1.10.6-source.tar.gz\n" in text
    assert "  file:///svn/release/sample-app/KEYS\n" in text
    assert f"  sample_app-1.10.6.tar.gz\n    sha512: {'b' * 128}\n" in text
    assert "  pip install sample-app==1.10.6\n  pip install sample-app-sdk==0.3.0\n" in text
    assert "  127.0.0.1:5000/sample/app:1.10.6\n  127.0.0.1:5000/sample/app:latest\n" in text
    assert text.endswith("Release notes for 1.10.6:\n\n### Fixed\n"
                         "- The scheduler no longer loses a heartbeat on restart.\n")


def test_an_announcement_without_a_vote_points_at_the_index() -> None:
    text = render_announce_email(Announcement(**{**NEWS.__dict__, "download_url": ""}))
    assert "The packages are on the package index:\n\n  http://127.0.0.1:8080/simple/" in text
    assert "file:///svn/release/sample-app/1.10.6" not in text


# --------------------------------------------------------------------------- no made-up addresses, no notes


def test_an_email_without_an_address_says_which_key_to_set() -> None:
    text = render_announce_email(Announcement(**{**NEWS.__dict__, "to": ""}))
    assert text.startswith("To: (no address: set [tool.release] announce-list)\n")
    tally = count_votes(PASSING, ROSTER, opened=OPENED)
    result_text = render_result_email(project="P", final="1.0.0", candidate="1.0.0rc1", mailing_list="",
                                      tally=tally)
    assert result_text.startswith("To: (no address: set [tool.release] mailing-list)\n")
    for rendered in (text, result_text):
        assert "@example" not in rendered.split("\n", 1)[0] and ".invalid" not in rendered.split("\n", 1)[0]


def test_the_line_shown_when_an_email_has_no_address() -> None:
    assert missing_recipient("dev@x.org", "mailing-list", "dist/1.0.0rc1/vote-email.txt") == ""
    line = missing_recipient("", "announce-list", "dist/1.0.0/announce-email.txt")
    assert line == ("dist/1.0.0/announce-email.txt has no address to go to: [tool.release] announce-list is "
                    "not set; set it, or fill in the To: line before sending")
    assert recipient("", "mailing-list") == "(no address: set [tool.release] mailing-list)"


def test_a_project_without_a_changelog_has_no_release_notes_and_says_so() -> None:
    text = render_announce_email(Announcement(**{**NEWS.__dict__, "release_notes": ""}))
    assert text.endswith("\nThere are no release notes for 1.10.6: the project keeps no changelog.\n")
    assert "Release notes for" not in text
    none = "There are no release notes for 2.0.0: the project keeps no changelog."
    assert notes_text("2.0.0", "  \n") == none
    assert notes_text("2.0.0", "- A fix.\n") == "Release notes for 2.0.0:\n\n- A fix."


def test_the_announcement_has_no_pmc_words() -> None:
    for news in (NEWS, Announcement(**{**NEWS.__dict__, "download_url": ""})):
        text = render_announce_email(news).lower()
        assert "pmc" not in text and "vote" not in text and "binding" not in text


WAVE = WaveVoteEmail(
    project="Apache Airflow", train="providers", date="2026-12-01", mailing_list="dev@airflow.apache.org",
    lines=("apache-airflow-providers-ftp 3.16.2rc1 (voted as 3.16.2)",
           "apache-airflow-providers-http 6.3.1rc3 (voted as 6.3.1)"),
    svn_urls=("https://dist.apache.org/repos/dist/dev/airflow/providers",),
    source_tarball="apache_airflow_providers-2026-12-01-source.tar.gz", fingerprint="F" * 40,
    keys_url="https://dist.apache.org/repos/dist/release/airflow/KEYS", commit="c" * 40,
    tags=("providers-ftp/3.16.2rc1", "providers-http/6.3.1rc3", "providers/2026-12-01"),
    closes=datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc))


def test_a_waves_vote_email_lists_every_distribution_and_names_the_wave_as_vote_result_reads_it() -> None:
    text = render_wave_vote_email(WAVE)
    head, _, body = text.partition("\n\n")
    subject = "Subject: [VOTE] Release Apache Airflow providers 2026-12-01: 2 distributions"
    assert head.splitlines() == ["To: dev@airflow.apache.org", subject]
    assert names_candidate(head, wave_candidate("providers", "2026-12-01"))
    for line in (*WAVE.lines, *WAVE.tags, *WAVE.svn_urls, WAVE.source_tarball, WAVE.keys_url, WAVE.commit,
                 WAVE.fingerprint):
        assert line in body, line
    assert "until 2026-12-04 09:30 UTC" in body and "exclude" in body
    assert "open for at least 72 hours" in body and "at least\n3 binding +1 votes" in body
    stricter = render_wave_vote_email(dataclasses.replace(WAVE, hours=96, needed=4))
    assert "open for at least 96 hours" in stricter and "at least\n4 binding +1 votes" in stricter
    assert "pip install" not in body  # no candidate on the index: no install lines


def test_a_waves_vote_email_gives_the_install_line_of_each_candidate_on_the_index() -> None:
    on_index = (("apache-airflow-providers-ftp", "3.16.2rc1"), ("apache-airflow-providers-http", "6.3.1rc3"))
    text = render_wave_vote_email(dataclasses.replace(WAVE, index_url="https://index.test/simple/",
                                                      on_index=on_index))
    assert "on the package index (https://index.test/simple/) under their rc versions" in text
    assert ("  pip install apache-airflow-providers-ftp==3.16.2rc1\n"
            "  pip install apache-airflow-providers-http==6.3.1rc3\n") in text
    assert text.index("Building that commit again") < text.index("pip install") < text.index("Please vote")


def test_a_versioned_waves_vote_email_names_each_folder_and_says_its_distributions_go_together() -> None:
    core = dataclasses.replace(
        WAVE, train="core", lines=("apache-airflow 3.3.3rc1 (voted as 3.3.3)",
                                   "apache-airflow-task-sdk 1.3.3rc1 (voted as 1.3.3)"),
        svn_urls=("https://dist.apache.org/repos/dist/dev/airflow/3.3.3rc1",
                  "https://dist.apache.org/repos/dist/dev/airflow/task-sdk/1.3.3rc1"),
        tags=("3.3.3rc1", "task-sdk/1.3.3rc1"), together=True)
    text = render_wave_vote_email(core)
    assert ("are in svn:\n\n  https://dist.apache.org/repos/dist/dev/airflow/3.3.3rc1\n"
            "  https://dist.apache.org/repos/dist/dev/airflow/task-sdk/1.3.3rc1\n\n") in text
    assert "They are released together: a problem with one of them is a -1 on all of them" in text
    assert "exclude" not in text


def test_a_waves_vote_email_without_a_list_names_the_key_to_set_and_counts_one_distribution() -> None:
    text = render_wave_vote_email(dataclasses.replace(WAVE, mailing_list="", lines=WAVE.lines[:1]))
    assert text.startswith("To: (no address: set [tool.release] mailing-list)\n")
    assert ": 1 distribution\n" in text and "1 distribution of Apache Airflow:" in text


def test_a_waves_result_names_what_is_released_and_what_the_vote_excluded_with_why() -> None:
    lines = ("apache-airflow-providers-common-io 1.11.1rc1 (voted as 1.11.1)",
             "apache-airflow-providers-http 6.3.1rc1 (voted as 6.3.1)")
    text = render_wave_result_email(
        project="Apache Airflow", train="providers", date="2026-12-07", mailing_list="dev@airflow.apache.org",
        tally=count_votes(PASSING, ROSTER, opened=OPENED), promoted=lines,
        excluded={"apache-airflow-providers-ftp": "FTP passive mode regression"})
    assert text.startswith("To: dev@airflow.apache.org\n"
                           "Subject: [RESULT][VOTE] Release Apache Airflow providers 2026-12-07\n\n")
    assert "The vote on releasing the providers wave of 2026-12-07 of Apache Airflow was open from\n" in text
    assert "The vote has passed: 3 binding +1, 0 binding -1." in text
    assert f"Released from this wave:\n\n  {lines[0]}\n  {lines[1]}\n" in text
    assert ("Excluded by the vote, for a later wave:\n\n"
            "  apache-airflow-providers-ftp: FTP passive mode regression\n") in text
    failed = render_wave_result_email(
        project="Apache Airflow", train="providers", date="2026-12-07", mailing_list="",
        tally=count_votes(PASSING[:1], ROSTER, opened=OPENED), promoted=lines, excluded={},
        thread_subject="[VOTE] Airflow providers 2026-12-07")
    assert "\nSubject: [RESULT][VOTE] Airflow providers 2026-12-07\n" in failed
    assert "The vote has not passed" in failed and "Released from this wave" not in failed
    assert "\n\n\n" not in failed


def test_a_waves_announcement_lists_each_released_distribution_its_files_and_how_to_check_them() -> None:
    folder = "https://dist.apache.org/repos/dist/release/airflow/providers"
    news = WaveAnnouncement(
        "Apache Airflow", "providers", "2026-12-06", "announce@apache.org",
        (("apache-airflow-providers-common-io", "1.11.1"), ("apache-airflow-providers-http", "6.3.1")),
        folder, (("apache_airflow_providers_http-6.3.1.tar.gz", "ab" * 64),),
        "https://downloads.apache.org/airflow/KEYS", "https://pypi.org/simple/")
    text = render_wave_announce_email(news)
    assert text.startswith("To: announce@apache.org\nSubject: [ANNOUNCE] Apache Airflow providers "
                           "2026-12-06 released\n")
    assert ("the providers wave of 2026-12-06, 2 distributions:\n\n"
            "  apache-airflow-providers-common-io 1.11.1\n") in text
    assert f"  {folder}/apache_airflow_providers_http-6.3.1.tar.gz\n" in text
    assert f"    sha512: {'ab' * 64}\n" in text and "https://downloads.apache.org/airflow/KEYS" in text
    assert "  pip install apache-airflow-providers-http==6.3.1\n" in text
    assert "binding" not in text and "rc1" not in text
    one = render_wave_announce_email(dataclasses.replace(news, distributions=news.distributions[:1], to=""))
    assert "1 distribution:" in one and "announce-list" in one.splitlines()[0]


def test_a_versioned_waves_announcement_names_each_release_folder_and_each_file_in_it() -> None:
    base = "https://dist.apache.org/repos/dist/release/airflow"
    news = WaveAnnouncement(
        "Apache Airflow", "core", "2026-12-07", "announce@apache.org",
        (("apache-airflow", "3.3.3"), ("apache-airflow-task-sdk", "1.3.3")), base,
        (("3.3.3/apache_airflow-3.3.3.tar.gz", "ab" * 64),
         ("task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3.tar.gz", "cd" * 64)),
        "https://downloads.apache.org/airflow/KEYS", "https://pypi.org/simple/")
    text = render_wave_announce_email(news)
    assert f"are at\n\n  {base}/3.3.3\n  {base}/task-sdk/1.3.3\n\n" in text
    assert f"  {base}/task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3.tar.gz\n" in text
    assert f"  apache_airflow_task_sdk-1.3.3.tar.gz\n    sha512: {'cd' * 64}\n" in text
    assert "  pip install apache-airflow==3.3.3\n  pip install apache-airflow-task-sdk==1.3.3\n" in text
    assert "https://downloads.apache.org/airflow/KEYS" in text and "rc1" not in text
