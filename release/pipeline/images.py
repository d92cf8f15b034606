# SPDX-License-Identifier: Apache-2.0
"""Images: the one way every command builds them, and the image jobs outside a full release.

`image_job` turns planned images into what the build carries out: the wheels and the tree read
once, each image completed with its base image as observed now; `ship` builds them, smokes each
as soon as it is built (on its own platform), and pushes them only when all passed. The release,
the image jobs (one release's images per flavour, and per platform, for split CI), the master
build CI runs after every merge, the local smoke run contributors use and `refresh` all go through
these two.

With several platforms an image job pushes only its platforms' helper tags; the join (`publish`,
`publish --master`, or a master build that built everything) puts each flavour's index."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from release import locks
from release.adapters import git
from release.adapters.clients import Clients
from release.adapters.index import download_wheel
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError, ReleaseError
from release.pipeline.connect import Target, clients_for, connect
from release.pipeline.recording import record_build
from release.pipeline.state import observe_base
from release.plan.commands import CommandPlan, plan_image_job
from release.plan.images import OCI, ImageJob, ImageSource, complete_image, master_join_problems
from release.plan.release import Mode, PlannedImage, plan_images, planned_index, unvoted_final
from release.plan.tags import MASTER, BuildKind, check_tag_length, plan_tags, tag_name
from release.progress import Progress
from release.record import ImageEntry, load_record, record_of, release_dir
from release.steps.build import build_commit, build_release, find_declared_version
from release.steps.images import ImageResult as ImageResult  # shown by the command line
from release.steps.images import (
    build_context,
    build_images,
    image_event,
    image_source,
    push_images,
    variant_source,
)
from release.steps.index import put_indexes
from release.steps.smoke import Smoker
from release.steps.smoke import SmokeReport as SmokeReport  # shown by the command line
from release.steps.tags import point_tag
from release.versions import ReleaseVersion, parse_version


def planned_images(config: ReleaseConfig, version: str, registry: str, *, flavours: Sequence[str] = (),
                   platforms: Sequence[str] = (), variants: Sequence[str] | None = None,
                   kind: BuildKind = BuildKind.RELEASE, base_images: Mapping[str, str] | None = None
                   ) -> tuple[PlannedImage, ...]:
    """The images a build of `config` makes in `registry` (`plan_images`): the chosen flavours,
    platforms and variants (default: all configured), each FROM its configured base image or the
    one `base_images` gives its flavour."""
    images, _ = plan_images(config, version, f"{registry}/{config.image}", flavours or config.python,
                            platforms or config.image_platforms, registry=registry, kind=kind)
    chosen = config.variant_names if variants is None else variants
    bases = base_images or {}
    return tuple(replace(i, base_image=bases.get(i.image.flavour, i.base_image)) for i in images
                 if i.image.variant in chosen)


def image_job(
    config: ReleaseConfig, images: Sequence[PlannedImage], clients: Clients, *, version: str,
    wheels: Sequence[Path], kind: BuildKind = BuildKind.RELEASE, source: ImageSource | None = None,
    revision: str | None = None, jobs: int = 0, replace_tags: bool = False, check_registry: bool = True,
    nocache: bool = False, recorded: Mapping[str, ImageEntry] | None = None,
) -> ImageJob:
    """The job that builds `images` from `wheels` (the exact files the release built): what the
    tree gives every image (`source`, by default read from the tree at `revision`, else HEAD),
    each variant's source, the build context, and each image completed with its base image as
    observed now (each base observed once), its dependency hash for the engine's builder.
    `recorded`: the images the release record says this release pushed already, by key. `jobs`:
    how many images build at once; 0 as many as the machine has room for."""
    source = source or image_source(config, version, wheels, revision=revision)
    builder = "buildkit" if clients.engine.builder().buildkit else ""
    sources = {variant: variant_source(config, source, variant)
               for variant in dict.fromkeys(i.image.variant for i in images)}
    bases: dict[tuple[str, str, bool], tuple[str, str]] = {}
    completed = []
    for planned in images:
        where = (planned.base_image, planned.platform, bool(planned.index_tag))
        if where not in bases:
            bases[where] = observe_base(clients, planned, host=config.host_platform)
        base, digest = bases[where]
        completed.append(complete_image(planned, sources[planned.image.variant], base_image=base,
                                        base_digest=digest, builder=builder))
    return ImageJob(tuple(completed), sources, build_context(config, source, wheels), kind, jobs=jobs,
                    builder=builder, replace_tags=replace_tags, check_registry=check_registry,
                    nocache=nocache, recorded=dict(recorded or {}))


def ship(config: ReleaseConfig, job: ImageJob, clients: Clients, *, version: str, wheels: Sequence[Path],
         push: bool, say: Progress) -> tuple[list[ImageResult], list[SmokeReport]]:
    """Build every image of `job`, smoke each as soon as it is there (on its own platform), then
    push them all: one failure anywhere and nothing is pushed."""

    def on_report(report: SmokeReport) -> None:
        verdict = "ok" if report.ok else "FAILED " + ", ".join(c.name for c in report.failures)
        emulated = f" ({report.timeouts})" if report.timeouts else ""
        say(image_event(report.image, "smoked", f"smoke {report.ref}: {verdict}{emulated}",
                        elapsed=report.seconds))

    smoker = Smoker(config, version=version, wheels=wheels, engine=clients.engine, on_report=on_report)
    try:
        results = build_images(job, clients, progress=say, on_result=lambda done: smoker.submit(done.planned))
        reports = smoker.reports([r.planned for r in results])
    finally:
        smoker.close()
    if push:
        results = push_images(results, clients.engine, progress=say)
    return results, reports


def release_wheels(config: ReleaseConfig, version: ReleaseVersion, say: Progress) -> list[Path]:
    """The wheel(s) dist/<V>/ holds for the index, building them first when this runner has none
    (after `invoke promote`, the voted wheels: a promoted release is never built again).

    Builds are reproducible, so separate runners building the same commit get the same bytes.
    With `install = "index"` the image installs a released version from the index, so the wheel
    to check it against is that release's, downloaded the same way.
    """
    if config.install == "index":
        dest = config.root / "dist" / config.name / str(version)
        say(f"downloading {config.name}=={version} from the package index to check the images against")
        return [download_wheel(f"{config.name}=={version}", dest)]
    directory = release_dir(config.root, str(version))
    record = load_record(directory, str(version))
    if record.promotion is not None:  # the voted wheels, never a rebuild
        return record.wheels()
    if not record.is_done("build"):
        record_build(record, build_release(config, version, progress=say))
    return record.wheels()


def images_plan(config: ReleaseConfig, version: ReleaseVersion | None, *, flavours: Sequence[str],
                platforms: Sequence[str], push: bool) -> CommandPlan:
    """What `invoke images` (a release's, or the master build when `version` is None) would build,
    smoke and push. Reads only: a sandbox that is down is not started (its registry is then the
    configured one)."""
    try:
        registry = connect(config, start=False).registry
    except ReleaseError:
        registry = config.registry
    kind = BuildKind.RELEASE if version is not None else BuildKind.MASTER
    label = str(version) if version is not None else tree_version(config)
    images = planned_images(config, label, registry, flavours=flavours, platforms=platforms, kind=kind)
    unvoted = pushes_unvoted(config, version) if version is not None and push else ""
    refusals = [unvoted] if unvoted else []
    return plan_image_job(label if version is not None else MASTER, images, push=push, refusals=refusals)


def pushes_unvoted(config: ReleaseConfig, version: ReleaseVersion) -> str:
    """Why pushing `version`'s images would ship a final no one voted on ("" when it may be pushed):
    with `vote = "asf"` a final's images come only from the wheels promoted from its voted candidate."""
    promoted = record_of(config.root, version).promotion is not None
    return unvoted_final(config, version, Mode.PROMOTED if promoted else Mode.PUBLISH)


def release_images(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, *, flavours: Sequence[str],
    jobs: int, push: bool, say: Progress, platforms: Sequence[str] = (), clients: Clients | None = None,
) -> tuple[list[ImageResult], list[SmokeReport]]:
    """Build, smoke and (with push) push `V-pythonP` for the given flavours -- with several
    platforms `V-pythonP-ARCH` for the given ones (default: all) -- and nothing else moves."""
    check_tag_length(version, flavours, config.image_platforms if config.multi_platform else (),
                     config.variant_names)
    if push and (unvoted := pushes_unvoted(config, version)):
        raise RefusedError(unvoted)
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        return _release_images(config, version, target, clients or clients_for(target), flavours=flavours,
                               jobs=jobs, push=push, say=say, platforms=platforms)


def _release_images(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, clients: Clients, *,
    flavours: Sequence[str], jobs: int, push: bool, say: Progress, platforms: Sequence[str],
) -> tuple[list[ImageResult], list[SmokeReport]]:
    wheels = release_wheels(config, version, say)
    built = record_of(config.root, version).build
    images, _ = plan_images(config, version, target.repository(config.image), flavours,
                            platforms or config.image_platforms, registry=target.registry)
    # the release's commit, as `invoke release` and `invoke publish` label it, so their image is reused
    job = image_job(config, images, clients, version=str(version), wheels=wheels,
                    revision=built.commit if built else None, jobs=jobs)
    results, reports = ship(config, job, clients, version=str(version), wheels=wheels, push=push, say=say)
    if push:
        record = record_of(config.root, version)
        for result in results:
            record.put_image(result.record_entry())
    return results, reports


def tree_version(config: ReleaseConfig) -> str:
    declared = find_declared_version(config.root / config.main.path, config.name)
    if declared is None:
        raise ConfigError(f"{config.root}: cannot find the declared version for a master build")
    parse_version(declared.value)
    return declared.value


def master_images(
    config: ReleaseConfig, target: Target, *, flavours: Sequence[str], jobs: int, push: bool, say: Progress,
    platforms: Sequence[str] = (), clients: Clients | None = None,
) -> tuple[list[ImageResult], list[SmokeReport], dict[str, str]]:
    """The master build: the wheels of HEAD (every distribution), images tagged `master-pythonP`, and
    `master` when every flavour is built here. A job that builds some flavours (one CI runner each)
    pushes only their `master-pythonP`; `join_master` then moves `master`, as `publish` joins a
    release's image jobs. With several platforms the images go under `master-pythonP-ARCH`; only a
    build of every platform puts the indexes and sets `master-pythonP` (else `join_master` does)."""
    clients = clients or clients_for(target)
    version = tree_version(config)
    commit = git.commit_of(config.root)
    say(f"master build of {config.name} {version} at {commit[:12]}")
    images, _ = plan_images(config, version, target.repository(config.image), flavours,
                            platforms or config.image_platforms, registry=target.registry,
                            kind=BuildKind.MASTER)
    with tempfile.TemporaryDirectory(prefix="release-master-") as work:
        files = build_commit(config.root, commit, config=config, version=version, out=Path(work),
                             with_source=False, progress=say)
        wheels = [f for f in files if f.suffix == ".whl"]
        job = image_job(config, images, clients, version=version, wheels=wheels, kind=BuildKind.MASTER,
                        jobs=jobs)
        results, reports = ship(config, job, clients, version=version, wheels=wheels, push=push, say=say)
    if not push:
        return results, reports, {}
    full = set(flavours) == set(config.python)
    if config.multi_platform:
        if set(platforms or config.image_platforms) != set(config.image_platforms):
            say(f"{MASTER}-pythonP and {MASTER} move once every platform is pushed: invoke publish --master")
            return results, reports, {}
        digests = _master_indexes(config, clients, flavours, say)
    else:
        digests = {r.tag: r.digest or "" for r in results}
    if not full:
        say(f"{MASTER} moves once every flavour is pushed: invoke publish --master")
    return results, reports, _point_master(config, clients, digests, bare=full, say=say)


def _master_indexes(config: ReleaseConfig, clients: Clients, flavours: Sequence[str], say: Progress
                    ) -> dict[str, str]:
    """Each flavour's index over its `master-pythonP-ARCH` images; `master-pythonP` -> the index
    digest. (No variants: they are refused with several platforms.)"""
    planned = [planned_index(config, p, tag_name(MASTER, p), signed=False) for p in flavours]
    hint = "push it (invoke images --master --python P --platform PLATFORM --push), then join again"
    return {tag_name(MASTER, p): index.digest
            for p, index in put_indexes(clients.registry, config.image, planned, hint=hint,
                                        progress=say).items()}


def _point_master(config: ReleaseConfig, clients: Clients, digests: Mapping[str, str], *, bare: bool,
                  say: Progress) -> dict[str, str]:
    """`[VARIANT-]master-pythonP` for each image in `digests` (keyed by that tag), and the bare
    `[VARIANT-]master` too when `bare`."""
    plan = plan_tags(version=None, flavours=config.python, default=config.default_python,
                     kind=BuildKind.MASTER, variants=config.variant_names)
    tags: dict[str, str] = {}
    for tag in plan.tags:
        source = tag_name(MASTER, tag.image.flavour, tag.image.variant)
        if source in digests and (bare or not tag.is_bare):
            entry = point_tag(clients.registry, config.image, tag.name, digests[source], moving=True,
                              flavour=tag.image.flavour, progress=say)
            tags[entry.tag] = entry.digest
    return tags


def join_master(config: ReleaseConfig, target: Target, *, say: Progress, clients: Clients | None = None
                ) -> dict[str, str]:
    """Join master image jobs run on other machines: move `master` to the default flavour's
    `master-pythonP`, once every configured flavour's image is in the registry and was built from
    this checkout's commit (so `master` never pairs flavours of different merges). With several
    platforms each flavour's index is put first, over every platform's `master-pythonP-ARCH`."""
    clients = clients or clients_for(target)
    registry = clients.registry
    commit = git.commit_of(config.root)
    indexes = _master_indexes(config, clients, config.python, say) if config.multi_platform else {}
    found = {}
    for variant in config.variant_names:
        for flavour in config.python:
            tag = tag_name(MASTER, flavour, variant)
            digest = indexes.get(tag) or registry.manifest_digest(config.image, tag)
            labels = registry.image_labels(config.image, digest) if digest else None
            found[tag] = (digest, (labels or {}).get(f"{OCI}.revision", ""))
    problems = master_join_problems(found, commit)
    if problems:
        raise RefusedError(f"{MASTER} not moved in {target.registry}/{config.image}: " + "; ".join(problems))
    for tag, (digest, _) in found.items():
        say(f"{config.image}:{tag}@{digest} (commit {commit[:12]})")
    digests = {tag: digest or "" for tag, (digest, _) in found.items()}
    return _point_master(config, clients, digests, bare=True, say=say)
