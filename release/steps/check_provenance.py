# SPDX-License-Identifier: Apache-2.0
"""Check what a release published about its images, as a user or a voter would: the record and
SBOMs attached to each image digest in the registry (and, for a final, committed to svn), their
signatures against KEYS, the digests the record names against what the registry holds, and each
image's simple-signing signature with skopeo: read from the lookaside tree in svn, or, for a
project staging in ATR (nothing in svn), from the artifact attached to the image's digest.

`verify_published` is `invoke verify --version V --published`; `check_candidate_images` is what
`invoke verify` adds for a candidate's images: the image's wheel is the one the voted commit
builds, its labels name that commit, its SBOM and its signature check out.

With several platforms a version tag names an image index: every platform's image under it gets
those checks (its own SBOM, run on its own platform), and the index its own signature.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters import gpg, skopeo, svn
from release.adapters.clients import Clients, Registry
from release.adapters.engine import Engine
from release.config import ReleaseConfig
from release.errors import ReleaseError, VerificationError
from release.plan.images import WHEEL_SHA256_LABEL, WHEELS_RECORD, parse_wheels_record
from release.plan.provenance import (
    SBOM_LABEL,
    artifact_layers,
    attachment_tag,
    image_signature_path,
    lookaside_path,
    lookaside_url,
    sbom_file,
    settled,
    signed_identity,
)
from release.plan.sbom import summarise, validate
from release.plan.tags import platform_tag, version_tag, withdrawn_tag
from release.plan.verify_report import CandidateRejected, FileCheck, VerifyReport
from release.progress import Progress, to_log
from release.record import RECORD_NAME, ReleaseRecord, parse_record
from release.versions import ReleaseVersion

REVISION_LABEL = "org.opencontainers.image.revision"


@dataclass
class Keys:
    """KEYS imported into a throwaway keyring, and a scratch folder for files to check."""

    home: Path
    fingerprints: tuple[str, ...]
    work: Path

    def signed(self, name: str, data: bytes, signature: bytes | None) -> str:
        """'' when `signature` is a good detached signature of `data` by a key in KEYS, else why not."""
        if signature is None:
            return f"no {name}.asc"
        folder = Path(tempfile.mkdtemp(dir=self.work))
        (folder / name).write_bytes(data)
        (folder / f"{name}.asc").write_bytes(signature)
        check = gpg.verify_detached(folder / f"{name}.asc", folder / name, gnupghome=self.home)
        return "" if check.good else f"bad signature ({check.detail})"

    def image_signature(self, manifest: bytes, identity: str, signature: bytes, first: str = "") -> str:
        """'' when `signature` is a simple-signing signature of `manifest` as `identity` by a key in
        KEYS (skopeo standalone-verify), else why not."""
        folder = Path(tempfile.mkdtemp(dir=self.work))
        (folder / "manifest.json").write_bytes(manifest)
        (folder / "signature").write_bytes(signature)
        detail = "KEYS holds no key"
        for fingerprint in sorted(self.fingerprints, key=lambda f: f != first):
            check = skopeo.standalone_verify(folder / "manifest.json", identity, fingerprint,
                                             folder / "signature", gnupghome=self.home)
            if check.good:
                return ""
            detail = check.detail
        return detail


def _check(checks: dict[str, FileCheck], name: str) -> FileCheck:
    return checks.setdefault(name, FileCheck(name))


def attachment(registry: Registry, image: str, digest: str) -> dict[str, bytes] | None:
    """The files attached to `image@digest` (filename -> bytes), None when nothing is attached.
    Every blob is checked against its digest by the registry adapter."""
    manifest = registry.get_manifest(image, attachment_tag(digest))
    if manifest is None:
        return None
    body = manifest.body
    if (body.get("subject") or {}).get("digest") != digest:
        raise VerificationError(f"{image}:{attachment_tag(digest)} is attached to "
                                f"{(body.get('subject') or {}).get('digest')}, not {digest}")
    files = {}
    for name, blob in artifact_layers(body).items():
        data = registry.get_blob(image, blob)
        if data is not None:
            files[name] = data
    return files


def check_sbom(check: FileCheck, keys: Keys, name: str, files: Mapping[str, bytes], digest: str,
               *, sha512: str = "", wheels: Mapping[str, str] | None = None) -> None:
    """The SBOM `name` in `files`: signed, valid CycloneDX, about `digest`, listing `wheels`."""
    data = files.get(name)
    if data is None:
        check.problems.append("missing")
        return
    problem = keys.signed(name, data, files.get(f"{name}.asc"))
    if problem:
        check.problems.append(problem)
    if sha512 and hashlib.sha512(data).hexdigest() != sha512:
        check.problems.append("sha512 differs from the one the signed record names")
    invalid = validate(data.decode("utf-8", errors="replace"))
    if invalid:
        check.problems.append(f"not valid CycloneDX: {invalid}")
        return
    summary = summarise(data.decode())
    if summary.digest != digest:
        check.problems.append(f"describes {summary.digest or 'no image'}, not {digest}")
    missing = sorted(set((wheels or {}).values()) - summary.wheel_sha256)
    if missing:
        check.problems.append(f"does not list the wheel with sha256 {missing[0][:16]}...")
    if not check.problems:
        check.passed.append(f"signed, valid CycloneDX, describes {digest[:19]}: {len(summary.python)} "
                            f"Python distributions, {len(summary.debian)} Debian packages")


def signature_place(image: str, digest: str, *, lookaside: str, name: str) -> str:
    """Where the signature of `image@digest` is: its URL in the `lookaside` tree, or with no
    lookaside (staging in ATR) the file `name` in the artifact attached to the digest. Pure."""
    if lookaside:
        return svn.join(lookaside, lookaside_path(image, digest))
    return f"{image}:{attachment_tag(digest)} ({name})"


def check_signature(check: FileCheck, keys: Keys, registry: Registry, *, image: str, repository: str,
                    tag: str, digest: str, lookaside: str, name: str = "", signer: str = "") -> None:
    """The image's simple-signing signature, checked with skopeo: in the `lookaside` tree, or with no
    lookaside (staging in ATR) the file `name` attached to the digest."""
    place = signature_place(image, digest, lookaside=lookaside, name=name)
    try:
        if lookaside:
            signature = svn.cat_bytes(place)
        else:
            signature = (attachment(registry, image, digest) or {}).get(name)
    except ReleaseError as exc:
        check.problems.append(f"cannot read {place}: {exc}")
        return
    manifest = registry.get_manifest(image, digest)
    if signature is None or manifest is None:
        missing = f"no signature at {place}" if signature is None else f"{digest} not in the registry"
        check.problems.append(missing)
        return
    problem = keys.image_signature(manifest.raw, signed_identity(repository, tag), signature, signer)
    if problem:
        check.problems.append(f"image signature: {problem}" if lookaside else
                              f"image signature attached as {place}: {problem}")
    else:
        check.passed.append(f"image signature by a KEYS key for {repository}:{tag}"
                            + ("" if lookaside else " (attached)"))


def _record_copy(check: FileCheck, keys: Keys, files: Mapping[str, bytes] | None, where: str,
                 name: str = RECORD_NAME) -> bytes | None:
    if files is None or name not in files:
        check.problems.append(f"no {name} {where}")
        return None
    problem = keys.signed(name, files[name], files.get(f"{name}.asc"))
    if problem:
        check.problems.append(f"{where}: {problem}")
        return None
    check.passed.append(f"{name} signed ({where})" if name != RECORD_NAME else f"signed ({where})")
    return files[name]


def _export(url: str, work: Path) -> dict[str, bytes] | None:
    if not svn.exists(url):
        return None
    folder = svn.export(url, Path(tempfile.mkdtemp(dir=work)) / "release")
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def verify_published(config: ReleaseConfig, version: ReleaseVersion, clients: Clients, *, svn_dev_url: str,
                     svn_release_url: str, keys_url: str, progress: Progress = to_log) -> VerifyReport:
    """Fetch the release record from the registry (and svn for a final staged in svn), check it
    against KEYS, check that the registry holds the digests it names, then each SBOM and image
    signature (staging in ATR: the signature attached to the image, not the lookaside tree)."""
    client = clients.registry
    image, repository = config.image, f"{client.registry}/{config.image}"
    final = not version.is_prerelease
    svn_root = svn_release_url if final else svn_dev_url
    lookaside = "" if config.uses_atr else lookaside_url(svn_root, config.name)
    checks: dict[str, FileCheck] = {}
    with tempfile.TemporaryDirectory(prefix="release-published-") as tmp, gpg.temporary_home() as home:
        work = Path(tmp)
        keys_file = work / "KEYS"
        keys_file.write_text(svn.read_text(keys_url), encoding="utf-8")
        keys = Keys(home, tuple(sorted(gpg.import_keys(keys_file, gnupghome=home))), work)
        progress(f"checking what {config.name} {version} published, against {keys_url}")
        attached: dict[str, dict[str, bytes] | None] = {}
        digests: dict[str, str] = {}
        for tag in (version_tag(version, p, v) for v in config.variant_names for p in config.python):
            digest = client.manifest_digest(image, tag)
            if digest is None:
                _check(checks, f"image {tag}").problems.append(f"{repository}:{tag} is not in the registry")
                continue
            digests[tag] = digest
            attached[tag] = attachment(client, image, digest)
            if config.multi_platform:
                try:
                    index = client.image_index(image, digest)
                except VerificationError as exc:
                    _check(checks, f"image {tag}").problems.append(str(exc))
                    continue
                for entry in index.images if index is not None else ():
                    helper = platform_tag(tag, entry.platform)
                    digests[helper] = entry.digest
                    attached[helper] = attachment(client, image, entry.digest)
        record_check = _check(checks, RECORD_NAME)
        copies = {f"attached to {tag}": _record_copy(record_check, keys, files, f"attached to {tag}")
                  for tag, files in attached.items()}
        svn_files = None
        if final and not config.uses_atr:  # ATR's release area holds a final's voted files, not the record
            url = svn.join(svn_release_url, config.name, str(version))
            svn_files = _export(url, work)
            copies[f"in {url}"] = _record_copy(record_check, keys, svn_files, f"in {url}")
        good = {where: data for where, data in copies.items() if data is not None}
        # a rerun may leave copies whose step times differ (steps/provenance.py: settled)
        if len({json.dumps(settled(data), sort_keys=True) for data in good.values()}) > 1:
            record_check.problems.append(f"the copies differ: {', '.join(sorted(good))}")
        record = _parse(record_check, next(iter(good.values()), None), str(version))
        withdrawal_check(_check(checks, "withdrawal"), record, version,
                         marked=client.manifest_digest(image, withdrawn_tag(version)) is not None)
        if record is not None:
            _check_record(record, checks, keys, client, attached, svn_files, digests,
                          image=image, repository=repository, lookaside=lookaside)
    commit = record.build.commit if record is not None and record.build else ""
    report = VerifyReport(str(version), repository, commit, tuple(checks[n] for n in sorted(checks)))
    progress(report.render())
    if not report.ok:
        raise CandidateRejected(report)
    return report


def withdrawal_check(check: FileCheck, record: ReleaseRecord | None, version: ReleaseVersion, *,
                     marked: bool) -> None:
    """A withdrawn release fails verification, saying when and why (from its signed record); a
    `withdrawn-V` tag its signed record does not back is named too."""
    withdrawal = record.withdrawal if record is not None else None
    if withdrawal is not None:
        check.problems.append(f"{version} was withdrawn on {withdrawal.when}: {withdrawal.reason}")
    elif marked:
        check.problems.append(f"the registry marks {version} withdrawn ({withdrawn_tag(version)}), but its "
                              "signed record records no withdrawal")
    else:
        check.passed.append("not withdrawn")


def _parse(check: FileCheck, data: bytes | None, version: str) -> ReleaseRecord | None:
    if data is None:
        return None
    try:
        return parse_record(Path(RECORD_NAME), version, json.loads(data))
    except (ValueError, ReleaseError) as exc:
        check.problems.append(f"unreadable: {exc}")
        return None


def _check_record(record: ReleaseRecord, checks: dict[str, FileCheck], keys: Keys, client: Registry,
                  attached: Mapping[str, dict[str, bytes] | None], svn_files: Mapping[str, bytes] | None,
                  digests: Mapping[str, str], *, image: str, repository: str, lookaside: str) -> None:
    for entry in record.images.values():
        tag = entry.ref.rsplit(":", 1)[-1]
        check = _check(checks, f"image {tag}")
        if digests.get(tag) != entry.digest:
            check.problems.append(f"the registry holds {digests.get(tag)}, the record names {entry.digest}")
        else:
            check.passed.append(f"the registry holds the recorded digest {digests[tag][:19]}")
    for index in record.indexes.values():
        check = _check(checks, f"image {index.tag}")
        if digests.get(index.tag) != index.digest:
            check.problems.append(f"the registry holds {digests.get(index.tag)}, the record names the index "
                                  f"{index.digest}")
        else:
            check.passed.append(f"the registry holds the recorded index {index.digest[:19]}")
    for tag_entry in record.tags.values():
        now = client.manifest_digest(image, tag_entry.tag)
        check = _check(checks, f"tag {tag_entry.tag}")
        if now == tag_entry.digest:
            check.passed.append("points at the recorded digest")
        elif tag_entry.tag in digests or tag_entry.tag == record.version:
            check.problems.append(f"points at {now}, the record names {tag_entry.digest}")
        else:
            check.passed.append(f"moved on since (now {now}): an alias follows later releases")
    for sbom in record.sboms.values():
        tag = sbom.ref.rsplit(":", 1)[-1]
        name = Path(sbom.path).name
        check = _check(checks, sbom.path)
        for where, files in (("registry", attached.get(tag)), ("svn", svn_files)):
            if files is None and where == "svn":
                continue
            before = len(check.problems)
            check_sbom(check, keys, name, files or {}, sbom.digest, sha512=sbom.sha512)
            check.problems[before:] = [f"{where}: {p}" for p in check.problems[before:]]
    for signature in record.image_signatures.values():
        tag = signature.identity.rsplit(":", 1)[-1]
        check_signature(_check(checks, f"image {tag}"), keys, client, image=image, repository=repository,
                        tag=tag, digest=signature.digest, lookaside=lookaside, name=Path(signature.path).name,
                        signer=signature.signer)


def check_candidate_images(config: ReleaseConfig, candidate: ReleaseVersion, clients: Clients, *,
                           svn_dev_url: str, keys_file: Path, commit: str, wheels: Mapping[str, str] | None,
                           checks: dict[str, FileCheck], progress: Progress = to_log) -> None:
    """Each candidate image: pulled by digest; its wheel is `wheels` (the voted commit's, built as the
    candidate; None: not rebuilt, not compared), its labels name `commit`, its SBOM and signature hold."""
    engine, client = clients.engine, clients.registry
    image, repository = config.image, f"{client.registry}/{config.image}"
    with tempfile.TemporaryDirectory(prefix="release-images-") as tmp, gpg.temporary_home() as home:
        keys = Keys(home, tuple(sorted(gpg.import_keys(keys_file, gnupghome=home))), Path(tmp))
        for tag in (version_tag(candidate, p, v) for v in config.variant_names for p in config.python):
            check = _check(checks, f"image {tag}")
            digest = client.manifest_digest(image, tag)
            if digest is None:
                check.problems.append(f"{repository}:{tag} is not in the registry")
                continue
            lookaside = "" if config.uses_atr else lookaside_url(svn_dev_url, config.name)
            if not config.multi_platform:
                progress(f"pulling {repository}@{digest} to check it")
                _check_image(check, keys, engine, client, config, repository=repository, tag=tag,
                             digest=digest, commit=commit, wheels=wheels, lookaside=lookaside)
                continue
            _check_index(check, keys, engine, client, config, repository=repository, tag=tag, digest=digest,
                         commit=commit, wheels=wheels, lookaside=lookaside, progress=progress)


def _check_index(check: FileCheck, keys: Keys, engine: Engine, client: Registry, config: ReleaseConfig,
                 *, repository: str, tag: str, digest: str, commit: str, wheels: Mapping[str, str] | None,
                 lookaside: str, progress: Progress) -> None:
    """An index tag: every configured platform's image under it, each checked as one image is (on
    its own platform, with its own SBOM), and the index's own signature."""
    image = config.image
    try:
        index = client.image_index(image, digest)
    except VerificationError as exc:
        check.problems.append(str(exc))
        return
    listed = {entry.platform: entry.digest for entry in index.images} if index is not None else {}
    missing = [p for p in config.image_platforms if p not in listed]
    if missing:
        check.problems.append(f"no {', '.join(missing)} image under the index {digest[:19]}")
    for platform, entry in listed.items():
        progress(f"pulling {repository}@{entry} ({platform}) to check it")
        one = FileCheck(f"image {tag} {platform}")
        _check_image(one, keys, engine, client, config, repository=repository, tag=tag, digest=entry,
                     commit=commit, wheels=wheels, lookaside=lookaside, platform=platform)
        check.problems += [f"{platform}: {p}" for p in one.problems]
        check.passed += [f"{platform}: {p}" for p in one.passed]
    check_signature(check, keys, client, image=image, repository=repository, tag=tag, digest=digest,
                    lookaside=lookaside, name=Path(image_signature_path(config.name, tag)).name)


