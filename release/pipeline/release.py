# SPDX-License-Identifier: Apache-2.0
"""Execute a release plan: walk `plan.steps`, each step doing what the plan says, and report it.

Publishing order keeps users safe: images under immutable tags first, then packages (read back
and compared), and only when both hold the moving aliases, decided again from what the registry
and the index hold at that moment. Each step's runner records what the step produced in
dist/<V>/release.json (the build, sign and sbom steps return it, pipeline/recording.py records it),
so rerunning the same command after a failure continues from there. With several platforms the
images go under their platforms' helper tags, the `index` step puts one index per flavour over
them, and the version tags and aliases are set to the indexes; each platform's image gets its own
SBOM, signature and attached record, and each index its own signature and attached record.

After `invoke promote`, `invoke publish` ships the voted files (Mode.PROMOTED): dist/<V>/ holds the
svn files the vote passed and their copies for the index; they are checked against the sha512
recorded when the candidate was staged, the images install those wheels, and nothing is rebuilt
or signed again. A runner that publishes a final promoted on another machine has no dist/<V>/:
it takes the voted files from svn release/ (Mode.FROM_RELEASE), then ships them alike.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release import locks
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError, ReleaseError
from release.pipeline import preflight as preflight_facts
from release.pipeline.connect import Target, clients_for, connect
from release.pipeline.preflight import start_over as start_over
from release.pipeline.recording import record_build, record_sboms, record_signed
from release.pipeline.state import observe, observe_or_empty
from release.plan.atr import AtrPlan, constraints_attached
from release.plan.preflight import Options as PreflightOptions
from release.plan.preflight import Problem, one_commit, preflight
from release.plan.provenance import lookaside_url
from release.plan.release import (
    Mode,
    ReleasePlan,
    StepName,
    TagAction,
    TargetState,
    Upload,
    alias_differences,
    distribution_of,
    plan_release,
    replan_aliases,
    unvoted_final,
)
from release.plan.tags import split_platform, version_tag
from release.progress import Progress
from release.record import (
    IndexEntry,
    ReleaseRecord,
    TagEntry,
    load_record,
    record_of,
    release_dir,
    sha512_of,
    write_atomic,
)
from release.versions import ReleaseVersion

if TYPE_CHECKING:
    from release.steps.build import BuildResult
    from release.steps.sbom import WrittenSbom
    from release.steps.sign import SignResult
    from release.steps.smoke import SmokeReport
    from release.steps.vote import AtrUploaded

Announce = Callable[[str, str], None]


@dataclass(frozen=True)
class RunOptions:
    flavours: tuple[str, ...]
    platforms: tuple[str, ...] = ()  # () = every configured platform
    jobs: int = 0  # images built at once; 0: as many as the machine has room for
    sign_with: str = ""
    force: frozenset[str] = frozenset()
    allow_dirty: bool = False
    restart: bool = False  # a release built from a commit HEAD has left, nothing published: build it again


@dataclass
class ReleaseReport:
    """What a run did, in the plan's terms, so the two can be compared."""

    version: str
    steps: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # path under dist/<V>/ -> sha512
    images: dict[str, str] = field(default_factory=dict)  # version tag (flavour, variant) -> digest
    uploads: dict[str, str] = field(default_factory=dict)  # filename -> upload | skip
    tags: dict[str, TagEntry] = field(default_factory=dict)
    replanned: list[str] = field(default_factory=list)  # why the aliases differ from the plan
    platforms: dict[str, dict[str, str]] = field(default_factory=dict)  # flavour -> platform -> digest

    def to_json(self) -> dict[str, Any]:
        tags = {t: {"python": e.flavour, "digest": e.digest, "previous": e.previous, "action": e.action}
                for t, e in self.tags.items()}
        moved = {t: v for t, v in tags.items() if v["action"] == "move"}
        found = {"version": self.version, "steps": self.steps, "files": self.files, "images": self.images,
                 "uploads": self.uploads, "tags": tags, "moved": moved, "replanned": self.replanned}
        if self.platforms:
            # several platforms come without variants: each index is under the flavour's version tag
            found["indexes"] = {p: {"digest": self.images.get(version_tag(self.version, p)), "platforms": d}
                                for p, d in self.platforms.items()}
        return found


