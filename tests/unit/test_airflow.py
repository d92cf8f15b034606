# SPDX-License-Identifier: Apache-2.0
"""The Airflow example without the engine: its constraints tooling, its profile and the bench lines."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

import pytest
from conftest import REPO_ROOT

from benchmarks import airflow_checks, airflow_compose
from benchmarks.airflow import COMPOSE_FILE, PROFILE, Bench, flavours_line, pinned_version, supported_flavours
from release.adapters.engine import RunResult
from release.config import ReleaseConfig, load_config
from release.errors import ConfigError, ReleaseError, VerificationError
from release.sandbox.base_images import SANDBOX_SUITES
from release.sandbox.service_images import SERVICES

EXAMPLES = REPO_ROOT / "examples" / "airflow"


def load_make_constraints() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_constraints", EXAMPLES / "make_constraints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_constraints_extras(config: ReleaseConfig) -> list[str]:
    extras: list[str] = load_make_constraints().profile_extras(config)
    return extras


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


# --- Airflow's own checks and the compose runs, judged without the engine ---------------------------


def test_every_entrypoint_convention_is_a_case() -> None:
    cases = {case.name: case for case in airflow_checks.entrypoint_cases("3.3.2", "3.11")}
    assert cases["no command: airflow's usage, exit 2"].command == ()
    assert cases["no command: airflow's usage, exit 2"].exit_code == 2
    assert cases["bare subcommand"].command == ("version",)
    assert cases["arbitrary uid in group 0"].user == "4242:0"
    assert cases["another group is refused"].exit_code == 1
    assert cases["root runs airflow info"].user == "0"
    assert cases["_PIP_ADDITIONAL_REQUIREMENTS"].network == "bridge"
    assert all(case.network == "none" for name, case in cases.items()
               if name != "_PIP_ADDITIONAL_REQUIREMENTS")


def test_a_case_passes_on_its_exit_code_and_expected_output() -> None:
    case = airflow_checks.Case("bare", ("version",), 0, ("3.3.2",))
    assert airflow_checks.case_check(case, RunResult(0, "3.3.2\n", "")).ok
    failed = airflow_checks.case_check(case, RunResult(2, "", "usage: airflow"))
    assert not failed.ok and failed.detail.startswith("exit 2, expected 0: usage: airflow")
    missing = airflow_checks.case_check(case, RunResult(0, "3.3.1", ""))
    assert not missing.ok and "['3.3.2'] not in the output" in missing.detail


def test_providers_must_be_listed_and_import() -> None:
    names = ["apache-airflow-providers-celery", "apache-airflow-providers-postgres"]
    ok = airflow_checks.providers_verdict({"installed": names, "listed": names, "failed": {}})
    assert ok.ok and ok.name == "providers: 2 installed, listed and imported"
    unlisted = airflow_checks.providers_verdict({"installed": names, "listed": names[:1], "failed": {}})
    assert not unlisted.ok
    assert "installed but not listed: ['apache-airflow-providers-postgres']" in unlisted.detail
    failed = {"airflow.providers.postgres": "ImportError: libpq"}
    broken = airflow_checks.providers_verdict({"installed": names, "listed": names, "failed": failed})
    assert not broken.ok and broken.detail == "airflow.providers.postgres: ImportError: libpq"
    assert not airflow_checks.providers_verdict({"installed": [], "listed": [], "failed": {}}).ok


def test_the_databases_are_the_sandbox_services_with_the_images_drivers() -> None:
    assert airflow_checks.DATABASES["postgres"].url.startswith("postgresql+psycopg2://airflow:airflow@postgres/")
    assert airflow_checks.DATABASES["mariadb"].url.startswith("mysql+mysqldb://airflow:airflow@mariadb/")
    assert {"postgres", "mariadb", "redis"} == set(SERVICES)


def test_the_official_compose_file_differs_only_in_the_database_and_broker_images() -> None:
    official = (REPO_ROOT / airflow_compose.OFFICIAL).read_text(encoding="utf-8")
    images = [line.strip() for line in official.splitlines() if line.strip().startswith("image:")]
    assert images == ["image: ${AIRFLOW_IMAGE_NAME:-apache/airflow:3.3.2}",
                      "image: sandbox/postgres:bookworm", "image: sandbox/redis:bookworm"]
    assert "Licensed to the Apache Software Foundation" in official
    assert "_AIRFLOW_WWW_USER_CREATE: 'true'" in official and "/entrypoint airflow version" in official


def test_the_quick_start_is_the_celery_executor_setup() -> None:
    quick = (REPO_ROOT / airflow_compose.QUICK_START).read_text(encoding="utf-8")
    for service in ("postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                    "airflow-dag-processor", "airflow-triggerer", "airflow-worker"):
        assert f"\n  {service}:\n" in quick
    assert "AIRFLOW__CORE__EXECUTOR: CeleryExecutor" in quick and '_AIRFLOW_DB_MIGRATE: "true"' in quick


def test_compose_outcome_lines() -> None:
    found = airflow_compose.ComposeOutcome("docker-compose.yaml", "r/a:3.3.2-python3.11", 61.4, "manual__x",
                                           42.0, ("airflow-worker", "redis"))
    assert found.lines() == [
        "docker-compose.yaml on r/a:3.3.2-python3.11: 2 services healthy after 61s; "
        "DAG hello run manual__x succeeded after 42s more, its task run by a Celery worker"]


def test_the_profile_declares_the_official_images_default_and_slim() -> None:
    config = load_config(REPO_ROOT, profile=REPO_ROOT / PROFILE)
    assert config.variant_names == ("", "slim")
    assert len(config.extras) == 34 and "celery" in config.extras
    slim = config.for_variant("slim")
    assert slim.extras == () and dict(slim.build_args)["BUILD_APT_DEPS"] == ""
    runtime = dict(config.build_args)["RUNTIME_APT_DEPS"].split()
    assert {"libpq5", "libmariadb3", "unixodbc", "krb5-user", "ldap-utils", "curl"} <= set(runtime)
    assert not any(p.endswith("-dev") or p in {"gcc", "g++"} for p in runtime)
    build = dict(config.build_args)["BUILD_APT_DEPS"].split()
    assert "gcc" in build and "libmariadb-dev" in build
    assert make_constraints_extras(config) == sorted(config.extras)


def test_bench_lines_name_the_variant() -> None:
    lines = Bench("3.11", 120.0, 2.0, 400_000_000, 100.0, 1.0, 500_000_000, "slim").lines()
    assert lines[0].startswith("python3.11 slim: pipeline image 400 MB")
    assert Bench("3.11", 1, 1, 1, 1, 1, 1).lines()[0].startswith("python3.11 default:")


def test_the_json_an_airflow_command_printed_is_found_among_its_log_lines() -> None:
    output = ('2026-11-28T13:24:42Z [info     ] Filling up the DagBag\n'
              '[{"dag_run_id": "manual__1", "state": "queued"}]\n')
    assert airflow_compose.json_in(output) == [{"dag_run_id": "manual__1", "state": "queued"}]
    assert airflow_compose.json_in('{"state": "success"}') == [{"state": "success"}]
    with pytest.raises(VerificationError, match="no JSON"):
        airflow_compose.json_in("2026 [error] no such DAG\n[not json\n")


AIRFLOW_3_3_2 = {
    "Requires-Python": [">=3.10,!=3.15"],
    "Classifier": ["Framework :: Apache Airflow", "Programming Language :: Python :: 3",
                   *(f"Programming Language :: Python :: 3.{minor}" for minor in (14, 10, 11, 12, 13))],
}


def test_supported_flavours_are_the_version_classifiers_requires_python_admits() -> None:
    assert supported_flavours(AIRFLOW_3_3_2) == ["3.10", "3.11", "3.12", "3.13", "3.14"]
    narrower = {**AIRFLOW_3_3_2, "Requires-Python": [">=3.11,<3.14"]}
    assert supported_flavours(narrower) == ["3.11", "3.12", "3.13"]
    assert supported_flavours({"Classifier": ["Programming Language :: Python :: 3.9"]}) == ["3.9"]
    assert supported_flavours({}) == []


def test_the_flavours_line_names_what_is_built_and_why_the_rest_is_skipped() -> None:
    supported = supported_flavours(AIRFLOW_3_3_2)
    buildable = ("3.9", "3.11", "3.13", "3.14")
    assert flavours_line(supported, ["3.11", "3.13", "3.14"], buildable) == (
        "flavours: 3.11, 3.13, 3.14 of the supported 3.10, 3.11, 3.12, 3.13, 3.14; skipped 3.10, 3.12: "
        "no Debian suite has it as its python3, so no base image")
    assert flavours_line(supported, ["3.11"], buildable).endswith("; not in the profile: 3.13, 3.14")
    assert flavours_line(["3.11"], ["3.11"], buildable) == "flavours: 3.11 of the supported 3.11"


def test_the_profile_builds_every_supported_flavour_a_base_image_can_be_made_for() -> None:
    profile = load_config(REPO_ROOT, profile=REPO_ROOT / PROFILE)
    buildable = [f for f in supported_flavours(AIRFLOW_3_3_2) if f in SANDBOX_SUITES]
    assert list(profile.python) == buildable


def test_the_provider_listing_is_read_after_the_log_lines_airflow_prints_first() -> None:
    listing = [{"package_name": "apache-airflow-providers-standard", "description": "Standard"},
               {"package_name": "apache-airflow-providers-celery", "description": "[Celery](x)"}]
    warning = ("2026-11-28T18:42:18.112321Z [warning  ] FileType is deprecated. Simply open files after "
               "parsing arguments. [py.warnings] category=PendingDeprecationWarning\n")
    expected = ["apache-airflow-providers-celery", "apache-airflow-providers-standard"]
    assert airflow_checks.listed_providers(json.dumps(listing)) == expected
    assert airflow_checks.listed_providers(warning * 2 + json.dumps(listing, indent=2) + "\n") == expected
    assert airflow_checks.listed_providers("[]\n") == []
    with pytest.raises(ValueError):
        airflow_checks.listed_providers(warning)
    with pytest.raises(ValueError):
        airflow_checks.listed_providers('[{"package_name": "apache-airflow-providers-standard"')
