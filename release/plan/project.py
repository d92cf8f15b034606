# SPDX-License-Identifier: Apache-2.0
"""What a Python project's own metadata says about it, for `release-pipeline init`. Pure.

The command reads the files (pyproject.toml, setup.cfg, an sdist's PKG-INFO and egg-info
entry points, setup.py's text) into `ProjectFiles`; this module reads from them the name, the
build backend, where the version comes from, `Requires-Python`, the classifiers' Python versions
and the console scripts, in the order a build backend would look.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from release.errors import ConfigError

BACKENDS = {  # build-backend -> what it is called
    "setuptools.build_meta": "setuptools",
    "setuptools.build_meta:__legacy__": "setuptools",
    "hatchling.build": "hatchling",
    "flit_core.buildapi": "flit",
    "poetry.core.masonry.api": "poetry-core",
    "pdm.backend": "pdm-backend",
    "pdm.pep517.api": "pdm-backend",
    "maturin": "maturin",
    "scikit_build_core.build": "scikit-build-core",
    "mesonpy": "meson-python",
}
COMPILED_BACKENDS = frozenset({"maturin", "scikit-build-core", "meson-python"})
# Build requirements (and their [tool.X] tables) that take the version from git tags.
SCM_REQUIREMENTS = ("setuptools-scm", "hatch-vcs", "poetry-dynamic-versioning", "versioningit", "dunamai",
                    "setuptools-git-versioning")
SCM_TABLES = ("setuptools_scm", "setuptools-scm", "hatch-vcs", "poetry-dynamic-versioning", "versioningit",
              "setuptools-git-versioning")
_SETUP_PY_NAME = re.compile(r"\bname\s*=\s*['\"]([A-Za-z0-9._-]+)['\"]")
_SETUP_PY_REQUIRES = re.compile(r"\bpython_requires\s*=\s*['\"]([^'\"]+)['\"]")
_SETUP_PY_VERSION = re.compile(r"\bversion\s*=\s*['\"]([^'\"]+)['\"]")
_SETUP_PY_SCRIPTS = re.compile(r"console_scripts['\"]?\s*[:=]\s*\[(.*?)\]", re.S)
_ENTRY = re.compile(r"['\"]\s*([A-Za-z0-9._-]+)\s*=\s*[A-Za-z0-9_.]+\s*:\s*[A-Za-z0-9_.]+\s*['\"]")
_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")


@dataclass(frozen=True)
class ProjectFiles:
    """The project's metadata files as the command read them ({} or "" for a file that is absent)."""

    pyproject: Mapping[str, Any] = field(default_factory=dict)
    setup_cfg: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # section -> option -> value
    pkg_info: Mapping[str, Sequence[str]] = field(default_factory=dict)  # header -> values (an sdist's)
    entry_points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # an egg-info's
    setup_py: str = ""
    declared: tuple[str, str] | None = None  # (file, version) where the pipeline's build finds the version


@dataclass(frozen=True)
class VersionSource:
    kind: str  # static | attribute | file | scm | unknown
    where: str  # in the release manager's words: "[project] version in pyproject.toml"

    @property
    def from_tags(self) -> bool:
        return self.kind == "scm"


@dataclass(frozen=True)
class Project:
    name: str
    backend: str  # setuptools, hatchling, flit, poetry-core, ... or the build-backend as written
    version: VersionSource
    requires_python: str  # "" when the project says nothing
    classifiers: tuple[str, ...]  # the `Programming Language :: Python :: 3.X` versions it lists
    scripts: tuple[str, ...]  # console scripts, in the order declared

    @property
    def compiled(self) -> bool:
        return self.backend in COMPILED_BACKENDS


