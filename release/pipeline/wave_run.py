# SPDX-License-Identifier: Apache-2.0
"""A wave's run, executed from its plan: the executor walks `WavePlan.steps` (build, sign, the PMC
checks when the project checks its sources, stage, tags, index, vote email; plan/wave.py) in order,
each through its runner in `RUNNERS`, as `pipeline/release.execute` walks a release's. A flat train's
wave (the providers) and a versioned train's (Airflow's core: a folder per release) run the same
steps; the plan names where each file is staged (`svn_dev`) and which tags go on the commit.

A runner takes the run (the wave as planned, its commit, the target, `wave.json` as it stands) and
what earlier steps produced, and returns what it produced. Only the executor writes `wave.json`:
what each product records (`files` and `source_date_epoch`, `signed` and `signer`, `staged`,
`tags`: the keys `vote-result`, `promote`, `publish`, `verify`, `announce` and `cleanup` read;
`candidates_published`: the rc-numbered packages put on the index; `constraints_tags`: the
constraints branch, its commit, the candidate's constraints tag and the files on it) and, under
`steps`, every step done. A failing step stops the run with what came before it recorded; a rerun
walks the steps again, each keeping what is done (the built files when unchanged, correct
signatures, svn files there with the same bytes, the tags, the rc-numbered packages the index
holds with the same bytes), so the wave stays at its rc numbers, nothing is committed, tagged or
uploaded twice. The build puts the voted files (final versions) in `svn/` and each distribution's
rc-numbered sdist and wheel in `pypi/`; only `svn/`'s are signed and staged.

A train staging in ATR runs ATR's steps in place of `stage` (`atr-upload`: the files into the
wave's ATR release as a revision; `atr-checks`: ATR's checks waited for, a blocker stopping the run;
`atr-vote`: the vote started there with the vote email) with ATR's client (`atr`); it records
`staged` (ATR's vote page, the files, when) and `atr` (the release, the revision, the vote started).

`build_wave` (`invoke build --train`) is the plan's build step alone, through the same executor.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from release.adapters import svn
from release.adapters.atr import vote_url
from release.adapters.clients import Atr, Clients, Index
from release.adapters.git import commit_files, commit_time, ensure_tag, holds_files, tag_commit
from release.config import ReleaseConfig
from release.emails import WaveVoteEmail, missing_recipient, render_wave_vote_email
from release.errors import RefusedError, ReleaseError, VerificationError
from release.pipeline.connect import Target
from release.pipeline.release import Announce
from release.pipeline.wave_images import (
    build_images,
    constraints_of,
    image_entries,
    planned,
    provenance_record,
    pushed_digests,
    wave_images,
    wave_wheels,
)
from release.pipeline.wave_record import (
    VOTE_EMAIL,
    WAVE_RECORD,
    Wave,
    read_record,
    wave_directory,
    wave_lock,
    write_record,
)
from release.plan.atr import AtrPlan, plan_wave_atr
from release.plan.provenance import lookaside_url
from release.plan.release import CONSTRAINTS_DIR, PlannedImage
from release.plan.verify_report import FileCheck, failed_checks
from release.plan.wave import (
    SIGNATURES,
    WavePlan,
    WaveStep,
    WaveStepName,
    candidate_tags,
    constraints_on_branch,
    dev_folders,
)
from release.progress import Progress
from release.record import ReleaseRecord, sha512_of, write_atomic
from release.steps.attest import sign_images
from release.steps.build import build_wave as build_files
from release.steps.build import check_packages, package_builder
from release.steps.provenance import publish_provenance
from release.steps.publish import upload_packages
from release.steps.sbom import write_sboms
from release.steps.sign import sign_files, sign_record, signing_key
from release.steps.verify import check_contents
from release.steps.vote import check_in_atr, compose_in_atr, split_email
from release.trains import SvnLayout
from release.votes import earliest_close

INDEX_FOLDER = "pypi"  # dist/<train>-<date>/pypi/: the rc-numbered packages for the index, beside svn/


class Product(Protocol):
    """What a step produced; `recorded()`: what the executor writes of it into wave.json."""

    step: ClassVar[WaveStepName]

    def recorded(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class WaveBuild:
    step: ClassVar[WaveStepName] = WaveStepName.BUILD
    directory: Path
    commit: str
    files: dict[str, str]  # path under the wave's directory -> sha512
    reused: bool  # built by an earlier run, unchanged since
    source_date_epoch: int | None = None  # of a build made now

    def recorded(self) -> dict[str, Any]:
        """Nothing for the files an earlier run built; a new build starts the record again."""
        return {} if self.reused else {"source_date_epoch": self.source_date_epoch, "files": self.files}


@dataclass(frozen=True)
class Signed:
    step: ClassVar[WaveStepName] = WaveStepName.SIGN
    files: dict[str, str]  # each .asc and .sha512 written or kept, under the wave's directory -> sha512
    signer: str  # the key's fingerprint

    def recorded(self) -> dict[str, Any]:
        return {"signed": dict(self.files), "signer": self.signer}


@dataclass(frozen=True)
class Checked:
    step: ClassVar[WaveStepName] = WaveStepName.PMC_CHECKS
    files: tuple[str, ...]  # the files the PMC checks passed

    def recorded(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Staged:
    step: ClassVar[WaveStepName] = WaveStepName.STAGE
    url: str  # the project's folder in svn dev
    folders: tuple[str, ...]  # the folders in it the files are in: a flat train's one, a versioned one's each
    revision: int | None  # the commit made now (None: every file was there with these bytes already)
    files: tuple[str, ...]  # by their path under `url`
    at: str  # when the wave was first staged: its vote runs from then
    earlier_revision: int | None = None  # the commit a run before staged them in

    def recorded(self) -> dict[str, Any]:
        revision = self.revision if self.revision is not None else self.earlier_revision
        return {"staged": {"url": self.url, "revision": revision, "files": list(self.files), "at": self.at}}


@dataclass(frozen=True)
class Tagged:
    step: ClassVar[WaveStepName] = WaveStepName.TAGS
    tags: tuple[str, ...]  # every tag of the wave, on its commit
    created: tuple[str, ...]  # those set now

    def recorded(self) -> dict[str, Any]:
        return {"tags": list(self.tags)}


@dataclass(frozen=True)
class VoteEmailWritten:
    step: ClassVar[WaveStepName] = WaveStepName.VOTE_EMAIL
    path: Path

    def recorded(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class OnIndex:
    step: ClassVar[WaveStepName] = WaveStepName.INDEX
    index: str  # where they went (the index's upload URL)
    uploaded: tuple[str, ...]  # the rc-numbered sdists and wheels uploaded now
    kept: tuple[str, ...]  # those the index held with the same bytes already

    def recorded(self) -> dict[str, Any]:
        return {"candidates_published": {"index": self.index, "files": sorted([*self.uploaded, *self.kept])}}


@dataclass(frozen=True)
class ConstraintsTagged:
    """The wave's constraints files on its constraints branch, that commit tagged for the candidate."""

    step: ClassVar[WaveStepName] = WaveStepName.CONSTRAINTS_TAGS
    branch: str
    commit: str  # the branch's commit holding the files, which the tag names
    tag: str  # the candidate's constraints tag, e.g. constraints-3.3.3rc1
    files: tuple[str, ...]  # by their name at the branch's root
    committed: bool  # a commit made now (False: the branch, or the tag, held these files already)
    tagged: bool  # the tag set now

    def recorded(self) -> dict[str, Any]:
        return {"constraints_tags": {"branch": self.branch, "commit": self.commit, "tag": self.tag,
                                     "files": list(self.files)}}


