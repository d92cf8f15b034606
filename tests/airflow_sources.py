# SPDX-License-Identifier: Apache-2.0
"""Apache Airflow's own released sources as a git repository laid out as Airflow's is.

The sdists on PyPI of one released set (`apache-airflow` 3.3.2, `apache-airflow-core` 3.3.2, the
`apache-airflow-task-sdk` 1.3.2 it pins) and five providers are downloaded once with pip (their
sha256 pinned below, as PyPI's index lists them; pip checks every download against them, and the
cache is checked again on every use) into a cache that survives between test runs, then laid out
as Airflow's repository lays them out:

    pyproject.toml, LICENSE, NOTICE, generated/   the meta package `apache-airflow` (the root)
    airflow-core/                                 `apache-airflow-core` (hatchling, hatch_build.py)
    task-sdk/                                     `apache-airflow-task-sdk` (hatchling)
    shared/<lib>/src/airflow_shared/<lib>/        the libraries core and the task SDK vendor: in
                                                  Airflow's tree `airflow-core/src/airflow/_shared/<lib>`
                                                  and `task-sdk/src/airflow/sdk/_shared/<lib>` are
                                                  symlinks to them, which the sdists' `force-include`
                                                  tables resolve; the sdists carry the files themselves
    providers/<id as a path>/                     one provider each (flit), with its `provider.yaml`
                                                  (state, lifecycle, source-date-epoch, versions)

What the sdists carry that Airflow's tree generates at build time is committed as they carry it:
the compiled UI assets (`airflow-core/src/airflow/ui/dist/`, built with pnpm from the UI sources,
which the sdist also carries) and `airflow-core/src/airflow/git_version`. The sdists leave out
`PKG-INFO` (written by the backends) and nothing else is added.

The first commit is the released state, tagged as Airflow tags it (`3.3.2`, `task-sdk/1.3.2`,
`providers-<id>/<version>`); then a few later commits touch three of the five providers and
prepare their next versions, as a release manager does before a wave. Author and dates are fixed,
so the commits' hashes are the same on every machine with the same git object format.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from release import locks

CACHE_ENV = "RELEASE_PIPELINE_TEST_CACHE"
AUTHOR = ("Release Pipeline Tests", "tests@release-pipeline.invalid")
BASE_DATE = 1793534400  # 2026-11-01T12:00:00Z: the released state
DAY = 86400


@dataclass(frozen=True)
class Sdist:
    """One released distribution: its sdist on PyPI and where Airflow's tree keeps it."""

    name: str
    version: str
    sha256: str  # PyPI's, as its simple index lists it
    path: str  # its directory in Airflow's repository
    tag: str  # the git tag Airflow gives its release

    @property
    def filename(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}.tar.gz"

    @property
    def wheel(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"


def _provider(provider_id: str, version: str, sha256: str) -> Sdist:
    dashed = provider_id.replace(".", "-")
    return Sdist(f"apache-airflow-providers-{dashed}", version, sha256,
                 "providers/" + provider_id.replace(".", "/"), f"providers-{dashed}/{version}")


CORE = (
    Sdist("apache-airflow", "3.3.2", "cdbe0dcd47ff2e9ab267fcc050bc6e4fa6e40fb86bf3671e05d9672206da59bb",
          ".", "3.3.2"),
    Sdist("apache-airflow-core", "3.3.2", "53f38e7749a2689a1d67c6e661284ecddaa687c1f7f3cae2d76b2eca7758210f",
          "airflow-core", "3.3.2"),
    Sdist("apache-airflow-task-sdk", "1.3.2",
          "d9a1c7785684a215df3927b028a44b2b6927dacebd54c0d281b5906febc3efef", "task-sdk", "task-sdk/1.3.2"),
)
# Small providers with no build step but flit's: the newest release of each on 2026-12-07.
PROVIDERS = (
    _provider("common.io", "1.11.0", "72bdfbbab9472779e9be20e9e1d1779603fe16aab8556b69d340fda40a87a666"),
    _provider("ftp", "3.16.1", "f359de112eb95d587c9375f0c44c107e8ee08470d3904be8f49136b2660be1f1"),
    _provider("http", "6.3.0", "9139da91dadcf2d1f7714c9a848893a74806d99f87c6c02cd67e4abdb5fd007e"),
    _provider("imap", "3.13.1", "3b8ce78fd545afff7d9ae80df175eeef73fa6c68d2fe4e915f9ee19bcde15c0a"),
    _provider("sqlite", "4.3.4", "fd0a10b80431d545fd4f7073744e03aaaf3ebda88dbb6eb4b40f21137c0e6e24"),
)
SDISTS = CORE + PROVIDERS
# Where core and the task SDK vendor the shared libraries (symlinks in Airflow's tree).
SHARED_IN = {"airflow-core": "src/airflow/_shared", "task-sdk": "src/airflow/sdk/_shared"}

# The later commits: (provider path, file under it, the line appended, commit message).
CHANGES = (
    ("providers/http", "src/airflow/providers/http/hooks/http.py",
     "# Retries are counted per request.\n", "Count HttpHook retries per request"),
    ("providers/ftp", "src/airflow/providers/ftp/hooks/ftp.py",
     "# Passive mode stays the default.\n", "Keep passive mode the FTPHook default"),
    ("providers/common/io", "src/airflow/providers/common/io/xcom/backend.py",
     "# Objects below the threshold stay in the database.\n", "Document the XCom object storage threshold"),
)
# The versions the release manager prepares for the changed providers (provider.yaml, pyproject,
# __init__, README and changelog), in one commit after the changes.
NEXT_VERSIONS = {"providers/http": "6.3.1", "providers/ftp": "3.16.2", "providers/common/io": "1.11.1"}


def cache_dir() -> Path:
    """Where the sdists are kept between runs: $RELEASE_PIPELINE_TEST_CACHE, else ~/.cache/..."""
    configured = os.environ.get(CACHE_ENV)
    base = Path(configured) if configured else Path.home() / ".cache" / "release-pipeline-tests"
    return base / "airflow-sdists"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(sdists: tuple[Sdist, ...] = SDISTS) -> dict[str, Path]:
    """Each sdist from the cache, downloading the missing ones with pip (hash-checked); a cached file
    whose sha256 is not PyPI's is downloaded again. Returns name -> cached file."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # test processes running side by side (pytest -n) fill the cache once: the others wait for it
    with locks.machine("airflow-sdists", lambda line: None, folder=folder):
        _fill(folder, sdists)
    found = {s.name: folder / s.filename for s in sdists}
    for sdist in sdists:
        actual = _sha256(found[sdist.name])
        if actual != sdist.sha256:
            raise AssertionError(f"{found[sdist.name]}: sha256 {actual}, PyPI's is {sdist.sha256}")
    return found


def _fill(folder: Path, sdists: tuple[Sdist, ...]) -> None:
    missing = [s for s in sdists if not (folder / s.filename).is_file()
               or _sha256(folder / s.filename) != s.sha256]
    if not missing:
        return
    with tempfile.TemporaryDirectory(dir=folder) as work:
        requirements = Path(work) / "requirements.txt"
        requirements.write_text("".join(f"{s.name}=={s.version} --hash=sha256:{s.sha256}\n"
                                        for s in missing))
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--require-hashes", "-r", str(requirements), "-d", work],
            check=True, capture_output=True, text=True,
        )
        for sdist in missing:
            shutil.move(str(Path(work) / sdist.filename), folder / sdist.filename)


def _extract(archive: Path, dest: Path) -> None:
    """The sdist's files, without its top folder and the PKG-INFO its backend wrote."""
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) < 2 or not parts[1] or parts[1] == "PKG-INFO" or not member.isfile():
                continue
            target = dest / parts[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
            target.chmod(0o755 if member.mode & 0o100 else 0o644)


def _share(root: Path, path: str) -> None:
    """Move the vendored libraries to `shared/` and leave symlinks, as in Airflow's tree."""
    vendored = root / path / SHARED_IN[path]
    for library in sorted(p for p in vendored.iterdir() if p.is_dir()):
        shared = root / "shared" / library.name / "src" / "airflow_shared" / library.name
        if shared.exists():
            shutil.rmtree(library)  # core and the task SDK vendor the same files
        else:
            shared.parent.mkdir(parents=True)
            shutil.move(str(library), shared)
        library.symlink_to(os.path.relpath(shared, library.parent))


def git(root: Path, *args: str, date: int = BASE_DATE) -> str:
    stamp = f"@{date} +0000"
    env = {**os.environ, "GIT_AUTHOR_NAME": AUTHOR[0], "GIT_AUTHOR_EMAIL": AUTHOR[1],
           "GIT_COMMITTER_NAME": AUTHOR[0], "GIT_COMMITTER_EMAIL": AUTHOR[1],
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(root)}  # no user or system configuration: the same commits everywhere
    result = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True)
    return result.stdout.strip()


