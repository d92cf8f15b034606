# SPDX-License-Identifier: Apache-2.0
"""What a wave reads from git and the facts it makes of the answers (release/plan/wave_facts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.config import parse_config
from release.errors import ConfigError
from release.plan.wave_facts import (
    constraints_glob,
    constraints_versions,
    facts_from,
    files_to_read,
    members,
    since,
    tag_globs,
)
from release.trains import parse_train
from tests.unit.test_trains import airflow_table

CONFIG = parse_config(Path("/airflow"), airflow_table())
CORE, PROVIDERS = CONFIG.train("core"), CONFIG.train("providers")
TREE = ("pyproject.toml", "providers/http/pyproject.toml", "providers/http/provider.yaml",
        "providers/common/io/pyproject.toml", "providers/common/io/provider.yaml", "providers/README.md")


def test_a_pattern_train_reads_each_ones_pyproject_and_provider_yaml_and_its_tags() -> None:
    found = members(PROVIDERS, TREE)
    assert [(m.path, m.id, m.name) for m in found] == [("providers/common/io", "common-io", ""),
                                                       ("providers/http", "http", "")]
    assert files_to_read(PROVIDERS, found) == [
        "providers/common/io/provider.yaml", "providers/common/io/pyproject.toml",
        "providers/http/provider.yaml", "providers/http/pyproject.toml"]
    assert tag_globs(found) == ["providers-common-io/*", "providers-http/*"]


def test_a_listed_train_reads_its_version_files_only() -> None:
    found = members(CORE)
    assert files_to_read(CORE, found) == ["airflow-core/src/airflow/__init__.py", "pyproject.toml",
                                          "task-sdk/src/airflow/sdk/__init__.py"]
    assert tag_globs(found) == ["*", "task-sdk/*"]
    assert constraints_glob(CORE) == "constraints-*" and constraints_glob(PROVIDERS) == ""


def test_facts_name_each_one_from_its_pyproject_with_its_state_and_tags() -> None:
    found = members(PROVIDERS, TREE[1:3])
    texts = {"providers/http/pyproject.toml": '[project]\nname = "apache-airflow-providers-http"\n',
             "providers/http/provider.yaml": "state: not-ready\nsource-date-epoch: 5\n"
                                             "versions: [6.3.1, 6.3.0]\n"}
    tags = {"providers-http/6.3.0": "a" * 40, "providers-http/6.3.1rc1": "b" * 40,
            "providers-ftp/1.0.0": "c" * 40}
    (http,) = facts_from(PROVIDERS, found, texts, tags)
    assert (http.name, http.declared, http.state.value, http.source_date_epoch) == (
        "apache-airflow-providers-http", "6.3.1", "not-ready", 5)
    assert [str(v) for v in http.tagged] == ["6.3.0", "6.3.1rc1"]
    assert since([http], tags) == {"providers/http": "a" * 40}


def test_a_pyproject_without_a_name_is_one_line() -> None:
    found = members(PROVIDERS, TREE[1:3])
    texts = {"providers/http/pyproject.toml": "[project]\n",
             "providers/http/provider.yaml": "versions: [1.0.0]\n"}
    with pytest.raises(ConfigError, match=r"^providers/http/pyproject.toml: names no \[project\] name$"):
        facts_from(PROVIDERS, found, texts, {})


def test_the_release_versions_train_cannot_be_a_wave() -> None:
    own = parse_config(Path("/t"), {"name": "app", "python": ["3.11"]}).all_trains[0]
    with pytest.raises(ConfigError, match="takes its version from --version"):
        files_to_read(own, members(own))


def test_constraints_versions_read_from_any_tag_template() -> None:
    train = parse_train("core", {"distributions": [{"name": "app"}], "images": ["app"],
                                 "constraints": {"tag": "constraints-{major}.{minor}/{version}"}})
    assert [str(v) for v in constraints_versions(train, ["constraints-3.3/3.3.2", "constraints-3.3/x",
                                                         "other-3.3/3.3.1"])] == ["3.3.2"]
    found = constraints_versions(CORE, ["constraints-3.3.2", "constraints-latest"])
    assert [str(v) for v in found] == ["3.3.2"]
