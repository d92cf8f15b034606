"""Python base images built here from Debian (no Docker Hub), cached in the engine by a recipe label.

The suites that are missing are debootstrapped concurrently (as many at once as there are cores),
and the packages they download are kept under the sandbox's state (`cache/debootstrap/<suite>`),
so building a suite again (a new recipe, another sandbox) downloads nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from release.adapters import apt, rootfs
from release.adapters.engine import Engine, ImageInfo
from release.adapters.registry import RegistryClient
from release.errors import ConfigError, ReleaseError, ServiceError, ToolMissingError
from release.progress import Event, Progress
from release.sandbox.state import Layout
from release.sandbox.tools import apt_install, ensure_program

SANDBOX_SUITES: Mapping[str, str] = {"3.9": "bullseye", "3.11": "bookworm", "3.13": "trixie"}
PACKAGES: tuple[str, ...] = ("python3", "python3-venv", "ca-certificates")
RECIPE_VERSION = 1
MIRROR = "http://deb.debian.org/debian"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LABEL_RECIPE = "org.release-pipeline.base.recipe"
LABEL_PYTHON = "org.release-pipeline.base.python"
REPOSITORY = "sandbox/python"
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def suite_of(flavour: str) -> str:
    try:
        return SANDBOX_SUITES[flavour]
    except KeyError:
        known = ", ".join(SANDBOX_SUITES)
        raise ConfigError(f"no sandbox base image for Python {flavour!r}; choose one of {known}") from None


def recipe_digest(
    suite: str, packages: Iterable[str], ca_bundle_sha256: str, version: int = RECIPE_VERSION
) -> str:
    """Content key of a base image: same inputs, same key; any change of input, another key."""
    payload = json.dumps(
        {
            "suite": suite,
            "packages": sorted(set(packages)),
            "ca_bundle_sha256": ca_bundle_sha256,
            "recipe_version": version,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def ca_bundle_sha256(progress: Progress) -> str:
    if not CA_BUNDLE.exists():
        if not apt.can_install():
            raise ToolMissingError(f"{CA_BUNDLE} is missing; install the 'ca-certificates' package")
        apt_install(["ca-certificates"], progress)
    return hashlib.sha256(CA_BUNDLE.read_bytes()).hexdigest()


def local_ref(flavour: str, repository: str = REPOSITORY) -> str:
    return f"{repository}:{flavour}"


def registry_ref(registry: str, flavour: str, repository: str = REPOSITORY) -> str:
    return f"{registry}/{repository}:{flavour}"


def registry_config_digest(registry: str, flavour: str, repository: str = REPOSITORY) -> str | None:
    """Config digest (= image id) of the registry's `sandbox/python:<flavour>`, or None if absent."""
    return RegistryClient(registry).config_digest(repository, flavour)


def _local_image(engine: Engine, flavour: str, repository: str = REPOSITORY) -> ImageInfo | None:
    return engine.inspect(local_ref(flavour, repository))


def debootstrap_cache(layout: Layout, suite: str) -> Path:
    """Where the packages debootstrap downloads for `suite` are kept between runs."""
    return layout.cache / "debootstrap" / suite


