# SPDX-License-Identifier: Apache-2.0
"""Airflow's own checks of a built image, beyond the pipeline's smoke test: the entrypoint keeps the
official image's conventions, every installed provider is listed and imports, and `airflow db
migrate` works against a real PostgreSQL and a real MariaDB (the sandbox's, from Debian).
Each check is a `Check` (name, ok, detail), as the smoke test's are.
"""

from __future__ import annotations

import json
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters.engine import Engine, RunResult
from release.errors import CommandError, ServiceError
from release.steps.smoke import Check

TAIL = 400
PIP_PACKAGE = "pyfiglet==1.0.2"  # small, pure Python, not in the image: proves an install happened

# Every installed provider distribution, `airflow providers list`, and an import of each package.
PROVIDERS = r"""
import importlib, json, re, subprocess
from importlib import metadata
prefix = "apache-airflow-providers-"
names = sorted({re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower() for d in metadata.distributions()
                if re.sub(r"[-_.]+", "-", d.metadata["Name"] or "").lower().startswith(prefix)})
failed = {}
for name in names:
    module = "airflow.providers." + name[len(prefix):].replace("-", ".")
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = f"{type(exc).__name__}: {exc}"[:300]
listing = subprocess.run(["airflow", "providers", "list", "--output", "json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
print(json.dumps({"installed": names, "listing": listing.stdout, "listing_errors": listing.stderr[-600:],
                  "failed": failed}))
"""


@dataclass(frozen=True)
class Case:
    """One way users run the image, and what it must do."""

    name: str
    command: tuple[str, ...]
    exit_code: int = 0
    expect: tuple[str, ...] = ()
    user: str | None = None
    environment: Mapping[str, str] | None = None
    network: str = "none"
    mount: bool = False  # a folder with a module mounted at /opt/extra (for PYTHONPATH)


def entrypoint_cases(version: str, flavour: str) -> list[Case]:
    """The official image's conventions, as Airflow's docs and docker-compose file use them."""
    return [
        Case("no command: airflow's usage, exit 2", (), 2, ("GROUP_OR_COMMAND",)),
        Case("bare subcommand", ("version",), 0, (version,)),
        Case("airflow subcommand", ("airflow", "version"), 0, (version,)),
        Case("bash as given", ("bash", "-c", "echo shell $((40 + 2))"), 0, ("shell 42",)),
        Case("python as given", ("python", "-c", "import sys; print('python%d.%d' % sys.version_info[:2])"),
             0, (f"python{flavour}",)),
        Case("arbitrary uid in group 0", ("bash", "-c",
             "airflow db migrate > /dev/null && touch \"$AIRFLOW_HOME/mine\" && id -u && "
             "stat -c 'mode %a' \"$AIRFLOW_HOME/mine\" && "
             "python -c 'import getpass; print(getpass.getuser())'"),
             0, ("4242", "mode 664", "default"), user="4242:0"),
        Case("another group is refused", ("version",), 1, ("group must be 0",), user="4242:4242"),
        Case("root runs airflow info", ("airflow", "info"), 0, (version, "sqlite"), user="0"),
        Case("_AIRFLOW_DB_MIGRATE", ("version",), 0, ("Database migration done", version),
             environment={"_AIRFLOW_DB_MIGRATE": "true"}),
        Case("code mounted on PYTHONPATH",
             ("python", "-c", "import acceptance_extra; print(acceptance_extra.VALUE)"), 0, ("mounted 42",),
             environment={"PYTHONPATH": "/opt/extra"}, mount=True),
        Case("_PIP_ADDITIONAL_REQUIREMENTS", ("python", "-c", "import pyfiglet; print(pyfiglet.__file__)"),
             0, ("/home/airflow/.local/",), environment={"_PIP_ADDITIONAL_REQUIREMENTS": PIP_PACKAGE},
             network="bridge"),
    ]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TAIL else "..." + text[-TAIL:]


def case_check(case: Case, result: RunResult) -> Check:
    """Pure: the verdict on one case."""
    output = result.stdout + result.stderr
    name = f"entrypoint: {case.name}"
    if result.exit_code != case.exit_code:
        return Check(name, False, f"exit {result.exit_code}, expected {case.exit_code}: {_short(output)}")
    missing = [text for text in case.expect if text not in output]
    if missing:
        return Check(name, False, f"{missing} not in the output: {_short(output)}")
    return Check(name, True)


def entrypoint_checks(engine: Engine, image: str, *, version: str, flavour: str) -> list[Check]:
    with tempfile.TemporaryDirectory(prefix="airflow-extra-") as extra:
        Path(extra, "acceptance_extra.py").write_text("VALUE = 'mounted 42'\n", encoding="utf-8")
        Path(extra).chmod(0o755)
        Path(extra, "acceptance_extra.py").chmod(0o644)
        checks = []
        for case in entrypoint_cases(version, flavour):
            try:
                result = engine.run(image, case.command, user=case.user, environment=case.environment,
                                    network_mode=case.network, timeout=600,
                                    volumes={extra: "/opt/extra:ro"} if case.mount else None)
            except (CommandError, ServiceError) as exc:
                checks.append(Check(f"entrypoint: {case.name}", False, str(exc)))
                continue
            checks.append(case_check(case, result))
        return checks


