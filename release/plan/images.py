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
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from release.config import DEFAULT_BUILD_ARGS
from release.errors import RefusedError
from release.plan.provenance import SBOM_LABEL, sbom_file
from release.plan.tags import MASTER, BuildKind, cache_repository, cache_tag, platform_tag, tag_name

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
    # each wheel's project name and Requires-Dist lines, from its METADATA
    requires: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ImagePlan:
    flavour: str
    repository: str  # registry/image
    tag: str
    base_image: str  # what FROM names: with several platforms, pinned to this platform's digest
    base_digest: str
    build_args: Mapping[str, str]
    labels: Mapping[str, str]
    input_hash: str
    variant: str = ""
    platform: str = ""  # the platform it is built for; "" on a single-platform release: the engine's own
    index_tag: str = ""  # with several platforms: the tag of the index that lists this image
    deps_hash: str = ""

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"

    @property
    def subject(self) -> str:
        """How progress names it: `python3.11`, `slim-python3.11` for a variant's image, or
        `python3.11 linux/arm64` among several platforms."""
        name = f"{self.variant}-python{self.flavour}" if self.variant else f"python{self.flavour}"
        return name + (f" {self.platform}" if self.index_tag else "")

    @property
    def cache_ref(self) -> str:
        """Where the dependency stage of this image is kept: `<registry>/<image>-cache:deps-...`."""
        return f"{cache_repository(self.repository)}:{cache_tag(self.flavour, self.deps_hash)}"

def image_tag(kind: BuildKind, version: str, flavour: str, variant: str = "", platform: str = "") -> str:
    """The one tag a build pushes per flavour and variant: `[VARIANT-]V-pythonP`, or
    `[VARIANT-]master-pythonP` for master; with `platform` (one of several) that tag's platform
    helper tag, `V-pythonP-ARCH`."""
    tag = tag_name(MASTER if kind is BuildKind.MASTER else version, flavour, variant)
    return platform_tag(tag, platform) if platform else tag


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
    clash = sorted(set(source.extra_args) & (set(args) | {"INPUT_HASH"}))
    if clash:
        raise ValueError(f"extra build args may not override {', '.join(clash)}")
    args.update(DEFAULT_BUILD_ARGS)
    args.update(source.extra_args)
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


def plan_image(
    source: ImageSource,
    *,
    flavour: str,
    repository: str,
    kind: BuildKind,
    base_image: str,
    base_digest: str,
    platform: str = "",
    of_several: bool = False,
    builder: str = "",
) -> ImagePlan:
    """One flavour's image for `platform`. `of_several`: one of several platforms, so pushed under
    its platform's helper tag, listed by the flavour tag's index, its platform in the input hash.
    `builder` (`buildkit`, or "" for the classic one) names the dependency stage's cache image only:
    the image and its input hash are the same from either builder."""
    args = build_args(source, base_image=base_image, base_digest=base_digest)
    # the version tag (with several platforms: its index's)
    tag = image_tag(kind, source.version, flavour, variant=source.variant)
    if kind is BuildKind.RELEASE:
        args["IMAGE_SBOM"] = sbom_file(source.name, tag, platform if of_several else "")
    digest = input_hash(
        flavour=flavour,
        dockerfile_sha256=source.dockerfile_sha256,
        wheels=source.wheels,
        constraints_sha256=source.constraints_sha256,
        base_digest=base_digest,
        args=args,
        entrypoint_sha256=source.entrypoint_sha256,
        platform=platform if of_several else "",
    )
    dependencies = deps_hash(
        flavour=flavour,
        dockerfile_sha256=source.dockerfile_sha256,
        wheels=source.wheels,
        requires=source.requires,
        constraints_sha256=source.constraints_sha256,
        base_digest=base_digest,
        args=args,
        platform=platform if of_several else "",
        builder=builder,
    )
    args["INPUT_HASH"] = digest
    return ImagePlan(
        flavour=flavour,
        variant=source.variant,
        repository=repository,
        tag=image_tag(kind, source.version, flavour, source.variant, platform if of_several else ""),
        base_image=base_image,
        base_digest=base_digest,
        build_args=args,
        labels=labels_for(args),
        input_hash=digest,
        platform=platform,
        index_tag=tag if of_several else "",
        deps_hash=dependencies,
    )


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
