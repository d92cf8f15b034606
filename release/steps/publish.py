# SPDX-License-Identifier: Apache-2.0
"""Publish so packages and images ship together.

Packages go to the index and are read back and compared; a publish job finds the images that
image jobs on other runners pushed. Tags are moved by `steps.tags`, the one tag mover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters.clients import Index, Registry
from release.errors import RefusedError, VerificationError
from release.plan.tags import parse_tag
from release.progress import Progress, to_log
from release.record import sha256_of


@dataclass(frozen=True)
class UploadResult:
    filename: str
    sha256: str
    uploaded: bool  # False: the index already had these exact bytes


def upload_packages(
    index: Index,
    project: str,
    files: Sequence[Path],
    *,
    twine_env: Mapping[str, str] | None = None,
    progress: Progress = to_log,
) -> list[UploadResult]:
    """Upload what the index lacks; skip identical files; refuse a name the index has with other bytes."""
    ours = {path.name: sha256_of(path) for path in files}
    theirs = index.hashes(project)
    missing = []
    for path in files:
        if path.name not in theirs:
            missing.append(path)
            continue
        if theirs[path.name] is None:
            raise RefusedError(
                f"{path.name} is already on {index.shown_simple} but the index shows no hash to compare"
            )
        if theirs[path.name] != ours[path.name]:
            raise RefusedError(
                f"{path.name} is already on {index.shown_simple} with different content "
                f"(index sha256 {theirs[path.name]}, ours {ours[path.name]}); a version is never reused"
            )
        progress(f"{path.name}: already on the index with the same sha256, skipped")
    if missing:
        progress(f"uploading {', '.join(p.name for p in missing)} to {index.shown_upload}")
        index.upload(missing, env=twine_env)
    after = index.hashes(project)
    for name, digest in ours.items():
        if after.get(name) != digest:
            raise VerificationError(
                f"{name}: the index reports sha256 {after.get(name)} after upload, ours is {digest}"
            )
    progress(f"index hashes match ours for {len(ours)} file(s)")
    return [UploadResult(name, ours[name], any(p.name == name for p in missing)) for name in ours]


def image_digests(registry: Registry, image: str, tags: Sequence[str]) -> dict[str, str]:
    """Digest of each version tag (`[VARIANT-]V-pythonP`): how a publish job joins image jobs run
    elsewhere. Every variant of every flavour must be there."""
    digests = {}
    for tag in tags:
        digest = registry.manifest_digest(image, tag)
        if digest is None:
            parts = parse_tag(tag)
            raise RefusedError(
                f"{registry.registry}/{image}:{tag} is not in the registry; build and push it first "
                f"(invoke images --version {parts.prefix} --python {parts.flavour} --push)"
            )
        digests[tag] = digest
    return digests