@dataclass
class Run:
    plan: ReleasePlan
    config: ReleaseConfig
    target: Target
    options: RunOptions
    say: Progress
    report: ReleaseReport
    clients: Clients
    digests: dict[str, str] = field(default_factory=dict)  # version tag -> digest
    pushed_now: set[str] = field(default_factory=set)
    platform_images: dict[str, str] = field(default_factory=dict)  # helper tag -> digest pushed now
    atr_uploaded: AtrUploaded | None = None  # staging = "atr": the candidate's revision in ATR
    steps: Steps = field(default_factory=lambda: Steps())  # defined below, with the runners

    @property
    def directory(self) -> Path:
        return release_dir(self.config.root, str(self.plan.version))

    @property
    def record(self) -> ReleaseRecord:
        """Read afresh: build, sign, sbom, attest and constraints still write the record themselves."""
        return load_record(self.directory, str(self.plan.version))

    @property
    def signing_key(self) -> str:
        return self.options.sign_with or self.target.signing_key


def fetch_keys(target: Target, directory: Path) -> Path:
    """The project's KEYS file, as published, next to the release (signing checks against it)."""
    from release.adapters import svn

    keys = directory / "KEYS"
    keys.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(keys, svn.read_text(target.keys_url))
    return keys


class Steps:
    """The steps that run local programs (git and the build backend, gpg, svn, the engine's
    probes), called as the plan and the run say; each returns what it produced, and its runner
    records that. The executor's unit tests hand `execute` in-memory ones (tests/unit/memory.py)."""

    def build(self, run: Run) -> BuildResult:
        # A rerun finishes the release from the commit it was built from, wherever HEAD is now.
        from release.steps.build import build_release

        built = run.record.build
        return build_release(run.config, run.plan.version, allow_dirty=run.options.allow_dirty,
                             commit=built.commit if built else None, planned=run.plan.artefacts,
                             progress=run.say)

    def sign(self, run: Run) -> SignResult:
        from release.steps.sign import sign_release

        keys = fetch_keys(run.target, run.directory.parent / ".keys" / str(run.plan.version))
        return sign_release(run.config, run.plan.version, keys_file=keys, key=run.signing_key,
                            gnupghome=run.target.gnupghome, planned=run.plan.artefacts, progress=run.say)

    def sboms(self, run: Run) -> list[WrittenSbom]:
        from release.steps.sbom import write_sboms

        return write_sboms(run.record, run.plan.images, image_digests(run), repository=run.plan.repository,
                           key=run.signing_key, gnupghome=run.target.gnupghome, engine=run.clients.engine,
                           progress=run.say)


def _build(run: Run) -> None:
    record_build(run.record, run.steps.build(run))


def _sign(run: Run) -> None:
    record_signed(run.record, run.steps.sign(run))


def _stage(run: Run) -> None:
    from release.pipeline.stage import stage_in_svn

    stage_in_svn(run.config, run.plan.version, svn_dev_url=run.target.svn_dev, keys_url=run.target.keys_url,
                 progress=run.say)


def _atr_plan(run: Run) -> AtrPlan:
    if run.plan.atr is None or run.target.atr is None:
        raise ConfigError(f"{run.config.root / 'pyproject.toml'}: the plan stages in ATR, but no ATR is "
                          "configured ([tool.release] staging = \"atr\" and atr)")
    return run.plan.atr


def _atr_upload(run: Run) -> None:
    from release.pipeline.stage import upload_candidate

    plan = _atr_plan(run)
    keys = fetch_keys(run.target, run.directory.parent / ".keys" / str(run.plan.version))
    uploaded = upload_candidate(run.config, run.plan.version, plan, run.clients.atr,
                                keys_text=keys.read_text(encoding="utf-8"), progress=run.say)
    run.atr_uploaded = uploaded
    run.record.step_done("atr-upload", {"release": plan.release, "revision": uploaded.revision,
                                        "uploaded": list(uploaded.uploaded)})


def _uploaded(run: Run) -> AtrUploaded:
    if run.atr_uploaded is None:  # the plan puts atr-upload first
        raise ReleaseError("ATR's checks and vote need the candidate uploaded first (the atr-upload step)")
    return run.atr_uploaded


def _atr_checks(run: Run) -> None:
    from release.steps.vote import check_in_atr

    revision = _uploaded(run).revision
    report = check_in_atr(_atr_plan(run), run.clients.atr, revision, progress=run.say)
    run.record.step_done("atr-checks", {"revision": revision, "checks": len(report.checks),
                                        "warnings": len(report.warnings), "ignored": len(report.ignored)})


