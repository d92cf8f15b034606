# SPDX-License-Identifier: Apache-2.0
"""The clients a run talks to the outside world through, as one set, and what each must do.

The pipeline builds one `Clients` from the target (`pipeline.connect.clients_for`) and hands it to
every runner and step; no step constructs a client. The Protocols say what the steps and the
executor use of each client: `RegistryClient` and `PackageIndex` are the real ones, and unit tests
pass in-memory ones (tests/unit/memory.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from release.adapters.engine import Engine
from release.adapters.index import IndexFile, PackageIndex
from release.adapters.registry import ImageIndex, Manifest, PlatformImage, RegistryClient


class Registry(Protocol):
    """A container registry, by `host[:port]`: tags, manifests, image indexes, labels, blobs."""

    @property
    def registry(self) -> str: ...

    def ping(self) -> bool: ...

    def tags(self, repository: str) -> list[str]: ...

    def manifest_digest(self, repository: str, reference: str) -> str | None: ...

    def get_manifest(self, repository: str, reference: str) -> Manifest | None: ...

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str: ...

    def copy_tag(self, repository: str, source: str, tag: str) -> str: ...

    def media_type(self, repository: str, reference: str) -> str | None: ...

    def platform_image(self, repository: str, reference: str) -> PlatformImage | None: ...

    def image_index(self, repository: str, reference: str) -> ImageIndex | None: ...

    def put_index(self, repository: str, images: Sequence[PlatformImage], tag: str | None = None
                  ) -> ImageIndex: ...

    def labels_or_index(self, repository: str, reference: str) -> tuple[dict[str, str] | None, bool]: ...

    def image_labels(self, repository: str, reference: str) -> dict[str, str] | None: ...

    def get_blob(self, repository: str, digest: str) -> bytes | None: ...

    def upload_blob(self, repository: str, data: bytes) -> str: ...


class Index(Protocol):
    """A package index: its files per project (with sha256), uploads, yanks, downloads."""

    @property
    def shown_upload(self) -> str: ...

    @property
    def shown_simple(self) -> str: ...

    def files(self, project: str) -> list[IndexFile]: ...

    def versions(self, project: str) -> list[str]: ...

    def hashes(self, project: str) -> dict[str, str | None]: ...

    def yank(self, project: str, version: str) -> str: ...

    def download(self, file: IndexFile, dest: Path) -> Path: ...

    def upload(self, paths: Sequence[Path], *, env: Mapping[str, str] | None = None) -> None: ...


@dataclass(frozen=True)
class Clients:
    """The target's registry and package index and the local engine, built once for a command.
    `registry_at` gives the client of another registry (a base image's), the target's own for its
    host."""

    registry: Registry
    index: Index
    engine: Engine = field(default_factory=Engine)
    other_registry: Callable[[str], Registry] = RegistryClient

    def registry_at(self, host: str) -> Registry:
        return self.registry if host == self.registry.registry else self.other_registry(host)


def real_clients(registry: str, index_upload: str = "", index_simple: str = "", *,
                 engine: Engine | None = None) -> Clients:
    """The real clients of a registry and an index (each spoken to only when first used; image work
    alone needs no index: one without URLs fails when used) and the local engine."""
    return Clients(RegistryClient(registry), PackageIndex(index_upload, index_simple), engine or Engine())
