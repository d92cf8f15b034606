"""`invoke release`: build -> sign -> (stage) -> images -> smoke -> push -> upload -> aliases -> report.

Publishing order keeps users safe: images under immutable tags first, then packages (read back
and compared), and only when both hold the moving aliases. Every step records what it produced
in dist/<V>/release.json, so rerunning the same command after a failure continues from there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.adapters import gpg, svn
from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig
from release.errors import RefusedError
from release.pipeline.connect import Target, base_images
from release.plan.tags import BuildKind
from release.record import ReleaseRecord, load_record, release_dir, sha512_of
from release.steps import publish
from release.steps.build import build_release
from release.steps.images import ImageEvent, ImageResult
from release.steps.sign import checksum_text, sign_release
from release.steps.smoke import ship_images
from release.steps.vote import stage_release
from release.versions import ReleaseVersion

log = logging.getLogger("release.pipeline")
Announce = Callable[[str, str], None]


@dataclass(frozen=True)
class RunOptions:
    flavours: tuple[str, ...]
    jobs: int = 1
    sign_with: str = ""
    force: frozenset[str] = frozenset()
    allow_dirty: bool = False


@dataclass
class ReleaseReport:
    version: str
    files: dict[str, str] = field(default_factory=dict)  # path -> sha512
    images: dict[str, str] = field(default_factory=dict)  # flavour -> digest
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)  # tag -> python, digest, previous

    def to_json(self) -> dict[str, Any]:
        moved = {t: v for t, v in self.tags.items() if v["previous"] and v["previous"] != v["digest"]}
        return {"version": self.version, "files": self.files, "images": self.images, "tags": self.tags,
                "moved": moved}


def fetch_keys(target: Target, directory: Path) -> Path:
    """The project's KEYS file, as published, next to the release (signing checks against it)."""
    keys = directory / "KEYS"
    keys.parent.mkdir(parents=True, exist_ok=True)
    keys.write_text(svn.read_text(target.keys_url), encoding="utf-8")
    return keys


def _pypi_files(record: ReleaseRecord, directory: Path) -> list[Path]:
    files = [directory / p for p, e in sorted(record.get("files").items()) if e.get("set") == "pypi"]
    for path in files:
        if sha512_of(path) != record.get("files")[path.relative_to(directory).as_posix()]["sha512"]:
            raise RefusedError(f"{path} changed since it was built and signed; move dist/ away and rebuild")
    return files


def _image_progress(event: ImageEvent) -> str | None:
    return None if event.kind == "output" else str(event)


def run_images(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, record: ReleaseRecord,
    options: RunOptions, say: Callable[[str], None],
) -> list[ImageResult]:
    def on_event(event: ImageEvent) -> None:
        text = _image_progress(event)
        if text:
            say(text)

    results, reports = ship_images(
        config, str(version), wheels=record.wheels(), registry=target.registry, push=True,
        progress=on_event, flavours=options.flavours, base_images=base_images(config, target),
        kind=BuildKind.RELEASE, jobs=options.jobs,
    )
    for result in results:
        record.put("images", result.flavour, result.as_record())
    record.step_done("images", {"smoke": {r.flavour: r.ok for r in reports}})
    return results


def run_release(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, options: RunOptions, *,
    announce: Announce, say: Callable[[str], None],
) -> ReleaseReport:
    directory = release_dir(config.root, str(version))
    keys = fetch_keys(target, directory.parent / ".keys" / str(version))

    announce("build", "sdist, wheel and source tarball from a clean export of the commit")
    build_release(config, version, allow_dirty=options.allow_dirty, progress=say)
    announce("sign", "detached armored signatures and sha512 checksums")
    sign_release(config, version, keys_file=keys, key=options.sign_with or target.signing_key,
                 gnupghome=target.gnupghome, progress=say)
    if version.is_rc:
        announce("stage", f"commit the candidate to {target.svn_dev} and render the vote email")
        stage_release(config, version, svn_dev_url=target.svn_dev, keys_url=target.keys_url, progress=say)
    record = load_record(directory, str(version))

    announce("images", f"build and smoke Python {', '.join(options.flavours)}, then push version tags")
    results = run_images(config, version, target, record, options, say)
    digests = {r.flavour: r.digest or "" for r in results}
    pushed = frozenset(f"{version}-python{r.flavour}" for r in results if r.status != "reused")
    return publish_release(config, version, target, record, digests, options, announce=announce, say=say,
                           pushed_now=pushed)


