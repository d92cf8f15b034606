# SPDX-License-Identifier: Apache-2.0
"""Fresh-machine figures for `nox -s bench`: the base images debootstrapped at once (with an empty and
with a warm package cache), and the README's main command as a fresh machine would run it; and the
Airflow cold build against its plain image (`nox -s airflow` measures the same, with more).

The shared engine cannot be emptied (other builds use it), so the fresh machine is put together
from parts measured here: `pip install -e .` into a new venv, the sandbox's services started under
a new root, the three base images built under a repository and recipe of this run only, and the
release of this repository built on base images with a label of this run (so no build step comes
from the cache). Only the Debian packages the sandbox installs with apt are not measured: they are
installed on this machine already.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.bench import FLAVOURS, Bench
from benchmarks.bench_images import labelled_base, remove_labelled
from release import sandbox
from release.adapters.engine import Engine
from release.config import load_config
from release.pipeline.connect import connect
from release.pipeline.release import RunOptions, run_release
from release.sandbox import base_images
from release.sandbox.state import Layout
from release.versions import parse_version


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def bench_base_images(bench: Bench, registry: str) -> float:
    """The three suites debootstrapped at once, under a repository and recipe of this run, first with
    an empty package cache, then with the one the first run filled. Returns the first time."""
    nonce = uuid.uuid4().hex[:8]
    lines, seconds = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-base-") as work:
        layout = Layout.of(Path(work))
        layout.logs.mkdir(parents=True, exist_ok=True)
        for run, cache in enumerate(("an empty package cache", "the package cache of the first")):
            repository = f"bench-base-{nonce}-{run}/python"
            recipe = int(nonce, 16) * 2 + run  # a recipe no image has: every suite is built
            events: list[str] = []
            started = time.perf_counter()

            def said(line: object, began: float = started, into: list[str] = events) -> None:
                if "built" in str(line) or "pushed" in str(line):
                    into.append(f"{time.perf_counter() - began:6.1f}s {line}")

            try:
                base_images.ensure_base_images(FLAVOURS, registry, layout, said, repository=repository,
                                               recipe_version=recipe)
                seconds[cache] = time.perf_counter() - started
            finally:
                engine = Engine()
                for flavour in FLAVOURS:
                    engine.remove(base_images.local_ref(flavour, repository=repository), force=True)
                    engine.remove(base_images.registry_ref(registry, flavour, repository), force=True)
            lines += [f"with {cache}: {seconds[cache]:.0f}s", *events]
    first, second = seconds.values()
    bench.add(f"base images {', '.join(FLAVOURS)} debootstrapped all at once, "
              "empty / warm package cache", f"{first:.0f}s / {second:.0f}s")
    bench.detail("base images, built at once", lines)
    return first


def bench_fresh(bench: Bench, repo_root: Path) -> None:
    """The README's `pip install -e . && invoke release --version 0.1.0`, put together from parts."""
    nonce = uuid.uuid4().hex[:12]
    engine = Engine()
    parts: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fresh-") as work:
        clone = Path(work) / "release-pipeline"
        subprocess.run(["git", "clone", "-q", str(repo_root), str(clone)], check=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(Path(work) / "venv")], check=True)
        pip = str(Path(work) / "venv" / "bin" / "pip")
        subprocess.run([pip, "install", "-q", "-e", str(clone)], check=True, capture_output=True)
        parts["pip install -e . (new venv)"] = time.perf_counter() - started

        config = load_config(clone)
        started = time.perf_counter()
        services = sandbox.up(clone, name=config.name, flavours=(), progress=lambda line: None)
        parts["sandbox services"] = time.perf_counter() - started
        try:
            connect(config, flavours=FLAVOURS)  # pushes the engine's base images: counted in the next part
            parts["base images, debootstrapped at once"] = bench_base_images(bench, services.registry)
            bases = {p: labelled_base(engine, f"sandbox/python:{p}", services.registry, p, nonce)
                     for p in FLAVOURS}
            template = f"{{registry}}/bench/python:{{python}}-{nonce}"
            pyproject = clone / "pyproject.toml"
            shared = 'base-image = "{registry}/sandbox/python:{python}"'
            pyproject.write_text(pyproject.read_text().replace(shared, f'base-image = "{template}"'))
            _git(clone, "-c", "user.name=Bench", "-c", "user.email=bench@x.invalid", "commit", "-qam", "b")
            config = load_config(clone)
            assert all(config.base_image_for(p, registry=services.registry) == bases[p] for p in FLAVOURS)
            steps: list[tuple[str, float]] = []
            target = connect(config, flavours=FLAVOURS)
            started = time.perf_counter()
            run_release(config, parse_version("0.1.0"), target, RunOptions(FLAVOURS),
                        announce=lambda name, does: steps.append((name, time.perf_counter())),
                        say=lambda line: None)
            finished = time.perf_counter()
            parts["release 0.1.0 of this repository, image builds without cache"] = finished - started
            marks = [*steps, ("end", finished)]
            bench.detail("the README's release of 0.1.0 on a fresh engine, per step",
                         [f"{name}: {end - begin:.1f}s" for (name, begin), (_, end) in zip(marks, marks[1:])])
        finally:
            remove_labelled(engine, nonce)
            sandbox.down(clone)
    total = sum(parts.values())
    bench.goal("the README's main command on a fresh machine (sum of the parts; apt installs not measured)",
               f"{total / 60:.1f} min", total, 300, "s", "< 5 min")
    bench.detail("the README's main command on a fresh machine, by part",
                 [f"{name}: {seconds:.0f}s" for name, seconds in parts.items()])


