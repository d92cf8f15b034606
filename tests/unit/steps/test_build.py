# SPDX-License-Identifier: Apache-2.0
"""The pure parts of the build: where a tree declares its version, reproducible tarballs, file kinds,
and what a wave's rc-numbered packages rewrite (with a builder that records instead of building)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from release.errors import RefusedError
from release.plan.release import artefact_kind
from release.plan.wave import plan_wave
from release.steps.build import find_declared_version, rc_numbered_packages, write_tarball
from tests.unit.test_wave import CORE, DATE, core, provider, wave

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.mark.parametrize(("files", "expected"), [
    ({"pyproject.toml": '[project]\nname = "x"\nversion = "2.0.0"\n[tool.x]\nversion = "9"\n',
      "x/__init__.py": '__version__ = "1.0.0"\n'}, ("pyproject.toml", "2.0.0")),
    ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["version"]\n',
      "src/x/__init__.py": "", "src/x/version.py": "version = '3.1.4'\n"}, ("src/x/version.py", "3.1.4")),
    # hatchling's dynamic version, from the file [tool.hatch.version] names (Airflow's task SDK)
    ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["version"]\n[tool.hatch.version]\n'
                        'path = "src/x/sdk/__init__.py"\n',
      "src/y/__init__.py": '__version__ = "0.0.1"\n', "src/x/sdk/__init__.py": '__version__ = "1.3.3"\n'},
     ("src/x/sdk/__init__.py", "1.3.3")),
    ({"apache_airflow/__init__.py": "", "airflow/__init__.py": '__version__: str = "2.7.0"\n'},
     ("airflow/__init__.py", "2.7.0")),
    ({"setup.py": "setup(name='x', version='0.9.1')\n"}, ("setup.py", "0.9.1")),
    ({"setup.py": "setup(name='x')\n"}, None),
])
def test_find_declared_version(tmp_path: Path, files: dict[str, str],
                               expected: tuple[str, str] | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = find_declared_version(tmp_path, "x")
    assert (found and (found.file, found.value)) == expected
    if found:
        found.rewrite(tmp_path, "9.9.9rc1")
        again = find_declared_version(tmp_path, "x")
        assert again is not None and again.value == "9.9.9rc1"


def test_write_tarball_ignores_owners_times_and_umask(tmp_path: Path) -> None:
    trees = []
    for index, (mode, mtime) in enumerate([(0o600, 1_000_000), (0o664, 2_000_000)]):
        tree = tmp_path / f"tree{index}"
        (tree / "pkg").mkdir(parents=True)
        for path, text in [(tree / "pkg" / "a.py", "a"), (tree / "b.txt", "b"), (tree / "run.sh", "#!")]:
            path.write_text(text)
            path.chmod(0o775 if path.name == "run.sh" else mode)
            os.utime(path, (mtime, mtime))
        (tree / "link").symlink_to("b.txt")
        trees.append(write_tarball(tree, tmp_path / f"t{index}.tar.gz", top="x-1.0", epoch=1_700_000_000))
    assert trees[0].read_bytes() == trees[1].read_bytes()
    assert gzip.decompress(trees[0].read_bytes())  # a plain gzip stream
    with tarfile.open(trees[0]) as archive:
        modes = {m.name: (m.mode, m.type) for m in archive.getmembers()}
    assert modes["x-1.0/run.sh"][0] == 0o755 and modes["x-1.0/b.txt"][0] == 0o644
    assert modes["x-1.0/link"][1] == tarfile.SYMTYPE


def test_write_tarball_bytes_are_those_of_every_earlier_release(tmp_path: Path) -> None:
    """The tar stream of a fixed tree, pinned: reading files in pieces changed no byte of it."""
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "a.py").write_text("print('a')\n")
    (tree / "b.txt").write_bytes(bytes(range(256)) * 1000)
    (tree / "run.sh").write_text("#!/bin/sh\n")
    (tree / "run.sh").chmod(0o755)
    (tree / "empty").write_bytes(b"")
    (tree / "link").symlink_to("b.txt")
    tarball = write_tarball(tree, tmp_path / "x.tar.gz", top="x-1.0", epoch=1_700_000_000)
    tar = gzip.decompress(tarball.read_bytes())
    expected = "24e56b7ce73533d8a8334dc408376f53c1435f99a25266549db8c66ac7f80566"
    assert hashlib.sha256(tar).hexdigest() == expected


@pytest.mark.parametrize(("filename", "kind"), [
    ("sample-app-1.10.6-source.tar.gz", "source"),
    ("sample_app-1.10.6.tar.gz", "sdist"),
    ("sample_app-1.10.6rc1-py3-none-any.whl", "wheel"),
    ("sample_app-1.10.6.tar.gz.asc", ""),
    ("release.json", ""),
])
def test_artefact_kind_by_file_name(filename: str, kind: str) -> None:
    assert artefact_kind(filename) == kind


@dataclass
class RecordingBuilder:
    """Stands in for PackageBuilder: records each build's version and SOURCE_DATE_EPOCH as the tree says
    them at that moment, and makes the two files a flit build of that version would."""

    epoch: int = 1
    built: list[tuple[str, int | None]] = field(default_factory=list)

    def build(self, tree: Path, out: Path, *, epoch: int | None = None) -> list[Path]:
        declared = find_declared_version(tree, "")
        assert declared is not None
        self.built.append((declared.value, epoch))
        out.mkdir(parents=True, exist_ok=True)
        files = [out / f"apache_airflow_providers_http-{declared.value}{end}"
                 for end in (".tar.gz", "-py3-none-any.whl")]
        for path in files:
            path.write_text(declared.value)
        return files


def provider_tree(root: Path, pyproject: str = "6.3.1") -> Path:
    """Airflow's http provider as its tree declares 6.3.1: pyproject, __version__ and provider.yaml."""
    folder = root / "providers" / "http"
    (folder / "src/airflow/providers/http").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        f'[build-system]\nbuild-backend = "flit_core.buildapi"\n\n[project]\n'
        f'name = "apache-airflow-providers-http"\nversion = "{pyproject}"\n')
    (folder / "src/airflow/providers/http/__init__.py").write_text('__version__ = "6.3.1"\n')
    (folder / "provider.yaml").write_text(
        "package-name: apache-airflow-providers-http\nversions:\n  - 6.3.1\n")
    return folder


