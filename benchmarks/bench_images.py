# SPDX-License-Identifier: Apache-2.0
"""Image figures for `nox -s bench`: cold builds against the plain single-stage image (built in the
same run by the same builder: BuildKit against BuildKit, classic against classic), sizes, the
rebuild after a source-only change and after one dependency changed, a rerun, the smoke test, and
a master build on a runner whose engine is empty (dependency layers from the registry)."""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import docker

from benchmarks.bench import FLAVOURS, Bench
from release.adapters.clients import real_clients
from release.adapters.engine import Engine, StepTime
from release.pipeline.connect import base_images
from release.pipeline.images import image_job, planned_images
from release.plan.images import context_tar, network_mode_for
from release.plan.tags import BuildKind
from release.sandbox import services
from release.sandbox.state import Layout
from release.steps.images import ImageResult, build_images, image_source, push_images
from release.steps.smoke import SmokeReport, smoke_images

PLAIN_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
COPY *.whl /tmp/
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir /tmp/*.whl
CMD ["/opt/venv/bin/python3"]
"""
BENCH_LABEL = "org.release-pipeline.bench"
ROUNDS = 2  # cold builds are timed this many times each, the best kept: the machine is shared


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def builder_name(engine: Engine) -> str:
    return "BuildKit" if engine.builder().buildkit else "classic"


def build_wheel(root: Path, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(root)], check=True,
                   capture_output=True)
    return next(out.glob("*.whl"))


def _build(bench: Bench, wheel: Path, version: str, *, flavours: Sequence[str] = FLAVOURS,
           nocache: bool = False) -> list[ImageResult]:
    target = bench.target()
    clients = real_clients(target.registry)
    images = planned_images(bench.config, version, target.registry, flavours=flavours,
                            base_images=base_images(bench.config, target))
    job = image_job(bench.config, images, clients, version=version, wheels=[wheel], check_registry=False,
                    nocache=nocache)
    return build_images(job, clients, progress=lambda event: None)


def plain_image(engine: Engine, base: str, wheel: Path, tag: str, network: str | None) -> tuple[int, float]:
    """The plain single-stage image of `wheel`, built with no cache, as a user would build it."""
    context = context_tar({"Dockerfile": PLAIN_DOCKERFILE.encode(), wheel.name: wheel.read_bytes()})
    started = time.perf_counter()
    outcome = engine.build(context, tag=tag, buildargs={"BASE": base}, network_mode=network, nocache=True)
    seconds = time.perf_counter() - started
    image = engine.inspect(outcome.image_id)
    return (image.size if image else 0), seconds


def step_lines(timings: Sequence[StepTime], *, at_least: float = 0.0, rebuilt_only: bool = False
               ) -> list[str]:
    """`12.3s  RUN ...` per step, the slow ones, with the stage each belongs to."""
    lines, stage = [], ""
    for timing in timings:
        words = timing.instruction.split()
        if words and words[0].upper() == "FROM":  # the classic builder's stages begin here
            stage = words[-1] if len(words) == 4 else words[1]
            continue
        stage = timing.stage or stage  # BuildKit names each step's stage (they interleave)
        if timing.seconds < at_least or (rebuilt_only and timing.cached):
            continue
        text = " ".join(words)
        lines.append(f"{timing.seconds:5.1f}s {'cached ' if timing.cached else ''}[{stage}] "
                     f"{text if len(text) <= 70 else text[:67] + '...'}")
    return lines


def smoke_lines(reports: Sequence[SmokeReport], wall: float) -> list[str]:
    lines = [f"{len(reports)} images smoked at once in {wall:.1f}s"]
    for report in reports:
        checks = ", ".join(f"{c.name} {c.seconds:.2f}s" for c in report.checks if not c.skipped)
        lines.append(f"{report.image.name}: {report.seconds:.1f}s ({checks})")
    return lines


def add_dependency(root: Path, requirement: str) -> None:
    """One more dependency in the sample's setup.py (its install_requires)."""
    setup = root / "setup.py"
    text = setup.read_text()
    old = 'install_requires=["packaging>=20"'
    setup.write_text(text.replace(old, f'{old}, "{requirement}"'))
    assert requirement in setup.read_text(), "the sample's setup.py no longer lists packaging>=20 first"


def bench_images(bench: Bench) -> None:
    engine = Engine()
    version = "9.9.9"
    builder = builder_name(engine)
    bench.add("builder (the pipeline's images and the plain ones alike)", str(engine.builder()))
    bases = base_images(bench.config, bench.target())
    with tempfile.TemporaryDirectory(prefix="bench-wheels-") as work:
        wheel = build_wheel(bench.root, Path(work) / "first")
        network = network_mode_for(image_source(bench.config, version, [wheel]))
        cold: dict[str, ImageResult] = {}
        plain: dict[str, tuple[int, float]] = {}
        for _ in range(ROUNDS):  # each flavour's pipeline image, then its plain image, both without cache
            for flavour in FLAVOURS:
                (result,) = _build(bench, wheel, version, flavours=[flavour], nocache=True)
                if flavour not in cold or result.seconds < cold[flavour].seconds:
                    cold[flavour] = result
                tag = f"bench/plain:python{flavour}"
                found = plain_image(engine, bases[flavour], wheel, tag, network)
                plain[flavour] = min(plain.get(flavour, found), found, key=lambda item: item[1])
                engine.remove(tag, force=True)
        for flavour, result in cold.items():
            ratio = result.seconds / plain[flavour][1]
            bench.goal(f"cold build python{flavour}, sample app / plain single-stage pip install image, "
                       f"both {builder}, no layer cache (best of {ROUNDS} each)",
                       f"{result.seconds:.1f}s / {plain[flavour][1]:.1f}s = {ratio:.2f}x", ratio, 0.8, "x",
                       "<= 0.8x")
            bench.detail(f"cold build python{flavour}: steps of 0.3 s or more",
                         step_lines(result.timings, at_least=0.3))
        for flavour, result in cold.items():
            ratio = result.size / plain[flavour][0]
            bench.goal(f"python{flavour} image size / plain image", f"{mb(result.size)} / "
                       f"{mb(plain[flavour][0])} = {ratio:.3f}x", ratio, 1.0, "x", "<= 1.0x")

        cold_total = sum(r.seconds for r in cold.values())
        init = bench.root / "sample_app" / "__init__.py"

        def change(what: str, edit: Callable[[], None], goal: float) -> tuple[Path, list[ImageResult]]:
            """`edit` the sample, then rebuild each flavour on its own (the figure, against the cold
            builds, also one at a time); `edit` again, then rebuild the three at once (wall time)."""
            edit()
            wheel = build_wheel(bench.root, Path(work) / f"{what}-alone")
            alone = [result for flavour in FLAVOURS
                     for result in _build(bench, wheel, version, flavours=[flavour])]
            total = sum(r.seconds for r in alone)
            ratio = total / cold_total
            bench.goal(f"rebuild after {what} / cold build (3 flavours, each on its own, {builder})",
                       f"{total:.1f}s / {cold_total:.1f}s = {ratio:.3f}x", ratio, goal, "x",
                       f"<= {goal:.2f}x")
            for result in alone:
                bench.detail(f"rebuild {result.image.name} after {what}: {result.seconds:.1f}s, steps not "
                             "cached", step_lines(result.timings, rebuilt_only=True))
            edit()
            wheel = build_wheel(bench.root, Path(work) / f"{what}-together")
            started = time.perf_counter()
            together = _build(bench, wheel, version)
            bench.add(f"rebuild after {what}, the 3 flavours at once: wall time",
                      f"{time.perf_counter() - started:.1f}s")
            return wheel, together

        edits = iter(["\n# a source-only change\n", "\n# another\n"])

        def edit_source() -> None:
            init.write_text(init.read_text() + next(edits))

        change("a source-only change", edit_source, 0.10)
        dependencies = iter(["six>=1.16", "idna>=3"])
        bumped, again_deps = change("one dependency changed",
                                    lambda: add_dependency(bench.root, next(dependencies)), 0.3)
        started = time.perf_counter()
        again = _build(bench, bumped, version)
        seconds = time.perf_counter() - started
        builds = sum(1 for r in again if r.status == "built")
        bench.add("rerun with nothing changed: images built", str(builds), "0", builds == 0,
                  "" if builds == 0 else f"{builds} built")
        bench.goal("rerun with nothing changed: time for 3 flavours", f"{seconds:.2f}s", seconds, 5, "s",
                   "< 5 s")

        started = time.perf_counter()
        installed = bumped.name.split("-")[1]  # the sample's own version, which the image installs
        reports = smoke_images(bench.config, [r.planned for r in again_deps], version=installed,
                               wheels=[bumped], engine=engine)
        wall = time.perf_counter() - started
        bench.add("smoke test of 3 flavours (one container per image for the generic checks, images at once)",
                  f"{wall:.1f}s")
        bench.detail("smoke test, per image and per check", smoke_lines(reports, wall))


@contextmanager
def throwaway_registry(directory: Path) -> Iterator[str]:
    """A registry of its own (the sandbox's kind), stopped and forgotten afterwards."""
    layout = Layout.of(directory)
    layout.logs.mkdir(parents=True, exist_ok=True)
    record = services.ensure(services.REGISTRY, layout, {}, lambda line: None)
    try:
        yield f"127.0.0.1:{record['port']}"
    finally:
        services.stop(services.REGISTRY, layout, record)


def labelled_base(engine: Engine, base: str, registry: str, flavour: str, nonce: str) -> str:
    """`base` plus a layer and a label of this run, pushed: no step can come from the layer cache
    (BuildKit keys a base by its layers, not its config: a label alone would not do), and every
    image built on it carries the label (so the bench can remove exactly those)."""
    ref = f"{registry}/bench/python:{flavour}-{nonce}"
    dockerfile = f"FROM {base}\nRUN echo {nonce} > /etc/release-pipeline-bench\nLABEL {BENCH_LABEL}={nonce}\n"
    engine.build(context_tar({"Dockerfile": dockerfile.encode()}), tag=ref, buildargs={})
    engine.push(ref)
    return ref


def remove_labelled(engine: Engine, nonce: str, refs: Sequence[str] = ()) -> int:
    """Remove every image this run built (they carry its label) and the given refs; nothing else."""
    for ref in refs:
        engine.remove(ref, force=True)
    return engine.remove_labelled(f"{BENCH_LABEL}={nonce}")


@contextmanager
def throwaway_engine(directory: Path) -> Iterator[str]:
    """A Docker Engine of its own (a second dockerd, like a CI runner's: empty, with its own data
    root, build cache and containerd), answering on a socket under `directory`; stopped and its
    data removed afterwards. The shared engine cannot be emptied (never pruned): a runner that
    starts empty is this one. Its default network is a bridge of its own, made here and removed
    after (never `--bridge=none`: dockerd then deletes the host's docker0, the shared engine's),
    without NAT or iptables rules: builds use the host's network (`--network host`)."""
    bridge = f"bkr{uuid.uuid4().hex[:8]}"
    subnet = random.randint(1, 254)
    subprocess.run(["ip", "link", "add", "name", bridge, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", f"10.213.{subnet}.1/24", "dev", bridge], check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        socket = directory / "docker.sock"
        argv = ["dockerd", "--data-root", str(directory / "data"), "--exec-root", str(directory / "exec"),
                "--pidfile", str(directory / "dockerd.pid"), "-H", f"unix://{socket}", f"--bridge={bridge}",
                "--iptables=false", "--ip-masq=false"]
        with open(directory / "dockerd.log", "wb") as log:
            daemon = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            host = f"unix://{socket}"
            deadline = time.monotonic() + 60
            while not Engine(lambda: docker.DockerClient(base_url=host, timeout=900)).ping():
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise RuntimeError(f"the runner's dockerd did not start; see {directory / 'dockerd.log'}")
                time.sleep(0.2)
            yield host
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
            shutil.rmtree(directory / "data", ignore_errors=True)
    finally:
        subprocess.run(["ip", "link", "del", bridge], check=False)


@contextmanager
def docker_host(host: str) -> Iterator[None]:
    """DOCKER_HOST for this process while inside (the engine adapter and its docker client read it)."""
    before = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = host
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = before


def bench_empty_engine(bench: Bench, flavour: str = "3.11") -> None:
    """A master build on a CI runner that starts empty (a second engine: no image, no build cache,
    empty cache mounts) while its dependencies did not change: the previous build (on this engine,
    on a base of this run, so none of its steps came from the layer cache) pushed its dependency
    stage; the runner pulls its base image, then builds with that stage from the registry."""
    engine = Engine()
    nonce = uuid.uuid4().hex[:12]
    with tempfile.TemporaryDirectory(prefix="bench-ci-") as work, throwaway_registry(Path(work)) as registry:
        wheel = build_wheel(bench.root, Path(work) / "wheel")
        shared = base_images(bench.config, bench.target())[flavour]
        base = labelled_base(engine, shared, registry, flavour, nonce)
        config = dataclasses.replace(bench.config, image="bench/ci")
        # the sandbox's index as an extra one: builds then use the host's network, which the runner's
        # engine (no bridge of its own) needs
        index = bench.target().index_simple
        source = image_source(config, "9.9.9", [wheel], extra_args={"PIP_EXTRA_INDEX_URL": index})

        images = planned_images(config, "9.9.9", registry, flavours=[flavour], base_images={flavour: base},
                                kind=BuildKind.MASTER)

        def master(on: Engine, revision: str) -> ImageResult:
            clients = real_clients(registry, engine=on)
            job = image_job(config, images, clients, version="9.9.9", wheels=[wheel], kind=BuildKind.MASTER,
                            source=dataclasses.replace(source, revision=revision))
            (result,) = build_images(job, clients, progress=lambda event: None)
            return result

        try:
            cold = master(engine, "1" * 40)
            started = time.perf_counter()
            (cold,) = push_images([cold], engine)
            pushed = time.perf_counter() - started
            runner_dir = Path(tempfile.mkdtemp(prefix="bench-runner-", dir="/var/tmp"))
            with throwaway_engine(runner_dir) as host, docker_host(host):
                runner = Engine()
                started = time.perf_counter()
                builder = str(runner.builder())  # once per process, before the first build
                found = time.perf_counter() - started
                started = time.perf_counter()
                runner.pull(base)  # a runner gets its base image first, as every build does
                pulled = time.perf_counter() - started
                started = time.perf_counter()
                warm = master(runner, "2" * 40)  # the next commit: same dependencies
                seconds = time.perf_counter() - started
            shutil.rmtree(runner_dir, ignore_errors=True)
            ratio = seconds / cold.seconds
            bench.goal(f"master build python{flavour} on a runner that starts empty, dependencies unchanged "
                       f"/ cold ({builder})",
                       f"{seconds:.1f}s / {cold.seconds:.1f}s = {ratio:.2f}x (dependencies: {warm.cache})",
                       ratio, 0.3, "x", "<= 0.3x")
            bench.detail(f"empty runner's master build python{flavour}: {builder} found in {found:.1f}s "
                         f"and its base image pulled in {pulled:.1f}s first; the cold build pushed image and "
                         f"dependency stage in {pushed:.1f}s",
                         step_lines(warm.timings, at_least=0.2))
        finally:
            remove_labelled(engine, nonce, [base])
