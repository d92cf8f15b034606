# SPDX-License-Identifier: Apache-2.0
"""The checks a PMC member runs before voting: signatures, checksums, the file list, the candidate's
bytes against a rebuild (`compare_rebuild`), and the checks made by hand on a source release:
LICENSE and NOTICE, license headers, no binaries, and wheels made of their sdist's files (the rules
themselves are in release/licences.py); and the candidate's images: each version tag's digest, and
with several platforms each platform's image digest under its index (every entry checked against
that image's own config). pipeline/verify.py runs them on a candidate in order, with the build
step's rebuild of the tagged commit."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from release import licences
from release.adapters import gpg
from release.adapters.clients import Atr, Registry
from release.config import ReleaseConfig
from release.errors import VerificationError
from release.plan.atr import AtrPlan
from release.plan.release import artefact_kind, distribution_of
from release.plan.tags import version_tag
from release.plan.verify_report import CandidateRejected, FileCheck, VerifyReport, failed_checks
from release.progress import Progress
from release.record import sha512_of
from release.versions import ReleaseVersion

log = logging.getLogger("release.verify")
# Why a project's candidates skip the PMC's checks of their sources (config.checks_sources).
SKIPPED_CHECKS = "[tool.release] vote = \"none\" (source-checks = true asks for them)"


def is_artefact(name: str, config: ReleaseConfig, final: str) -> bool:
    """The source tarball of the release, or an sdist or wheel of one of its distributions carrying
    the release's final version (any final version for a distribution with its own)."""
    kind = artefact_kind(name)
    try:
        if kind == "source":
            return name == f"{config.name}-{final}-source.tar.gz"
        parsed = parse_sdist_filename(name) if kind == "sdist" else parse_wheel_filename(name)[:2]
    except (InvalidSdistFilename, InvalidWheelFilename):
        return False
    for dist in config.distributions:
        if kind in {"sdist", "wheel"} and parsed[0] == canonicalize_name(dist.name):
            return not parsed[1].is_prerelease if dist.own_version else parsed[1] == Version(final)
    return False


def _check_checksum(artefact: Path) -> str:
    """'' when `X.sha512` is `<hex>  X` with the right hex, else what is wrong."""
    checksum = artefact.with_name(artefact.name + ".sha512")
    fields = checksum.read_text(encoding="utf-8", errors="replace").split()
    if len(fields) != 2 or fields[1].lstrip("*") != artefact.name:
        return f"not in `<sha512>  {artefact.name}` form"
    return "" if fields[0].lower() == sha512_of(artefact) else "sha512 does not match the file"


def check_files(folder: Path, config: ReleaseConfig, final: str, gnupghome: Path,
                checks: dict[str, FileCheck]) -> None:
    """Signatures (against KEYS only), checksums, and that nothing unexpected is in the folder."""
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    artefacts = [n for n in names if is_artefact(n, config, final)]
    companions = {f"{n}{suffix}" for n in artefacts for suffix in (".asc", ".sha512")}
    for name in names:
        check = checks.setdefault(name, FileCheck(name))
        if name not in artefacts and name not in companions:
            check.problems.append("not expected in a release candidate")
    if not any(artefact_kind(n) == "source" for n in artefacts):
        checks.setdefault("<source>", FileCheck("<source>")).problems.append(f"no source of {final}")
    for dist in config.distributions:
        for kind in ("sdist", "wheel"):
            if not any(artefact_kind(n) == kind and distribution_of(n) == canonicalize_name(dist.name)
                       for n in artefacts):
                label = f"<{kind} of {dist.name}>" if len(config.distributions) > 1 else f"<{kind}>"
                checks.setdefault(label, FileCheck(label)).problems.append(f"no {kind} of {dist.name}")
    check_signed(folder, names, artefacts, gnupghome, checks)


@contextlib.contextmanager
def keys_keyring(keys: str, work: Path, source: str) -> Iterator[Path]:
    """A throwaway keyring holding the public keys of `keys` (a KEYS file's text, read from `source`),
    written to `work`/KEYS first; VerificationError when it holds none."""
    path = work / "KEYS"
    path.write_text(keys, encoding="utf-8")
    with gpg.temporary_home() as home:
        if not gpg.import_keys(path, gnupghome=home):
            raise VerificationError(f"{source} holds no public keys")
        yield home


def finish_report(report: VerifyReport, progress: Progress) -> VerifyReport:
    """Show `report`; it when every check holds, else CandidateRejected (exit 7)."""
    progress(report.render())
    if not report.ok:
        raise CandidateRejected(report)
    return report


