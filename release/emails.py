# SPDX-License-Identifier: Apache-2.0
"""The emails around a vote that the pipeline renders: `[RESULT][VOTE]`, `[ANNOUNCE]` and a release
train's wave `[VOTE]`. Pure.

(The `[VOTE]` email of one release is rendered where the candidate is staged, in steps/vote.py.)
The release manager sends them; the pipeline only writes them into dist/<V>/. An address that is not
configured is never made up: the `To:` line says which key to set, and `missing_recipient` is the
one line the step writing the email shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from release.votes import MIN_BINDING_PLUS, VOTE_HOURS, Review, Tally, voters, when


def recipient(address: str, key: str) -> str:
    """What the `To:` line holds: the configured address, else the key to set (never a made-up address)."""
    return address or f"(no address: set [tool.release] {key})"


def missing_recipient(address: str, key: str, email: Path | str) -> str:
    """The one line to show when an email was written without an address; "" when it has one."""
    if address:
        return ""
    return (f"{email} has no address to go to: [tool.release] {key} is not set; set it, or fill in the To: "
            "line before sending")


def notes_text(version: str, notes: str) -> str:
    """The release notes paragraph of an email; a project that keeps no changelog is said to have none."""
    if not notes.strip():
        return f"There are no release notes for {version}: the project keeps no changelog."
    return f"Release notes for {version}:\n\n{notes.strip()}"


def review_line(item: Review) -> str:
    """One reply not counted as it stands: who, when, why, and how it begins."""
    who = f"{item.voter or 'no sender'}{' (binding)' if item.binding else ''}"
    moment = when(item.when) if item.when else "no time"
    said = f': "{item.excerpt}"' if item.excerpt else ""
    return f"{who}, {moment}: {item.why}{said}"


def _listing(title: str, names: Sequence[str]) -> str:
    lines = [f"{title}: {len(names)}"] + [f"  {name}" for name in names]
    return "\n".join(lines)


def _verdict(tally: Tally, passed: str) -> tuple[str, str]:
    """(the verdict, what follows) of a count: unfinished, passed (`passed` says what is released),
    or not passed with its reasons."""
    if tally.needs_reading:
        return ("The count is not finished: replies of binding voters (listed below) were not understood "
                "and need the release manager's reading:\n" + "\n".join(f"- {r}" for r in tally.reasons),
                "This draft is not to be sent before they are read and counted.")
    if tally.passed:
        return (f"The vote has passed: {tally.count(1, binding=True)} binding +1, "
                f"{tally.count(-1, binding=True)} binding -1.",
                f"Thanks to everyone who checked the candidate and voted. {passed}")
    return ("The vote has not passed:\n" + "\n".join(f"- {reason}" for reason in tally.reasons),
            "Thanks to everyone who checked the candidate and voted. The problems found will be fixed "
            "in a new release candidate.")


def _counted(tally: Tally, decided_by: str) -> str:
    """Who voted what, then how replies were counted (claimed, late, changed, decided, unread)."""
    sections = [
        _listing("+1 (binding)", voters(tally.binding, 1)),
        _listing("+1 (non-binding)", voters(tally.non_binding, 1)),
        _listing("0", voters(tally.binding, 0) + voters(tally.non_binding, 0)),
        _listing("-1 (binding)", voters(tally.binding, -1)),
        _listing("-1 (non-binding)", voters(tally.non_binding, -1)),
    ]
    notes = []
    if tally.claimed:
        names = ", ".join(v.voter for v in tally.claimed)
        notes.append(f"Counted as non-binding (not in the list of binding voters): {names}.")
    if tally.late:
        names = ", ".join(v.voter for v in tally.late)
        notes.append(f"Cast after the vote closed, not counted: {names}.")
    if tally.changed:
        notes.append(f"Changed their vote (the last one counts): {'; '.join(tally.changed)}.")
    if tally.decided:
        by = f", decided by {decided_by}" if decided_by else ""
        counted = ", ".join(f"{voter}: {value}" for voter, value in tally.decided)
        notes.append(f"Counted as the release manager read their replies{by}: {counted}.")
    if tally.review:
        notes.append("Replies not counted as they stand:\n" + "\n".join(f"  {review_line(r)}"
                                                                         for r in tally.review))
    return "\n\n".join(sections) + (("\n\n" + "\n".join(notes)) if notes else "")


def _window(tally: Tally) -> str:
    return (f"from\n{when(tally.opened)} to {when(tally.closed)} ({tally.hours_open:.1f} hours; at least "
            f"{tally.hours} are required) and needed at least {tally.needed} binding +1 votes and more "
            "binding +1 than -1")


def render_result_email(*, project: str, final: str, candidate: str, mailing_list: str, tally: Tally,
                        thread_subject: str = "", decided_by: str = "") -> str:
    """`[RESULT][VOTE]`: the counts, who voted what, and whether it passed, headers first; the
    replies that were not counted as they stand, and how the release manager counted a voter."""
    subject = thread_subject or f"[VOTE] Release {project} {final} from {candidate}"
    verdict, after = _verdict(tally, f"{candidate} will be released as {final}, and the release announced "
                                     "once it is published.")
    return f"""To: {recipient(mailing_list, "mailing-list")}
