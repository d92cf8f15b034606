# SPDX-License-Identifier: Apache-2.0
"""Build the release files from a clean export of one commit, reproducibly, into `dist/<V>/`.

`svn/` holds what the PMC votes on (final version in every name, plus the source tarball);
`pypi/` holds what the package index gets (the rc version for a candidate, else svn's bytes).
A train's wave (`build_wave`) is built the same way into `dist/<train>-<date>/`: `svn/` with the
final versions, `pypi/` with each distribution's candidate version, for the index during the vote.
The build backend's output and warnings go to `dist/<V>/build.log`, shown only when a build fails.
The build returns what it made (the file entries and the build's facts); the pipeline records them.
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
import os
import re
import shlex
import shutil
import sys
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from release.adapters import git
from release.adapters.cmd import CalledProcessError, run, tail
from release.config import Distribution, ReleaseConfig
from release.errors import (
    CommandError,
    ConfigError,
    RefusedError,
    ReleaseError,
    ToolMissingError,
    VerificationError,
)
from release.notes import notes_of
from release.plan.images import parse_metadata
from release.plan.rc_pins import pins_of, rewrite_pins, unmet_pins
from release.plan.release import Artefact, PlannedDistribution, artefact_kind, artefacts, plan_distributions
from release.plan.wave import WaveEntry, WavePlan
from release.progress import Progress, to_log
from release.record import BuildInfo, FileEntry, copy_atomic, load_record, release_dir, sha512_of
from release.versions import ReleaseVersion, companion_version, parse_version

if TYPE_CHECKING:
    from build.env import DefaultIsolatedEnv

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib

log = logging.getLogger("release.build")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DUNDER = re.compile(r"^__version__\s*(?::\s*str\s*)?=\s*(['\"])(?P<value>[^'\"]+)\1", re.M)
_PLAIN = re.compile(r"^version\s*=\s*(['\"])(?P<value>[^'\"]+)\1", re.M)
_PROJECT = re.compile(r"^\[project\]\s*$(?:(?!^\[).)*?" + _PLAIN.pattern, re.M | re.S)
_MODULES = [("__init__.py", _DUNDER), ("version.py", _DUNDER), ("version.py", _PLAIN),
            ("_version.py", _DUNDER), ("__about__.py", _DUNDER)]
_KEYWORD = re.compile(r"\bversion\s*=\s*(['\"])(?P<value>[^'\"]+)\1")
BUILD_LOG = "build.log"  # in dist/<V>/: the build backend's output, appended run after run


@dataclass(frozen=True)
class DeclaredVersion:
    """Where the commit declares its version: the file (relative), the value, and its span there."""

    file: str
    value: str
    start: int
    end: int

    def rewrite(self, tree: Path, version: str) -> None:
        path = tree / self.file
        text = path.read_text(encoding="utf-8")
        path.write_text(text[:self.start] + version + text[self.end:], encoding="utf-8")


@dataclass(frozen=True)
class BuildResult:
    """What a build made: its files under dist/<V>/, and their entries and the build's facts to record."""

    version: str
    directory: Path  # dist/<V>
    svn_files: tuple[Path, ...]
    pypi_files: tuple[Path, ...]
    files: tuple[FileEntry, ...]
    info: BuildInfo

    @property
    def commit(self) -> str:
        return self.info.commit

    @property
    def source_date_epoch(self) -> int:
        return self.info.source_date_epoch

    @property
    def declared_in(self) -> str:
        return self.info.declared_in

    @property
    def release_notes(self) -> str:
        return self.info.release_notes


def _hatch_version_file(tree: Path) -> str:
    """The file hatchling reads a dynamic version from (`[tool.hatch.version] path`), else ""."""
    path = tree / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except tomllib.TOMLDecodeError:
        return ""
    if "version" not in (data.get("project", {}).get("dynamic") or ()):
        return ""
    found = data.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
    return found if isinstance(found, str) else ""


