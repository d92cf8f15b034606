# SPDX-License-Identifier: Apache-2.0
"""In-memory clients of a registry and a package index, for unit tests of the executor, the tag
mover and the observation of the target (adapters/clients.py says what each must do), and the
release steps that run local programs, in memory, for the executor's unit tests.

They keep what the real services keep, in dicts: a registry's manifests by digest, its tags, the
labels of each image's config, its blobs; an index's files per project with their sha256. A test
may break one operation (`fail`), as a service that dies at that moment would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from release.adapters import atr
from release.adapters.atr import Check, CheckReport, Distribution, Ignore, Recorded, VoteStart
from release.adapters.atr import Release as AtrRelease
from release.adapters.atr import Upload as AtrUpload
from release.adapters.engine import Engine
from release.adapters.index import IndexFile
from release.adapters.registry import (
    DOCKER_MANIFEST,
    INDEX_TYPES,
    ImageIndex,
    Manifest,
    PlatformImage,
    index_manifest,
)
from release.errors import RefusedError, ServiceError
from release.pipeline.release import Run, Runner, Steps, image_digests, report_files
from release.plan.images import LABEL_ARGS, OCI
from release.plan.release import StepName
from release.record import (
    BuildInfo,
    ConstraintsEntry,
    FileEntry,
    ImageEntry,
    ImageSignatureEntry,
    ReleaseRecord,
    SbomEntry,
    SignatureEntry,
    StageInfo,
    checksum_text,
    sha512_of,
    signature_entries,
)
from release.steps.build import BuildResult
from release.steps.sbom import WrittenSbom
from release.steps.sign import SignResult

COMMIT = "c0ffee" * 6 + "c0ff"  # the commit the in-memory build builds from
EPOCH = 1_765_000_000


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class MemoryBases(Engine):
    """An engine that only answers what a base image's digest is now (`bases`: ref -> digest), as a
    registry would after a security update; it builds and pulls nothing."""

    def __init__(self, bases: Mapping[str, str]):
        super().__init__(factory=_no_docker)
        self.bases = dict(bases)

    def current_digest(self, ref: str) -> str:
        if ref not in self.bases:
            raise ServiceError(f"image {ref} is not available: not in the in-memory bases")
        return self.bases[ref]


def _no_docker() -> Any:
    raise AssertionError("the in-memory bases run no engine")


@dataclass
class MemoryRegistry:
    """A registry: `push` puts an image (its labels and platform) under a tag, as an image job would."""

    registry: str = "registry.test"
    manifests: dict[str, Manifest] = field(default_factory=dict)  # digest -> manifest
    repositories: dict[str, dict[str, str]] = field(default_factory=dict)  # repository -> tag -> digest
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # image digest -> its config's labels
    platforms: dict[str, str] = field(default_factory=dict)  # image digest -> its platform
    blobs: dict[str, bytes] = field(default_factory=dict)
    fail: dict[str, str] = field(default_factory=dict)  # operation -> why it fails (a ServiceError)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def _check(self, operation: str, *args: str) -> None:
        """Fails as `fail` says: `operation` always, `operation:last-argument` (a tag) for that one."""
        self.calls.append((operation, *args))
        for key in (operation, f"{operation}:{args[-1] if args else ''}"):
            if key in self.fail:
                raise ServiceError(f"registry {self.registry}: {self.fail[key]}")

    def push(self, repository: str, tag: str, labels: Mapping[str, str], *,
             platform: str = "linux/amd64") -> str:
        """A single image under `tag`; its digest."""
        raw = json.dumps({"mediaType": DOCKER_MANIFEST, "labels": dict(labels), "platform": platform,
                          "tag": tag}, sort_keys=True).encode()
        digest = _digest(raw)
        self.manifests[digest] = Manifest(raw, DOCKER_MANIFEST, digest)
        self.labels[digest], self.platforms[digest] = dict(labels), platform
        self.repositories.setdefault(repository, {})[tag] = digest
        return digest

    def _resolve(self, repository: str, reference: str) -> str | None:
        if reference.startswith("sha256:"):
            return reference if reference in self.manifests else None
        return self.repositories.get(repository, {}).get(reference)

    def ping(self) -> bool:
        return "ping" not in self.fail

    def tags(self, repository: str) -> list[str]:
        self._check("tags", repository)
        return sorted(self.repositories.get(repository, {}))

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        self._check("manifest_digest", repository, reference)
        return self._resolve(repository, reference)

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        digest = self._resolve(repository, reference)
        return self.manifests[digest] if digest else None

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        self._check("put_manifest", repository, tag)
        self.manifests[manifest.digest] = manifest
        self.repositories.setdefault(repository, {})[tag] = manifest.digest
        return manifest.digest

    def copy_tag(self, repository: str, source: str, tag: str) -> str:
        self._check("copy_tag", repository, tag)
        digest = self._resolve(repository, source)
        if digest is None:
            raise ServiceError(f"registry {self.registry}: {repository}:{source} not found")
        self.repositories.setdefault(repository, {})[tag] = digest
        return digest

    def media_type(self, repository: str, reference: str) -> str | None:
        digest = self._resolve(repository, reference)
        return self.manifests[digest].media_type if digest else None

    def platform_image(self, repository: str, reference: str) -> PlatformImage | None:
        digest = self._resolve(repository, reference)
        if digest is None or self.manifests[digest].media_type in INDEX_TYPES:
            return None
        return PlatformImage(self.platforms[digest], digest, len(self.manifests[digest].raw), DOCKER_MANIFEST)

    def image_index(self, repository: str, reference: str) -> ImageIndex | None:
        digest = self._resolve(repository, reference)
        if digest is None:
            return None
        manifest = self.manifests[digest]
        if manifest.media_type not in INDEX_TYPES:
            image = self.platform_image(repository, digest)
            assert image is not None
            return ImageIndex(digest, manifest.media_type, (image,))
        images = tuple(self.platform_image(repository, m["digest"]) for m in manifest.body["manifests"])
        return ImageIndex(digest, manifest.media_type, tuple(i for i in images if i is not None))

    def put_index(self, repository: str, images: Sequence[PlatformImage], tag: str | None = None
                  ) -> ImageIndex:
        self._check("put_index", repository)
        raw, media_type = index_manifest(images)
        digest = _digest(raw)
        self.manifests[digest] = Manifest(raw, media_type, digest)
        if tag is not None:
            self.repositories.setdefault(repository, {})[tag] = digest
        return ImageIndex(digest, media_type, tuple(images))

    def labels_or_index(self, repository: str, reference: str) -> tuple[dict[str, str] | None, bool]:
        digest = self._resolve(repository, reference)
        if digest is None:
            return None, False
        if self.manifests[digest].media_type in INDEX_TYPES:
            return None, True
        return dict(self.labels.get(digest, {})), False

    def image_labels(self, repository: str, reference: str) -> dict[str, str] | None:
        digest = self._resolve(repository, reference)
        if digest is None:
            return None
        if self.manifests[digest].media_type in INDEX_TYPES:
            first = self.manifests[digest].body["manifests"][0]["digest"]
            return dict(self.labels.get(first, {}))
        return dict(self.labels.get(digest, {}))

    def get_blob(self, repository: str, digest: str) -> bytes | None:
        return self.blobs.get(digest)

    def upload_blob(self, repository: str, data: bytes) -> str:
        self._check("upload_blob", repository)
        digest = _digest(data)
        self.blobs[digest] = data
        return digest


def _version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except ValueError:
        return None


@dataclass
class MemoryIndex:
    """A package index: uploads keep each file's bytes and sha256 under its project."""

    projects: dict[str, dict[str, bytes]] = field(default_factory=dict)  # project -> filename -> bytes
    yanked: set[tuple[str, str]] = field(default_factory=set)  # (project, version)
    fail: dict[str, str] = field(default_factory=dict)  # operation -> why it fails (a ServiceError)
    uploads: list[str] = field(default_factory=list)  # every filename uploaded, in order

    shown_upload = "https://index.test/legacy/"
    shown_simple = "https://index.test/simple/"

    def _check(self, operation: str) -> None:
        if operation in self.fail:
            raise ServiceError(f"package index {self.shown_simple}: {self.fail[operation]}")

    def files(self, project: str) -> list[IndexFile]:
        self._check("files")
        name = canonicalize_name(project)
        return [IndexFile(filename, f"{self.shown_simple}{name}/{filename}", hashlib.sha256(data).hexdigest(),
                          _version_of(filename), (name, _version_of(filename) or "") in self.yanked)
                for filename, data in sorted(self.projects.get(name, {}).items())]

    def versions(self, project: str) -> list[str]:
        return sorted({f.version for f in self.files(project) if f.version})

    def hashes(self, project: str) -> dict[str, str | None]:
        return {f.filename: f.sha256 for f in self.files(project)}

    def yank(self, project: str, version: str) -> str:
        self.yanked.add((canonicalize_name(project), version))
        return f"yanked {project} {version}"

    def download(self, file: IndexFile, dest: Path) -> Path:
        project = canonicalize_name(file.filename.split("-")[0])
        path = dest / file.filename
        path.write_bytes(self.projects[project][file.filename])
        return path

    def upload(self, paths: Sequence[Path], *, env: Mapping[str, str] | None = None) -> None:
        self._check("upload")
        for path in paths:
            project = canonicalize_name(parse_wheel_filename(path.name)[0] if path.name.endswith(".whl")
                                        else parse_sdist_filename(path.name)[0])
            self.projects.setdefault(project, {})[path.name] = path.read_bytes()
            self.uploads.append(path.name)