Subject: [RESULT]{subject}

Hello everyone,

The vote on releasing {project} {final} from release candidate {candidate} was open {_window(tally)}.

{verdict}

{_counted(tally, decided_by)}

{after}
"""


def render_wave_result_email(*, project: str, train: str, date: str, mailing_list: str, tally: Tally,
                             promoted: Sequence[str], excluded: Mapping[str, str],
                             thread_subject: str = "", decided_by: str = "") -> str:
    """The `[RESULT][VOTE]` of a wave: the counts and who voted what, then which distributions are
    released and which the vote excluded, each with the reason."""
    subject = thread_subject or f"[VOTE] Release {project} {wave_candidate(train, date)}"
    released = "\n".join(f"  {line}" for line in promoted) or "  (none)"
    left = "\n".join(f"  {name}: {why}" for name, why in sorted(excluded.items()))
    verdict, after = _verdict(tally, "The distributions below will be released, and announced once they "
                                     "are published.")
    parts = [f"The vote on releasing the {train} wave of {date} of {project} was open {_window(tally)}.",
             verdict, _counted(tally, decided_by)]
    if tally.passed:
        parts.append(f"Released from this wave:\n\n{released}")
        if left:
            parts.append(f"Excluded by the vote, for a later wave:\n\n{left}")
    body = "\n\n".join([*parts, after])
    return f"""To: {recipient(mailing_list, "mailing-list")}
Subject: [RESULT]{subject}

Hello everyone,

