# SPDX-License-Identifier: Apache-2.0
"""Build one production image per Python flavour and image variant, reuse what the registry
already has, push.

Order for a release: `build_images` (all flavours and variants), `smoke.smoke_images` (all), then
`push_images` (all) -- `smoke.ship_images` does the three, so a failing image pushes nothing.

With several platforms each flavour has one image per platform, built FROM its base image pinned
to that platform's digest (a local tag of the base could be another architecture's) and checked,
once built, to be that platform's; it is pushed under its platform's helper tag, and an index
(`steps.index`) lists them under the flavour's tag. Variants are built for one platform only
(release/config.py refuses them with several).
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
from pathlib import Path
from typing import Any

from release import image as recipe
from release.adapters import git
from release.adapters.engine import BuildFailed, BuildLine, Engine, StepTime, split_ref
from release.adapters.registry import RegistryClient, parse_reference
from release.config import ReleaseConfig
from release.errors import CommandError, ConfigError, RefusedError, ReleaseError, ServiceError
from release.plan.images import (
    CONSTRAINTS_FILE,
    CONTEXT_DIR,
    DEPS_STAGE,
    ENTRYPOINT_FILE,
    INPUT_HASH_LABEL,
    ImagePlan,
    ImageSource,
    WheelFile,
    context_tar,
    metadata_labels,
    network_mode_for,
    parse_metadata,
    plan_image,
)
from release.plan.tags import BuildKind
from release.progress import Event, Progress, to_log
from release.record import ImageEntry, sha256_of

log = logging.getLogger("release.images")


def image_event(flavour: str, kind: str, message: str, step: int | None = None, total: int | None = None,
                cached: bool = False, elapsed: float = 0.0, platform: str = "", variant: str = "") -> Event:
    """Progress of one flavour's image: the subject is `pythonP` (`VARIANT-pythonP` for a variant,
    `pythonP linux/arm64` for one platform's image among several)."""
    name = f"{variant}-python{flavour}" if variant else f"python{flavour}"
    subject = name + (f" {platform}" if platform else "")
    return Event(message, subject, kind, step, total, cached, elapsed)


def plan_event(plan: ImagePlan, kind: str, message: str, **details: Any) -> Event:
    return image_event(plan.flavour, kind, message, platform=plan.platform if plan.index_tag else "",
                       variant=plan.variant, **details)


@dataclass(frozen=True)
class ImageResult:
    plan: ImagePlan
    status: str  # built | reused (registry) | local (engine already had it)
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
    def flavour(self) -> str:
        return self.plan.flavour

    @property
    def variant(self) -> str:
        return self.plan.variant

    @property
    def tag(self) -> str:
        """The tag it is built and pushed under; names the flavour and the variant."""
        return self.plan.tag

    @property
    def platform(self) -> str:
        return self.plan.platform

    @property
    def ref(self) -> str:
        return self.plan.ref

    def record_entry(self) -> ImageEntry:
        """The release record's entry for this image (one of several platforms': keyed by both)."""
        plan = self.plan
        return ImageEntry(self.flavour, self.ref, self.digest, self.image_id, plan.input_hash,
                          plan.base_image, plan.base_digest, plan.variant,
                          plan.platform if plan.index_tag else "")


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


def unpinned(base: str) -> str:
    """`name:tag@digest` -> `name:tag`: the base image as configured, whatever it points at now."""
    return base.split("@", 1)[0]


def platform_digest(base: str, platform: str) -> str:
    """The digest of `platform`'s image of `base` now, read from its registry: an index's entry
    (checked against that image's config), or a plain image of that platform."""
    registry, repository, reference = parse_reference(unpinned(base))
    index = RegistryClient(registry).image_index(repository, reference)
    if index is None:
        raise ServiceError(f"base image {base} is not in its registry {registry}")
    digests = index.digests()
    if platform not in digests:
        has = ", ".join(digests)
        raise ConfigError(f"base image {unpinned(base)} has no {platform} image (it has {has}); "
                          "use a base image published for every configured platform")
    return digests[platform]


def base_for_platform(engine: Engine, base: str, platform: str) -> tuple[str, str]:
    """`base` pinned to `platform`'s image: (`name:tag@digest`, digest), pulled by digest so the
    engine builds FROM exactly it, never a local tag of another architecture."""
    digest = platform_digest(base, platform)
    name = unpinned(base)
    engine.pull(f"{split_ref(name)[0]}@{digest}", platform=platform)
    return f"{name}@{digest}", digest