def ensure_base_images(
    flavours: Sequence[str], registry: str, layout: Layout, progress: Progress, *,
    repository: str = REPOSITORY, jobs: int | None = None, recipe_version: int = RECIPE_VERSION,
) -> dict[str, str]:
    """`ensure_base_image` for every flavour, the ones to build concurrently (at most `jobs`, by
    default one per core); flavour -> registry ref. The first failure is raised once all finish."""
    if not flavours:
        return {}
    ca_bundle = ca_bundle_sha256(progress)
    engine = Engine(timeout=600)
    for flavour in flavours:
        image = _local_image(engine, flavour, repository)
        recipe = recipe_digest(suite_of(flavour), PACKAGES, ca_bundle, recipe_version)
        if image is None or image.labels.get(LABEL_RECIPE) != recipe:  # one install, before the threads
            ensure_program("debootstrap", "debootstrap", progress)
            break
    lock = threading.Lock()

    def said(message: str | Event) -> None:
        with lock:
            progress(message)

    workers = max(1, min(len(flavours), jobs or os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="base-image") as pool:
        def one(flavour: str) -> str:
            return ensure_base_image(flavour, registry, layout, said, repository=repository,
                                     ca_bundle=ca_bundle, recipe_version=recipe_version)

        futures = {flavour: pool.submit(one, flavour) for flavour in flavours}
        errors = []
        refs = {}
        for flavour, future in futures.items():
            try:
                refs[flavour] = future.result()
            except ReleaseError as exc:
                errors.append(exc)
    if errors:
        raise errors[0]
    return refs


def ensure_base_image(
    flavour: str, registry: str, layout: Layout, progress: Progress, *, repository: str = REPOSITORY,
    ca_bundle: str | None = None, recipe_version: int = RECIPE_VERSION,
) -> str:
    """Build (or reuse) `sandbox/python:<flavour>` and make sure the registry holds it; return its ref."""
    suite = suite_of(flavour)
    recipe = recipe_digest(suite, PACKAGES, ca_bundle or ca_bundle_sha256(progress), recipe_version)
    engine = Engine(timeout=600)
    local = local_ref(flavour, repository)
    image = _local_image(engine, flavour, repository)
    if image is not None and image.labels.get(LABEL_RECIPE) == recipe:
        progress(f"base image {local}: reusing {image.short_id} (recipe {recipe[:12]})")
    else:
        progress(f"base image {local}: building from Debian {suite} (a minute or two)")
        _build(engine, flavour, suite, recipe, layout, progress, local)
        image = _local_image(engine, flavour, repository)
        if image is None or image.labels.get(LABEL_RECIPE) != recipe:
            raise ServiceError(f"docker import produced no {local} with recipe {recipe[:12]}")
        progress(f"base image {local}: built {image.short_id}")
    ref = registry_ref(registry, flavour, repository)
    if registry_config_digest(registry, flavour, repository) == image.id:
        progress(f"base image {ref}: already in the registry")
        return ref
    engine.tag(image.id, ref)
    engine.push(ref)
    if registry_config_digest(registry, flavour, repository) != image.id:
        raise ServiceError(f"pushed {ref} but the registry does not serve image {image.short_id}")
    progress(f"base image {ref}: pushed")
    return ref


def _build(engine: Engine, flavour: str, suite: str, recipe: str, layout: Layout, progress: Progress,
           ref: str) -> None:
    ensure_program("debootstrap", "debootstrap", progress)
    layout.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"rootfs-{suite}-", dir=layout.cache))
    try:
        tree = rootfs.debootstrap(suite, work / "rootfs", packages=PACKAGES, mirror=MIRROR,
                                  log_file=layout.log(f"debootstrap-{suite}"),
                                  cache_dir=debootstrap_cache(layout, suite))
        _trim(tree)
        target = tree / CA_BUNDLE.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.copyfile(CA_BUNDLE, target)
        tarball = rootfs.pack(tree, work / "rootfs.tar")
        progress(f"base image {ref}: importing rootfs ({tarball.stat().st_size >> 20} MB)")
        engine.import_rootfs(
            tarball,
            ref,
            changes=[
                f'LABEL {LABEL_RECIPE}="{recipe}" {LABEL_PYTHON}="{flavour}"',
                f"ENV PATH={PATH_ENV}",
                'CMD ["python3"]',
            ],
        )
    finally:
        rootfs.unmount_under(work)
        shutil.rmtree(work, ignore_errors=True)


def _trim(tree: Path) -> None:
    for cache in (tree / "var/cache/apt/archives", tree / "var/lib/apt/lists"):
        for entry in cache.glob("*"):
            if entry.is_file() and entry.name not in ("lock",):
                entry.unlink()


def base_image_status(registry: str | None, flavours: Sequence[str], *, answering: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    local: dict[str, str | None] = {}
    try:
        engine = Engine(timeout=10)
        for flavour in flavours:
            image = _local_image(engine, flavour)
            local[flavour] = image.labels.get(LABEL_RECIPE) if image is not None else None
    except ServiceError:
        pass
    for flavour in flavours:
        digest = None
        if registry and answering:
            with contextlib.suppress(ServiceError):
                digest = registry_config_digest(registry, flavour)
        out[flavour] = {
            "ref": registry_ref(registry, flavour) if registry else None,
            "present": digest is not None,
            "config_digest": digest,
            "local": local_ref(flavour),
            "local_present": local.get(flavour) is not None,
            "local_recipe": local.get(flavour),
        }
    return out