@dataclass(frozen=True)
class StagedInAtr:
    """The wave's files in its ATR release, one revision: what the vote will be on."""

    step: ClassVar[WaveStepName] = WaveStepName.ATR_UPLOAD
    release: str  # the release in ATR (plan/wave.py: wave_atr_release)
    revision: str  # the latest revision, holding every file of the wave
    vote_page: str  # ATR's public page of the release's vote, which the vote email names
    files: tuple[str, ...]  # the files in the revision, by name
    uploaded: tuple[str, ...]  # those uploaded now (the others were there with the same bytes)
    at: str  # when the wave was first staged: its vote runs from then

    def recorded(self) -> dict[str, Any]:
        return {"staged": {"url": self.vote_page, "files": list(self.files), "at": self.at},
                "atr": {"release": self.release, "revision": self.revision}}


@dataclass(frozen=True)
class CheckedInAtr:
    step: ClassVar[WaveStepName] = WaveStepName.ATR_CHECKS
    revision: str
    warnings: tuple[str, ...]  # ATR's warnings, shown (nothing blocked)

    def recorded(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class VoteInAtr:
    step: ClassVar[WaveStepName] = WaveStepName.ATR_VOTE
    release: str
    revision: str  # the revision the vote runs on
    started: bool  # False: it was running (or done) already
    mail_warnings: tuple[str, ...] = ()  # what ATR said when sending the vote email failed

    def recorded(self) -> dict[str, Any]:
        return {"atr": {"release": self.release, "revision": self.revision, "vote_started": True}}


@dataclass(frozen=True)
class ImagesPushed:
    """A versioned train's images, built from the wave's voted wheels, smoked and pushed."""

    step: ClassVar[WaveStepName] = WaveStepName.IMAGES
    repository: str  # registry/image
    candidate: str  # the lead candidate the tags name (3.3.3rc1)
    version: str  # the voted version the images install (3.3.3)
    images: dict[str, dict[str, Any]]  # key -> the release record's image entry (ref, digest, inputs)
    smoke: dict[str, list[str]]  # tag -> the smoke checks it passed

    def recorded(self) -> dict[str, Any]:
        return {"images": {"repository": self.repository, "candidate": self.candidate,
                           "version": self.version, "pushed": dict(self.images), "smoke": dict(self.smoke)}}


@dataclass(frozen=True)
class ConstraintsWritten:
    step: ClassVar[WaveStepName] = WaveStepName.CONSTRAINTS
    files: dict[str, dict[str, str]]  # constraints/constraints-P.txt -> its sha512, flavour, variant, image
    signed: dict[str, str]  # its .asc and .sha512 -> sha512

    def recorded(self) -> dict[str, Any]:
        return {"constraints": dict(self.files), "constraints_signed": dict(self.signed)}


@dataclass(frozen=True)
class SbomsWritten:
    step: ClassVar[WaveStepName] = WaveStepName.SBOM
    sboms: dict[str, dict[str, Any]]  # path under provenance/ -> the release record's SBOM entry
    signed: dict[str, str]  # each one's .asc and .sha512 -> sha512

    def recorded(self) -> dict[str, Any]:
        return {"sboms": dict(self.sboms), "sboms_signed": dict(self.signed)}


@dataclass(frozen=True)
class ImagesSigned:
    step: ClassVar[WaveStepName] = WaveStepName.ATTEST
    signatures: dict[str, dict[str, Any]]  # path under provenance/ -> the release record's signature entry
    lookaside: str  # the svn tree they were committed to ("": staging in ATR, none)

    def recorded(self) -> dict[str, Any]:
        return {"image_signatures": dict(self.signatures), "lookaside": self.lookaside}


@dataclass(frozen=True)
class ProvenanceAttached:
    step: ClassVar[WaveStepName] = WaveStepName.PROVENANCE
    record: str  # the signed copy of wave.json, under the wave's directory
    sha512: str
    attached: dict[str, str]  # image digest -> the artifact's tag (sha256-<hex>.att)
    kept: tuple[str, ...]  # the digests whose artifact was there with the same content

    def recorded(self) -> dict[str, Any]:
        return {"provenance": {"record": self.record, "sha512": self.sha512, "attached": dict(self.attached)}}


P = TypeVar("P", WaveBuild, Signed, Checked, Staged, Tagged, OnIndex, VoteEmailWritten, StagedInAtr,
            CheckedInAtr, VoteInAtr, ConstraintsTagged, ImagesPushed, ConstraintsWritten, SbomsWritten,
            ImagesSigned, ProvenanceAttached)


@dataclass
class WaveRunning:
    """A wave's run under way: what its runners read, and what its steps produced so far."""

    config: ReleaseConfig
    wave: Wave
    target: Target | None  # None for a build alone
    say: Progress
    key: str = ""  # --sign-with; else the target's signing key
    recorded: dict[str, Any] = field(default_factory=dict)  # wave.json as it stands, kept by the executor
    produced: dict[WaveStepName, Product] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)  # the steps this run did, in order
    index: Index | None = None  # the target's package index, for the rc-numbered packages
    atr: Atr | None = None  # with ATR: its client, for the ATR steps
    clients: Clients | None = None  # the target's clients, for the images and their constraints

    @property
    def plan(self) -> WavePlan:
        return self.wave.plan

    @property
    def directory(self) -> Path:
        return wave_directory(self.config, self.plan)

    def earlier(self, kind: type[P]) -> P:
        """What the earlier step of `kind` produced in this run (the plan puts it first)."""
        found = self.produced.get(kind.step)
        if not isinstance(found, kind):
            raise ReleaseError(f"the {kind.step.value} step of the wave runs before this one")
        return found

    def needs_target(self) -> Target:
        if self.target is None:
            raise ReleaseError("this step of the wave runs against a target; a build alone has none")
        return self.target

    def needs_clients(self) -> Clients:
        if self.clients is None:
            raise ReleaseError("the images of the wave are built with the target's clients")
        return self.clients

    def needs_atr(self) -> tuple[Atr, AtrPlan]:
        """ATR's client and its part of the wave (the release, the files, the lists)."""
        if self.atr is None or not self.plan.atr_release:
            raise ReleaseError("the ATR steps of the wave run with ATR's client, for a train staging in ATR")
        voted = [p for p in staged_files(self.plan, self.directory) if not p.endswith(SIGNATURES)]
        return self.atr, plan_wave_atr(self.config, self.plan.atr_release, voted)