def _atr_vote(run: Run) -> None:
    from release.adapters import atr
    from release.pipeline.recording import record_stage
    from release.steps.vote import vote_in_atr

    plan, uploaded = _atr_plan(run), _uploaded(run)
    assert run.target.atr is not None  # _atr_plan checked it
    url = atr.vote_url(run.target.atr.url, plan.project, plan.release)
    vote = vote_in_atr(run.config, run.plan.version, plan, run.clients.atr, uploaded, url=url,
                       keys_url=run.target.keys_url, progress=run.say)
    record = run.record
    record_stage(record, vote.stage)
    record.step_done("atr-vote", {"revision": uploaded.revision, "started": vote.started,
                                  "mail_warnings": list(vote.mail_warnings)})


def _atr_finish(run: Run) -> None:
    from release.steps.announce import finish_in_atr

    plan = _atr_plan(run)
    tags = sorted(run.report.tags, key=lambda t: (t in {a.tag for a in run.plan.aliases}, t))
    finished = finish_in_atr(run.config, run.plan.version, plan, run.clients.atr,
                             keys_url=run.target.keys_url, index_url=run.target.index_simple,
                             repository=run.target.repository(run.config.image), tags=tags, progress=run.say)
    run.record.step_done("atr-finish", {"release": plan.release, "finished_now": finished})


def _atr_distributions(run: Run) -> None:
    from release.steps.announce import record_distributions

    found = record_distributions(_atr_plan(run), run.clients.atr, progress=run.say)
    run.record.step_done("atr-distributions", {
        "recorded": [r.distribution.platform + ":" + r.distribution.package for r in found if r.recorded],
        "warnings": [r.warning for r in found if not r.recorded]})


def voted_files(record: ReleaseRecord, rc_record: ReleaseRecord) -> list[str]:
    """What in dist/<V>/ is not the file the vote passed: each recorded file must exist with the
    sha512 recorded for its name when the candidate was staged. Empty when all hold."""
    voted = dict(rc_record.stage.files) if rc_record.stage else {}
    wrong = []
    for path, entry in sorted(record.files.items()):
        name = Path(path).name
        on_disk = record.directory / path
        if name not in voted or entry.sha512 != voted[name]:
            wrong.append(f"{path} was not voted on")
        elif not on_disk.is_file() or sha512_of(on_disk) != voted[name]:
            wrong.append(f"{path} changed since the vote")
    if not any(e.set == "pypi" for e in record.files.values()):
        wrong.append("no files for the index")
    return wrong


def _from_release(run: Run) -> None:
    from release.pipeline.recording import record_taken
    from release.steps.promote import take_released
    from release.steps.verify import check_release_folder

    final = str(run.plan.version)
    taken = take_released(run.config, run.plan.version, svn_release_url=run.target.svn_release,
                          keys_url=run.target.keys_url,
                          check=lambda folder, keys: check_release_folder(folder, run.config, final, keys),
                          progress=run.say)
    record = run.record
    record_taken(record, taken)
    if taken.left_alone:
        run.say(f"left alone in {taken.url} (not voted artefacts): {', '.join(taken.left_alone)}")
    record.step_done("from-release", {"from": taken.from_rc, "url": taken.url, "commit": taken.commit,
                                          "files": len(taken.files)})


def _voted(run: Run) -> None:
    record = run.record
    assert record.promotion is not None  # `execute` checked it
    rc = record.promotion.from_rc
    rc_record = record_of(run.config.root, rc)
    if rc_record.stage is None:
        raise RefusedError(f"dist/{rc}/release.json records no staged files to check {run.plan.version} "
                           "against; publish from the tree that staged and promoted it")
    wrong = voted_files(record, rc_record)
    if wrong:
        raise RefusedError(f"{record.directory}: {'; '.join(wrong)}; move that folder away and promote {rc} "
                           "again")
    run.say(f"{len(record.files)} files in {record.directory} are the ones voted on in {rc} "
            "(sha512 as staged)")
    record.step_done("voted", {"from": rc, "files": len(record.files)})