def find_declared_version(tree: Path, name: str) -> DeclaredVersion | None:
    """The first of: pyproject `[project] version`, the file hatchling reads a dynamic version from
    (Airflow's task SDK: `src/airflow/sdk/__init__.py`), a package's `__version__`, setup.py `version=`."""
    hatch = _hatch_version_file(tree)
    declared = declared_in_file(tree, "pyproject.toml") or (declared_in_file(tree, hatch) if hatch else None)
    if declared is not None:
        return declared
    preferred = name.lower().replace("-", "_").replace(".", "_")
    candidates = []
    for base in (tree, tree / "src"):
        for init in sorted(base.glob("*/__init__.py"), key=lambda p: (p.parent.name != preferred, p)):
            candidates += [(init.parent / module, pattern) for module, pattern in _MODULES]
    for path, pattern in [*candidates, (tree / "setup.py", _KEYWORD)]:
        found = pattern.search(path.read_text(encoding="utf-8")) if path.is_file() else None
        if found:
            return DeclaredVersion(path.relative_to(tree).as_posix(), found["value"], found.start("value"),
                                   found.end("value"))
    return None


def declared_in_file(tree: Path, file: str) -> DeclaredVersion | None:
    """The version `file` (relative to `tree`) declares: `[project] version` in a pyproject.toml,
    `version=` in a setup.py, `__version__` (or `version = `) in any other Python file."""
    path = tree / file
    if not path.is_file():
        return None
    if path.name == "pyproject.toml":
        patterns = [_PROJECT]
    elif path.name == "setup.py":
        patterns = [_KEYWORD]
    else:
        patterns = [_DUNDER, _PLAIN]
    text = path.read_text(encoding="utf-8")
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return DeclaredVersion(file, found["value"], found.start("value"), found.end("value"))
    return None


def declared_version_of(tree: Path, dist: Distribution) -> DeclaredVersion:
    """Where the tree declares `dist`'s version (paths relative to `tree`); ConfigError when nowhere."""
    if dist.own_version:
        found = declared_in_file(tree, dist.version_from)
        if found is None:
            raise ConfigError(f"{dist.name}: {dist.version_from} declares no version; set [tool.release] "
                              "distributions version-from to the file that declares it")
        return found
    base = tree / dist.path
    found = find_declared_version(base, dist.name)
    if found is None:
        raise ConfigError(f"cannot find the declared version of {dist.name} in {dist.path}: looked for "
                          "[project] version in pyproject.toml, __version__ in the package, version= in "
                          "setup.py")
    prefix = "" if dist.path == "." else dist.path.rstrip("/") + "/"
    return DeclaredVersion(prefix + found.file, found.value, found.start, found.end)


def target_versions(tree: Path, distributions: Sequence[Distribution], version: str
                    ) -> dict[str, tuple[DeclaredVersion, str]]:
    """distribution -> (where its version is declared, the version to build it with): `version`,
    or for a distribution with its own version, its declared one with `version`'s suffix."""
    release = parse_version(version)
    found = {}
    for dist in distributions:
        declared = declared_version_of(tree, dist)
        built = companion_version(declared.value, release) if dist.own_version else version
        found[dist.name] = (declared, built)
    return found


def write_tarball(tree: Path, target: Path, *, top: str, epoch: int) -> Path:
    """`tree` under `<top>/` as a byte-reproducible .tar.gz: sorted names, no owners, fixed modes
    (0644, 0755 for folders and executables), mtime `epoch`, a gzip header without name or time.
    Files are read in pieces as they are written: a large one is never held in memory."""
    paths = {top: tree}
    for folder, dirs, names in os.walk(tree):
        for path in (Path(folder) / name for name in [*dirs, *names]):
            paths[f"{top}/{path.relative_to(tree).as_posix()}"] = path
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed, \
            tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(paths):
            path = paths[name]
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            if path.is_symlink():
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, str(path.readlink()), 0o777
                archive.addfile(info)
            elif path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                with open(path, "rb") as data:
                    status = os.fstat(data.fileno())
                    info.size, info.mode = status.st_size, 0o755 if status.st_mode & 0o111 else 0o644
                    archive.addfile(info, data)
    return target