def test_a_waves_rc_numbered_packages_are_built_with_the_version_rewritten_where_the_backend_reads_it(
        tmp_path: Path) -> None:
    folder = provider_tree(tmp_path / "tree")
    kept = ("src/airflow/providers/http/__init__.py", "provider.yaml")
    before = {p: (folder / p).read_text() for p in kept}
    plan = wave(provider("http", "6.3.1", commits=2))
    builder = RecordingBuilder()
    made = rc_numbered_packages(tmp_path / "tree", plan, tmp_path / "made", builder, lambda line: None)  # type: ignore[arg-type]
    assert [p.name for p in made] == list(plan.entries[0].index_files)
    assert builder.built == [("6.3.1rc1", plan.entries[0].source_date_epoch)]  # the provider's own epoch
    assert 'version = "6.3.1rc1"' in (folder / "pyproject.toml").read_text()
    assert {p: (folder / p).read_text() for p in before} == before  # __version__ and versions: stay


def test_a_wave_whose_tree_declares_another_version_where_the_backend_reads_it_is_refused(
        tmp_path: Path) -> None:
    provider_tree(tmp_path / "tree", pyproject="6.3.0")  # provider.yaml says 6.3.1, pyproject was not bumped
    builder = RecordingBuilder()
    with pytest.raises(RefusedError, match=r"^apache-airflow-providers-http declares 6\.3\.0 in "
                                           r"pyproject\.toml where its build backend reads it, the wave "
                                           r"releases 6\.3\.1: "):
        rc_numbered_packages(tmp_path / "tree", wave(provider("http", "6.3.1", commits=2)), tmp_path / "made",
                     builder, lambda line: None)  # type: ignore[arg-type]
    assert builder.built == []


@dataclass
class MetadataBuilder:
    """Stands in for a backend with static metadata: an sdist (PKG-INFO) and a wheel (METADATA)
    named and versioned as the tree declares, requiring what its pyproject's `[project] dependencies`
    say (or `requires`, for a backend that takes them from elsewhere)."""

    epoch: int = 1
    requires: list[str] | None = None
    built: list[tuple[str, str]] = field(default_factory=list)

    def build(self, tree: Path, out: Path, *, epoch: int | None = None) -> list[Path]:
        project = tomllib.loads((tree / "pyproject.toml").read_text())["project"]
        declared = find_declared_version(tree, project["name"])
        assert declared is not None
        name, version = project["name"].replace("-", "_"), declared.value
        self.built.append((project["name"], version))
        headers = f"Metadata-Version: 2.4\nName: {project['name']}\nVersion: {version}\n" + "".join(
            f"Requires-Dist: {r}\n" for r in (self.requires if self.requires is not None
                                               else project.get("dependencies", [])))
        out.mkdir(parents=True, exist_ok=True)
        wheel, sdist = out / f"{name}-{version}-py3-none-any.whl", out / f"{name}-{version}.tar.gz"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"{name}-{version}.dist-info/METADATA", headers)
        with tarfile.open(sdist, "w:gz") as archive:
            info = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
            info.size = len(headers.encode())
            archive.addfile(info, io.BytesIO(headers.encode()))
        return [sdist, wheel]


