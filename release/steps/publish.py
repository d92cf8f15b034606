"""Publish so packages and images ship together.

Order: images under their immutable version tags; packages to the index (read back and
compared); only then the moving aliases, each a manifest copy (no blob upload), as the tag
planner decides from what the registry and index hold at that moment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.errors import RefusedError, ServiceError, VerificationError
from release.plan.tags import BuildKind, TagPlan, plan_tags
from release.record import sha256_of
from release.versions import ReleaseVersion, parse_existing, versions_from_tags

log = logging.getLogger("release.publish")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class UploadResult:
    filename: str
    sha256: str
    uploaded: bool  # False: the index already had these exact bytes


@dataclass(frozen=True)
class TagResult:
    tag: str
    python: str
    digest: str
    previous: str | None

    @property
    def moved(self) -> bool:
        return self.previous is not None and self.previous != self.digest

    @property
    def changed(self) -> bool:
        return self.previous != self.digest


def upload_packages(
    index: PackageIndex,
    project: str,
    files: Sequence[Path],
    *,
    twine_env: Mapping[str, str] | None = None,
    progress: Progress = log.info,
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
                f"{path.name} is already on {index.simple_url} but the index shows no hash to compare"
            )
        if theirs[path.name] != ours[path.name]:
            raise RefusedError(
                f"{path.name} is already on {index.simple_url} with different content "
                f"(index sha256 {theirs[path.name]}, ours {ours[path.name]}); a version is never reused"
            )
        progress(f"{path.name}: already on the index with the same sha256, skipped")
    if missing:
        progress(f"uploading {', '.join(p.name for p in missing)} to {index.upload_url}")
        index.upload(missing, env=twine_env)
    after = index.hashes(project)
    for name, digest in ours.items():
        if after.get(name) != digest:
            raise VerificationError(
                f"{name}: the index reports sha256 {after.get(name)} after upload, ours is {digest}"
            )
    progress(f"index hashes match ours for {len(ours)} file(s)")
    return [UploadResult(name, ours[name], any(p.name == name for p in missing)) for name in ours]


def image_digests(
    registry: RegistryClient, image: str, version: ReleaseVersion, flavours: Sequence[str]
) -> dict[str, str]:
    """Digest of each `V-pythonP` tag: how a publish job joins image jobs run elsewhere."""
    digests = {}
    for flavour in flavours:
        tag = f"{version}-python{flavour}"
        digest = registry.manifest_digest(image, tag)
        if digest is None:
            raise RefusedError(
                f"{registry.registry}/{image}:{tag} is not in the registry; build and push it first "
                f"(invoke images --version {version} --python {flavour} --push)"
            )
        digests[flavour] = digest
    return digests


def released_versions(
    registry: RegistryClient, index: PackageIndex, image: str, project: str
) -> list[ReleaseVersion]:
    """Versions already released: image tags in the registry plus packages on the index."""
    found = set(versions_from_tags(registry.tags(image))) | set(parse_existing(index.versions(project)))
    return sorted(found)


def current_tag_plan(
    version: ReleaseVersion,
    flavours: Sequence[str],
    default: str,
    existing: Sequence[ReleaseVersion],
) -> TagPlan:
    return plan_tags(version=version, flavours=flavours, default=default, kind=BuildKind.RELEASE,
                     existing=existing)


def apply_tags(
    registry: RegistryClient,
    image: str,
    plan: TagPlan,
    digests: Mapping[str, str],
    *,
    only_moving: bool,
    force: Collection[str] = (),
    progress: Progress = log.info,
) -> list[TagResult]:
    """Point each planned tag at its flavour's digest by manifest copy.

    An immutable tag that already points elsewhere is refused unless `force` names it; a tag
    already at the right digest is left alone, so a rerun finishes what a stopped run began.
    """
    results = []
    for tag in plan.tags:
        if tag.moving != only_moving:
            continue
        digest = digests[tag.python]
        previous = registry.manifest_digest(image, tag.name)
        if previous == digest:
            progress(f"{image}:{tag.name} already at {digest[:19]}, skipped")
        elif previous is not None and not tag.moving and tag.name not in force:
            raise RefusedError(
                f"{registry.registry}/{image}:{tag.name} points at {previous}, not {digest}; "
                f"a released tag is never overwritten (use --force {tag.name} if you mean it)"
            )
        else:
            registry.copy_tag(image, digest, tag.name)
            was = f" (was {previous[:19]})" if previous else ""
            progress(f"{image}:{tag.name} {'moved' if previous else 'set'} to {digest[:19]}{was}")
        results.append(TagResult(tag.name, tag.python, digest, previous))
    return results


def check_registry(registry: RegistryClient) -> None:
    if not registry.ping():
        raise ServiceError(f"registry {registry.registry} does not answer; nothing was published")