def check_installed(check: FileCheck, engine: Engine, *, repository: str, digest: str, commit: str,
                    wheels: Mapping[str, str] | None, platform: str = "",
                    voted: str = "the voted commit builds",
                    same: str = "its wheel is the one the voted commit builds"
                    ) -> tuple[Mapping[str, str], dict[str, str]]:
    """`repository@digest` pulled by its digest: its revision label names `commit`, its wheels record
    agrees with its wheel label, and the wheels it installed are `wheels` (filename -> sha256; None:
    not compared), which `voted` says where they come from (`same`: the line when they are).
    Returns its labels and the wheels it installed. Nothing of the image runs: the record is read
    from a container never started."""
    info = engine.pull_digest(repository, digest)
    labels = info.labels
    if commit and labels.get(REVISION_LABEL) != commit:
        check.problems.append(f"its {REVISION_LABEL} label is {labels.get(REVISION_LABEL)!r}, "
                              f"not the voted commit {commit}")
    elif commit:
        check.passed.append(f"labels name the voted commit {commit[:12]}")
    record = engine.read_file(f"{repository}@{digest}", WHEELS_RECORD, platform=platform or None)
    installed = parse_wheels_record(record.decode(errors="replace")) if record is not None else {}
    label = labels.get(WHEEL_SHA256_LABEL, "")
    if not installed or label != ",".join(installed[n] for n in sorted(installed)):
        check.problems.append(f"its wheels record {installed or 'is missing'} disagrees with its label "
                              f"{label!r}")
    elif wheels is None:
        check.passed.append("wheel not compared (no rebuild)")
    elif installed != dict(wheels):
        check.problems.append(f"installs wheels {installed}, but {voted} {dict(wheels)}")
    else:
        check.passed.append(same)
    return labels, installed


