"""Image figures for `nox -s bench`: cold build, source-only rebuild, no-change rerun, sizes."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks.bench import FLAVOURS, Bench
from release.adapters.engine import Engine
from release.pipeline.connect import base_images
from release.steps.images import ImageResult, build_images

PLAIN_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
COPY *.whl /tmp/
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir /tmp/*.whl
CMD ["/opt/venv/bin/python3"]
"""


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def _wheel(root: Path, out: Path) -> Path:
    subprocess.run(["python3", "-m", "build", "--wheel", "--outdir", str(out), str(root)], check=True,
                   capture_output=True)
    return next(out.glob("*.whl"))


def _build(bench: Bench, wheel: Path, version: str, *, nocache: bool = False) -> list[ImageResult]:
    target = bench.target()
    return build_images(bench.config, version, wheels=[wheel], registry=target.registry,
                        flavours=FLAVOURS, base_images=base_images(bench.config, target),
                        check_registry=False, nocache=nocache, progress=lambda event: None)


def _venv_bytes(engine: Engine, ref: str) -> int:
    result = engine.run(ref, ["du", "-sb", "/opt/venv"], entrypoint=[])
    return int(result.stdout.split()[0])


def _plain_image(engine: Engine, base: str, wheel: Path, tag: str) -> tuple[int, float]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("Dockerfile", PLAIN_DOCKERFILE.encode()), (wheel.name, wheel.read_bytes())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    started = time.perf_counter()
    outcome = engine.build(buffer.getvalue(), tag=tag, buildargs={"BASE": base}, network_mode="host",
                           nocache=True)
    seconds = time.perf_counter() - started
    image = engine.inspect(outcome.image_id)
    return (image.size if image else 0), seconds


def bench_images(bench: Bench) -> None:
    engine = Engine()
    version = "9.9.9"
    with tempfile.TemporaryDirectory(prefix="bench-wheels-") as work:
        wheel = _wheel(bench.root, Path(work) / "first")
        cold = _build(bench, wheel, version, nocache=True)
        for result in cold:
            bench.add(f"cold build python{result.flavour}", f"{result.seconds:.1f}s")
        cold_total = sum(r.seconds for r in cold)
        cold_seconds = {r.flavour: r.seconds for r in cold}
        init = bench.root / "sample_app" / "__init__.py"
        init.write_text(init.read_text() + "\n# a source-only change\n")
        changed = _wheel(bench.root, Path(work) / "changed")
        rebuilt = _build(bench, changed, version)
        rebuilt_total = sum(r.seconds for r in rebuilt)
        ratio = rebuilt_total / cold_total
        bench.add("rebuild after a source-only change / cold build (3 flavours)",
                  f"{rebuilt_total:.1f}s / {cold_total:.1f}s = {ratio:.3f}x", "<= 0.20x", ratio <= 0.20)
        started = time.perf_counter()
        again = _build(bench, changed, version)
        seconds = time.perf_counter() - started
        builds = sum(1 for r in again if r.status == "built")
        bench.add("rerun with nothing changed: images built", str(builds), "0", builds == 0)
        bench.add("rerun with nothing changed: time for 3 flavours", f"{seconds:.2f}s", "< 5 s", seconds < 5)
        bases = base_images(bench.config, bench.target())
        for result in rebuilt:
            image = engine.inspect(result.ref)
            base = engine.inspect(bases[result.flavour])
            if image is None or base is None:
                continue
            venv = _venv_bytes(engine, result.ref)
            ratio = image.size / (base.size + venv)
            sizes = f"{mb(image.size)} / ({mb(base.size)} + {mb(venv)})"
            bench.add(f"python{result.flavour} image / (base + venv)", f"{sizes} = {ratio:.3f}x",
                      "<= 1.05x", ratio <= 1.05)
            plain_size, plain_seconds = _plain_image(engine, bases[result.flavour], changed,
                                                     f"bench/plain:python{result.flavour}")
            bench.add(f"python{result.flavour} image / plain single-stage pip install image",
                      f"{mb(image.size)} / {mb(plain_size)} = {image.size / plain_size:.3f}x; "
                      f"cold build {cold_seconds[result.flavour]:.1f}s vs {plain_seconds:.1f}s")
            engine.remove(f"bench/plain:python{result.flavour}", force=True)
