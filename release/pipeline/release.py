"""Execute a release plan: walk `plan.steps`, each step doing what the plan says, and report it.

Publishing order keeps users safe: images under immutable tags first, then packages (read back
and compared), and only when both hold the moving aliases, decided again from what the registry
and the index hold at that moment. Every step records what it produced in dist/<V>/release.json,
so rerunning the same command after a failure continues from there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release import locks
from release.adapters import gpg, svn
from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig
from release.errors import RefusedError, ReleaseError
from release.pipeline.connect import Target, base_images, connect
from release.pipeline.state import observe, observe_or_empty
from release.plan.release import (
    Mode,
    ReleasePlan,
    StepName,
    TagAction,
    TargetState,
    alias_differences,
    plan_release,
    replan_aliases,
)
from release.plan.tags import BuildKind, version_tag
from release.progress import Progress
from release.record import (
    ImageEntry,
    ReleaseRecord,
    TagEntry,
    load_record,
    release_dir,
    sha512_of,
    write_atomic,
)
from release.steps import publish
from release.steps.build import build_release
from release.steps.images import image_source
from release.steps.sign import checksum_text, sign_release
from release.steps.smoke import ship_images
from release.steps.tags import apply_changes
from release.steps.vote import stage_release
from release.versions import ReleaseVersion

Announce = Callable[[str, str], None]


@dataclass(frozen=True)
class RunOptions:
    flavours: tuple[str, ...]
    jobs: int = 1
    sign_with: str = ""
    force: frozenset[str] = frozenset()
    allow_dirty: bool = False


@dataclass
class ReleaseReport:
    """What a run did, in the plan's terms, so the two can be compared."""

    version: str
    steps: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # path under dist/<V>/ -> sha512
    images: dict[str, str] = field(default_factory=dict)  # flavour -> digest
    uploads: dict[str, str] = field(default_factory=dict)  # filename -> upload | skip
    tags: dict[str, TagEntry] = field(default_factory=dict)
    replanned: list[str] = field(default_factory=list)  # why the aliases differ from the plan

    def to_json(self) -> dict[str, Any]:
        tags = {t: {"python": e.python, "digest": e.digest, "previous": e.previous, "action": e.action}
                for t, e in self.tags.items()}
        moved = {t: v for t, v in tags.items() if v["action"] == "move"}
        return {"version": self.version, "steps": self.steps, "files": self.files, "images": self.images,
                "uploads": self.uploads, "tags": tags, "moved": moved, "replanned": self.replanned}


@dataclass
class Run:
    plan: ReleasePlan
    config: ReleaseConfig
    target: Target
    options: RunOptions
    say: Progress
    report: ReleaseReport
    digests: dict[str, str] = field(default_factory=dict)
    pushed_now: set[str] = field(default_factory=set)

    @property
    def directory(self) -> Path:
        return release_dir(self.config.root, str(self.plan.version))

    @property
    def record(self) -> ReleaseRecord:
        """Read afresh: the vote-workflow steps write the record themselves."""
        return load_record(self.directory, str(self.plan.version))

    @property
    def registry(self) -> RegistryClient:
        return RegistryClient(self.target.registry)

    @property
    def index(self) -> PackageIndex:
        return PackageIndex(self.target.index_upload, self.target.index_simple)

    @property
    def signing_key(self) -> str:
        return self.options.sign_with or self.target.signing_key


def fetch_keys(target: Target, directory: Path) -> Path:
    """The project's KEYS file, as published, next to the release (signing checks against it)."""
    keys = directory / "KEYS"
    keys.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(keys, svn.read_text(target.keys_url))
    return keys


def _build(run: Run) -> None:
    # A rerun finishes the release from the commit it was built from, wherever HEAD is now.
    built = run.record.build
    build_release(run.config, run.plan.version, allow_dirty=run.options.allow_dirty,
                  commit=built.commit if built else None, progress=run.say)


