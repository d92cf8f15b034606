# SPDX-License-Identifier: Apache-2.0
"""Image figures for `nox -s bench`: cold builds against the plain single-stage image (built in the
same run by the same builder: BuildKit against BuildKit, classic against classic), sizes, the
rebuild after a source-only change and after one dependency changed, a rerun, the smoke test, and
a master build on a runner whose engine is empty (dependency layers from the registry). The image
figures are measured on the sample and again on this repository's own application (`Application`)."""

from __future__ import annotations

import dataclasses
import io
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import docker

from benchmarks.bench import FLAVOURS, Bench, _git
from release.adapters.clients import real_clients
from release.adapters.engine import Engine, StepTime
from release.config import ReleaseConfig, load_config
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
# the plain image of an application whose image installs system packages installs them too, the way
# any single-stage Dockerfile does (no cache mount)
PLAIN_APT = """\
ARG RUNTIME_APT_DEPS
RUN apt-get update && apt-get install -y --no-install-recommends ${RUNTIME_APT_DEPS} \\
    && rm -rf /var/lib/apt/lists/*
"""
BENCH_LABEL = "org.release-pipeline.bench"
ROUNDS = 2  # cold builds are timed this many times each, the best kept: the machine is shared
HEAVY_FLAVOURS = ("3.11",)  # the heavy application's figures: one flavour keeps the section short


@dataclass(frozen=True)
class Application:
    """What the image figures build. The sample is tiny (one small dependency): its ratios measure
    the builder's fixed cost per build and per step. This repository's own application, its wheel
    built at HEAD, installs its real dependencies from PyPI (docker, rich, GitPython, twine,
    cyclonedx-python-lib, ...) and its runtime apt packages: the install dominates, as in a user's."""

    root: Path
    source: str  # the module a source-only change edits, under root
    what: str  # the application, as the cold figure names it
    prefix: str = ""  # before every other figure's name ("" for the sample: its figures keep their names)
    flavours: tuple[str, ...] = FLAVOURS

    @property
    def config(self) -> ReleaseConfig:
        return load_config(self.root)

    @property
    def runtime_apt(self) -> str:
        return dict(self.config.build_args).get("RUNTIME_APT_DEPS", "")

    @property
    def flavours_text(self) -> str:
        if len(self.flavours) == 1:
            return f"python{self.flavours[0]} only"
        return f"{len(self.flavours)} flavours"


def sample_app(bench: Bench) -> Application:
    return Application(bench.root, "sample_app/__init__.py", "sample app")


def this_application(root: Path) -> Application:
    """This repository's application, in a checkout at `root` (its figures: HEAVY_FLAVOURS)."""
    return Application(root, "release/__init__.py",
                       "release-pipeline at HEAD (heavy sample: its wheel + real dependencies from PyPI)",
                       "release-pipeline: ", HEAVY_FLAVOURS)


def checkout_head(repo_root: Path, dest: Path) -> Path:
    """The repository as committed at HEAD (git archive: no work in progress), a one-commit
    checkout of its own like the sample's."""
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=repo_root, check=True,
                             capture_output=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "add", "-A")
    _git(dest, "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "commit", "-qm", "HEAD")
    return dest


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def builder_name(engine: Engine) -> str:
    return "BuildKit" if engine.builder().buildkit else "classic"


def build_wheel(root: Path, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(root)], check=True,
                   capture_output=True)
    return next(out.glob("*.whl"))


def _build(bench: Bench, app: Application, wheel: Path, version: str, *,
           flavours: Sequence[str] | None = None, nocache: bool = False) -> list[ImageResult]:
    """`app`'s images, on the bench's sandbox (its registry and base images)."""
    target = bench.target()
    config = app.config
    clients = real_clients(target.registry)
    images = planned_images(config, version, target.registry, flavours=flavours or app.flavours,
                            base_images=base_images(config, target))
    job = image_job(config, images, clients, version=version, wheels=[wheel], check_registry=False,
                    nocache=nocache)
    return build_images(job, clients, progress=lambda event: None)


class Plain(NamedTuple):
    size: int
    seconds: float
    timings: tuple[StepTime, ...] = ()


def plain_dockerfile(runtime_apt: str = "") -> str:
    """PLAIN_DOCKERFILE, with the application's runtime apt packages installed before the wheel."""
    if not runtime_apt:
        return PLAIN_DOCKERFILE
    head, rest = PLAIN_DOCKERFILE.split("COPY ", 1)
    return f"{head}{PLAIN_APT}COPY {rest}"