def _images(run: Run) -> None:
    from release.pipeline.images import image_job, ship
    from release.steps.images import ImageStatus

    record = run.record
    wheels = record.wheels()
    version = str(run.plan.version)
    # the commit the release was built from, not HEAD, which may have moved since (a rerun)
    job = image_job(run.config, run.plan.images, run.clients, version=version, wheels=wheels,
                    revision=record.build.commit if record.build else None, jobs=run.options.jobs,
                    recorded=record.images)
    results, reports = ship(run.config, job, run.clients, version=version, wheels=wheels, push=True,
                            say=run.say)
    for result in results:
        entry = result.record_entry()
        earlier = record.images.get(entry.key)
        # an image reused from the registry comes without an engine id: keep the one recorded for it
        if not entry.image_id and earlier is not None and earlier.digest == entry.digest:
            entry = dataclasses.replace(entry, image_id=earlier.image_id)
        record.put_image(entry)
        if result.planned.index_tag:  # one of several platforms: the index step joins them
            run.platform_images[result.tag] = result.digest or ""
            continue
        run.digests[result.tag] = result.digest or ""
        if result.status is not ImageStatus.REUSED:
            run.pushed_now.add(result.tag)
    record.step_done("images", {"smoke": {smoke_key(r, run.plan): r.ok for r in reports}})


def smoke_key(report: SmokeReport, plan: ReleasePlan) -> str:
    """A smoke verdict's name in the record: the image's version tag (`[VARIANT-]V-pythonP`), and
    its platform among several."""
    tag = report.ref.rpartition(":")[2]
    return f"{split_platform(tag)[0]} {report.platform}" if plan.multi_platform else tag


def _index(run: Run) -> None:
    from release.steps.index import put_indexes

    record = run.record
    if not run.plan.indexes:
        run.say(f"no index put: only {', '.join(run.plan.platforms)} of "
                f"{', '.join(run.config.image_platforms)} are built here; invoke publish joins them all")
        record.step_done("index", {})
        return
    hint = (f"push it (invoke images --version {run.plan.version} --python P --platform PLATFORM --push), "
            "then publish again")
    indexes = put_indexes(run.clients.registry, run.config.image, run.plan.indexes,
                          pushed=run.platform_images, hint=hint, progress=run.say)
    for planned in run.plan.indexes:
        index = indexes[planned.image.flavour]
        run.digests[planned.tag] = index.digest
        run.report.platforms[planned.image.flavour] = index.digests()
        record.put_index(IndexEntry(planned.image.flavour, planned.tag, index.digest, index.media_type,
                                    index.digests()))
    record.step_done("index", {"indexes": {p: i.digest for p, i in indexes.items()}})


def _push(run: Run) -> None:
    from release.steps import publish
    from release.steps.tags import apply_changes

    if not run.digests and not run.plan.multi_platform:  # a publish job: image jobs pushed the version tags
        run.digests = publish.image_digests(run.clients.registry, run.config.image,
                                            [image.tag for image in run.plan.images])
        for tag, digest in run.digests.items():
            run.say(f"{run.config.image}:{tag}@{digest}")
    run.report.images = dict(run.digests)
    done = apply_changes(run.clients.registry, run.config.image, run.plan.immutable, run.digests,
                         force=run.options.force, created_now=run.pushed_now, progress=run.say)
    run.report.tags.update((e.tag, e) for e in done)
    run.record.step_done("push", {"digests": run.digests})


def constraints_url(target: Target, version: ReleaseVersion) -> str:
    """Where a release's constraints are committed: svn dev for a pre-release, else svn release."""
    return target.svn_dev if version.is_prerelease else target.svn_release


def _constraints(run: Run) -> None:
    from release.steps.constraints import ImageToRead, publish_constraints, write_constraints
    from release.steps.sign import sign_files

    record = run.record
    digests = image_digests(run)  # with several platforms: the first platform's image of each flavour
    images = [ImageToRead(image, digests[image.key]) for image in run.plan.images if image.constraints]
    entries = write_constraints(record.directory, images, project=run.config.project,
                                version=str(run.plan.version), engine=run.clients.engine,
                                earlier=record.constraints, progress=run.say)
    record.add_signatures(sign_files([record.directory / e.path for e in entries], record.directory,
                                     key=run.signing_key, gnupghome=run.target.gnupghome))
    record.put_constraints(entries)
    url = ""
    if run.plan.atr is not None:  # nothing goes to svn: the provenance step attaches them to the images
        run.say(f"constraints signed in {record.directory / 'constraints'}; they go out attached to the "
                "images with the record")
    elif run.plan.mode is Mode.PUBLISH:  # a CI join; an svn commit takes the release manager's credentials
        run.say(f"constraints signed in {record.directory / 'constraints'}; the release manager commits them "
                f"to svn with: invoke constraints --version {run.plan.version}")
    else:
        published = publish_constraints(record, constraints_url(run.target, run.plan.version),
                                        run.config.name, str(run.plan.version), progress=run.say)
        record.put_constraints(published)
        url = published[0].url if published else ""
    record.step_done("constraints", {"url": url, "files": sorted(record.constraints)})