def check_signed(folder: Path, names: Sequence[str], artefacts: Sequence[str], gnupghome: Path,
                 checks: dict[str, FileCheck]) -> None:
    """Each of `artefacts` in `folder` (of the files `names`) against its .asc (a key of the keyring
    `gnupghome`) and its .sha512; a missing companion is a problem of its own."""
    for name in artefacts:
        checks.setdefault(name, FileCheck(name))
        path = folder / name
        for companion in (f"{name}.asc", f"{name}.sha512"):
            found = checks.setdefault(companion, FileCheck(companion))
            if companion not in names:
                found.problems.append("missing")
        bad_sum = _check_checksum(path) if f"{name}.sha512" in names else ""
        signature = gpg.verify_detached(path.with_name(name + ".asc"), path, gnupghome=gnupghome) \
            if f"{name}.asc" in names else None
        bad_sig = "" if signature is None or signature.good else f"bad signature ({signature.detail})"
        if bad_sum and bad_sig:  # both companions disagree with the file: the file is what changed
            checks[name].problems.append("matches neither its signature nor its checksum")
        elif bad_sum:
            checks[f"{name}.sha512"].problems.append(bad_sum)
        elif bad_sig:
            checks[f"{name}.asc"].problems.append(bad_sig)
        if signature is not None and signature.good:
            checks[f"{name}.asc"].passed.append(f"good signature by {signature.signer}")
        if f"{name}.sha512" in names and not bad_sum:
            checks[f"{name}.sha512"].passed.append("sha512 matches")
        if signature is not None and signature.good and f"{name}.sha512" in names and not bad_sum:
            checks[name].passed.append("signed and checksummed")


def _tar_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(path inside the top folder, bytes) of every regular file of a .tar.gz; nothing is extracted."""
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            if member.isfile():
                handle = archive.extractfile(member)
                if handle is not None:
                    yield member.name.split("/", 1)[-1] if "/" in member.name else member.name, handle.read()


def _digests(members: Iterator[tuple[str, bytes]]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in members}


def _wheel_members(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as wheel:
        return {name: hashlib.sha256(wheel.read(name)).hexdigest()
                for name in wheel.namelist() if not name.endswith("/")}


def check_contents(folder: Path, names: Sequence[str], config: ReleaseConfig,
                   checks: dict[str, FileCheck]) -> None:
    """What PMC members check by hand: LICENSE and NOTICE in the source tarball and every sdist,
    a license header in every source file, no binaries, and every wheel made of its sdist's files."""
    sdists: dict[str, tuple[str, dict[str, str]]] = {}  # distribution -> (sdist, its files' sha256)
    damaged = {n for n in names if checks.get(n) and checks[n].problems}  # failed signature or checksum
    for name in names:
        path, kind = folder / name, artefact_kind(name)
        check = checks.setdefault(name, FileCheck(name))
        try:
            if kind == "source":
                problems: dict[str, str] = {}
                found: list[str] = []
                for member, data in _tar_members(path):
                    found.append(member)
                    problem = licences.check_source_file(member, data, config.license_excludes)
                    if problem:
                        problems[member] = problem
                missing = licences.missing_notices(found)
                check.problems += missing + licences.summarise(problems)
                if not missing and not problems:
                    check.passed.append(f"LICENSE and NOTICE, license headers, no binaries "
                                        f"({len(found)} files)")
            elif kind == "sdist":
                members = _digests(_tar_members(path))
                sdists[distribution_of(name)] = (name, members)
                missing = licences.missing_notices(members)
                check.problems += missing
                if not missing:
                    check.passed.append("LICENSE and NOTICE present")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            check.problems.append(f"cannot be read as a .tar.gz ({exc})")
    for name in names:
        if artefact_kind(name) != "wheel":
            continue
        check = checks[name]
        sdist_name, sdist = sdists.get(distribution_of(name), ("", {}))
        if not sdist_name or sdist_name in damaged:
            continue  # a missing or damaged sdist is reported as such; the wheel is not blamed for it
        try:
            outside = licences.wheel_outside_sdist(_wheel_members(folder / name), sdist)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            check.problems.append(f"cannot be read as a wheel ({exc})")
            continue
        if outside:
            more = f" (and {len(outside) - 5} more)" if len(outside) > 5 else ""
            check.problems.append(f"files that are not the sdist's: {', '.join(outside[:5])}{more}")
        else:
            check.passed.append("its files are the sdist's")


