# SPDX-License-Identifier: Apache-2.0
"""In-memory clients of a registry and a package index, for unit tests of the executor, the tag
mover and the observation of the target (adapters/clients.py says what each must do).

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

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from release.adapters import atr
from release.adapters.atr import Check, CheckReport, Distribution, Ignore, Recorded, VoteStart
from release.adapters.atr import Release as AtrRelease
from release.adapters.atr import Upload as AtrUpload
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


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


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
