# SPDX-License-Identifier: Apache-2.0
"""The git facts a wave is planned from, read by the pipeline through the git adapter from Airflow's
own sources (tests/airflow_sources.py), and the waves the planner makes of them: git commands counted."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow_sources import copy_repo, git

from release.config import parse_config
from release.pipeline.trains import Wave, plan_train
from release.plan.wave import WavePlan
from release.trains import Train
from tests.unit.test_trains import airflow_table

pytestmark = pytest.mark.trains
CONFIG = parse_config(Path("/airflow"), airflow_table())
CORE, PROVIDERS = CONFIG.train("core"), CONFIG.train("providers")
DATE = "2026-12-07"
COMMON_IO_EPOCH = 1792489528


def wave_of(root: Path, train: Train) -> tuple[WavePlan, Wave]:
    wave = plan_train(parse_config(root, airflow_table()), train, date=DATE)
    return wave.plan, wave


def test_the_providers_wave_of_airflows_sources_takes_the_three_changed(airflow_repo: Path) -> None:
    plan, wave = wave_of(airflow_repo, PROVIDERS)
    assert [(e.id, str(e.previous), str(e.candidate), e.tag, len(e.commits)) for e in plan.entries] == [
        ("common-io", "1.11.0", "1.11.1rc1", "providers-common-io/1.11.1rc1", 2),
        ("ftp", "3.16.1", "3.16.2rc1", "providers-ftp/3.16.2rc1", 2),
        ("http", "6.3.0", "6.3.1rc1", "providers-http/6.3.1rc1", 2)]
    assert plan.entries[2].commits[1].subject == "Count HttpHook retries per request"
    assert plan.unchanged == ("apache-airflow-providers-imap", "apache-airflow-providers-sqlite")
    assert plan.entries[0].svn_dev[0] == "providers/apache_airflow_providers_common_io-1.11.1.tar.gz"
    assert plan.entries[0].source_date_epoch == COMMON_IO_EPOCH  # provider.yaml's, as released
    # one command each for the tree, the files and the tags, one log for the wave's shared tag commit
    assert wave.git_calls == 4
    print(f"\nproviders wave: {wave.git_calls} git commands for 5 distributions "
          f"({wave.git_calls / 5:.1f} per distribution)")


def test_an_rc3_beside_rc1s_and_a_provider_suspended_since(airflow_repo: Path, tmp_path: Path) -> None:
    root = copy_repo(airflow_repo, tmp_path / "airflow")
    for rc in (1, 2):
        git(root, "tag", "--no-sign", "-m", "candidate", f"providers-http/6.3.1rc{rc}")
    meta = root / "providers/imap/provider.yaml"
    meta.write_text(meta.read_text().replace("state: ready", "state: suspended"))
    git(root, "commit", "--quiet", "--no-gpg-sign", "-am", "Suspend the IMAP provider")
    plan, wave = wave_of(root, PROVIDERS)
    assert [(e.id, e.rc) for e in plan.entries] == [("common-io", 1), ("ftp", 1), ("http", 3)]
    assert [s.name for s in plan.skipped] == ["apache-airflow-providers-imap"]
    assert wave.git_calls == 4


def test_the_core_train_of_airflows_sources(airflow_repo: Path, tmp_path: Path) -> None:
    plan, wave = wave_of(airflow_repo, CORE)
    assert plan.entries == () and plan.unchanged == ("apache-airflow", "apache-airflow-core",
                                                     "apache-airflow-task-sdk")
    assert wave.git_calls == 3  # the files, the tags, one log: a listed train reads no tree
    root = copy_repo(airflow_repo, tmp_path / "airflow")
    for file, old, new in (("pyproject.toml", 'version = "3.3.2"', 'version = "3.3.3"'),
                           ("airflow-core/src/airflow/__init__.py", '"3.3.2"', '"3.3.3"'),
                           ("task-sdk/src/airflow/sdk/__init__.py", '"1.3.2"', '"1.3.3"')):
        text = (root / file).read_text()
        assert old in text
        (root / file).write_text(text.replace(old, new, 1))
    git(root, "commit", "--quiet", "--no-gpg-sign", "-am", "Update version to 3.3.3")
    plan, _ = wave_of(root, CORE)
    assert [(e.name, str(e.candidate), e.tag) for e in plan.entries] == [
        ("apache-airflow", "3.3.3rc1", "3.3.3rc1"), ("apache-airflow-core", "3.3.3rc1", "3.3.3rc1"),
        ("apache-airflow-task-sdk", "1.3.3rc1", "task-sdk/1.3.3rc1")]
    assert plan.constraints is not None and plan.constraints.tag == "constraints-3.3.3rc1"