def _table(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    for key in keys:
        value = data.get(key, {}) if isinstance(data, Mapping) else {}
        data = value if isinstance(value, Mapping) else {}
    return data


def _first(files: ProjectFiles, header: str) -> str:
    values = files.pkg_info.get(header) or ()
    return str(values[0]).strip() if values else ""


def project_name(files: ProjectFiles) -> str:
    name = (_table(files.pyproject, "project").get("name")
            or _table(files.pyproject, "tool", "poetry").get("name")
            or files.setup_cfg.get("metadata", {}).get("name") or _first(files, "Name"))
    if not name and (found := _SETUP_PY_NAME.search(files.setup_py)):
        name = found.group(1)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("cannot find the project's name: no [project] name in pyproject.toml, no name in "
                          "setup.cfg or PKG-INFO; run release-pipeline init in the project's root folder")
    return name.strip()


def build_backend(files: ProjectFiles) -> str:
    backend = str(_table(files.pyproject, "build-system").get("build-backend") or "")
    if not backend:
        return "setuptools"  # pip's default for a project without one (setup.py)
    return BACKENDS.get(backend, backend)


def _requirements(files: ProjectFiles) -> list[str]:
    requires = _table(files.pyproject, "build-system").get("requires") or []
    return [canonicalize_name(re.split(r"[\s<>=!~;\[]", str(r), maxsplit=1)[0]) for r in requires]


def _attribute_file(attribute: str) -> str:
    """`pkg.sub.__version__` -> `pkg/sub/__init__.py` (where such an attribute usually lives)."""
    module = attribute.rsplit(".", 1)[0]
    return module.replace(".", "/") + "/__init__.py"


def version_source(files: ProjectFiles, backend: str) -> VersionSource:
    """Where the project's version comes from, as its build backend reads it."""
    project = _table(files.pyproject, "project")
    if isinstance(project.get("version"), str):
        return VersionSource("static", "[project] version in pyproject.toml")
    described = _version_table(files, backend)
    if described:
        return described
    scm = {canonicalize_name(s) for s in SCM_REQUIREMENTS}
    tool = next((r for r in _requirements(files) if r in scm), "")
    if any(_table(files.pyproject, "tool", name) for name in SCM_TABLES) or (
            "version" in (project.get("dynamic") or []) and tool):
        return VersionSource("scm", f"git tags ({tool or 'setuptools-scm'})")
    poetry = _table(files.pyproject, "tool", "poetry")
    if isinstance(poetry.get("version"), str):
        return VersionSource("static", "[tool.poetry] version in pyproject.toml")
    cfg = files.setup_cfg.get("metadata", {}).get("version", "").strip()
    if cfg.startswith("attr:"):
        attribute = cfg.split(":", 1)[1].strip()
        return VersionSource("attribute", f"{attribute} ({_attribute_file(attribute)})")
    if cfg.startswith("file:"):
        return VersionSource("file", f"the file {cfg.split(':', 1)[1].strip()}")
    if cfg:
        return VersionSource("static", "[metadata] version in setup.cfg")
    if _SETUP_PY_VERSION.search(files.setup_py):
        return VersionSource("static", "version= in setup.py")
    if files.declared:
        return VersionSource("attribute", f"__version__ in {files.declared[0]}")
    return VersionSource("unknown", "nowhere the pipeline or the build backend's settings say")


def _version_table(files: ProjectFiles, backend: str) -> VersionSource | None:
    """The backends' own ways to read the version from a file or from git."""
    if backend == "hatchling":
        hatch = _table(files.pyproject, "tool", "hatch", "version")
        if hatch.get("source") == "vcs":
            return VersionSource("scm", "git tags (hatch-vcs)")
        if hatch.get("path"):
            return VersionSource("attribute", f"__version__ in {hatch['path']}")
    if backend == "setuptools":
        dynamic = _table(files.pyproject, "tool", "setuptools", "dynamic", "version")
        if dynamic.get("attr"):
            return VersionSource("attribute", f"{dynamic['attr']} ({_attribute_file(str(dynamic['attr']))})")
        if dynamic.get("file"):
            return VersionSource("file", f"the file {dynamic['file']}")
    if backend == "pdm-backend":
        pdm = _table(files.pyproject, "tool", "pdm", "version")
        if pdm.get("source") == "scm":
            return VersionSource("scm", "git tags (pdm-backend)")
        if pdm.get("path"):
            return VersionSource("attribute", f"__version__ in {pdm['path']}")
    if backend == "flit" and "version" in (_table(files.pyproject, "project").get("dynamic") or []):
        module = _table(files.pyproject, "tool", "flit", "module").get("name") or \
            canonicalize_name(project_name(files)).replace("-", "_")
        if files.declared and files.declared[0].split("/")[-2:][0] in {module, f"{module}.py"}:
            return VersionSource("attribute", f"__version__ in {files.declared[0]}")
        return VersionSource("attribute", f"__version__ in the module {module}")
    return None


def requires_python(files: ProjectFiles) -> str:
    found = (_table(files.pyproject, "project").get("requires-python")
             or files.setup_cfg.get("options", {}).get("python_requires") or _first(files, "Requires-Python"))
    if not found:
        poetry_python = _table(files.pyproject, "tool", "poetry", "dependencies").get("python")
        found = _poetry_constraint(poetry_python) if isinstance(poetry_python, str) else ""
    if not found and (match := _SETUP_PY_REQUIRES.search(files.setup_py)):
        found = match.group(1)
    return str(found or "").strip()


def _poetry_constraint(constraint: str) -> str:
    """Poetry's `^3.8`, `~3.8`, `3.8.*` or `>=3.8,<4` as a PEP 440 specifier set."""
    parts = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!^~])", constraint.strip()):
        if part.startswith("^"):
            release = [int(p) for p in part[1:].split(".") if p.isdigit()]
            upper = [release[0] + 1] if release[0] else [0, release[1] + 1 if len(release) > 1 else 1]
            parts += [f">={part[1:]}", f"<{'.'.join(map(str, upper))}"]
        elif part.startswith("~") and not part.startswith("~="):
            release = [int(p) for p in part[1:].split(".") if p.isdigit()]
            upper = [release[0], release[1] + 1] if len(release) > 1 else [release[0] + 1]
            parts += [f">={part[1:]}", f"<{'.'.join(map(str, upper))}"]
        elif part and part != "*":
            parts.append(part if part[0] in "<>=!~" else f"=={part}")
    return ",".join(parts)


