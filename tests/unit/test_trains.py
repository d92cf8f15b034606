# SPDX-License-Identifier: Apache-2.0
"""`[tool.release.trains.NAME]`: Airflow's configuration read into trains, the release's own train
as before, and one ConfigError naming the key for each mistake."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from release.config import parse_config
from release.errors import ConfigError
from release.trains import (
    ConstraintsRefs,
    NotesFrom,
    ReleaseNotes,
    SvnLayout,
    Train,
    TrainDistribution,
    VersionFrom,
    VersionSource,
    VotePolicy,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# docs/trains.md shows this configuration; a test there checks it is the same text.
AIRFLOW = """
[tool.release]
name = "apache-airflow"
project = "Apache Airflow"
image = "apache/airflow"
python = ["3.11", "3.13"]
mailing-list = "dev@airflow.apache.org"

[tool.release.trains.core]
images = ["apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"]
release-notes = { towncrier = "airflow-core/newsfragments" }
constraints = { branch = "constraints-{major}-{minor}" }

[[tool.release.trains.core.distributions]]
name = "apache-airflow"
version = "pyproject"

[[tool.release.trains.core.distributions]]
name = "apache-airflow-core"
path = "airflow-core"
version = { from = "__version__", file = "src/airflow/__init__.py" }

[[tool.release.trains.core.distributions]]
name = "apache-airflow-task-sdk"
path = "task-sdk"
version = { from = "__version__", file = "src/airflow/sdk/__init__.py" }
tag = "task-sdk/{version}"
svn-folder = "task-sdk"

