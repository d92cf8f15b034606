# SPDX-License-Identifier: Apache-2.0
"""Python base images built here from Debian (no Docker Hub), cached in the engine by a recipe label.

One image per flavour and platform. The host's platform keeps the tag it always had
(`sandbox/python:P`); another platform's image is debootstrapped for its Debian architecture
(the second stage under qemu) and loaded with a config that states that architecture, as
`sandbox/python:P-ARCH`. In the registry a sandbox that only ever built the host's platform has a
plain image under `sandbox/python:P`, as before; once another platform is built, each platform's
image is pushed as `P-ARCH` and `sandbox/python:P` becomes an image index over them, as Docker
Hub's python images are.

The suites that are missing are all debootstrapped at once (mostly waiting on the mirror and the
disk, they do not need a core each), and the packages they download are kept under the sandbox's
state (`cache/debootstrap/<suite>`, `<suite>-<arch>` for another architecture), so building a
suite again (a new recipe, another sandbox) downloads nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from release import locks, platforms
from release.adapters import apt, rootfs
from release.adapters.engine import Engine, ImageInfo
from release.adapters.registry import INDEX_TYPES as INDEX_MEDIA_TYPES
from release.adapters.registry import RegistryClient
from release.errors import ConfigError, ReleaseError, ServiceError, ToolMissingError
from release.progress import Event, Progress
from release.sandbox.state import Layout
from release.sandbox.tools import apt_install, ensure_program

# Each Debian suite carries one CPython as `python3`: that is the flavour its base image gives.
SANDBOX_SUITES: Mapping[str, str] = {"3.9": "bullseye", "3.11": "bookworm", "3.13": "trixie", "3.14": "forky"}
# python3-gdbm: Debian splits `dbm.gnu` out of the standard library; the official python images carry it.
PACKAGES: tuple[str, ...] = ("python3", "python3-venv", "python3-gdbm", "ca-certificates")
# More of the standard library Debian packages apart, where the suite's Python still has it
# (distutils and lib2to3 are gone from 3.12 and 3.13). tkinter stays out: the official slim
# images have no Tk libraries either.
SUITE_PACKAGES: Mapping[str, tuple[str, ...]] = {
    "bullseye": ("python3-distutils", "python3-lib2to3"),
    "bookworm": ("python3-distutils", "python3-lib2to3"),
}
# Suites the host's debootstrap may not know yet, and the script that builds them.
DEBOOTSTRAP_SCRIPTS: Mapping[str, str] = {"forky": "sid"}
# Testing suites' Release files expire within a week (Valid-Until); a mirror snapshot older than
# that is refused by apt unless told not to check: their images carry this apt setting.
EXPIRING_SUITES = frozenset({"forky", "sid"})
APT_NO_VALID_UNTIL = Path("etc/apt/apt.conf.d/99sandbox-no-valid-until")
RECIPE_VERSION = 2
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


def packages_of(suite: str) -> tuple[str, ...]:
    """What the base image of `suite` installs: Python with its whole standard library, CA certificates."""
    return (*PACKAGES, *SUITE_PACKAGES.get(suite, ()))


def recipe_digest(
    suite: str, packages: Iterable[str], ca_bundle_sha256: str, version: int = RECIPE_VERSION,
    architecture: str = "amd64",
) -> str:
    """Content key of a base image: same inputs, same key; any change of input, another key.
    (An amd64 recipe leaves the architecture out, so bases cached before platforms stay valid.)"""
    document: dict[str, Any] = {
        "suite": suite,
        "packages": sorted(set(packages)),
        "ca_bundle_sha256": ca_bundle_sha256,
        "recipe_version": version,
    }
    if architecture != "amd64":
        document["architecture"] = architecture
    payload = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def ca_bundle_sha256(progress: Progress) -> str:
    if not CA_BUNDLE.exists():
        if not apt.can_install():
            raise ToolMissingError(f"{CA_BUNDLE} is missing; install the 'ca-certificates' package")
        apt_install(["ca-certificates"], progress)
    return hashlib.sha256(CA_BUNDLE.read_bytes()).hexdigest()


def _tag(flavour: str, platform: str | None) -> str:
    """`P` for the host's platform (None), `P-ARCH` for another (e.g. `3.11-arm64`)."""
    return flavour if platform is None else f"{flavour}-{platforms.info(platform).suffix}"


def local_ref(flavour: str, platform: str | None = None, repository: str = REPOSITORY) -> str:
    """The engine's tag of one base image: the host platform's (None) is `sandbox/python:P`."""
    return f"{repository}:{_tag(flavour, platform)}"


def registry_ref(registry: str, flavour: str, repository: str = REPOSITORY) -> str:
    """What builds name as their base: one image, or an index over the platforms built."""
    return f"{registry}/{repository}:{flavour}"