def _check_image(check: FileCheck, keys: Keys, engine: Engine, client: Registry, config: ReleaseConfig, *,
                 repository: str, tag: str, digest: str, commit: str, wheels: Mapping[str, str] | None,
                 lookaside: str, platform: str = "") -> None:
    """One image (`platform`: the image's, when it is one of several). Its signature is checked
    first: an image whose signature does not check out is not pulled. Nothing of the image ever runs:
    its wheels record is read through the engine's archive API from a container that is never
    started (an entrypoint like Airflow's turns `cat F` into `airflow cat F`)."""
    image, sbom = config.image, sbom_file(config.name, tag, platform)
    signature = FileCheck(check.name)
    check_signature(signature, keys, client, image=image, repository=repository, tag=tag, digest=digest,
                    lookaside=lookaside, name=Path(image_signature_path(config.name, tag, platform)).name)
    check.problems += signature.problems
    check.passed += signature.passed
    if signature.problems:
        check.problems.append("not pulled: its signature does not check out")
        return
    labels, installed = check_installed(check, engine, repository=repository, digest=digest, commit=commit,
                                        wheels=wheels, platform=platform)
    if labels.get(SBOM_LABEL) != sbom:
        check.problems.append(f"its {SBOM_LABEL} label is {labels.get(SBOM_LABEL)!r}, not {sbom!r}")
    try:
        files = attachment(client, image, digest)
    except VerificationError as exc:
        check.problems.append(str(exc))
        files = None
    if files is None:
        check.problems.append(f"nothing attached as {attachment_tag(digest)} (no SBOM, no record)")
    else:
        sbom_check = FileCheck(sbom)
        check_sbom(sbom_check, keys, sbom, files, digest, wheels=installed)
        check.problems += [f"SBOM: {p}" for p in sbom_check.problems]
        check.passed += [f"SBOM {p}" for p in sbom_check.passed]