def check_constraints_go_to_svn(config: ReleaseConfig, version: ReleaseVersion) -> None:
    """Refuse `invoke constraints` for a project staging in ATR, before any service is reached: its
    constraints go out attached to the images."""
    if config.uses_atr:
        raise RefusedError(constraints_attached(version))


def publish_recorded_constraints(config: ReleaseConfig, version: ReleaseVersion, target: Target, *,
                                 say: Progress) -> str:
    """Commit the constraints a release recorded (by a CI publish job) to svn; `invoke constraints`.
    A project staging in ATR is refused: its constraints go out attached to the images."""
    from release.steps.constraints import publish_constraints

    check_constraints_go_to_svn(config, version)
    record = record_of(config.root, version)
    if not record.constraints:
        raise RefusedError(f"{record.directory}: the release records no constraints; the images' "
                           "constraints are written once they are pushed (invoke publish)")
    for entry in record.constraints.values():
        path = record.directory / entry.path
        if not path.is_file() or sha512_of(path) != entry.sha512:
            raise RefusedError(f"{path} is missing or changed since it was recorded")
    published = publish_constraints(record, constraints_url(target, version), config.name, str(version),
                                    progress=say)
    record.put_constraints(published)
    return published[0].url


def image_digests(run: Run) -> dict[str, str]:
    """Each image to attest by `PlannedImage.key` (`[VARIANT-]P`, or `P platform` among several
    platforms) with its digest: a version tag's from the push (`run.digests`, by version tag),
    each platform's image as the index step read it back, each index by its flavour."""
    found = {}
    for image in run.plan.attested:
        if image.index_tag:
            digest = run.report.platforms.get(image.image.flavour, {}).get(image.platform, "")
        else:
            digest = run.digests.get(image.tag, "")
        if digest:
            found[image.key] = digest
    return found


def _sbom(run: Run) -> None:
    record_sboms(run.record, run.steps.sboms(run))


def _svn_root(run: Run) -> str:
    """A candidate's provenance goes to svn dev/ (beside its folder), a final's to release/."""
    return run.target.svn_dev if run.plan.version.is_prerelease else run.target.svn_release


def _attest(run: Run) -> None:
    from release.steps.attest import sign_images

    # staging in ATR: no lookaside tree in svn, the provenance step attaches each signature to its image
    lookaside = lookaside_url(_svn_root(run), run.config.name) if run.plan.atr is None else None
    record = run.record
    entries = sign_images(record, run.plan.attested, image_digests(run), registry=run.clients.registry,
                          image=run.config.image, key=run.signing_key, gnupghome=run.target.gnupghome,
                          lookaside=lookaside, progress=run.say)
    for entry in entries:
        record.put_image_signature(entry)
    record.step_done("attest", {"signatures": {e.identity: e.digest for e in entries},
                                "lookaside": lookaside or ""})


def _provenance(run: Run) -> None:
    """After the record is signed: it goes out, and is not written again (its signature would break)."""
    from release.adapters import svn
    from release.steps.provenance import publish_provenance

    extra = {}
    if run.config.constraints:
        constraints = run.config.root / run.config.constraints
        extra[constraints.name] = constraints
    folder = None
    if not run.plan.version.is_prerelease and run.plan.atr is None:  # ATR's release area holds a final's
        folder = svn.join(run.target.svn_release, run.config.name, str(run.plan.version))
    publish_provenance(run.record, run.plan.attested, image_digests(run), registry=run.clients.registry,
                       image=run.config.image, svn_folder=folder, extra=extra,
                       in_atr=run.plan.atr is not None, progress=run.say)


