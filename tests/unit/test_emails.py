# SPDX-License-Identifier: Apache-2.0
"""The [RESULT][VOTE] and [ANNOUNCE] emails. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from release.emails import Announcement, render_announce_email, render_result_email
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
