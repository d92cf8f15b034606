"""Acceptance on the real thing: a real Apache Airflow release from PyPI through the same Dockerfile
and pipeline (`nox -s airflow`, tests/test_airflow.py).

For each flavour of examples/airflow/pyproject.toml: build the production image (`install =
"index"`, the profile's constraints), run the generic smoke checks and the profile's own
(smoke-commands, health-check), bring examples/airflow/docker-compose.yaml up on the image and wait
for a healthy answer; optionally time cold and warm builds against a plain single-stage image.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path

from release.adapters.cmd import run
from release.adapters.engine import Engine
from release.adapters.index import download_wheel
from release.adapters.net import free_port
from release.config import ReleaseConfig, load_config
from release.errors import ConfigError, ReleaseError, VerificationError
from release.pipeline.connect import Target, base_images, connect
from release.plan.images import context_tar
from release.plan.tags import BuildKind
from release.progress import Event, Progress
from release.sandbox.tools import ensure_program
from release.steps.images import ImageResult, build_images, image_source
from release.steps.smoke import SmokeReport, smoke_images

PROFILE = Path("examples/airflow/pyproject.toml")
PLAIN_DOCKERFILE = Path("examples/airflow/Dockerfile.plain")
COMPOSE_FILE = Path("examples/airflow/docker-compose.yaml")
HEALTH_PATH = "/api/v2/monitor/health"
HEALTHY = ("metadatabase", "scheduler", "dag_processor")  # the components the quick start runs
EXAMPLE_DAG = "hello"  # examples/airflow/dags/hello.py
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BENCH_LABEL = "org.release-pipeline.bench"
Say = Progress


@dataclasses.dataclass(frozen=True)
class Bench:
    """Cold and warm build times and sizes of one flavour: the pipeline's image and the plain one."""

    flavour: str
    cold: float
    warm: float
    size: int
    plain_cold: float
    plain_warm: float
    plain_size: int

    def lines(self) -> list[str]:
        name, mb = f"python{self.flavour}", 1e6
        return [
            f"{name}: pipeline image {self.size / mb:.0f} MB, plain {self.plain_size / mb:.0f} MB "
            f"(size ratio {self.size / self.plain_size:.2f})",
            f"{name}: cold build {self.cold:.0f}s vs plain {self.plain_cold:.0f}s "
            f"(time ratio {self.cold / self.plain_cold:.2f})",
            f"{name}: warm build {self.warm:.1f}s vs plain {self.plain_warm:.1f}s",
        ]


@dataclasses.dataclass
class Acceptance:
    version: str
    images: list[ImageResult]
    smoke: list[SmokeReport]
    compose_seconds: float | None = None
    bench: list[Bench] = dataclasses.field(default_factory=list)

    def summary(self) -> list[str]:
        lines = [f"{r.ref}: {r.status} in {r.seconds:.0f}s, {r.size / 1e6:.0f} MB" for r in self.images]
        lines += [f"smoke {r.ref}: {'ok' if r.ok else 'FAILED'} ({len(r.checks)} checks, {r.seconds:.0f}s)"
                  for r in self.smoke]
        if self.compose_seconds is not None:
            lines.append(f"docker-compose quick start healthy after {self.compose_seconds:.0f}s")
        return lines + [line for bench in self.bench for line in bench.lines()]


def pinned_version(constraints: str, name: str) -> str:
    """The version `constraints` pins for distribution `name` (the release the profile targets)."""
    pattern = "[-_.]+".join(re.escape(part) for part in re.split(r"[-_.]+", name))
    match = re.search(rf"^{pattern}==([^\s;]+)\s*$", constraints, re.MULTILINE | re.IGNORECASE)
    if match is None:
        raise ConfigError(f"the constraints file pins no {name}==VERSION (without a marker)")
    return match.group(1)


def compose_command(say: Say) -> list[str]:
    """`docker-compose` (v1, Debian's package) or `docker compose` (v2), installing v1 if neither."""
    found = shutil.which("docker-compose")
    if found:
        return [found]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return [ensure_program("docker-compose", "docker-compose", say)]


