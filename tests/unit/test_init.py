# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline init` as a plan: what it writes into a project of each shape, and what it says is
left to decide. Every [tool.release] it writes is read back by the config parser."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.config import ReleaseConfig, parse_config
from release.errors import ConfigError, RefusedError
from release.plan.init import (
    TASKS_LINE,
    Folder,
    InitOptions,
    InitPlan,
    app_command_of,
    plan_init,
    with_release_table,
)
from release.plan.project import Project, ProjectFiles, VersionSource

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FLAVOURS = ("3.9", "3.11", "3.13", "3.14")
OPTIONS = InitOptions(flavours=FLAVOURS)

HATCH_APP = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "webthing"
version = "2.1.0"
requires-python = ">=3.10"
classifiers = ["Programming Language :: Python :: 3.10", "Programming Language :: Python :: 3.11",
               "Programming Language :: Python :: 3.12", "Programming Language :: Python :: 3.13"]

[project.scripts]
webthing = "webthing.cli:main"

[tool.ruff]
line-length = 100
"""


def plan(pyproject: str | None = HATCH_APP, *, options: InitOptions = OPTIONS,
         declared: tuple[str, str] | None = None, **folder: Any) -> InitPlan:
    data = tomllib.loads(pyproject) if pyproject else {}
    files = ProjectFiles(pyproject=data, declared=declared, **folder.pop("files_extra", {}))
    return plan_init(files, Folder(pyproject=pyproject, **folder), options)


def written(result: InitPlan, path: str) -> str:
    return next(w.text for w in result.writes if w.path == path)


def config_of(result: InitPlan) -> ReleaseConfig:
    return parse_config(Path("/p"), tomllib.loads(written(result, "pyproject.toml"))["tool"]["release"])


def test_a_hatchling_web_application() -> None:
    result = plan(files=frozenset({"CHANGES.md", "Dockerfile", "README.md"}),
                  texts={"CHANGES.md": "# Changes\n\n## 2.1.0\n\n- Faster.\n"}, declared=None)
    config = config_of(result)
    assert config.name == "webthing" and config.vote == "none" and not config.checks_sources
    assert config.python == ("3.11", "3.13", "3.14") and config.default_python == "3.11"
    assert result.left_out == (("3.9", "Requires-Python >=3.10 excludes it"),)
    assert config.app_command == ("webthing", "--version")
    smoke = [(c.command, c.expect) for c in config.smoke_commands]
    assert smoke == [(("webthing", "--version"), "{version}")]
    assert config.changelog == "CHANGES.md"
    assert config.base_image == "{registry}/sandbox/python:{python}"
    assert config.registry == config.index == config.svn_dev == config.signing_key == "sandbox"
    assert config.mailing_list == ""
    assert result.found[0] == ("webthing: built with hatchling; version from [project] version in "
                               "pyproject.toml")
    assert any(line.startswith("Python 3.14: allowed by Requires-Python but not among its classifiers (3.10, "
                               "3.11, 3.12, 3.13)") for line in result.decide)
    assert any("if webthing serves HTTP, add health-check" in line and "expose = [PORT]" in line
               for line in result.decide)
    assert config.dockerfile == ""  # its own Dockerfile is used only when named: the shipped one builds
    assert any(line.startswith("Dockerfile: the images are built from the Dockerfile release-pipeline ships; "
                               'to build them from the project\'s own, set dockerfile = "Dockerfile"')
               for line in result.decide)


def test_the_other_tables_are_kept_and_the_release_table_appended() -> None:
    result = plan(declared=("pyproject.toml", "2.1.0"))
    text = written(result, "pyproject.toml")
    assert text.startswith(HATCH_APP.rstrip("\n") + "\n\n[tool.release]\n")
    data = tomllib.loads(text)
    assert data["tool"]["ruff"] == {"line-length": 100} and data["project"]["name"] == "webthing"
    assert [w.action for w in result.writes if w.path == "pyproject.toml"] == ["append"]


def test_tasks_py_and_gitignore_are_written_when_missing() -> None:
    result = plan(gitignore="*.pyc\n/dist\n")
    assert written(result, "tasks.py") == TASKS_LINE
    assert TASKS_LINE.count("\n") == 1
    assert written(result, ".gitignore") == "*.pyc\n/dist\n# what release-pipeline writes\n.release/\n"
    no_newline = plan(gitignore="*.pyc")
    assert written(no_newline, ".gitignore") == "*.pyc\n# what release-pipeline writes\n.release/\ndist/\n"
    absent = plan()
    assert [(w.path, w.action) for w in absent.writes] == [("pyproject.toml", "append"),
                                                           ("tasks.py", "create"), (".gitignore", "create")]


def test_nothing_is_written_that_is_there_already() -> None:
    result = plan(tasks_py="from release.cli import ns\n", gitignore=".release/\ndist/\n")
    assert [w.path for w in result.writes] == ["pyproject.toml"]


def test_a_projects_own_tasks_py_is_left_alone_and_said() -> None:
    result = plan(tasks_py="from invoke import task\n\n@task\ndef docs(c):\n    pass\n")
    assert "tasks.py" not in [w.path for w in result.writes]
    assert any(line.startswith("tasks.py is the project's own: add `from release.cli import ns`")
               for line in result.decide)


def test_an_existing_release_table_is_refused_in_one_line() -> None:
    existing = HATCH_APP + '\n[tool.release]\nname = "webthing"\npython = ["3.11"]\n'
    with pytest.raises(RefusedError) as caught:
        plan(existing)
    assert str(caught.value) == ("pyproject.toml already has [tool.release]; release-pipeline init --force "
                                 "replaces it")


def test_force_replaces_the_release_tables_and_keeps_the_others() -> None:
    existing = (HATCH_APP + '\n[tool.release]\nname = "old"\npython = ["3.9"]\n\n'
                '[tool.release.variants.slim]\nextras = []\n\n[tool.black]\nline-length = 90\n')
    result = plan(existing, options=InitOptions(flavours=FLAVOURS, force=True))
    text = written(result, "pyproject.toml")
    data = tomllib.loads(text)
    assert data["tool"]["black"] == {"line-length": 90} and data["tool"]["ruff"] == {"line-length": 100}
    assert data["tool"]["release"]["name"] == "webthing" and "variants" not in data["tool"]["release"]
    assert text.count("[tool.release") == 1
    assert [w.action for w in result.writes if w.path == "pyproject.toml"] == ["replace"]


def test_force_refuses_a_release_table_it_cannot_cut_out() -> None:
    dotted = HATCH_APP + '\n[tool]\nrelease.name = "old"\n'
    with pytest.raises(RefusedError, match=r"cannot be told apart from the tables around it"):
        plan(dotted, options=InitOptions(flavours=FLAVOURS, force=True))


def test_a_project_without_pyproject_gets_one_with_the_release_table_only() -> None:
    files = ProjectFiles(setup_py='setup(name="old-app", version="1.0", python_requires=">=3.6",\n'
                                  '      entry_points={"console_scripts": ["old-app=old_app:main"]})\n')
    result = plan_init(files, Folder(), OPTIONS)
    text = written(result, "pyproject.toml")
    assert text.startswith("[tool.release]\n") and "[build-system]" not in text
    assert [w.action for w in result.writes if w.path == "pyproject.toml"] == ["create"]
    assert config_of(result).python == FLAVOURS


@pytest.mark.parametrize(("spec", "flavours", "default"), [
    ("", FLAVOURS, "3.11"),
    (">=3.8", FLAVOURS, "3.11"),
    (">=3.12", ("3.13", "3.14"), "3.13"),
    ("<3.10", ("3.9",), "3.9"),
    (">=3.9,<3.12", ("3.9", "3.11"), "3.11"),
    ("~=3.13.0", ("3.13",), "3.13"),
    (">=3.14", ("3.14",), "3.14"),
])
def test_flavours_from_requires_python(spec: str, flavours: tuple[str, ...], default: str) -> None:
    pyproject = HATCH_APP.replace('requires-python = ">=3.10"', f'requires-python = "{spec}"')
    config = config_of(plan(pyproject))
    assert (config.python, config.default_python) == (flavours, default)


def test_a_requires_python_the_pipeline_cannot_build_is_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        plan(HATCH_APP.replace('">=3.10"', '"<3.9"'))
    assert str(caught.value) == ("webthing's Requires-Python <3.9 allows none of the Pythons the pipeline "
                                 "builds (3.9, 3.11, 3.13, 3.14)")


def test_a_real_registry_gets_the_official_python_images() -> None:
    config = config_of(plan(options=InitOptions(flavours=FLAVOURS, registry="registry.example.org:5000")))
    assert config.registry == "registry.example.org:5000"
    assert config.base_image == "python:{python}-slim-bookworm"
    assert config.base_image_for("3.13") == "python:3.13-slim-bookworm"


def test_an_asf_project_gets_the_vote_and_the_headers_its_checks_want() -> None:
    result = plan(options=InitOptions(flavours=FLAVOURS, vote="asf"))
    config = config_of(result)
    assert config.vote == "asf" and config.checks_sources
    assert written(result, "tasks.py") == "# SPDX-License-Identifier: Apache-2.0\n" + TASKS_LINE
    assert "# binding-voters = " in written(result, "pyproject.toml")
    assert any(line.startswith("KEYS: your public key") for line in result.decide)
    with pytest.raises(ConfigError, match=r"^--vote pmc: choose one of asf, none"):
        plan(options=InitOptions(flavours=FLAVOURS, vote="pmc"))


def test_the_changelog_found_is_written_down() -> None:
    assert config_of(plan(files=frozenset({"HISTORY.rst"}))).changelog == "HISTORY.rst"
    none = plan(files=frozenset({"README.md"}))
    assert config_of(none).changelog == "" and "changelog = \"\"  # none found" in none.table
    assert "changelog: no changelog" in none.found


def test_a_towncrier_project_gets_the_towncrier_format() -> None:
    pyproject = HATCH_APP + '\n[tool.towncrier]\ndirectory = "news"\nfilename = "NEWS.rst"\n'
    result = plan(pyproject, files=frozenset({"NEWS.rst"}))
    config = config_of(result)
    assert config.changelog_format == "towncrier" and config.changelog is None
    assert "changelog: towncrier: news/ news fragments, else NEWS.rst" in result.found
    own_file = plan(HATCH_APP, files=frozenset(), towncrier={"directory": "changes"})
    assert config_of(own_file).changelog_format == "towncrier"


def test_a_changelog_without_the_current_versions_section_is_said() -> None:
    result = plan(files=frozenset({"CHANGES.rst"}), texts={"CHANGES.rst": "2.0.0\n=====\n\n- Old.\n"},
                  declared=("pyproject.toml", "2.1.0"))
    assert "CHANGES.rst has no section for 2.1.0: each release needs one" in result.decide


def test_no_console_script_is_said_and_no_dockerfile_is_needed() -> None:
    pyproject = HATCH_APP.replace('[project.scripts]\nwebthing = "webthing.cli:main"\n', "")
    result = plan(pyproject)
    assert config_of(result).app_command == ()
    assert "no console script: set app-command to a command every image must run" in result.decide
    assert config_of(result).dockerfile == ""  # the one release-pipeline ships builds the images
    assert not any("Dockerfile" in line for line in result.decide)


def test_a_version_from_git_tags_and_compiled_wheels_are_said() -> None:
    scm = HATCH_APP.replace('version = "2.1.0"', 'dynamic = ["version"]').replace(
        'requires = ["hatchling"]', 'requires = ["hatchling", "hatch-vcs"]')
    scm += '\n[tool.hatch.version]\nsource = "vcs"\n'
    result = plan(scm)
    assert any(line.startswith("the version comes from git tags (hatch-vcs); the pipeline builds the version "
                               "declared in a file") for line in result.decide)
    assert "# The version: git tags (hatch-vcs);" in result.table
    compiled = plan(HATCH_APP.replace('"hatchling.build"', '"maturin"'))
    assert "maturin builds compiled wheels; the pipeline releases pure-Python wheels only" in compiled.decide


def test_what_is_always_left_to_decide() -> None:
    decide = plan().decide
    starts = ("signing-key: ", "mailing-list and announce-list: ", "registry, index, svn-dev, svn-release: ")
    for start in starts:
        assert any(line.startswith(start) for line in decide), start
    assert not any(line.startswith("KEYS") for line in decide)  # asf only


@pytest.mark.parametrize(("name", "scripts", "command"), [
    ("webthing", ("webthing-admin", "webthing"), ("webthing", "--version")),
    ("apache-airflow", ("airflow",), ("airflow", "--version")),
    ("my_tool", ("other", "my-tool"), ("my-tool", "--version")),
    ("lib", ("a", "b"), ("a", "--version")),
    ("lib", (), ()),
])
def test_the_application_command_is_the_script_named_like_the_project(name: str, scripts: tuple[str, ...],
                                                                      command: tuple[str, ...]) -> None:
    project = Project(name, "setuptools", VersionSource("static", "x"), "", (), scripts)
    assert app_command_of(project) == command


def test_with_release_table_on_odd_files() -> None:
    table = '[tool.release]\nname = "x"\npython = ["3.11"]\n'
    assert with_release_table("", table, force=False) == (table, "append")
    assert with_release_table("[project]\nname = 'x'", table, force=False)[0] == (
        "[project]\nname = 'x'\n\n" + table)
    with pytest.raises(ConfigError, match=r"^pyproject.toml: not valid TOML"):
        with_release_table("[project\n", table, force=False)


_NAME = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
_SPEC = st.sampled_from(["", ">=3.8", ">=3.9", ">=3.10", ">=3.11,<3.14", "<3.13", "!=3.11.*", "~=3.9"])
_SCRIPT = st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)


@given(_NAME, _SPEC, st.lists(_SCRIPT, max_size=3, unique=True), st.sampled_from(["none", "asf"]),
       st.sampled_from(["sandbox", "registry.example.org", "127.0.0.1:5000"]))
def test_whatever_the_project_the_table_written_is_a_config(name: str, spec: str, scripts: list[str],
                                                            vote: str, registry: str) -> None:
    pyproject = {"project": {"name": name, "version": "1.0", "requires-python": spec,
                             "scripts": dict.fromkeys(scripts, "m:f")}}
    result = plan_init(ProjectFiles(pyproject=pyproject), Folder(),
                       InitOptions(flavours=FLAVOURS, vote=vote, registry=registry))
    config = config_of(result)
    assert config.name == name and config.vote == vote and config.registry == registry
    assert set(config.python) <= set(FLAVOURS) and config.default_python in config.python
    if not scripts:
        assert config.app_command == ()
    else:
        assert config.app_command[0] in scripts and config.app_command[1:] == ("--version",)
        assert config.app_command[0] == name or name not in scripts
