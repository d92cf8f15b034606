# SPDX-License-Identifier: Apache-2.0
"""The record goes out with the release: the signed release.json and each image's signed SBOM,
attached to the image digest in the registry (an OCI artifact under the fallback tag
`sha256-<hex>.att`, the registry having no referrers API), and for a final version in svn
`release/<name>/<V>/` beside the voted files.

A candidate's record goes to the registry only: its svn dev/ folder holds exactly the voted files.
A project staging in ATR puts nothing in svn: each image's artifact also carries that image's
simple-signing signature and every constraints file of the release (with their .asc and .sha512),
which svn staging commits to svn instead (steps/attest.py, steps/constraints.py).
A rerun re-signs the record, whose steps (their times, what each did this time) and tag actions
(create, then verify or skip) change: when the release itself (files, images, digests, tags,
SBOMs, signatures) is the same, what is published stays as it is, so a rerun of a finished
release changes nothing; otherwise the attachment tag moves to the new artifact and svn gets the
new bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters import svn
from release.adapters.clients import Registry
from release.adapters.registry import Manifest
from release.errors import RefusedError, ServiceError
from release.plan.provenance import (
    COMPANIONS,
    OCI_MANIFEST_TYPE,
    artifact_layers,
    artifact_manifest,
    attachment_tag,
    blob_digest,
    settled,
)
from release.plan.release import PlannedImage
from release.progress import Progress, to_log
from release.record import (
    RECORD_NAME,
    ConstraintsEntry,
    ImageSignatureEntry,
    ReleaseRecord,
    SbomEntry,
    sha512_of,
)


@dataclass(frozen=True)
class Attached:
    flavour: str
    subject: str  # the image digest
    tag: str  # sha256-<hex>.att
    digest: str  # the artifact manifest's digest
    files: tuple[str, ...]
    unchanged: bool = False  # the registry already had it (but for the record's step times)


def same_as_published(files: Mapping[str, Path], published: Mapping[str, bytes | str],
                      record_name: str = RECORD_NAME) -> bool:
    """Whether `published` (name -> bytes, or blob digest) holds `files` (name -> local file), the
    record (`record_name`: release.json, a train's wave.json) and its companions compared by `settled`
    content."""
    if set(published) != set(files):
        return False
    record = published.get(record_name)
    if not isinstance(record, bytes) or settled(record) != settled(files[record_name].read_bytes()):
        return False
    for name, path in files.items():
        if name.startswith(record_name):
            continue
        there = published[name]
        data = path.read_bytes()
        if there != (data if isinstance(there, bytes) else blob_digest(data)):
            return False
    return True


def record_files(record: ReleaseRecord) -> list[str]:
    """The record (release.json; a train's copy of wave.json) and its companions, relative to its
    folder (dist/<V>/); all must exist (the report step wrote them)."""
    names = [record.path.name, *(record.path.name + s for s in COMPANIONS)]
    missing = [n for n in names if not (record.directory / n).is_file()]
    if missing:
        raise RefusedError(f"{record.directory}: {', '.join(missing)} missing; run the report step first")
    return names


def image_files(record: ReleaseRecord, planned: PlannedImage, *, signature: bool = False) -> list[str]:
    """The image's SBOM and its companions (an index has none), and with `signature` the image's
    simple-signing signature, checked against the record."""
    names = []
    if planned.sbom:
        _recorded(record, planned.sbom, record.sboms.get(planned.sbom), "sbom")
        names += [planned.sbom, *(planned.sbom + s for s in COMPANIONS)]
    if signature and planned.signature:
        _recorded(record, planned.signature, record.image_signatures.get(planned.signature), "attest")
        names.append(planned.signature)
    return names


def constraints_files(record: ReleaseRecord) -> dict[str, Path]:
    """Every recorded constraints file with its companions (name -> file), checked against the record."""
    files: dict[str, Path] = {}
    for path, entry in sorted(record.constraints.items()):
        _recorded(record, path, entry, "constraints")
        files.update((Path(path).name + s, record.directory / (path + s)) for s in ("", *COMPANIONS))
    return files


def _recorded(record: ReleaseRecord, path: str,
              entry: ConstraintsEntry | SbomEntry | ImageSignatureEntry | None, step: str) -> None:
    on_disk = record.directory / path
    if entry is None or not on_disk.is_file() or sha512_of(on_disk) != entry.sha512:
        raise RefusedError(f"{on_disk} is missing or differs from the record; run the {step} step again")


def attach(record: ReleaseRecord, planned: PlannedImage, digest: str, *, registry: Registry, image: str,
           extra: Mapping[str, Path] | None = None, signature: bool = False) -> Attached:
    """Upload the record, the image's SBOM (with `signature` its image signature too, and `extra`:
    name -> file) and tag the artifact manifest `sha256-<hex>.att`, its subject the image `digest`."""
    subject = registry.get_manifest(image, digest)
    if subject is None:
        raise ServiceError(f"registry {registry.registry}: {image}@{digest} is gone")
    files = {Path(name).name: record.directory / name
             for name in (*record_files(record), *image_files(record, planned, signature=signature))}
    files.update(extra or {})
    tag = attachment_tag(digest)
    existing = registry.get_manifest(image, tag)
    name = record.path.name
    if existing is not None and (existing.body.get("subject") or {}).get("digest") == digest:
        published: dict[str, bytes | str] = dict(artifact_layers(existing.body))
        attached = registry.get_blob(image, str(published[name])) if name in published else None
        if attached is not None:
            published[name] = attached
        if same_as_published(files, published, name):
            return Attached(planned.image.flavour, digest, tag, existing.digest, tuple(files), unchanged=True)
    layers = {}
    for name, path in files.items():
        data = path.read_bytes()
        layers[name] = (registry.upload_blob(image, data), len(data))
    config = registry.upload_blob(image, b"{}")
    assert config == blob_digest(b"{}")
    raw = artifact_manifest(layers, subject=(subject.media_type, digest, len(subject.raw)),
                            annotations={"org.opencontainers.image.version": record.version,
                                         "org.release-pipeline.image": planned.ref})
    pushed = registry.put_manifest(image, tag, Manifest(raw, OCI_MANIFEST_TYPE, blob_digest(raw)))
    return Attached(planned.image.flavour, digest, tag, pushed, tuple(files))


def publish_provenance(record: ReleaseRecord, images: Sequence[PlannedImage], digests: Mapping[str, str], *,
                       registry: Registry, image: str, svn_folder: str | None,
                       extra: Mapping[str, Path] | None = None, in_atr: bool = False,
                       signature: bool = False, progress: Progress = to_log) -> list[Attached]:
    """Attach the record to every image digest; with `svn_folder` (a final's release folder), commit
    the record and every SBOM there too. `in_atr` (the project stages in ATR, nothing in svn): each
    image's artifact also carries its image signature and the constraints files; `signature`: its
    image signature (a train's images carry theirs however they are staged)."""
    attached = []
    extra = {**(extra or {}), **(constraints_files(record) if in_atr else {})}
    for planned in images:
        digest = digests.get(planned.key)
        if not digest:
            raise RefusedError(f"{planned.ref} has no digest in the registry; push it first")
        found = attach(record, planned, digest, registry=registry, image=image, extra=extra,
                       signature=in_atr or signature)
        did = "already attached" if found.unchanged else "attached"
        progress(f"{did} {', '.join(found.files)} to {image}@{digest[:19]} as {image}:{found.tag}")
        attached.append(found)
    if svn_folder is not None:
        names = record_files(record) + [n for planned in images for n in image_files(record, planned)]
        files = {Path(n).name: record.directory / n for n in names}
        files.update(extra)
        there = svn.cat_bytes(svn.join(svn_folder, RECORD_NAME)) if svn.exists(svn_folder) else None
        if there is not None and settled(there) == settled(files[RECORD_NAME].read_bytes()):
            # only the step times differ: svn keeps the record it has
            files = {n: p for n, p in files.items() if not n.startswith(RECORD_NAME)}
        revision = svn.put_files(svn_folder, files, f"Release record and SBOMs of {record.version}")
        where = f"r{revision}" if revision is not None else "unchanged"
        progress(f"committed {len(files)} files to {svn_folder} ({where})")
    return attached