def health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.read().decode() if answer.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None



def compose_check(root: Path, image: str, *, port: int, timeout: float = 300, say: Say = print) -> float:
    """Bring the quick start up on `image`, wait until the API server, scheduler and DAG processor
    report healthy, then take it down with its volume. Returns the seconds it took to get healthy."""
    compose = [*compose_command(say), "--file", str(root / COMPOSE_FILE), "--project-name",
               f"airflow-acceptance-{uuid.uuid4().hex[:8]}"]
    env = {"AIRFLOW_IMAGE": image, "AIRFLOW_PORT": str(port)}
    url = f"http://127.0.0.1:{port}{HEALTH_PATH}"
    started = time.monotonic()
    try:
        run([*compose, "up", "--detach"], env=env)
        while time.monotonic() - started < timeout:
            body = health(url) or ""
            if all(f'"{part}":{{"status":"healthy"' in body for part in HEALTHY):
                seconds = time.monotonic() - started
                say(f"docker-compose: {url} healthy after {seconds:.0f}s: {body}")
                dags = run([*compose, "exec", "-T", "airflow", "airflow", "dags", "list"], env=env).stdout
                if EXAMPLE_DAG not in dags:
                    raise VerificationError(f"dags/ is mounted but `airflow dags list` lacks it: {dags}")
                return seconds
            time.sleep(3)
        logs = run([*compose, "logs", "--tail", "40"], env=env, check=False).stdout
        raise VerificationError(f"the docker-compose quick start was not healthy at {url} within "
                                f"{timeout:.0f}s; last health answer {body!r}; logs:\n{logs[-3000:]}")
    finally:
        run([*compose, "down", "--volumes", "--remove-orphans"], env=env, check=False)


def build_and_smoke(
    config: ReleaseConfig, version: str, wheel: Path, target: Target, flavours: Sequence[str],
    engine: Engine, say: Say,
) -> tuple[list[ImageResult], list[SmokeReport]]:
    """The pipeline's own build and smoke steps (generic checks, then the profile's); no push, so
    the registry is not consulted: an image the engine has from the same inputs is reused."""
    def progress(event: str | Event) -> None:
        if isinstance(event, str) or event.kind not in {"output", "step"}:
            say(str(event))

    source = image_source(config, version, [wheel])
    bases = {p: ref for p, ref in base_images(config, target).items() if p in flavours}
    results = build_images(config, version, wheels=[wheel], registry=target.registry, flavours=flavours,
                           base_images=bases, kind=BuildKind.RELEASE, source=source, engine=engine,
                           check_registry=False, progress=progress)

    def report(found: SmokeReport) -> None:
        failed = ", ".join(c.name for c in found.failures)
        say(f"smoke {found.ref}: {'ok' if found.ok else 'FAILED ' + failed} ({found.seconds:.0f}s)")

    reports = smoke_images(config, results, version=version, wheels=[wheel], engine=engine, on_report=report)
    return results, reports


def _cold_base(engine: Engine, base: str, registry: str, flavour: str) -> str:
    """`base` plus a unique label: a new image id, so no build step can come from the cache."""
    nonce = uuid.uuid4().hex[:12]
    ref = f"{registry}/sandbox/bench-python:{flavour}-{nonce}"
    dockerfile = f"FROM {base}\nLABEL {BENCH_LABEL}={nonce}\n".encode()
    engine.build(context_tar({"Dockerfile": dockerfile}), tag=ref, buildargs={})
    engine.push(ref)  # only a manifest and a config: the layers are the base's
    return ref


def _remove_bench_images(base: str) -> None:
    """Every image built on the bench base (they all carry its label), newest first."""
    info = Engine().inspect(base)
    nonce = info.labels.get(BENCH_LABEL) if info else None
    if not nonce:
        return
    listing = ["docker", "image", "ls", "--all", "--quiet", "--filter", f"label={BENCH_LABEL}={nonce}"]
    ids = run(listing).stdout.split()
    if ids:
        run(["docker", "image", "rm", "--force", *dict.fromkeys(ids)], check=False)