def core_tree(root: Path) -> Path:
    """Airflow's core train as its tree declares 3.3.3 and the task SDK 1.3.3, pinning each other as
    Airflow's pyproject files do (the task SDK's version dynamic, from its `__init__.py`, as hatch
    reads it)."""
    files = {
        "pyproject.toml": '[project]\nname = "apache-airflow"\nversion = "3.3.3"\ndependencies = [\n'
                          '    "apache-airflow-task-sdk==1.3.3",\n    "apache-airflow-core==3.3.3",\n]\n'
                          '[project.optional-dependencies]\n"all" = ["apache-airflow-core[all]"]\n',
        "airflow-core/pyproject.toml": '[project]\nname = "apache-airflow-core"\nversion = "3.3.3"\n'
                                       'dependencies = [\n    "tenacity>=8.3.0",\n'
                                       '    "apache-airflow-task-sdk==1.3.3",\n]\n',
        "airflow-core/src/airflow/__init__.py": '__version__ = "3.3.3"\n',
        "task-sdk/pyproject.toml": '[project]\nname = "apache-airflow-task-sdk"\ndynamic = ["version"]\n'
                                   'dependencies = [\n    "apache-airflow-core<3.4.0,>=3.3.0",\n]\n\n'
                                   '[tool.hatch.version]\npath = "src/airflow/sdk/__init__.py"\n',
        "task-sdk/src/airflow/sdk/__init__.py": '__version__ = "1.3.3"\n',
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def requires_of(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith("/METADATA"))
        return [line.split(": ", 1)[1] for line in archive.read(meta).decode().splitlines()
                if line.startswith("Requires-Dist: ")]


def test_a_versioned_waves_rc_numbered_packages_pin_each_others_candidates(tmp_path: Path) -> None:
    tree = core_tree(tmp_path / "tree")
    plan = plan_wave(CORE, core(), date=DATE, project="apache-airflow")
    builder, said = MetadataBuilder(), []
    made = rc_numbered_packages(tree, plan, tmp_path / "made", builder, said.append)  # type: ignore[arg-type]
    assert [p.name for p in made] == [f for e in plan.entries for f in e.index_files]
    assert builder.built == [("apache-airflow", "3.3.3rc1"), ("apache-airflow-core", "3.3.3rc1"),
                             ("apache-airflow-task-sdk", "1.3.3rc1")]
    wheels = {p.name.split("-")[0]: requires_of(p) for p in made if p.name.endswith(".whl")}
    assert wheels == {"apache_airflow": ["apache-airflow-task-sdk==1.3.3rc1",
                                         "apache-airflow-core==3.3.3rc1"],
                      "apache_airflow_core": ["tenacity>=8.3.0", "apache-airflow-task-sdk==1.3.3rc1"],
                      "apache_airflow_task_sdk": ["apache-airflow-core<3.4.0,>=3.3.0"]}  # admits 3.3.3rc1
    assert '"all" = ["apache-airflow-core[all]"]' in (tree / "pyproject.toml").read_text()
    # the task SDK's version where hatch reads it; core's __version__ is not read by its backend: stays
    assert (tree / "task-sdk/src/airflow/sdk/__init__.py").read_text() == '__version__ = "1.3.3rc1"\n'
    assert (tree / "airflow-core/src/airflow/__init__.py").read_text() == '__version__ = "3.3.3"\n'
    assert ("apache-airflow 3.3.3rc1 pins apache-airflow-task-sdk==1.3.3rc1, apache-airflow-core==3.3.3rc1"
            in said)


def test_a_versioned_wave_whose_backend_keeps_the_final_pins_is_refused(tmp_path: Path) -> None:
    tree = core_tree(tmp_path / "tree")
    plan = plan_wave(CORE, core(), date=DATE, project="apache-airflow")
    builder = MetadataBuilder(requires=["apache-airflow-core==3.3.3"])  # not read from [project]
    with pytest.raises(RefusedError, match=r"^apache_airflow-3\.3\.3rc1\.tar\.gz requires apache-airflow-core"
                                           r"==3\.3\.3, which its train's candidates do not meet: "):
        rc_numbered_packages(tree, plan, tmp_path / "made", builder, lambda line: None)  # type: ignore[arg-type]