def plain_what(runtime_apt: str) -> str:
    """What the plain image does, as the figures say it."""
    if not runtime_apt:
        return "plain single-stage pip install image"
    return (f"plain single-stage image (apt-get install {runtime_apt}; venv + pip install of the wheel, "
            "its dependencies from the index)")


def plain_image(engine: Engine, base: str, wheel: Path, tag: str, network: str | None,
                runtime_apt: str = "") -> Plain:
    """The plain single-stage image of `wheel`, built with no cache, as a user would build it."""
    dockerfile = plain_dockerfile(runtime_apt).encode()
    context = context_tar({"Dockerfile": dockerfile, wheel.name: wheel.read_bytes()})
    args = {"BASE": base, **({"RUNTIME_APT_DEPS": runtime_apt} if runtime_apt else {})}
    started = time.perf_counter()
    outcome = engine.build(context, tag=tag, buildargs=args, network_mode=network, nocache=True)
    seconds = time.perf_counter() - started
    image = engine.inspect(outcome.image_id)
    return Plain(image.size if image else 0, seconds, outcome.timings)


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


def time_goes(timings: Sequence[StepTime], wall: float, *, slowest: int = 2) -> str:
    """Where the time of builds lasting `wall` seconds in all went, in a few words for the table:
    the slowest steps not cached, and all the steps' time (BuildKit runs independent stages at
    once: their steps overlap, so their sum can exceed the wall time)."""
    rebuilt = sorted((t for t in timings if not t.cached), key=lambda t: -t.seconds)
    steps = sum(t.seconds for t in rebuilt)
    named = ", ".join(f"{t.seconds:.1f}s {shorten(t)}" for t in rebuilt[:slowest]) or "no step run"
    return f"{named} ({len(rebuilt)} steps run, {steps:.1f}s summed, in {wall:.1f}s)"


def shorten(timing: StepTime, width: int = 40) -> str:
    """A step as the table names it: its stage, its instruction without RUN's options (the cache
    mounts), cut at `width`."""
    words = timing.instruction.split()
    if words[:1] == ["RUN"]:
        options = next((i for i, word in enumerate(words[1:], 1) if not word.startswith("--")), len(words))
        words = words[:1] + words[options:]
    text = " ".join(words)
    text = text if len(text) <= width else text[:width - 3] + "..."
    return f"[{timing.stage}] {text}" if timing.stage else text


def smoke_lines(reports: Sequence[SmokeReport], wall: float) -> list[str]:
    lines = [f"{len(reports)} images smoked at once in {wall:.1f}s"]
    for report in reports:
        checks = ", ".join(f"{c.name} {c.seconds:.2f}s" for c in report.checks if not c.skipped)
        lines.append(f"{report.image.name}: {report.seconds:.1f}s ({checks})")
    return lines


def add_dependency(root: Path, requirement: str) -> None:
    """One more dependency in the application's setup.py (first in its install_requires)."""
    setup = root / "setup.py"
    text = setup.read_text()
    old = "install_requires=["
    assert text.count(old) == 1, f"{setup} does not list install_requires=[ once"
    setup.write_text(text.replace(old, f'{old}"{requirement}", '))


def edit_source(app: Application, line: str) -> None:
    """A source-only change: a comment at the end of `app`'s module."""
    module = app.root / app.source
    module.write_text(module.read_text() + f"\n# {line}\n")


@dataclass
class Rebuilt:
    wheel: Path  # the last wheel built
    together: list[ImageResult]  # the flavours rebuilt at once (the one flavour, when there is one)


def bench_images(bench: Bench, repo_root: Path) -> None:
    """The image figures of the sample (all flavours: the rerun and the smoke test too), then those
    of this repository's application (HEAVY_FLAVOURS)."""
    engine = Engine()
    version = "9.9.9"
    bench.add("builder (the pipeline's images and the plain ones alike)", str(engine.builder()))
    with tempfile.TemporaryDirectory(prefix="bench-wheels-") as work:
        bumped, again_deps = image_figures(bench, engine, sample_app(bench), version, Path(work))
        started = time.perf_counter()
        again = _build(bench, sample_app(bench), bumped, version)
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

        heavy = this_application(checkout_head(repo_root, Path(work) / "heavy"))
        image_figures(bench, engine, heavy, version, Path(work) / "heavy-wheels")


