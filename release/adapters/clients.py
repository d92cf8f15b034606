# SPDX-License-Identifier: Apache-2.0
"""The clients a run talks to the outside world through, as one set, and what each must do.

The pipeline builds one `Clients` from the target (`pipeline.connect.clients_for`) and hands it to
every runner and step; no step constructs a client. The Protocols say what the steps and the
executor use of each client: `RegistryClient` and `PackageIndex` are the real ones, and unit tests
pass in-memory ones (tests/unit/memory.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from release.adapters.atr import (
    CheckReport,
    Distribution,
    Ignore,
    Recorded,
    VoteStart,
)
from release.adapters.atr import Release as AtrRelease
from release.adapters.atr import Upload as AtrUpload
from release.adapters.engine import Engine
from release.adapters.index import IndexFile, PackageIndex
from release.adapters.registry import ImageIndex, Manifest, PlatformImage, RegistryClient
from release.errors import ConfigError


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


class Atr(Protocol):
    """One project in Apache Trusted Releases: compose (keys, ignores, drafts, uploads, checks), the
    vote, finishing, distributions, and reading a revision's files."""

    def release(self, version: str) -> AtrRelease | None: ...

    def create_release(self, version: str) -> AtrRelease: ...

    def upload_keys(self, keys_text: str, fingerprints: Iterable[str]) -> bool: ...

    def add_ignore(self, ignore: Ignore) -> bool: ...

    def upload(self, version: str, files: Sequence[Path]) -> AtrUpload: ...

    def wait_for_checks(self, version: str, revision: str) -> CheckReport: ...

    def start_vote(self, version: str, revision: str, *, email_to: str, subject: str, body: str
                   ) -> VoteStart: ...

    def resolve_vote(self, version: str, resolution: str) -> bool: ...

    def announce(self, version: str, *, email_to: str, subject: str, body: str, path_suffix: str) -> bool: ...

    def record_distribution(self, version: str, distribution: Distribution) -> Recorded: ...

    def paths(self, version: str, revision: str = "") -> list[str]: ...

    def download(self, version: str, relpath: str, dest: Path) -> Path: ...


def _no_atr() -> Atr:
    raise ConfigError("this project stages in svn: set [tool.release] staging = \"atr\" and atr to use ATR")


@dataclass(frozen=True)
class Clients:
    """The target's registry and package index and the local engine, built once for a command.
    `registry_at` gives the client of another registry (a base image's), the target's own for its
    host."""

    registry: Registry
    index: Index
    engine: Engine = field(default_factory=Engine)
    other_registry: Callable[[str], Registry] = RegistryClient
    # ATR's client (staging = "atr"): made on first use, once, since it needs the release manager's
    # token, which a dry run or an svn command never asks for
    atr_client: Callable[[], Atr] = _no_atr

    @property
    def atr(self) -> Atr:
        return self.atr_client()

    def registry_at(self, host: str) -> Registry:
        return self.registry if host == self.registry.registry else self.other_registry(host)


def real_clients(registry: str, index_upload: str = "", index_simple: str = "", *,
                 engine: Engine | None = None) -> Clients:
    """The real clients of a registry and an index (each spoken to only when first used; image work
    alone needs no index: one without URLs fails when used) and the local engine."""
    return Clients(RegistryClient(registry), PackageIndex(index_upload, index_simple), engine or Engine())
