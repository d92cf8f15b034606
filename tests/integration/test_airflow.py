# SPDX-License-Identifier: Apache-2.0
"""Real Apache Airflow through the pipeline, as CI runs it: one flavour (the profile's default,
3.11), both variants (the default image with the official image's 34 extras, and slim), by the
same code `nox -s airflow` runs for every flavour.

Each image is built from PyPI with the repository's Dockerfile and smoke-tested (generic and
Airflow's own checks); then Airflow's checks: the entrypoint's conventions, every provider listed
and importable, `airflow db migrate` against the sandbox's PostgreSQL and MariaDB (default image);
the quick start and Airflow's own docker-compose file come up healthy and run the example DAG
through a Celery worker and Redis. No bench: CI's timing is its own.

CI's choice: Python 3.11, both variants. The other flavours (3.13, 3.14) run in `nox -s airflow`.
"""

from __future__ import annotations

import pytest
from conftest import REPO_ROOT

from benchmarks.airflow import run_airflow_acceptance

CI_FLAVOUR = "3.11"


@pytest.mark.images
@pytest.mark.slow
@pytest.mark.airflow
def test_airflow_images_of_one_flavour_in_both_variants(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        outcome = run_airflow_acceptance(REPO_ROOT, [CI_FLAVOUR],
                                         say=lambda line: print(f"  {line}", flush=True))
    version = outcome.version
    assert [image.ref.rpartition(":")[2] for image in outcome.images] == [
        f"{version}-python{CI_FLAVOUR}", f"slim-{version}-python{CI_FLAVOUR}"]
    assert all(report.ok for report in outcome.smoke)
    smoked = {check.name for report in outcome.smoke for check in report.checks if not check.skipped}
    assert {"python", "version", "pip-check", "user", "no-build-tools", "no-headers", "shared-libs",
            "init"} <= smoked
    assert {"command: airflow version", "command: airflow db migrate"} <= smoked
    assert any(name.startswith("health: ") for name in smoked)
    default, slim = outcome.checks
    assert not default.failures and not slim.failures
    names = {check.name for check in default.checks}
    assert {"db migrate: postgres", "db migrate: mariadb"} <= names
    assert {"entrypoint: no command: airflow's usage, exit 2", "entrypoint: bare subcommand",
            "entrypoint: arbitrary uid in group 0", "entrypoint: root runs airflow info",
            "entrypoint: _PIP_ADDITIONAL_REQUIREMENTS", "entrypoint: code mounted on PYTHONPATH"
            } <= names
    assert not any(name.startswith("db migrate") for name in (check.name for check in slim.checks))
    assert len(default.providers) > len(slim.providers) >= 5
    assert "apache-airflow-providers-celery" in default.providers
    assert [run.file for run in outcome.compose] == ["docker-compose.yaml", "docker-compose.official.yaml"]
    assert all(run.image == outcome.images[0].ref for run in outcome.compose)