Runner = Callable[[WaveRunning], Product]


def _build(run: WaveRunning) -> WaveBuild:
    """The wave's files built into dist/<train>-<date>/svn/ (the voted ones) and pypi/ (the
    rc-numbered ones for the index) from the commit it was planned at and checked with twine; an
    earlier run's from the same commit kept when unchanged, another refused."""
    plan, commit, directory = run.plan, run.wave.commit, run.directory
    recorded = run.recorded
    if recorded and recorded.get("commit") != commit:
        earlier = str(recorded.get("commit"))[:12]
        raise RefusedError(f"{directory} holds the wave built from {earlier}, HEAD is {commit[:12]}; "
                           f"move {directory} away to build the wave again")
    wanted = [f"svn/{plan.source_tarball}"] + [f"svn/{f}" for e in plan.entries for f in e.files
                                                 if not f.endswith((".asc", ".sha512"))]
    wanted += [f"{INDEX_FOLDER}/{f}" for e in plan.entries for f in e.index_files]
    built = recorded.get("files", {}) if isinstance(recorded.get("files"), dict) else {}
    if sorted(built) == sorted(wanted) and all(
            (directory / p).is_file() and sha512_of(directory / p) == h for p, h in built.items()):
        run.say(f"{len(built)} files of the wave are built already in {directory} (sha512 as recorded)")
        return WaveBuild(directory, commit, dict(built), True)
    log = directory / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    epoch = commit_time(run.config.root, commit)
    with tempfile.TemporaryDirectory(prefix=".wave-", dir=directory) as work:
        with package_builder(epoch, log) as builder:
            files = build_files(run.config.root, commit, plan, out=Path(work) / "svn", builder=builder,
                                progress=run.say, candidates=Path(work) / INDEX_FOLDER)
        run.say("twine check --strict")
        check_packages([f for f in files if not f.name.endswith("-source.tar.gz")])
        placed = [directory / path.parent.name / path.name for path in files]
        for path, target in zip(files, placed):
            target.parent.mkdir(exist_ok=True)
            path.replace(target)
    found = {path.relative_to(directory).as_posix(): sha512_of(path) for path in placed}
    run.say(f"built {len(found)} files into {directory / 'svn'} and {directory / INDEX_FOLDER} (the build "
            f"backends' output: {log})")
    return WaveBuild(directory, commit, found, False, epoch)


