# SPDX-License-Identifier: Apache-2.0
"""`invoke refresh`: rebuild the images whose base image moved, under the same tags.

Observed (`observe_refresh`: each looked-at tag's labels and its base's digest now), then carried
out: every stale image is rebuilt from the same inputs with the new base (`steps/refresh.py` finds
its wheels, constraints and Dockerfile; a master image's wheel no source has is built again from its
labelled commit here, by the build step), all of them are smoked before any is pushed, and every tag
that pointed at an old image is moved to its new one by the one tag mover; each change is appended
to a log. The dry run stops after the observation and shows it. See `steps/refresh.py` for which
tags are looked at and how an index (several platforms) is refreshed.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from release.adapters import git
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import ReleaseError, ServiceError
from release.identity import ImageId
from release.pipeline.connect import Target, clients_for
from release.pipeline.images import image_job
from release.pipeline.state import platform_digest
from release.plan.images import OCI, unpinned
from release.plan.release import PlannedImage, PlannedIndex, plan_images
from release.plan.tags import MASTER, BuildKind, alias_candidates, parse_tag, platform_tag, split_tag
from release.progress import Progress, to_log
from release.record import sha256_of
from release.steps.build import build_commit
from release.steps.check_provenance import attachment
from release.steps.images import ImageResult, build_images, push_images
from release.steps.index import put_indexes
from release.steps.refresh import (
    DEFAULT_LOG,
    LABEL_READERS,
    ConstraintsSource,
    RefreshItem,
    RevisionSource,
    WheelSource,
    attached_constraints,
    check_image,
    dist_constraints,
    dist_wheels,
    index_wheels,
    rebuild_inputs,
    refresh_targets,
    svn_constraints,
)
from release.steps.refresh import RefreshReport as RefreshReport  # shown by the command line
from release.steps.smoke import smoke_images
from release.steps.tags import point_tag

log = logging.getLogger("release.refresh")


def refresh(config: ReleaseConfig, target: Target, *, dry_run: bool, say: Progress,
            clients: Clients | None = None) -> RefreshReport:
    """Refresh what is stale against `target`, finding wheels in the checkout's dist/, then on the
    target's index, then by rebuilding a master image's commit; constraints in dist/, then (a
    project staging in ATR) attached to the release's image, then in svn."""
    clients = clients or clients_for(target)
    registry = clients.registry
    with tempfile.TemporaryDirectory(prefix="refresh-wheels-") as scratch:
        constraints = [svn_constraints(target.svn_release, config.name, Path(scratch) / "constraints")]
        if config.uses_atr:
            constraints.insert(0, attached_constraints(
                registry, config.image, lambda digest: attachment(registry, config.image, digest),
                Path(scratch) / "attached"))
        return refresh_images(
            config, clients, dry_run=dry_run, progress=say,
            wheel_sources=[index_wheels(clients.index, config.name, Path(scratch))],
            revision_sources=[revision_wheels(config, Path(scratch) / "built", say)],
            constraints_sources=constraints,
        )


def revision_wheels(config: ReleaseConfig, dest: Path, progress: Progress = to_log) -> RevisionSource:
    """A master image's wheel is on no index: build it again from the commit its image is labelled
    with (the build step's `build_commit`; builds are reproducible), kept only when its sha256 is the
    recorded one. A revision that is not a full commit hash, or that the checkout lacks, finds nothing."""

    def find(revision: str, version: str, shas: Sequence[str]) -> list[Path] | None:
        try:
            commit = git.check_object_name(revision)
            files = build_commit(config.root, commit, config=config, version=version, out=dest / commit[:12],
                                 with_source=False, progress=progress)
        except ReleaseError as exc:
            log.warning("wheel of %s at %s not rebuilt: %s", version, revision[:12], exc)
            return None
        built = {sha256_of(f): f for f in files if f.suffix == ".whl"}
        return [built[s] for s in shas] if all(s in built for s in shas) else None

    return find