def index_files(record: ReleaseRecord, uploads: Sequence[Upload]) -> list[Path]:
    """The plan's uploads as files of dist/<V>/pypi/, each recorded and unchanged since it was
    built (or promoted); the run refuses a planned file that is not there."""
    found = []
    for upload in uploads:
        entry = record.files.get(f"pypi/{upload.filename}")
        path = record.directory / "pypi" / upload.filename
        if entry is None or not path.is_file():
            raise RefusedError(f"{path} is planned for the index but not recorded in {record.path}; "
                               "build it again (move dist/ away)")
        if sha512_of(path) != entry.sha512:
            raise RefusedError(f"{path} changed since it was built and signed; move dist/ away and rebuild")
        found.append(path)
    return found


def _upload(run: Run) -> None:
    """The plan's uploads, every distribution's compared on its own project page of the index."""
    from release.steps import publish

    by_distribution: dict[str, list[Path]] = {}
    for path in index_files(run.record, run.plan.uploads):
        by_distribution.setdefault(distribution_of(path.name), []).append(path)
    uploads = []
    for name, files in by_distribution.items():
        uploads += publish.upload_packages(run.clients.index, name, files, twine_env=run.target.twine_env,
                                           progress=run.say)
    run.report.uploads = {u.filename: "upload" if u.uploaded else "skip" for u in uploads}
    run.record.step_done("upload", {"files": {u.filename: u.sha256 for u in uploads}})


def _aliases(run: Run) -> None:
    # Decided and moved under the project's alias lock, from what the registry and the index hold
    # now; the tag mover re-checks each alias right before it moves (runs from other checkouts).
    from release.steps.tags import apply_changes

    with locks.aliases(run.config.root / "dist", run.say):
        state = observe(run.config, run.plan.version, run.clients)
        now = replan_aliases(run.plan, run.config, state)
        for line in alias_differences(run.plan, now):
            run.say(f"re-planned: {line}")
            run.report.replanned.append(line)
        moving = [t.tag for t in now.aliases if t.action in {TagAction.CREATE, TagAction.MOVE}]
        run.say(f"aliases to point at {run.plan.version}: {', '.join(moving) or 'none'}")
        record = run.record
        for entry in apply_changes(run.clients.registry, run.config.image, now.aliases, run.digests,
                                   version=run.plan.version, progress=run.say):
            run.report.tags[entry.tag] = entry
            record.put_tag(entry)
    record.step_done("aliases", {"owns_latest": now.owns_latest, "owns_line": now.owns_line})


def _report(run: Run) -> None:
    from release.steps.sign import sign_record

    record = run.record
    for entry in run.report.tags.values():
        record.tags[entry.tag] = entry
    record.step_done("report")
    sign_record(record.path, key=run.signing_key, gnupghome=run.target.gnupghome)  # replaced on every rerun
    run.report.files = report_files(record, run.plan)


def report_files(record: ReleaseRecord, plan: ReleasePlan) -> dict[str, str]:
    """What the release wrote under dist/<V>/, path -> sha512, in the plan's terms (its artefacts
    and their companions): the recorded files of this plan's images, and the signed record."""
    images = {p for i in plan.attested for p in (i.sbom, i.signature) if p}
    files = {**{p: e.sha512 for p, e in record.files.items()},
             **{p: e.sha512 for p, e in record.constraints.items()},
             **{p: e.sha512 for p, e in record.signatures.items()
                if not p.startswith("sbom/") or e.of in images},
             **{p: e.sha512 for p, e in record.sboms.items() if p in images},
             **{p: e.sha512 for p, e in record.image_signatures.items() if p in images}}
    path = record.path
    for name in (path.name, f"{path.name}.asc", f"{path.name}.sha512"):
        files[name] = sha512_of(path.with_name(name))
    return dict(sorted(files.items()))


Runner = Callable[[Run], None]

RUNNERS: dict[StepName, Runner] = {
    StepName.VOTED: _voted, StepName.FROM_RELEASE: _from_release, StepName.BUILD: _build,
    StepName.SIGN: _sign, StepName.STAGE: _stage,
    StepName.IMAGES: _images, StepName.INDEX: _index, StepName.PUSH: _push,
    StepName.CONSTRAINTS: _constraints, StepName.SBOM: _sbom,
    StepName.ATTEST: _attest, StepName.UPLOAD: _upload, StepName.ALIASES: _aliases, StepName.REPORT: _report,
    StepName.PROVENANCE: _provenance, StepName.ATR_UPLOAD: _atr_upload, StepName.ATR_CHECKS: _atr_checks,
    StepName.ATR_VOTE: _atr_vote, StepName.ATR_FINISH: _atr_finish,
    StepName.ATR_DISTRIBUTIONS: _atr_distributions,
}


