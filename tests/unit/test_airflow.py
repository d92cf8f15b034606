"""The Airflow example without the engine: its constraints tooling, its profile and the bench lines."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from conftest import REPO_ROOT

from benchmarks.airflow import COMPOSE_FILE, PROFILE, Bench, pinned_version
from release.config import load_config
from release.errors import ConfigError, ReleaseError

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
    compiled = "Zope.Interface==7.1\napache-airflow[celery]==3.3.2\n\n# a comment\nuv==0.13.9  # via x\n"
    assert make.pins_from_compiled(compiled) == {"zope-interface": "7.1", "apache-airflow": "3.3.2",
                                                 "uv": "0.13.9"}
    with pytest.raises(ReleaseError, match="not a pin"):
        make.pins_from_compiled("-e ./local\n")
    text = make.constraints_text("3.3.2", pins)
    assert text.startswith("# Constraints for apache-airflow==3.3.2 on Python 3.11, 3.13")
    assert "make_constraints.py --version 3.3.2 --python 3.11,3.13" in text


def test_bench_lines_show_ratios() -> None:
    lines = Bench("3.11", 120.0, 2.0, 400_000_000, 100.0, 1.0, 500_000_000).lines()
    assert "size ratio 0.80" in lines[0]
    assert "time ratio 1.20" in lines[1]
