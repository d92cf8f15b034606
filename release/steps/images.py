# SPDX-License-Identifier: Apache-2.0
"""Build the planned images, reuse what the registry or the engine already has from the same
inputs, push.

The pipeline plans an `ImageJob` (plan/images.py): every image it builds, completed with its
observed base digest, its build args, labels and hashes, and the build context; here it is carried
out. Smoking the images between the build and the push is the pipeline's too
(`pipeline/images.py`), so a failing image pushes nothing.

With several platforms each flavour has one image per platform, built FROM its base image pinned
to that platform's digest and checked, once built, to be that platform's; it is pushed under its
platform's helper tag, and an index (`steps.index`) lists them under the flavour's tag. Variants
are built for one platform only (release/config.py refuses them with several).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from release import image as recipe
from release.adapters import git
from release.adapters.clients import Clients, Registry
from release.adapters.engine import BuildFailed, BuildLine, Engine, StepTime, split_ref
from release.config import ReleaseConfig
from release.errors import CommandError, ConfigError, RefusedError, ReleaseError, ServiceError
from release.identity import ImageId
from release.plan.images import (
    CONSTRAINTS_FILE,
    CONTEXT_DIR,
    DEPS_STAGE,
    ENTRYPOINT_FILE,
    INPUT_HASH_LABEL,
    ImageJob,
    ImageSource,
    WheelFile,
    complete_image,
    context_tar,
    metadata_labels,
    network_mode_for,
    parse_metadata,
)
from release.plan.release import PlannedImage
from release.plan.tags import BuildKind
from release.progress import Event, Progress, to_log
from release.record import ImageEntry, sha256_of

log = logging.getLogger("release.images")


def image_event(image: ImageId, kind: str, message: str, step: int | None = None, total: int | None = None,
                cached: bool = False, elapsed: float = 0.0) -> Event:
    """Progress of one image, named as `ImageId.name` says (`python3.11`, `slim-python3.11`,
    `python3.11 linux/arm64`)."""
    return Event(message, image.name, kind, step, total, cached, elapsed)


def plan_event(planned: PlannedImage, kind: str, message: str, **details: Any) -> Event:
    return image_event(planned.image, kind, message, **details)


class ImageStatus(str, Enum):
    BUILT = "built"
    REUSED = "reused"  # the registry has it from the same inputs
    LOCAL = "local"  # the engine already had it


@dataclass(frozen=True)
class ImageResult:
    planned: PlannedImage
    status: ImageStatus
    image_id: str = ""
    size: int = 0
    seconds: float = 0.0
    cached_steps: int = 0
    cacheable_steps: int = 0
    digest: str | None = None  # registry manifest digest, once pushed or found there
    timings: tuple[StepTime, ...] = ()  # per build step, when built
    cache: str = ""  # where the dependency stage came from: engine | registry | built ("" not built)
    cache_to_push: bool = False  # the registry lacks the dependency stage's cache image

    @property
    def image(self) -> ImageId:
        return self.planned.image

    @property
    def tag(self) -> str:
        """The tag it is built and pushed under; names the flavour and the variant."""
        return self.planned.tag

    @property
    def platform(self) -> str:
        return self.planned.platform

    @property
    def ref(self) -> str:
        return self.planned.ref

    def record_entry(self) -> ImageEntry:
        """The release record's entry for this image (one of several platforms': keyed by both)."""
        planned, image = self.planned, self.planned.image
        return ImageEntry(image.flavour, self.ref, self.digest, self.image_id, planned.input_hash,
                          planned.base_image, planned.base_digest, image.variant, image.platform)


def read_wheel_metadata(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as wheel:
        names = [n for n in wheel.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if not names:
            raise ConfigError(f"{path.name}: not a wheel (no .dist-info/METADATA)")
        return parse_metadata(wheel.read(names[0]))


def image_source(
    config: ReleaseConfig, version: str, wheels: Sequence[Path], *, revision: str | None = None,
    created: str | None = None, pip_index_url: str = "", extra_args: Mapping[str, str] | None = None,
) -> ImageSource:
    """Read what every flavour shares: the Dockerfile, the wheels, the constraints, metadata.
    `revision` defaults to the checkout's HEAD, `created` to now; `extra_args` are further build
    args such as BUILD_APT_DEPS or PIP_EXTRA_INDEX_URL."""
    if not wheels:
        raise ConfigError("no wheels to put in the images; build the release's packages first")
    dockerfile = dockerfile_of(config)
    constraints = config.root / config.constraints if config.constraints else None
    if constraints is not None and not constraints.is_file():
        raise ConfigError(f"{constraints}: constraints file not found ([tool.release] constraints)")
    entrypoint = config.root / config.entrypoint if config.entrypoint else None
    if entrypoint is not None and not entrypoint.is_file():
        raise ConfigError(f"{entrypoint}: entrypoint script not found ([tool.release] entrypoint)")
    if revision is None:
        try:
            revision = git.commit_of(config.root)
        except ReleaseError:
            revision = ""
    prefix = re.sub(r"[-_.]+", "_", config.name).lower() + "-"
    main = next((p for p in wheels if p.name.lower().startswith(prefix)), wheels[0])
    metadata = {p: read_wheel_metadata(p) for p in wheels}
    meta = metadata_labels(metadata[main])
    requires = tuple((str((m.get("Name") or [p.name.split("-")[0]])[0]), tuple(m.get("Requires-Dist") or ()))
                     for p, m in metadata.items())
    return ImageSource(
        name=config.name, version=version, title=config.project,
        wheels=tuple(WheelFile(p.name, sha256_of(p)) for p in wheels),
        dockerfile_sha256=recipe.recipe_sha256(dockerfile), install=config.install,
        constraints_sha256=sha256_of(constraints) if constraints else "", extras=config.extras,
        uid=config.uid, revision=revision,
        created=created or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source_url=meta["source_url"], licenses=meta["licenses"], vendor=meta["vendor"],
        pip_index_url=pip_index_url, extra_args={**dict(config.build_args), **(extra_args or {})},
        variant=config.variant, entrypoint_sha256=sha256_of(entrypoint) if entrypoint else "",
        default_command=config.default_command, expose=config.expose, writable_venv=config.writable_venv,
        requires=requires,
    )


def variant_source(config: ReleaseConfig, source: ImageSource, variant: str) -> ImageSource:
    """`source` (the default image's) as variant `variant` builds it: its extras, its build args
    on top of the others."""
    if variant == source.variant:
        return source
    base, chosen = config.for_variant(source.variant), config.for_variant(variant)
    given = {k: v for k, v in source.extra_args.items() if dict(base.build_args).get(k) != v}
    return replace(source, variant=variant, extras=chosen.extras,
                   extra_args={**dict(chosen.build_args), **given})


def dockerfile_of(config: ReleaseConfig) -> bytes:
    """The project's own Dockerfile (`[tool.release] dockerfile`), else the one release-pipeline ships."""
    if not config.dockerfile:
        return recipe.dockerfile()
    path = config.root / config.dockerfile
    if not path.is_file():
        raise ConfigError(f"{path}: no Dockerfile ([tool.release] dockerfile; leave it out to use the "
                          "Dockerfile release-pipeline ships)")
    return path.read_bytes()


def build_context(config: ReleaseConfig, source: ImageSource, wheels: Sequence[Path]) -> bytes:
    """A tar of exactly: the Dockerfile, the helper files (`.release-pipeline/`), the release's
    wheels (wheel installs), the constraints and the entrypoint script."""
    files = {"Dockerfile": dockerfile_of(config), **recipe.helper_files()}
    if source.install == "wheel":
        files.update({f"{CONTEXT_DIR}/{p.name}": p.read_bytes() for p in wheels})
    if source.constraints_sha256:
        files[CONSTRAINTS_FILE] = (config.root / config.constraints).read_bytes()
    if source.entrypoint_sha256:
        files[ENTRYPOINT_FILE] = (config.root / config.entrypoint).read_bytes()
    return context_tar(files, modes={ENTRYPOINT_FILE: 0o755, **recipe.helper_modes()})


def find_existing(planned: PlannedImage, engine: Engine, registry: Registry | None, *, kind: BuildKind,
                  replace_tags: bool) -> ImageResult | None:
    """The image already built from the same inputs (registry first, then the engine), if any."""
    repository = _in_registry(planned)
    if registry is not None:
        labels = registry.image_labels(repository, planned.tag)
        if labels is not None and labels.get(INPUT_HASH_LABEL) == planned.input_hash:
            return ImageResult(planned, ImageStatus.REUSED,
                               digest=registry.manifest_digest(repository, planned.tag))
        if labels is not None and kind is BuildKind.RELEASE and not replace_tags:
            raise RefusedError(
                f"{planned.ref} is already in the registry, built from other inputs (input hash "
                f"{labels.get(INPUT_HASH_LABEL) or 'none'}, now {planned.input_hash}); version tags are "
                "immutable: release a new version, or replace it deliberately"
            )
    local = engine.inspect(planned.ref)
    if (local is not None and local.labels.get(INPUT_HASH_LABEL) == planned.input_hash
            and (not planned.platform or local.platform == planned.platform)):
        return ImageResult(planned, ImageStatus.LOCAL, image_id=local.id, size=local.size)
    return None


def _in_registry(planned: PlannedImage) -> str:
    """The image's repository inside its registry: `registry/name` -> `name`."""
    return planned.repository.partition("/")[2]


def _dependency_cache(planned: PlannedImage, engine: Engine, registry: Registry | None,
                      progress: Progress) -> tuple[str, bool]:
    """Where this build's dependency stage comes from, and whether the registry has it.

    `engine`: the engine has the cache image, so its own build cache serves (no cache-from: the
    classic builder would then take hits from the cache-from images only). `registry`: pulled from
    the registry, the build uses it as cache-from (a runner that starts with an empty engine).
    `built`: neither has it; the build makes it and tags it. Each platform of several has its own
    cache image (the platform is in its dependency hash), pulled as that platform's.
    """
    repository, tag = split_ref(planned.cache_ref)
    in_registry = False
    if registry is not None:
        try:
            in_registry = registry.manifest_digest(repository.partition("/")[2], tag) is not None
        except ServiceError as exc:
            progress(plan_event(planned, "note", f"dependency cache not looked up: {exc}"))
    local = engine.inspect(planned.cache_ref)
    if local is not None and (not planned.platform or local.platform == planned.platform):
        return "engine", in_registry
    if in_registry:
        started = time.monotonic()
        try:
            engine.pull(planned.cache_ref, platform=planned.platform or None)
        except ServiceError as exc:
            progress(plan_event(planned, "note", f"dependency cache not pulled: {exc}"))
            return "built", True
        message = f"pulled the dependency stage {planned.cache_ref} in {time.monotonic() - started:.1f}s"
        progress(plan_event(planned, "cache", message, elapsed=time.monotonic() - started))
        return "registry", True
    return "built", False


def _pushed_earlier(planned: PlannedImage, source: ImageSource, entry: ImageEntry | None,
                    registry: Registry | None, builder: str = "") -> ImageResult | None:
    """The image an earlier run of this release pushed, when only the base image moved since: the
    registry still holds the recorded digest under the tag, and completing the plan with the
    recorded base digest gives the recorded input hash (so the labels the smoke test checks are
    that image's). A base pinned to a platform's digest (several platforms) is pinned as recorded."""
    if (entry is None or not entry.digest or registry is None
            or entry.base_digest == planned.base_digest):
        return None
    same_base = entry.base_image.split("@", 1)[0] == planned.base_image.split("@", 1)[0]
    base = entry.base_image if same_base and "@" in planned.base_image else planned.base_image
    then = complete_image(planned, source, base_image=base, base_digest=entry.base_digest, builder=builder)
    if (then.input_hash != entry.input_hash
            or registry.manifest_digest(_in_registry(planned), planned.tag) != entry.digest):
        return None
    return ImageResult(then, ImageStatus.REUSED, digest=entry.digest)


def _build_one(
    planned: PlannedImage, context: bytes, engine: Engine, progress: Progress, network_mode: str | None,
    nocache: bool = False, registry: Registry | None = None,
) -> ImageResult:
    started = time.monotonic()
    progress(plan_event(planned, "started", f"building {planned.ref} from {planned.base_image}"))
    cache, in_registry = (("built", False) if nocache
                          else _dependency_cache(planned, engine, registry, progress))

    def on_line(line: BuildLine) -> None:
        elapsed = time.monotonic() - started
        if line.instruction is not None:
            where = f"{line.step}/{line.total}" if line.total else f"{line.step} [{line.stage}]"
            text = f"step {where}: {' '.join(line.instruction.split())[:100]}"
            progress(plan_event(planned, "step", text, step=line.step, total=line.total, elapsed=elapsed))
        else:
            progress(plan_event(planned, "output", line.text, step=line.step, total=line.total,
                                cached=line.cached, elapsed=elapsed))

    # BuildKit takes hits from the cache image's inline cache on top of its own; the classic builder
    # would take them only from the cache image once given one: it gets it only from the registry
    cache_from = cache == "registry" or (cache == "engine" and engine.builder().buildkit)
    outcome = engine.build(context, tag=planned.ref, buildargs=planned.build_args, network_mode=network_mode,
                           nocache=nocache, on_line=on_line, platform=planned.platform or None,
                           cache_from=[planned.cache_ref] if cache_from else [],
                           keep=(DEPS_STAGE, planned.cache_ref) if cache == "built" else None)
    if cache == "built" and not outcome.kept:  # a Dockerfile without a `deps` stage: nothing to keep
        cache, in_registry = "", True
    seconds = time.monotonic() - started
    info = engine.inspect(outcome.image_id)
    if planned.platform and (info is None or info.platform != planned.platform):
        built = info.platform if info is not None else "nothing the engine shows"
        raise BuildFailed(f"{planned.ref} was built as {built}, not {planned.platform}: its base image "
                          f"{planned.base_image} is not a {planned.platform} image", step=None,
                          instruction=None, tail=())
    result = ImageResult(planned, ImageStatus.BUILT, outcome.image_id, info.size if info else 0, seconds,
                         outcome.cached_steps, outcome.cacheable_steps, timings=outcome.timings,
                         cache=cache, cache_to_push=not in_registry)
    cached = f"{outcome.rebuilt_steps} steps rebuilt" if outcome.rebuilt_steps else "all steps cached"
    progress(plan_event(planned, "built", f"built {planned.ref} in {seconds:.1f}s ({cached})",
                        elapsed=seconds))
    return result


GIB_PER_BUILD = 2  # memory one image build may take (Airflow's, compiling its C extensions, about that)


def room_for(images: int, *, cpus: int | None = None, memory_gib: float | None = None) -> int:
    """How many of `images` build at once: every one when the machine has the cores and the memory
    for them (builds wait on the network and the disk as much as on a core, so up to one more
    than the cores), at least one."""
    cpus = cpus or os.cpu_count() or 1
    if memory_gib is None:
        try:
            memory_gib = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
        except (ValueError, OSError):
            memory_gib = GIB_PER_BUILD
    return max(1, min(images, cpus + 1, int(memory_gib // GIB_PER_BUILD)))


def build_images(job: ImageJob, clients: Clients, *, progress: Progress = to_log,
                 on_result: Callable[[ImageResult], None] | None = None) -> list[ImageResult]:
    """Build every image of `job` (or reuse an identical one), as many at once as `job.jobs` (0:
    as many as the machine has room for, `room_for`); raise naming each failed one. Nothing is
    pushed here. `on_result` gets each image's result as soon as it is there (the smoke test starts
    on it while the others build). An image the release record says this release already pushed is
    kept although the base image moved since."""
    engine = clients.engine
    registry = clients.registry if job.check_registry else None
    results: dict[str, ImageResult] = {}
    to_build = []
    for planned in job.images:
        if job.nocache:  # a deliberate cold build: neither the registry's nor the engine's copy counts
            to_build.append(planned)
            continue
        pushed = _pushed_earlier(planned, job.source_of(planned), job.recorded.get(planned.key), registry,
                                 job.builder)
        if pushed is not None:
            progress(plan_event(planned, "reused", f"{planned.ref}: this release pushed it already (its "
                                "record says so), from a base image that has moved since; kept"))
            results[planned.ref] = pushed
            if on_result is not None:
                on_result(pushed)
            continue
        try:
            found = find_existing(planned, engine, registry, kind=job.kind, replace_tags=job.replace_tags)
        except ServiceError as exc:
            progress(plan_event(planned, "note", f"registry not checked: {exc}"))
            found = find_existing(planned, engine, None, kind=job.kind, replace_tags=job.replace_tags)
        if found is None:
            to_build.append(planned)
            continue
        where = "the registry" if found.status is ImageStatus.REUSED else "the engine"
        progress(plan_event(planned, "reused", f"{planned.ref}: {where} has it from the same inputs"))
        results[planned.ref] = found
        if on_result is not None:
            on_result(found)
    workers = min(len(to_build), job.jobs) if job.jobs > 0 else room_for(len(to_build))
    if to_build:
        at_once = f"; {workers} images at a time" if len(to_build) > 1 else ""
        progress(Event(f"builder: {engine.builder()}{at_once}", kind="info"))
    lock = threading.Lock()

    def locked(event: str | Event) -> None:
        with lock:
            progress(event)

    network_mode = network_mode_for_job(job)
    failures: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="image") as pool:
        futures = {p.ref: pool.submit(_build_one, p, job.context, engine, locked, network_mode, job.nocache,
                                      registry)
                   for p in to_build}
        by_ref = {p.ref: p for p in to_build}
        for future in as_completed(futures.values()):
            ref = next(r for r, pending in futures.items() if pending is future)
            planned = by_ref[ref]
            try:
                results[ref] = future.result()
            except (BuildFailed, ServiceError, CommandError) as exc:
                failures[planned.name] = str(exc)
                locked(plan_event(planned, "failed", str(exc).splitlines()[0]))
                continue
            if on_result is not None and not failures:
                on_result(results[ref])
    if failures:
        lines = "\n".join(f"{subject}: {msg}" for subject, msg in sorted(failures.items()))
        names = ", ".join(subject.replace("python", "Python ", 1) for subject in sorted(failures))
        raise CommandError(f"image build failed for {names}:\n{lines}")
    return [results[planned.ref] for planned in job.images]


def network_mode_for_job(job: ImageJob) -> str | None:
    """Host networking when any variant installs from a package index on this machine."""
    modes = {network_mode_for(source) for source in job.sources.values()}
    return "host" if "host" in modes else None


def push_images(results: Sequence[ImageResult], engine: Engine, *, progress: Progress = to_log
                ) -> list[ImageResult]:
    """Push every image not already in the registry (and the dependency stage's cache image the
    registry lacks); return results carrying registry digests."""
    pushed = []
    for result in results:
        if result.status is ImageStatus.REUSED and result.digest:
            pushed.append(result)
            continue
        progress(plan_event(result.planned, "pushing", f"pushing {result.ref}"))
        started = time.monotonic()
        digest = engine.push(result.ref)
        seconds = time.monotonic() - started
        message = f"{result.ref}@{digest} ({seconds:.1f}s)"
        progress(plan_event(result.planned, "pushed", message, elapsed=seconds))
        if result.cache_to_push:
            started = time.monotonic()
            engine.push(result.planned.cache_ref)
            seconds = time.monotonic() - started
            message = f"dependency stage {result.planned.cache_ref} pushed for other runners ({seconds:.1f}s)"
            progress(plan_event(result.planned, "cache", message, elapsed=seconds))
        pushed.append(replace(result, digest=digest, cache_to_push=False))
    return pushed
