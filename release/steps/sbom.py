# SPDX-License-Identifier: Apache-2.0
"""A CycloneDX SBOM per pushed image: its Python distributions and its Debian packages, read inside
the very image the registry holds (pulled by digest), signed like the packages.

The model, the JSON and the schema check are cyclonedx-python-lib's. The document is
reproducible: its serial number is derived from the image digest and its timestamp is the
release's SOURCE_DATE_EPOCH, so a rerun over the same image writes the same bytes. The step reads
the release record (to keep an SBOM written already) and returns each image's SBOM and signature
entries; the pipeline records them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cyclonedx.contrib.license.exceptions import InvalidSpdxLicenseException
from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import License
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL
from packaging.utils import canonicalize_name

import release
from release.adapters import gpg
from release.adapters.engine import Engine, at_once
from release.errors import CommandError, RefusedError, VerificationError
from release.image import SBOM_PROBE, script
from release.plan.images import WHEELS_RECORD, parse_wheels_record
from release.plan.provenance import SBOM_LABEL
from release.plan.release import PlannedImage
from release.plan.sbom import SCHEMA_VERSION, validate
from release.progress import Progress, to_log
from release.record import (
    ReleaseRecord,
    SbomEntry,
    SignatureEntry,
    checksum_text,
    sha512_of,
    signature_entries,
    write_atomic,
)

PROPERTY = "org.release-pipeline"

@dataclass(frozen=True)
class ImageFacts:
    """What the probe read inside an image."""

    python: tuple[Mapping[str, Any], ...]
    debian: tuple[Mapping[str, Any], ...]
    os: Mapping[str, str]
    wheels: Mapping[str, str]  # filename -> sha256 of the wheels the image installed
    python_version: str


@dataclass(frozen=True)
class Described:
    """The image an SBOM describes."""

    repository: str  # registry/image
    tag: str
    digest: str
    revision: str = ""  # the commit its labels name


def read_facts(engine: Engine, repository: str, digest: str, *, platform: str = "") -> ImageFacts:
    """Run the probe (release/image/sbom_probe.py) in `repository@digest` (pulled if the engine
    lacks it); `platform`: the
    image's, when it is one of several (another architecture's runs under emulation)."""
    engine.pull_digest(repository, digest)
    ref = f"{repository}@{digest}"
    probe = ["python3", "-c", script(SBOM_PROBE), WHEELS_RECORD]
    result = engine.run(ref, probe, timeout=300, platform=platform or None)
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1]) if result.exit_code == 0 else None
    except (ValueError, IndexError):
        data = None
    if not isinstance(data, dict):
        output = (result.stderr or result.stdout).strip()[-300:]
        raise CommandError(f"the SBOM probe failed in {ref} (exit {result.exit_code}): {output}")
    return ImageFacts(tuple(data["python"]), tuple(data["debian"]), dict(data["os"]),
                      parse_wheels_record(data["wheels"]), str(data["python_version"]))


def _licences(names: Iterable[str], expression: bool) -> list[License]:
    factory = LicenseFactory()
    names = [n for n in names if n and n.upper() != "UNKNOWN"]  # setuptools' old default
    if expression and len(names) == 1:
        return [factory.make_from_string(names[0])]
    found: list[License] = []
    for name in names:
        try:
            found.append(factory.make_with_id(name))
        except InvalidSpdxLicenseException:  # not an SPDX id: the text as a named licence
            found.append(factory.make_with_name(name))
    return found


def _wheel_hashes(name: str, version: str, wheels: Mapping[str, str]) -> list[HashType]:
    prefix = f"{canonicalize_name(name).replace('-', '_')}-{version}-"
    return [HashType(alg=HashAlgorithm.SHA_256, content=sha)
            for filename, sha in sorted(wheels.items()) if filename.lower().startswith(prefix.lower())]


def make_bom(facts: ImageFacts, image: Described, *, created: datetime) -> Bom:
    """Pure: the SBOM of one image from what the probe read in it."""
    algorithm, _, hexdigest = image.digest.partition(":")
    path = image.repository.partition("/")[2]
    root = Component(
        type=ComponentType.CONTAINER, name=path or image.repository, version=image.tag, bom_ref=image.digest,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=hexdigest)] if algorithm == "sha256" else [],
        purl=PackageURL("oci", name=(path or image.repository).rsplit("/", 1)[-1], version=image.digest,
                        qualifiers={"repository_url": image.repository, "tag": image.tag}),
        properties=[Property(name=f"{PROPERTY}:image-digest", value=image.digest),
                    Property(name=f"{PROPERTY}:revision", value=image.revision),
                    Property(name=f"{PROPERTY}:python", value=facts.python_version)],
    )
    distro_id = facts.os.get("ID", "debian")
    codename = facts.os.get("VERSION_CODENAME", "")
    components: list[Component] = []
    if facts.os:
        components.append(Component(type=ComponentType.OPERATING_SYSTEM, name=distro_id,
                                    version=facts.os.get("VERSION_ID", ""), bom_ref=f"os:{distro_id}",
                                    description=facts.os.get("PRETTY_NAME")))
    for dist in facts.python:
        name, version = str(dist["name"]), str(dist["version"])
        components.append(Component(
            type=ComponentType.LIBRARY, name=name, version=version,
            bom_ref=f"pypi:{canonicalize_name(name)}@{version}",
            purl=PackageURL("pypi", name=canonicalize_name(name), version=version),
            licenses=_licences(dist.get("licences") or [], bool(dist.get("expression"))),
            hashes=_wheel_hashes(name, version, facts.wheels),
        ))
    for package in facts.debian:
        name, version, arch = str(package["name"]), str(package["version"]), str(package["arch"])
        qualifiers = {"arch": arch, **({"distro": codename} if codename else {})}
        source = str(package.get("source") or "")
        properties = [Property(name=f"{PROPERTY}:deb-source", value=source)] \
            if source and source != name else []
        components.append(Component(
            type=ComponentType.LIBRARY, name=name, version=version, bom_ref=f"deb:{name}@{version}:{arch}",
            purl=PackageURL("deb", namespace=distro_id, name=name, version=version, qualifiers=qualifiers),
            licenses=_licences(package.get("licences") or [], False), properties=properties,
        ))
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"{image.repository}@{image.digest}")
    bom = Bom(components=components, serial_number=serial)
    bom.metadata.component = root
    bom.metadata.timestamp = created
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="release-pipeline",
                                                version=release.__version__))
    bom.register_dependency(root, components)
    return bom


def render(bom: Bom) -> str:
    """The SBOM as CycloneDX 1.6 JSON, refused unless the schema (the library's validator) accepts it."""
    text = JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
    problem = validate(text)
    if problem:
        described = bom.metadata.component.name if bom.metadata.component else "an image"
        raise VerificationError(f"the SBOM of {described} does not validate against CycloneDX "
                                f"{SCHEMA_VERSION.to_version()}: {problem}")
    return text


@dataclass(frozen=True)
class WrittenSbom:
    """One image's SBOM as the step leaves it: its entry, and its `.asc` and `.sha512`."""

    entry: SbomEntry
    signatures: tuple[SignatureEntry, ...]


def _created(record: ReleaseRecord) -> datetime:
    epoch = record.build.source_date_epoch if record.build is not None else 0
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _written_already(record: ReleaseRecord, image: PlannedImage, digest: str) -> SbomEntry | None:
    """The record's SBOM of `image` when it is of the same digest, unchanged and signed."""
    path = record.directory / image.sbom
    known = record.sboms.get(image.sbom)
    fresh = (known is not None and known.digest == digest and path.is_file()
             and sha512_of(path) == known.sha512)
    signed = all(path.with_name(path.name + s).is_file() for s in (".asc", ".sha512"))
    return known if fresh and signed else None


def write_sboms(record: ReleaseRecord, images: Sequence[PlannedImage], digests: Mapping[str, str], *,
                repository: str, key: str, gnupghome: Path | None, engine: Engine,
                progress: Progress = to_log) -> list[WrittenSbom]:
    """For each image: its SBOM (kept when the record has one for the same digest and the file is
    unchanged), `.asc` and `.sha512`; returned, in the images' order, for the record."""
    for image in images:
        if not digests.get(image.key):
            raise RefusedError(f"{image.ref} has no digest in the registry; push it before its SBOM")
    kept = {image.key: entry for image in images
            if (entry := _written_already(record, image, digests[image.key])) is not None}
    probed = [image for image in images if image.key not in kept]
    found = dict(zip((image.key for image in probed), at_once(probed, lambda image: read_facts(
        engine, repository, digests[image.key], platform=image.platform if image.index_tag else ""))))
    written = []
    for image in images:
        digest = digests[image.key]
        path = record.directory / image.sbom
        if image.key in kept:
            progress(f"{image.sbom}: already written for {digest[:19]}")
            written.append(WrittenSbom(kept[image.key], tuple(signature_entries([path], record.directory))))
            continue
        facts = found[image.key]
        labels = engine.pull_digest(repository, digest).labels
        wanted = Path(image.sbom).name
        if labels.get(SBOM_LABEL, wanted) != wanted:
            raise RefusedError(f"{image.ref}: its {SBOM_LABEL} label says {labels.get(SBOM_LABEL)!r}, "
                               f"not {wanted!r}")
        revision = labels.get("org.opencontainers.image.revision", "")
        described = Described(repository, image.tag, digest, revision)
        text = render(make_bom(facts, described, created=_created(record)))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
        signature = path.with_name(path.name + ".asc")
        signature.unlink(missing_ok=True)
        gpg.sign_detached(path, key=key, gnupghome=gnupghome)
        write_atomic(path.with_name(path.name + ".sha512"), checksum_text(path))
        entry = SbomEntry(image.sbom, sha512_of(path), image.image.flavour, image.ref, digest,
                          len(facts.python) + len(facts.debian), image.platform if image.index_tag else "")
        progress(f"{image.sbom}: {len(facts.python)} Python distributions, {len(facts.debian)} Debian "
                 f"packages, for {digest[:19]}")
        written.append(WrittenSbom(entry, tuple(signature_entries([path], record.directory))))
    return written
