"""Real Apache Airflow through the pipeline: the profile's 3.11 image is built from PyPI with the
repository's Dockerfile, smoke-tested (generic and Airflow's own checks) and run with the
docker-compose quick start, by the same code `nox -s airflow` runs."""

from __future__ import annotations

import pytest
from conftest import REPO_ROOT

from benchmarks.airflow import run_airflow_acceptance


@pytest.mark.images
@pytest.mark.slow
def test_airflow_3_11_image_is_built_smoked_and_runs_with_compose(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        outcome = run_airflow_acceptance(REPO_ROOT, ["3.11"], compose=True,
                                         say=lambda line: print(f"  {line}", flush=True))
    (image,) = outcome.images
    assert image.ref.endswith(f"/apache/airflow:{outcome.version}-python3.11")
    assert all(report.ok for report in outcome.smoke)
    names = {check.name for report in outcome.smoke for check in report.checks if not check.skipped}
    assert {"python", "version", "pip-check", "user", "no-build-tools", "init"} <= names
    assert {"command: airflow version", "command: airflow db migrate"} <= names
    assert any(name.startswith("health: ") for name in names)
    assert outcome.compose_seconds is not None
