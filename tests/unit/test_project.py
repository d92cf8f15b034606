# SPDX-License-Identifier: Apache-2.0
"""What a project's metadata says, read the way its build backend reads it: one test per shape a
real project has (setup.py only, setup.cfg, PEP 621 with each backend, Poetry, version from git)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.errors import ConfigError
from release.plan.project import (
    ProjectFiles,
    VersionSource,
    allows,
    build_backend,
    classifier_versions,
    console_scripts,
    project_name,
    read_project,
    requires_python,
)

SETUP_PY_ONLY = ProjectFiles(setup_py='''
from setuptools import setup

setup(
    name="legacy-app",
    version="2.4.1",
    python_requires=">=3.8",
    entry_points={
        "console_scripts": [
            "legacy-app = legacy_app.cli:main",
            'legacy-admin=legacy_app.admin:main',
        ],
    },
)
''')


def test_a_setup_py_only_project() -> None:
    project = read_project(SETUP_PY_ONLY)
    assert project.name == "legacy-app" and project.backend == "setuptools"
    assert project.version == VersionSource("static", "version= in setup.py")
    assert project.requires_python == ">=3.8"
    assert project.scripts == ("legacy-app", "legacy-admin")


# The shape of a setuptools sdist: setup.cfg metadata, an egg-info, PKG-INFO; setup.py a stub.
SETUP_CFG_SDIST = ProjectFiles(
    pyproject={"build-system": {"requires": ["setuptools>=61", "wheel"],
                                "build-backend": "setuptools.build_meta"}},
    setup_cfg={"metadata": {"name": "cfg_app", "version": "attr: cfg_app.__version__",
                            "classifiers": "\nProgramming Language :: Python :: 3\n"
                                           "Programming Language :: Python :: 3.10\n"
                                           "Programming Language :: Python :: 3.12"},
               "options": {"python_requires": ">=3.10"},
               "options.entry_points": {"console_scripts": "\ncfg-app = cfg_app.__main__:main"}},
    pkg_info={"Name": ["cfg_app"], "Version": ["0.9.0"], "Requires-Python": [">=3.10"]},
    entry_points={"console_scripts": {"cfg-app": "cfg_app.__main__:main"}},
    setup_py="from setuptools import setup\nsetup()\n",
    declared=("cfg_app/__init__.py", "0.9.0"),
)


def test_a_setup_cfg_project_as_its_sdist_has_it() -> None:
    project = read_project(SETUP_CFG_SDIST)
    assert (project.name, project.backend) == ("cfg_app", "setuptools")
    assert project.version == VersionSource("attribute", "cfg_app.__version__ (cfg_app/__init__.py)")
    assert project.requires_python == ">=3.10"
    assert project.classifiers == ("3.10", "3.12")
    assert project.scripts == ("cfg-app",)


def pep621(backend: str, requires: list[str], **project: object) -> dict[str, object]:
    return {"build-system": {"requires": requires, "build-backend": backend},
            "project": {"name": "modern", "requires-python": ">=3.9", **project}}


@pytest.mark.parametrize(("pyproject", "backend", "version"), [
    (pep621("setuptools.build_meta", ["setuptools"], version="1.0.0"), "setuptools",
     VersionSource("static", "[project] version in pyproject.toml")),
    ({**pep621("setuptools.build_meta", ["setuptools"], dynamic=["version"]),
      "tool": {"setuptools": {"dynamic": {"version": {"attr": "modern.about.__version__"}}}}}, "setuptools",
     VersionSource("attribute", "modern.about.__version__ (modern/about/__init__.py)")),
    ({**pep621("setuptools.build_meta", ["setuptools"], dynamic=["version"]),
      "tool": {"setuptools": {"dynamic": {"version": {"file": "VERSION"}}}}}, "setuptools",
     VersionSource("file", "the file VERSION")),
    ({**pep621("setuptools.build_meta", ["setuptools>=64", "setuptools_scm>=8"], dynamic=["version"]),
      "tool": {"setuptools_scm": {}}}, "setuptools", VersionSource("scm", "git tags (setuptools-scm)")),
    (pep621("setuptools.build_meta", ["setuptools", "setuptools-scm"], dynamic=["version"]), "setuptools",
     VersionSource("scm", "git tags (setuptools-scm)")),
    ({**pep621("hatchling.build", ["hatchling"], dynamic=["version"]),
      "tool": {"hatch": {"version": {"path": "src/modern/__about__.py"}}}}, "hatchling",
     VersionSource("attribute", "__version__ in src/modern/__about__.py")),
    ({**pep621("hatchling.build", ["hatchling", "hatch-vcs"], dynamic=["version"]),
      "tool": {"hatch": {"version": {"source": "vcs"}}}}, "hatchling",
     VersionSource("scm", "git tags (hatch-vcs)")),
    (pep621("flit_core.buildapi", ["flit_core >=3.4,<4"], dynamic=["version", "description"]), "flit",
     VersionSource("attribute", "__version__ in the module modern")),
    ({**pep621("flit_core.buildapi", ["flit_core"], dynamic=["version"]),
      "tool": {"flit": {"module": {"name": "modern_impl"}}}}, "flit",
     VersionSource("attribute", "__version__ in the module modern_impl")),
    ({**pep621("pdm.backend", ["pdm-backend"], dynamic=["version"]),
      "tool": {"pdm": {"version": {"source": "scm"}}}}, "pdm-backend",
     VersionSource("scm", "git tags (pdm-backend)")),
    ({**pep621("pdm.backend", ["pdm-backend"], dynamic=["version"]),
      "tool": {"pdm": {"version": {"source": "file", "path": "src/modern/__init__.py"}}}}, "pdm-backend",
     VersionSource("attribute", "__version__ in src/modern/__init__.py")),
    (pep621("maturin", ["maturin>=1,<2"], version="0.3.0"), "maturin",
     VersionSource("static", "[project] version in pyproject.toml")),
    (pep621("custom_backend.api", ["custom-backend"], version="1"), "custom_backend.api",
     VersionSource("static", "[project] version in pyproject.toml")),
])
def test_each_backends_way_to_the_version(pyproject: dict[str, object], backend: str,
                                          version: VersionSource) -> None:
    project = read_project(ProjectFiles(pyproject=pyproject))
    assert (project.name, project.backend, project.version) == ("modern", backend, version)
    assert project.version.from_tags == (version.kind == "scm")
    assert project.compiled == (backend == "maturin")


POETRY = ProjectFiles(pyproject={
    "build-system": {"requires": ["poetry-core>=1.0.0"], "build-backend": "poetry.core.masonry.api"},
    "tool": {"poetry": {
        "name": "poem", "version": "5.13.2",
        "classifiers": ["Programming Language :: Python :: 3.8", "Programming Language :: Python :: 3.12"],
        "dependencies": {"python": "^3.8.0"},
        "scripts": {"poem": "poem.main:main", "poem-identify": "poem.main:identify"},
    }},
})


def test_a_poetry_project() -> None:
    project = read_project(POETRY)
    assert (project.name, project.backend) == ("poem", "poetry-core")
    assert project.version == VersionSource("static", "[tool.poetry] version in pyproject.toml")
    assert project.requires_python == ">=3.8.0,<4"
    assert project.scripts == ("poem", "poem-identify")
    assert project.classifiers == ("3.8", "3.12")


def test_poetry_with_dynamic_versioning_takes_the_version_from_tags() -> None:
    pyproject = {**POETRY.pyproject, "tool": {**POETRY.pyproject["tool"],
                                              "poetry-dynamic-versioning": {"enable": True}}}
    assert read_project(ProjectFiles(pyproject=pyproject)).version.kind == "scm"


@pytest.mark.parametrize(("constraint", "spec"), [
    ("^3.8", ">=3.8,<4"), ("^3.8.1", ">=3.8.1,<4"), ("^0.9", ">=0.9,<0.10"), ("~3.9", ">=3.9,<3.10"),
    (">=3.8,<3.13", ">=3.8,<3.13"), (">=3.9 <3.14", ">=3.9,<3.14"), ("3.11.*", "==3.11.*"), ("*", ""),
    ("~=3.10", "~=3.10"),
])
def test_poetry_python_constraints_as_pep_440(constraint: str, spec: str) -> None:
    pyproject = {"tool": {"poetry": {"name": "p", "dependencies": {"python": constraint}}}}
    assert requires_python(ProjectFiles(pyproject=pyproject)) == spec


def test_where_the_name_comes_from_in_order() -> None:
    both = ProjectFiles(pyproject={"project": {"name": "a"}}, setup_cfg={"metadata": {"name": "b"}})
    assert project_name(both) == "a"
    assert project_name(ProjectFiles(setup_cfg={"metadata": {"name": "b"}}, pkg_info={"Name": ["c"]})) == "b"
    assert project_name(ProjectFiles(pkg_info={"Name": ["c"]}, setup_py='setup(name="d")')) == "c"
    assert project_name(ProjectFiles(setup_py='setup(\n    name = "d",\n)')) == "d"
    with pytest.raises(ConfigError, match="cannot find the project's name"):
        project_name(ProjectFiles(setup_py="setup(name=NAME)"))


def test_flit_names_the_file_the_pipeline_found_in_its_module() -> None:
    pyproject = pep621("flit_core.buildapi", ["flit_core"], dynamic=["version"])
    found = read_project(ProjectFiles(pyproject=pyproject, declared=("modern/__init__.py", "1.0")))
    assert found.version == VersionSource("attribute", "__version__ in modern/__init__.py")
    elsewhere = read_project(ProjectFiles(pyproject=pyproject, declared=("other/__init__.py", "1.0")))
    assert elsewhere.version == VersionSource("attribute", "__version__ in the module modern")


def test_a_version_only_the_pipeline_finds() -> None:
    files = ProjectFiles(pyproject={"project": {"name": "x", "dynamic": ["version"]}},
                         declared=("x/_version.py", "1.0"))
    assert read_project(files).version == VersionSource("attribute", "__version__ in x/_version.py")
    assert read_project(ProjectFiles(pyproject={"project": {"name": "x"}})).version.kind == "unknown"


def test_a_setup_cfg_version_as_text_or_file() -> None:
    static = ProjectFiles(setup_cfg={"metadata": {"name": "x", "version": "1.2"}})
    assert read_project(static).version == VersionSource("static", "[metadata] version in setup.cfg")
    from_file = ProjectFiles(setup_cfg={"metadata": {"name": "x", "version": "file: src/x/VERSION"}})
    assert read_project(from_file).version == VersionSource("file", "the file src/x/VERSION")


def test_scripts_from_the_first_place_that_has_any() -> None:
    both = ProjectFiles(pyproject={"project": {"name": "x", "scripts": {"x-cli": "x:main"}}},
                        entry_points={"console_scripts": {"old": "x:old"}})
    assert console_scripts(both) == ("x-cli",)
    assert console_scripts(ProjectFiles(pyproject={"tool": {"flit": {"scripts": {"f": "f:main"}}}})) == ("f",)
    assert console_scripts(ProjectFiles()) == ()
    gui_only = ProjectFiles(pyproject={"project": {"name": "x", "gui-scripts": {"x-gui": "x:gui"}}})
    assert console_scripts(gui_only) == ()


def test_classifiers_list_minor_versions_only() -> None:
    files = ProjectFiles(pkg_info={"Classifier": ["Programming Language :: Python :: 3",
                                                  "Programming Language :: Python :: 3 :: Only",
                                                  "Programming Language :: Python :: 3.9",
                                                  "Programming Language :: Python :: 3.13",
                                                  "Programming Language :: Python :: 3.10"]})
    assert classifier_versions(files) == ("3.9", "3.10", "3.13")


def test_no_build_system_is_setuptools() -> None:
    assert build_backend(ProjectFiles()) == "setuptools"
    no_backend = ProjectFiles(pyproject={"build-system": {"requires": ["setuptools"]}})
    assert build_backend(no_backend) == "setuptools"


@pytest.mark.parametrize(("spec", "flavour", "allowed"), [
    ("", "3.9", True), (">=3.8", "3.14", True), (">=3.10", "3.9", False), ("<3.12", "3.13", False),
    ("<3.12", "3.11", True), (">=3.9.2", "3.9", True), ("!=3.11.*", "3.11", False),
    ("~=3.11.0", "3.11", True), ("~=3.11.0", "3.13", False), (">=3.8,<4", "3.14", True),
    ("==3.13.*", "3.13", True), (">3.9", "3.9", True),
])
def test_a_flavour_is_allowed_when_some_release_of_it_is(spec: str, flavour: str, allowed: bool) -> None:
    assert allows(spec, flavour) is allowed


def test_an_invalid_requires_python_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^Requires-Python '>= three' is not a valid version specifier"):
        allows(">= three", "3.11")


@given(st.integers(9, 14), st.integers(9, 14))
def test_a_lower_bound_allows_exactly_the_flavours_from_it(bound: int, minor: int) -> None:
    assert allows(f">=3.{bound}", f"3.{minor}") is (minor >= bound)
    assert allows(f"<3.{bound}", f"3.{minor}") is (minor < bound)