def _commit(root: Path, message: str, date: int) -> None:
    git(root, "add", "--all", "--force", date=date)  # task-sdk's .gitignore names `dist` and `lib`
    git(root, "commit", "--quiet", "--no-gpg-sign", "-m", message, date=date)


def prepare_version(root: Path, path: str, version: str) -> None:
    """What a release manager changes before a wave: the provider's new version first in
    provider.yaml's `versions`, in pyproject.toml, `__version__` and the README, and its changelog
    section."""
    folder = root / path
    meta = (folder / "provider.yaml").read_text()
    previous = re.search(r"^versions:\n  - (\S+)$", meta, re.MULTILINE)
    assert previous is not None, f"{path}/provider.yaml lists no versions"
    old = previous.group(1)
    (folder / "provider.yaml").write_text(meta.replace("versions:\n", f"versions:\n  - {version}\n", 1))
    package = path.removeprefix("providers/")
    init = folder / "src" / "airflow" / "providers" / package / "__init__.py"
    for file in (folder / "pyproject.toml", init, folder / "README.rst"):
        file.write_text(file.read_text().replace(old, version))
    changelog = folder / "docs" / "changelog.rst"
    text = changelog.read_text()
    heading = f"{old}\n{'.' * len(old)}\n"
    assert heading in text, f"{changelog} has no section {old}"
    section = f"{version}\n{'.' * len(version)}\n\nBug Fixes\n~~~~~~~~~\n\n* ``Next release of {path}``\n\n"
    changelog.write_text(text.replace(heading, section + heading, 1))