def unpack(tarball: Path, dest: Path) -> Path:
    with tarfile.open(tarball, "r:*") as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(dest, filter="data")
        else:  # pragma: no cover - Python without extraction filters (< 3.9.17)
            archive.extractall(dest)
    return dest


class PackageBuilder:
    """One isolated build environment (requirements from the index, as anyone would get them),
    reused for every sdist and wheel of a run: creating environments is most of a build's time.
    What the backend prints or warns goes to `log`, after the command that produced it."""

    def __init__(self, env: DefaultIsolatedEnv, epoch: int, log: Path) -> None:
        self.env, self.epoch, self.log = env, epoch, log
        self.installed: set[str] = set()

    def _run_hook(self, cmd: Sequence[str], cwd: str | None = None,
                  extra_environ: Mapping[str, str] | None = None) -> None:
        run(cmd, cwd=Path(cwd) if cwd else None,
            env={**(extra_environ or {}), "SOURCE_DATE_EPOCH": str(self.epoch)}, log_file=self.log)

    def _build(self, tree: Path, distribution: Literal["sdist", "wheel"], out: Path) -> Path:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", _backend_warning())
                return self._call_backend(tree, distribution, out)
        finally:
            self._keep_warnings(caught, f"the {distribution} of {tree.name}")

    def _call_backend(self, tree: Path, distribution: Literal["sdist", "wheel"], out: Path) -> Path:
        from build import BuildBackendException, BuildException, ProjectBuilder

        try:
            builder = ProjectBuilder.from_isolated_env(self.env, tree, runner=self._run_hook)
            self._install(builder.build_system_requires)
            self._install(builder.get_requires_for_build(distribution))
            return Path(builder.build(distribution, out))
        except BuildBackendException as exc:
            failed = f"building the {distribution} of {tree.name} failed"
            if isinstance(exc.exception, CommandError):  # a hook failed; its output is in the log
                raise CommandError(f"{failed}: {exc.exception}") from None
            if isinstance(exc.exception, ReleaseError):
                raise exc.exception from None
            raise CommandError(f"{failed}: {exc}") from None
        except CalledProcessError as exc:  # pip, installing the build requirements
            output = self._append(exc.cmd, exc.stdout, exc.stderr)
            raise CommandError(f"preparing the build environment for {tree.name} failed (exit "
                               f"{exc.returncode}); its output is in {self.log}, ending with:\n"
                               f"{tail(output)}") from None
        except BuildException as exc:
            raise CommandError(f"preparing the build environment for {tree.name} failed: {exc}") from None

    def _append(self, cmd: object, *streams: str | bytes | None) -> str:
        args = cmd if isinstance(cmd, (list, tuple)) else [cmd]
        text = "".join(s.decode("utf-8", "replace") if isinstance(s, bytes) else s or "" for s in streams)
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(f"+ {shlex.join([str(a) for a in args])}\n{text}")
        return text

    def _keep_warnings(self, caught: list[warnings.WarningMessage], what: str) -> None:
        """The backend's warnings into the log; any other warning is passed on as it was."""
        backend = _backend_warning()
        kept = []
        for found in caught:
            message, category, filename, lineno = found.message, found.category, found.filename, found.lineno
            if issubclass(category, backend):
                kept.append(warnings.formatwarning(message, category, filename, lineno))
            else:
                warnings.warn_explicit(message, category, filename, lineno)
        if kept:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.write(f"# the build backend warned while building {what}:\n" + "".join(kept))

    def _install(self, requirements: Collection[str]) -> None:
        if not self.installed.issuperset(requirements):
            self.env.install(requirements)
            self.installed.update(requirements)

    def build(self, tree: Path, out: Path, *, epoch: int | None = None) -> list[Path]:
        """sdist from `tree`, then the wheel from that sdist (as `python -m build` does), into `out`;
        with `epoch`, that SOURCE_DATE_EPOCH for these two instead of the builder's."""
        if epoch is not None and epoch != self.epoch:
            saved, self.epoch = self.epoch, epoch
            try:
                return self.build(tree, out)
            finally:
                self.epoch = saved
        with tempfile.TemporaryDirectory(prefix="release-made-") as scratch:
            sdist = self._build(tree, "sdist", Path(scratch) / "made")
            unpacked = next(unpack(sdist, Path(scratch) / "unpacked").iterdir())
            # setuptools stamps sdists with build-time mtimes and owners: rewrite it like the source tarball
            write_tarball(unpacked, out / sdist.name, top=unpacked.name, epoch=self.epoch)
            wheel = self._build(unpacked, "wheel", Path(scratch) / "made")
            shutil.copyfile(wheel, out / wheel.name)
        return [out / sdist.name, out / wheel.name]