@dataclass(frozen=True)
class PulledTrainImage:
    """A train's candidate image as a voter's check pulled it: its tag, digest, labels and the wheels
    it installed (filename -> sha256)."""

    tag: str
    digest: str
    labels: Mapping[str, str]
    installed: Mapping[str, str]


def check_train_provenance(config: ReleaseConfig, images: Sequence[PulledTrainImage], clients: Clients, *,
                           keys_file: Path, lookaside: str, record: str, checks: dict[str, FileCheck],
                           progress: Progress = to_log) -> None:
    """For a voter: the provenance of a versioned train's candidate images, as a single candidate's
    images are checked: each image's simple-signing signature by a KEYS key (in the `lookaside` tree,
    and attached to its digest; staging in ATR, `lookaside` is "": attached only), its SBOM label, and
    what is attached to its digest: `record` (the wave's signed copy of wave.json), signed by a KEYS
    key and naming the digest and the SBOM, and that SBOM (signed, valid CycloneDX, describing the
    digest, listing every wheel the image installed, the bytes the record names)."""
    client = clients.registry
    repository = f"{client.registry}/{config.image}"
    with tempfile.TemporaryDirectory(prefix="release-provenance-") as tmp, gpg.temporary_home() as home:
        keys = Keys(home, tuple(sorted(gpg.import_keys(keys_file, gnupghome=home))), Path(tmp))
        for pulled in images:
            progress(f"checking the provenance of {repository}@{pulled.digest}")
            _check_train_image(_check(checks, f"image {pulled.tag}"), keys, client, config, pulled,
                               lookaside=lookaside, record=record)


