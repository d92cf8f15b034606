# SPDX-License-Identifier: Apache-2.0
"""Reading a vote thread from an mbox export: the thread of this candidate only, the sender's
address, the archive's times, and what a reply says. The exports are real mbox files written with
the standard library's `mailbox` and `email` (tests/vote_fixtures.py). Pure but for those files."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vote_fixtures import ROOT, Mail, vote_subject, vote_thread

from release.errors import RefusedError
from release.roster import Roster
from release.vote_thread import html_text, names_candidate, parse_mbox, parse_votes, read_reply, sender
from release.votes import Tally, Thread, count_votes

OPENED = datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 7, tzinfo=timezone.utc)
PMC = Roster.of(["jane", "joe", "ann@sample.invalid", "bob@sample.invalid"])
JANE, JOE, ANN, BOB = ("Jane <jane@apache.org>", "Joe <joe@apache.org>", "Ann <ann@sample.invalid>",
                       "Bob <bob@sample.invalid>")


def thread(tmp: Path, *mails: Mail, candidate: str = "1.10.6rc1", root: bool = True) -> Thread:
    path = vote_thread(tmp / "thread.mbox", mails, opened=OPENED, candidate=candidate, root=root)
    return parse_mbox(path.read_text(encoding="utf-8"), candidate=candidate)


def tally(found: Thread, **options: object) -> Tally:
    return count_votes(found.votes, PMC, opened=found.opened or OPENED, now=NOW, unread=found.unread,
                       **options)  # type: ignore[arg-type]


PASSING = (Mail(JANE, "+1 (binding)\n\nChecked the signatures.", 2), Mail(JOE, "+1", 10),
           Mail(ANN, "+1\n\n> [ ] -1 do not release", 80))


def test_a_thread_gives_the_opening_and_each_replys_vote(tmp_path: Path) -> None:
    found = thread(tmp_path, *PASSING, Mail("Jim <jim@example.org>", "+1 non-binding, built it on arm64", 20))
    assert found.opened == OPENED and found.subject == vote_subject()
    assert [(v.voter, v.value, v.when, v.says_binding, v.timed_by) for v in found.votes] == [
        ("Jane <jane@apache.org>", 1, OPENED + timedelta(hours=2), True, "From line"),
        ("Joe <joe@apache.org>", 1, OPENED + timedelta(hours=10), False, "From line"),
        ("Ann <ann@sample.invalid>", 1, OPENED + timedelta(hours=80), False, "From line"),
        ("Jim <jim@example.org>", 1, OPENED + timedelta(hours=20), False, "From line"),
    ]
    assert found.votes[0].comment == "(binding)" and found.unread == () and found.outside == 0
    assert tally(found).passed


# --- the sender's address, never the display name --------------------------------------------------


@pytest.mark.parametrize(("header", "address"), [
    ("Jane Doe <jane@apache.org>", "jane@apache.org"),
    ("jane@apache.org", "jane@apache.org"),
    ("jane@apache.org (Jane Doe)", "jane@apache.org"),
    ('"Doe, Jane" <JANE@apache.org>', "jane@apache.org"),
    ("=?utf-8?q?J=C3=A9r=C3=B4me?= <jerome@apache.org>", "jerome@apache.org"),
    ("jane <x@evil.example>", "x@evil.example"),
    ('"ann@sample.invalid" <x@evil.example>', "x@evil.example"),
    ("ann@sample.invalid <x@evil.example>", ""),  # an unquoted @ in a name: not one plain mailbox
    ("jane@apache.org)<x@evil.example>", ""),  # what email.utils.parseaddr read as jane@apache.org
    ("x@evil.example, jane@apache.org", ""),
    ("Jane <jane@apache.org>, <x@evil.example>", ""),
    ("<x@evil.example> =?utf-8?q?=3Cjane=40apache=2Eorg=3E?=", ""),
    ("", ""),
])
def test_the_sender_is_the_one_address_of_the_raw_from_header(header: str, address: str) -> None:
    assert sender(header)[1] == address


def test_forged_display_names_are_never_binding(tmp_path: Path) -> None:
    """Three outsiders named like PMC members: nothing binding, nothing passes."""
    found = thread(tmp_path, Mail("jane <x@evil.example>", "+1 (binding)", 2),
                   Mail("joe <y@evil.example>", "+1 (binding)", 3),
                   Mail('"ann@sample.invalid" <z@evil.example>', "+1 (binding)", 80),
                   Mail("jane@apache.org)<w@evil.example>", "+1 (binding)", 81))
    counted = tally(found)
    assert counted.binding == () and not counted.passed
    assert [v.address for v in counted.claimed] == ["x@evil.example", "y@evil.example", "z@evil.example"]
    assert [r.why for r in found.unread] == ["its From header is not one plain address"]


def test_one_member_from_two_addresses_counts_once(tmp_path: Path) -> None:
    roster = Roster.of(["jane, jane.doe@home.example", "joe", "ann@sample.invalid"])
    found = thread(tmp_path, Mail(JANE, "+1", 2), Mail("Jane <jane.doe@home.example>", "+1", 3),
                   Mail(JOE, "+1", 80))
    counted = count_votes(found.votes, roster, opened=OPENED, now=NOW)
    assert counted.count(1, binding=True) == 2 and not counted.passed


# --- only this candidate's thread ------------------------------------------------------------------


def test_only_replies_to_this_candidates_vote_count(tmp_path: Path) -> None:
    other = "<vote-1.10.6rc0@sample.invalid>"
    discuss = "<discuss@sample.invalid>"
    found = thread(
        tmp_path, *PASSING[:2],
        Mail("RM <rm@sample.invalid>", "Please vote", -100, subject=vote_subject("1.10.6rc0"), replies_to="",
             id=other),
        Mail(ANN, "+1", -90, subject=f"Re: {vote_subject('1.10.6rc0')}", replies_to=other),
        Mail(BOB, "+1", 30, subject=f"Re: {vote_subject('1.10.6rc0')}", replies_to=other),
        Mail("RM <rm@sample.invalid>", "Shall we?", -200, subject="[DISCUSS] Release 1.10.6", replies_to="",
             id=discuss),
        Mail(ANN, "+1 to releasing", 20, subject="Re: [DISCUSS] Release 1.10.6", replies_to=discuss),
        Mail(BOB, "+1", 21, subject="Re: [VOTE] Release Sample App 1.10.6 from 1.10.6rc1", replies_to=""),
        Mail("RM <rm@sample.invalid>", "Cancelled for rc10", 5, subject=vote_subject("1.10.6rc10")),
        Mail(BOB, "+1", 6, replies_to="<reply-9@sample.invalid>",
             subject=f"Re: {vote_subject('1.10.6rc10')}"),
    )
    assert [v.address for v in found.votes] == ["jane@apache.org", "joe@apache.org"]
    assert found.outside == 8
    assert not tally(found, closed_at=OPENED + timedelta(hours=80)).passed


def test_replies_under_a_reply_count_and_a_missing_parent_is_skipped_over(tmp_path: Path) -> None:
    found = thread(tmp_path, Mail(JANE, "Question: is the NOTICE right?", 2, id="<q@x>"),
                   Mail(JOE, "Yes.\n\n+1", 3, replies_to="<q@x>"),
                   Mail(ANN, "+1", 4, replies_to="<not-in-the-export@x>"))
    assert [v.address for v in found.votes] == ["joe@apache.org"]
    assert [r.address for r in found.unread] == ["jane@apache.org"]
    deeper = (tmp_path / "deeper.mbox")
    text = vote_thread(deeper, [Mail(ANN, "+1", 4, replies_to="<not-in-the-export@x>")], opened=OPENED)
    raw = text.read_text().replace("References: <not-in-the-export@x>",
                                   f"References: {ROOT} <not-in-the-export@x>")
    assert [v.address for v in parse_mbox(raw, candidate="1.10.6rc1").votes] == ["ann@sample.invalid"]


def test_a_discuss_message_inside_the_thread_is_listed_not_counted(tmp_path: Path) -> None:
    found = thread(tmp_path, *PASSING, Mail(BOB, "-1", 20, subject="[DISCUSS] the NOTICE"))
    assert [v.address for v in found.votes] == ["jane@apache.org", "joe@apache.org", "ann@sample.invalid"]
    [listed] = found.unread
    assert listed.address == "bob@sample.invalid" and "[DISCUSS]" in listed.why
    assert not tally(found).passed  # a binding voter's reply to read


def test_the_result_and_replies_to_it_are_not_votes(tmp_path: Path) -> None:
    found = thread(tmp_path, *PASSING, Mail("RM <rm@sample.invalid>", "+1 3 votes", 81,
                                            subject=f"[RESULT]{vote_subject()}", id="<result@x>"),
                   Mail(BOB, "-1 too late", 82, replies_to="<result@x>"))
    assert len(found.votes) == 3 and found.unread == ()


@pytest.mark.parametrize(("subject", "named"), [
    ("[VOTE] Release Sample App 1.10.6 from 1.10.6rc1", True),
    ("[VOTE] Release Sample App 1.10.6 from 1.10.6rc1.", True),
    ("[VOTE] Release Sample App v1.10.6rc1", True),
    ("[VOTE] Release Sample App 1.10.6 from 1.10.6rc10", False),
    ("[VOTE] Release Sample App 11.10.6rc1", False),
    ("[VOTE] Release Sample App 1.10.6rc1.1", False),
    ("[VOTE] Release Sample App 1.10.6", False),
])
def test_the_vote_message_names_the_candidate_itself(subject: str, named: bool) -> None:
    assert names_candidate(subject, "1.10.6rc1") is named


def test_an_export_without_this_candidates_vote_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match=r"no \[VOTE\] message whose subject names 1\.10\.6rc2"):
        thread(tmp_path, *PASSING, candidate="1.10.6rc2", root=False)
    no_id = vote_thread(tmp_path / "t.mbox", PASSING, opened=OPENED).read_text().replace(
        f"Message-ID: {ROOT}\n", "")
    with pytest.raises(RefusedError, match="has no Message-ID"):
        parse_mbox(no_id, candidate="1.10.6rc1")


def test_parse_votes_tells_an_mbox_from_plain_text(tmp_path: Path) -> None:
    text = vote_thread(tmp_path / "t.mbox", PASSING, opened=OPENED).read_text()
    assert parse_votes(text, candidate="1.10.6rc1").opened == OPENED
    assert parse_votes("+1 Ann", candidate="1.10.6rc1").votes[0].name == "Ann"


# --- the archive's times ---------------------------------------------------------------------------


def test_times_come_from_the_archive_not_the_senders_date(tmp_path: Path) -> None:
    found = thread(tmp_path, Mail(JANE, "+1", 2, date="Thu, 01 Jan 2099 00:00:00 +0000"),
                   Mail(JOE, "+1", 3, date="Mon, 01 Jan 2001 00:00:00 +0000"))
    assert [v.when for v in found.votes] == [OPENED + timedelta(hours=2), OPENED + timedelta(hours=3)]


def test_without_a_from_line_date_the_received_header_then_the_date_tell_the_time(tmp_path: Path) -> None:
    forged = "Fri, 01 Jan 2099 00:00:00 +0000"
    mails = [Mail(JANE, "+1", 2, received=True, date=forged), Mail(JOE, "+1", 3)]
    path = vote_thread(tmp_path / "t.mbox", mails, opened=OPENED)
    lines = path.read_text().splitlines(keepends=True)
    text = "".join(line.split(" ")[0] + " " + line.split(" ")[1] + "\n" if line.startswith("From ") else line
                   for line in lines)  # `From address` lines with no date
    found = parse_mbox(text, candidate="1.10.6rc1")
    assert [(v.when, v.timed_by) for v in found.votes] == [(OPENED + timedelta(hours=2), "Received"),
                                                          (OPENED + timedelta(hours=3), "Date")]


def test_a_reply_with_no_readable_time_is_listed_whatever_closed_at_says(tmp_path: Path) -> None:
    found = thread(tmp_path, *PASSING[:2], Mail(ANN, "+1", None, date="the day after tomorrow"))
    assert found.votes[-1].when is None
    counted = tally(found, closed_at=OPENED + timedelta(hours=80))
    assert counted.count(1, binding=True) == 2 and not counted.passed
    assert [r.address for r in counted.needs_reading] == ["ann@sample.invalid"]


def test_a_reply_archived_in_2099_does_not_keep_the_vote_open_until_then(tmp_path: Path) -> None:
    in_2099 = Mail("Kim <kim@example.org>", "+1", 24 * 365 * 73)
    found = thread(tmp_path, *PASSING[:2], Mail(ANN, "+1", 5), in_2099)
    counted = tally(found)
    assert counted.closed == OPENED + timedelta(hours=10) and counted.too_early
    assert "after now" in counted.review[0].why


# --- what a reply says -----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "value"), [
    ("+1 (binding)", 1),
    ("Hi all,\n\n\u22121 (binding): the NOTICE year is wrong", -1),
    ("\u20131 (binding)", -1),
    ("\u20141", -1),
    ("+1\n\n-----Original Message-----\nFrom: Jane\n\n-1", 1),
    ("0 no time to check", 0),
    ("+1 from me\n+1 (binding)", 1),
    ("+1\n-- \nJoe\n+1 555 0100", 1),
])
def test_a_reply_says_one_vote(body: str, value: int) -> None:
    vote, why, _ = read_reply(body)
    assert vote is not None and vote.value == value, why


@pytest.mark.parametrize(("body", "why"), [
    ("1) the LICENSE is missing\n2) the NOTICE year is wrong", "no vote in it"),
    ("I checked it. Looks good to me!", "no vote in it"),
    ("Question about the NOTICE\n\n-----Original Message-----\nFrom: Jane\nSent: Thursday\n\n+1 (binding)",
     "no vote in it"),
    ("Not yet\n\nFrom: Jane Doe <jane@apache.org>\nSent: Thursday, November 26, 2026 2:30 PM\nTo: dev@x\n"
     "Subject: Re: [VOTE]\n\n+1 (binding)", "no vote in it"),
    ("Hmm\n\nOn Thu, Nov 26, 2026 at 2:30 PM Jane Doe <jane@apache.org>\nwrote:\n+1 (binding)",
     "no vote in it"),
    ("Hmm\n\nOn Thu, 26 Nov 2026, Jane wrote:\n+1 (binding)", "no vote in it"),
    ("Hmm\n________________________________\nFrom: Jane\n+1 (binding)", "no vote in it"),
    ("> +1 (binding)\n\nwhy?", "no vote in it"),
    ("+1 for the wheel\n-1 for the sdk", "more than one vote in it (+1 and -1)"),
    ("", "no vote in it"),
])
def test_a_reply_that_does_not_say_one_vote_plainly_is_for_reading(body: str, why: str) -> None:
    vote, found, _ = read_reply(body)
    assert vote is None and found.startswith(why)


def test_html_is_read_when_there_is_no_plain_part(tmp_path: Path) -> None:
    html = ("<html><head><style>p {color: red}</style></head><body><div dir='ltr'>&minus;1 (binding)<br>"
            "the NOTICE is wrong</div><div class='gmail_quote'>On Thu, Nov 26, 2026 Jane wrote:<br>"
            "<blockquote>+1</blockquote></div></body></html>")
    found = thread(tmp_path, *PASSING, Mail(BOB, None, 20, html=html),
                   Mail(JANE, None, 81, html="<p>\u22121</p>"))
    assert [(v.address, v.value) for v in found.votes][-2:] == [("bob@sample.invalid", -1),
                                                                ("jane@apache.org", -1)]
    counted = tally(found)
    assert counted.count(-1, binding=True) == 2 and not counted.passed


def test_the_plain_part_is_read_before_the_html_one(tmp_path: Path) -> None:
    found = thread(tmp_path, Mail(BOB, "+1", 20, html="<p>-1</p>"))
    assert [v.value for v in found.votes] == [1]


def test_html_text_keeps_blocks_apart_and_marks_quotes() -> None:
    text = html_text("<p>+1</p><p>checked</p><blockquote><p>-1 no</p></blockquote>x<br>y")
    assert [line for line in text.split("\n") if line] == ["+1", "checked", "> -1 no", "x", "y"]


def test_an_outlook_quoted_vote_is_not_the_senders(tmp_path: Path) -> None:
    quoted = ("I have a question first.\n\n-----Original Message-----\nFrom: Jane Doe <jane@apache.org>\n"
              "Sent: Thursday, November 26, 2026 2:30 PM\nSubject: Re: [VOTE]\n\n+1 (binding)\n")
    found = thread(tmp_path, *PASSING[:2], Mail(BOB, quoted, 80))
    counted = tally(found)
    assert counted.count(1, binding=True) == 2 and not counted.passed
    assert [r.excerpt for r in counted.needs_reading] == ["I have a question first."]


def test_a_numbered_list_is_not_a_plus_one(tmp_path: Path) -> None:
    found = thread(tmp_path, *PASSING[:2], Mail(BOB, "1) the LICENSE is missing\n2) so is the NOTICE", 80))
    counted = tally(found)
    assert counted.count(1, binding=True) == 2 and not counted.passed
    assert counted.needs_reading[0].excerpt == "1) the LICENSE is missing / 2) so is the NOTICE"


# --- properties over whole threads -----------------------------------------------------------------

OUTSIDERS = st.sampled_from(["x@evil.example", "jim@example.org", "jane@apache.org.evil.example",
                             "ann@sample.invalid.example", "joe@apache.com"])
NAMES = st.sampled_from(["jane", "joe", "Jane", "ann@sample.invalid", "jane@apache.org", "Joe Bloggs", ""])
BODIES = st.one_of(
    st.sampled_from(["+1", "+1 (binding)", "-1", "0", "\u22121 (binding)", "1) x", "LGTM", "+1\n-1",
                     "-----Original Message-----\n+1 (binding)"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60),
)


@st.composite
def outsider_mail(draw: st.DrawFn) -> Mail:
    name = draw(NAMES)
    address = draw(OUTSIDERS)
    header = f'"{name}" <{address}>' if "@" in name else (f"{name} <{address}>" if name else address)
    html = draw(st.booleans())
    body = draw(BODIES)
    date = draw(st.sampled_from([None, "garbage", "Fri, 01 Jan 2099 00:00:00 +0000"]))
    return Mail(header, None if html else body, draw(st.one_of(st.none(), st.floats(-10, 200))),
                html=f"<p>{body}</p>" if html else None, date=date)


PMC_VOTES = st.lists(st.tuples(st.sampled_from([JANE, JOE, ANN, BOB]), st.sampled_from(["+1", "-1", "0"]),
                               st.floats(1, 100)), max_size=6)


def counted(mails: list[Mail]) -> Tally:
    with tempfile.TemporaryDirectory() as work:
        return tally(thread(Path(work), *mails), closed_at=OPENED + timedelta(hours=100))


EXAMPLES = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(st.lists(outsider_mail(), max_size=8))
def test_no_thread_of_outsiders_ever_passes(mails: list[Mail]) -> None:
    result = counted(mails)
    assert result.binding == () and not result.passed


@EXAMPLES
@given(PMC_VOTES, outsider_mail())
def test_a_reply_from_an_address_outside_the_roster_never_changes_the_binding_count(
        votes: list[tuple[str, str, float]], extra: Mail) -> None:
    mails = [Mail(who, body, hours) for who, body, hours in votes]
    before, after = counted(mails), counted([*mails, extra])
    assert [(v.address, v.value) for v in after.binding] == [(v.address, v.value) for v in before.binding]
    assert after.needs_reading == before.needs_reading


@EXAMPLES
@given(PMC_VOTES, st.lists(st.sampled_from(["Thanks for running the release!", "Which gpg version?",
                                            "The NOTICE says 2025.", "LGTM"]), max_size=4), st.randoms())
def test_the_order_of_replies_that_are_not_votes_does_not_change_the_result(
        votes: list[tuple[str, str, float]], remarks: list[str], order: object) -> None:
    mails = [Mail(who, body, hours) for who, body, hours in votes]
    chatter = [Mail("Jim <jim@example.org>", text, 5.0 + index) for index, text in enumerate(remarks)]
    shuffled = list(chatter)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    first, second = counted([*chatter, *mails]), counted([*mails, *shuffled])
    assert (first.passed, first.reasons, first.binding) == (second.passed, second.reasons, second.binding)
    assert sorted(r.excerpt for r in first.review) == sorted(r.excerpt for r in second.review)
