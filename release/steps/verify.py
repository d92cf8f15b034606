"""What a PMC member runs before voting: signatures, checksums, the file list, and a rebuild to compare."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from release.adapters import git, gpg, svn
from release.config import ReleaseConfig
from release.errors import VerificationError
from release.progress import Progress, to_log
from release.record import sha256_of, sha512_of
from release.steps.build import artefact_kind, build_set, package_builder
from release.versions import ReleaseVersion

log = logging.getLogger("release.verify")


@dataclass
class FileCheck:
    name: str
    problems: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VerifyReport:
    candidate: str
    url: str
    commit: str
    checks: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.checks if not check.ok)

    def render(self) -> str:
        rebuilt = f", rebuilt from {self.commit}" if self.commit else ""
        lines = [f"Candidate {self.candidate} at {self.url}{rebuilt}"]
        for check in self.checks:
            mark, why = ("ok  ", check.passed) if check.ok else ("FAIL", check.problems)
            lines.append(f"  {mark} {check.name}: {'; '.join(why)}")
        verdict = "all checks hold" if self.ok else f"{len(self.failed)} of {len(self.checks)} files fail"
        return "\n".join([*lines, verdict])


# (checks, the voted commit, the KEYS file, the rebuilt candidate's wheels (filename -> sha256) or None):
# what `invoke verify` adds for the candidate's images (steps/check_provenance.py)
ImageChecks = Callable[[dict[str, FileCheck], str, Path, "Mapping[str, str] | None"], None]


class CandidateRejected(VerificationError):
    """The candidate failed verification; `report` says which file and why."""

    def __init__(self, report: VerifyReport) -> None:
        super().__init__(report.render())
        self.report = report


def _is_artefact(name: str, project: str, final: str) -> bool:
    kind = artefact_kind(name)
    try:
        if kind == "source":
            return name == f"{project}-{final}-source.tar.gz"
        parsed = parse_sdist_filename(name) if kind == "sdist" else parse_wheel_filename(name)[:2]
    except (InvalidSdistFilename, InvalidWheelFilename):
        return False
    return kind in {"sdist", "wheel"} and parsed == (canonicalize_name(project), Version(final))


def _check_checksum(artefact: Path) -> str:
    """'' when `X.sha512` is `<hex>  X` with the right hex, else what is wrong."""
    checksum = artefact.with_name(artefact.name + ".sha512")
    fields = checksum.read_text(encoding="utf-8", errors="replace").split()
    if len(fields) != 2 or fields[1].lstrip("*") != artefact.name:
        return f"not in `<sha512>  {artefact.name}` form"
    return "" if fields[0].lower() == sha512_of(artefact) else "sha512 does not match the file"


def check_files(folder: Path, project: str, final: str, gnupghome: Path,
                checks: dict[str, FileCheck]) -> None:
    """Signatures (against KEYS only), checksums, and that nothing unexpected is in the folder."""
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    artefacts = [n for n in names if _is_artefact(n, project, final)]
    companions = {f"{n}{suffix}" for n in artefacts for suffix in (".asc", ".sha512")}
    for name in names:
        check = checks.setdefault(name, FileCheck(name))
        if name not in artefacts and name not in companions:
            check.problems.append("not expected in a release candidate")
    for kind in ("source", "sdist", "wheel"):
        if not any(artefact_kind(n) == kind for n in artefacts):
            checks.setdefault(f"<{kind}>", FileCheck(f"<{kind}>")).problems.append(f"no {kind} of {final}")
    for name in artefacts:
        path = folder / name
        for companion in (f"{name}.asc", f"{name}.sha512"):
            if companion not in names:
                checks.setdefault(companion, FileCheck(companion)).problems.append("missing")
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


def verify_candidate(config: ReleaseConfig, version_rc: ReleaseVersion, *, svn_dev_url: str,
                     keys_url: str, repo_root: Path, commit: str | None = None, rebuild: bool = True,
                     image_checks: ImageChecks | None = None, progress: Progress = to_log) -> VerifyReport:
    """Check the staged candidate; the report when everything holds, else CandidateRejected (exit 7)."""
    target = version_rc
    final = str(target.final) if target.is_prerelease else str(target)
    url = svn.join(svn_dev_url, config.name, str(target))
    if not svn.exists(url):
        raise VerificationError(f"no candidate at {url}")
    checks: dict[str, FileCheck] = {}
    with tempfile.TemporaryDirectory(prefix="release-verify-") as work:
        progress(f"checking out {url}")
        folder = svn.export(url, Path(work) / "candidate")
        keys = Path(work) / "KEYS"
        keys.write_text(svn.read_text(keys_url), encoding="utf-8")
        with gpg.temporary_home() as home:
            progress(f"importing {keys_url} into a throwaway keyring; checking signatures and checksums")
            if not gpg.import_keys(keys, gnupghome=home):
                raise VerificationError(f"{keys_url} holds no public keys")
            check_files(folder, config.name, final, home, checks)
        if rebuild:
            commit = commit or git.tag_commit(repo_root, str(target))
            if commit is None:
                raise VerificationError(f"no git tag {target} in {repo_root}; fetch tags or pass the commit")
            progress(f"rebuilding {final} from {commit[:12]} to compare bytes")
            with package_builder(git.commit_time(repo_root, commit)) as builder:
                rebuilt = build_set(repo_root, commit, name=config.name, version=final,
                                    out=Path(work) / "rebuilt", with_source=True, builder=builder,
                                    progress=progress)
            compare_rebuild(folder, rebuilt, checks)
        if image_checks is not None:
            wheels: dict[str, str] | None = None
            commit = commit or git.tag_commit(repo_root, str(target)) or ""
            if rebuild and target.is_prerelease:  # the images install the wheel built as the candidate
                progress(f"rebuilding {target} from {commit[:12]} to compare with the images' wheel")
                with package_builder(git.commit_time(repo_root, commit)) as builder:
                    made = build_set(repo_root, commit, name=config.name, version=str(target),
                                     out=Path(work) / "rebuilt-candidate", with_source=False, builder=builder,
                                     progress=progress)
                wheels = {p.name: sha256_of(p) for p in made if p.name.endswith(".whl")}
            image_checks(checks, commit, keys, wheels)
    report = VerifyReport(str(target), url, commit or "", tuple(checks[name] for name in sorted(checks)))
    progress(report.render())
    if not report.ok:
        raise CandidateRejected(report)
    return report