def execute(plan: ReleasePlan, config: ReleaseConfig, target: Target, options: RunOptions, *,
            announce: Announce, say: Progress, clients: Clients | None = None, steps: Steps | None = None,
            runners: Mapping[StepName, Runner] | None = None) -> ReleaseReport:
    """Run every step of `plan` in order, every step through `clients` (default: the target's); a
    failing step stops the run, and a rerun resumes. The executor's unit tests hand in-memory
    `steps` (git and the build backend, gpg, the engine's probes), whose products the runners
    record as always, and `runners` standing in for whole runners (stage, images, constraints,
    attest, report, provenance)."""
    check_can_run(plan, config)
    run = Run(plan, config, target, options, say, ReleaseReport(str(plan.version)),
              clients or clients_for(target, progress=say), steps=steps or Steps())
    chosen = {**RUNNERS, **(runners or {})}
    with locks.release_run(run.directory, str(plan.version)):
        for step in plan.steps:
            announce(step.name.value, step.does)
            chosen[step.name](run)
            run.report.steps.append(step.name.value)
        write_atomic(run.directory / "report.json", json.dumps(run.report.to_json(), indent=2) + "\n")
    return run.report


def check_can_run(plan: ReleasePlan, config: ReleaseConfig) -> None:
    """Refuse, before any step, a run that must not happen; each refusal says what to do instead."""
    version = plan.version
    record = record_of(config.root, version)
    if plan.withdrawn:
        raise RefusedError(f"{version} was withdrawn; it is never released again: release a new version")
    if plan.mode is Mode.PUBLISH and not record.is_done("sign"):
        raise RefusedError(f"{record.directory}: {version} is neither promoted from a vote nor built and "
                           f"signed here: promote it (invoke promote --version {version} --from-rc RC), or "
                           f"build and sign it (invoke build --version {version}, then invoke sign)")
    if plan.mode is Mode.FROM_RELEASE and config.uses_atr:
        raise RefusedError(f"{version} is staged in ATR: publish it from the tree that promoted it (invoke "
                           f"publish --version {version} there)")
    if plan.mode is Mode.PROMOTED and record.promotion is None:
        raise RefusedError(f"{record.directory}: {version} was not promoted from a vote: invoke promote "
                           f"--version {version} --from-rc RC first")
    if plan.mode is Mode.RELEASE and record.promotion is not None:
        raise RefusedError(f"{version} was promoted from {record.promotion.from_rc}: ship the voted files "
                           f"with invoke publish --version {version} (a release would build them again)")
    check_vote_policy(config, version, plan.mode)


def check_vote_policy(config: ReleaseConfig, version: ReleaseVersion, mode: Mode) -> None:
    """Refuse a final a project votes on that would not ship the promoted, voted files (one line).
    A promoted final is left to `check_can_run`, which says to publish it."""
    if record_of(config.root, version).promotion is not None:
        return
    if mode is Mode.FROM_RELEASE and not preflight_facts.final_tagged(config, version):
        # promoted nowhere: promote tags the final; a runner publishing it checks out that tag
        raise RefusedError(unvoted_final(config, version, Mode.PUBLISH) + f" (there is no git tag {version} "
                           "here: a final promoted elsewhere is published on a checkout of its tag)")
    unvoted = unvoted_final(config, version, mode)
    if unvoted:
        raise RefusedError(unvoted)


def check_one_commit(config: ReleaseConfig, version: ReleaseVersion, *, allow_dirty: bool = False) -> None:
    """Refuse, before any step, a run that would mix commits: HEAD moved since the build, or the
    Dockerfile, the config or what they name differing from the release's commit."""
    facts = preflight_facts.commit_facts(config, version)
    problems = one_commit(config, version, facts, allow_dirty=allow_dirty)
    if problems:
        raise RefusedError("; ".join(p.line for p in problems))


def publish_mode(config: ReleaseConfig, version: ReleaseVersion) -> Mode:
    """`invoke publish`: the voted files after a promotion here; for a final a project votes on that
    was neither promoted nor built here (a CI runner), the voted files taken from svn release/; else a
    join of image jobs run elsewhere."""
    record = record_of(config.root, version)
    if record.promotion is not None:
        return Mode.FROM_RELEASE if record.promotion.taken_from_release else Mode.PROMOTED
    if config.votes and not version.is_prerelease and not record.is_done("sign"):
        return Mode.FROM_RELEASE
    return Mode.PUBLISH


