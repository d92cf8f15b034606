# SPDX-License-Identifier: Apache-2.0
"""What a train's tree declares: pattern folders, versions, states, and the versions tags name."""

from __future__ import annotations

import pytest

from release.errors import ConfigError
from release.plan.declared import (
    Declared,
    Found,
    State,
    declared_state,
    declared_version,
    find_distributions,
    tag_for,
    tag_glob,
    tagged_versions,
)
from release.trains import Train, VersionFrom, VersionSource

TREE = [
    "pyproject.toml", "airflow-core/pyproject.toml", "providers/pyproject.toml",
    "providers/http/pyproject.toml", "providers/http/provider.yaml", "providers/http/tests/conftest.py",
    "providers/common/io/pyproject.toml", "providers/common/io/provider.yaml",
    "providers/common/compat/pyproject.toml", "providers/common/README.md",
    "providers/http/tests/system/pyproject.toml",  # inside a distribution: part of it
]
PYPROJECT = VersionSource(VersionFrom.PYPROJECT, "pyproject.toml")
ATTRIBUTE = VersionSource(VersionFrom.ATTRIBUTE, "src/airflow/sdk/__init__.py")
YAML = VersionSource(VersionFrom.PROVIDER_YAML, "provider.yaml")
PROVIDER_YAML = """
package-name: apache-airflow-providers-http
state: ready
lifecycle: production
source-date-epoch: 1791328848
versions:
  - 6.3.1
  - 6.3.0
"""


def test_a_pattern_finds_each_folder_with_a_pyproject_and_its_id() -> None:
    found = find_distributions(Train("providers", pattern="providers/**", tag="p-{id}/{version}"), TREE)
    assert found == (Found("providers/common/compat", "common-compat"),
                     Found("providers/common/io", "common-io"), Found("providers/http", "http"))
    one_level = find_distributions(Train("providers", pattern="providers/*", tag="p-{id}/{version}"), TREE)
    assert one_level == (Found("providers/http", "http"),)


@pytest.mark.parametrize(("source", "text", "version"), [
    (PYPROJECT, '[project]\nname = "apache-airflow"\nversion = "3.3.2"\n', "3.3.2"),
    (ATTRIBUTE, '# licence\n\n__version__ = "1.3.2"\n', "1.3.2"),
    (ATTRIBUTE, "__version__: str = '1.3.2'\n", "1.3.2"),
    (YAML, PROVIDER_YAML, "6.3.1"),
])
def test_the_declared_version_is_read_as_the_source_says(source: VersionSource, text: str,
                                                         version: str) -> None:
    assert declared_version(source, text, "f") == version


@pytest.mark.parametrize(("source", "text", "words"), [
    (PYPROJECT, '[project]\ndynamic = ["version"]\n', "f: declares no version (pyproject)"),
    (PYPROJECT, "[project\n", "f: cannot read its version"),
    (ATTRIBUTE, "VERSION = '1'\n", "f: declares no version (__version__)"),
    (YAML, "versions: []\n", "f: declares no version (provider.yaml)"),
    (YAML, "versions: [\n", "f: cannot read its version"),
    (YAML, "versions:\n  - 6.3.1rc1\n", "f: declares 6.3.1rc1; declare the final X.Y.Z"),
    (YAML, "versions:\n  - 6.3\n", "f: version '6.3' must have exactly three parts"),
])
def test_a_bad_declaration_is_one_error_naming_the_file(source: VersionSource, text: str,
                                                        words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        declared_version(source, text, "f")
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_state_and_source_date_epoch() -> None:
    assert declared_state(PROVIDER_YAML, "f") == Declared(State.READY, 1791328848)
    assert declared_state("versions: [1.0.0]\n", "f") == Declared()
    assert declared_state("state: suspended\n", "f").state is State.SUSPENDED
    for text, words in (("state: paused\n",
                         "state: 'paused' is not one of ready, not-ready, suspended, removed"),
                        ("- a\n", "expected a mapping"), ("source-date-epoch: soon\n", "source-date-epoch"),
                        ("a: [\n", "not valid YAML")):
        with pytest.raises(ConfigError, match="f: " + words.replace("(", r"\(")):
            declared_state(text, "f")


def test_tags_name_versions_by_the_template() -> None:
    tags = ["providers-http/6.3.0", "providers-http/6.3.1rc1", "providers-http/6.3.1rc2",
            "providers-http/next",
            "providers-http-two/1.0.0", "providers/2026-11-01", "3.3.2", "task-sdk/1.3.2"]
    assert [str(v) for v in tagged_versions("providers-{id}/{version}", tags, ident="http", name="x")] == [
        "6.3.0", "6.3.1rc1", "6.3.1rc2"]
    assert [str(v) for v in tagged_versions("{version}", tags, ident="x", name="x")] == ["3.3.2"]
    assert [str(v) for v in tagged_versions("task-sdk/{version}", tags, ident="x", name="x")] == ["1.3.2"]
    assert tag_for("providers-{id}/{version}", "6.3.1rc1", ident="http", name="n") == (
        "providers-http/6.3.1rc1")
    assert tag_glob("providers-{id}/{version}", ident="common-io", name="n") == "providers-common-io/*"