def _sign(run: WaveRunning) -> Signed:
    built = run.earlier(WaveBuild)
    target = run.needs_target()
    keys = built.directory / ".keys" / "KEYS"
    keys.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(keys, svn.read_text(target.keys_url))
    info = signing_key(run.key or target.signing_key, keys_file=keys, gnupghome=target.gnupghome)
    voted = [built.directory / p for p in sorted(built.files) if p.startswith("svn/")]  # not the index's
    entries = sign_files(voted, built.directory,
                         key=info.fingerprint, gnupghome=target.gnupghome)
    return Signed({e.path: e.sha512 for e in entries}, info.fingerprint)


def staged_files(plan: WavePlan, directory: Path) -> dict[str, Path]:
    """Each file of the wave (with its .asc and .sha512) by its path under the project's dev folder
    (`providers/apache_airflow_providers_http-6.3.1.tar.gz`), and where it is in the wave's directory."""
    paths = [p for e in plan.entries for p in e.svn_dev]
    paths += [plan.source_dev + suffix for suffix in ("", ".asc", ".sha512")]
    return {p: directory / "svn" / p.rsplit("/", 1)[-1] for p in paths}


def _signed_files(run: WaveRunning) -> dict[str, Path]:
    """The wave's files to stage, all there: built and signed."""
    files = staged_files(run.plan, run.earlier(WaveBuild).directory)
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise RefusedError(f"{missing[0]} is missing; build and sign the wave again")
    return files


def check_wave_contents(config: ReleaseConfig, folder: Path, plan: WavePlan) -> None:
    """Refuse, before anything is committed, a wave whose source release, sdists or wheels fail a PMC
    member's checks by hand, naming every file and what it lacks."""
    names = [name for e in plan.entries for name in e.files if not name.endswith((".asc", ".sha512"))]
    names += [plan.source_tarball] if plan.source_tarball else []
    checks: dict[str, FileCheck] = {}
    check_contents(folder, sorted(names), config, checks)
    failed = failed_checks(checks)
    if failed:
        raise VerificationError(f"the {plan.train} wave of {plan.date} fails the PMC checks, nothing was "
                                f"staged: {' | '.join(failed)}; fix the tree (or [tool.release] "
                                "license-excludes) and build the wave again")


def _check(run: WaveRunning) -> Checked:
    files = _signed_files(run)
    check_wave_contents(run.config, run.earlier(WaveBuild).directory / "svn", run.plan)
    return Checked(tuple(sorted(files)))


def _stage(run: WaveRunning) -> Staged:
    files = _signed_files(run)
    plan = run.plan
    url = svn.join(run.needs_target().svn_dev, run.config.name)
    names = ", ".join(f"{e.name} {e.candidate}" for e in plan.entries)
    revision = svn.put_files(url, files, f"Stage the {plan.train} wave of {plan.date}: {names}")
    folders = tuple(svn.join(url, folder) for folder in dev_folders(plan))
    run.say(f"{len(files)} files in {', '.join(folders)} "
            + (f"(revision {revision})" if revision is not None else "(there already)"))
    found = run.recorded.get("staged")
    earlier: dict[str, Any] = found if isinstance(found, dict) else {}
    return Staged(url, folders, revision, tuple(sorted(files)), _staged_at(run), earlier.get("revision"))


def _staged_at(run: WaveRunning) -> str:
    """When the wave was first staged (a rerun keeps it: the vote runs from then), else now."""
    found = run.recorded.get("staged")
    earlier = found.get("at") if isinstance(found, dict) else None
    return str(earlier or datetime.now(timezone.utc).isoformat())


def _atr_upload(run: WaveRunning) -> StagedInAtr:
    """The wave's files, as built and signed, into its release in ATR as a revision (the signing key
    put in the committee's keys from KEYS first, the plan's ignores kept); what ATR holds with the
    same bytes is not uploaded again, other bytes are refused."""
    files = _signed_files(run)
    client, plan = run.needs_atr()
    atr_target = run.needs_target().atr
    if atr_target is None:
        raise ReleaseError("the ATR steps of the wave run against a target with ATR")
    keys = (run.earlier(WaveBuild).directory / ".keys" / "KEYS").read_text(encoding="utf-8")
    upload = compose_in_atr(plan, client, sorted(files.values()), keys_text=keys,
                            signer=run.earlier(Signed).signer, progress=run.say)
    run.say(f"{len(files)} files in {plan.where}, revision {upload.revision} ({len(upload.uploaded)} "
            "uploaded now)")
    page = vote_url(atr_target.url, atr_target.project, plan.release)
    return StagedInAtr(plan.release, upload.revision, page,
                       tuple(sorted(p.name for p in files.values())), upload.uploaded, _staged_at(run))


