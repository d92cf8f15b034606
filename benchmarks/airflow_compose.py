# SPDX-License-Identifier: Apache-2.0
"""Airflow's CeleryExecutor docker-compose setups on the pipeline's images, brought up and used.

Two files: the quick start of examples/airflow/ (the pipeline's own), and Airflow's own file from
its docs (examples/airflow/docker-compose.official.yaml: only the postgres and redis images are the
sandbox's). Each run brings the file up under a throwaway project name, waits until every service
with a health check is healthy and the init container finished, triggers the example DAG `hello`
and waits for its run to succeed (a Celery worker runs the task the scheduler queued through
Redis), then takes everything down with its volumes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from release.adapters.cmd import run
from release.adapters.engine import Engine
from release.errors import VerificationError
from release.progress import Progress
from release.sandbox.tools import ensure_program

QUICK_START = Path("examples/airflow/docker-compose.yaml")
OFFICIAL = Path("examples/airflow/docker-compose.official.yaml")
DAGS = Path("examples/airflow/dags")
EXAMPLE_DAG = "hello"  # examples/airflow/dags/hello.py
EXAMPLE_TASK = "say_hello"
INIT = "airflow-init"
SCHEDULER = "airflow-scheduler"
WORKER = "airflow-worker"


@dataclass(frozen=True)
class ComposeOutcome:
    """What one compose run showed: when it was healthy, the DAG run, and who ran the task."""

    file: str
    image: str
    healthy_seconds: float
    run_id: str
    dag_seconds: float
    services: tuple[str, ...]
    worker_log: str = field(default="", repr=False)

    def lines(self) -> list[str]:
        return [f"{self.file} on {self.image}: {len(self.services)} services healthy after "
                f"{self.healthy_seconds:.0f}s; DAG {EXAMPLE_DAG} run {self.run_id} succeeded after "
                f"{self.dag_seconds:.0f}s more, its task run by a Celery worker"]


def compose_command(say: Progress) -> list[str]:
    """`docker-compose` (v1, Debian's package) or `docker compose` (v2), installing v1 if neither."""
    found = shutil.which("docker-compose")
    if found:
        return [found]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return [ensure_program("docker-compose", "docker-compose", say)]


def json_in(output: str) -> list[dict[str, object]]:
    """The JSON list an Airflow CLI command printed with `--output json`, among its log lines."""
    decoder = json.JSONDecoder()
    for line_start in [0] + [i + 1 for i, char in enumerate(output) if char == "\n"]:
        if output[line_start:line_start + 1] in {"[", "{"}:
            try:
                found, _ = decoder.raw_decode(output, line_start)
            except ValueError:
                continue
            return found if isinstance(found, list) else [found]
    raise VerificationError(f"no JSON in the command's output: {output[-500:]}")


class Compose:
    """One project of one compose file: up, wait, exec, down."""

    def __init__(self, file: Path, env: Mapping[str, str], say: Progress, *, directory: Path | None = None):
        self.file = file
        self.project = f"airflow-acceptance-{uuid.uuid4().hex[:8]}"
        self.env = dict(env)
        self.say = say
        self.directory = directory or file.parent
        self.base = [*compose_command(say), "--file", str(file), "--project-name", self.project,
                     "--project-directory", str(self.directory)]
        self.engine = Engine()

    def __call__(self, *args: str, check: bool = True) -> str:
        return run([*self.base, *args], env=self.env, check=check).stdout

    def services(self) -> list[str]:
        """The services `up` starts: the file's, but those behind a profile."""
        resolved = yaml.safe_load(self("config")) or {}
        return sorted(name for name, spec in (resolved.get("services") or {}).items()
                      if not (spec or {}).get("profiles"))

    def containers(self) -> dict[str, str]:
        """service -> container id, for the services that have a container."""
        found = {}
        for container in self.engine.containers(f"com.docker.compose.project={self.project}"):
            labels = self.engine.labels_of(container)
            found[labels.get("com.docker.compose.service", container)] = container
        return found

    def wait_healthy(self, timeout: float) -> tuple[float, tuple[str, ...]]:
        """Until every service has its container, every container with a health check is healthy,
        every other one runs, and the init container exited 0."""
        started = time.monotonic()
        expected = self.services()
        waiting: dict[str, str] = {}
        while time.monotonic() - started < timeout:
            containers = self.containers()
            waiting = {service: "no container" for service in expected if service not in containers}
            for service, container in containers.items():
                state = self.engine.state(container)
                health = (state.get("Health") or {}).get("Status")
                if service == INIT:
                    if state.get("Status") != "exited":
                        waiting[service] = str(state.get("Status"))
                    elif state.get("ExitCode") != 0:
                        raise VerificationError(f"{INIT} exited {state.get('ExitCode')}:\n"
                                                f"{self.engine.logs(container, tail=60)}")
                elif health is not None and health != "healthy":
                    waiting[service] = health
                elif state.get("Status") != "running":
                    waiting[service] = str(state.get("Status"))
            if not waiting:
                return time.monotonic() - started, tuple(sorted(containers))
            time.sleep(5)
        logs = {service: self.engine.logs(c, tail=25) for service, c in self.containers().items()
                if service in waiting}
        detail = "\n".join(f"--- {service}:\n{text}" for service, text in logs.items())
        raise VerificationError(f"{self.file.name}: not healthy within {timeout:.0f}s; waiting for "
                                f"{waiting}\n{detail[-6000:]}")

    def airflow(self, *args: str, check: bool = True) -> str:
        """An Airflow CLI command in the scheduler's container (through the engine: compose v1's
        exec gives up on a command that prints nothing for a minute, as Airflow's CLI may)."""
        result = self.engine.exec(self.containers()[SCHEDULER], ["airflow", *args])
        if check and result.exit_code != 0:
            raise VerificationError(f"airflow {' '.join(args)} in {SCHEDULER}: exit {result.exit_code}: "
                                    f"{(result.stdout + result.stderr)[-1000:]}")
        return result.stdout

    def run_dag(self, dag: str, timeout: float) -> tuple[str, float]:
        """Unpause and trigger `dag` once the DAG processor has it; wait for the run to succeed."""
        started = time.monotonic()
        while EXAMPLE_DAG not in self.airflow("dags", "list", "--output", "plain", check=False):
            if time.monotonic() - started > timeout:
                raise VerificationError(f"the DAG processor did not pick up {dag} within {timeout:.0f}s")
            time.sleep(5)
        self.airflow("dags", "unpause", dag)
        triggered = json_in(self.airflow("dags", "trigger", dag, "--output", "json"))
        run_id = str(triggered[0].get("dag_run_id") or triggered[0].get("run_id"))
        state = ""
        while time.monotonic() - started < timeout:
            runs = json_in(self.airflow("dags", "list-runs", dag, "--output", "json"))
            state = next((str(r["state"]) for r in runs if r.get("run_id") == run_id), "")
            if state in {"success", "failed"}:
                break
            time.sleep(5)
        if state != "success":
            logs = self.engine.logs(self.containers().get(WORKER, ""), tail=60)
            raise VerificationError(f"DAG {dag} run {run_id} is {state or 'not finished'} after "
                                    f"{timeout:.0f}s; worker log:\n{logs[-4000:]}")
        return run_id, time.monotonic() - started

    def down(self) -> None:
        self("down", "--volumes", "--remove-orphans", "--timeout", "30", check=False)


def run_compose(file: Path, image: str, env: Mapping[str, str], say: Progress, *,
                directory: Path | None = None, timeout: float = 900) -> ComposeOutcome:
    """Up, healthy, DAG `hello` to success, down (always)."""
    compose = Compose(file, env, say, directory=directory)
    try:
        compose("up", "--detach")
        healthy, services = compose.wait_healthy(timeout)
        say(f"{file.name}: {', '.join(services)} healthy after {healthy:.0f}s")
        run_id, seconds = compose.run_dag(EXAMPLE_DAG, timeout)
        worker = compose.engine.logs(compose.containers()[WORKER], tail=400)
        if EXAMPLE_TASK not in worker and run_id not in worker:
            raise VerificationError(f"DAG run {run_id} succeeded, but the Celery worker's log does not show "
                                    f"its task {EXAMPLE_TASK}:\n{worker[-3000:]}")
        say(f"{file.name}: DAG {EXAMPLE_DAG} run {run_id} succeeded after {seconds:.0f}s")
        return ComposeOutcome(file.name, image, healthy, run_id, seconds, services, worker)
    finally:
        compose.down()


def quick_start(root: Path, image: str, services: Mapping[str, str], *, port: int, say: Progress
                ) -> ComposeOutcome:
    """examples/airflow/docker-compose.yaml on `image`, with the sandbox's postgres and redis."""
    env = {"AIRFLOW_IMAGE": image, "AIRFLOW_PORT": str(port), "POSTGRES_IMAGE": services["postgres"],
           "REDIS_IMAGE": services["redis"]}
    return run_compose(root / QUICK_START, image, env, say)


def official(root: Path, image: str, say: Progress, *, uid: int = 50000) -> ComposeOutcome:
    """Airflow's own file on `image`, set up as its docs say: AIRFLOW_IMAGE_NAME, AIRFLOW_UID and
    AIRFLOW_PROJ_DIR holding dags/ (with the example DAG), logs/, config/ and plugins/. It
    publishes port 8080 on every interface, as the file says."""
    with tempfile.TemporaryDirectory(prefix="airflow-official-compose-") as work:
        project = Path(work)
        shutil.copytree(root / DAGS, project / "dags")
        for name in ("logs", "config", "plugins"):
            (project / name).mkdir()
        env = {"AIRFLOW_IMAGE_NAME": image, "AIRFLOW_UID": str(uid), "AIRFLOW_PROJ_DIR": str(project)}
        try:
            return run_compose(root / OFFICIAL, image, env, say, directory=project)
        finally:  # the containers wrote as AIRFLOW_UID and root; the files are ours to remove
            Engine().run(image, ["bash", "-c", "rm -rf /project/logs/* /project/config/*"], user="0",
                         volumes={str(project): "/project"})


def names(outcomes: Sequence[ComposeOutcome]) -> list[str]:
    return [line for outcome in outcomes for line in outcome.lines()]