def _check_train_image(check: FileCheck, keys: Keys, client: Registry, config: ReleaseConfig,
                       pulled: PulledTrainImage, *, lookaside: str, record: str) -> None:
    image, repository, digest = config.image, f"{client.registry}/{config.image}", pulled.digest
    sbom, signature = sbom_file(config.name, pulled.tag), image_signature_path(config.name, pulled.tag)
    for place in dict.fromkeys((lookaside, "")):
        check_signature(check, keys, client, image=image, repository=repository, tag=pulled.tag,
                        digest=digest, lookaside=place, name=Path(signature).name)
    label = pulled.labels.get(SBOM_LABEL)
    if label != sbom:
        check.problems.append(f"its {SBOM_LABEL} label is {label!r}, not {sbom!r}")
    try:
        files = attachment(client, image, digest)
    except VerificationError as exc:
        check.problems.append(str(exc))
        return
    if files is None:
        check.problems.append(f"nothing attached as {attachment_tag(digest)} (no SBOM, no record)")
        return
    data = _record_copy(check, keys, files, f"attached as {attachment_tag(digest)}", record)
    sha512 = _sbom_named(check, data, record, digest, sbom)
    sbom_check = FileCheck(sbom)
    check_sbom(sbom_check, keys, sbom, files, digest, sha512=sha512, wheels=pulled.installed)
    check.problems += [f"SBOM: {p}" for p in sbom_check.problems]
    check.passed += [f"SBOM {p}" for p in sbom_check.passed]


def _sbom_named(check: FileCheck, data: bytes | None, record: str, digest: str, sbom: str) -> str:
    """The sha512 the signed `record` (a wave.json) names for the SBOM `sbom` of `digest` ("" when it
    names none: a problem, unless the record is unreadable, reported already)."""
    if data is None:
        return ""
    try:
        found = json.loads(data)
        pushed = found["images"]["pushed"].values()
        sboms = found["sboms"].values()
    except (ValueError, KeyError, AttributeError, TypeError):
        check.problems.append(f"{record}: not a wave's record of its images and their SBOMs")
        return ""
    if not any(isinstance(e, dict) and e.get("digest") == digest for e in pushed):
        check.problems.append(f"{record} names no pushed image {digest}")
    entry = next((e for e in sboms if isinstance(e, dict) and Path(str(e.get("path"))).name == sbom
                  and e.get("digest") == digest), None)
    if entry is None:
        check.problems.append(f"{record} names no SBOM {sbom} of {digest}")
        return ""
    check.passed.append(f"{record} names the image {digest[:19]} and its SBOM")
    return str(entry.get("sha512") or "")