def registry_config_digest(registry: str, flavour: str, repository: str = REPOSITORY) -> str | None:
    """Config digest (= image id) of the registry's `sandbox/python:<flavour>`, or None if absent."""
    return RegistryClient(registry).config_digest(repository, flavour)


def _local_image(engine: Engine, flavour: str, platform: str | None = None,
                 repository: str = REPOSITORY) -> ImageInfo | None:
    return engine.inspect(local_ref(flavour, platform, repository))


def _is_base(image: ImageInfo | None, recipe: str) -> bool:
    """The imported root filesystem of this recipe: its label, and one layer (an image built FROM
    it inherits the label, never the single layer)."""
    return image is not None and image.labels.get(LABEL_RECIPE) == recipe and image.layers == 1


def debootstrap_cache(layout: Layout, suite: str, debian_arch: str = "amd64") -> Path:
    """Where the packages debootstrap downloads for `suite` (and architecture) are kept between runs."""
    return layout.cache / "debootstrap" / (suite if debian_arch == "amd64" else f"{suite}-{debian_arch}")


def local_base_image(flavour: str, platform: str, host: str, layout: Layout, progress: Progress, *,
                     engine: Engine | None = None, repository: str = REPOSITORY, ca_bundle: str | None = None,
                     recipe_version: int = RECIPE_VERSION) -> ImageInfo:
    """Build (or reuse) the engine's base image of `flavour` for `platform`, by its recipe label,
    and check that it is that platform's (a tag of another architecture is rebuilt, never used)."""
    engine = engine or Engine(timeout=600)
    found = platforms.info(platform)
    suite = suite_of(flavour)
    recipe = recipe_digest(suite, packages_of(suite), ca_bundle or ca_bundle_sha256(progress),
                           recipe_version, architecture=found.architecture)
    own = None if platform == host else platform
    name = local_ref(flavour, own, repository)
    image = _reusable(engine, flavour, own, repository, recipe, platform)
    if image is None:
        # every checkout on the engine shares its base images: one builds a recipe, the others wait
        # for it and reuse what it built
        with locks.machine(f"base-{recipe[:16]}", progress, what=f"building base image {name}"):
            image = _reusable(engine, flavour, own, repository, recipe, platform)
            if image is None:
                emulated = " under emulation, about 6 minutes" if own else " (a minute or two)"
                progress(f"base image {name}: building from Debian {suite} for {platform}{emulated}")
                _build(engine, flavour, suite, recipe, layout, progress, platform=found, ref=name)
    if image is not None:
        progress(f"base image {name}: reusing {image.short_id} (recipe {recipe[:12]})")
        return image
    image = engine.inspect(name)
    if image is None or image.labels.get(LABEL_RECIPE) != recipe or image.platform != platform:
        raise ServiceError(f"loading the rootfs gave no {platform} image {name} with recipe {recipe[:12]}")
    progress(f"base image {name}: built {image.short_id}")
    return image


def _reusable(engine: Engine, flavour: str, own: str | None, repository: str, recipe: str,
              platform: str) -> ImageInfo | None:
    """The engine's image of this recipe for `platform`, tagged under its local name, or None."""
    image = _local_image(engine, flavour, own, repository)
    if _is_base(image, recipe) and image is not None and image.platform == platform:
        return image
    # the local tag is shared by every checkout on the engine, and another recipe may have moved it
    # on: this recipe's image is found by its label, and the tag names it again
    image = next((i for i in engine.find_labelled(LABEL_RECIPE, recipe)
                  if _is_base(i, recipe) and i.platform == platform), None)
    if image is not None:
        engine.tag(image.id, local_ref(flavour, own, repository))
    return image