def plan_images(
    sources: Sequence[ImageSource],
    *,
    engine: Engine,
    repository: str,
    flavours: Sequence[str],
    base_images: Mapping[str, str],
    kind: BuildKind,
    platforms: Sequence[str] = ("",),
    of_several: bool = False,
    host: str = "",
    builder: str = "",
) -> list[ImagePlan]:
    """One plan per source (variant), flavour and platform; learns each base image's current digest
    once (pulling it). An image for another platform than the `host`'s, or one of several, is built
    FROM its base pinned to that platform's digest; a single host-platform image FROM the base as
    named."""
    missing = [p for p in flavours if p not in base_images]
    if missing:
        raise ConfigError(f"no base image given for Python {', '.join(missing)}")
    bases: dict[tuple[str, str], tuple[str, str]] = {}
    for flavour in flavours:
        for platform in platforms:
            if of_several or (platform and platform != host):
                bases[flavour, platform] = base_for_platform(engine, base_images[flavour], platform)
            else:
                bases[flavour, platform] = base_images[flavour], engine.current_digest(base_images[flavour])
    return [plan_image(source, flavour=flavour, repository=repository, kind=kind,
                       base_image=bases[flavour, platform][0], base_digest=bases[flavour, platform][1],
                       platform=platform, of_several=of_several, builder=builder)
            for source in sources for flavour in flavours for platform in platforms]


def find_existing(
    plan: ImagePlan, engine: Engine, registry: RegistryClient | None, image: str, *, kind: BuildKind,
    replace_tags: bool,
) -> ImageResult | None:
    """The image already built from the same inputs (registry first, then the engine), if any."""
    if registry is not None:
        labels = registry.image_labels(image, plan.tag)
        if labels is not None and labels.get(INPUT_HASH_LABEL) == plan.input_hash:
            return ImageResult(plan, "reused", digest=registry.manifest_digest(image, plan.tag))
        if labels is not None and kind is BuildKind.RELEASE and not replace_tags:
            raise RefusedError(
                f"{plan.ref} is already in the registry, built from other inputs (input hash "
                f"{labels.get(INPUT_HASH_LABEL) or 'none'}, now {plan.input_hash}); version tags are "
                "immutable: release a new version, or replace it deliberately"
            )
    local = engine.inspect(plan.ref)
    if (local is not None and local.labels.get(INPUT_HASH_LABEL) == plan.input_hash
            and (not plan.platform or local.platform == plan.platform)):
        return ImageResult(plan, "local", image_id=local.id, size=local.size)
    return None


def _dependency_cache(plan: ImagePlan, engine: Engine, registry: RegistryClient | None,
                      progress: Progress) -> tuple[str, bool]:
    """Where this build's dependency stage comes from, and whether the registry has it.

    `engine`: the engine has the cache image, so its own build cache serves (no cache-from: the
    classic builder would then take hits from the cache-from images only). `registry`: pulled from
    the registry, the build uses it as cache-from (a runner that starts with an empty engine).
    `built`: neither has it; the build makes it and tags it. Each platform of several has its own
    cache image (the platform is in its dependency hash), pulled as that platform's.
    """
    repository, tag = split_ref(plan.cache_ref)
    in_registry = False
    if registry is not None:
        try:
            in_registry = registry.manifest_digest(repository.partition("/")[2], tag) is not None
        except ServiceError as exc:
            progress(plan_event(plan, "note", f"dependency cache not looked up: {exc}"))
    local = engine.inspect(plan.cache_ref)
    if local is not None and (not plan.platform or local.platform == plan.platform):
        return "engine", in_registry
    if in_registry:
        started = time.monotonic()
        try:
            engine.pull(plan.cache_ref, platform=plan.platform or None)
        except ServiceError as exc:
            progress(plan_event(plan, "note", f"dependency cache not pulled: {exc}"))
            return "built", True
        message = f"pulled the dependency stage {plan.cache_ref} in {time.monotonic() - started:.1f}s"
        progress(plan_event(plan, "cache", message, elapsed=time.monotonic() - started))
        return "registry", True
    return "built", False


def image_key(plan: ImagePlan) -> str:
    """The image's key in the release record (`ImageEntry.key`): its flavour (`VARIANT-flavour` for
    a variant's image), and `... platform` for one platform's image among several."""
    name = f"{plan.variant}-{plan.flavour}" if plan.variant else plan.flavour
    return f"{name} {plan.platform}" if plan.index_tag else name