def _sign(run: Run) -> None:
    keys = fetch_keys(run.target, run.directory.parent / ".keys" / str(run.plan.version))
    sign_release(run.config, run.plan.version, keys_file=keys, key=run.signing_key,
                 gnupghome=run.target.gnupghome, progress=run.say)


def _stage(run: Run) -> None:
    stage_release(run.config, run.plan.version, svn_dev_url=run.target.svn_dev, keys_url=run.target.keys_url,
                  progress=run.say)


def _images(run: Run) -> None:
    record = run.record
    wheels = record.wheels()
    # the commit the release was built from, not HEAD, which may have moved since (a rerun)
    revision = record.build.commit if record.build else None
    results, reports = ship_images(
        run.config, str(run.plan.version), wheels=wheels, registry=run.target.registry, push=True,
        progress=run.say, flavours=run.plan.flavours, base_images=base_images(run.config, run.target),
        kind=BuildKind.RELEASE, jobs=run.options.jobs, recorded=record.images,
        source=image_source(run.config, str(run.plan.version), wheels, revision=revision),
    )
    for result in results:
        plan = result.plan
        record.put_image(ImageEntry(result.flavour, result.ref, result.digest, result.image_id,
                                    plan.input_hash, plan.base_image, plan.base_digest))
        run.digests[result.flavour] = result.digest or ""
        if result.status != "reused":
            run.pushed_now.add(version_tag(run.plan.version, result.flavour))
    record.step_done("images", {"smoke": {r.flavour: r.ok for r in reports}})


def _push(run: Run) -> None:
    if not run.digests:  # a publish job: the image jobs pushed the version tags elsewhere
        run.digests = publish.image_digests(run.registry, run.config.image, run.plan.version,
                                            run.plan.flavours)
        for flavour, digest in run.digests.items():
            run.say(f"python{flavour}: {run.config.image}:{version_tag(run.plan.version, flavour)}@{digest}")
    run.report.images = dict(run.digests)
    done = apply_changes(run.registry, run.config.image, run.plan.immutable, run.digests,
                         force=run.options.force, created_now=run.pushed_now, progress=run.say)
    run.report.tags.update((e.tag, e) for e in done)
    run.record.step_done("push", {"digests": run.digests})


def _index_files(record: ReleaseRecord) -> list[Path]:
    files = record.files_in("pypi")
    for entry in files:
        if sha512_of(record.directory / entry.path) != entry.sha512:
            raise RefusedError(f"{record.directory / entry.path} changed since it was built and signed; "
                               "move dist/ away and rebuild")
    return [record.directory / entry.path for entry in files]


def _upload(run: Run) -> None:
    uploads = publish.upload_packages(run.index, run.config.name, _index_files(run.record),
                                      twine_env=run.target.twine_env, progress=run.say)
    run.report.uploads = {u.filename: "upload" if u.uploaded else "skip" for u in uploads}
    run.record.step_done("upload", {"files": {u.filename: u.sha256 for u in uploads}})


def _aliases(run: Run) -> None:
    # Decided and moved under the project's alias lock, from what the registry and the index hold
    # now; the tag mover re-checks each alias right before it moves (runs from other checkouts).
    with locks.aliases(run.config.root / "dist", run.say):
        state = observe(run.config, run.plan.version, run.registry, run.index)
        now = replan_aliases(run.plan, run.config, state)
        for line in alias_differences(run.plan, now):
            run.say(f"re-planned: {line}")
            run.report.replanned.append(line)
        moving = [t.tag for t in now.aliases if t.action in {TagAction.CREATE, TagAction.MOVE}]
        run.say(f"aliases to point at {run.plan.version}: {', '.join(moving) or 'none'}")
        record = run.record
        for entry in apply_changes(run.registry, run.config.image, now.aliases, run.digests,
                                   version=run.plan.version, progress=run.say):
            run.report.tags[entry.tag] = entry
            record.put_tag(entry)
    record.step_done("aliases", {"owns_latest": now.owns_latest, "owns_line": now.owns_line})


