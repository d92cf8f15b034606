# SPDX-License-Identifier: Apache-2.0
"""Withdrawing a release: where its aliases go back to, and the tag that publishes it. Pure.

A withdrawn release keeps its images and immutable tags (people may have pinned them), but no
moving alias may point at it: each alias that does moves back to the highest remaining release
that owns it, decided by the same rule as at release time (`plan_tags` over the releases that
are neither withdrawn nor this one). The withdrawal itself is published as the tag
`withdrawn-V` on the image V shipped, so every later plan reads it from the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from release.config import ReleaseConfig
from release.errors import RefusedError
from release.identity import ImageId
from release.plan.release import TagAction, TagChange, TargetState
from release.plan.tags import LATEST, BuildKind, plan_tags, tag_name, version_tag, withdrawn_tag
from release.versions import ReleaseVersion


@dataclass(frozen=True)
class AliasFamily:
    """The aliases of one prefix (`X.Y` or `latest`), bare and per flavour, in every image variant,
    and who owns them now."""

    prefix: str
    owner: ReleaseVersion | None  # the release they go back to; None when no other release can hold them
    changes: tuple[TagChange, ...]
    digests: Mapping[str, str]  # the owner's version tag ([VARIANT-]V-pythonP) -> its image digest

    @property
    def moves(self) -> tuple[TagChange, ...]:
        return tuple(c for c in self.changes if c.action in {TagAction.MOVE, TagAction.CREATE})


@dataclass(frozen=True)
class WithdrawPlan:
    version: ReleaseVersion
    marker: TagChange  # `withdrawn-V` on V's default-flavour image
    families: tuple[AliasFamily, ...]

    marker_digest: str  # the image the marker goes on

    @property
    def moves(self) -> tuple[TagChange, ...]:
        return tuple(c for family in self.families for c in family.moves)

    @property
    def kept(self) -> tuple[TagChange, ...]:
        """Aliases that still point at the withdrawn release, with why (no other release holds them)."""
        return tuple(c for family in self.families for c in family.changes
                     if c.action is TagAction.SKIP and c.reason.startswith("no other release"))

    def to_json(self) -> dict[str, object]:
        return {"version": str(self.version), "marker": self.marker.to_json(),
                "families": [{"prefix": f.prefix, "owner": str(f.owner) if f.owner else None,
                              "changes": [c.to_json() for c in f.changes]} for f in self.families]}


def remaining(version: ReleaseVersion, state: TargetState) -> tuple[ReleaseVersion, ...]:
    """The releases that may own an alias once `version` is withdrawn."""
    return tuple(v for v in state.current if v != version)


def owners(config: ReleaseConfig, version: ReleaseVersion, state: TargetState
           ) -> dict[str, ReleaseVersion | None]:
    """prefix (`X.Y`, `latest`) -> the remaining release that owns it, as a release would decide."""
    left = [v for v in remaining(version, state) if not v.is_prerelease]
    found: dict[str, ReleaseVersion | None] = {version.line: None, LATEST: None}
    for candidate in sorted(left, reverse=True):
        plan = plan_tags(version=candidate, flavours=config.python, default=config.default_python,
                         kind=BuildKind.RELEASE, existing=left)
        if plan.owns_latest and found[LATEST] is None:
            found[LATEST] = candidate
        if candidate.line == version.line and plan.owns_line and found[version.line] is None:
            found[version.line] = candidate
    return found


def withdraw_tags_to_observe(config: ReleaseConfig, version: ReleaseVersion, state: TargetState
                             ) -> tuple[str, ...]:
    """Every tag whose digest the withdrawal needs: V's version tags, the aliases, the owners' tags."""
    names = {withdrawn_tag(version)}
    for prefix, owner in owners(config, version, state).items():
        for variant in config.variant_names:
            for python in (*config.python, None):
                names.add(tag_name(prefix, python, variant))
                flavour = python or config.default_python
                names.add(version_tag(version, flavour, variant))
                if owner is not None:
                    names.add(version_tag(owner, flavour, variant))
    return tuple(sorted(names))


def plan_withdraw(config: ReleaseConfig, version: ReleaseVersion, state: TargetState) -> WithdrawPlan:
    """What withdrawing `version` does to the registry, from `state` (which must hold the digests of
    `withdraw_tags_to_observe`)."""
    if version not in state.released:
        raise RefusedError(f"{version} is not released (neither the registry nor the index has it); "
                           "give a released version")
    default = config.default_python
    ours = {tag: state.tags[tag] for tag in (version_tag(version, p, v) for v in config.variant_names
                                             for p in config.python) if tag in state.tags}
    if version_tag(version, default) not in ours:
        raise RefusedError(f"the registry has no {version_tag(version, default)} image to mark withdrawn; "
                           "withdraw a version whose images were published")
    marker_tag = withdrawn_tag(version)
    current = state.tags.get(marker_tag)
    marker = TagChange(marker_tag, ImageId(default), False,
                       TagAction.CREATE if current is None else TagAction.VERIFY, current,
                       version_tag(version, default), "publishes the withdrawal")
    families = []
    for prefix, owner in owners(config, version, state).items():
        held = ([version_tag(owner, p, v) for v in config.variant_names for p in config.python]
                if owner is not None else [])
        digests = {tag: state.tags[tag] for tag in held if tag in state.tags}
        changes = []
        for variant in config.variant_names:
            for named in (*config.python, None):
                image = ImageId(named or default, variant)
                tag = tag_name(prefix, named, variant)
                now = state.tags.get(tag)
                source = version_tag(owner, image.flavour, variant) if owner is not None else ""
                if now is None or now not in ours.values():
                    action, reason = TagAction.SKIP, f"does not point at {version}"
                elif owner is None:
                    action = TagAction.SKIP
                    reason = f"no other release can hold {prefix}: it stays on {version}"
                elif source not in digests:
                    action, reason = TagAction.SKIP, f"no other release can hold {tag}: {owner} has no " \
                                                     f"{image.name} image; it stays on {version}"
                elif digests[source] == now:
                    action, reason = TagAction.SKIP, f"already points at {owner}"
                else:
                    action, reason = TagAction.MOVE, f"back to {owner}"
                changes.append(TagChange(tag, image, True, action, now, source, reason))
        families.append(AliasFamily(prefix, owner, tuple(changes), digests))
    return WithdrawPlan(version, marker, tuple(families), ours[version_tag(version, default)])