def declared_version(config: ReleaseConfig) -> tuple[str, str] | None:
    """(the version, the file) the working tree declares for the main distribution, if it does."""
    from release.steps.build import find_declared_version

    found = find_declared_version(config.root / config.main.path, config.name)
    return (found.value, found.file) if found else None


def own_versions(config: ReleaseConfig, version: ReleaseVersion) -> dict[str, str]:
    """The versions of the distributions, from the release record (what was built or voted on), else
    the ones with their own version as the working tree declares them (what a build would take)."""
    from release.steps.build import declared_version_of

    record = record_of(config.root, version)
    if record.distributions():
        return record.distributions()
    found = {}
    for dist in config.distributions:
        if dist.own_version:
            try:
                found[dist.name] = declared_version_of(config.root, dist).value
            except ConfigError:
                continue  # the plan says which version is unknown
    return found


def parse_force(values: Sequence[str] | str) -> frozenset[str]:
    items: Collection[str] = values.split(",") if isinstance(values, str) else values
    return frozenset(v.strip() for v in items if v.strip())


def make_plan(config: ReleaseConfig, version: ReleaseVersion, target: Target, options: RunOptions, *,
              mode: Mode = Mode.RELEASE, declared: tuple[str, str] | None = None,
              clients: Clients | None = None) -> ReleasePlan:
    """The plan a run executes: `plan_release` over what the registry and the index hold now."""
    clients = clients or clients_for(target)
    state = observe(config, version, clients)
    return plan_release(config, version, state, registry=target.registry, flavours=options.flavours,
                        mode=mode, declared=declared, platforms=options.platforms,
                        versions=own_versions(config, version))


def dry_run_plan(config: ReleaseConfig, version: ReleaseVersion, options: RunOptions, *,
                 declared: tuple[str, str] | None = None, mode: Mode = Mode.RELEASE) -> ReleasePlan:
    """The same plan, reading only: services that are down are not started; the plan then assumes
    an empty registry and index and says why in its warnings."""
    return _dry_run(config, version, options, declared=declared, mode=mode)[0]


def dry_run(config: ReleaseConfig, version: ReleaseVersion, options: RunOptions, *,
            declared: tuple[str, str] | None = None) -> tuple[ReleasePlan, tuple[Problem, ...]]:
    """`invoke release --dry-run`: the plan, and every problem a real run would refuse (the
    preflight), found at once and before anything starts."""
    plan, state, target = _dry_run(config, version, options, declared=declared, mode=Mode.RELEASE)
    facts = preflight_facts.gather(config, version, state, target, sign_with=options.sign_with,
                                   restart=options.restart)
    return plan, preflight(config, version, facts,
                           PreflightOptions(flavours=plan.flavours, allow_dirty=options.allow_dirty))


def _dry_run(config: ReleaseConfig, version: ReleaseVersion, options: RunOptions, *,
             declared: tuple[str, str] | None, mode: Mode) -> tuple[ReleasePlan, TargetState, Target | None]:
    target: Target | None
    try:
        target = connect(config, start=False)
    except ReleaseError as exc:
        target, state, registry = None, TargetState(unreachable=str(exc).rstrip(".")), config.registry
    else:
        clients = clients_for(target)
        state, _ = observe_or_empty(config, version, clients)
        registry = target.registry
    plan = plan_release(config, version, state, registry=registry, flavours=options.flavours,
                        declared=declared, platforms=options.platforms, mode=mode,
                        versions=own_versions(config, version))
    return plan, state, target


def run_release(config: ReleaseConfig, version: ReleaseVersion, target: Target, options: RunOptions, *,
                announce: Announce, say: Progress, mode: Mode = Mode.RELEASE) -> ReleaseReport:
    """Plan `version` against the target as it stands, then execute that plan."""
    if options.restart:
        start_over(config, version, say)
    if mode in (Mode.RELEASE, Mode.PROMOTED, Mode.FROM_RELEASE):
        check_one_commit(config, version, allow_dirty=options.allow_dirty)
    clients = clients_for(target)
    return execute(make_plan(config, version, target, options, mode=mode, clients=clients), config, target,
                   options, announce=announce, say=say, clients=clients)
