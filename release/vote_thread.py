# SPDX-License-Identifier: Apache-2.0
"""Reading the votes on one candidate from an mbox export of the mailing list. Pure: text in.

What is read, and from where:

- **The thread.** The `[VOTE]` messages whose subject names the candidate (`1.10.6rc1`, not
  `1.10.6rc10`), and the replies to them: each message belongs to the message its In-Reply-To
  names (else the last message of its References that is in the export). A `[VOTE]` on another
  candidate, a `[RESULT]` or a `[CANCEL]` ends a branch: nothing under it is read. Everything
  else in the export (other threads, `[DISCUSS]`) is not read at all; a `[DISCUSS]` reply inside
  the thread is listed, never counted.
- **The sender.** The one address of the raw From header (`Name <address>`, `address` or
  `address (comment)`); a header that is anything else names no sender. The display name is shown
  to the reader and never compared with anything.
- **The time.** The archive's own: the date on the mbox `From ` line, else the topmost Received
  header (added by the list's own server), and only when the export has neither, the sender's Date.
- **The vote.** The plain part, else the HTML part as text. Reading stops at a quote header
  (`On ... wrote:`, `-----Original Message-----`, Outlook's `From: ... Sent: ...` block, a line of
  underscores) or a signature (`-- `); lines quoted with `>` are skipped. A reply is a vote when
  its lines that start with an explicit sign (release/votes.py: `read_vote`) all say the same; a
  reply with none, or with two different ones, is listed for the release manager to read.
"""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.header
import email.policy
import email.utils
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from html.parser import HTMLParser

from release.errors import RefusedError
from release.roster import ADDRESS
from release.votes import Review, Thread, Vote, normalise, parse_plain, read_vote, utc, when

# A message starts at a `From ` line at the start of the export or after an empty line (the mbox
# writers escape `From ` at the start of a body line as `>From `).
_SEPARATOR = re.compile(r"(?:\A|(?<=\n\n))From (?P<line>[^\n]*)\n")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"(?:(?:re|fwd?|aw|sv|antw|wg|vs|r)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_COMMENT = r"\([^()\\]*\)"
# One mailbox, nothing else: a display name of quoted strings, comments and plain characters (one
# at a time, so nothing is ambiguous to backtrack over), then `<address>`; or a bare address.
_FROM = re.compile(rf'\s*(?:(?P<display>(?:{_QUOTED}|{_COMMENT}|[^"<>@,;:()\[\]\\])*)<\s*(?P<angle>'
                   rf'{ADDRESS.pattern})\s*>|(?P<bare>{ADDRESS.pattern})\s*(?:{_COMMENT})?)\s*')
# Where the reply ends: what mail clients put above the message they quote, and a signature.
_QUOTE_HEADERS = (
    re.compile(r"-{2,}\s*(?:original message|forwarded message|urspr.ngliche nachricht|message d'origine)"
               r"\s*-{2,}", re.I),
    re.compile(r"_{10,}"),
    re.compile(r"(?:from|von|de|van|da|sent|gesendet|envoy.)\s*:(?:\s.*)?", re.I),
    re.compile(r".*\b(?:wrote|schrieb|a .crit|escribi.|ha scritto|schreef)\s*:", re.I),
    re.compile(r"--\s?"),
)
HTML_LIMIT = 200_000  # characters of an HTML part read: a vote is at the top
EXCERPT = 160


@dataclass(frozen=True)
class _Mail:
    separator: str  # the mbox `From ` line, without `From `
    message: EmailMessage
    headers: dict[str, list[str]]  # lower-case name -> raw values, unfolded
    id: str
    parents: tuple[str, ...]  # In-Reply-To, then References from the last: nearest first
    title: str  # the subject, decoded
    subject: str  # the subject without its reply prefixes (`Re: `)

    def first(self, name: str) -> str:
        values = self.headers.get(name, [])
        return values[0] if values else ""


def split_mbox(text: str) -> list[tuple[str, str]]:
    """(`From ` line, message) for each message of an mbox export."""
    text = text.replace("\r\n", "\n")
    found = list(_SEPARATOR.finditer(text))
    ends = [m.start() for m in found[1:]] + [len(text)]
    return [(m["line"], text[m.end():end]) for m, end in zip(found, ends)]


def _raw_headers(message: EmailMessage) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        unfolded = re.sub(r"\r?\n(?=[ \t])", "", str(value)).strip()
        headers.setdefault(name.lower(), []).append(unfolded)
    return headers


