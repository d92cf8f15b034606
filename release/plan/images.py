# SPDX-License-Identifier: Apache-2.0
"""What goes into one flavour's image: its tag, build args, labels and input hash. Pure: no I/O.

The input hash covers everything that decides an image's content and labels except the build
time: the Dockerfile (with the helper files the build context carries, `release.image`), the
wheels (sha256), the constraints, the base image digest and every build arg, and the platform
when the image is one of several. Not the builder: BuildKit and the classic builder make the same
image from the same inputs. An image in the registry whose input-hash label equals the plan's is
not rebuilt.

The dependency hash covers what decides the Dockerfile's `deps` stage: the Dockerfile, the base
image digest, the wheels' names and declared requirements (not their bytes), the constraints and
the build args the build stages read, and the platform when the image is one of several. The
pipeline keeps that stage as a cache image under it (`plan.tags.cache_tag`), so a runner with an
empty engine pulls the dependency layers instead of installing them again. The builder still
checks every cached step; the hash only names the image.
"""

from __future__ import annotations

import email
import hashlib
import io
import json
import re
import shlex
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from release.config import DEFAULT_BUILD_ARGS
from release.errors import RefusedError
from release.plan.provenance import SBOM_LABEL
from release.plan.release import PlannedImage
from release.plan.tags import BuildKind
from release.record import ImageEntry

OCI = "org.opencontainers.image"
INPUT_HASH_LABEL = "org.release-pipeline.input-hash"
WHEEL_SHA256_LABEL = "org.release-pipeline.wheel.sha256"
CONTEXT_DIR = "docker-context-files"
CONSTRAINTS_FILE = f"{CONTEXT_DIR}/constraints.txt"
ENTRYPOINT_FILE = f"{CONTEXT_DIR}/entrypoint"
WHEELS_RECORD = "/opt/venv/wheels.sha256"  # written by the Dockerfile: `sha256sum *.whl`
HASH_SCHEMA = 2  # 2: INSTALLER is always a build arg
DEPS_STAGE = "deps"  # the Dockerfile stage kept as a cache image

# build arg -> label it sets (the Dockerfile's LABEL instructions)
LABEL_ARGS: dict[str, str] = {
    "IMAGE_TITLE": f"{OCI}.title",
    "IMAGE_VERSION": f"{OCI}.version",
    "IMAGE_SOURCE": f"{OCI}.source",
    "IMAGE_LICENSES": f"{OCI}.licenses",
    "IMAGE_VENDOR": f"{OCI}.vendor",
    "PYTHON_BASE_IMAGE": f"{OCI}.base.name",
    "BASE_IMAGE_DIGEST": f"{OCI}.base.digest",
    "WHEEL_SHA256": WHEEL_SHA256_LABEL,
    "INPUT_HASH": INPUT_HASH_LABEL,
    "IMAGE_SBOM": SBOM_LABEL,  # the SBOM's file name; empty for master builds, which have none
    "IMAGE_REVISION": f"{OCI}.revision",
    "IMAGE_CREATED": f"{OCI}.created",
}
VOLATILE_ARGS = frozenset({"IMAGE_CREATED"})  # never part of the input hash
# Build args the `deps` stage and its ancestors do not read (the labels) or whose effect on it the
# dependency hash covers otherwise (the wheels' requirements, the constraints' content).
NOT_IN_DEPS_STAGE = frozenset(LABEL_ARGS) | {"INSTALL_FROM", "PACKAGE", "CONSTRAINTS", "ENTRYPOINT_SCRIPT"}
VOLATILE_LABELS = frozenset(LABEL_ARGS[a] for a in VOLATILE_ARGS)


@dataclass(frozen=True)
class WheelFile:
    filename: str
    sha256: str


