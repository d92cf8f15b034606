"""Image jobs outside a full release: one release's images (per flavour, for split CI), the
master build CI runs after every merge, and the local smoke run contributors use."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from release import locks
from release.adapters import git
from release.adapters.index import download_wheel
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig
from release.errors import ConfigError
from release.pipeline.connect import Target, base_images
from release.plan.tags import BuildKind, check_tag_length, plan_tags
from release.progress import Progress
from release.record import ImageEntry, load_record, release_dir
from release.steps.build import build_release, build_set, find_declared_version, package_builder
from release.steps.images import ImageResult
from release.steps.smoke import SmokeReport, ship_images
from release.steps.tags import point_tag
from release.versions import ReleaseVersion, parse_version


def release_wheels(config: ReleaseConfig, version: ReleaseVersion, say: Progress) -> list[Path]:
    """The wheel(s) dist/<V>/ holds for the index, building them first when this runner has none.

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
    if not record.is_done("build"):
        build_release(config, version, progress=say)
        record = load_record(directory, str(version))
    return record.wheels()


def release_images(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, *, flavours: Sequence[str],
    jobs: int, push: bool, say: Progress,
) -> tuple[list[ImageResult], list[SmokeReport]]:
    """Build, smoke and (with push) push `V-pythonP` for the given flavours; nothing else moves."""
    check_tag_length(version, flavours)
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        return _release_images(config, version, target, flavours=flavours, jobs=jobs, push=push, say=say)


def _release_images(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, *, flavours: Sequence[str],
    jobs: int, push: bool, say: Progress,
) -> tuple[list[ImageResult], list[SmokeReport]]:
    wheels = release_wheels(config, version, say)
    results, reports = ship_images(
        config, str(version), wheels=wheels, registry=target.registry, push=push,
        progress=say, flavours=list(flavours), base_images=base_images(config, target),
        kind=BuildKind.RELEASE, jobs=jobs,
    )
    if push:
        record = load_record(release_dir(config.root, str(version)), str(version))
        for result in results:
            plan = result.plan
            record.put_image(ImageEntry(result.flavour, result.ref, result.digest, result.image_id,
                                        plan.input_hash, plan.base_image, plan.base_digest))
    return results, reports


def tree_version(config: ReleaseConfig) -> str:
    declared = find_declared_version(config.root, config.name)
    if declared is None:
        raise ConfigError(f"{config.root}: cannot find the declared version for a master build")
    parse_version(declared.value)
    return declared.value


def master_images(
    config: ReleaseConfig, target: Target, *, flavours: Sequence[str], jobs: int, push: bool, say: Progress,
) -> tuple[list[ImageResult], list[SmokeReport], dict[str, str]]:
    """The master build: the wheel of HEAD, images tagged `master-pythonP` and `master`."""
    version = tree_version(config)
    commit = git.commit_of(config.root)
    say(f"master build of {config.name} {version} at {commit[:12]}")
    with tempfile.TemporaryDirectory(prefix="release-master-") as work:
        with package_builder(git.commit_time(config.root, commit)) as builder:
            files = build_set(config.root, commit, name=config.name, version=version, out=Path(work),
                              with_source=False, builder=builder, progress=say)
        wheels = [f for f in files if f.suffix == ".whl"]
        results, reports = ship_images(
            config, version, wheels=wheels, registry=target.registry, push=push,
            progress=say, flavours=list(flavours),
            base_images=base_images(config, target), kind=BuildKind.MASTER, jobs=jobs,
        )
    tags: dict[str, str] = {}
    if push:
        registry = RegistryClient(target.registry)
        digests = {r.flavour: r.digest or "" for r in results}
        plan = plan_tags(version=None, flavours=config.python, default=config.default_python,
                         kind=BuildKind.MASTER)
        for tag in plan.tags:
            if tag.python in digests:
                entry = point_tag(registry, config.image, tag.name, digests[tag.python], moving=True,
                                  python=tag.python, progress=say)
                tags[entry.tag] = entry.digest
    return results, reports, tags