def observe_refresh(config: ReleaseConfig, clients: Clients, targets: Sequence[str] | None = None
                    ) -> list[RefreshItem]:
    """Each tag `refresh` looks at (`targets`, else those `refresh_targets` picks), with whether its
    base moved (its labels against the base's digest now). Reads only."""
    registry = clients.registry
    targets = list(targets) if targets is not None else refresh_targets(registry.tags(config.image))
    with ThreadPoolExecutor(max_workers=LABEL_READERS, thread_name_prefix="labels") as pool:
        target_labels = list(pool.map(lambda tag: registry.labels_or_index(config.image, tag), targets))
    bases: dict[str, str | ServiceError] = {}
    return [_check_index(config, clients, tag) if is_index
            else check_image(config, tag, found or {}, clients.engine, bases)
            for tag, (found, is_index) in zip(targets, target_labels)]


def _check_index(config: ReleaseConfig, clients: Clients, tag: str) -> RefreshItem:
    """An index is stale when any of its platforms' images was built on a base that moved since."""
    client = clients.registry
    index = client.image_index(config.image, tag)
    assert index is not None
    labels = {i.platform: client.image_labels(config.image, i.digest) or {} for i in index.images}
    first = next(iter(labels.values()))
    base = unpinned(first.get(f"{OCI}.base.name", ""))
    olds = {p: found.get(f"{OCI}.base.digest", "") for p, found in labels.items()}
    item = RefreshItem(tag, split_tag(tag)[1] or "", first.get(f"{OCI}.version", ""), base,
                       ", ".join(f"{p} {d}" for p, d in olds.items()), "", "current",
                       platforms=tuple(labels))
    if not base or not all(olds.values()):
        return dataclasses.replace(item, status="skipped", detail="no base.name/base.digest labels")
    try:
        news = {p: platform_digest(clients, base, p) for p in labels}
    except ReleaseError as exc:
        return dataclasses.replace(item, status="skipped", detail=str(exc))
    moved = [p for p in labels if news[p] != olds[p]]
    detail = f"base moved for {', '.join(moved)}" if moved else ""
    return dataclasses.replace(item, new_base=", ".join(f"{p} {d}" for p, d in news.items()),
                               status="stale" if moved else "current", detail=detail)