@dataclass
class MemorySteps(Steps):
    """The release steps that run local programs (git and the build backend, gpg, svn, the engine's
    builds and probes), in memory, for `pipeline.release.execute(..., steps=..., runners=...)`: each
    writes under dist/<V>/ what the real step writes, with made-up bytes that are the same on every
    run (as the reproducible build's are), and pushes its images to `registry`. The build, sign and
    sbom steps return their products, as the real ones do, and the executor's own runners record
    them; the runners of stage, images, constraints, attest, report and provenance are stood in for
    whole, recording what the real ones record. Push, upload, aliases, the release report's files and
    the executor itself stay real.

    `fail` names a step and why it fails (as a service or a program that dies at that moment);
    `svn` keeps what was committed, by URL; `ran` each step in the order it ran."""

    registry: MemoryRegistry
    fail: dict[StepName, str] = field(default_factory=dict)
    svn: dict[str, bytes] = field(default_factory=dict)
    ran: list[StepName] = field(default_factory=list)

    def runners(self) -> dict[StepName, Runner]:
        return {StepName.STAGE: self.stage, StepName.IMAGES: self.images,
                StepName.CONSTRAINTS: self.constraints, StepName.ATTEST: self.attest,
                StepName.REPORT: self.report, StepName.PROVENANCE: self.provenance}

    def _start(self, step: StepName) -> None:
        self.ran.append(step)
        if step in self.fail:
            raise ServiceError(f"{step.value}: {self.fail[step]}")

    @staticmethod
    def _write(record: ReleaseRecord, relative: str, text: str) -> Path:
        path = record.directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file():  # a rerun keeps what is there, as the real steps do
            path.write_text(text, encoding="utf-8")
        return path

    def _signed(self, record: ReleaseRecord, relative: str) -> list[SignatureEntry]:
        """`.asc` and `.sha512` of `relative`, as gpg and the checksum would leave them."""
        path = record.directory / relative
        self._write(record, f"{relative}.asc", f"signature of {sha512_of(path)}\n")
        self._write(record, f"{relative}.sha512", checksum_text(path))
        return signature_entries([path], record.directory)

    def build(self, run: Run) -> BuildResult:
        self._start(StepName.BUILD)
        directory = run.directory
        made = [(artefact, directory / artefact.path) for artefact in run.plan.artefacts
                if artefact.path.startswith(("svn/", "pypi/"))]
        for artefact, path in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file():  # a rerun keeps what is there, as the real build does
                path.write_text(f"{artefact.path} built from {COMMIT}\n", encoding="utf-8")
        return BuildResult(
            str(run.plan.version), directory,
            tuple(path for artefact, path in made if artefact.path.startswith("svn/")),
            tuple(path for artefact, path in made if artefact.path.startswith("pypi/")),
            tuple(FileEntry(artefact.path, sha512_of(path), artefact.kind.value, artefact.path.split("/")[0])
                  for artefact, path in made),
            BuildInfo(COMMIT, EPOCH, "sample_app/__init__.py", str(run.plan.version.in_tree),
                      distributions={d.name: d.voted for d in run.plan.distributions}))

    def sign(self, run: Run) -> SignResult:
        self._start(StepName.SIGN)
        record = run.record
        if not record.is_done("build"):
            raise RefusedError(f"{record.directory} holds no build of {run.plan.version}; build it first")
        signed = [a.path for a in run.plan.artefacts if a.signed and a.path.startswith(("svn/", "pypi/"))]
        companions = [record.directory / f"{path}{s}" for path in signed for s in (".asc", ".sha512")]
        written = tuple(path for path in companions if not path.is_file())
        signatures = tuple(entry for path in signed for entry in self._signed(record, path))
        return SignResult(str(run.plan.version), run.signing_key, tuple(record.directory / p for p in signed),
                          written, signatures)

    def stage(self, run: Run) -> None:
        self._start(StepName.STAGE)
        record = run.record
        url = f"{run.target.svn_dev}/{run.config.name}/{run.plan.version}"
        files = {}  # each voted file with its .asc and .sha512, as committed
        for entry in record.files_in("svn"):
            for path in (entry.path, f"{entry.path}.asc", f"{entry.path}.sha512"):
                name = Path(path).name
                files[name] = sha512_of(record.directory / path)
                self.svn.setdefault(f"{url}/{name}", (record.directory / path).read_bytes())
        record.set_stage(StageInfo(url, str(run.plan.version), COMMIT, run.signing_key, run.target.keys_url,
                                   files, "2026-12-10T12:00:00+00:00", 1))
        record.step_done("stage", {"url": url, "revision": 1})

    def images(self, run: Run) -> None:
        """Each planned image pushed under its version tag, or the one pushed already kept."""
        self._start(StepName.IMAGES)
        record = run.record
        version = str(run.plan.version)
        repository = run.config.image
        for image in run.plan.images:
            there = self.registry.repositories.get(repository, {}).get(image.tag)
            labels = {LABEL_ARGS["IMAGE_VERSION"]: version, f"{OCI}.revision": COMMIT}
            digest = there or self.registry.push(repository, image.tag, labels,
                                                 platform=image.platform or "linux/amd64")
            record.put_image(ImageEntry(image.image.flavour, image.ref, digest, f"id-{image.key}", "",
                                        image.base_image, "", image.image.variant,
                                        image.platform if image.index_tag else ""))
            if image.index_tag:
                run.platform_images[image.tag] = digest
                continue
            run.digests[image.tag] = digest
            if there is None:
                run.pushed_now.add(image.tag)
        record.step_done("images", {"smoke": {image.tag: True for image in run.plan.images}})

    def constraints(self, run: Run) -> None:
        self._start(StepName.CONSTRAINTS)
        record = run.record
        digests = image_digests(run)
        entries = []
        for image in run.plan.images:
            if image.constraints:
                path = self._write(record, image.constraints, f"sample-app=={run.plan.version}\n")
                record.add_signatures(self._signed(record, image.constraints))
                read_from = f"{image.repository}@{digests[image.key]}"
                entries.append(ConstraintsEntry(image.constraints, sha512_of(path), image.image.flavour,
                                                image.image.variant, read_from))
        record.put_constraints(entries)
        record.step_done("constraints", {"files": sorted(record.constraints)})

    def sboms(self, run: Run) -> list[WrittenSbom]:
        self._start(StepName.SBOM)
        record = run.record
        digests = image_digests(run)
        written = []
        for image in run.plan.images:
            path = self._write(record, image.sbom, f'{{"describes": "{digests[image.key]}"}}\n')
            written.append(WrittenSbom(
                SbomEntry(image.sbom, sha512_of(path), image.image.flavour, image.ref, digests[image.key], 1,
                          image.platform if image.index_tag else "", image.image.variant),
                tuple(self._signed(record, image.sbom))))
        return written

    def attest(self, run: Run) -> None:
        self._start(StepName.ATTEST)
        record = run.record
        digests = image_digests(run)
        for image in run.plan.attested:
            path = self._write(record, image.signature, f"simple signing of {digests[image.key]}\n")
            record.put_image_signature(ImageSignatureEntry(
                image.signature, sha512_of(path), image.image.flavour, image.ref, digests[image.key],
                run.signing_key, variant=image.image.variant))
        record.step_done("attest", {"signatures": sorted(record.image_signatures)})

    def report(self, run: Run) -> None:
        """The executor's own report step, with the record signed as gpg would."""
        self._start(StepName.REPORT)
        record = run.record
        for entry in run.report.tags.values():
            record.tags[entry.tag] = entry
        record.step_done("report")
        for suffix in (".asc", ".sha512"):  # replaced on every rerun, as the record changed
            record.path.with_name(record.path.name + suffix).unlink(missing_ok=True)
        self._signed(record, record.path.name)
        run.report.files = report_files(record, run.plan)

    def provenance(self, run: Run) -> None:
        """The signed record committed to svn release/ for a final (no record write: it is signed)."""
        self._start(StepName.PROVENANCE)
        if not run.plan.version.is_prerelease:
            record = run.record
            folder = f"{run.target.svn_release}/{run.config.name}/{run.plan.version}"
            for name in (record.path.name, f"{record.path.name}.asc", f"{record.path.name}.sha512"):
                self.svn[f"{folder}/{name}"] = record.path.with_name(name).read_bytes()