def _backend_warning() -> type[Warning]:
    """The category pyproject_hooks gives each of the backend's warnings, raised again in our process."""
    try:
        from pyproject_hooks import BuildBackendWarning
    except ImportError:  # pragma: no cover - older pyproject_hooks drop the backend's warnings
        return _NoBackendWarning
    return BuildBackendWarning


class _NoBackendWarning(UserWarning):
    """Never raised: stands for BuildBackendWarning where pyproject_hooks has none."""


@contextmanager
def package_builder(epoch: int, log: Path | None = None) -> Iterator[PackageBuilder]:
    """A PackageBuilder whose backend output is appended to `log`; without one, to a temporary log
    that is removed after a successful build and kept when it fails, for the error to name."""
    try:
        from build.env import DefaultIsolatedEnv
    except ImportError:
        raise ToolMissingError(f"pypa/build is missing: {sys.executable} -m pip install build") from None
    temporary = log is None
    if log is None:
        handle, name = tempfile.mkstemp(prefix="release-build-", suffix=".log")
        os.close(handle)
        log = Path(name)
    built = False
    try:
        with DefaultIsolatedEnv() as env:
            yield PackageBuilder(env, epoch, log)
        built = True
    finally:
        if temporary and built:
            log.unlink(missing_ok=True)


def build_set(root: Path, commit: str, *, config: ReleaseConfig, version: str, out: Path,
              with_source: bool, builder: PackageBuilder, progress: Progress) -> list[Path]:
    """Build the source tarball (when asked) and an sdist + wheel of every distribution of `commit`,
    each carrying `version` (or its own version with `version`'s suffix), into `out`."""
    name = config.name
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="release-build-") as work:
        tree = git.export_commit(root, commit, Path(work) / f"{name}-{version}")
        files = []
        if with_source:
            progress(f"source tarball {name}-{version}-source.tar.gz")
            files.append(write_tarball(tree, out / f"{name}-{version}-source.tar.gz",
                                       top=f"{name}-{version}", epoch=builder.epoch))
        targets = target_versions(tree, config.distributions, version)
        for declared, built in targets.values():
            if declared.value != built:
                declared.rewrite(tree, built)
        for dist in config.distributions:
            built = targets[dist.name][1]
            progress(f"building sdist and wheel of {dist.name} {built} (SOURCE_DATE_EPOCH={builder.epoch})")
            files.extend(builder.build(tree / dist.path if dist.path != "." else tree, out))
    return files


def build_commit(root: Path, commit: str, *, config: ReleaseConfig, version: str, out: Path,
                 with_source: bool, progress: Progress) -> list[Path]:
    """`build_set` of `commit` with its own time as SOURCE_DATE_EPOCH, as anyone building it again
    gets it (builds are reproducible): a voter's rebuild, a master image's wheel."""
    with package_builder(git.commit_time(root, commit)) as builder:
        return build_set(root, commit, config=config, version=version, out=out, with_source=with_source,
                         builder=builder, progress=progress)


