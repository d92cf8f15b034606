# SPDX-License-Identifier: Apache-2.0
"""Two-platform figures for `nox -s bench`: linux/amd64 natively and linux/arm64 under qemu.

- the emulated build's cost per flavour against the native one (the same wheel, no cache);
- a whole two-platform release's wall time (first, then a warm patch release);
- aliasing an image index: blob bytes uploaded and time, against aliasing one image;
- with `--cold-base`, the arm64 base image built cold, under a throwaway name so the shared
  `sandbox/python:P-arm64` cache is left alone.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench import (
    Bench,
    Figure,
    _git,
    release_seconds,
    sample_checkout,
    target_state_dir,
)
from benchmarks.bench_registry import _storage_bytes
from release import platforms, sandbox
from release.adapters.clients import real_clients
from release.adapters.engine import Engine
from release.adapters.registry import RegistryClient
from release.pipeline.connect import base_images
from release.pipeline.images import image_job, planned_images
from release.sandbox import base_images as sandbox_bases
from release.sandbox.state import Layout
from release.steps.images import build_images

PLATFORMS = ("linux/amd64", "linux/arm64")
COLD_REPOSITORY = "bench-cold/python"  # the throwaway engine name of cold-built base images


def two_platform_checkout(repo_root: Path, dest: Path, flavours: Sequence[str]) -> Path:
    root = sample_checkout(repo_root / "tests" / "fixtures" / "sample", dest)
    pyproject = root / "pyproject.toml"
    listed = ", ".join(f'"{p}"' for p in flavours)
    text = pyproject.read_text().replace('python = ["3.9", "3.11", "3.13"]', f"python = [{listed}]")
    listed = ", ".join(f'"{p}"' for p in PLATFORMS)
    text = text.replace('default-python = "3.11"',
                        f'default-python = "{flavours[0]}"\nplatforms = [{listed}]')
    pyproject.write_text(text)
    _git(root, "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "commit", "-qam",
         "two platforms")
    return root


def bench_cold_base(bench: Bench, flavour: str) -> None:
    """The arm64 base image of `flavour`, debootstrapped under qemu with nothing cached."""
    engine = Engine(timeout=1800)
    layout = Layout.of(bench.root)
    host = platforms.host_platform()
    started = time.perf_counter()
    sandbox_bases.local_base_image(flavour, "linux/arm64", host, layout, bench.quiet, engine=engine,
                                   repository=COLD_REPOSITORY)
    seconds = time.perf_counter() - started
    bench.add(f"arm64 base image python{flavour}, cold (debootstrap under qemu, load)", f"{seconds:.0f}s")
    engine.remove(sandbox_bases.local_ref(flavour, "linux/arm64", COLD_REPOSITORY), force=True)


def bench_emulated_builds(bench: Bench, wheel: Path) -> None:
    """Each flavour built for both platforms from the same wheel, no cache: emulated / native."""
    target = bench.target()
    clients = real_clients(target.registry)
    seconds = {}
    for flavour in bench.flavours:
        for platform in PLATFORMS:
            images = planned_images(bench.config, "9.9.9", target.registry, flavours=[flavour],
                                    platforms=[platform], base_images=base_images(bench.config, target))
            job = image_job(bench.config, images, clients, version="9.9.9", wheels=[wheel],
                            check_registry=False, nocache=True)
            (result,) = build_images(job, clients, progress=lambda event: None)
            seconds[flavour, platform] = result.seconds
        native, emulated = seconds[flavour, "linux/amd64"], seconds[flavour, "linux/arm64"]
        bench.add(f"cold image build python{flavour}: arm64 under qemu / amd64 native",
                  f"{emulated:.1f}s / {native:.1f}s = {emulated / native:.1f}x")


def bench_index_aliasing(bench: Bench, version: str) -> None:
    """The index of every flavour copied under 3 aliases each, against copying one image manifest."""
    target = bench.target()
    image = bench.config.image
    registry = RegistryClient(target.registry)
    state = target_state_dir(bench)
    sources = {f"ialias{n}-python{p}": f"{version}-python{p}" for n in range(3) for p in bench.flavours}
    assert all(registry.media_type(image, s) == "application/vnd.docker.distribution.manifest.list.v2+json"
               for s in set(sources.values()))
    before = _storage_bytes(state)
    started = time.perf_counter()
    for alias, source in sources.items():
        registry.copy_tag(image, source, alias)
    index_seconds = time.perf_counter() - started
    uploaded = _storage_bytes(state) - before
    started = time.perf_counter()
    for alias, source in sources.items():  # one platform's image: what a single-platform alias copies
        registry.copy_tag(image, f"{source}-amd64", f"s{alias}")
    image_seconds = time.perf_counter() - started
    bench.add(f"aliasing {len(sources)} tags to image indexes: blob bytes uploaded", str(uploaded), "0",
              uploaded == 0)
    bench.add("aliasing time: index copies / single-image copies",
              f"{index_seconds:.2f}s / {image_seconds:.2f}s = {index_seconds / image_seconds:.2f}x "
              f"({1000 * index_seconds / len(sources):.0f} ms an alias)")


def bench_platforms(repo_root: Path, flavours: Sequence[str], *, cold_base: bool = False) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="release-bench-platforms-") as work:
        root = two_platform_checkout(repo_root, Path(work) / "sample", flavours)
        bench = Bench(root, [], flavours=tuple(flavours))
        try:
            if cold_base:
                for flavour in flavours:
                    bench_cold_base(bench, flavour)
            started = time.perf_counter()
            bench.target()
            bench.add(f"sandbox up with amd64 + arm64 base images of python{', '.join(flavours)} (cached)",
                      f"{time.perf_counter() - started:.1f}s")
            first = release_seconds(bench, "1.10.6")
            bench.add(f"two-platform release, {len(flavours)} flavour(s): first, wall time", f"{first:.0f}s")
            warm = release_seconds(bench, "1.10.7")
            bench.add(f"two-platform release, {len(flavours)} flavour(s): a patch release, wall time",
                      f"{warm:.0f}s")
            bench_index_aliasing(bench, "1.10.7")
            wheel = next((root / "dist" / "1.10.7" / "pypi").glob("*.whl"))
            copy = Path(work) / "wheel" / wheel.name
            copy.parent.mkdir()
            shutil.copy(wheel, copy)
            bench_emulated_builds(bench, copy)
        finally:
            sandbox.down(root)
        return bench.figures