def ensure_base_images(
    flavours: Sequence[str], registry: str, layout: Layout, progress: Progress, wanted: Sequence[str] = (), *,
    host: str | None = None, repository: str = REPOSITORY, local_repository: str | None = None,
    jobs: int | None = None, recipe_version: int = RECIPE_VERSION,
) -> dict[str, str]:
    """`ensure_base_image` for every flavour (and the `wanted` platforms, default the host's), the
    flavours all at once (at most `jobs` when given); flavour -> registry ref. The first failure is
    raised once all finish."""
    if not flavours:
        return {}
    host = host or platforms.host_platform()
    wanted = tuple(wanted) or (host,)
    ca_bundle = ca_bundle_sha256(progress)
    engine = Engine(timeout=600)
    local = local_repository or repository
    for flavour in flavours:
        for platform in wanted:
            image = _local_image(engine, flavour, None if platform == host else platform, local)
            suite = suite_of(flavour)
            recipe = recipe_digest(suite, packages_of(suite), ca_bundle, recipe_version,
                                   architecture=platforms.info(platform).architecture)
            if image is None or image.labels.get(LABEL_RECIPE) != recipe:  # one install, before the threads
                ensure_program("debootstrap", "debootstrap", progress)
                break
    lock = threading.Lock()

    def said(message: str | Event) -> None:
        with lock:
            progress(message)

    workers = max(1, min(len(flavours), jobs or len(flavours)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="base-image") as pool:
        def one(flavour: str) -> str:
            return ensure_base_image(flavour, registry, layout, said, wanted, host=host,
                                     repository=repository, local_repository=local, ca_bundle=ca_bundle,
                                     recipe_version=recipe_version)

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
    flavour: str, registry: str, layout: Layout, progress: Progress, wanted: Sequence[str] = (), *,
    host: str | None = None, repository: str = REPOSITORY, local_repository: str | None = None,
    ca_bundle: str | None = None, recipe_version: int = RECIPE_VERSION,
) -> str:
    """Build (or reuse) the base images of `flavour` for the `wanted` platforms (default: the
    host's) and make sure the registry holds them under `repository`; return the ref builds use.
    The engine keeps them under `local_repository` (default `repository`; another name than the
    shared one starts cold)."""
    host = host or platforms.host_platform()
    wanted = tuple(wanted) or (host,)
    engine = Engine(timeout=600)
    ca_bundle = ca_bundle or ca_bundle_sha256(progress)
    images = {p: local_base_image(flavour, p, host, layout, progress, engine=engine,
                                  repository=local_repository or repository, ca_bundle=ca_bundle,
                                  recipe_version=recipe_version) for p in wanted}
    ref = registry_ref(registry, flavour, repository)
    client = RegistryClient(registry)
    others = {p for p in platforms.SUPPORTED if p != host
              and client.manifest_digest(repository, _tag(flavour, p)) is not None}
    if set(wanted) == {host} and not others:  # only ever the host's: a plain image, as always
        _push(engine, client, images[host].id, ref, repository, flavour, progress)
        return ref
    for platform, image in images.items():
        _push(engine, client, image.id, f"{registry}/{repository}:{_tag(flavour, platform)}", repository,
              _tag(flavour, platform), progress)
    listed = []
    for platform in platforms.SUPPORTED:  # every platform the registry has, built now or before
        found = client.platform_image(repository, _tag(flavour, platform))
        if found is not None:
            listed.append(found)
    if not set(wanted) <= {i.platform for i in listed}:
        raise ServiceError(f"{ref}: the registry does not serve the per-platform base images just pushed")
    index = client.put_index(repository, listed, flavour)
    progress(f"base image {ref}: index {index.digest[:19]} over {', '.join(i.platform for i in listed)}")
    return ref


def _push(engine: Engine, client: RegistryClient, image_id: str, ref: str, repository: str, tag: str,
          progress: Progress) -> None:
    if client.config_digest(repository, tag) == image_id and client.media_type(repository, tag) not in \
            INDEX_MEDIA_TYPES:
        progress(f"base image {ref}: already in the registry")
        return
    engine.tag(image_id, ref)
    engine.push(ref)
    if client.config_digest(repository, tag) != image_id:
        raise ServiceError(f"pushed {ref} but the registry does not serve image {image_id[7:19]}")
    progress(f"base image {ref}: pushed")


def _build(engine: Engine, flavour: str, suite: str, recipe: str, layout: Layout, progress: Progress, *,
           platform: platforms.PlatformInfo, ref: str) -> None:
    ensure_program("debootstrap", "debootstrap", progress)
    layout.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"rootfs-{suite}-{platform.debian}-", dir=layout.cache))
    try:
        tree = rootfs.debootstrap(suite, work / "rootfs", packages=packages_of(suite), mirror=MIRROR,
                                  log_file=layout.log(f"debootstrap-{suite}-{platform.debian}"),
                                  arch=platform.debian,
                                  cache_dir=debootstrap_cache(layout, suite, platform.debian),
                                  script=DEBOOTSTRAP_SCRIPTS.get(suite, ""))
        _trim(tree)
        if suite in EXPIRING_SUITES:
            (tree / APT_NO_VALID_UNTIL).write_text('Acquire::Check-Valid-Until "false";\n', encoding="utf-8")
        target = tree / CA_BUNDLE.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.copyfile(CA_BUNDLE, target)
        tarball = rootfs.pack(tree, work / "rootfs.tar")
        progress(f"base image {ref}: loading rootfs ({tarball.stat().st_size >> 20} MB, {platform.name})")
        engine.load_rootfs(
            tarball, ref, architecture=platform.architecture, os=platform.os,
            labels={LABEL_RECIPE: recipe, LABEL_PYTHON: flavour},
            env=[f"PATH={PATH_ENV}"], cmd=["python3"],
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
            image = engine.inspect(local_ref(flavour))
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