def image_figures(bench: Bench, engine: Engine, app: Application, version: str, work: Path
                  ) -> tuple[Path, list[ImageResult]]:
    """`app`'s cold builds against its plain images, sizes, the rebuild after a source-only change
    and after one dependency changed; the last wheel and the images it rebuilt (all flavours)."""
    builder = builder_name(engine)
    bases = base_images(app.config, bench.target())
    apt = app.runtime_apt
    wheel = build_wheel(app.root, work / "first")
    network = network_mode_for(image_source(app.config, version, [wheel]))
    cold: dict[str, ImageResult] = {}
    plain: dict[str, Plain] = {}
    for _ in range(ROUNDS):  # each flavour's pipeline image, then its plain image, both without cache
        for flavour in app.flavours:
            (result,) = _build(bench, app, wheel, version, flavours=[flavour], nocache=True)
            if flavour not in cold or result.seconds < cold[flavour].seconds:
                cold[flavour] = result
            tag = f"bench/plain:python{flavour}"
            found = plain_image(engine, bases[flavour], wheel, tag, network, apt)
            plain[flavour] = min(plain.get(flavour, found), found, key=lambda item: item.seconds)
            engine.remove(tag, force=True)
    only = "" if len(app.flavours) > 1 else f"; python{app.flavours[0]} only"
    for flavour, result in cold.items():
        ratio = result.seconds / plain[flavour].seconds
        where = (f"time in: {time_goes(result.timings, result.seconds)}; plain: "
                 f"{time_goes(plain[flavour].timings, plain[flavour].seconds)}")
        bench.goal(f"cold build python{flavour}, {app.what} / {plain_what(apt)}, "
                   f"both {builder}, no layer cache (best of {ROUNDS} each{only})",
                   f"{result.seconds:.1f}s / {plain[flavour].seconds:.1f}s = {ratio:.2f}x", ratio, 0.8, "x",
                   "<= 0.8x", where)
        bench.detail(f"{app.prefix}cold build python{flavour}: steps of 0.3 s or more",
                     step_lines(result.timings, at_least=0.3))
        if apt:
            bench.detail(f"{app.prefix}plain image python{flavour}: steps",
                         step_lines(plain[flavour].timings))
    for flavour, result in cold.items():
        ratio = result.size / plain[flavour].size
        bench.goal(f"{app.prefix}python{flavour} image size / plain image", f"{mb(result.size)} / "
                   f"{mb(plain[flavour].size)} = {ratio:.3f}x", ratio, 1.0, "x", "<= 1.0x")

    cold_total = sum(r.seconds for r in cold.values())

    def change(what: str, edit: Callable[[], None], goal: float) -> Rebuilt:
        """`edit` the application, then rebuild each flavour on its own (the figure, against the cold
        builds, also one at a time); with more than one flavour, `edit` again, then rebuild them all
        at once (wall time)."""
        edit()
        wheel = build_wheel(app.root, work / f"{what}-alone")
        alone = [result for flavour in app.flavours
                 for result in _build(bench, app, wheel, version, flavours=[flavour])]
        total = sum(r.seconds for r in alone)
        ratio = total / cold_total
        bench.goal(f"{app.prefix}rebuild after {what} / cold build ({app.flavours_text}, each on its own, "
                   f"{builder})", f"{total:.1f}s / {cold_total:.1f}s = {ratio:.3f}x", ratio, goal, "x",
                   f"<= {goal:.2f}x", "time in: " + time_goes([t for r in alone for t in r.timings], total))
        for result in alone:
            bench.detail(f"rebuild {result.image.name} after {what}: {result.seconds:.1f}s, steps not "
                         "cached", step_lines(result.timings, rebuilt_only=True))
        if len(app.flavours) == 1:
            return Rebuilt(wheel, alone)
        edit()
        wheel = build_wheel(app.root, work / f"{what}-together")
        started = time.perf_counter()
        together = _build(bench, app, wheel, version)
        bench.add(f"{app.prefix}rebuild after {what}, the {len(app.flavours)} flavours at once: wall time",
                  f"{time.perf_counter() - started:.1f}s")
        return Rebuilt(wheel, together)

    comments = iter(["a source-only change", "another"])
    change("a source-only change", lambda: edit_source(app, next(comments)), 0.10)
    dependencies = iter(["six>=1.16", "idna>=3"])
    bumped = change("one dependency changed", lambda: add_dependency(app.root, next(dependencies)), 0.3)
    return bumped.wheel, bumped.together


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