@dataclass(frozen=True)
class ImageSource:
    """What every flavour of one build shares."""

    name: str  # distribution name
    version: str
    title: str
    wheels: tuple[WheelFile, ...]
    dockerfile_sha256: str
    install: str = "wheel"  # wheel | index
    constraints_sha256: str = ""  # "" when there is no constraints file
    extras: tuple[str, ...] = ()
    uid: int = 50000
    revision: str = ""
    created: str = ""
    source_url: str = ""
    licenses: str = ""
    vendor: str = ""
    pip_index_url: str = ""
    extra_args: Mapping[str, str] = field(default_factory=dict)  # e.g. BUILD_APT_DEPS
    variant: str = ""  # "" is the default image; else e.g. `slim`, the prefix of its tags
    entrypoint_sha256: str = ""  # "" when the image uses the Dockerfile's pass-through entrypoint
    default_command: tuple[str, ...] = ()  # what the pass-through entrypoint runs without arguments
    expose: tuple[str, ...] = ()  # EXPOSEd ports
    writable_venv: bool = False  # /opt/venv owned by the image's user
    # each wheel's project name and Requires-Dist lines, from its METADATA
    requires: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ImageJob:
    """One build of images, as the pipeline planned it: each image completed with its base digest,
    build args, labels and hashes, every variant's source (to plan a recorded image again with its
    recorded base), the build context they are all built from, and how to build them."""

    images: tuple[PlannedImage, ...]
    sources: Mapping[str, ImageSource]  # variant -> what its images are made of
    context: bytes  # the Dockerfile, the wheels (wheel installs), the constraints, the entrypoint
    kind: BuildKind = BuildKind.RELEASE
    jobs: int = 0  # images built at once; 0: as many as the machine has room for
    builder: str = ""  # the builder the dependency hashes were completed for (`buildkit`, "" classic)
    replace_tags: bool = False  # refresh: a release's tag is deliberately given a rebuilt image
    check_registry: bool = True  # reuse what the registry holds from the same inputs
    nocache: bool = False  # a deliberate cold build: neither the registry's nor the engine's copy counts
    recorded: Mapping[str, ImageEntry] = field(default_factory=dict)  # what the release pushed, by key

    def source_of(self, image: PlannedImage) -> ImageSource:
        return self.sources[image.image.variant]


def unpinned(base: str) -> str:
    """`name:tag@digest` -> `name:tag`: the base image as configured, whatever it points at now."""
    return base.split("@", 1)[0]