def check_release_folder(folder: Path, config: ReleaseConfig, final: str, keys: str
                         ) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """(the release's files, the others, what failed) of a release folder exported to `folder`:
    every artefact of `final` signed by a key of `keys` (a KEYS file's text) and matching its
    checksum. The other files (a published record, SBOMs) are removed from `folder`, not checked."""
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    artefacts = {n for n in names if is_artefact(n, config, final)}
    ours = tuple(n for n in names if n.removesuffix(".asc").removesuffix(".sha512") in artefacts)
    left = tuple(n for n in names if n not in ours)
    for name in left:
        (folder / name).unlink()
    checks: dict[str, FileCheck] = {}
    try:
        with keys_keyring(keys, folder.parent, "KEYS") as home:
            check_files(folder, config, final, home, checks)
    except VerificationError:  # no keys: a failed check of the folder, like any other
        return ours, left, ["KEYS: holds no public keys"]
    return ours, left, failed_checks(checks)


def check_release_files(folder: Path, config: ReleaseConfig, final: str) -> dict[str, FileCheck]:
    """`check_contents` over the release files in `folder` (signatures and checksums aside)."""
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and is_artefact(p.name, config, final))
    checks: dict[str, FileCheck] = {}
    check_contents(folder, names, config, checks)
    return checks


def refuse_failed_contents(config: ReleaseConfig, folder: Path, final: str) -> None:
    """Refuse, before anything is staged, a candidate whose files in `folder` fail a PMC member's
    checks by hand (`check_release_files`), naming every file and what it lacks."""
    failed = failed_checks(check_release_files(folder, config, final))
    if failed:
        raise VerificationError(f"the candidate fails the PMC checks, nothing was staged: "
                                f"{' | '.join(failed)}; fix the tree (or [tool.release] license-excludes) "
                                "and build a new candidate")


def compare_rebuild(folder: Path, rebuilt: list[Path], checks: dict[str, FileCheck]) -> None:
    for path in rebuilt:
        check = checks.setdefault(path.name, FileCheck(path.name))
        if not (folder / path.name).is_file():
            check.problems.append("the rebuild makes it, the candidate lacks it")
        elif sha512_of(folder / path.name) != sha512_of(path):
            check.problems.append("differs from the rebuild of the tagged commit")
        else:
            check.passed.append("identical to the rebuild")
    made = {path.name for path in rebuilt}
    for name, check in checks.items():
        if artefact_kind(name) and name not in made and not name.endswith((".asc", ".sha512")):
            check.problems.append("the rebuild of the tagged commit does not make it")


@dataclass(frozen=True)
class Fetch:
    """Where a candidate is read from other than svn dev/, and how: `into(folder)` puts its files there."""

    where: str
    into: Callable[[Path], Path]


def from_atr(plan: AtrPlan, client: Atr, revision: str = "", *, page: str = "") -> Fetch:
    """A candidate read from ATR: the files of `revision` of its release (default: the latest, the
    one a vote runs on). This ATR version serves a file's bytes of the latest revision only, so an
    older revision is refused rather than read wrongly."""
    found = client.release(plan.release)
    if found is None:
        raise VerificationError(f"no candidate at {plan.where}")
    latest = found.latest_revision
    wanted = revision or latest
    if latest and wanted != latest:
        raise VerificationError(f"{plan.where} is at revision {latest}; ATR serves the files of the latest "
                                f"revision only, not of {wanted}")

    def into(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name in client.paths(plan.release, wanted):
            client.download(plan.release, name, folder / name)
        return folder

    return Fetch(f"{page or plan.where} revision {wanted}", into)


@dataclass(frozen=True)
class ImageCheck:
    """One flavour's version tag: its digest, and each platform's image under it."""

    tag: str
    digest: str | None  # None: not in the registry
    platforms: tuple[tuple[str, str], ...] = ()  # (platform, digest of its image), in the index's order
    problem: str = ""


def verify_images(config: ReleaseConfig, version: ReleaseVersion, registry: Registry
                  ) -> list[ImageCheck]:
    """Each flavour's `[VARIANT-]V-pythonP`, in every variant, as the registry holds it. A tag that
    is not there yet is reported, not failed; an index whose entries are not the platforms their
    configs state, or that lacks a configured platform, is a problem (VerificationError from the
    caller)."""
    found = []
    for tag in (version_tag(version, p, v) for v in config.variant_names for p in config.python):
        try:
            index = registry.image_index(config.image, tag)
        except VerificationError as exc:
            found.append(ImageCheck(tag, None, (), str(exc)))
            continue
        if index is None:
            found.append(ImageCheck(tag, None))
            continue
        listed = tuple((i.platform, i.digest) for i in index.images)
        missing = [p for p in config.image_platforms if p not in dict(listed)]
        problem = f"no {', '.join(missing)} image under it" if missing else ""
        found.append(ImageCheck(tag, index.digest, listed, problem))
    return found
