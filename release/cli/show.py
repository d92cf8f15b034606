"""`invoke release --dry-run`: the plan computed against what the target holds now. Reads only."""

from __future__ import annotations

from collections.abc import Callable

from release import console
from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig
from release.pipeline.connect import Target
from release.plan.release import ReleasePlan, plan_release
from release.steps.publish import released_versions
from release.versions import ReleaseVersion


def existing_versions(config: ReleaseConfig, target: Target) -> list[ReleaseVersion]:
    registry = RegistryClient(target.registry)
    index = PackageIndex(target.index_upload, target.index_simple)
    return released_versions(registry, index, config.image, config.name)


def compute_plan(
    config: ReleaseConfig,
    version: ReleaseVersion,
    target: Target,
    *,
    declared: tuple[str, str] | None,
) -> ReleasePlan:
    registry = RegistryClient(target.registry)
    existing = existing_versions(config, target)
    draft = plan_release(config, version, registry=target.registry, existing=existing, current_digests={})
    digests = {c.tag: registry.manifest_digest(config.image, c.tag) for c in draft.changes}
    declared_version, declared_in = declared if declared else (None, "")
    return plan_release(
        config,
        version,
        registry=target.registry,
        existing=existing,
        current_digests=digests,
        declared_version=declared_version,
        declared_in=declared_in,
    )


def show_plan(plan: ReleasePlan, *, out: Callable[[str], None] = console.progress) -> None:
    for warning in plan.warnings:
        console.warn(warning)
    console.table("Steps", ["step", "does"], [(s.name, s.does) for s in plan.steps])
    console.table(
        f"Artefacts (dist/{plan.version}/)",
        ["file", "kind", "with"],
        [(a.path, a.kind, " ".join(x.rsplit(".", 1)[-1] for x in a.companions)) for a in plan.artefacts],
    )
    console.table(
        "Images", ["python", "image", "base"],
        [(p, ref, plan.base_images[p]) for p, ref in plan.images.items()],
    )
    console.table(
        f"Tags in {plan.repository}",
        ["tag", "python", "action", "points at now"],
        [(c.tag, c.python, c.action, c.current or "-") for c in plan.changes],
    )
    moving = [c for c in plan.changes if c.action == "move"]
    summary = ", ".join(c.tag for c in moving) if moving else "none"
    out(f"tags that would move: {summary}")
    if not plan.tags.owns_latest:
        out(f"`latest` stays where it is: {plan.version} is not the highest release")