def _report(run: Run) -> None:
    record = run.record
    for entry in run.report.tags.values():
        record.tags[entry.tag] = entry
    record.step_done("report")
    path = record.path
    signature = path.with_name(path.name + ".asc")
    signature.unlink(missing_ok=True)  # the record changes on every rerun: its signature is replaced
    gpg.sign_detached(path, key=run.signing_key, gnupghome=run.target.gnupghome)
    write_atomic(path.with_name(path.name + ".sha512"), checksum_text(path))
    files = {**{p: e.sha512 for p, e in record.files.items()},
             **{p: e.sha512 for p, e in record.signatures.items()}}
    for name in (path.name, signature.name, f"{path.name}.sha512"):
        files[name] = sha512_of(path.with_name(name))
    run.report.files = dict(sorted(files.items()))


RUNNERS: dict[StepName, Callable[[Run], None]] = {
    StepName.BUILD: _build, StepName.SIGN: _sign, StepName.STAGE: _stage, StepName.IMAGES: _images,
    StepName.PUSH: _push, StepName.UPLOAD: _upload, StepName.ALIASES: _aliases, StepName.REPORT: _report,
}


def execute(plan: ReleasePlan, config: ReleaseConfig, target: Target, options: RunOptions, *,
            announce: Announce, say: Progress) -> ReleaseReport:
    """Run every step of `plan` in order; a failing step stops the run, and a rerun resumes."""
    if plan.mode is Mode.PUBLISH:
        record = load_record(release_dir(config.root, str(plan.version)), str(plan.version))
        if not record.is_done("sign"):
            raise RefusedError(f"{record.directory}: build and sign {plan.version} before publishing it")
    run = Run(plan, config, target, options, say, ReleaseReport(str(plan.version)))
    with locks.release_run(run.directory, str(plan.version)):
        for step in plan.steps:
            announce(step.name.value, step.does)
            RUNNERS[step.name](run)
            run.report.steps.append(step.name.value)
        write_atomic(run.directory / "report.json", json.dumps(run.report.to_json(), indent=2) + "\n")
    return run.report


def parse_force(values: Sequence[str] | str) -> frozenset[str]:
    items: Collection[str] = values.split(",") if isinstance(values, str) else values
    return frozenset(v.strip() for v in items if v.strip())


def make_plan(config: ReleaseConfig, version: ReleaseVersion, target: Target, options: RunOptions, *,
              mode: Mode = Mode.RELEASE, declared: tuple[str, str] | None = None) -> ReleasePlan:
    """The plan a run executes: `plan_release` over what the registry and the index hold now."""
    state = observe(config, version, RegistryClient(target.registry),
                    PackageIndex(target.index_upload, target.index_simple))
    return plan_release(config, version, state, registry=target.registry, flavours=options.flavours,
                        mode=mode, declared=declared)


def dry_run_plan(config: ReleaseConfig, version: ReleaseVersion, options: RunOptions, *,
                 declared: tuple[str, str] | None = None) -> ReleasePlan:
    """The same plan, reading only: services that are down are not started; the plan then assumes
    an empty registry and index and says why in its warnings."""
    try:
        target = connect(config, start=False)
    except ReleaseError as exc:
        state, registry = TargetState(unreachable=str(exc).rstrip(".")), config.registry
    else:
        state, _ = observe_or_empty(config, version, RegistryClient(target.registry),
                                    PackageIndex(target.index_upload, target.index_simple))
        registry = target.registry
    return plan_release(config, version, state, registry=registry, flavours=options.flavours,
                        declared=declared)


def run_release(config: ReleaseConfig, version: ReleaseVersion, target: Target, options: RunOptions, *,
                announce: Announce, say: Progress, mode: Mode = Mode.RELEASE) -> ReleaseReport:
    """Plan `version` against the target as it stands, then execute that plan."""
    return execute(make_plan(config, version, target, options, mode=mode), config, target, options,
                   announce=announce, say=say)
