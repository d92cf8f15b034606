"""The record goes out with the release: the signed release.json and each image's signed SBOM,
attached to the image digest in the registry (an OCI artifact under the fallback tag
`sha256-<hex>.att`, the registry having no referrers API), and for a final version in svn
`release/<name>/<V>/` beside the voted files.

A candidate's record goes to the registry only: its svn dev/ folder holds exactly the voted files.
The record is re-signed on every rerun (its step times change), so the attachment tag moves to the
new artifact and svn gets the new bytes; nothing else is replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters import svn
from release.adapters.registry import Manifest, RegistryClient
from release.errors import RefusedError, ServiceError
from release.plan.provenance import OCI_MANIFEST_TYPE, artifact_manifest, attachment_tag, blob_digest
from release.plan.release import PlannedImage
from release.progress import Progress, to_log
from release.record import RECORD_NAME, ReleaseRecord, sha512_of

COMPANIONS = (".asc", ".sha512")


@dataclass(frozen=True)
class Attached:
    python: str
    subject: str  # the image digest
    tag: str  # sha256-<hex>.att
    digest: str  # the artifact manifest's digest
    files: tuple[str, ...]


def record_files(record: ReleaseRecord) -> list[str]:
    """release.json and its companions, relative to dist/<V>/; all must exist (the report step wrote them)."""
    names = [RECORD_NAME, *(RECORD_NAME + s for s in COMPANIONS)]
    missing = [n for n in names if not (record.directory / n).is_file()]
    if missing:
        raise RefusedError(f"{record.directory}: {', '.join(missing)} missing; run the report step first")
    return names


def image_files(record: ReleaseRecord, planned: PlannedImage) -> list[str]:
    """The image's SBOM and its companions, checked against the record."""
    entry = record.sboms.get(planned.sbom)
    path = record.directory / planned.sbom
    if entry is None or not path.is_file() or sha512_of(path) != entry.sha512:
        raise RefusedError(f"{path} is missing or differs from the record; run the sbom step again")
    return [planned.sbom, *(planned.sbom + s for s in COMPANIONS)]


def attach(record: ReleaseRecord, planned: PlannedImage, digest: str, *, registry: RegistryClient, image: str,
           extra: Mapping[str, Path] | None = None) -> Attached:
    """Upload the record, the image's SBOM (and `extra`: name -> file) and tag the artifact manifest
    `sha256-<hex>.att`, its subject the image `digest`."""
    subject = registry.get_manifest(image, digest)
    if subject is None:
        raise ServiceError(f"registry {registry.registry}: {image}@{digest} is gone")
    files = {Path(name).name: record.directory / name
             for name in (*record_files(record), *image_files(record, planned))}
    files.update(extra or {})
    layers = {}
    for name, path in files.items():
        data = path.read_bytes()
        layers[name] = (registry.upload_blob(image, data), len(data))
    config = registry.upload_blob(image, b"{}")
    assert config == blob_digest(b"{}")
    raw = artifact_manifest(layers, subject=(subject.media_type, digest, len(subject.raw)),
                            annotations={"org.opencontainers.image.version": record.version,
                                         "org.release-pipeline.image": planned.ref})
    tag = attachment_tag(digest)
    pushed = registry.put_manifest(image, tag, Manifest(raw, OCI_MANIFEST_TYPE, blob_digest(raw)))
    return Attached(planned.python, digest, tag, pushed, tuple(files))


def publish_provenance(record: ReleaseRecord, images: Sequence[PlannedImage], digests: Mapping[str, str], *,
                       registry: RegistryClient, image: str, svn_folder: str | None,
                       extra: Mapping[str, Path] | None = None,
                       progress: Progress = to_log) -> list[Attached]:
    """Attach the record to every image digest; with `svn_folder` (a final's release folder), commit
    the record and every SBOM there too."""
    attached = []
    for planned in images:
        digest = digests.get(planned.python)
        if not digest:
            raise RefusedError(f"{planned.ref} has no digest in the registry; push it first")
        found = attach(record, planned, digest, registry=registry, image=image, extra=extra)
        progress(f"attached {', '.join(found.files)} to {image}@{digest[:19]} as {image}:{found.tag}")
        attached.append(found)
    if svn_folder is not None:
        names = record_files(record) + [n for planned in images for n in image_files(record, planned)]
        files = {Path(n).name: record.directory / n for n in names}
        files.update(extra or {})
        revision = svn.put_files(svn_folder, files, f"Release record and SBOMs of {record.version}")
        where = f"r{revision}" if revision is not None else "unchanged"
        progress(f"committed {len(files)} files to {svn_folder} ({where})")
    return attached
