# SPDX-License-Identifier: Apache-2.0
"""In-memory clients of a registry and a package index, for unit tests of the executor, the tag
mover and the observation of the target (adapters/clients.py says what each must do).

They keep what the real services keep, in dicts: a registry's manifests by digest, its tags, the
labels of each image's config, its blobs; an index's files per project with their sha256. A test
may break one operation (`fail`), as a service that dies at that moment would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from release.adapters.index import IndexFile
from release.adapters.registry import (
    DOCKER_MANIFEST,
    INDEX_TYPES,
    ImageIndex,
    Manifest,
    PlatformImage,
    index_manifest,
)
from release.errors import ServiceError


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
