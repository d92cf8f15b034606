# SPDX-License-Identifier: Apache-2.0
"""Stage a release candidate in svn dev/, tag it in git, and write its email: the `[VOTE]` for a
project whose releases a PMC votes on (`vote = "asf"`), else a call to test it (`vote = "none"`).

The parts of staging, each returning what it made: the candidate as built and signed
(`signed_candidate`), its tag and its commit to svn (`commit_candidate`) or its upload to ATR, and
its email with the stage entry for the pipeline to record (`write_vote_email`). pipeline/stage.py
runs them in order, with the checks PMC members make by hand before anything is committed and,
after the commit, what svn holds verified exactly as a voter would (`invoke verify`) before the
email is written.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from release.adapters import git, svn
from release.adapters.atr import CheckReport, Upload, ignore_named
from release.adapters.clients import Atr
from release.config import ASF, ReleaseConfig
from release.emails import missing_recipient, notes_text, recipient
from release.errors import ConfigError, RefusedError, VerificationError
from release.plan.atr import AtrPlan
from release.progress import Progress, to_log
from release.record import StageInfo, load_record, release_dir, sha512_of, write_atomic
from release.versions import ReleaseVersion, describe
from release.votes import VOTE_HOURS

log = logging.getLogger("release.vote")
EMAIL_NAME = "vote-email.txt"
CANDIDATE_EMAIL_NAME = "candidate-email.txt"  # a project that does not vote: a call to test the candidate


def email_name(config: ReleaseConfig) -> str:
    return EMAIL_NAME if config.votes else CANDIDATE_EMAIL_NAME


@dataclass(frozen=True)
class VoteEmail:
    project: str
    final: str
    candidate: str
    mailing_list: str
    svn_url: str
    files: tuple[tuple[str, str], ...]  # (file name, sha512)
    fingerprint: str
    keys_url: str
    tag: str
    commit: str
    release_notes: str
    closes: datetime
    distributions: tuple[tuple[str, str], ...] = ()  # (name, version voted on)
    policy: str = ASF  # [tool.release] vote: `none` writes a call to test, with no vote and no PMC
    revision: str = ""  # staged in Apache Trusted Releases: the revision voted on (svn_url: ATR's page)


@dataclass(frozen=True)
class StageResult:
    version: str
    url: str
    revision: int | None  # None when the same files were already staged
    tag: str
    commit: str
    email: Path
    stage: StageInfo  # what the pipeline records: the files committed, the tag, when the vote opened


def render_vote_email(vote: VoteEmail) -> str:
    """The candidate's email for the dev list, headers first: the `[VOTE]`, or for a project that does
    not vote a call to test it. Pure."""
    closes = vote.closes.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    listing = "\n".join(f"  {name}\n    sha512: {digest}" for name, digest in vote.files)
    shipped = "\n".join(f"  {name} {version}" for name, version in vote.distributions)
    shipped_text = f"It releases these distributions:\n\n{shipped}\n\n" if vote.distributions else ""
    if vote.policy == ASF:
        subject = f"[VOTE] Release {vote.project} {vote.final} from {vote.candidate}"
        opening = (f"This is a call for a vote on releasing {vote.project} {vote.final}, from release "
                   f"candidate {vote.candidate}.")
        where = (f"The files to vote on are revision {vote.revision} in Apache Trusted Releases:"
                 if vote.revision else "The files to vote on are in svn:")
        ask = (f"The vote is open for at least {VOTE_HOURS} hours, until {closes}, and passes with at least "
               "three\n")
        ask += """binding +1 votes and more binding +1 than -1 votes. Please vote:

[ ] +1 approve the release
[ ] +0 no opinion
[ ] -1 do not release, because ...

Only PMC members' votes are binding; everyone is welcome to check the candidate and vote
(mark such votes "non-binding")."""
    else:
        subject = f"{vote.project} {vote.candidate}: release candidate of {vote.final}, ready for testing"
        opening = f"Release candidate {vote.candidate} of {vote.project} {vote.final} is ready for testing."
        where = (f"Its files are revision {vote.revision} in Apache Trusted Releases:" if vote.revision
                 else "Its files are in svn:")
        ask = f"Please try it and reply with anything that should stop {vote.final} from being released."
    return f"""To: {recipient(vote.mailing_list, "mailing-list")}
Subject: {subject}

Hello everyone,

{opening}

{shipped_text}{where}

  {vote.svn_url}

{listing}

Every file comes with a detached signature (.asc) and its checksum (.sha512). They were signed with
the key {vote.fingerprint}; the public keys of the release managers are in:

  {vote.keys_url}

