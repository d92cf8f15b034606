# SPDX-License-Identifier: Apache-2.0
"""Refreshing a versioned train's published images (`invoke refresh --train`). Pure.

A wave of a versioned train with images (Airflow's core) publishes its final tags
(`3.3.3-python3.11`, `3.3.3`, the aliases) on the images voted on (`publish --train`, recorded under
`published.images`). When their base image moves (security updates), they are rebuilt as the single
release's are by `invoke refresh`: the same wheels (the wave's voted ones), the same constraints (what
the images installed, the wave's `constraints/` files or its `constraints-<V>` git tag), a new base;
smoked, pushed, and the tags moved by the one tag mover. Only the wave's own final tags are looked at
(`wave_image_tags`), and a run records each refresh in the wave's wave.json (`refreshed`).

`plan_wave_refresh` is what a dry run prints and a run carries out, from the wave's record and what
was observed of each tag (its base's digest then and now): which tags are rebuilt, which are left
(their base is current; a rerun finds them so), or why a run refuses: a wave that published no
images, a withdrawn release (its images keep their tags and are not rebuilt).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename

from release.plan.commands import Action, CommandPlan, Where
from release.plan.release import CONSTRAINTS_DIR, constraints_name
from release.plan.tags import parse_tag, version_tag
from release.plan.wave_withdraw import images_version, withdrawals
from release.trains import SvnLayout, Train

REFRESHED = "refreshed"  # wave.json's key: the refreshes of the wave's images, oldest first


@dataclass(frozen=True)
class Observed:
    """One of the wave's final tags as the registry shows it now (`refresh`'s observation)."""

    tag: str
    status: str  # current | stale | skipped
    base: str = ""  # the base image its labels name
    old_base: str = ""  # the base's digest it was built on
    new_base: str = ""  # the base's digest now
    detail: str = ""


def wave_image_tags(recorded: Mapping[str, Any]) -> tuple[str, ...]:
    """The final version tags (`3.3.3-python3.11`, `slim-3.3.3-python3.11`) the wave published on
    its images; () when it published none."""
    version, images = images_version(recorded), recorded.get("images")
    pushed = images.get("pushed") if isinstance(images, dict) else None
    if not version or not isinstance(pushed, dict):
        return ()
    return tuple(version_tag(version, str(e.get("flavour") or ""), str(e.get("variant") or ""))
                 for e in pushed.values() if isinstance(e, dict))


def voted_wheels(recorded: Mapping[str, Any], installs: Sequence[str]) -> tuple[str, ...]:
    """The voted wheels (by name, in the wave's svn/) of the distributions its images install, as its
    record lists the files it built."""
    names = {canonicalize_name(n) for n in installs}
    files = recorded.get("files")
    found = [f.partition("/")[2] for f in (files if isinstance(files, dict) else {})
             if f.startswith("svn/") and f.endswith(".whl")]
    return tuple(sorted(f for f in found if parse_wheel_filename(f)[0] in names))


def refreshes(recorded: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The refreshes the wave's record lists, oldest first."""
    found = recorded.get(REFRESHED)
    return [dict(e) for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def refresh_refusal(train: Train, date: str, recorded: Mapping[str, Any]) -> str:
    """Why the wave's images cannot be refreshed ("": they can)."""
    wave = f"the {train.name} wave of {date}"
    if train.svn is not SvnLayout.VERSIONED or not train.images:
        return f"--train {train.name}: only a versioned train with images has images to refresh"
    if not recorded:
        return f"no wave.json for {wave} in dist/{train.name}-{date}/: refresh from the tree that ran it"
    version = images_version(recorded)
    if not version or not wave_image_tags(recorded):
        return (f"{wave} published no images: publish it first "
                f"(invoke publish --train {train.name} --date {date})")
    if withdrawals(recorded) or recorded.get("withdrawn_images"):
        return (f"{version} ({wave}) is withdrawn: its images keep their tags and are not rebuilt; "
                "release a new version instead")
    return ""


def plan_wave_refresh(train: Train, date: str, recorded: Mapping[str, Any], observed: Sequence[Observed], *,
                      record: str, wheels: Sequence[str]) -> CommandPlan:
    """`invoke refresh --train NAME --date D`: each of the wave's final tags whose base moved rebuilt
    from `wheels` (the wave's voted wheels its images install) and the constraints its image
    installed, smoked, pushed, the tag and the aliases on its image moved to it, recorded in `record`
    (wave.json); the others left as they are."""
    version = images_version(recorded)
    options = f"--train {train.name} --date {date}"
    refusal = refresh_refusal(train, date, recorded)
    if refusal:
        return CommandPlan("refresh", version, (), (refusal,), options)
    earlier = {str(e.get("tag")): e for e in refreshes(recorded)}
    folder = f"dist/{train.name}-{date}"
    actions = []
    for seen in observed:
        before = earlier.get(seen.tag)
        done = f"; refreshed on {before.get('at')} already" if before else ""
        if seen.status == "stale":
            parts = parse_tag(seen.tag)
            pinned = f"{folder}/{CONSTRAINTS_DIR}/{constraints_name(parts.flavour or '', parts.variant)}"
            actions.append(Action(Where.REGISTRY, (
                f"rebuild {seen.tag} FROM {seen.base} (base {seen.old_base} -> {seen.new_base}) from the "
                f"wave's voted wheels ({', '.join(wheels)}) with its constraints "
                f"({pinned}), smoke it, push it, "
                f"move {seen.tag} and every alias on its image to it{done}")))
        else:
            why = "base current" if seen.status == "current" else f"skipped ({seen.detail})"
            actions.append(Action(Where.REGISTRY, f"leave {seen.tag}: {why}{done}"))
    if any(seen.status == "stale" for seen in observed):
        actions.append(Action(Where.DIST, f"append each refresh to {record} under `{REFRESHED}` (tag, old -> "
                                          "new image, base digests, aliases moved, when)"))
    return CommandPlan("refresh", version, tuple(actions), (), options)


def refresh_entry(tag: str, *, at: str, base: str, old_base: str, new_base: str, old_image: str,
                  new_image: str, moved: Sequence[str]) -> dict[str, Any]:
    """What wave.json records of one refresh."""
    return {"tag": tag, "at": at, "base": base, "old_base": old_base, "new_base": new_base,
            "old_image": old_image, "new_image": new_image, "moved": list(moved)}