[tool.release.trains.providers]
distributions = "providers/**"
version = "provider.yaml"
state = "provider.yaml"
tag = "providers-{id}/{version}"
svn = "flat"
svn-folder = "providers"
source-tarball = "apache_airflow_providers-{date}-source.tar.gz"
wave-tag = "providers/{date}"
release-notes = { changelog = "docs/changelog.rst" }
"""

CORE = Train(
    name="core",
    distributions=(
        TrainDistribution("apache-airflow", ".", "apache-airflow", VersionSource(VersionFrom.PYPROJECT,
                                                                                 "pyproject.toml"),
                          "{version}", ""),
        TrainDistribution("apache-airflow-core", "airflow-core", "apache-airflow-core",
                          VersionSource(VersionFrom.ATTRIBUTE, "src/airflow/__init__.py"), "{version}", ""),
        TrainDistribution("apache-airflow-task-sdk", "task-sdk", "apache-airflow-task-sdk",
                          VersionSource(VersionFrom.ATTRIBUTE, "src/airflow/sdk/__init__.py"),
                          "task-sdk/{version}", "task-sdk"),
    ),
    images=("apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"),
    notes=ReleaseNotes(NotesFrom.TOWNCRIER, "airflow-core/newsfragments"),
    constraints=ConstraintsRefs(),
)
PROVIDERS = Train(
    name="providers",
    pattern="providers/**",
    version=VersionSource(VersionFrom.PROVIDER_YAML, "provider.yaml"),
    state="provider.yaml",
    tag="providers-{id}/{version}",
    svn=SvnLayout.FLAT,
    svn_folder="providers",
    source_tarball="apache_airflow_providers-{date}-source.tar.gz",
    wave_tag="providers/{date}",
    notes=ReleaseNotes(NotesFrom.CHANGELOG, "docs/changelog.rst"),
)


def airflow_table() -> dict[str, Any]:
    return tomllib.loads(AIRFLOW)["tool"]["release"]


def refused(trains: dict[str, Any], **top: Any) -> str:
    table = {"name": "apache-airflow", "python": ["3.11"], "trains": trains, **top}
    with pytest.raises(ConfigError) as caught:
        parse_config(Path("/target"), table)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_airflows_configuration_is_its_two_trains() -> None:
    config = parse_config(Path("/airflow"), airflow_table())
    assert config.trains == (CORE, PROVIDERS)
    assert config.all_trains == (CORE, PROVIDERS)  # core releases apache-airflow: no train of its own
    assert config.train("providers") == PROVIDERS
    assert CORE.vote == VotePolicy(72, 3) and not CORE.is_pattern and PROVIDERS.is_pattern


def test_without_trains_there_is_the_releases_own_train_as_before() -> None:
    config = parse_config(Path("/t"), {"name": "sample-app", "python": ["3.11"]})
    (train,) = config.all_trains
    assert train == Train(
        name="sample-app",
        distributions=(TrainDistribution("sample-app", ".", "sample-app", VersionSource(VersionFrom.RELEASE),
                                         "{version}", ""),),
        images=("sample-app",),
        notes=ReleaseNotes(NotesFrom.CHANGELOG, "CHANGELOG.md"),
    )
    assert train.svn is SvnLayout.VERSIONED and train.tarball_template() == "{name}-{version}-source.tar.gz"


def test_the_releases_distributions_are_its_own_train_beside_the_others() -> None:
    table = {"name": "apache-airflow", "python": ["3.11"],
             "distributions": [{"name": "apache-airflow"},
                               {"name": "apache-airflow-task-sdk", "path": "task-sdk",
                                "version-from": "task-sdk/src/airflow/sdk/__init__.py"}],
             "trains": {"providers": airflow_table()["trains"]["providers"]}}
    config = parse_config(Path("/t"), table)
    own, providers = config.all_trains
    assert providers == PROVIDERS and own.name == "apache-airflow"
    assert [d.version for d in own.distributions] == [
        VersionSource(VersionFrom.RELEASE),
        VersionSource(VersionFrom.ATTRIBUTE, "src/airflow/sdk/__init__.py")]
    assert own.distributions[1].version.path_in("task-sdk") == "task-sdk/src/airflow/sdk/__init__.py"


def test_a_version_file_outside_the_distribution_is_reached_from_it() -> None:
    table = {"name": "app", "python": ["3.11"],
             "distributions": [{"name": "app"}, {"name": "sdk", "path": "sdk", "version-from": "VERSION.py"}]}
    sdk = parse_config(Path("/t"), table).all_trains[0].distributions[1]
    assert sdk.version.file == "../VERSION.py" and sdk.version.path_in("sdk") == "VERSION.py"


def test_an_unknown_train_is_named_with_the_ones_there_are() -> None:
    config = parse_config(Path("/airflow"), airflow_table())
    with pytest.raises(ConfigError, match=r"no train 'helm-chart'.*there are: core, providers"):
        config.train("helm-chart")


def test_the_flat_default_tarball_names_the_train_and_date() -> None:
    assert Train("providers", pattern="providers/*", svn=SvnLayout.FLAT, tag="p-{id}/{version}"
                 ).tarball_template() == "{name}-{train}-{date}-source.tar.gz"


GOOD: dict[str, Any] = {"distributions": "providers/**", "tag": "providers-{id}/{version}", "svn": "flat"}


@pytest.mark.parametrize(("trains", "words"), [
    ({"Core": GOOD}, "trains.Core: a train's name is lowercase"),
    ({"a\n": GOOD}, "trains.'a\\n': a train's name is lowercase"),  # `$` let a trailing newline through
    ({"p": {**GOOD, "distributions": [{"name": "x\n"}]}}, "name: 'x\\n' is not a valid distribution name"),
    ({"p": "providers/*"}, "trains.p: expected a table"),
    ({"p": {**GOOD, "wave": 1}}, "trains.p: unknown key 'wave'"),
    ({"p": {**GOOD, "svn": "nested"}}, "trains.p.svn: expected 'versioned' or 'flat'"),
    ({"p": {**GOOD, "distributions": "providers"}}, "trains.p.distributions: 'providers' is no pattern"),
    ({"p": {**GOOD, "distributions": "../providers/*"}}, "trains.p.distributions: '../providers/*' must be"),
    ({"p": {**GOOD, "distributions": []}}, "trains.p.distributions: expected a list of tables"),
    ({"p": {**GOOD, "distributions": 3}}, "trains.p.distributions: expected a list of tables"),
    ({"p": {**GOOD, "tag": "providers/{id}"}}, "trains.p.tag: 'providers/{id}' must contain {version}"),
    ({"p": {**GOOD, "tag": "p-{provider}/{version}"}},
     "trains.p.tag: 'p-{provider}/{version}' uses {provider}"),
    ({"p": {**GOOD, "tag": "p {id}/{version}"}},
     "trains.p.tag: 'p {id}/{version}' does not make a valid git tag"),
    ({"p": {**GOOD, "tag": "p-{id}..{version}"}}, "does not make a valid git tag"),
    ({"p": {**GOOD, "tag": "{version"}}, "trains.p.tag: '{version' is not a template"),
    ({"p": {**GOOD, "tag": "{version}"}}, "trains.p.tag: '{version}': in a flat train each distribution"),
    ({"p": {**GOOD, "version": "setup.cfg"}},
     "trains.p.version: from: expected one of pyproject, __version__"),
    ({"p": {**GOOD, "version": "release"}}, "trains.p.version: from: expected one of"),
    ({"p": {**GOOD, "version": {"from": "__version__"}}},
     "trains.p.version: file: __version__ needs the file"),
    ({"p": {**GOOD, "version": {"from": "pyproject", "key": "v"}}}, "trains.p.version: unknown field 'key'"),
    ({"p": {**GOOD, "version": {"from": "pyproject", "file": "/etc/x"}}}, "trains.p.version.file: '/etc/x'"),
    ({"p": {**GOOD, "version": 3}}, "trains.p.version: expected a table {from, file}"),
    ({"p": {**GOOD, "state": "*.yaml"}}, "trains.p.state: '*.yaml' must be a relative path"),
    ({"p": {**GOOD, "svn-folder": "../x"}}, "trains.p.svn-folder: '../x' must be"),
    ({"p": {**GOOD, "source-tarball": "src-{when}.tgz"}},
     "trains.p.source-tarball: 'src-{when}.tgz' uses {when}"),
    ({"p": {**GOOD, "wave-tag": "providers/wave"}},
     "trains.p.wave-tag: 'providers/wave' must contain {date}"),
    ({"p": {**GOOD, "images": "apache-airflow"}}, "trains.p.images: expected a list of strings"),
    # the ASF's rules are the least a train's vote asks for: 72 hours, three binding +1
    ({"p": {**GOOD, "vote": {"hours": 48}}}, "trains.p.vote.hours: expected a whole number of at least 72"),
    ({"p": {**GOOD, "vote": {"binding": 2}}}, "trains.p.vote.binding: expected a whole number of at least 3"),
    ({"p": {**GOOD, "vote": {"binding": True}}}, "trains.p.vote.binding: expected a whole number"),
    ({"p": {**GOOD, "vote": {"days": 3}}}, "trains.p.vote: expected a table {hours, binding}"),
    ({"p": {**GOOD, "release-notes": {"towncrier": "n", "changelog": "c"}}},
     "trains.p.release-notes: expected"),
    ({"p": {**GOOD, "release-notes": {"changelog": "/c"}}}, "trains.p.release-notes.changelog: '/c' must be"),
    ({"p": {**GOOD, "constraints": {"branch": "c-{version}"}}},
     "trains.p.constraints.branch: 'c-{version}' uses"),
    ({"p": {**GOOD, "constraints": {"tag": "constraints"}}},
     "trains.p.constraints.tag: 'constraints' must contain"),
    ({"p": {**GOOD, "constraints": {"latest": "c latest"}}},
     "trains.p.constraints.latest: 'c latest' does not"),
    ({"p": {**GOOD, "constraints": ["c"]}}, "trains.p.constraints: expected a table {branch, tag, latest}"),
    ({"p": {**GOOD, "staging": "git"}}, "trains.p.staging: expected 'svn' or 'atr', got 'git'"),
    ({"p": {**GOOD, "staging": ""}}, "trains.p.staging: expected 'svn' or 'atr', got ''"),
    ({"p": {**GOOD, "staging": "atr"}}, "trains.p.staging: 'atr' needs [tool.release] atr"),
])
def test_a_bad_train_value_is_one_error_naming_its_key(trains: dict[str, Any], words: str) -> None:
    assert words in refused(trains)


LISTED: dict[str, Any] = {"distributions": [{"name": "apache-airflow-ctl", "path": "airflow-ctl"}]}


@pytest.mark.parametrize(("distribution", "words"), [
    ("airflow-ctl", "trains.ctl.distributions: expected a table {name, path, id, version, tag, svn-folder}"),
    ({"name": "apache-airflow-ctl", "paths": "x"}, "trains.ctl.distributions: unknown field 'paths'"),
    ({"path": "airflow-ctl"}, "trains.ctl.distributions: name: None is not a valid distribution name"),
    ({"name": "ctl", "path": "/airflow-ctl"}, "trains.ctl.distributions ctl: path: '/airflow-ctl' must be"),
    ({"name": "ctl", "id": "a b"}, "trains.ctl.distributions ctl: id: 'a b' is not an id"),
    ({"name": "ctl", "tag": "ctl/{ver}"}, "trains.ctl.distributions ctl: tag: 'ctl/{ver}' uses {ver}"),
    ({"name": "ctl", "version": "__version__"},
     "trains.ctl.distributions ctl: version: file: __version__ needs"),
    ({"name": "ctl", "svn-folder": ""}, "trains.ctl.distributions ctl: svn-folder: expected a path"),
])
def test_a_bad_listed_distribution_is_one_error_naming_it(distribution: Any, words: str) -> None:
    assert words in refused({"ctl": {"distributions": [distribution]}})


def test_a_distribution_listed_twice_or_in_two_trains_is_refused() -> None:
    twice = {"distributions": [{"name": "apache-airflow-ctl"}, {"name": "apache_airflow.ctl"}]}
    assert "trains.ctl.distributions: 'apache_airflow.ctl' is listed twice" in refused({"ctl": twice})
    assert ("trains.other.distributions: 'apache-airflow-ctl' is released by the train 'ctl' already"
            in refused({"ctl": LISTED, "other": LISTED}))
    assert ("trains.ctl.distributions: 'apache-airflow-core' is released by the train 'apache-airflow'"
            in refused({"ctl": {"distributions": [{"name": "apache-airflow-core"}]}},
                       distributions=[{"name": "apache-airflow"},
                                      {"name": "apache-airflow-core", "path": "c"}]))


def test_a_train_may_not_take_the_releases_own_trains_name() -> None:
    assert "trains.apache-airflow: the release's own train is called 'apache-airflow'" in refused(
        {"apache-airflow": LISTED})


def test_top_level_distributions_and_a_train_releasing_the_same_name_are_refused() -> None:
    message = refused({"core": {"distributions": [{"name": "apache-airflow"}]}},
                      distributions=[{"name": "apache-airflow"}])
    assert "distributions: the train that releases apache-airflow lists its distributions" in message


def test_images_name_the_trains_distributions() -> None:
    message = refused({"ctl": {**LISTED, "images": ["apache-airflow"]}})
    assert ("trains.ctl.images: 'apache-airflow' is not one of the train's distributions "
            "(apache-airflow-ctl)") in message


def test_empty_trains_are_refused() -> None:
    assert "trains: empty; leave the key out" in refused({})


def test_a_listed_train_takes_the_trains_defaults_for_what_a_distribution_leaves_out() -> None:
    table = {"name": "app", "python": ["3.11"], "trains": {"clients": {
        "distributions": [{"name": "client-a", "path": "clients/a"}, {"name": "client-b", "path": "clients/b",
                                                                       "tag": "b/{version}"}],
        "tag": "clients-{name}/{version}", "svn-folder": "clients", "version": {"from": "pyproject"}}}}
    _, clients = parse_config(Path("/t"), table).all_trains
    assert [(d.tag, d.svn_folder, d.version.path_in(d.path)) for d in clients.distributions] == [
        ("clients-{name}/{version}", "clients", "clients/a/pyproject.toml"),
        ("b/{version}", "clients", "clients/b/pyproject.toml")]


def test_docs_show_this_configuration() -> None:
    from conftest import REPO_ROOT

    assert AIRFLOW.strip() in (REPO_ROOT / "docs" / "trains.md").read_text()


def test_a_trains_staging_is_its_own_else_the_projects() -> None:
    """`staging` per train: a train staging in ATR in a project that stages in svn (and the other way
    round); without it a train stages where the project does. Any train in ATR needs ATR's URL, and
    makes the project reach ATR (its target, the sandbox's ATR)."""
    table = airflow_table()
    table["trains"]["providers"]["staging"] = "atr"
    config = parse_config(Path("/airflow"), {**table, "atr": "sandbox"})
    core, providers = config.train("core"), config.train("providers")
    assert (core.staging, providers.staging) == ("", "atr")
    assert not config.uses_atr and config.reaches_atr and config.atr_in_sandbox
    assert not config.stages_in_atr(core) and config.stages_in_atr(providers)
    table["trains"]["providers"]["staging"] = "svn"
    config = parse_config(Path("/airflow"), {**table, "atr": "sandbox", "staging": "atr"})
    assert config.stages_in_atr(config.train("core")) and not config.stages_in_atr(config.train("providers"))
    plain = parse_config(Path("/airflow"), airflow_table())
    assert not plain.reaches_atr and not any(plain.stages_in_atr(t) for t in plain.trains)
