# SPDX-License-Identifier: Apache-2.0
"""Acceptance on the real thing: a real Apache Airflow release from PyPI through the same Dockerfile
and pipeline (`nox -s airflow`, tests/integration/test_airflow.py).

For each flavour and variant of examples/airflow/pyproject.toml: build the production image
(`install = "index"`, the profile's constraints, the variant's extras), run the generic smoke
checks and the profile's own, then Airflow's (benchmarks/airflow_checks.py): the entrypoint's
conventions, every provider listed and importable, `airflow db migrate` against the sandbox's
PostgreSQL and MariaDB (images built from Debian's packages). With the CeleryExecutor extras, the
quick start (examples/airflow/docker-compose.yaml) runs the example DAG through a Celery worker
and Redis, per flavour; Airflow's own docker-compose file does the same once
(benchmarks/airflow_compose.py). Optionally time cold and warm builds against a plain
single-stage image with the same extras and constraints.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from benchmarks import airflow_checks, airflow_compose
from benchmarks.airflow_compose import ComposeOutcome
from release import sandbox
from release.adapters.clients import real_clients
from release.adapters.cmd import run
from release.adapters.engine import Engine
from release.adapters.index import download_wheel
from release.adapters.net import free_port
from release.config import ReleaseConfig, load_config
from release.errors import ConfigError, ReleaseError, VerificationError
from release.pipeline.connect import Target, base_images, connect
from release.pipeline.images import image_job, planned_images
from release.plan.images import context_tar
from release.progress import Event, Progress
from release.sandbox.base_images import SANDBOX_SUITES
from release.steps.images import ImageResult, build_images, image_source, read_wheel_metadata
from release.steps.smoke import Check, SmokeReport, smoke_images

PROFILE = Path("examples/airflow/pyproject.toml")
PLAIN_DOCKERFILE = Path("examples/airflow/Dockerfile.plain")
COMPOSE_FILE = airflow_compose.QUICK_START
SERVICES = ("postgres", "mariadb", "redis")
CELERY_EXTRAS = frozenset({"celery", "postgres", "redis"})  # what the CeleryExecutor setups need
BENCH_LABEL = "org.release-pipeline.bench"
Say = Progress


def variant_label(variant: str) -> str:
    return variant or "default"


def supported_flavours(metadata: Mapping[str, Sequence[str]]) -> list[str]:
    """The `3.X` flavours a wheel's METADATA says it supports: its version classifiers that its
    Requires-Python admits, in version order."""
    requires = SpecifierSet((metadata.get("Requires-Python") or [""])[0])
    found = {m.group(1) for c in metadata.get("Classifier") or []
             if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c.strip()))}
    return sorted((f for f in found if requires.contains(f"{f}.0")), key=lambda f: Version(f))


def flavours_line(supported: Sequence[str], profile: Sequence[str], buildable: Iterable[str]) -> str:
    """One line: which supported flavours the profile builds, and which it skips and why."""
    built, can = [f for f in supported if f in profile], set(buildable)
    cannot = [f for f in supported if f not in profile and f not in can]
    left = [f for f in supported if f not in profile and f not in cannot]
    line = f"flavours: {', '.join(built) or 'none'} of the supported {', '.join(supported)}"
    if cannot:
        line += f"; skipped {', '.join(cannot)}: no Debian suite has it as its python3, so no base image"
    if left:
        line += f"; not in the profile: {', '.join(left)}"
    return line


@dataclasses.dataclass(frozen=True)
class Bench:
    """Cold and warm build times and sizes of one image: the pipeline's and the plain one."""

    flavour: str
    cold: float
    warm: float
    size: int
    plain_cold: float
    plain_warm: float
    plain_size: int
    variant: str = ""

    def lines(self) -> list[str]:
        name, mb = f"python{self.flavour} {variant_label(self.variant)}", 1e6
        return [
            f"{name}: pipeline image {self.size / mb:.0f} MB, plain {self.plain_size / mb:.0f} MB "
            f"(size ratio {self.size / self.plain_size:.2f})",
            f"{name}: cold build {self.cold:.0f}s vs plain {self.plain_cold:.0f}s "
            f"(time ratio {self.cold / self.plain_cold:.2f})",
            f"{name}: warm build {self.warm:.1f}s vs plain {self.plain_warm:.1f}s",
        ]


@dataclasses.dataclass(frozen=True)
class ImageChecks:
    """Airflow's own checks of one image."""

    ref: str
    flavour: str
    variant: str
    checks: tuple[Check, ...]
    providers: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


@dataclasses.dataclass
class Acceptance:
    version: str
    images: list[ImageResult]
    smoke: list[SmokeReport]
    checks: list[ImageChecks] = dataclasses.field(default_factory=list)
    compose: list[ComposeOutcome] = dataclasses.field(default_factory=list)
    bench: list[Bench] = dataclasses.field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return [f"{found.ref}: {check.name}: {check.detail}"
                for found in self.checks for check in found.failures]

    def summary(self) -> list[str]:
        lines = [f"{r.ref}: {r.status} in {r.seconds:.0f}s, {r.size / 1e6:.0f} MB" for r in self.images]
        lines += [f"smoke {r.ref}: {'ok' if r.ok else 'FAILED'} ({len(r.checks)} checks, {r.seconds:.0f}s)"
                  for r in self.smoke]
        lines += [f"airflow checks {c.ref}: {len(c.checks) - len(c.failures)}/{len(c.checks)} ok, "
                  f"{len(c.providers)} providers" for c in self.checks]
        lines += airflow_compose.names(self.compose)
        return lines + [line for bench in self.bench for line in bench.lines()]


