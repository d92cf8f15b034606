"""Real Apache Airflow through the pipeline: the profile's 3.11 image is built from PyPI with the
repository's Dockerfile, smoke-tested (generic and Airflow's own checks) and run with the
docker-compose quick start, by the same code `nox -s airflow` runs. The constraints tooling and
the helpers it rests on are tested without the engine."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from conftest import REPO_ROOT

from benchmarks.airflow import COMPOSE_FILE, PROFILE, Bench, pinned_version, run_airflow_acceptance
from release.config import load_config
from release.errors import ConfigError

EXAMPLES = REPO_ROOT / "examples" / "airflow"


def load_make_constraints() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_constraints", EXAMPLES / "make_constraints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pinned_version_reads_the_unconditional_pin() -> None:
    text = "# apache-airflow==0.1\nApache_Airflow==3.3.2\napache-airflow-core==3.3.2\n"
    assert pinned_version(text, "apache-airflow") == "3.3.2"
    with pytest.raises(ConfigError, match="pins no apache-airflow"):
        pinned_version('apache-airflow==3.3.2; python_version == "3.11"\n', "apache-airflow")


def test_the_profile_constraints_pin_the_release_for_every_flavour() -> None:
    config = load_config(REPO_ROOT, profile=REPO_ROOT / PROFILE)
    text = (REPO_ROOT / config.constraints).read_text()
    version = pinned_version(text, config.name)
    assert config.constraints.endswith(f"constraints-{version}.txt")
    assert f"apache-airflow-core=={version}\n" in text
    markers = {line.split("python_version == ")[1].strip('"') for line in text.splitlines() if "; " in line}
    assert markers <= set(config.python)
    assert (REPO_ROOT / COMPOSE_FILE).is_file()


def test_merged_pins_carry_markers_only_where_flavours_differ() -> None:
    make = load_make_constraints()
    pins = {"3.13": {"a": "1", "b": "3", "c": "1"}, "3.11": {"a": "1", "b": "2"}}
    assert make.merge_pins(pins) == [
        "a==1",
        'b==2; python_version == "3.11"',
        'b==3; python_version == "3.13"',
        'c==1; python_version == "3.13"',
    ]
    report = {"install": [{"metadata": {"name": "Zope.Interface", "version": "7.1"}}]}
    assert make.pins_from_report(report) == {"zope-interface": "7.1"}
    text = make.constraints_text("3.3.2", pins)
    assert text.startswith("# Constraints for apache-airflow==3.3.2 on Python 3.11, 3.13")
    assert "make_constraints.py --version 3.3.2 --python 3.11,3.13" in text


def test_bench_lines_show_ratios() -> None:
    lines = Bench("3.11", 120.0, 2.0, 400_000_000, 100.0, 1.0, 500_000_000).lines()
    assert "size ratio 0.80" in lines[0]
    assert "time ratio 1.20" in lines[1]


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
