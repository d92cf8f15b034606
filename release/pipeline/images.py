# SPDX-License-Identifier: Apache-2.0
"""Image jobs outside a full release: one release's images (per flavour, and per platform, for
split CI), the master build CI runs after every merge, and the local smoke run contributors use.

With several platforms an image job pushes only its platforms' helper tags; the join (`publish`,
`publish --master`, or a master build that built everything) puts each flavour's index."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from release import locks
from release.adapters import git
from release.adapters.index import download_wheel
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError
from release.pipeline.connect import Target, base_images
from release.plan.images import OCI, master_join_problems
from release.plan.release import planned_index
from release.plan.tags import MASTER, BuildKind, check_tag_length, plan_tags, tag_name
from release.progress import Progress
from release.record import load_record, release_dir
from release.steps.build import build_release, build_set, find_declared_version, package_builder
from release.steps.images import ImageResult, image_source
from release.steps.index import put_indexes
from release.steps.smoke import SmokeReport, ship_images
from release.steps.tags import point_tag
from release.versions import ReleaseVersion, parse_version


def release_wheels(config: ReleaseConfig, version: ReleaseVersion, say: Progress) -> list[Path]:
    """The wheel(s) dist/<V>/ holds for the index, building them first when this runner has none
    (after `invoke promote`, the voted wheels: a promoted release is never built again).

    Builds are reproducible, so separate runners building the same commit get the same bytes.
    With `install = "index"` the image installs a released version from the index, so the wheel
    to check it against is that release's, downloaded the same way.
    """
    if config.install == "index":
        dest = config.root / "dist" / config.name / str(version)
        say(f"downloading {config.name}=={version} from the package index to check the images against")
        return [download_wheel(f"{config.name}=={version}", dest)]
    directory = release_dir(config.root, str(version))
    record = load_record(directory, str(version))
    if record.promotion is not None:  # the voted wheels, never a rebuild
        return record.wheels()
    if not record.is_done("build"):
        build_release(config, version, progress=say)
        record = load_record(directory, str(version))
    return record.wheels()


def release_images(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, *, flavours: Sequence[str],
    jobs: int, push: bool, say: Progress, platforms: Sequence[str] = (),
) -> tuple[list[ImageResult], list[SmokeReport]]:
    """Build, smoke and (with push) push `V-pythonP` for the given flavours -- with several
    platforms `V-pythonP-ARCH` for the given ones (default: all) -- and nothing else moves."""
    check_tag_length(version, flavours, config.image_platforms if config.multi_platform else (),
                     config.variant_names)
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        return _release_images(config, version, target, flavours=flavours, jobs=jobs, push=push, say=say,
                               platforms=platforms)


def _release_images(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, *, flavours: Sequence[str],
    jobs: int, push: bool, say: Progress, platforms: Sequence[str],
) -> tuple[list[ImageResult], list[SmokeReport]]:
    wheels = release_wheels(config, version, say)
    built = load_record(release_dir(config.root, str(version)), str(version)).build
    # the release's commit, as `invoke release` and `invoke publish` label it, so their image is reused
    source = image_source(config, str(version), wheels, revision=built.commit) if built else None
    results, reports = ship_images(
        config, str(version), wheels=wheels, registry=target.registry, push=push,
        progress=say, flavours=list(flavours), base_images=base_images(config, target),
        kind=BuildKind.RELEASE, jobs=jobs, platforms=list(platforms) or None, source=source,
    )
    if push:
        record = load_record(release_dir(config.root, str(version)), str(version))
        for result in results:
            record.put_image(result.record_entry())
    return results, reports


def tree_version(config: ReleaseConfig) -> str:
    declared = find_declared_version(config.root / config.main.path, config.name)
    if declared is None:
        raise ConfigError(f"{config.root}: cannot find the declared version for a master build")
    parse_version(declared.value)
    return declared.value


def master_images(
    config: ReleaseConfig, target: Target, *, flavours: Sequence[str], jobs: int, push: bool, say: Progress,
    platforms: Sequence[str] = (),
) -> tuple[list[ImageResult], list[SmokeReport], dict[str, str]]:
    """The master build: the wheels of HEAD (every distribution), images tagged `master-pythonP`, and
    `master` when every flavour is built here. A job that builds some flavours (one CI runner each)
    pushes only their `master-pythonP`; `join_master` then moves `master`, as `publish` joins a
    release's image jobs. With several platforms the images go under `master-pythonP-ARCH`; only a
    build of every platform puts the indexes and sets `master-pythonP` (else `join_master` does)."""
    version = tree_version(config)
    commit = git.commit_of(config.root)
    say(f"master build of {config.name} {version} at {commit[:12]}")
    with tempfile.TemporaryDirectory(prefix="release-master-") as work:
        with package_builder(git.commit_time(config.root, commit)) as builder:
            files = build_set(config.root, commit, config=config, version=version, out=Path(work),
                              with_source=False, builder=builder, progress=say)
        wheels = [f for f in files if f.suffix == ".whl"]
        results, reports = ship_images(
            config, version, wheels=wheels, registry=target.registry, push=push,
            progress=say, flavours=list(flavours),
            base_images=base_images(config, target), kind=BuildKind.MASTER, jobs=jobs,
            platforms=list(platforms) or None,
        )
    if not push:
        return results, reports, {}
    full = set(flavours) == set(config.python)
    if config.multi_platform:
        if set(platforms or config.image_platforms) != set(config.image_platforms):
            say(f"{MASTER}-pythonP and {MASTER} move once every platform is pushed: invoke publish --master")
            return results, reports, {}
        digests = _master_indexes(config, RegistryClient(target.registry), flavours, say)
    else:
        digests = {r.tag: r.digest or "" for r in results}
    if not full:
        say(f"{MASTER} moves once every flavour is pushed: invoke publish --master")
    return results, reports, _point_master(config, target, digests, bare=full, say=say)


def _master_indexes(config: ReleaseConfig, registry: RegistryClient, flavours: Sequence[str], say: Progress
                    ) -> dict[str, str]:
    """Each flavour's index over its `master-pythonP-ARCH` images; `master-pythonP` -> the index
    digest. (No variants: they are refused with several platforms.)"""
    planned = [planned_index(config, p, tag_name(MASTER, p)) for p in flavours]
    hint = "push it (invoke images --master --python P --platform PLATFORM --push), then join again"
    return {tag_name(MASTER, p): index.digest
            for p, index in put_indexes(registry, config.image, planned, hint=hint, progress=say).items()}


def _point_master(config: ReleaseConfig, target: Target, digests: Mapping[str, str], *, bare: bool,
                  say: Progress) -> dict[str, str]:
    """`[VARIANT-]master-pythonP` for each image in `digests` (keyed by that tag), and the bare
    `[VARIANT-]master` too when `bare`."""
    registry = RegistryClient(target.registry)
    plan = plan_tags(version=None, flavours=config.python, default=config.default_python,
                     kind=BuildKind.MASTER, variants=config.variant_names)
    tags: dict[str, str] = {}
    for tag in plan.tags:
        source = tag_name(MASTER, tag.image.flavour, tag.image.variant)
        if source in digests and (bare or not tag.is_bare):
            entry = point_tag(registry, config.image, tag.name, digests[source], moving=True,
                              flavour=tag.image.flavour, progress=say)
            tags[entry.tag] = entry.digest
    return tags


def join_master(config: ReleaseConfig, target: Target, *, say: Progress) -> dict[str, str]:
    """Join master image jobs run on other machines: move `master` to the default flavour's
    `master-pythonP`, once every configured flavour's image is in the registry and was built from
    this checkout's commit (so `master` never pairs flavours of different merges). With several
    platforms each flavour's index is put first, over every platform's `master-pythonP-ARCH`."""
    commit = git.commit_of(config.root)
    registry = RegistryClient(target.registry)
    indexes = _master_indexes(config, registry, config.python, say) if config.multi_platform else {}
    found = {}
    for variant in config.variant_names:
        for flavour in config.python:
            tag = tag_name(MASTER, flavour, variant)
            digest = indexes.get(tag) or registry.manifest_digest(config.image, tag)
            labels = registry.image_labels(config.image, digest) if digest else None
            found[tag] = (digest, (labels or {}).get(f"{OCI}.revision", ""))
    problems = master_join_problems(found, commit)
    if problems:
        raise RefusedError(f"{MASTER} not moved in {target.registry}/{config.image}: " + "; ".join(problems))
    for tag, (digest, _) in found.items():
        say(f"{config.image}:{tag}@{digest} (commit {commit[:12]})")
    digests = {tag: digest or "" for tag, (digest, _) in found.items()}
    return _point_master(config, target, digests, bare=True, say=say)