def pinned_version(constraints: str, name: str) -> str:
    """The version `constraints` pins for distribution `name` (the release the profile targets)."""
    pattern = "[-_.]+".join(re.escape(part) for part in re.split(r"[-_.]+", name))
    match = re.search(rf"^{pattern}==([^\s;]+)\s*$", constraints, re.MULTILINE | re.IGNORECASE)
    if match is None:
        raise ConfigError(f"the constraints file pins no {name}==VERSION (without a marker)")
    return match.group(1)


def build_and_smoke(
    config: ReleaseConfig, version: str, wheel: Path, target: Target, flavours: Sequence[str],
    engine: Engine, say: Say, variants: Sequence[str] | None = None,
) -> tuple[list[ImageResult], list[SmokeReport]]:
    """The pipeline's own build and smoke steps (generic checks, then the profile's); no push, so
    the registry is not consulted: an image the engine has from the same inputs is reused."""
    def progress(event: str | Event) -> None:
        if isinstance(event, str) or event.kind not in {"output", "step"}:
            say(str(event))

    bases = {p: ref for p, ref in base_images(config, target).items() if p in flavours}
    clients = real_clients(target.registry, engine=engine)
    images = planned_images(config, version, target.registry, flavours=flavours, variants=variants,
                            base_images=bases)
    job = image_job(config, images, clients, version=version, wheels=[wheel], check_registry=False)
    results = build_images(job, clients, progress=progress)

    def report(found: SmokeReport) -> None:
        failed = ", ".join(c.name for c in found.failures)
        say(f"smoke {found.ref}: {'ok' if found.ok else 'FAILED ' + failed} ({found.seconds:.0f}s)")

    reports = smoke_images(config, [r.planned for r in results], version=version, wheels=[wheel],
                           engine=engine, on_report=report)
    return results, reports


def check_image(config: ReleaseConfig, result: ImageResult, version: str, services: dict[str, str],
                engine: Engine, say: Say) -> ImageChecks:
    """The entrypoint, the providers, and the databases the image has clients for."""
    extras = config.for_variant(result.image.variant).extras
    checks = airflow_checks.entrypoint_checks(engine, result.ref, version=version,
                                              flavour=result.image.flavour)
    providers, installed = airflow_checks.providers_check(engine, result.ref)
    checks.append(providers)
    if services:
        checks += airflow_checks.database_checks(engine, result.ref, services, extras, lambda line: say(line))
    found = ImageChecks(result.ref, result.image.flavour, result.image.variant, tuple(checks),
                        tuple(installed))
    for check in found.failures:
        say(f"{result.ref}: {check.name}: FAILED {check.detail}")
    say(f"airflow checks {result.ref}: {len(checks) - len(found.failures)}/{len(checks)} ok, "
        f"{len(installed)} providers")
    return found


def _cold_base(engine: Engine, base: str, registry: str, flavour: str) -> str:
    """`base` plus a unique layer and label: no build step can come from the layer cache (BuildKit
    keys a base by its layers, not its config: a label alone would not do)."""
    nonce = uuid.uuid4().hex[:12]
    ref = f"{registry}/sandbox/bench-python:{flavour}-{nonce}"
    dockerfile = f"FROM {base}\nRUN echo {nonce} > /etc/release-pipeline-bench\nLABEL {BENCH_LABEL}={nonce}\n"
    engine.build(context_tar({"Dockerfile": dockerfile.encode()}), tag=ref, buildargs={})
    engine.push(ref)  # a manifest, a config and a tiny layer: the others are the base's
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