def bench_airflow(bench: Bench, repo_root: Path) -> None:
    """Airflow's production image (the profile's default variant), every flavour of the profile in
    one run as the pipeline builds them (at once, where the machine has room), against the plain
    images of examples/airflow/Dockerfile.plain built the same way (the same builder, at once); both
    on base images with a label of this run, so no step comes from the layer cache."""
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks.airflow import PLAIN_DOCKERFILE, PROFILE, _cold_base, _remove_bench_images, pinned_version
    from benchmarks.bench_images import builder_name, step_lines
    from release.adapters.clients import real_clients
    from release.adapters.index import download_wheel
    from release.pipeline.connect import base_images as bases_of
    from release.pipeline.images import image_job, planned_images
    from release.plan.images import context_tar
    from release.steps.images import build_images, image_source

    config = load_config(repo_root, profile=repo_root / PROFILE)
    flavours = config.python
    version = pinned_version((repo_root / config.constraints).read_text(), config.name)
    target = connect(dataclasses.replace(config, root=bench.root), flavours=flavours,
                     progress=lambda line: None)
    engine = Engine(timeout=3600)
    builder = builder_name(engine)
    with tempfile.TemporaryDirectory(prefix="bench-airflow-") as work:
        wheel = download_wheel(f"{config.name}=={version}", Path(work))
        shared = bases_of(config, target)
        bases = {p: _cold_base(engine, shared[p], target.registry, p) for p in flavours}
        try:
            own = dataclasses.replace(config, image="bench/airflow")
            source = image_source(own, version, [wheel], extra_args=dict(config.build_args))
            clients = real_clients(target.registry, engine=engine)
            images = planned_images(own, version, target.registry, flavours=flavours, variants=[""],
                                    base_images=bases)
            started = time.perf_counter()
            job = image_job(own, images, clients, version=version, wheels=[wheel], source=source,
                            check_registry=False)
            results = build_images(job, clients, progress=lambda event: None)
            pipeline = time.perf_counter() - started
            plain_context = context_tar({"Dockerfile": (repo_root / PLAIN_DOCKERFILE).read_bytes(),
                                         "constraints.txt": (repo_root / config.constraints).read_bytes()})
            args = dict(config.build_args)
            apt = " ".join([args.get("BUILD_APT_DEPS", ""), args.get("RUNTIME_APT_DEPS", "")]).strip()

            def plain(flavour: str) -> float:
                began = time.perf_counter()
                engine.build(plain_context, tag=f"{target.registry}/bench/airflow-plain:python{flavour}",
                             buildargs={"PYTHON_BASE_IMAGE": bases[flavour], "AIRFLOW_VERSION": version,
                                        "AIRFLOW_EXTRAS": ",".join(config.extras), "APT_DEPS": apt})
                return time.perf_counter() - began

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(flavours)) as pool:
                plain_seconds = dict(zip(flavours, pool.map(plain, flavours)))
            plain_wall = time.perf_counter() - started
        finally:
            for base in bases.values():
                _remove_bench_images(base)
                engine.remove(base, force=True)
    ratio = pipeline / plain_wall
    bench.goal(f"Airflow {version}'s production image, {', '.join(flavours)} in one run / the plain images "
               f"built the same way ({builder}, at once, no layer cache)",
               f"{pipeline:.0f}s / {plain_wall:.0f}s = {ratio:.2f}x", ratio, 0.5, "x", "<= 0.5x")
    lines = [f"{r.image.name}: pipeline {r.seconds:.0f}s (its own time, the flavours at once), plain "
             f"{plain_seconds[r.image.flavour]:.0f}s" for r in results]
    for result in results:
        lines += [f"{result.image.name} {line}" for line in step_lines(result.timings, at_least=5)]
    bench.detail(f"Airflow {version}, {len(flavours)} flavours in one run, where the time goes", lines)