def _pushed_earlier(plan: ImagePlan, source: ImageSource, entry: ImageEntry | None,
                    registry: RegistryClient | None, image: str, kind: BuildKind) -> ImageResult | None:
    """The image an earlier run of this release pushed, when only the base image moved since: the
    registry still holds the recorded digest under the tag, and planning with the recorded base
    digest gives the recorded input hash (so the labels the smoke test checks are that image's).
    A base pinned to a platform's digest (several platforms) is re-planned pinned as recorded."""
    if entry is None or not entry.digest or registry is None or entry.base_digest == plan.base_digest:
        return None
    same_base = unpinned(entry.base_image) == unpinned(plan.base_image)
    base = entry.base_image if same_base and "@" in plan.base_image else plan.base_image
    then = plan_image(source, flavour=plan.flavour, repository=plan.repository, kind=kind,
                      base_image=base, base_digest=entry.base_digest, platform=plan.platform,
                      of_several=bool(plan.index_tag))
    if then.input_hash != entry.input_hash or registry.manifest_digest(image, plan.tag) != entry.digest:
        return None
    return ImageResult(then, "reused", digest=entry.digest)


def _build_one(
    plan: ImagePlan, context: bytes, engine: Engine, progress: Progress, network_mode: str | None,
    nocache: bool = False, registry: RegistryClient | None = None,
) -> ImageResult:
    started = time.monotonic()
    progress(plan_event(plan, "started", f"building {plan.ref} from {plan.base_image}"))
    cache, in_registry = ("built", False) if nocache else _dependency_cache(plan, engine, registry, progress)

    def on_line(line: BuildLine) -> None:
        elapsed = time.monotonic() - started
        if line.instruction is not None:
            where = f"{line.step}/{line.total}" if line.total else f"{line.step} [{line.stage}]"
            text = f"step {where}: {' '.join(line.instruction.split())[:100]}"
            progress(plan_event(plan, "step", text, step=line.step, total=line.total, elapsed=elapsed))
        else:
            progress(plan_event(plan, "output", line.text, step=line.step, total=line.total,
                                cached=line.cached, elapsed=elapsed))

    # BuildKit takes hits from the cache image's inline cache on top of its own; the classic builder
    # would take them only from the cache image once given one: it gets it only from the registry
    cache_from = cache == "registry" or (cache == "engine" and engine.builder().buildkit)
    outcome = engine.build(context, tag=plan.ref, buildargs=plan.build_args, network_mode=network_mode,
                           nocache=nocache, on_line=on_line, platform=plan.platform or None,
                           cache_from=[plan.cache_ref] if cache_from else [],
                           keep=(DEPS_STAGE, plan.cache_ref) if cache == "built" else None)
    if cache == "built" and not outcome.kept:  # a Dockerfile without a `deps` stage: nothing to keep
        cache, in_registry = "", True
    seconds = time.monotonic() - started
    info = engine.inspect(outcome.image_id)
    if plan.platform and (info is None or info.platform != plan.platform):
        built = info.platform if info is not None else "nothing the engine shows"
        raise BuildFailed(f"{plan.ref} was built as {built}, not {plan.platform}: its base image "
                          f"{plan.base_image} is not a {plan.platform} image", step=None, instruction=None,
                          tail=())
    result = ImageResult(plan, "built", outcome.image_id, info.size if info else 0, seconds,
                         outcome.cached_steps, outcome.cacheable_steps, timings=outcome.timings,
                         cache=cache, cache_to_push=not in_registry)
    cached = f"{outcome.rebuilt_steps} steps rebuilt" if outcome.rebuilt_steps else "all steps cached"
    progress(plan_event(plan, "built", f"built {plan.ref} in {seconds:.1f}s ({cached})", elapsed=seconds))
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


