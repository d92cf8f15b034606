# SPDX-License-Identifier: Apache-2.0
"""Sign every pushed image digest with the release key ("simple signing", what skopeo and podman
check with a `signedBy` policy) and publish the signatures in a lookaside tree in svn.

The signature binds the version tag's reference (`registry/image:V-pythonP`) and the manifest
digest. With several platforms the index and each platform's image under it are signed, all
binding the version tag. The aliases point at the same digest, so they need no signature of their
own: the policy users install (docs/provenance.md) matches the repository, not the tag (`matchRepository`).
A candidate's signatures go to `<svn-dev>/<name>/signatures/`, a final's to
`<svn-release>/<name>/signatures/`: a folder beside the versions, so a candidate's folder holds
only the voted files. A project staging in ATR has no lookaside tree: nothing goes to svn, and each
signature goes out in the artifact attached to the digest it signs (steps/provenance.py). The
pipeline writes the entries `sign_images` returns into the record.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.adapters import gpg, skopeo, svn
from release.adapters.clients import Registry
from release.errors import RefusedError, ServiceError
from release.plan.provenance import lookaside_path, signed_identity
from release.plan.release import PlannedImage
from release.progress import Progress, to_log
from release.record import ImageSignatureEntry, ReleaseRecord, sha512_of


def signer_fingerprint(key: str, gnupghome: Path | None) -> str:
    found = gpg.list_keys(key, gnupghome=gnupghome, secret=True)
    if len(found) != 1:
        raise RefusedError(f"the signing key {key!r} names {len(found)} secret keys; give one fingerprint")
    return found[0].fingerprint


def sign_images(record: ReleaseRecord, images: Sequence[PlannedImage], digests: Mapping[str, str], *,
                registry: Registry, image: str, key: str, gnupghome: Path | None, lookaside: str | None,
                progress: Progress = to_log) -> list[ImageSignatureEntry]:
    """Sign each image's manifest digest (kept when the record already has that digest's signature),
    then commit the signatures missing from the `lookaside` tree in one svn commit (None: staging in
    ATR, they stay in dist/<V>/ for the provenance step to attach)."""
    fingerprint = signer_fingerprint(key, gnupghome)
    entries = []
    to_publish: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="release-attest-") as work:
        for planned in images:
            digest = digests.get(planned.key)
            if not digest:
                raise RefusedError(f"{planned.ref} has no digest in the registry; push it before signing it")
            manifest = registry.get_manifest(image, digest)
            if manifest is None:
                raise ServiceError(f"registry {registry.registry}: {image}@{digest} is gone")
            # one platform's image of several binds its index's version tag, as the index itself does
            identity = signed_identity(planned.ref.rsplit(":", 1)[0], planned.index_tag or planned.tag)
            path = record.directory / planned.signature
            known = record.image_signatures.get(planned.signature)
            name = planned.key.replace(" ", "-").replace("/", "-")
            manifest_file = Path(work) / f"{name}.manifest.json"
            manifest_file.write_bytes(manifest.raw)
            fresh = known is not None and known.digest == digest and path.is_file() \
                and sha512_of(path) == known.sha512
            if not fresh:
                skopeo.standalone_sign(manifest_file, identity, fingerprint, path, gnupghome=gnupghome)
                progress(f"signed {identity}@{digest[:19]} with {fingerprint}")
            check = skopeo.standalone_verify(manifest_file, identity, fingerprint, path, gnupghome=gnupghome)
            if not check.good:
                raise RefusedError(f"{path}: the signature just made does not verify ({check.detail})")
            url = ""
            if lookaside is not None:
                relative = lookaside_path(image, digest)
                url = svn.join(lookaside, relative)
                published = svn.cat_bytes(url)
                if published is None:
                    to_publish[relative] = path
                elif published != path.read_bytes():  # an earlier run's signature of the same digest
                    earlier = Path(work) / f"{name}.published"
                    earlier.write_bytes(published)
                    if not skopeo.standalone_verify(manifest_file, identity, fingerprint, earlier,
                                                    gnupghome=gnupghome).good:
                        raise RefusedError(f"{url} holds a signature of {digest} that does not verify as "
                                           f"{identity} by {fingerprint}; remove it, then run again")
                    path.write_bytes(published)
                    progress(f"{url} already holds a signature of {digest[:19]}; keeping that one")
            entries.append(ImageSignatureEntry(planned.signature, sha512_of(path), planned.image.flavour,
                                               identity, digest, fingerprint, url))
        if lookaside is not None and to_publish:
            revision = svn.put_files(lookaside, to_publish, f"Image signatures of {record.version}")
            progress(f"published {len(to_publish)} image signatures to {lookaside} (r{revision})")
    return entries