def listed_providers(listing: str) -> list[str]:
    """The distributions `airflow providers list --output json` lists. Airflow's log lines may come
    first on stdout (on Python 3.14 it logs argparse's FileType deprecation there): the listing is
    the JSON array that starts a line. ValueError if there is none."""
    lines = listing.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("[")), None)
    if start is None:
        raise ValueError("no JSON array in the output")
    entries, _ = json.JSONDecoder().raw_decode("\n".join(lines[start:]))
    return sorted(str(entry["package_name"]) for entry in entries)


def providers_verdict(found: Mapping[str, object]) -> Check:
    """Pure: every installed provider is listed by `airflow providers list` and imports."""
    installed, listed = list(found.get("installed") or []), list(found.get("listed") or [])  # type: ignore[call-overload]
    failed = dict(found.get("failed") or {})  # type: ignore[call-overload]
    name = f"providers: {len(installed)} installed, listed and imported"
    if failed:
        return Check(name, False, "; ".join(f"{m}: {e}" for m, e in failed.items())[:TAIL * 2])
    if installed != listed:
        return Check(name, False, f"installed but not listed: {sorted(set(installed) - set(listed))}; "
                                  f"listed but not installed: {sorted(set(listed) - set(installed))}")
    return Check(name, True) if installed else Check(name, False, "no provider installed")


def providers_check(engine: Engine, image: str) -> tuple[Check, list[str]]:
    """The providers verdict and the installed provider distributions."""
    try:
        result = engine.run(image, ["python", "-c", PROVIDERS], timeout=900)
        found = json.loads(result.stdout.strip().splitlines()[-1])
    except (CommandError, ServiceError, ValueError, IndexError) as exc:
        return Check("providers", False, f"the provider probe failed: {exc}"), []
    try:
        found["listed"] = listed_providers(str(found.get("listing") or ""))
    except (ValueError, KeyError, TypeError) as exc:
        output = str(found.get("listing") or "")[-300:] + str(found.get("listing_errors") or "")[-300:]
        return Check("providers", False, f"`airflow providers list` unreadable ({exc}): {output}"), []
    return providers_verdict(found), list(found.get("installed") or [])


@dataclass(frozen=True)
class Database:
    """A metadata database server the image is checked against."""

    name: str  # postgres | mariadb: the sandbox service image
    url: str  # SQLAlchemy URL, host = name
    environment: Mapping[str, str]


DATABASES: Mapping[str, Database] = {
    "postgres": Database("postgres", "postgresql+psycopg2://airflow:airflow@postgres/airflow",
                         {"POSTGRES_USER": "airflow", "POSTGRES_PASSWORD": "airflow",
                          "POSTGRES_DB": "airflow"}),
    "mariadb": Database("mariadb", "mysql+mysqldb://airflow:airflow@mariadb/airflow",
                        {"MARIADB_ROOT_PASSWORD": "root", "MARIADB_DATABASE": "airflow",
                         "MARIADB_USER": "airflow", "MARIADB_PASSWORD": "airflow"}),
}


def migrate_check(engine: Engine, image: str, database: Database, service_image: str, *,
                  start_after: float = 10.0) -> Check:
    """`airflow db migrate` against a fresh server: the Airflow container starts first and the
    server `start_after` seconds later, so the entrypoint has to wait for it."""
    name = f"db migrate: {database.name}"
    network = engine.network(f"airflow-acceptance-{uuid.uuid4().hex[:8]}")
    server: list[str] = []
    failures: list[str] = []

    def start() -> None:
        try:
            server.append(engine.start(service_image, name=f"{network}-{database.name}", network=network,
                                       environment=database.environment, aliases=[database.name]))
        except ServiceError as exc:
            failures.append(str(exc))

    timer = threading.Timer(start_after, start)
    try:
        timer.start()
        result = engine.run(image, ["db", "migrate"], network_mode=network, timeout=1200, environment={
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database.url, "CONNECTION_CHECK_MAX_COUNT": "60",
            "CONNECTION_CHECK_SLEEP_TIME": "2"})
        output = result.stdout + result.stderr
        if failures:
            return Check(name, False, f"the {database.name} server did not start: {failures[0]}")
        if result.exit_code != 0 or "Database migration done!" not in output:
            server_log = engine.logs(server[0], tail=30) if server else ""
            detail = f"exit {result.exit_code}: {_short(output)}; server: {_short(server_log)}"
            return Check(name, False, detail)
        return Check(name, True)
    except (CommandError, ServiceError) as exc:
        return Check(name, False, str(exc))
    finally:
        timer.cancel()
        timer.join()
        for container in server:
            engine.stop(container)
        engine.remove_network(network)


def database_checks(engine: Engine, image: str, services: Mapping[str, str], extras: Sequence[str],
                    say: Callable[[str], None]) -> list[Check]:
    """`db migrate` on every server the image has the client for: PostgreSQL with the `postgres`
    extra, MariaDB with the `mysql` extra."""
    wanted = [("postgres", "postgres"), ("mysql", "mariadb")]
    checks = []
    for extra, server in wanted:
        if extra in extras:
            check = migrate_check(engine, image, DATABASES[server], services[server])
            say(f"{image}: {check.name}: {'ok' if check.ok else 'FAILED ' + check.detail}")
            checks.append(check)
    return checks