def _atr_checks(run: WaveRunning) -> CheckedInAtr:
    client, plan = run.needs_atr()
    staged = run.earlier(StagedInAtr)
    report = check_in_atr(plan, client, staged.revision, progress=run.say)
    return CheckedInAtr(staged.revision, tuple(str(c) for c in report.warnings))


def _atr_vote(run: WaveRunning) -> VoteInAtr:
    """ATR's vote started on the staged revision with the wave's vote email; a vote running or done
    is not started again, and one on another revision is refused."""
    client, plan = run.needs_atr()
    staged = run.earlier(StagedInAtr)
    subject, body = split_email(run.earlier(VoteEmailWritten).path.read_text(encoding="utf-8"))
    started = client.start_vote(plan.release, staged.revision, email_to=plan.email_to, subject=subject,
                                body=body)
    if started.revision != staged.revision:
        raise RefusedError(f"the vote in {plan.where} runs on revision {started.revision}, not on "
                           f"{staged.revision} (this wave's files): a new candidate needs a new wave")
    run.say(f"vote {'started' if started.started else 'already running or done'} in {plan.where} on "
            f"revision {staged.revision}")
    return VoteInAtr(plan.release, staged.revision, started.started, started.mail_warnings)


def _tags(run: WaveRunning) -> Tagged:
    plan, commit = run.plan, run.wave.commit
    wanted = candidate_tags(plan)
    created = [tag for tag, what in wanted
               if ensure_tag(run.config.root, tag, commit, f"Release candidate: {what}")]
    run.say(f"tagged {commit[:12]}: {', '.join(tag for tag, _ in wanted)}")
    return Tagged(tuple(tag for tag, _ in wanted), tuple(created))