def make_airflow_repo(dest: Path) -> Path:
    """Airflow's released sources as a git repository at `dest` (see the module's docstring)."""
    archives = download()
    dest.mkdir(parents=True)
    for sdist in SDISTS:
        _extract(archives[sdist.name], dest / sdist.path)
    for path in SHARED_IN:
        _share(dest, path)
    git(dest, "init", "--quiet", "--initial-branch=main")
    _commit(dest, "Apache Airflow 3.3.2, task SDK 1.3.2 and five providers as released", BASE_DATE)
    for tag in dict.fromkeys(s.tag for s in SDISTS):  # the meta package and core share theirs
        git(dest, "tag", "--annotate", "--no-sign", "-m", f"Release {tag}", tag, date=BASE_DATE)
    date = BASE_DATE
    for path, file, line, message in CHANGES:
        date += DAY
        with open(dest / path / file, "a") as handle:
            handle.write(line)
        _commit(dest, message, date)
    for path, version in NEXT_VERSIONS.items():
        prepare_version(dest, path, version)
    _commit(dest, "Prepare docs for the November providers wave", date + DAY)
    return dest


def prepare_core(root: Path, airflow: str, sdk: str) -> str:
    """What a release manager commits before a core release: `airflow` as the meta package's and
    core's version (pyproject.toml, `__version__`) and the pins on each other, `sdk` as the task
    SDK's; the new commit's hash."""
    old_airflow, old_sdk = (s.version for s in CORE[1:])
    version, pin_core = '\nversion = "{}"', '"apache-airflow-core=={}"'
    pin_sdk = '"apache-airflow-task-sdk=={}"'
    edits = {
        "pyproject.toml": (version, pin_core, pin_sdk), "airflow-core/pyproject.toml": (version, pin_sdk),
        "airflow-core/src/airflow/__init__.py": ('\n__version__ = "{}"',),
        "task-sdk/src/airflow/sdk/__init__.py": ('\n__version__ = "{}"',),
    }
    for path, lines in edits.items():
        text = (root / path).read_text()
        for line in lines:
            old, new = ((line.format(old_sdk), line.format(sdk)) if "sdk" in line or "sdk" in path
                        else (line.format(old_airflow), line.format(airflow)))
            assert old in text, f"{path} has no {old.strip()}"
            text = text.replace(old, new, 1)
        (root / path).write_text(text)
    date = int(git(root, "log", "-1", "--format=%ct")) + DAY
    _commit(root, f"Update version to {airflow} (task SDK {sdk})", date)
    return git(root, "rev-parse", "HEAD")


def copy_repo(source: Path, dest: Path) -> Path:
    """A clone of the repository with its tags, for a test that adds commits or tags of its own."""
    subprocess.run(["git", "clone", "--quiet", str(source), str(dest)], check=True, capture_output=True)
    git(dest, "fetch", "--quiet", "--tags", str(source))
    return dest
