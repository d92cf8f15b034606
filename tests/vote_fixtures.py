# SPDX-License-Identifier: Apache-2.0
"""Throwaway keyrings, svn repositories and built candidates for the build/sign/vote tests, and
vote threads as the list archive exports them (real mbox files, written with `mailbox`).

Builds take seconds, so each (version) is built once per test session and shared read-only;
a test that changes files works on `copy_tree(...)` of it.
"""

from __future__ import annotations

import atexit
import dataclasses
import email.utils
import mailbox
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from conftest import git, make_sample_repo

from release.config import ReleaseConfig, load_config
from release.pipeline.recording import record_build, record_signed
from release.record import load_record, release_dir
from release.steps.build import BuildResult, build_release
from release.steps.sign import SignResult, sign_release
from release.versions import ReleaseVersion, parse_version

RM = "Release Manager <rm@sample.invalid>"
_BUILT: dict[str, tuple[Path, BuildResult]] = {}
_HOMES: list[Path] = []


def _kill_agents() -> None:
    for home in _HOMES:
        subprocess.run(["gpgconf", "--kill", "all"], env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"},
                       check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


atexit.register(_kill_agents)


def gpg(home: Path, *args: str) -> str:
    result = subprocess.run(["gpg", "--homedir", str(home), "--batch", *args],
                            check=True, capture_output=True, text=True)
    return result.stdout


def new_gnupghome() -> Path:
    """A keyring under /tmp (gpg-agent's socket path must stay short); its agent is killed at exit."""
    home = Path(tempfile.mkdtemp(prefix="g.", dir="/tmp"))
    home.chmod(0o700)
    _HOMES.append(home)
    return home


def generate_key(home: Path, uid: str = RM, *, expire: str = "2y", faked_time: str = "") -> str:
    """A passphrase-less rsa3072 signing key; its fingerprint. `faked_time` back-dates it (expired keys)."""
    fake = ["--faked-system-time", faked_time] if faked_time else []
    gpg(home, *fake, "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid,
        "rsa3072", "sign", expire)
    for line in gpg(home, "--with-colons", "--list-keys", uid).splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9]
    raise AssertionError(f"no key {uid} generated in {home}")


def keys_text(home: Path, *fingerprints: str) -> str:
    """An Apache KEYS file: each key's listing and armored export."""
    blocks = [gpg(home, "--list-keys", fpr) + gpg(home, "--armor", "--export", fpr) for fpr in fingerprints]
    return "This file contains the PGP keys of release managers.\n\n" + "\n".join(blocks)


@dataclass(frozen=True)
class Keyring:
    home: Path
    fingerprint: str
    keys_file: Path  # a KEYS file holding that key


_KEYRING: list[Keyring] = []


def shared_keyring() -> Keyring:
    """One release manager's key for the whole session (key generation takes a second or two)."""
    if not _KEYRING:
        home = new_gnupghome()
        fingerprint = generate_key(home)
        keys = home / "KEYS"
        keys.write_text(keys_text(home, fingerprint), encoding="utf-8")
        _KEYRING.append(Keyring(home, fingerprint, keys))
    return _KEYRING[0]


@dataclass(frozen=True)
class SvnRepo:
    """A dist.apache.org-like repository: dev/<name>/ for candidates, release/<name>/KEYS for releases."""

    path: Path
    url: str

    @property
    def dev_url(self) -> str:
        return f"{self.url}/dev"

    @property
    def release_url(self) -> str:
        return f"{self.url}/release"

    def keys_url(self, name: str) -> str:
        return f"{self.url}/release/{name}/KEYS"

    def copy(self, dest: Path) -> SvnRepo:
        shutil.copytree(self.path, dest)
        return SvnRepo(dest, dest.as_uri())


def make_svn(where: Path, name: str, keys: str) -> SvnRepo:
    repo = where / "svnrepo"
    subprocess.run(["svnadmin", "create", str(repo)], check=True)
    layout = where / "layout"
    (layout / "dev" / name).mkdir(parents=True)
    (layout / "release" / name).mkdir(parents=True)
    (layout / "release" / name / "KEYS").write_text(keys, encoding="utf-8")
    subprocess.run(["svn", "import", "--non-interactive", "-m", "Layout", str(layout), repo.as_uri()],
                   check=True, capture_output=True)
    return SvnRepo(repo, repo.as_uri())