def _constraints_tags(run: WaveRunning) -> ConstraintsTagged:
    """The constraints files the wave's images installed (dist/<train>-<date>/constraints/, written by
    the constraints step) committed to the root of the train's constraints branch, without touching
    the work tree, the index or HEAD (a new commit only when they differ from its tip), and that
    commit tagged with the candidate's constraints tag. A rerun changes nothing; a tag there already
    must hold these very files (a tag is never moved)."""
    plan, root = run.plan, run.config.root
    refs = plan.constraints
    if refs is None:
        raise ReleaseError("the constraints tags step runs for a train with constraints refs")
    folder = run.directory / CONSTRAINTS_DIR
    names = constraints_on_branch(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else ()
    if not names:
        raise RefusedError(f"{folder} holds no constraints files (constraints-P.txt) to tag {refs.tag} on: "
                           "the wave's constraints step writes them from its images; run the wave again")
    files = {name: (folder / name).read_bytes() for name in names}
    existing = tag_commit(root, refs.tag)
    if existing is not None:
        if not holds_files(root, existing, files):
            raise RefusedError(f"git tag {refs.tag} names {existing[:12]}, which holds other constraints "
                               f"files than {folder}; a tag is never moved")
        run.say(f"{refs.tag} names {existing[:12]} on {refs.branch} with these {len(files)} files already")
        return ConstraintsTagged(refs.branch, existing, refs.tag, names, False, False)
    what = ", ".join(f"{e.name} {e.candidate}" for e in plan.entries)
    commit, committed = commit_files(root, refs.branch, files, f"Constraints of {what}")
    tagged = ensure_tag(root, refs.tag, commit, f"Constraints of {what}")
    run.say(f"{len(files)} constraints files on {refs.branch} at {commit[:12]}"
            + (" (a new commit)" if committed else " (its tip held them)") + f", tagged {refs.tag}")
    return ConstraintsTagged(refs.branch, commit, refs.tag, names, committed, tagged)


def _on_index(run: WaveRunning) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The index and each candidate's (name, rc version) there, when the plan put them on it."""
    if run.index is None or not isinstance(run.produced.get(WaveStepName.INDEX), OnIndex):
        return "", ()
    return run.index.shown_simple, tuple((e.name, str(e.candidate)) for e in run.plan.entries)


def _vote_email(run: WaveRunning) -> VoteEmailWritten:
    config, plan, target = run.config, run.plan, run.needs_target()
    train = config.train(plan.train)
    folders: tuple[str, ...]
    in_atr = run.produced.get(WaveStepName.ATR_UPLOAD)
    if isinstance(in_atr, StagedInAtr):  # ATR sends it: to its list, naming its vote page
        folders, at, revision = (in_atr.vote_page,), in_atr.at, in_atr.revision
        to = run.needs_atr()[1].email_to
    else:
        staged = run.earlier(Staged)
        folders, at, revision = staged.folders, staged.at, ""
        to = config.mailing_list
    email = run.directory / VOTE_EMAIL
    write_atomic(email, render_wave_vote_email(WaveVoteEmail(
        config.project, plan.train, plan.date, to, plan.vote_lines, folders,
        plan.source_tarball, run.earlier(Signed).signer, target.keys_url, run.wave.commit,
        run.earlier(Tagged).tags, earliest_close(datetime.fromisoformat(at), train.vote.hours),
        train.vote.hours, train.vote.binding, *_on_index(run), together=train.svn is SvnLayout.VERSIONED,
        atr_revision=revision, images=tuple(f"{ref}@{digest}" for ref, digest in _pushed(run).items()))))
    if revision:
        run.say(f"the vote email is {email}; ATR sends it to {to} when the vote starts")
        return VoteEmailWritten(email)
    run.say(f"the vote email is {email}; send it to {config.mailing_list or 'the dev list'}")
    if line := missing_recipient(config.mailing_list, "mailing-list", email):
        run.say(line)
    return VoteEmailWritten(email)


def built_files(directory: Path, folder: str, names: Iterable[str], recorded: Mapping[str, str], *,
                fix: str) -> list[Path]:
    """`names` in the wave's `folder` (svn/, pypi/), each checked against the sha512 its build recorded
    (`recorded`: path under the wave's directory -> sha512); the first missing or changed one is
    refused, saying `fix`."""
    paths = [directory / folder / name for name in names]
    for path in paths:
        if not path.is_file() or sha512_of(path) != recorded.get(f"{folder}/{path.name}"):
            raise RefusedError(f"{path} is missing or not what was built; {fix}")
    return paths


def _index(run: WaveRunning) -> OnIndex:
    """Each distribution's rc-numbered sdist and wheel, as built, to the target's index, one project
    at a time (`upload_packages`): what the index holds with the same bytes is skipped, a file it
    holds with other bytes refused (a version is never reused)."""
    built, target = run.earlier(WaveBuild), run.needs_target()
    if run.index is None:
        raise ReleaseError("the index step of the wave runs with the target's package index")
    uploaded: list[str] = []
    kept: list[str] = []
    for entry in run.plan.entries:
        paths = built_files(built.directory, INDEX_FOLDER, entry.index_files, built.files,
                            fix="build the wave again (move its folder away)")
        for result in upload_packages(run.index, entry.name, paths, twine_env=target.twine_env,
                                      progress=run.say):
            (uploaded if result.uploaded else kept).append(result.filename)
    run.say(f"{len(uploaded)} rc-numbered files uploaded to {run.index.shown_upload}, {len(kept)} there "
            "already")
    return OnIndex(run.index.shown_upload, tuple(uploaded), tuple(kept))


def _images(run: WaveRunning) -> ImagesPushed:
    """The train's images (the project's image settings at the lead candidate's version) built from
    the wave's voted wheels of the distributions they install, each checked against the sha512 its
    build recorded, smoked, then pushed; an image a run before pushed from the same inputs is kept."""
    target, clients, built = run.needs_target(), run.needs_clients(), run.earlier(WaveBuild)
    images = wave_images(run.config, run.plan, target.registry)
    if planned(images) != run.plan.images:
        raise ReleaseError(f"the images planned now ({', '.join(i.tag for i in images)}) are not the wave's")
    wheels = built_files(built.directory, "svn", wave_wheels(run.config, run.plan), built.files,
                         fix="build the wave again (move its folder away)")
    found = run.recorded.get("images")
    earlier = found.get("pushed") if isinstance(found, dict) else None
    results, reports = build_images(run.config, run.plan, images, clients, wheels=wheels,
                                    commit=run.wave.commit,
                                    recorded=earlier if isinstance(earlier, dict) else {}, say=run.say)
    run.say(f"pushed {', '.join(f'{r.ref}@{r.digest}' for r in results)}")
    lead = run.plan.entries[0]
    entries = _kept(image_entries(results), earlier if isinstance(earlier, dict) else {})
    return ImagesPushed(target.repository(run.config.image), str(lead.candidate), str(lead.version), entries,
                        {r.ref.rpartition(":")[2]: [c.name for c in r.checks if c.ok and not c.skipped]
                         for r in reports})


def _kept(entries: dict[str, dict[str, Any]], earlier: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each image's entry; one a run before pushed (the same digest from the same inputs) keeps that
    run's entry, with the local image id a reuse from the registry does not know: what wave.json says
    of it, and so the provenance attached to it, stays the same."""
    def same(key: str, entry: Mapping[str, Any]) -> bool:
        found = earlier.get(key)
        return isinstance(found, dict) and all(found.get(k) == entry[k] for k in ("digest", "input_hash"))

    return {key: dict(earlier[key]) if same(key, entry) else entry for key, entry in entries.items()}


def _constraints(run: WaveRunning) -> ConstraintsWritten:
    """What each pushed image installed, written into dist/<train>-<date>/constraints/ as the single
    release writes it, each with its .asc and .sha512 by the key that signed the wave."""
    target, directory = run.needs_target(), run.directory
    images = wave_images(run.config, run.plan, target.registry)
    pushed = run.earlier(ImagesPushed).images
    entries = constraints_of(run.config, run.plan, images, pushed, directory, run.needs_clients(),
                             say=run.say)
    signed = sign_files([directory / e.path for e in entries], directory, key=run.earlier(Signed).signer,
                        gnupghome=target.gnupghome)
    return ConstraintsWritten({e.path: {"sha512": e.sha512, "flavour": e.flavour, "variant": e.variant,
                                        "image": e.image} for e in entries},
                              {e.path: e.sha512 for e in signed})


def _provenance_of(run: WaveRunning
                   ) -> tuple[Target, Clients, list[PlannedImage], dict[str, str], ReleaseRecord]:
    """What the provenance steps read: the target, its clients, the wave's images, each one's pushed
    digest (by key) and the provenance record (`provenance_record`) as wave.json stands."""
    target, clients = run.needs_target(), run.needs_clients()
    pushed = run.earlier(ImagesPushed)
    record = provenance_record(run.directory, run.recorded, pushed.candidate)
    return (target, clients, list(wave_images(run.config, run.plan, target.registry)),
            pushed_digests(pushed.images), record)


def _sbom(run: WaveRunning) -> SbomsWritten:
    """A CycloneDX SBOM of each pushed image, as the single release writes them (`write_sboms`: read
    inside the image pulled by its digest), into the wave's provenance/sbom/, signed by the wave's key;
    one written before for the same digest, unchanged and signed, is kept."""
    target, clients, images, digests, record = _provenance_of(run)
    written = write_sboms(record, images, digests, repository=run.earlier(ImagesPushed).repository,
                          key=run.earlier(Signed).signer, gnupghome=target.gnupghome, engine=clients.engine,
                          progress=run.say)
    return SbomsWritten({w.entry.path: asdict(w.entry) for w in written},
                        {s.path: s.sha512 for w in written for s in w.signatures})


def _attest(run: WaveRunning) -> ImagesSigned:
    """Each pushed image digest signed by the wave's key (`sign_images`: simple signing, binding the
    candidate tag), into the wave's provenance/image-signatures/ and, staging in svn, the project's
    lookaside tree in svn dev, as a single candidate's are."""
    target, clients, images, digests, record = _provenance_of(run)
    lookaside = None if run.plan.atr_release else lookaside_url(target.svn_dev, run.config.name)
    entries = sign_images(record, images, digests, registry=clients.registry, image=run.config.image,
                          key=run.earlier(Signed).signer, gnupghome=target.gnupghome, lookaside=lookaside,
                          progress=run.say)
    return ImagesSigned({e.path: asdict(e) for e in entries}, lookaside or "")


def _so_far(run: WaveRunning) -> dict[str, Any]:
    """wave.json as the steps of this run done so far recorded it: what a rerun's later steps (the
    index, the constraints tags) added left out, so that a rerun's copy says what the first one said."""
    keys = {"train", "date", "commit", "files", "source_date_epoch"}
    keys |= {key for product in run.produced.values() for key in product.recorded()}
    done = [step.value for step in run.produced]
    return {**{k: v for k, v in run.recorded.items() if k in keys}, "steps": done}


Sign = Callable[[Path, str, "Path | None"], None]  # the record, the key, its gnupghome: X.asc and X.sha512


def _sign_record(path: Path, key: str, gnupghome: Path | None) -> None:
    sign_record(path, key=key, gnupghome=gnupghome)  # signed again: the copy changes with wave.json


def attach_provenance(run: WaveRunning, sign: Sign = _sign_record) -> ProvenanceAttached:
    """wave.json as this run's steps so far recorded it (the images, their SBOMs and signatures;
    `_so_far`) copied to provenance/wave.json and signed (`sign`: gpg's, as a release signs its record), then
    attached with each image's SBOM and its signature to the image digest (`publish_provenance`: an OCI
    artifact tagged sha256-<hex>.att); an artifact there with the same content (the record compared
    without its steps) is kept."""
    target, clients, images, digests, record = _provenance_of(run)
    write_record(record.path, _so_far(run))
    sign(record.path, run.earlier(Signed).signer, target.gnupghome)
    attached = publish_provenance(record, images, digests, registry=clients.registry, image=run.config.image,
                                  svn_folder=None, signature=True, progress=run.say)
    return ProvenanceAttached(record.path.relative_to(run.directory).as_posix(), sha512_of(record.path),
                              {a.subject: a.tag for a in attached},
                              tuple(a.subject for a in attached if a.unchanged))


RUNNERS: dict[WaveStepName, Runner] = {
    WaveStepName.BUILD: _build, WaveStepName.SIGN: _sign, WaveStepName.PMC_CHECKS: _check,
    WaveStepName.STAGE: _stage, WaveStepName.TAGS: _tags, WaveStepName.INDEX: _index,
    WaveStepName.VOTE_EMAIL: _vote_email, WaveStepName.ATR_UPLOAD: _atr_upload,
    WaveStepName.ATR_CHECKS: _atr_checks, WaveStepName.ATR_VOTE: _atr_vote,
    WaveStepName.CONSTRAINTS_TAGS: _constraints_tags,
    WaveStepName.IMAGES: _images, WaveStepName.CONSTRAINTS: _constraints,
    WaveStepName.SBOM: _sbom, WaveStepName.ATTEST: _attest, WaveStepName.PROVENANCE: attach_provenance,
}


def _execute(run: WaveRunning, steps: Sequence[WaveStep], runners: Mapping[WaveStepName, Runner],
             announce: Announce) -> None:
    """Each step through its runner, in order; what it produced recorded in wave.json before the next."""
    path = run.directory / WAVE_RECORD
    for step in steps:
        announce(step.name.value, step.does)
        produced = runners[step.name](run)
        run.produced[step.name] = produced
        run.recorded = _recording(run, step.name, produced)
        write_record(path, run.recorded)
        run.steps.append(step.name.value)


def _recording(run: WaveRunning, step: WaveStepName, produced: Product) -> dict[str, Any]:
    """wave.json once `step` is done: its product's values, and the step among those done."""
    values = produced.recorded()
    if step is WaveStepName.BUILD and values:  # a new build: what the record said of the old one is gone
        recorded: dict[str, Any] = {"train": run.plan.train, "date": run.plan.date, "commit": run.wave.commit,
                                    **values}
    else:
        recorded = {**run.recorded, **values}
    done = {*(recorded.get("steps") or ()), step.value}
    return {**recorded, "steps": [s.name.value for s in run.plan.steps if s.name.value in done]}


def build_wave(config: ReleaseConfig, wave: Wave, *, say: Progress,
               runners: Mapping[WaveStepName, Runner] | None = None) -> WaveBuild:
    """`invoke build --train`: the wave's build step alone (`_build`), recorded in wave.json (the
    commit, each file's sha512). Refused for a wave with nothing in it, before anything is created."""
    plan = wave.plan
    if not plan.entries:
        raise RefusedError(f"nothing to build in train {plan.train}: no distribution changed since its last "
                           "release (`--dry-run` shows why each one stays out)")
    with wave_lock(config, plan):
        run = WaveRunning(config, wave, None, say,
                          recorded=read_record(wave_directory(config, plan) / WAVE_RECORD))
        build = [s for s in plan.steps if s.name is WaveStepName.BUILD]
        _execute(run, build, {**RUNNERS, **(runners or {})}, lambda name, does: None)
    return run.earlier(WaveBuild)


@dataclass(frozen=True)
class WaveRun:
    build: WaveBuild
    signed: tuple[str, ...]  # the .asc and .sha512 written or kept, under the wave's directory
    staged: tuple[str, ...]  # the svn folders the files went to (with ATR: its vote page)
    revision: int | None  # its commit (None: every file was there with these bytes already, or ATR)
    tags: tuple[str, ...]  # created now
    steps: tuple[str, ...]
    on_index: OnIndex | None = None  # the rc-numbered packages, when the plan puts them on the index
    atr: StagedInAtr | None = None  # with ATR: the release and revision the vote runs on
    constraints: ConstraintsTagged | None = None  # a versioned train's constraints branch and tag
    images: dict[str, str] = field(default_factory=dict)  # a versioned train's images: ref -> digest


def check_can_run(config: ReleaseConfig, wave: Wave) -> None:
    """Refuse, before anything starts (the sandbox included), a wave with nothing in it."""
    plan = wave.plan
    if not plan.entries:
        raise RefusedError(f"nothing to release in train {plan.train}: no distribution changed since its "
                           "last release (`--dry-run` shows why each one stays out)")


def run_wave(config: ReleaseConfig, wave: Wave, target: Target, *, announce: Announce, say: Progress,
             key: str = "", runners: Mapping[WaveStepName, Runner] | None = None,
             index: Index | None = None, atr: Atr | None = None, clients: Clients | None = None) -> WaveRun:
    """A wave's run: the steps of its plan, in order, each recorded in wave.json as it is
    done; a rerun keeps what is done. `runners` stand in for some steps' own (the executor's unit
    tests replace the steps that run git, the build backends, gpg and svn); `index` is the target's
    package index, where the index step puts the rc-numbered packages; `atr` ATR's client, for a
    train staging there; `clients` the target's clients, for a train's images."""
    check_can_run(config, wave)
    with wave_lock(config, wave.plan):
        run = WaveRunning(config, wave, target, say, key,
                          read_record(wave_directory(config, wave.plan) / WAVE_RECORD), index=index, atr=atr,
                          clients=clients)
        _execute(run, wave.plan.steps, {**RUNNERS, **(runners or {})}, announce)
    on_index = run.produced.get(WaveStepName.INDEX)
    folders: tuple[str, ...]
    in_atr = run.produced.get(WaveStepName.ATR_UPLOAD)
    if isinstance(in_atr, StagedInAtr):
        folders, revision = (in_atr.vote_page,), None
    else:
        staged = run.earlier(Staged)
        folders, revision = staged.folders, staged.revision
    constraints = run.produced.get(WaveStepName.CONSTRAINTS_TAGS)
    return WaveRun(run.earlier(WaveBuild), tuple(run.earlier(Signed).files), folders, revision,
                   run.earlier(Tagged).created, tuple(run.steps),
                   on_index if isinstance(on_index, OnIndex) else None,
                   in_atr if isinstance(in_atr, StagedInAtr) else None,
                   constraints if isinstance(constraints, ConstraintsTagged) else None, _pushed(run))


def _pushed(run: WaveRunning) -> dict[str, str]:
    found = run.produced.get(WaveStepName.IMAGES)
    if not isinstance(found, ImagesPushed):
        return {}
    return {str(e["ref"]): str(e["digest"]) for e in found.images.values()}


def run_to_json(wave: Wave, done: WaveRun) -> dict[str, Any]:
    """What a wave's run did, for `--json`."""
    return {"train": wave.plan.train, "date": wave.plan.date, "commit": wave.commit,
            "steps": list(done.steps), "files": done.build.files, "signatures": list(done.signed),
            "staged": list(done.staged), "revision": done.revision, "tags_created": list(done.tags),
            "candidates": [f"{e.name} {e.candidate}" for e in wave.plan.entries],
            "candidates_published": (done.on_index.recorded()["candidates_published"]
                                     if done.on_index else None),
            "atr": done.atr.recorded()["atr"] if done.atr else None,
            "constraints_tags": done.constraints.recorded()["constraints_tags"] if done.constraints else None,
            "images": done.images}