{body}
"""


@dataclass(frozen=True)
class Announcement:
    project: str
    version: str
    to: str
    release_notes: str
    distributions: tuple[tuple[str, str], ...]  # (name, version)
    download_url: str  # the svn release folder; "" when the release was not voted on
    files: tuple[tuple[str, str], ...]  # (file name, sha512) of the released files
    keys_url: str
    images: tuple[str, ...]  # image references, immutable tags first
    index_url: str  # the package index's simple URL


def _released_files(url: str, files: Sequence[tuple[str, str]]) -> str:
    """Where the released files are (`url`, or its folders the files' paths name: `3.3.3/NAME`), each
    one's link under it."""
    folders = sorted({f"{url}/{name.rpartition('/')[0]}" if "/" in name else url for name, _ in files})
    where = "\n".join(f"  {folder}" for folder in folders or [url])
    links = "\n".join(f"  {url}/{name}" for name, _ in files)
    return (f"The released files, with their signatures (.asc) and checksums (.sha512), are at\n\n"
            f"{where}\n\n{links}")


def _how_to_check(keys_url: str, files: Sequence[tuple[str, str]]) -> str:
    """The KEYS to check the files with, and each file's sha512 by its name."""
    sums = "\n".join(f"  {name.rpartition('/')[2]}\n    sha512: {digest}" for name, digest in files)
    return (f"Check them with the release managers' public keys:\n\n  {keys_url}\n\n"
            f"sha512 checksums:\n\n{sums}")


def _pip_lines(distributions: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"  pip install {name}=={version}" for name, version in distributions)


def render_announce_email(news: Announcement) -> str:
    """`[ANNOUNCE]`: what was released, where to get it, how to check it, and what changed."""
    if news.download_url:
        download = _released_files(news.download_url, news.files)
    else:
        download = f"The packages are on the package index:\n\n  {news.index_url}"
    images = "\n".join(f"  {ref}" for ref in news.images)
    shipped = ", ".join(f"{name} {version}" for name, version in news.distributions)
    return f"""To: {recipient(news.to, "announce-list")}
Subject: [ANNOUNCE] {news.project} {news.version} released

Hello everyone,

The {news.project} team is pleased to announce the release of {news.project} {news.version}
({shipped}).

{download}

{_how_to_check(news.keys_url, news.files)}

Install it from the package index ({news.index_url}):

{_pip_lines(news.distributions)}

Container images:

{images}

{notes_text(news.version, news.release_notes)}
"""


@dataclass(frozen=True)
class WaveAnnouncement:
    project: str
    train: str
    date: str  # the wave's name, YYYY-MM-DD
    to: str
    distributions: tuple[tuple[str, str], ...]  # (name, version) of each distribution released
    download_url: str  # the train's folder in svn release/
    # (path under download_url, sha512) of the released files: a flat train's names, a versioned
    # train's in their release folders (`3.3.3/apache_airflow-3.3.3.tar.gz`)
    files: tuple[tuple[str, str], ...]
    keys_url: str
    index_url: str


def render_wave_announce_email(news: WaveAnnouncement) -> str:
    """`[ANNOUNCE]` of a released wave: each distribution with its version, where its files are, how
    to check them, and how to install each."""
    count = len(news.distributions)
    shipped = "\n".join(f"  {name} {version}" for name, version in news.distributions)
    return f"""To: {recipient(news.to, "announce-list")}
Subject: [ANNOUNCE] {news.project} {wave_candidate(news.train, news.date)} released

Hello everyone,

The {news.project} team is pleased to announce the release of the {news.train} wave of {news.date}, \
{count} distribution{"s" if count != 1 else ""}:

{shipped}

{_released_files(news.download_url, news.files)}

{_how_to_check(news.keys_url, news.files)}

Install them from the package index ({news.index_url}):

{_pip_lines(news.distributions)}
"""


@dataclass(frozen=True)
class WaveVoteEmail:
    project: str
    train: str
    date: str  # the wave's name, YYYY-MM-DD
    mailing_list: str
    lines: tuple[str, ...]  # one per distribution: "name 6.3.1rc1 (voted as 6.3.1)"
    svn_urls: tuple[str, ...]  # the folders in svn dev: a flat train's one, a versioned train's each
    source_tarball: str  # the wave's source release
    fingerprint: str
    keys_url: str
    commit: str
    tags: tuple[str, ...]  # each distribution's candidate tag, then the wave's own
    closes: datetime
    hours: int = VOTE_HOURS  # how long the train's policy keeps a vote open at least
    needed: int = MIN_BINDING_PLUS  # ... and the binding +1 votes it asks for
    index_url: str = ""  # the package index's simple URL, when the candidates are on it
    on_index: tuple[tuple[str, str], ...] = ()  # (name, rc version) of each candidate on the index
    together: bool = False  # a versioned train: its distributions are released together, none excluded
    atr_revision: str = ""  # staged in ATR: the revision voted on, `svn_urls` then ATR's vote page
    images: tuple[str, ...] = ()  # a versioned train's images, `registry/image:tag@digest`


def wave_candidate(train: str, date: str) -> str:
    """How a wave's vote thread names it: what `vote-result --train` looks for in the [VOTE] subject."""
    return f"{train} {date}"


def _candidates_on_index(vote: WaveVoteEmail) -> str:
    if not vote.on_index:
        return ""
    return f"""
To try them, the candidates are on the package index ({vote.index_url}) under their rc versions;
what is voted on is the files in {"ATR" if vote.atr_revision else "svn"} above:

{_pip_lines(vote.on_index)}
"""


def _wave_images(vote: WaveVoteEmail) -> str:
    if not vote.images:
        return ""
    return """
The wave's images install exactly its wheels above; `invoke verify --train` checks them, and the
final tags go on these very images once the vote passes:

""" + "\n".join(f"  {image}" for image in vote.images) + "\n"


def render_wave_vote_email(vote: WaveVoteEmail) -> str:
    """The `[VOTE]` of a wave: every distribution with the version it is voted as, one vote for all of
    them, and how the PMC excludes one (the others are released). Headers first."""
    closes = vote.closes.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    count = len(vote.lines)
    listing = "\n".join(f"  {line}" for line in vote.lines)
    tags = "\n".join(f"  {tag}" for tag in vote.tags)
    folders = "\n".join(f"  {url}" for url in vote.svn_urls)
    where = (f"in Apache Trusted Releases, revision {vote.atr_revision}, on its vote page"
             if vote.atr_revision else "in svn")
    if vote.together:
        parts = ("They are released together: a problem with one of them is a -1 on all of them, and a\n"
                 "new candidate of all of them follows.")
    else:
        parts = ("A problem with one distribution need not stop the others: say which one, and the PMC can "
                 "exclude\nit when the votes are counted; it then goes to a later wave.")
    return f"""To: {recipient(vote.mailing_list, "mailing-list")}
Subject: [VOTE] Release {vote.project} {wave_candidate(vote.train, vote.date)}: {count} distribution\
{"s" if count != 1 else ""}

Hello everyone,

This is a call for a vote on releasing the {vote.train} wave of {vote.date}, {count} distribution\
{"s" if count != 1 else ""} of {vote.project}:

{listing}

Their sdists and wheels, and the wave's source release {vote.source_tarball}, are {where}:

{folders}

Every file comes with a detached signature (.asc) and its checksum (.sha512). They were signed with
the key {vote.fingerprint}; the public keys of the release managers are in:

  {vote.keys_url}

The wave was built from commit {vote.commit}, tagged:

{tags}

Building that commit again gives the same bytes.
{_wave_images(vote)}{_candidates_on_index(vote)}
The vote is open for at least {vote.hours} hours, until {closes}, and passes with at least
{vote.needed} binding +1 votes and more binding +1 than -1 votes. Please vote:

[ ] +1 approve the release of every distribution listed
[ ] +0 no opinion
[ ] -1 do not release, because ...

{parts} Only PMC members' votes are binding;
everyone is welcome to check the wave and vote (mark such votes "non-binding").
"""