def check_index_url(url: str) -> str:
    """Index URLs end up in build args (visible in build logs); refuse any with credentials."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise RefusedError(
            f"the package index URL for image builds carries credentials ({parts.hostname}); build args "
            "are not secret: use an index that needs none, or install from the release's wheels"
        )
    return url


def network_mode_for(source: ImageSource) -> str | None:
    """Host networking when the package index is on this machine (the sandbox's, on 127.0.0.1)."""
    urls = [source.pip_index_url, source.extra_args.get("PIP_EXTRA_INDEX_URL", "")]
    hosts = {urlsplit(url).hostname for url in urls if url}
    return "host" if hosts & {"127.0.0.1", "localhost", "::1"} else None


def wheel_sha256_label(wheels: Iterable[WheelFile]) -> str:
    return ",".join(w.sha256 for w in sorted(wheels, key=lambda w: w.filename))


def build_args(source: ImageSource, *, base_image: str, base_digest: str) -> dict[str, str]:
    """Every build arg of one flavour, except INPUT_HASH (which is computed over these)."""
    args = {
        "PYTHON_BASE_IMAGE": base_image,
        "BASE_IMAGE_DIGEST": base_digest,
        "APP_UID": str(source.uid),
        "EXTRAS": ",".join(source.extras),
        "IMAGE_TITLE": source.title,
        "IMAGE_VERSION": source.version,
        "IMAGE_SOURCE": source.source_url,
        "IMAGE_LICENSES": source.licenses,
        "IMAGE_VENDOR": source.vendor,
        "WHEEL_SHA256": wheel_sha256_label(source.wheels),
        "IMAGE_REVISION": source.revision,
        "IMAGE_CREATED": source.created,
        "IMAGE_SBOM": "",  # plan_image names a release image's SBOM
    }
    if source.install == "index":
        args["INSTALL_FROM"] = "index"
        args["PACKAGE"] = f"{source.name}=={source.version}"
    else:
        args["INSTALL_FROM"] = "wheel"
    if source.constraints_sha256:
        args["CONSTRAINTS"] = CONSTRAINTS_FILE
    if source.entrypoint_sha256:
        args["ENTRYPOINT_SCRIPT"] = ENTRYPOINT_FILE
    if source.pip_index_url:
        args["PIP_INDEX_URL"] = check_index_url(source.pip_index_url)
    args.update(convention_args(source))
    clash = sorted(set(source.extra_args) & (set(args) | {"INPUT_HASH"}))
    if clash:
        raise ValueError(f"extra build args may not override {', '.join(clash)}")
    args.update(DEFAULT_BUILD_ARGS)
    args.update(source.extra_args)
    return args


def convention_args(source: ImageSource) -> dict[str, str]:
    """The image conventions a project sets, as the shipped Dockerfile's build args; each only
    when set, so an image without them keeps the input hash it had:
    DEFAULT_COMMAND, the default command shell-quoted (the pass-through entrypoint runs it when
    `docker run` gives none); EXPOSE_PORTS, space-separated; VENV_OWNER, `UID:0`, /opt/venv owned
    by the image's user."""
    args = {}
    if source.default_command:
        args["DEFAULT_COMMAND"] = shlex.join(source.default_command)
    if source.expose:
        args["EXPOSE_PORTS"] = " ".join(source.expose)
    if source.writable_venv:
        args["VENV_OWNER"] = f"{source.uid}:0"
    return args


def input_hash(
    *,
    flavour: str,
    dockerfile_sha256: str,
    wheels: Iterable[WheelFile],
    constraints_sha256: str,
    base_digest: str,
    args: Mapping[str, str],
    entrypoint_sha256: str = "",
    platform: str = "",
) -> str:
    """sha256 over a canonical JSON of the inputs; volatile args (build time) left out. `platform`
    counts only when given (an image among several platforms), the entrypoint script only when
    there is one: single-platform hashes of images without one stay as they were."""
    document: dict[str, object] = {
        "schema": HASH_SCHEMA,
        "python": flavour,
        "dockerfile": dockerfile_sha256,
        "wheels": sorted([w.filename, w.sha256] for w in wheels),
        "constraints": constraints_sha256,
        "base_digest": base_digest,
        "args": {k: v for k, v in sorted(args.items()) if k not in VOLATILE_ARGS and k != "INPUT_HASH"},
    }
    if entrypoint_sha256:
        document["entrypoint"] = entrypoint_sha256
    if platform:
        document["platform"] = platform
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def deps_hash(
    *,
    flavour: str,
    dockerfile_sha256: str,
    wheels: Iterable[WheelFile],
    requires: Iterable[tuple[str, Sequence[str]]],
    constraints_sha256: str,
    base_digest: str,
    args: Mapping[str, str],
    platform: str = "",
    builder: str = "",
) -> str:
    """sha256 over what decides the `deps` stage (see the module doc). Without the wheels'
    requirements their sha256 stand in: a cache image of this release only, never a wrong one.
    `platform` counts only when given (an image among several platforms), as in `input_hash`;
    `builder` too (`buildkit`: its cache image carries BuildKit's inline cache, which the classic
    builder cannot use, nor BuildKit the classic builder's layers)."""
    declared = sorted([_norm(name), sorted(lines)] for name, lines in requires)
    document = {
        "schema": HASH_SCHEMA,
        "stage": DEPS_STAGE,
        "python": flavour,
        "dockerfile": dockerfile_sha256,
        "requires": declared or sorted([w.filename, w.sha256] for w in wheels),
        "constraints": constraints_sha256,
        "base_digest": base_digest,
        "args": {k: v for k, v in sorted(args.items()) if k not in NOT_IN_DEPS_STAGE},
    }
    if platform:
        document["platform"] = platform
    if builder:
        document["builder"] = builder
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def labels_for(args: Mapping[str, str]) -> dict[str, str]:
    """The labels the Dockerfile sets from `args` (PYTHON_BASE_IMAGE is always given)."""
    return {label: args.get(arg, "") for arg, label in LABEL_ARGS.items()}


def complete_image(planned: PlannedImage, source: ImageSource, *, base_image: str, base_digest: str,
                   builder: str = "") -> PlannedImage:
    """`planned` with what its build takes: FROM `base_image` (among several platforms pinned to
    the platform's digest) at `base_digest`, the build args and labels from `source` (its
    variant's), the input hash, and the dependency hash. A platform counts in the hashes only for
    one of several platforms' images. `builder` (`buildkit`, or "" for the classic one) names the
    dependency stage's cache image only: the image and its input hash are the same from either
    builder."""
    args = build_args(source, base_image=base_image, base_digest=base_digest)
    if planned.sbom:  # a release's image names its SBOM (master builds have none)
        args["IMAGE_SBOM"] = planned.sbom.rpartition("/")[2]
    platform = planned.platform if planned.index_tag else ""
    digest = input_hash(
        flavour=planned.image.flavour,
        dockerfile_sha256=source.dockerfile_sha256,
        wheels=source.wheels,
        constraints_sha256=source.constraints_sha256,
        base_digest=base_digest,
        args=args,
        entrypoint_sha256=source.entrypoint_sha256,
        platform=platform,
    )
    dependencies = deps_hash(
        flavour=planned.image.flavour,
        dockerfile_sha256=source.dockerfile_sha256,
        wheels=source.wheels,
        requires=source.requires,
        constraints_sha256=source.constraints_sha256,
        base_digest=base_digest,
        args=args,
        platform=platform,
        builder=builder,
    )
    args["INPUT_HASH"] = digest
    return replace(planned, base_image=base_image, base_digest=base_digest, build_args=args,
                   labels=labels_for(args), input_hash=digest, deps_hash=dependencies)


def label_mismatches(expected: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    """Labels that are missing or differ; volatile ones need only be present and non-empty."""
    problems = []
    for key, want in sorted(expected.items()):
        have = actual.get(key)
        if have is None:
            problems.append(f"{key} missing")
        elif key in VOLATILE_LABELS:
            if not have:
                problems.append(f"{key} empty")
        elif have != want:
            problems.append(f"{key}={have!r}, expected {want!r}")
    return problems


_RECORD_LINE = re.compile(r"^(?P<sha>[0-9a-f]{64}) [ *](?P<name>\S+)$")


def parse_wheels_record(text: str) -> dict[str, str]:
    """`sha256sum` output (the image's wheels record) -> {filename: sha256}."""
    found = {}
    for line in text.splitlines():
        match = _RECORD_LINE.match(line.strip())
        if match:
            found[match.group("name")] = match.group("sha")
    return found


def metadata_labels(metadata: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """source/licenses/vendor from a wheel's METADATA headers (header -> values)."""

    def first(header: str) -> str:
        values = metadata.get(header) or []
        return values[0].strip() if values else ""

    urls = {}
    for entry in metadata.get("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    source = next((urls[k] for k in ("source", "source code", "repository", "code") if k in urls), "")
    licenses = first("License-Expression") or first("License")
    if "\n" in licenses or len(licenses) > 100:  # a whole license text, not an identifier
        licenses = ""
    return {
        "source_url": source or first("Home-page") or urls.get("homepage", ""),
        "licenses": licenses,
        "vendor": first("Maintainer") or first("Author"),
    }


def parse_metadata(raw: bytes) -> dict[str, list[str]]:
    """A METADATA file's headers, header -> values."""
    found: dict[str, list[str]] = {}
    for key, value in email.message_from_bytes(raw).items():
        found.setdefault(key, []).append(str(value))
    return found


def context_tar(files: Mapping[str, bytes], modes: Mapping[str, int] | None = None) -> bytes:
    """An uncompressed tar of `files` (name -> bytes) with fixed metadata: same files, same bytes.
    Files are 0644 unless `modes` says otherwise (e.g. 0755 for a script)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), (modes or {}).get(name, 0o644), 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def master_join_problems(found: Mapping[str, tuple[str | None, str]], commit: str) -> list[str]:
    """Why `master` may not move yet, one line per image; empty when it may.

    `found` maps the `[VARIANT-]master-pythonP` tag of each configured flavour and variant to (its
    digest or None, the image's revision label); every one must be pushed, and built from `commit`.
    """
    problems = []
    for tag, (digest, revision) in found.items():
        if digest is None:
            problems.append(f"{tag} is not in the registry (its image job has not pushed it)")
        elif revision != commit:
            built = revision[:12] or "an unlabelled commit"
            problems.append(f"{tag} was built from {built}, not {commit[:12]}")
    return problems
