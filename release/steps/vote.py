# SPDX-License-Identifier: Apache-2.0
"""Stage a release candidate in svn dev/, tag it in git, and write its email: the `[VOTE]` for a
project whose releases a PMC votes on (`vote = "asf"`), else a call to test it (`vote = "none"`).

Before anything is committed the candidate's files pass the checks PMC members make by hand
(LICENSE, NOTICE, headers, binaries, wheels against sdists), when the project's policy has them;
after the commit, what svn holds is verified exactly as a voter would (`invoke verify`), and only
then is the email written.
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
from release.config import ASF, ReleaseConfig
from release.emails import missing_recipient, notes_text, recipient
from release.errors import RefusedError, VerificationError
from release.progress import Progress, to_log
from release.record import StageInfo, load_record, release_dir, sha512_of, write_atomic
from release.steps.verify import CandidateRejected, check_release_files, verify_candidate
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


@dataclass(frozen=True)
class StageResult:
    version: str
    url: str
    revision: int | None  # None when the same files were already staged
    tag: str
    commit: str
    email: Path


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
        where = "The files to vote on are in svn:"
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
        where = "Its files are in svn:"
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


def stage_release(config: ReleaseConfig, version: ReleaseVersion, *, svn_dev_url: str,
                  keys_url: str, fingerprint: str | None = None, now: datetime | None = None,
                  progress: Progress = to_log) -> StageResult:
    """Commit `dist/<rc>/svn/*` to `<svn_dev_url>/<name>/<rc>/`, tag the commit, write the vote email."""
    target = version
    if not target.is_rc:
        raise RefusedError(f"{target} is not a release candidate; stage one like {target.final}rc1")
    directory = release_dir(config.root, str(target))
    record = load_record(directory, str(target))
    if not (record.is_done("build") and record.is_done("sign")):
        raise RefusedError(f"{directory}: build and sign {target} before staging it")
    signer = str(record.steps["sign"].produced["key"])
    if fingerprint is not None and fingerprint.replace(" ", "").upper() != signer:
        raise RefusedError(f"the files were signed with {signer}, not {fingerprint}")
    artefacts = [e.path for e in record.files_in("svn")]
    recorded = {**{n: e.sha512 for n, e in record.files.items()},
                **{n: e.sha512 for n, e in record.signatures.items()}}
    files = staged_files(directory, artefacts, recorded)
    assert record.build is not None  # the build step is done
    commit = record.build.commit
    if config.checks_sources:
        progress("checking LICENSE and NOTICE, license headers, binaries and the wheels before staging")
        _check_contents(config, directory / "svn", str(target.final))
    tag = str(target)
    if git.ensure_tag(config.root, tag, commit, f"{config.project} {target} ({describe(target)})"):
        progress(f"tagged {commit[:12]} as {tag} (push it: git push origin {tag})")
    url = svn.join(svn_dev_url, config.name, str(target))
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
    progress(f"verifying {url} as a voter would")
    try:
        verify_candidate(config, target, svn_dev_url=svn_dev_url, keys_url=keys_url, repo_root=config.root,
                         commit=commit, progress=progress)
    except CandidateRejected as exc:
        raise VerificationError(f"{url} fails verification ({', '.join(exc.report.failed)}); no vote email "
                                f"was written: remove it (svn rm {url}) and stage a new candidate") from None
    moment = now or datetime.now(timezone.utc)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if revision is None and record.stage is not None and record.stage.opened:
        # a rerun that committed nothing: the vote opened when these files were staged, and a vote
        # result counts from then (a later opening would leave the votes cast since uncounted)
        moment = datetime.fromisoformat(record.stage.opened)
    vote = VoteEmail(
        project=config.project, final=str(target.final), candidate=str(target),
        mailing_list=config.mailing_list, svn_url=url,
        files=tuple((p.name, sha512_of(p)) for p in files if p.name in {Path(a).name for a in artefacts}),
        fingerprint=signer, keys_url=keys_url, tag=tag, commit=commit,
        release_notes=record.build.release_notes,
        closes=moment + timedelta(hours=VOTE_HOURS),
        distributions=tuple(sorted(record.distributions().items())) or ((config.name, str(target.final)),),
        policy=config.vote)
    email = directory / email_name(config)
    write_atomic(email, render_vote_email(vote))
    missing = missing_recipient(config.mailing_list, "mailing-list", email)
    if missing:
        progress(missing)
    # a rerun that committed nothing keeps the revision an earlier run committed
    kept = revision if revision is not None or record.stage is None else record.stage.revision
    record.set_stage(StageInfo(url, tag, commit, signer, keys_url, {p.name: sha512_of(p) for p in files},
                               vote.closes.isoformat(), kept, opened=moment.isoformat()))
    record.step_done("stage", {"url": url, "revision": kept})
    progress(f"{'vote' if config.votes else 'candidate'} email written to {email}")
    return StageResult(str(target), url, revision, tag, commit, email)


def _check_contents(config: ReleaseConfig, folder: Path, final: str) -> None:
    """Refuse, before anything is committed, a candidate that fails a PMC member's checks by hand."""
    checks = check_release_files(folder, config, final)
    failed = [f"{name}: {'; '.join(check.problems)}" for name, check in sorted(checks.items())
              if check.problems]
    if failed:
        raise VerificationError(f"the candidate fails the PMC checks, nothing was staged: "
                                f"{' | '.join(failed)}; fix the tree (or [tool.release] license-excludes) "
                                "and build a new candidate")