def build_images(
    config: ReleaseConfig, version: str, *, wheels: Sequence[Path], registry: str,
    flavours: Sequence[str] | None = None, base_images: Mapping[str, str] | None = None,
    kind: BuildKind = BuildKind.RELEASE, jobs: int = 0, replace_tags: bool = False,
    check_registry: bool = True, source: ImageSource | None = None, engine: Engine | None = None,
    progress: Progress = to_log, nocache: bool = False, platforms: Sequence[str] | None = None,
    on_result: Callable[[ImageResult], None] | None = None,
    recorded: Mapping[str, ImageEntry] | None = None, variants: Sequence[str] | None = None,
) -> list[ImageResult]:
    """Build every flavour's image in every variant for each platform (or reuse an identical one);
    raise naming each failed one.

    `platforms` chooses some of the configured ones (default: all); `variants` some of the
    configured variants (default: all). `source` overrides what is read from the tree (e.g.
    revision, index URL) for the default image; each variant gets it with its own extras and build
    args. `wheels` are the exact files the release built. Nothing is pushed here. `on_result`
    gets each image's result as soon as it is there
    (the smoke test starts on it while the others build). `recorded` are the images the release
    record says this release already pushed (by `ImageEntry.key`): a rerun keeps them although
    the base image moved since. `jobs`: how many images build at once; 0 (the default) as many as
    the machine has room for (`room_for`).
    """
    engine = engine or Engine()
    chosen = list(flavours or config.python)
    bases = dict(base_images or {p: config.base_image_for(p, registry=registry) for p in chosen})
    source = source or image_source(config, str(version), wheels)
    wanted = config.variant_names if variants is None else variants
    sources = [variant_source(config, source, v) for v in wanted]
    plans = plan_images(sources, engine=engine, repository=f"{registry}/{config.image}", flavours=chosen,
                        base_images=bases, kind=kind, platforms=list(platforms or config.image_platforms),
                        of_several=config.multi_platform, host=config.host_platform,
                        builder="buildkit" if engine.builder().buildkit else "")
    client = RegistryClient(registry) if check_registry else None
    results: dict[str, ImageResult] = {}
    to_build = []
    for plan in plans:
        if nocache:  # a deliberate cold build: neither the registry's nor the engine's copy counts
            to_build.append(plan)
            continue
        own = next(s for s in sources if s.variant == plan.variant)
        pushed = _pushed_earlier(plan, own, (recorded or {}).get(image_key(plan)), client, config.image, kind)
        if pushed is not None:
            progress(plan_event(plan, "reused", f"{plan.ref}: this release pushed it already (its record "
                                "says so), from a base image that has moved since; kept"))
            results[plan.ref] = pushed
            if on_result is not None:
                on_result(pushed)
            continue
        try:
            found = find_existing(plan, engine, client, config.image, kind=kind, replace_tags=replace_tags)
        except ServiceError as exc:
            progress(plan_event(plan, "note", f"registry not checked: {exc}"))
            found = find_existing(plan, engine, None, config.image, kind=kind, replace_tags=replace_tags)
        if found is None:
            to_build.append(plan)
            continue
        where = "the registry" if found.status == "reused" else "the engine"
        progress(plan_event(plan, "reused", f"{plan.ref}: {where} has it from the same inputs"))
        results[plan.ref] = found
        if on_result is not None:
            on_result(found)
    context = build_context(config, source, wheels) if to_build else b""
    workers = min(len(to_build), jobs) if jobs > 0 else room_for(len(to_build))
    if to_build:
        at_once = f"; {workers} images at a time" if len(to_build) > 1 else ""
        progress(Event(f"builder: {engine.builder()}{at_once}", kind="info"))
    lock = threading.Lock()

    def locked(event: str | Event) -> None:
        with lock:
            progress(event)

    failures: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="image") as pool:
        futures = {p.ref: pool.submit(_build_one, p, context, engine, locked, network_mode_for(source),
                                      nocache, client)
                   for p in to_build}
        by_ref = {p.ref: p for p in to_build}
        for future in as_completed(futures.values()):
            ref = next(r for r, pending in futures.items() if pending is future)
            plan = by_ref[ref]
            try:
                results[ref] = future.result()
            except (BuildFailed, ServiceError, CommandError) as exc:
                failures[plan.subject] = str(exc)
                locked(plan_event(plan, "failed", str(exc).splitlines()[0]))
                continue
            if on_result is not None and not failures:
                on_result(results[ref])
    if failures:
        lines = "\n".join(f"{subject}: {msg}" for subject, msg in sorted(failures.items()))
        names = ", ".join(subject.replace("python", "Python ", 1) for subject in sorted(failures))
        raise CommandError(f"image build failed for {names}:\n{lines}")
    return [results[plan.ref] for plan in plans]


def push_images(
    results: Sequence[ImageResult], *, engine: Engine | None = None, progress: Progress = to_log
) -> list[ImageResult]:
    """Push every image not already in the registry (and the dependency stage's cache image the
    registry lacks); return results carrying registry digests."""
    engine = engine or Engine()
    pushed = []
    for result in results:
        if result.status == "reused" and result.digest:
            pushed.append(result)
            continue
        progress(plan_event(result.plan, "pushing", f"pushing {result.ref}"))
        started = time.monotonic()
        digest = engine.push(result.ref)
        seconds = time.monotonic() - started
        message = f"{result.ref}@{digest} ({seconds:.1f}s)"
        progress(plan_event(result.plan, "pushed", message, elapsed=seconds))
        if result.cache_to_push:
            started = time.monotonic()
            engine.push(result.plan.cache_ref)
            seconds = time.monotonic() - started
            message = f"dependency stage {result.plan.cache_ref} pushed for other runners ({seconds:.1f}s)"
            progress(plan_event(result.plan, "cache", message, elapsed=seconds))
        pushed.append(replace(result, digest=digest, cache_to_push=False))
    return pushed
