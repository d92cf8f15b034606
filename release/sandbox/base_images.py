"""Python base images built here from Debian (no Docker Hub), cached in the engine by a recipe label."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from release.adapters import apt, rootfs
from release.adapters.engine import Engine, ImageInfo
from release.adapters.registry import RegistryClient
from release.errors import ConfigError, ServiceError, ToolMissingError
from release.progress import Progress
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


def local_ref(flavour: str) -> str:
    return f"{REPOSITORY}:{flavour}"


def registry_ref(registry: str, flavour: str) -> str:
    return f"{registry}/{REPOSITORY}:{flavour}"


def registry_config_digest(registry: str, flavour: str) -> str | None:
    """Config digest (= image id) of the registry's `sandbox/python:<flavour>`, or None if absent."""
    return RegistryClient(registry).config_digest(REPOSITORY, flavour)


def _is_base(image: ImageInfo | None, recipe: str) -> bool:
    """The imported root filesystem of this recipe: its label, and one layer (an image built FROM
    it inherits the label, never the single layer)."""
    return image is not None and image.labels.get(LABEL_RECIPE) == recipe and image.layers == 1


def _local_image(engine: Engine, flavour: str, recipe: str, registry: str = "") -> ImageInfo | None:
    """The engine's image of this recipe: the one this sandbox's registry tag names, else the one
    under the local tag, else any found by its recipe label (the local tag is shared by every
    checkout on the engine, and another recipe may have moved it on)."""
    refs = ([registry_ref(registry, flavour)] if registry else []) + [local_ref(flavour)]
    for ref in refs:
        image = engine.inspect(ref)
        if _is_base(image, recipe):
            return image
    found = (image for image in engine.find_labelled(LABEL_RECIPE, recipe) if _is_base(image, recipe))
    return next(found, None)


def ensure_base_image(flavour: str, registry: str, layout: Layout, progress: Progress) -> str:
    """Build (or reuse) `sandbox/python:<flavour>` and make sure the registry holds it; return its ref."""
    suite = suite_of(flavour)
    recipe = recipe_digest(suite, packages_of(suite), ca_bundle_sha256(progress))
    engine = Engine(timeout=600)
    image = _local_image(engine, flavour, recipe, registry)
    if image is not None:
        progress(f"base image {local_ref(flavour)}: reusing {image.short_id} (recipe {recipe[:12]})")
        engine.tag(image.id, local_ref(flavour))  # the local tag names this sandbox's image again
    else:
        progress(f"base image {local_ref(flavour)}: building from Debian {suite} (about a minute)")
        _build(engine, flavour, suite, recipe, layout, progress)
        image = _local_image(engine, flavour, recipe)
        if image is None:
            raise ServiceError(f"docker import produced no {local_ref(flavour)} with recipe {recipe[:12]}")
        progress(f"base image {local_ref(flavour)}: built {image.short_id}")
    ref = registry_ref(registry, flavour)
    if registry_config_digest(registry, flavour) == image.id:
        progress(f"base image {ref}: already in the registry")
        return ref
    engine.tag(image.id, ref)
    engine.push(ref)
    if registry_config_digest(registry, flavour) != image.id:
        raise ServiceError(f"pushed {ref} but the registry does not serve image {image.short_id}")
    progress(f"base image {ref}: pushed")
    return ref


def _build(engine: Engine, flavour: str, suite: str, recipe: str, layout: Layout, progress: Progress) -> None:
    ensure_program("debootstrap", "debootstrap", progress)
    layout.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"rootfs-{suite}-", dir=layout.cache))
    try:
        tree = rootfs.debootstrap(suite, work / "rootfs", packages=packages_of(suite), mirror=MIRROR,
                                  log_file=layout.log(f"debootstrap-{suite}"),
                                  script=DEBOOTSTRAP_SCRIPTS.get(suite, ""))
        _trim(tree)
        if suite in EXPIRING_SUITES:
            (tree / APT_NO_VALID_UNTIL).write_text('Acquire::Check-Valid-Until "false";\n', encoding="utf-8")
        target = tree / CA_BUNDLE.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.copyfile(CA_BUNDLE, target)
        tarball = rootfs.pack(tree, work / "rootfs.tar")
        progress(f"base image {local_ref(flavour)}: importing rootfs ({tarball.stat().st_size >> 20} MB)")
        engine.import_rootfs(
            tarball,
            local_ref(flavour),
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
