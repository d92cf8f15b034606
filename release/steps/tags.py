"""The one tag mover: every tag the release, the master build and `refresh` set goes through here.

A tag is set by manifest copy (no blob upload). An immutable tag that already points at another
image is refused unless forced; a tag already at the digest is left alone, so a rerun finishes
what a stopped run began. What was done is returned in the plan's words (create, move, verify,
skip) for the report and the record.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from release.adapters.registry import RegistryClient
from release.errors import RefusedError
from release.plan.release import NOT_BUILT, TagAction, TagChange
from release.progress import Progress, to_log
from release.record import TagEntry


def point_tag(
    registry: RegistryClient, image: str, tag: str, digest: str, *, moving: bool, python: str = "",
    force: bool = False, progress: Progress = to_log,
) -> TagEntry:
    """Point `image:tag` at `digest`; return what was done."""
    previous = registry.manifest_digest(image, tag)
    if previous == digest:
        progress(f"{image}:{tag} already at {digest[:19]}, skipped")
        action = TagAction.SKIP if moving else TagAction.VERIFY
    elif previous is not None and not moving and not force:
        raise RefusedError(
            f"{registry.registry}/{image}:{tag} points at {previous}, not {digest}; "
            f"a released tag is never overwritten (use --force {tag} if you mean it)"
        )
    else:
        registry.copy_tag(image, digest, tag)
        was = f" (was {previous[:19]})" if previous else ""
        progress(f"{image}:{tag} {'moved' if previous else 'set'} to {digest[:19]}{was}")
        action = TagAction.MOVE if previous else TagAction.CREATE
    return TagEntry(tag, python, digest, previous, action.value)


def apply_changes(
    registry: RegistryClient, image: str, changes: Sequence[TagChange], digests: Mapping[str, str], *,
    force: Collection[str] = (), created_now: Collection[str] = (), progress: Progress = to_log,
) -> list[TagEntry]:
    """Carry out planned tag changes, each to its flavour's digest in `digests`.

    `created_now` names tags an earlier step of the same run pushed (the version tags): they are
    reported as created, as the plan said, not as verified.
    """
    done = []
    for change in changes:
        if change.action is TagAction.SKIP and change.reason.startswith(("only some flavours", NOT_BUILT)):
            progress(f"{image}:{change.tag}: {change.reason}")
            done.append(TagEntry(change.tag, change.python, digests.get(change.python, ""), change.current,
                                 TagAction.SKIP.value))
            continue
        entry = point_tag(registry, image, change.tag, digests[change.python], moving=change.moving,
                          python=change.python, force=change.tag in force, progress=progress)
        if change.tag in created_now:
            entry = TagEntry(entry.tag, entry.python, entry.digest, None, TagAction.CREATE.value)
        done.append(entry)
    return done