The candidate was built from git tag {vote.tag}
(commit {vote.commit}); building that commit again gives the same bytes.

{ask}

{notes_text(vote.final, vote.release_notes)}
"""


def staged_files(directory: Path, names: Sequence[str], recorded: Mapping[str, str]) -> list[Path]:
    """The svn files with their .asc and .sha512, unchanged since the build and sign steps recorded them."""
    paths = []
    for name in names:
        for path in (directory / name, directory / f"{name}.asc", directory / f"{name}.sha512"):
            if not path.is_file():
                raise RefusedError(f"{path} is missing; build and sign the candidate first")
            expected = recorded.get(path.relative_to(directory).as_posix())
            if sha512_of(path) != expected:
                raise RefusedError(f"{path} changed since it was built or signed; build and sign again")
            paths.append(path)
    return paths


def _same_folder(url: str, files: Sequence[Path]) -> bool:
    with tempfile.TemporaryDirectory(prefix="release-staged-") as work:
        there = svn.export(url, Path(work) / "staged")
        present = sorted(p.relative_to(there).as_posix() for p in there.rglob("*") if p.is_file())
        return present == sorted(p.name for p in files) and all(
            sha512_of(there / p.name) == sha512_of(p) for p in files)


@dataclass(frozen=True)
class SignedCandidate:
    """A built and signed candidate as its record holds it: what staging commits or uploads."""

    version: ReleaseVersion
    directory: Path  # dist/<rc>
    artefacts: tuple[str, ...]  # the voted files, relative to `directory` (svn/...)
    files: tuple[Path, ...]  # the voted files with their .asc and .sha512, unchanged since recorded
    signer: str  # the fingerprint that signed them
    commit: str  # the commit they were built from
    release_notes: str
    distributions: tuple[tuple[str, str], ...]  # (name, version voted on)
    stage: StageInfo | None  # what an earlier staging recorded

    @property
    def folder(self) -> Path:
        """dist/<rc>/svn: the files a PMC member checks."""
        return self.directory / "svn"


def signed_candidate(config: ReleaseConfig, version: ReleaseVersion, *, fingerprint: str | None = None,
                     planned: Sequence[str] | None = None) -> SignedCandidate:
    """The candidate `version` as built and signed in dist/<rc>/, refused when it is not a candidate,
    not built and signed (by `fingerprint`, when given), or changed since; `planned`: the only files
    the plan stages (ATR's upload)."""
    if not version.is_rc:
        raise RefusedError(f"{version} is not a release candidate; stage one like {version.final}rc1")
    directory = release_dir(config.root, str(version))
    record = load_record(directory, str(version))
    if not (record.is_done("build") and record.is_done("sign")) or record.build is None:
        raise RefusedError(f"{directory}: build and sign {version} before staging it")
    signer = str(record.steps["sign"].produced["key"])
    if fingerprint is not None and fingerprint.replace(" ", "").upper() != signer:
        raise RefusedError(f"the files were signed with {signer}, not {fingerprint}")
    artefacts = [e.path for e in record.files_in("svn")]
    recorded = {**{n: e.sha512 for n, e in record.files.items()},
                **{n: e.sha512 for n, e in record.signatures.items()}}
    files = staged_files(directory, artefacts, recorded)
    if planned is not None and sorted(p.name for p in files) != sorted(planned):
        raise RefusedError(f"{directory / 'svn'} holds {', '.join(sorted(p.name for p in files))}, but the "
                           f"plan uploads {', '.join(planned)}; build and sign {version} again")
    distributions = tuple(sorted(record.distributions().items())) or ((config.name, str(version.final)),)
    return SignedCandidate(version, directory, tuple(artefacts), tuple(files), signer, record.build.commit,
                           record.build.release_notes, distributions, record.stage)


def _tag(config: ReleaseConfig, candidate: SignedCandidate, progress: Progress) -> str:
    """The git tag of the candidate (`rc` itself) on the commit it was built from."""
    version, commit = candidate.version, candidate.commit
    tag = str(version)
    if git.ensure_tag(config.root, tag, commit, f"{config.project} {version} ({describe(version)})"):
        progress(f"tagged {commit[:12]} as {tag} (push it: git push origin {tag})")
    return tag


@dataclass(frozen=True)
class Committed:
    """Where the candidate's files are in svn dev/, and the revision that committed them."""

    url: str
    revision: int | None  # None when the same files were already staged
    tag: str


def commit_candidate(config: ReleaseConfig, candidate: SignedCandidate, *, svn_dev_url: str,
                     progress: Progress = to_log) -> Committed:
    """Tag the candidate's commit and commit its files to `<svn_dev_url>/<name>/<rc>/` (not again when
    that folder holds these very files; refused when it holds others)."""
    target = candidate.version
    tag = _tag(config, candidate, progress)
    url = svn.join(svn_dev_url, config.name, str(target))
    files = candidate.files
    revision: int | None = None
    if svn.exists(url):
        if not _same_folder(url, files):
            raise RefusedError(f"{url} already exists with other files; a new candidate needs a new rc "
                               f"number (or remove that folder if it was never announced)")
        progress(f"{url} already holds these files; not committing again")
    else:
        with tempfile.TemporaryDirectory(prefix="release-stage-") as work:
            folder = Path(work) / str(target)
            folder.mkdir()
            for path in files:
                shutil.copyfile(path, folder / path.name)
            revision = svn.import_folder(folder, url, f"Stage {config.project} {target} for the vote")
        progress(f"committed {len(files)} files to {url} (r{revision})")
    return Committed(url, revision, tag)


def write_vote_email(config: ReleaseConfig, candidate: SignedCandidate, committed: Committed, *,
                     keys_url: str, now: datetime | None = None, progress: Progress = to_log) -> StageResult:
    """Write the candidate's email into dist/<rc>/; the stage entry for the pipeline to record (a rerun
    that committed nothing keeps the opening and the revision recorded before)."""
    target, url, revision = candidate.version, committed.url, committed.revision
    moment = now or datetime.now(timezone.utc)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if revision is None and candidate.stage is not None and candidate.stage.opened:
        # a rerun that committed nothing: the vote opened when these files were staged, and a vote
        # result counts from then (a later opening would leave the votes cast since uncounted)
        moment = datetime.fromisoformat(candidate.stage.opened)
    files = candidate.files
    voted = {Path(a).name for a in candidate.artefacts}
    vote = VoteEmail(
        project=config.project, final=str(target.final), candidate=str(target),
        mailing_list=config.mailing_list, svn_url=url,
        files=tuple((p.name, sha512_of(p)) for p in files if p.name in voted),
        fingerprint=candidate.signer, keys_url=keys_url, tag=committed.tag, commit=candidate.commit,
        release_notes=candidate.release_notes,
        closes=moment + timedelta(hours=VOTE_HOURS),
        distributions=candidate.distributions,
        policy=config.vote)
    email = candidate.directory / email_name(config)
    write_atomic(email, render_vote_email(vote))
    missing = missing_recipient(config.mailing_list, "mailing-list", email)
    if missing:
        progress(missing)
    # a rerun that committed nothing keeps the revision an earlier run committed
    kept = revision if revision is not None or candidate.stage is None else candidate.stage.revision
    staged = StageInfo(url, committed.tag, candidate.commit, candidate.signer, keys_url,
                       {p.name: sha512_of(p) for p in files}, vote.closes.isoformat(), kept,
                       opened=moment.isoformat())
    progress(f"{'vote' if config.votes else 'candidate'} email written to {email}")
    return StageResult(str(target), url, revision, committed.tag, candidate.commit, email, staged)


# --- staging in Apache Trusted Releases ---------------------------------------------------------------


@dataclass(frozen=True)
class AtrUploaded:
    """The candidate's files in ATR: the revision they make, what this run uploaded."""

    release: str  # the release in ATR (the final version)
    revision: str
    uploaded: tuple[str, ...]
    already_there: tuple[str, ...]
    tag: str
    commit: str
    signer: str
    files: Mapping[str, str]  # name -> sha512 of what is in the revision


def upload_to_atr(config: ReleaseConfig, candidate: SignedCandidate, plan: AtrPlan, client: Atr, *,
                  keys_text: str, progress: Progress = to_log) -> AtrUploaded:
    """The candidate's files (the plan's, unchanged since they were built and signed) uploaded to its
    release in ATR as a revision, the git tag set, the signing key in ATR's committee, and the plan's
    check ignores kept there. Files already in the latest revision with the same bytes are not
    uploaded again."""
    tag = _tag(config, candidate, progress)
    files = candidate.files
    upload = compose_in_atr(plan, client, files, keys_text=keys_text, signer=candidate.signer,
                            progress=progress)
    return AtrUploaded(plan.release, upload.revision, upload.uploaded, upload.already_there, tag,
                       candidate.commit, candidate.signer, {p.name: sha512_of(p) for p in files})


def compose_in_atr(plan: AtrPlan, client: Atr, files: Sequence[Path], *, keys_text: str, signer: str,
                   progress: Progress = to_log) -> Upload:
    """`files` uploaded to the plan's release in ATR as a revision (created as a draft when it is not
    there), after the signing key is in ATR's committee (from KEYS) and the plan's check ignores are
    kept there; files in the latest revision with the same bytes are not uploaded again."""
    client.upload_keys(keys_text, [signer])
    for name in plan.ignores:
        client.add_ignore(ignore_named(name))
    client.create_release(plan.release)
    upload = client.upload(plan.release, files)
    if not upload.uploaded:
        progress(f"ATR: {plan.where} revision {upload.revision} already holds these {len(files)} files")
    return upload


def check_in_atr(plan: AtrPlan, client: Atr, revision: str, *, progress: Progress = to_log) -> CheckReport:
    """ATR's checks of `revision`, waited for; a VerificationError naming each blocking result (the
    check and the file), warnings shown."""
    report = client.wait_for_checks(plan.release, revision)
    for check in report.warnings:
        progress(f"warning: ATR: {check}")
    if report.blockers:
        found = "; ".join(str(check) for check in report.blockers)
        raise VerificationError(f"ATR's checks of {plan.where} revision {revision} fail: {found}; no vote "
                                "was started: fix the tree and build a new candidate")
    return report


@dataclass(frozen=True)
class AtrVote:
    stage: StageInfo  # what vote-result and promote read, as for svn
    started: bool  # False: a vote was already running or done
    email: Path
    mail_warnings: tuple[str, ...] = ()


def split_email(text: str) -> tuple[str, str]:
    """(subject, body) of an email rendered with its To: and Subject: headers first."""
    head, _, body = text.partition("\n\n")
    subject = next((line.partition(":")[2].strip() for line in head.splitlines()
                    if line.lower().startswith("subject:")), "")
    return subject, body


def vote_in_atr(config: ReleaseConfig, version: ReleaseVersion, plan: AtrPlan, client: Atr,
                uploaded: AtrUploaded, *, url: str, keys_url: str, now: datetime | None = None,
                progress: Progress = to_log) -> AtrVote:
    """Render the vote email (dist/<rc>/vote-email.txt) and start ATR's vote on the uploaded
    revision with it; a vote running or done is not started again, and keeps its opening time."""
    if not plan.email_to:
        raise ConfigError("ATR sends the vote email: set [tool.release] mailing-list")
    directory = release_dir(config.root, str(version))
    record = load_record(directory, str(version))
    if record.build is None:
        raise RefusedError(f"{directory}: build and sign {version} before staging it")
    earlier = record.stage if record.stage is not None and record.stage.url == url else None
    moment = now or datetime.now(timezone.utc)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if earlier is not None and earlier.opened:
        moment = datetime.fromisoformat(earlier.opened)  # the vote opened when it was first started
    voted = {Path(e.path).name for e in record.files_in("svn")}
    vote = VoteEmail(
        project=config.project, final=str(version.final), candidate=str(version),
        mailing_list=plan.email_to, svn_url=url,
        files=tuple((name, digest) for name, digest in sorted(uploaded.files.items()) if name in voted),
        fingerprint=uploaded.signer, keys_url=keys_url, tag=uploaded.tag, commit=uploaded.commit,
        release_notes=record.build.release_notes, closes=moment + timedelta(hours=VOTE_HOURS),
        distributions=tuple(sorted(record.distributions().items())) or ((config.name, str(version.final)),),
        policy=config.vote, revision=uploaded.revision)
    email = directory / email_name(config)
    text = render_vote_email(vote)
    write_atomic(email, text)
    subject, body = split_email(text)
    started = client.start_vote(plan.release, uploaded.revision, email_to=plan.email_to, subject=subject,
                                body=body)
    if started.revision != uploaded.revision:
        raise RefusedError(f"the vote in {plan.where} runs on revision {started.revision}, not on "
                           f"{uploaded.revision} (these files): a new candidate needs a new release in ATR")
    stage = StageInfo(url, uploaded.tag, uploaded.commit, uploaded.signer, keys_url, dict(uploaded.files),
                      vote.closes.isoformat(), int(uploaded.revision), opened=moment.isoformat())
    progress(f"vote {'started' if started.started else 'already running or done'} in {plan.where} on "
             f"revision {uploaded.revision}; its email is in {email}")
    return AtrVote(stage, started.started, email, started.mail_warnings)