@dataclass
class MemoryAtr:
    """One project in Apache Trusted Releases as its API behaves (adapters/atr.py): releases with
    phases, a revision per uploaded file, check results given per file by the test, the vote, the
    finish, distributions (refused as when ATR cannot reach the platform, by `offline`)."""

    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # release -> name -> bytes
    phases: dict[str, str] = field(default_factory=dict)  # release -> phase
    revisions: dict[str, int] = field(default_factory=dict)  # release -> latest revision
    results: list[Check] = field(default_factory=list)  # what ATR's checks find on any revision
    keys: set[str] = field(default_factory=set)
    kept_ignores: list[Ignore] = field(default_factory=list)
    votes: list[tuple[str, str, str, str]] = field(default_factory=list)  # (release, revision, to, subject)
    announced: list[tuple[str, str, str]] = field(default_factory=list)  # (release, to, path_suffix)
    recorded: list[Distribution] = field(default_factory=list)
    offline: bool = False
    calls: list[str] = field(default_factory=list)

    def release(self, version: str) -> AtrRelease | None:
        if version not in self.phases:
            return None
        phase = self.phases[version]
        return AtrRelease(version, phase, f"{self.revisions[version]:05d}", phase != atr.DRAFT)

    def _existing(self, version: str) -> AtrRelease:
        found = self.release(version)
        if found is None:
            raise RefusedError(f"no release {version}")
        return found

    def create_release(self, version: str) -> AtrRelease:
        if version not in self.phases:
            self.calls.append(f"create {version}")
            self.phases[version], self.revisions[version], self.files[version] = atr.DRAFT, 1, {}
        return self._existing(version)

    def upload_keys(self, keys_text: str, fingerprints: Iterable[str]) -> bool:
        wanted = {f.upper() for f in fingerprints}
        if wanted <= self.keys:
            return False
        self.keys |= wanted
        return True

    def add_ignore(self, ignore: Ignore) -> bool:
        if ignore in self.kept_ignores:
            return False
        self.kept_ignores.append(ignore)
        return True

    def upload(self, version: str, files: Sequence[Path]) -> AtrUpload:
        release = self._existing(version)
        held = self.files[version]
        uploaded, same = [], []
        for path in files:
            if path.name in held:
                if held[path.name] != path.read_bytes():
                    raise RefusedError(f"ATR already holds {path.name} with other bytes")
                same.append(path.name)
                continue
            if release.phase != atr.DRAFT:
                raise RefusedError(f"past its draft: {path.name} cannot be added")
            self.calls.append(f"upload {path.name}")
            held[path.name] = path.read_bytes()
            self.revisions[version] += 1
            uploaded.append(path.name)
        return AtrUpload(f"{self.revisions[version]:05d}", tuple(uploaded), tuple(same))

    def wait_for_checks(self, version: str, revision: str) -> CheckReport:
        ignores = self.kept_ignores
        return CheckReport(revision, tuple(
            dataclasses.replace(c, ignored=any(i.checker == c.checker for i in ignores))
            for c in self.results))

    def start_vote(self, version: str, revision: str, *, email_to: str, subject: str, body: str
                   ) -> VoteStart:
        release = self._existing(version)
        if release.phase != atr.DRAFT:
            return VoteStart(False, release.latest_revision, release.phase)
        if release.latest_revision != revision:
            raise RefusedError(f"{version} is at revision {release.latest_revision}, not {revision}")
        self.votes.append((version, revision, email_to, subject))
        self.phases[version] = atr.CANDIDATE
        return VoteStart(True, revision, atr.CANDIDATE, ("mail-relay.apache.org: name resolution failed",))

    def resolve_vote(self, version: str, resolution: str) -> bool:
        release = self._existing(version)
        if resolution == "passed" and release.phase in (atr.PREVIEW, atr.RELEASED):
            return False
        if release.phase != atr.CANDIDATE:
            raise RefusedError(f"{version} is in phase {release.phase}: no vote to resolve")
        self.phases[version] = atr.PREVIEW if resolution == "passed" else atr.DRAFT
        return True

    def announce(self, version: str, *, email_to: str, subject: str, body: str, path_suffix: str) -> bool:
        release = self._existing(version)
        if release.phase == atr.RELEASED:
            return False
        if release.phase != atr.PREVIEW:
            raise RefusedError(f"{version} is in phase {release.phase}; its vote must be resolved as passed")
        self.announced.append((version, email_to, path_suffix))
        self.phases[version] = atr.RELEASED
        return True

    def record_distribution(self, version: str, distribution: Distribution) -> Recorded:
        if self.offline:
            return Recorded(distribution, False, f"ATR did not record {distribution.package} "
                                                 f"{distribution.version} on {distribution.platform}")
        self.recorded.append(distribution)
        return Recorded(distribution, True)

    def paths(self, version: str, revision: str = "") -> list[str]:
        return sorted(self.files.get(version, {}))

    def download(self, version: str, relpath: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.files[version][relpath])
        return dest
