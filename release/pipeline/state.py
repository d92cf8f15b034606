# SPDX-License-Identifier: Apache-2.0
"""What the target holds now, read from the registry and the index: the plan's only input from outside.

Released versions are the registry's version tags and the release's own distribution's versions
on the index. Withdrawn versions are published in the registry as `withdrawn-V` tags (by
`invoke withdraw`), and on an index that yanks (PEP 592) as versions whose every file is yanked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from release.adapters.clients import Clients, Registry
from release.adapters.engine import split_ref
from release.adapters.index import IndexFile
from release.adapters.registry import parse_reference
from release.config import ReleaseConfig
from release.errors import ConfigError, ServiceError
from release.plan.images import unpinned
from release.plan.release import PlannedImage, TargetState, tags_to_observe
from release.plan.tags import versions_from_tags, withdrawn_from_tags
from release.plan.wave_withdraw import train_state
from release.plan.withdraw import withdraw_tags_to_observe
from release.versions import ReleaseVersion, parse_existing


def yanked_versions(files: Iterable[IndexFile]) -> set[ReleaseVersion]:
    """Versions whose every file on the index is yanked."""
    by_version: dict[str, list[bool]] = {}
    for file in files:
        if file.version is not None:
            by_version.setdefault(file.version, []).append(file.yanked)
    return set(parse_existing(v for v, flags in by_version.items() if all(flags)))


def _observe(config: ReleaseConfig, clients: Clients) -> TargetState:
    """Released and withdrawn versions and the index's files (no tag digests yet)."""
    tags = clients.registry.tags(config.image)
    files = {dist.name: clients.index.files(dist.name) for dist in config.distributions}
    main = files.get(config.name, [])
    released = set(versions_from_tags(tags)) | set(parse_existing(f.version for f in main if f.version))
    withdrawn = set(withdrawn_from_tags(tags)) | yanked_versions(main)
    names = frozenset(f.filename for found in files.values() for f in found)
    return TargetState(released=tuple(sorted(released)), index_files=names, withdrawn=frozenset(withdrawn))


def withdrawn_now(config: ReleaseConfig, clients: Clients) -> frozenset[ReleaseVersion]:
    """The releases withdrawn so far, as the registry and the index publish it."""
    return _observe(config, clients).withdrawn


def _digests(registry: Registry, image: str, names: Iterable[str]) -> dict[str, str]:
    found = {}
    for name in names:
        digest = registry.manifest_digest(image, name)
        if digest is not None:
            found[name] = digest
    return found


def observe(config: ReleaseConfig, version: ReleaseVersion, clients: Clients) -> TargetState:
    """The registry's and the index's state for planning `version`. Reads only."""
    state = _observe(config, clients)
    wanted = tags_to_observe(config, version, state.current)
    return TargetState(released=state.released, tags=_digests(clients.registry, config.image, wanted),
                       index_files=state.index_files, withdrawn=state.withdrawn)


def observe_for_withdraw(config: ReleaseConfig, version: ReleaseVersion, clients: Clients,
                         records: Iterable[Mapping[str, Any]] = ()) -> TargetState:
    """The state `plan_withdraw` needs: the digests of the aliases, of `version`'s tags and of the
    tags of the releases the aliases go back to; with a train's `records` (its waves' wave.json),
    what they say is released and withdrawn (`train_state`)."""
    state = train_state(_observe(config, clients), records)
    wanted = withdraw_tags_to_observe(config, version, state)
    return TargetState(released=state.released, tags=_digests(clients.registry, config.image, wanted),
                       index_files=state.index_files, withdrawn=state.withdrawn)


def observe_or_empty(config: ReleaseConfig, version: ReleaseVersion, clients: Clients
                     ) -> tuple[TargetState, str]:
    """`observe`, or an empty state and the reason when a service does not answer (dry runs)."""
    try:
        return observe(config, version, clients), ""
    except ServiceError as exc:
        return TargetState(unreachable=str(exc)), str(exc)


def platform_digest(clients: Clients, base: str, platform: str) -> str:
    """The digest of `platform`'s image of `base` now, read from its registry: an index's entry
    (checked against that image's config), or a plain image of that platform."""
    host, repository, reference = parse_reference(unpinned(base))
    index = clients.registry_at(host).image_index(repository, reference)
    if index is None:
        raise ServiceError(f"base image {base} is not in its registry {host}")
    digests = index.digests()
    if platform not in digests:
        has = ", ".join(digests)
        raise ConfigError(f"base image {unpinned(base)} has no {platform} image (it has {has}); "
                          "use a base image published for every configured platform")
    return digests[platform]


def observe_base(clients: Clients, planned: PlannedImage, *, host: str) -> tuple[str, str]:
    """What `planned` is built FROM, and that image's digest now, the engine holding it: one of
    several platforms' images, or an image for another platform than the `host`'s, FROM its base
    pinned to that platform's digest (pulled by digest, so a local tag of another architecture is
    never taken); a single host-platform image FROM the base as named."""
    base = planned.base_image
    if not planned.index_tag and (not planned.platform or planned.platform == host):
        return base, clients.engine.current_digest(base)
    digest = platform_digest(clients, base, planned.platform)
    name = unpinned(base)
    clients.engine.pull(f"{split_ref(name)[0]}@{digest}", platform=planned.platform)
    return f"{name}@{digest}", digest