def _decoded(text: str) -> str:
    """RFC 2047 encoded words decoded, for showing; the raw text when they do not decode."""
    with contextlib.suppress(email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        text = str(email.header.make_header(email.header.decode_header(text)))
    return " ".join(text.split())


def _mail(separator: str, raw: str) -> _Mail:
    message = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    headers = _raw_headers(message)
    ids = _MESSAGE_ID.findall(headers.get("message-id", [""])[0])
    replying = _MESSAGE_ID.findall(" ".join(headers.get("in-reply-to", [])))[-1:]
    references = _MESSAGE_ID.findall(" ".join(headers.get("references", [])))[::-1]
    title = _decoded(headers.get("subject", [""])[0])
    prefix = _REPLY_PREFIX.match(title)
    return _Mail(separator, message, headers, ids[0] if ids else "", (*replying, *references), title,
                 title[prefix.end():] if prefix else title)


def names_candidate(subject: str, candidate: str) -> bool:
    """The subject names `candidate` itself: `1.10.6rc1`, never `1.10.6rc10` or `11.10.6rc1`."""
    return re.search(rf"(?<![\d.]){re.escape(candidate)}(?!\w|\.\d)", subject, re.I) is not None


def _tag(subject: str) -> str:
    found = re.match(r"\s*\[([A-Za-z]+)\]", subject)
    return found[1].upper() if found else ""


def sender(raw: str) -> tuple[str, str]:
    """(display name, address) of a From header holding one mailbox; ("", "") for anything else."""
    found = _FROM.fullmatch(raw)
    if found is None:
        return "", ""
    address = (found["angle"] or found["bare"]).lower()
    display = (found["display"] or "").strip()
    if display.startswith('"') and display.endswith('"') and len(display) > 1:
        display = re.sub(r"\\(.)", r"\1", display[1:-1])
    return _decoded(display), address


def archive_time(mail: _Mail) -> tuple[datetime | None, str]:
    """(UTC time, what gave it): the `From ` line's date, the topmost Received header's, the Date."""
    candidates = (
        ("From line", mail.separator.split(None, 1)[1] if len(mail.separator.split(None, 1)) == 2 else ""),
        ("Received", mail.first("received").rpartition(";")[2]),
        ("Date", mail.first("date")),
    )
    for what, text in candidates:
        if not text.strip():
            continue
        try:
            return utc(email.utils.parsedate_to_datetime(text.strip())), what
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
    return None, ""


class _Text(HTMLParser):
    """An HTML body as lines of text: blocks on their own lines, quoted blocks marked with `>`."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
                        "h6", "pre", "hr", "blockquote", "section", "article", "header", "footer"})
    HIDDEN = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.quoted = 0
        self.hidden = 0

    def _newline(self) -> None:
        self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        if tag == "blockquote":
            self.quoted += 1
        if tag == "hr":
            self.lines.append("_" * 10)
        if tag in self.BLOCKS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag == "blockquote":
            self.quoted = max(0, self.quoted - 1)
        if tag in self.BLOCKS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        parts = data.split("\n")
        for index, part in enumerate(parts):
            if index:
                self._newline()
            if part.strip() and self.quoted and not self.lines[-1]:
                self.lines[-1] = "> "
            self.lines[-1] += part


def html_text(html: str) -> str:
    """The text of an HTML part, one block a line; what `<blockquote>` holds is quoted with `>`."""
    parser = _Text()
    parser.feed(html[:HTML_LIMIT])
    parser.close()
    return "\n".join(line.strip() for line in parser.lines)


def _body(message: EmailMessage) -> str:
    """The plain part, else the HTML part as text; "" when it has neither."""
    part = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, UnicodeError):  # a charset Python does not know
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return html_text(content) if part.get_content_subtype() == "html" else content


def reply_lines(body: str) -> Iterator[str]:
    """The lines the sender wrote: up to the first quote header or signature, without `>` lines."""
    for line in normalise(body).splitlines():
        stripped = line.strip()
        if any(header.fullmatch(stripped) for header in _QUOTE_HEADERS):
            return
        if stripped and not stripped.startswith(">"):
            yield stripped


def read_reply(body: str) -> tuple[Vote | None, str, str]:
    """(the vote, why it is not one, excerpt): the vote with no sender or time yet, or why not."""
    lines = list(reply_lines(body))
    excerpt = " / ".join(lines[:3])
    excerpt = excerpt if len(excerpt) <= EXCERPT else excerpt[:EXCERPT - 3] + "..."
    found = [(line, vote) for line in lines if (vote := read_vote(line)) is not None]
    values = sorted({vote.value for _, vote in found}, reverse=True)
    if not found:
        return None, "no vote in it (no line starts with +1, 0 or -1)", excerpt
    if len(values) > 1:
        signs = " and ".join(f"{v:+d}" if v else "0" for v in values)
        return None, f"more than one vote in it ({signs})", excerpt
    vote = found[0][1]
    return Vote("", "", vote.value, None, vote.says_binding, vote.rest), "", excerpt


def _thread_of(mails: list[_Mail], roots: list[_Mail], candidate: str) -> list[_Mail]:
    """The replies under `roots`, in export order; a [VOTE] of another candidate, [RESULT] and
    [CANCEL] end a branch."""
    known = {mail.id for mail in mails if mail.id}
    children: dict[str, list[int]] = {}
    for index, mail in enumerate(mails):
        parent = next((p for p in mail.parents if p in known and p != mail.id), None)
        if parent is not None:
            children.setdefault(parent, []).append(index)
    seen = {mail.id for mail in roots}
    queue = deque(seen)
    found: set[int] = set()
    root_ids = {id(mail) for mail in roots}
    while queue:
        for index in children.get(queue.popleft(), []):
            mail = mails[index]
            if index in found or id(mail) in root_ids:
                continue
            tag = _tag(mail.subject)
            if tag in {"RESULT", "CANCEL"} or (tag == "VOTE"
                                               and not names_candidate(mail.subject, candidate)):
                continue
            found.add(index)
            if mail.id and mail.id not in seen:
                seen.add(mail.id)
                queue.append(mail.id)
    return [mails[index] for index in sorted(found)]


def parse_mbox(text: str, *, candidate: str) -> Thread:
    """The votes on `candidate` in an mbox export, and the replies for the release manager to read.

    RefusedError when the export holds no `[VOTE]` message naming `candidate`, or one without a
    Message-ID (its replies could not be told from others).
    """
    mails: list[_Mail] = []
    unreadable: list[Review] = []
    for separator, raw in split_mbox(text):
        try:
            mails.append(_mail(separator, raw))
        except Exception as exc:  # the email package raises many kinds on hostile input
            unreadable.append(Review("", "", None, f"cannot be read as an email ({type(exc).__name__})",
                                     " ".join(raw[:EXCERPT].split())))
    roots = [m for m in mails if _tag(m.title) == "VOTE" and names_candidate(m.title, candidate)]
    if not roots:
        raise RefusedError(f"the export holds no [VOTE] message whose subject names {candidate}: export "
                           "the thread of this candidate's vote (with its [VOTE] message)")
    for root in roots:
        if not root.id:
            raise RefusedError(f"the [VOTE] message {root.subject!r} has no Message-ID, so its replies "
                               "cannot be told apart: export the thread with all its headers")
    timed = [(moment, root) for root in roots for moment in [archive_time(root)[0]] if moment]
    opened, first = min(timed, key=lambda pair: pair[0]) if timed else (None, roots[0])
    votes: list[Vote] = []
    unread = list(unreadable)
    thread = _thread_of(mails, roots, candidate)
    for mail in thread:
        moment, timed_by = archive_time(mail)
        name, address = sender(mail.first("from")) if len(mail.headers.get("from", [])) == 1 else ("", "")
        if not address:
            unread.append(Review(_decoded(mail.first("from"))[:EXCERPT], "", moment,
                                 "its From header is not one plain address"))
            continue
        if _tag(mail.subject) == "DISCUSS":
            unread.append(Review(name, address, moment, "a [DISCUSS] message in the vote thread: not a vote"))
            continue
        try:
            vote, why, excerpt = read_reply(_body(mail.message))
        except Exception as exc:  # a body the email package cannot take apart
            vote, why, excerpt = None, f"its body cannot be read ({type(exc).__name__})", ""
        if vote is None:
            unread.append(Review(name, address, moment, why, excerpt))
            continue
        votes.append(Vote(name, address, vote.value, moment, vote.says_binding, vote.comment, timed_by,
                          from_thread=True))
    roots_seen = tuple(f"{r.subject} ({sender(r.first('from'))[1] or 'no sender'}, "
                       f"{when(t) if (t := archive_time(r)[0]) else 'no time'})" for r in roots)
    return Thread(tuple(votes), opened, first.subject, tuple(unread),
                  len(mails) - len(thread) - len(roots), roots_seen)


def parse_votes(text: str, *, candidate: str, source: str = "votes") -> Thread:
    """An mbox export (it starts with a `From ` line) or the release manager's plain-text list."""
    if text.lstrip("\ufeff").startswith("From "):
        return parse_mbox(text.lstrip("\ufeff"), candidate=candidate)
    return parse_plain(text, source=source)