def bench_flavour(config: ReleaseConfig, version: str, wheel: Path, target: Target, flavour: str,
                  engine: Engine, say: Say) -> Bench:
    """Cold then warm: the pipeline's image and the plain single-stage one, on a fresh base id."""
    base = _cold_base(engine, base_images(config, target)[flavour], target.registry, flavour)
    bench = dataclasses.replace(config, image="bench/airflow")
    source = image_source(bench, version, [wheel], extra_args=dict(config.build_args))
    plain_context = context_tar({"Dockerfile": (config.root / PLAIN_DOCKERFILE).read_bytes(),
                                 "constraints.txt": (config.root / config.constraints).read_bytes()})
    plain_ref = f"{target.registry}/bench/airflow-plain:{version}-python{flavour}"
    try:
        times: list[float] = []
        for revision in ("cold", "warm"):  # another revision: another input hash, same layers
            started = time.monotonic()
            (result,) = build_images(
                bench, version, wheels=[wheel], registry=target.registry, flavours=[flavour],
                base_images={flavour: base}, source=dataclasses.replace(source, revision=revision),
                check_registry=False, engine=engine, progress=lambda event: None,
            )
            times.append(time.monotonic() - started)
            say(f"bench python{flavour}: pipeline {revision} build {times[-1]:.1f}s")
        for revision in ("cold", "warm"):
            started = time.monotonic()
            outcome = engine.build(plain_context, tag=plain_ref,
                                   buildargs={"PYTHON_BASE_IMAGE": base, "AIRFLOW_VERSION": version})
            times.append(time.monotonic() - started)
            say(f"bench python{flavour}: plain {revision} build {times[-1]:.1f}s")
        plain = engine.inspect(outcome.image_id)
        return Bench(flavour, times[0], times[1], result.size, times[2], times[3], plain.size if plain else 0)
    finally:
        _remove_bench_images(base)


def run_airflow_acceptance(
    root: Path, flavours: Sequence[str] = (), *, compose: bool = True, bench: bool = False,
    port: int = 0, say: Say = print,
) -> Acceptance:
    """Build, smoke and (optionally) compose-check and bench the profile's images, one at a time."""
    config = load_config(root, profile=root / PROFILE)
    chosen = tuple(flavours) or config.python
    unknown = [p for p in chosen if p not in config.python]
    if unknown:
        known = ", ".join(config.python)
        raise ConfigError(f"Python {', '.join(unknown)}: not a flavour of {PROFILE} ({known})")
    version = pinned_version((root / config.constraints).read_text(), config.name)
    target = connect(config, flavours=chosen, progress=say)
    engine = Engine()
    wheel = download_wheel(f"{config.name}=={version}", root / "dist" / "airflow" / version)
    results, reports = build_and_smoke(config, version, wheel, target, chosen, engine, say)
    outcome = Acceptance(version, results, reports)
    if compose:
        default = next((r for r in results if r.flavour == config.default_python), results[0])
        outcome.compose_seconds = compose_check(root, default.ref, port=port or free_port(), say=say)
    if bench:
        outcome.bench = [bench_flavour(config, version, wheel, target, p, engine, say) for p in chosen]
    for line in outcome.summary():
        say(line)
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    """The Airflow acceptance from the command line (`nox -s airflow` runs it)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.airflow", description=main.__doc__)
    parser.add_argument("flavours", nargs="*", help="Python flavours of the profile (default: all)")
    parser.add_argument("--no-compose", action="store_true", help="skip the docker-compose quick start")
    parser.add_argument("--no-bench", action="store_true", help="skip the build timing vs the plain image")
    args = parser.parse_args(argv)
    try:
        run_airflow_acceptance(Path.cwd(), args.flavours, compose=not args.no_compose,
                               bench=not args.no_bench)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