def allows(spec: str, flavour: str) -> bool:
    """Whether some release of Python `flavour` (3.11.0 ... 3.11.99) satisfies `spec`."""
    if not spec:
        return True
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        raise ConfigError(f"Requires-Python {spec!r} is not a valid version specifier; fix it in the "
                          "project's metadata") from None
    return any(specifiers.contains(Version(f"{flavour}.{patch}"), prereleases=True) for patch in (0, 99))


def classifier_versions(files: ProjectFiles) -> tuple[str, ...]:
    listed = [*(_table(files.pyproject, "project").get("classifiers") or []),
              *(_table(files.pyproject, "tool", "poetry").get("classifiers") or []),
              *files.setup_cfg.get("metadata", {}).get("classifiers", "").splitlines(),
              *files.pkg_info.get("Classifier", ())]
    found = {m.group(1) for c in listed if (m := _CLASSIFIER.match(str(c).strip()))}
    return tuple(sorted(found, key=lambda v: tuple(int(p) for p in v.split("."))))


def console_scripts(files: ProjectFiles) -> tuple[str, ...]:
    """Every console script, from the first place that declares any."""
    places: list[Sequence[str]] = [
        list(_table(files.pyproject, "project", "scripts")),
        list(_table(files.pyproject, "tool", "poetry", "scripts")),
        list(_table(files.pyproject, "tool", "flit", "scripts")),
        [line.split("=", 1)[0].strip()
         for line in files.setup_cfg.get("options.entry_points", {}).get("console_scripts", "").splitlines()
         if "=" in line],
        list(files.entry_points.get("console_scripts", {})),
    ]
    if (found := _SETUP_PY_SCRIPTS.search(files.setup_py)):
        places.append(_ENTRY.findall(found.group(1)))
    return tuple(next((p for p in places if p), ()))


def read_project(files: ProjectFiles) -> Project:
    backend = build_backend(files)
    return Project(name=project_name(files), backend=backend, version=version_source(files, backend),
                   requires_python=requires_python(files), classifiers=classifier_versions(files),
                   scripts=console_scripts(files))