def bench_image(config: ReleaseConfig, version: str, wheel: Path, target: Target, flavour: str, variant: str,
                engine: Engine, say: Say) -> Bench:
    """Cold then warm: the pipeline's image and the plain single-stage one (same extras, same
    constraints, the same Debian packages in its one stage), on a fresh base id."""
    base = _cold_base(engine, base_images(config, target)[flavour], target.registry, flavour)
    chosen = config.for_variant(variant)
    bench = dataclasses.replace(config, image="bench/airflow")
    source = image_source(bench, version, [wheel], extra_args=dict(config.build_args))
    plain_context = context_tar({"Dockerfile": (config.root / PLAIN_DOCKERFILE).read_bytes(),
                                 "constraints.txt": (config.root / config.constraints).read_bytes()})
    args = dict(chosen.build_args)
    apt = " ".join([args.get("BUILD_APT_DEPS", ""), args.get("RUNTIME_APT_DEPS", "")]).strip()
    plain_args = {"PYTHON_BASE_IMAGE": base, "AIRFLOW_VERSION": version,
                  "AIRFLOW_EXTRAS": ",".join(chosen.extras), "APT_DEPS": apt}
    plain_ref = f"{target.registry}/bench/airflow-plain:{version}-{variant_label(variant)}-python{flavour}"
    name = f"python{flavour} {variant_label(variant)}"
    try:
        times: list[float] = []
        clients = real_clients(target.registry, engine=engine)
        images = planned_images(bench, version, target.registry, flavours=[flavour], variants=[variant],
                                base_images={flavour: base})
        for revision in ("cold", "warm"):  # another revision: another input hash, same layers
            started = time.monotonic()
            job = image_job(bench, images, clients, version=version, wheels=[wheel],
                            source=dataclasses.replace(source, revision=revision), check_registry=False)
            (result,) = build_images(job, clients, progress=lambda event: None)
            times.append(time.monotonic() - started)
            say(f"bench {name}: pipeline {revision} build {times[-1]:.1f}s")
        for revision in ("cold", "warm"):
            started = time.monotonic()
            outcome = engine.build(plain_context, tag=plain_ref, buildargs=plain_args)
            times.append(time.monotonic() - started)
            say(f"bench {name}: plain {revision} build {times[-1]:.1f}s")
        plain = engine.inspect(outcome.image_id)
        return Bench(flavour, times[0], times[1], result.size, times[2], times[3], plain.size if plain else 0,
                     variant)
    finally:
        _remove_bench_images(base)


def run_airflow_acceptance(
    root: Path, flavours: Sequence[str] = (), *, variants: Sequence[str] | None = None, checks: bool = True,
    services: bool = True, compose: bool = True, official: bool = True, bench: bool = False, port: int = 0,
    say: Say = print,
) -> Acceptance:
    """Build, smoke and check the profile's images (every flavour and variant unless narrowed),
    run the docker-compose setups and (optionally) the bench; raise VerificationError naming every
    failed check once all have run."""
    config = load_config(root, profile=root / PROFILE)
    chosen = tuple(flavours) or config.python
    unknown = [p for p in chosen if p not in config.python]
    if unknown:
        known = ", ".join(config.python)
        raise ConfigError(f"Python {', '.join(unknown)}: not a flavour of {PROFILE} ({known})")
    wanted = tuple(config.variant_names if variants is None else variants)
    for variant in wanted:
        config.for_variant(variant)
    version = pinned_version((root / config.constraints).read_text(), config.name)
    target = connect(config, flavours=chosen, progress=say)
    engine = Engine(timeout=3600)
    wheel = download_wheel(f"{config.name}=={version}", root / "dist" / "airflow" / version)
    say(flavours_line(supported_flavours(read_wheel_metadata(wheel)), config.python, SANDBOX_SUITES))
    results, reports = build_and_smoke(config, version, wheel, target, chosen, engine, say, wanted)
    outcome = Acceptance(version, results, reports)
    servers = sandbox.service_images_up(root, SERVICES, progress=say) if services else {}
    if checks:
        outcome.checks = [check_image(config, r, version, servers, engine, say) for r in results]
    celery = [r for r in results if set(config.for_variant(r.image.variant).extras) >= CELERY_EXTRAS]
    if compose and services:
        outcome.compose = [airflow_compose.quick_start(root, r.ref, servers, port=port or free_port(),
                                                       say=say) for r in celery]
    if official and services:
        first = celery[0] if celery else None
        default = next((r for r in celery if r.image.flavour == config.default_python), first)
        if default is not None:
            outcome.compose.append(airflow_compose.official(root, default.ref, say))
    if bench:
        outcome.bench = [bench_image(config, version, wheel, target, p, v, engine, say)
                         for p in chosen for v in wanted]
    for line in outcome.summary():
        say(line)
    if outcome.failures:
        raise VerificationError("Airflow acceptance failed:\n" + "\n".join(outcome.failures))
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    """The Airflow acceptance from the command line (`nox -s airflow` runs it)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.airflow", description=main.__doc__)
    parser.add_argument("flavours", nargs="*", help="Python flavours of the profile (default: all)")
    parser.add_argument("--variant", action="append", dest="variants",
                        help="an image variant: 'default' or a declared one like 'slim' (repeatable; "
                             "default: all)")
    parser.add_argument("--no-checks", action="store_true",
                        help="skip Airflow's checks (entrypoint, providers, databases)")
    parser.add_argument("--no-services", action="store_true",
                        help="skip everything that needs the PostgreSQL, MariaDB and Redis images")
    parser.add_argument("--no-compose", action="store_true", help="skip the quick start docker-compose runs")
    parser.add_argument("--no-official", action="store_true", help="skip Airflow's own docker-compose file")
    parser.add_argument("--no-bench", action="store_true", help="skip the build timing vs the plain image")
    args = parser.parse_args(argv)
    variants = None if not args.variants else ["" if v == "default" else v for v in args.variants]
    try:
        run_airflow_acceptance(Path.cwd(), args.flavours, variants=variants, checks=not args.no_checks,
                               services=not args.no_services, compose=not args.no_compose,
                               official=not args.no_official, bench=not args.no_bench)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