def publish_release(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, record: ReleaseRecord,
    digests: dict[str, str], options: RunOptions, *, announce: Announce, say: Callable[[str], None],
    pushed_now: frozenset[str] = frozenset(),
) -> ReleaseReport:
    """Version tags, then packages, then -- only when both hold -- the moving aliases."""
    directory = record.path.parent
    registry = RegistryClient(target.registry)
    index = PackageIndex(target.index_upload, target.index_simple)
    existing = publish.released_versions(registry, index, config.image, config.name)
    immutable = publish.current_tag_plan(version, options.flavours, config.default_python, existing)
    report = ReleaseReport(str(version), images=dict(digests))
    for tag in publish.apply_tags(registry, config.image, immutable, digests, only_moving=False,
                                  force=options.force, progress=say):
        previous = None if tag.tag in pushed_now else tag.previous  # pushed by this run's image step
        report.tags[tag.tag] = {"python": tag.python, "digest": tag.digest, "previous": previous}
    record.step_done("push", {"digests": digests})

    announce("upload", f"packages to {target.index_upload}, then compare the index's hashes")
    uploads = publish.upload_packages(index, config.name, _pypi_files(record, directory),
                                      twine_env=target.twine_env, progress=say)
    record.step_done("upload", {"files": {u.filename: u.sha256 for u in uploads}})

    announce("aliases", "moving tags by manifest copy, as the registry and index stand now")
    existing = publish.released_versions(registry, index, config.image, config.name)
    aliases = publish.current_tag_plan(version, options.flavours, config.default_python, existing)
    if set(options.flavours) != set(config.python):
        say("only some flavours were built: moving aliases are left for a full release")
    else:
        for tag in publish.apply_tags(registry, config.image, aliases, digests, only_moving=True,
                                      progress=say):
            report.tags[tag.tag] = {"python": tag.python, "digest": tag.digest, "previous": tag.previous}
            record.put("aliases", tag.tag, tag.digest)
    record.step_done("aliases", {"owns_latest": aliases.owns_latest, "owns_line": aliases.owns_line})

    announce("report", "the release record, signed like the artefacts")
    report.files = {p: e["sha512"] for p, e in sorted(record.get("files").items())}
    (directory / "report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    sign_record(record, target, options)
    return report


def run_publish(
    config: ReleaseConfig, version: ReleaseVersion, target: Target, options: RunOptions, *,
    announce: Announce, say: Callable[[str], None],
) -> ReleaseReport:
    """Join image jobs run elsewhere: their digests come from the registry, not local state."""
    directory = release_dir(config.root, str(version))
    record = load_record(directory, str(version))
    if not record.is_done("sign"):
        raise RefusedError(f"{directory}: build and sign {version} before publishing it")
    announce("push", "read each flavour's version tag from the registry")
    registry = RegistryClient(target.registry)
    digests = publish.image_digests(registry, config.image, version, options.flavours)
    for flavour, digest in digests.items():
        say(f"python{flavour}: {config.image}:{version}-python{flavour}@{digest}")
    return publish_release(config, version, target, record, digests, options, announce=announce, say=say)


def sign_record(record: ReleaseRecord, target: Target, options: RunOptions) -> None:
    """Sign the finished record; it changes on every rerun, so its old signature is replaced."""
    record.step_done("report")
    path = record.path
    signature = path.with_name(path.name + ".asc")
    signature.unlink(missing_ok=True)
    gpg.sign_detached(path, key=options.sign_with or target.signing_key, gnupghome=target.gnupghome)
    path.with_name(path.name + ".sha512").write_text(checksum_text(path), encoding="utf-8")


def parse_force(values: Sequence[str] | str) -> frozenset[str]:
    items: Collection[str] = values.split(",") if isinstance(values, str) else values
    return frozenset(v.strip() for v in items if v.strip())
