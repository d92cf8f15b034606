"""What the target holds now, read from the registry and the index: the plan's only input from outside."""

from __future__ import annotations

from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig
from release.errors import ServiceError
from release.plan.release import TargetState, tags_to_observe
from release.plan.tags import versions_from_tags
from release.versions import ReleaseVersion, parse_existing


def released_versions(registry: RegistryClient, index: PackageIndex, config: ReleaseConfig
                      ) -> tuple[ReleaseVersion, ...]:
    """Versions already released: image tags in the registry plus packages on the index."""
    found = set(versions_from_tags(registry.tags(config.image)))
    found |= set(parse_existing(index.versions(config.name)))
    return tuple(sorted(found))


def observe(config: ReleaseConfig, version: ReleaseVersion, registry: RegistryClient,
            index: PackageIndex) -> TargetState:
    """The registry's and the index's state for planning `version`. Reads only."""
    released = released_versions(registry, index, config)
    tags = {}
    for name in tags_to_observe(config, version, released):
        digest = registry.manifest_digest(config.image, name)
        if digest is not None:
            tags[name] = digest
    files = frozenset(index.hashes(config.name))
    return TargetState(released=released, tags=tags, index_files=files)


def observe_or_empty(config: ReleaseConfig, version: ReleaseVersion, registry: RegistryClient,
                     index: PackageIndex) -> tuple[TargetState, str]:
    """`observe`, or an empty state and the reason when a service does not answer (dry runs)."""
    try:
        return observe(config, version, registry, index), ""
    except ServiceError as exc:
        return TargetState(unreachable=str(exc)), str(exc)
