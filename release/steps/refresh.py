# SPDX-License-Identifier: Apache-2.0
"""Base-image refresh, the parts of a step: what to look at, where a rebuild's inputs come from.

Looks at `master-pythonP` and, per release line X.Y, the newest final release's `V-pythonP`
tags, in every image variant (`slim-V-pythonP`, ...). An image whose `base.digest` label differs
from its base's current digest is rebuilt from the same wheel (found by its recorded sha256; a
master image's is built again from its labelled commit when no source has it), the same
Dockerfile (from the recorded revision when the checkout has it), the same build args and, for a
release, the constraints file its release recorded for that image (so the Python dependencies stay
what was released: only the base changes). The variants of one version and flavour share a base
and move together: when one of them cannot be rebuilt, none is. All rebuilt images are smoked
before any is pushed; every tag that pointed at an old image is moved to its new one; each change
is appended to a log. Nothing moved: nothing is built and the log is not touched.

A tag that is an image index (several platforms) is stale when any platform's base moved: every
platform of it is then rebuilt (an unchanged one is found in the registry, built from the same
inputs) and smoked on its own platform, each is pushed under its platform's helper tag, a new
index is put over them, and the tag and its aliases move to that index. (Variants are refused with
several platforms, so an index is always the default image's.)

`pipeline/refresh.py` observes, plans and carries the refresh out, and rebuilds a master image's
wheel from its commit (`revision_wheels`, through the build step); this module says which tags are
looked at, whether one image is stale, and finds each rebuild's wheels (in dist/, on an index),
constraints and Dockerfile.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from release.adapters import git, svn
from release.adapters.clients import Index, Registry
from release.adapters.engine import Engine
from release.config import ReleaseConfig
from release.errors import RefusedError, ReleaseError, ServiceError
from release.identity import ImageId
from release.plan.images import OCI, WHEEL_SHA256_LABEL
from release.plan.release import CONSTRAINTS_DIR, constraints_folder, constraints_name
from release.plan.tags import MASTER, parse_tag, version_tag
from release.record import load_record, release_dir, sha256_of, sha512_of
from release.versions import parse_existing

log = logging.getLogger("release.refresh")
DEFAULT_LOG = "docs/base-image-refresh.log"
LABEL_READERS = 8  # targets whose labels are read from the registry at once

# (version, wheel sha256s) -> the wheel files, or None when they cannot be found
WheelSource = Callable[[str, Sequence[str]], "list[Path] | None"]
# (revision, version, wheel sha256s) -> the wheel files rebuilt from that commit, or None
RevisionSource = Callable[[str, str, Sequence[str]], "list[Path] | None"]
# (version, image) -> the constraints file the release recorded for that image, or None
ConstraintsSource = Callable[[str, ImageId], "Path | None"]


@dataclass(frozen=True)
class RefreshItem:
    tag: str
    flavour: str
    version: str
    base_image: str
    old_base: str
    new_base: str
    status: str  # current | stale (dry run) | refreshed | skipped
    detail: str = ""
    old_digest: str | None = None
    new_digest: str | None = None
    moved_tags: tuple[str, ...] = ()
    variant: str = ""

    @property
    def group(self) -> tuple[str, str]:
        """The images that move together: every variant of one version (or master) and flavour."""
        return parse_tag(self.tag).prefix, self.flavour
    platforms: tuple[str, ...] = ()  # an index's platforms, in its order; () for a single image

    def log_line(self, when: str) -> str:
        aliases = f" (also {', '.join(self.moved_tags)})" if self.moved_tags else ""
        return (f"{when} {self.tag}{aliases}: base {self.base_image} {self.old_base} -> {self.new_base}; "
                f"image {self.old_digest} -> {self.new_digest}\n")


@dataclass(frozen=True)
class RefreshReport:
    items: tuple[RefreshItem, ...]

    @property
    def changed(self) -> tuple[RefreshItem, ...]:
        return tuple(i for i in self.items if i.status == "refreshed")

    @property
    def nothing_to_do(self) -> bool:
        return all(i.status == "current" for i in self.items)


def refresh_targets(tags: Sequence[str]) -> list[str]:
    """Pure: the `[VARIANT-]master-pythonP` tags and the `[VARIANT-]V-pythonP` tags of each line's
    newest final release."""
    split = [(tag, parse_tag(tag)) for tag in tags]
    chosen = sorted(tag for tag, parts in split if parts.prefix == MASTER and parts.flavour)
    newest: dict[str, str] = {}
    for version in sorted(parse_existing(parts.prefix for _, parts in split if parts.flavour)):
        if not version.is_prerelease:
            newest[version.line] = str(version)
    for name in newest.values():
        chosen += sorted(tag for tag, parts in split if parts.prefix == name and parts.flavour)
    return chosen


def dist_wheels(root: Path) -> WheelSource:
    """Wheels under `root/dist` whose sha256 is the recorded one."""

    def find(version: str, shas: Sequence[str]) -> list[Path] | None:
        found = {}
        for path in sorted((root / "dist").rglob("*.whl")):
            if f"-{version}-" in path.name and (sha := sha256_of(path)) in shas:
                found[sha] = path
        return [found[s] for s in shas] if all(s in found for s in shas) else None

    return find


def folder_wheels(folder: Path) -> WheelSource:
    """Wheels under `folder` whose sha256 is a recorded one, whatever version their names carry (a
    train's image installs distributions at their own versions: the task SDK's 1.3.3 in 3.3.3)."""

    def find(version: str, shas: Sequence[str]) -> list[Path] | None:
        found = {sha: path for path in sorted(folder.rglob("*.whl")) if (sha := sha256_of(path)) in shas}
        return [found[s] for s in shas] if shas and all(s in found for s in shas) else None

    return find


def index_wheels(index: Index, project: str | Sequence[str], dest: Path) -> WheelSource:
    """Wheels from a package index (simple API) listed with the recorded sha256s under `project` (or
    any of several projects: a train's image installs several distributions), downloaded into `dest`
    and kept only when their bytes have that sha256 (a VerificationError otherwise)."""
    projects = [project] if isinstance(project, str) else list(project)

    def find(version: str, shas: Sequence[str]) -> list[Path] | None:
        files = {f.sha256: f for name in projects for f in index.files(name) if f.sha256}
        if not all(s in files for s in shas):
            return None
        try:
            return [index.download(files[sha], dest) for sha in shas]
        except ServiceError as exc:  # listed but not served: not found here, another source may have it
            log.warning("%s", exc)
            return None

    return find


def dist_constraints(root: Path) -> ConstraintsSource:
    """The constraints file `dist/<V>/release.json` records for an image, when its bytes still match."""

    def find(version: str, image: ImageId) -> Path | None:
        directory = release_dir(root, version)
        if not (directory / "release.json").is_file():
            return None
        try:
            entry = load_record(directory, version).constraints_of(image)
        except ReleaseError as exc:
            log.warning("%s", exc)
            return None
        path = directory / entry.path if entry else None
        return path if entry and path and path.is_file() and sha512_of(path) == entry.sha512 else None

    return find


def svn_constraints(svn_url: str, name: str, dest: Path) -> ConstraintsSource:
    """The constraints file published in svn with a release (`<name>/constraints-<V>/`), kept only
    when its published .sha512 agrees with its bytes."""

    def find(version: str, image: ImageId) -> Path | None:
        folder = svn.join(svn_url, constraints_folder(name, version))
        try:
            if not svn.exists(folder):
                return None
            dest.mkdir(parents=True, exist_ok=True)
            there = svn.export(folder, Path(tempfile.mkdtemp(dir=dest)) / f"constraints-{version}")
        except ReleaseError as exc:
            log.warning("constraints of %s not read from %s: %s", version, folder, exc)
            return None
        path = there / constraints_name(image.flavour, image.variant)
        checksum = path.with_name(path.name + ".sha512")
        if not path.is_file() or not checksum.is_file():
            return None
        return path if _sums_to(path, checksum.read_text(encoding="utf-8")) else None

    return find


def folder_constraints(directory: Path, recorded: Mapping[str, Any]) -> ConstraintsSource:
    """A train's wave's constraints file for an image (`directory`/constraints/constraints-P.txt, as
    its constraints step wrote it), kept only when its sha512 is the one wave.json records
    (`recorded`: relative path -> {"sha512": ...})."""

    def find(version: str, image: ImageId) -> Path | None:
        relative = f"{CONSTRAINTS_DIR}/{constraints_name(image.flavour, image.variant)}"
        path, entry = directory / relative, recorded.get(relative)
        expected = entry.get("sha512") if isinstance(entry, Mapping) else None
        return path if expected and path.is_file() and sha512_of(path) == expected else None

    return find


def tagged_constraints(root: Path, tag: str, recorded: Mapping[str, Any], dest: Path) -> ConstraintsSource:
    """A train's constraints file for an image read from its git tag (`constraints-3.3.3`, which holds
    the wave's constraints files at the branch's root), kept only when its sha512 is the one wave.json
    records (`recorded` as for `folder_constraints`): a tree whose dist/ lost the file still has it."""

    def find(version: str, image: ImageId) -> Path | None:
        name = constraints_name(image.flavour, image.variant)
        entry = recorded.get(f"{CONSTRAINTS_DIR}/{name}")
        expected = entry.get("sha512") if isinstance(entry, Mapping) else None
        commit = git.tag_commit(root, tag) if tag and expected else None
        text = git.file_at(root, commit, name) if commit else None
        if text is None:
            return None
        dest.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(dir=dest)) / name
        path.write_text(text, encoding="utf-8")
        return path if sha512_of(path) == expected else None

    return find


def without_pins(source: ConstraintsSource, names: Collection[str], dest: Path) -> ConstraintsSource:
    """`source`'s file with the pins of `names` left out (a copy in `dest`): a train's image installs
    its own distributions from the voted wheels, which the image build keeps out of its dependency
    layer, while other distributions there depend on them (Airflow's providers on apache-airflow); the
    constraints its image installed pin them at the voted version, which an index need not have."""
    own = {canonicalize_name(n) for n in names}

    def find(version: str, image: ImageId) -> Path | None:
        found = source(version, image)
        if found is None:
            return None
        kept = [line for line in found.read_text(encoding="utf-8").splitlines(keepends=True)
                if canonicalize_name(line.partition("==")[0].strip()) not in own or "==" not in line]
        dest.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(dir=dest)) / found.name
        path.write_text("".join(kept), encoding="utf-8")
        return path

    return find


Attachment = Callable[[str], Mapping[str, bytes] | None]  # an image digest -> the files attached to it


def attached_constraints(registry: Registry, image: str, attached: Attachment,
                         dest: Path) -> ConstraintsSource:
    """The constraints file attached to a release's image (a project staging in ATR puts none in
    svn): the one in the artifact attached to the version tag's digest, kept only when the attached
    .sha512 agrees with its bytes."""

    def find(version: str, which: ImageId) -> Path | None:
        name = constraints_name(which.flavour, which.variant)
        try:
            digest = registry.manifest_digest(image, version_tag(version, which.flavour, which.variant))
            files = attached(digest) if digest else None
        except ReleaseError as exc:
            log.warning("constraints of %s not read from %s's attachment: %s", version, image, exc)
            return None
        data, checksum = (files or {}).get(name), (files or {}).get(f"{name}.sha512")
        if data is None or checksum is None:
            return None
        dest.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(dir=dest)) / name
        path.write_bytes(data)
        return path if _sums_to(path, checksum.decode("utf-8", errors="replace")) else None

    return find


def _sums_to(path: Path, checksum: str) -> bool:
    """Whether a `.sha512` file's text names `path`'s sha512 first."""
    return checksum.split()[:1] == [sha512_of(path)]


def _dockerfile_at(config: ReleaseConfig, revision: str, dest: Path) -> str:
    """The project's own Dockerfile of `revision` when the checkout has it, else the current one;
    "" (the Dockerfile release-pipeline ships) for a project that has none.

    `revision` comes from an image label: anything but a full commit hash is refused (RefusedError).
    """
    if revision and config.dockerfile:
        text = git.file_at(config.root, revision, config.dockerfile)
        if text is not None:
            (dest / "Dockerfile").write_text(text, encoding="utf-8")
            return str(dest / "Dockerfile")
    return config.dockerfile


def check_image(config: ReleaseConfig, tag: str, labels: Mapping[str, str], engine: Engine,
                bases: dict[str, str | ServiceError]) -> RefreshItem:
    """One target's state; `bases` remembers each base image's current digest (or why it has none)."""
    parts = parse_tag(tag)
    base, old = labels.get(f"{OCI}.base.name", ""), labels.get(f"{OCI}.base.digest", "")
    item = RefreshItem(tag, parts.flavour or "", labels.get(f"{OCI}.version", ""), base, old, "", "current",
                       variant=parts.variant)
    if parts.variant and parts.variant not in config.variant_names:
        detail = f"no variant {parts.variant!r} in the config"
        return dataclasses.replace(item, status="skipped", detail=detail)
    if not base or not old:
        return dataclasses.replace(item, status="skipped", detail="no base.name/base.digest labels")
    if base not in bases:
        try:
            bases[base] = engine.current_digest(base)
        except ServiceError as exc:
            bases[base] = exc
    new = bases[base]
    if isinstance(new, ServiceError):
        return dataclasses.replace(item, status="skipped", detail=str(new))
    return dataclasses.replace(item, new_base=new, status="current" if new == old else "stale")


def rebuild_inputs(
    config: ReleaseConfig, client: Registry, item: RefreshItem, sources: Sequence[WheelSource],
    revision_sources: Sequence[RevisionSource], pinned: Sequence[ConstraintsSource], scratch: Path,
) -> tuple[list[Path], ReleaseConfig, str] | str:
    """What rebuilding `item` takes (its wheels, the config as released, its revision), or why it
    cannot be rebuilt."""
    labels = client.image_labels(config.image, item.tag) or {}
    shas = [s for s in labels.get(WHEEL_SHA256_LABEL, "").split(",") if s]
    revision = labels.get(f"{OCI}.revision", "")
    wheels = next((w for w in (find(item.version, shas) for find in sources) if w), None)
    if wheels is None and shas and revision:
        rebuilt = (find(revision, item.version, shas) for find in revision_sources)
        wheels = next((w for w in rebuilt if w), None)
    if not shas or wheels is None:
        return f"wheel {shas} of {item.version} not found"
    workdir = Path(tempfile.mkdtemp(dir=scratch))
    try:
        dockerfile = _dockerfile_at(config, revision, workdir)
    except RefusedError as exc:
        return str(exc)
    at_release = dataclasses.replace(config.for_variant(item.variant), dockerfile=dockerfile)
    if parse_tag(item.tag).prefix != MASTER:
        recorded = (find(item.version, ImageId(item.flavour, item.variant)) for find in pinned)
        constraints = next((c for c in recorded if c), None)
        if constraints is None:
            return (f"the constraints its release recorded ({constraints_name(item.flavour, item.variant)} "
                    f"of {item.version}) were not found; a rebuild would resolve the dependencies afresh")
        at_release = dataclasses.replace(at_release, constraints=str(constraints.resolve()))
    return wheels, at_release, revision
