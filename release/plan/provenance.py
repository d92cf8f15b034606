# SPDX-License-Identifier: Apache-2.0
"""Where a release's provenance lives and how it is named: SBOMs, image signatures, the attached
record, and the policy a user installs to check them. Pure: no I/O.

- An SBOM per image: `sbom/<name>-<tag>[-<os>-<arch>].cdx.json` under dist/<V>/. The image's tag
  already carries its flavour (and the variant, when variants come); the platform is added for
  multi-platform images, whose tag names an index rather than one image.
- The image's `org.release-pipeline.sbom` label names that file. The label cannot hold the SBOM's
  hash or the image's digest (the image is built, and its digest known, before the SBOM is made);
  the SBOM names the image digest instead, and the signed record names both.
- The signed record and the image's SBOM travel together as an OCI artifact attached to the image
  digest. The registry (distribution 2.8) has no referrers API, so the artifact is tagged
  `sha256-<hex>.att` (the fallback tag scheme) and carries `subject` for registries that have one.
- Image signatures are "simple signing" signatures (what `skopeo`/`podman` check with a
  `signedBy` policy), kept in a lookaside tree `<repository>@sha256=<hex>/signature-1`. They bind
  the version tag's reference; the documented policy matches the repository only
  (`matchRepository`), so the aliases (same digest, another tag) need no signature of their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from release.record import RECORD_NAME, ReleaseRecord

SBOM_LABEL = "org.release-pipeline.sbom"
SBOM_DIR = "sbom"
IMAGE_SIGNATURE_DIR = "image-signatures"
LOOKASIDE_DIR = "signatures"  # under <svn>/<name>/: the lookaside tree users point registries.d at

ARTIFACT_TYPE = "application/vnd.release-pipeline.provenance.v1+json"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
OCI_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
TITLE_ANNOTATION = "org.opencontainers.image.title"
SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"
MEDIA_TYPES = {".json": "application/json", ".asc": "application/pgp-signature", ".sha512": "text/plain",
               ".txt": "text/plain"}


def sbom_file(name: str, tag: str, platform: str = "") -> str:
    """The SBOM's file name for the image `tag` of `name` (and `platform`, e.g. linux/arm64)."""
    suffix = f"-{platform.replace('/', '-')}" if platform else ""
    return f"{name}-{tag}{suffix}.cdx.json"


def sbom_path(name: str, tag: str, platform: str = "") -> str:
    """Where the SBOM goes, relative to dist/<V>/."""
    return f"{SBOM_DIR}/{sbom_file(name, tag, platform)}"


def image_signature_path(name: str, tag: str, platform: str = "") -> str:
    """The release's copy of the image's simple-signing signature, relative to dist/<V>/."""
    suffix = f"-{platform.replace('/', '-')}" if platform else ""
    return f"{IMAGE_SIGNATURE_DIR}/{name}-{tag}{suffix}.sig"


def blob_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def media_type(filename: str) -> str:
    if filename.endswith(".cdx.json"):
        return SBOM_MEDIA_TYPE
    return next((t for s, t in MEDIA_TYPES.items() if filename.endswith(s)), "application/octet-stream")


def split_digest(digest: str) -> tuple[str, str]:
    algorithm, _, hexdigest = digest.partition(":")
    if not algorithm or not hexdigest:
        raise ValueError(f"{digest!r} is not a digest")
    return algorithm, hexdigest


def attachment_tag(digest: str) -> str:
    """The tag of the artifact attached to `digest` (`sha256:<hex>` -> `sha256-<hex>.att`)."""
    algorithm, hexdigest = split_digest(digest)
    return f"{algorithm}-{hexdigest}.att"


def lookaside_path(image: str, digest: str, index: int = 1) -> str:
    """Where containers/image looks for signature `index` of `digest`, under the lookaside base:
    `<repository path>@<algorithm>=<hex>/signature-<index>` (the path has no registry host)."""
    algorithm, hexdigest = split_digest(digest)
    return f"{image}@{algorithm}={hexdigest}/signature-{index}"


def signed_identity(repository: str, tag: str) -> str:
    """The docker reference a signature binds: `registry/image:version-tag`."""
    return f"{repository}:{tag}"


def artifact_manifest(layers: Mapping[str, tuple[str, int]], *, subject: tuple[str, str, int],
                      annotations: Mapping[str, str]) -> bytes:
    """An OCI image manifest of an artifact: `layers` is filename -> (digest, size), in order;
    `subject` is the (media type, digest, size) of the image it is attached to. Canonical bytes."""
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST_TYPE,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_CONFIG_TYPE, "digest": blob_digest(EMPTY_CONFIG),
                   "size": len(EMPTY_CONFIG)},
        "layers": [{"mediaType": media_type(name), "digest": digest, "size": size,
                    "annotations": {TITLE_ANNOTATION: name}}
                   for name, (digest, size) in layers.items()],
        "subject": {"mediaType": subject[0], "digest": subject[1], "size": subject[2]},
        "annotations": dict(sorted(annotations.items())),
    }
    return json.dumps(body, indent=None, separators=(",", ":")).encode()


def artifact_layers(manifest: Mapping[str, Any]) -> dict[str, str]:
    """filename -> blob digest of an artifact manifest's layers (by their title annotation)."""
    found = {}
    for layer in manifest.get("layers") or []:
        title = (layer.get("annotations") or {}).get(TITLE_ANNOTATION)
        if isinstance(title, str) and isinstance(layer.get("digest"), str):
            found[title] = layer["digest"]
    return found


def signature_policy(repository: str, keys_path: str) -> dict[str, Any]:
    """The containers-policy.json(5) a user installs: images of `repository` (registry/image) must
    carry a simple-signing signature by a key in KEYS, for any tag of that repository."""
    return {
        "default": [{"type": "insecureAcceptAnything"}],
        "transports": {"docker": {repository: [{
            "type": "signedBy", "keyType": "GPGKeys", "keyPath": keys_path,
            "signedIdentity": {"type": "matchRepository"},
        }]}},
    }


def registries_d(registry: str, lookaside_url: str) -> str:
    """The containers-registries.d(5) file telling skopeo/podman where the signatures are."""
    return f"docker:\n  {registry}:\n    lookaside: {lookaside_url}\n"


COMPANIONS = (".asc", ".sha512")  # a signed file's signature and checksum


def settled(record: bytes) -> object:
    """What a record says about the release itself, without what each run did (its steps, and each
    tag's action and previous digest): the same after a rerun that changes nothing."""
    try:
        data = json.loads(record)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return data
    data.pop("steps", None)
    tags = data.get("tags")
    if isinstance(tags, dict):
        data["tags"] = {name: {k: v for k, v in entry.items() if k not in {"action", "previous"}}
                        if isinstance(entry, dict) else entry for name, entry in tags.items()}
    return data


def published_beside(record: ReleaseRecord, constraints: str) -> set[str]:
    """The names `publish_provenance` may commit next to the voted files in a final's svn folder:
    the record, every SBOM, the constraints file, each with its companions."""
    names = [RECORD_NAME, *(Path(path).name for path in record.sboms)]
    names += [Path(constraints).name] if constraints else []
    return {name + suffix for name in names for suffix in ("", *COMPANIONS)}


def lookaside_url(svn_root: str, name: str) -> str:
    """The lookaside base of a project: `<svn dev or release>/<name>/signatures`."""
    return "/".join([svn_root.rstrip("/"), name, LOOKASIDE_DIR])
