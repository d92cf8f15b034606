# SPDX-License-Identifier: Apache-2.0
"""The one tag mover: every tag the release, the master build and `refresh` set goes through here.

A tag is set by manifest copy (no blob upload). An immutable tag that already points at another
image is refused unless forced; a tag already at the digest is left alone, so a rerun finishes
what a stopped run began. A release's alias never moves backwards: right before it moves, the
version of the image it points at is read again (the image's version label, an index's from its
first image, else the version tags sharing its digest), and an alias already on a higher release
is left there, unless that release was withdrawn (its `withdrawn-V` tag is published). What was
done is returned in the plan's words (create, move, verify, skip) for the report and the record.

A moving tag that names an image index (a multi-platform release) is never moved to a single
image: that would take platforms away from everyone who pulls it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from release.adapters.clients import Registry
from release.adapters.registry import INDEX_TYPES
from release.errors import RefusedError
from release.plan.images import LABEL_ARGS
from release.plan.release import TagAction, TagChange
from release.plan.tags import split_tag, withdrawn_tag
from release.progress import Progress, to_log
from release.record import TagEntry
from release.versions import ReleaseVersion, parse_existing

VERSION_LABEL = LABEL_ARGS["IMAGE_VERSION"]  # org.opencontainers.image.version


def image_version(registry: Registry, image: str, digest: str) -> ReleaseVersion | None:
    """The release `image@digest` is an image of: its version label, else a version tag
    (`V-pythonP`, `V`) pointing at the same digest; None when neither says."""
    labels = registry.image_labels(image, digest) or {}
    found = parse_existing([labels.get(VERSION_LABEL, "")])
    if found:
        return found[0]
    for tag in sorted(registry.tags(image), reverse=True):
        named = parse_existing([split_tag(tag)[0]])
        if named and registry.manifest_digest(image, tag) == digest:
            return named[0]
    return None


def point_tag(
    registry: Registry, image: str, tag: str, digest: str, *, moving: bool, flavour: str = "",
    force: bool = False, version: ReleaseVersion | None = None, progress: Progress = to_log,
) -> TagEntry:
    """Point `image:tag` at `digest`; return what was done. With `version` (the release `digest`
    is an image of), an alias on a higher release is left where it is."""
    previous = registry.manifest_digest(image, tag)
    if moving and version is not None and previous is not None and previous != digest:
        held = image_version(registry, image, previous)
        # a withdrawn release (its `withdrawn-V` marker published) holds no alias: one still on it
        # (a withdrawal stopped past its marker, or being withdrawn now) moves to a lower release
        withdrawn = held is not None and registry.manifest_digest(image, withdrawn_tag(held)) is not None
        if held is not None and held > version and not withdrawn:
            progress(f"{image}:{tag} left at {held} ({previous[:19]}): {version} is lower, and an alias "
                     "never moves backwards")
            return TagEntry(tag, flavour, previous, previous, TagAction.SKIP.value)
    if previous == digest:
        progress(f"{image}:{tag} already at {digest[:19]}, skipped")
        action = TagAction.SKIP if moving else TagAction.VERIFY
    elif previous is not None and not moving and not force:
        raise RefusedError(
            f"{registry.registry}/{image}:{tag} points at {previous}, not {digest}; "
            f"a released tag is never overwritten (use --force {tag} if you mean it)"
        )
    elif (previous is not None and moving and registry.media_type(image, previous) in INDEX_TYPES
          and registry.media_type(image, digest) not in INDEX_TYPES):
        raise RefusedError(
            f"{registry.registry}/{image}:{tag} points at an image index ({previous[:19]}); moving it to the "
            f"single image {digest[:19]} would drop its other platforms: release every platform"
        )
    else:
        registry.copy_tag(image, digest, tag)
        was = f" (was {previous[:19]})" if previous else ""
        progress(f"{image}:{tag} {'moved' if previous else 'set'} to {digest[:19]}{was}")
        action = TagAction.MOVE if previous else TagAction.CREATE
    return TagEntry(tag, flavour, digest, previous, action.value)


def apply_changes(
    registry: Registry, image: str, changes: Sequence[TagChange], digests: Mapping[str, str], *,
    force: Collection[str] = (), created_now: Collection[str] = (), version: ReleaseVersion | None = None,
    progress: Progress = to_log,
) -> list[TagEntry]:
    """Carry out planned tag changes, each to the digest in `digests` of its source (the version tag
    of its flavour and variant).

    `created_now` names tags an earlier step of the same run pushed (the version tags): they are
    reported as created, as the plan said, not as verified. `version`: the release the digests
    are images of; its aliases never move an alias off a higher release.
    """
    done = []
    for change in changes:
        if change.deferred:
            progress(f"{image}:{change.tag}: {change.reason}")
            done.append(TagEntry(change.tag, change.image.flavour, digests.get(change.source, ""),
                                 change.current, TagAction.SKIP.value))
            continue
        entry = point_tag(registry, image, change.tag, digests[change.source], moving=change.moving,
                          flavour=change.image.flavour, force=change.tag in force, version=version,
                          progress=progress)
        if change.tag in created_now:
            entry = TagEntry(entry.tag, entry.flavour, entry.digest, None, TagAction.CREATE.value)
        done.append(entry)
    return done