def refresh_images(
    config: ReleaseConfig,
    clients: Clients,
    *,
    wheel_sources: Sequence[WheelSource] = (),
    revision_sources: Sequence[RevisionSource] = (),
    constraints_sources: Sequence[ConstraintsSource] = (),
    log_path: Path | None = None,
    dry_run: bool = False,
    progress: Progress = to_log,
    targets: Sequence[str] | None = None,
) -> RefreshReport:
    """Refresh what is stale (see the module doc); `wheel_sources` are tried in order, after
    `dist/` of the checkout, then `revision_sources` with the image's revision label;
    `constraints_sources` likewise after the checkout's `dist/<V>/` record. `targets`: only these
    tags are looked at (a train's wave's; default: `refresh_targets`'). A dry run only reports what
    is stale."""
    items = observe_refresh(config, clients, targets)
    stale = [i for i in items if i.status == "stale"]
    for item in items:
        progress(f"{item.tag}: {item.status}" + (f" ({item.detail})" if item.detail else ""))
    if not stale or dry_run:
        progress("nothing to do: every image's base is current" if not stale else f"{len(stale)} stale")
        return RefreshReport(tuple(items))
    sources = [dist_wheels(config.root), *wheel_sources]
    pinned = [dist_constraints(config.root), *constraints_sources]
    built: list[tuple[RefreshItem, list[ImageResult], list[Path]]] = []
    with tempfile.TemporaryDirectory(prefix="refresh-") as scratch:
        inputs: dict[str, tuple[list[Path], ReleaseConfig, str]] = {}
        for item in stale:
            found = rebuild_inputs(config, clients.registry, item, sources, revision_sources, pinned,
                                   Path(scratch))
            if isinstance(found, str):
                items[items.index(item)] = dataclasses.replace(item, status="skipped", detail=found)
            else:
                inputs[item.tag] = found
        for group in sorted({item.group for item in stale}):  # every variant of it, or none
            members = [i for i in items if i.group == group and i.status in {"stale", "skipped"}
                       and i.tag in {s.tag for s in stale}]
            held = [i for i in members if i.status == "skipped"]
            if held:
                for item in members:
                    if item.status == "stale":
                        items[items.index(item)] = dataclasses.replace(
                            item, status="skipped",
                            detail=f"{held[0].tag} cannot be rebuilt ({held[0].detail}); the variants of "
                                   "one version move together")
                continue
            for item in members:
                wheels, at_release, revision = inputs[item.tag]
                # the image's own platforms, whatever the config says now
                at_release = dataclasses.replace(at_release, platforms=item.platforms)
                kind = BuildKind.MASTER if parse_tag(item.tag).prefix == MASTER else BuildKind.RELEASE
                images = _rebuilt(at_release, item, clients.registry.registry, kind)
                job = image_job(at_release, images, clients, version=item.version, wheels=wheels, kind=kind,
                                revision=revision, replace_tags=True)
                built.append((item, build_images(job, clients, progress=progress), wheels))
        for item, results, wheels in built:  # all smoked, each on its platform, before any is pushed
            smoke_images(config, [r.planned for r in results], version=item.version, wheels=wheels,
                         engine=clients.engine)
        when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = []
        for item, results, _ in built:
            items[items.index(item)] = done = _push(config, clients, item, results, progress)
            lines.append(done.log_line(when))
            progress(f"{item.tag}: refreshed, {done.old_digest} -> {done.new_digest}")
    if lines:
        path = log_path or config.root / DEFAULT_LOG
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.writelines(lines)
    return RefreshReport(tuple(items))


def _rebuilt(config: ReleaseConfig, item: RefreshItem, registry: str, kind: BuildKind
             ) -> tuple[PlannedImage, ...]:
    """The images `item` is rebuilt as: its tag's (with several platforms, every platform's), FROM
    the base image its labels name."""
    images, _ = plan_images(config, item.version, f"{registry}/{config.image}", [item.flavour],
                            config.image_platforms, registry=registry, kind=kind)
    return tuple(dataclasses.replace(image, base_image=item.base_image) for image in images
                 if image.image.variant == item.variant)


def _push(config: ReleaseConfig, clients: Clients, item: RefreshItem, results: list[ImageResult],
          progress: Progress) -> RefreshItem:
    """Push the new image (an index's: every platform's, then a new index over them, the tag
    moved to it) and move every alias that pointed at the old one."""
    client = clients.registry
    old = client.manifest_digest(config.image, item.tag)
    aliases = [t for t in alias_candidates(item.tag, config.default_python)
               if client.manifest_digest(config.image, t) == old]
    pushed = push_images(results, clients.engine)
    if item.platforms:
        own = tuple((p, platform_tag(item.tag, p)) for p in item.platforms)
        digests = {r.tag: r.digest or "" for r in pushed}
        planned = PlannedIndex(ImageId(item.flavour), item.tag, own)
        index = put_indexes(client, config.image, [planned], pushed=digests, progress=progress)[item.flavour]
        new = index.digest
        point_tag(client, config.image, item.tag, new, moving=True, progress=progress)
    else:
        (only,) = pushed
        assert only.digest is not None
        new = only.digest
    for alias in aliases:
        try:
            point_tag(client, config.image, alias, new, moving=True, progress=progress)
        except ReleaseError as exc:
            raise ServiceError(
                f"{config.image}:{item.tag} was refreshed to {new[:19]}, but {alias} still points "
                f"at the old image {old}: {exc}"
            ) from None
    return dataclasses.replace(item, status="refreshed", old_digest=old, new_digest=new,
                               moved_tags=tuple(aliases))