def svn(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(["svn", *args, "--non-interactive"], cwd=cwd, check=True,
                            capture_output=True, text=True)
    return result.stdout


def build_recorded(config: ReleaseConfig, version: ReleaseVersion) -> BuildResult:
    """`build_release` of `version` (the names its commit declares), recorded as the pipeline does."""
    built = build_release(config, version)
    record_build(load_record(built.directory, built.version), built)
    return built


def sign_recorded(config: ReleaseConfig, version: ReleaseVersion, keyring: Keyring, **kwargs: object
                  ) -> SignResult:
    """`sign_release` of `version` with `keyring`'s key and KEYS (or `kwargs`' own), recorded as the
    pipeline does."""
    chosen: dict[str, object] = {"key": keyring.fingerprint, "gnupghome": keyring.home,
                                 "keys_file": keyring.keys_file, **kwargs}
    signed = sign_release(config, version, **chosen)  # type: ignore[arg-type]
    record_signed(load_record(release_dir(config.root, str(version)), str(version)), signed)
    return signed


def built_sample(factory: pytest.TempPathFactory, version: str) -> tuple[Path, BuildResult]:
    """A sample checkout with `dist/<version>/` built; shared by the session, so never change it."""
    if version not in _BUILT:
        root = make_sample_repo(factory.mktemp(f"built-{version}") / "sample")
        _BUILT[version] = (root, build_recorded(load_config(root), parse_version(version)))
    return _BUILT[version]


def copy_tree(source: Path, dest: Path) -> tuple[Path, ReleaseConfig]:
    """A private copy of a built checkout (git repository and dist/ included) and its config."""
    shutil.copytree(source, dest, symlinks=True)
    git(dest, "status", "--short")  # refresh the index stat data of the moved files
    return dest, load_config(dest)


# --- vote threads ----------------------------------------------------------------------------------

ROOT = "<vote-1.10.6rc1@sample.invalid>"  # the Message-ID of the [VOTE] message of `vote_thread`
CALL = "Please vote:\n\n[ ] +1 approve the release\n[ ] +0 no opinion\n[ ] -1 do not release, because ...\n"


@dataclass(frozen=True)
class Mail:
    """One message of a vote thread as the archive holds it. Headers are written exactly as given."""

    sender: str  # the From header
    body: str | None = "+1"  # the plain part; None: none
    hours: float | None = 1.0  # when the archive received it (its `From ` line), hours after the [VOTE]
    html: str | None = None  # an HTML part: with `body`, the alternative; alone, the only part
    subject: str = ""  # default: `Re: ` and the thread's subject
    replies_to: str = ROOT  # the Message-ID it answers ("": none)
    id: str = ""  # its own Message-ID (default: one made up from its place in the thread)
    date: str | None = None  # the Date header as the sender wrote it; default: the archive's time
    received: bool = False  # the list server's Received header, with the archive's time


def vote_subject(candidate: str = "1.10.6rc1", project: str = "Sample App") -> str:
    return f"[VOTE] Release {project} {candidate.split('rc')[0]} from {candidate}"


def _message(mail: Mail) -> Message:
    if mail.body is not None and mail.html is not None:
        message: Message = MIMEMultipart("alternative")
        message.attach(MIMEText(mail.body, "plain", "utf-8"))
        message.attach(MIMEText(mail.html, "html", "utf-8"))
    elif mail.html is not None:
        message = MIMEText(mail.html, "html", "utf-8")
    else:
        message = MIMEText(mail.body or "", "plain", "utf-8")
    return message


def vote_thread(path: Path, mails: Sequence[Mail], *, opened: datetime, candidate: str = "1.10.6rc1",
                root: bool = True) -> Path:
    """An mbox export at `path`: the [VOTE] message of `candidate` (received at `opened`, Message-ID
    `ROOT`), then `mails` in their order. Returns `path`."""
    path.unlink(missing_ok=True)
    box = mailbox.mbox(str(path), create=True)
    call = Mail("Release Manager <rm@sample.invalid>", CALL, 0.0, subject=vote_subject(candidate),
                replies_to="", id=ROOT)
    for number, mail in enumerate([call] if root else [], start=0):
        _add(box, mail, opened, number, candidate)
    for number, mail in enumerate(mails, start=1):
        _add(box, mail, opened, number, candidate)
    box.flush()
    box.close()
    return path


def _add(box: mailbox.mbox, mail: Mail, opened: datetime, number: int, candidate: str) -> None:
    message = _message(mail)
    moment = opened + timedelta(hours=mail.hours) if mail.hours is not None else None
    message["From"] = mail.sender
    message["Subject"] = mail.subject or f"Re: {vote_subject(candidate)}"
    message["Message-ID"] = mail.id or f"<reply-{number}@sample.invalid>"
    if mail.replies_to:
        message["In-Reply-To"] = mail.replies_to
        message["References"] = mail.replies_to
    if mail.date is None and moment is not None:
        message["Date"] = email.utils.format_datetime(moment)
    elif mail.date:
        message["Date"] = mail.date
    if mail.received and moment is not None:
        received = email.utils.format_datetime(moment)
        message["Received"] = f"from mx.sample.invalid by lists.sample.invalid; {received}"
    entry = mailbox.mboxMessage(message)
    address = email.utils.parseaddr(mail.sender)[1] or "unknown"
    if moment is not None:
        entry.set_from(address, moment.utctimetuple())
    else:
        entry.set_from(address)
    box.add(entry)


def staged_hours_ago(directory: Path, version: str, hours: float) -> datetime:
    """The record in `directory` as if its candidate had been staged `hours` ago (a vote lasts days,
    and a test does not wait for one). Returns that staging time."""
    record = load_record(directory, version)
    assert record.stage is not None, f"{version} is not staged"
    opened = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=hours)
    record.set_stage(dataclasses.replace(record.stage, opened=opened.isoformat(),
                                         vote_closes=(opened + timedelta(hours=72)).isoformat()))
    return opened