def build_wave(root: Path, commit: str, plan: WavePlan, *, out: Path, builder: PackageBuilder,
               progress: Progress, candidates: Path | None = None) -> list[Path]:
    """A train's wave from a clean export of `commit`: its source tarball (the whole tree, named as
    the plan says), then an sdist and a wheel of each distribution of the wave, each from its own
    folder with its own build backend and its own SOURCE_DATE_EPOCH (its provider.yaml's, else the
    commit's). With `candidates`, each one's sdist and wheel again into that folder for the index,
    at its candidate's rc-numbered version (`rc_numbered_packages`). Refuses, keeping nothing in
    `out` or `candidates`, files other than the plan names."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="release-wave-") as work:
        top = plan.source_tarball.removesuffix(".tar.gz").removesuffix("-source")
        tree = git.export_commit(root, commit, Path(work) / top)
        made = Path(work) / "made"
        made.mkdir()
        progress(f"source tarball {plan.source_tarball}")
        files = [write_tarball(tree, made / plan.source_tarball, top=top, epoch=builder.epoch)]
        for entry in plan.entries:
            files += _build_entry(tree, entry, entry.version, made, builder, progress)
        placed = [(path, out) for path in files]
        if candidates is not None:
            index = rc_numbered_packages(tree, plan, Path(work) / "index", builder, progress)
            placed += [(path, candidates) for path in index]
        return [_copy_into(path, folder) for path, folder in placed]


def _copy_into(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, folder / path.name)
    return folder / path.name


def _build_entry(tree: Path, entry: WaveEntry, version: ReleaseVersion, made: Path, builder: PackageBuilder,
                 progress: Progress) -> list[Path]:
    """One distribution of a wave at `version` (its final, or its candidate for the index), from its
    own folder with its own SOURCE_DATE_EPOCH; refused unless it makes the files the plan names."""
    epoch = entry.source_date_epoch if entry.source_date_epoch is not None else builder.epoch
    progress(f"building sdist and wheel of {entry.name} {version} from {entry.path} "
             f"(SOURCE_DATE_EPOCH={epoch})")
    built = builder.build(tree / entry.path if entry.path != "." else tree, made, epoch=epoch)
    final = version == entry.version
    wanted = sorted(f for f in entry.files if not f.endswith((".asc", ".sha512"))) if final else sorted(
        entry.index_files)
    if sorted(p.name for p in built) != wanted:
        raise RefusedError(f"{entry.name} built {', '.join(sorted(p.name for p in built))}, the plan "
                           f"names {', '.join(wanted)}: its version or name in the tree is not the "
                           "one its version file declares")
    return built


def rc_numbered_packages(tree: Path, plan: WavePlan, made: Path, builder: PackageBuilder,
                         progress: Progress) -> list[Path]:
    """Each distribution's sdist and wheel at its candidate's version (`6.3.1rc1`), for the index:
    the version rewritten, in the export, where its build backend reads it (`find_declared_version`:
    pyproject's `[project] version` first, as the single release's index packages are), nothing else.
    A provider.yaml's `versions:` is the plan's record of finals, not read by the backend: it stays.
    A versioned train's distributions pin each other at their finals: in its rc-numbered packages
    those pins name the candidates (`plan.index_pins`, `_pin_candidates`)."""
    made.mkdir()
    pins = pins_of(plan.index_pins)
    files = []
    for entry in plan.entries:
        if not entry.index_files:
            continue
        folder = tree / entry.path if entry.path != "." else tree
        declared = find_declared_version(folder, entry.name)
        if declared is None or parse_version(declared.value) != entry.version:
            found = f"declares {declared.value} in {declared.file}" if declared else "declares no version"
            raise RefusedError(f"{entry.name} {found} where its build backend reads it, the wave releases "
                               f"{entry.version}: declare it there too")
        declared.rewrite(folder, str(entry.candidate))
        if pins:
            _pin_candidates(folder, entry, pins, progress)
        built = _build_entry(tree, entry, entry.candidate, made, builder, progress)
        if pins:
            _check_pins(built, pins)
        files += built
    return files


def _pin_candidates(folder: Path, entry: WaveEntry, pins: Mapping[str, tuple[str, str]],
                    progress: Progress) -> None:
    """The pins on the train's own distributions in `folder`'s pyproject.toml (its `[project]`
    requirements, where a backend with static metadata reads them) at the candidates."""
    path = folder / "pyproject.toml"
    if not path.is_file():
        return
    where = f"{entry.path.rstrip('/')}/pyproject.toml" if entry.path != "." else "pyproject.toml"
    text, changed = rewrite_pins(path.read_text(encoding="utf-8"), pins, file=where)
    if changed:
        path.write_text(text, encoding="utf-8")
        progress(f"{entry.name} {entry.candidate} pins " + ", ".join(new for _, new in changed))


def _check_pins(built: Sequence[Path], pins: Mapping[str, tuple[str, str]]) -> None:
    """Refuse an rc-numbered package whose metadata still refuses a candidate of its train (a
    backend that takes its dependencies from elsewhere than `[project]`), naming the requirement."""
    for path in built:
        requires = _metadata_of(path).get("Requires-Dist", [])
        unmet = unmet_pins(requires, pins)
        if unmet:
            raise RefusedError(f"{path.name} requires {', '.join(unmet)}, which its train's candidates do "
                               "not meet: its build backend does not read these pins from pyproject.toml's "
                               "[project] tables")


def _metadata_of(path: Path) -> dict[str, list[str]]:
    """The metadata headers of a wheel (its .dist-info/METADATA) or an sdist (its PKG-INFO)."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as wheel:
            names = [n for n in wheel.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            return parse_metadata(wheel.read(names[0])) if names else {}
    with tarfile.open(path) as sdist:
        member = next((m for m in sdist.getmembers()
                       if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")), None)
        handle = sdist.extractfile(member) if member is not None else None
        return parse_metadata(handle.read()) if handle is not None else {}


def check_packages(packages: Sequence[Path]) -> None:
    """`twine check --strict`; VerificationError naming every package that fails."""
    if importlib.util.find_spec("twine") is None:
        raise ToolMissingError(f"twine is not installed: {sys.executable} -m pip install twine")
    result = run([sys.executable, "-m", "twine", "check", "--strict", *map(str, packages)],
                 check=False, env={"NO_COLOR": "1", "COLUMNS": "10000"})
    if result.returncode == 0:
        return
    text = _ANSI.sub("", result.stdout + result.stderr)
    failed = [p.name for p in packages if re.search(rf"Checking {re.escape(str(p))}: FAILED", text)]
    details = [line.strip() for line in text.splitlines() if line.strip() and "PASSED" not in line]
    raise VerificationError(f"twine check --strict failed for {', '.join(failed or ['the packages'])}: "
                            + " | ".join(details[-6:]))


def build_release(config: ReleaseConfig, version: ReleaseVersion, *, allow_dirty: bool = False,
                  allow_version_mismatch: bool = False, commit: str | None = None,
                  planned: Sequence[Artefact] | None = None, progress: Progress = to_log) -> BuildResult:
    """Build `dist/<V>/{svn,pypi}` from HEAD of `config.root` (or from `commit`: a rerun finishing a
    release its record says was built from it); returns them with their entries for the record. The
    files are exactly `planned`'s svn/ and pypi/ ones (the plan's artefacts; by default the plan of
    this commit's declared versions): the build refuses, keeping nothing, when it would make others."""
    target = version
    # a candidate is voted on as the final version it becomes; the rc lives only in the folder name
    # and on the index (versions.py: ReleaseVersion.voted, the plan's rule too)
    voted = target.voted
    root, name = config.root, config.name
    changed = git.changed_files(root)
    if changed and not allow_dirty:
        raise RefusedError(f"{root} has uncommitted changes to tracked files ({', '.join(changed[:10])}); "
                           f"commit or stash them (the build uses the commit, not the working tree)")
    commit = git.check_object_name(commit) if commit else git.commit_of(root)
    epoch = git.commit_time(root, commit)
    directory = release_dir(root, str(target))
    record = load_record(directory, str(target))
    earlier = record.build.commit if record.build else None
    if earlier not in {None, commit}:
        raise RefusedError(f"{directory} was built from {earlier[:12]}, HEAD is {commit[:12]}; "
                           f"move {directory} away to build {target} again")
    with tempfile.TemporaryDirectory(prefix="release-") as work:
        tree = git.export_commit(root, commit, Path(work) / "commit")
        notes = notes_of(tree, config, str(target.in_tree))
        distributions = _check_declared(tree, config, commit, allow_version_mismatch, target)
        expected = planned if planned is not None else artefacts(name, target, distributions)
        declared = declared_version_of(tree, config.main)
        progress(f"building {name} {target} from {commit[:12]} (version declared in {declared.file})")
        staged = Path(work) / "out"
        log = directory / BUILD_LOG
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            handle.write(f"# {started}: building {name} {target} from {commit}\n")
        with package_builder(epoch, log) as builder:
            svn = build_set(root, commit, config=config, version=str(voted), out=staged / "svn",
                            with_source=True, builder=builder, progress=progress)
            packages = svn[1:]
            if voted != target:
                pypi = build_set(root, commit, config=config, version=str(target), out=staged / "pypi",
                                 with_source=False, builder=builder, progress=progress)
                packages += pypi
        if voted == target:  # the index gets the voted bytes
            pypi = [staged / "pypi" / p.name for p in packages]
            (staged / "pypi").mkdir()
            for source, copy in zip(packages, pypi):
                shutil.copyfile(source, copy)
        _check_planned([*svn, *pypi], staged, expected)
        progress("twine check --strict")
        check_packages(packages)
        placed = _place(staged, directory, [*svn, *pypi])
    relative = [path.relative_to(directory).as_posix() for path in placed]
    progress(f"built {len(placed)} files into {directory} (the build backend's output: {log})")
    return BuildResult(str(target), directory, tuple(p for p in placed if p.parent.name == "svn"),
                       tuple(p for p in placed if p.parent.name == "pypi"),
                       tuple(FileEntry(r, sha512_of(p), artefact_kind(p.name), r.split("/")[0])
                             for r, p in zip(relative, placed)),
                       BuildInfo(commit, epoch, declared.file, declared.value, notes,
                                 distributions={d.name: d.voted for d in distributions}))


def _check_planned(files: Sequence[Path], staged: Path, planned: Sequence[Artefact]) -> None:
    """Refuse a build whose files are not the plan's svn/ and pypi/ artefacts, naming the difference."""
    made = {path.relative_to(staged).as_posix() for path in files}
    wanted = {a.path for a in planned if a.path.startswith(("svn/", "pypi/"))}
    if made != wanted:
        extra, missing = sorted(made - wanted), sorted(wanted - made)
        raise RefusedError("the build makes other files than the plan names: "
                           + "; ".join(filter(None, [f"not planned: {', '.join(extra)}" if extra else "",
                                                     f"not made: {', '.join(missing)}" if missing else ""]))
                           + "; check the declared versions and the build backend's output names")


def _check_declared(tree: Path, config: ReleaseConfig, commit: str, allow_mismatch: bool,
                    target: ReleaseVersion) -> tuple[PlannedDistribution, ...]:
    """Refuse a distribution that declares another version than the release's; each distribution
    with the versions its voted and its index files carry, by the plan's rule (plan_distributions)."""
    own = {}
    for dist in config.distributions:
        declared = declared_version_of(tree, dist)
        if dist.own_version:
            own[dist.name] = declared.value
        elif not target.accepts_declared(declared.value) and not allow_mismatch:
            raise RefusedError(f"{declared.file} declares version {declared.value!r} at {commit[:12]}, "
                               f"expected {str(target.voted)!r} for {target}; fix and commit it, or allow "
                               "the mismatch")
    return plan_distributions(config, target, own)


def _place(staged: Path, directory: Path, files: Sequence[Path]) -> list[Path]:
    """Copy checked files into dist/<V>; identical ones stay, different ones are never replaced."""
    targets = [directory / path.relative_to(staged) for path in files]
    clashes = [t.name for p, t in zip(files, targets) if t.exists() and sha512_of(t) != sha512_of(p)]
    if clashes:
        raise RefusedError(f"{directory}: {', '.join(clashes)} differ from the new build; move them away")
    for path, target in zip(files, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            copy_atomic(path, target)
    return targets
