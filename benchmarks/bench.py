"""`nox -s bench`: the issues' performance figures, each measured in one run and shown as ratios.

Everything runs against a throwaway sandbox under a temporary root, on a copy of the sample
application in tests/fixtures/sample. Nothing here asserts: it measures and prints. The
two-platform figures (benchmarks/bench_platforms.py) come last; `--platform-flavours` chooses their
flavours (each needs an arm64 base image, built under qemu the first time).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from release import console, sandbox
from release.adapters.engine import Engine
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig, load_config
from release.pipeline.connect import Target, connect
from release.pipeline.release import RunOptions, run_release
from release.progress import Progress
from release.versions import parse_version

FLAVOURS = ("3.9", "3.11", "3.13")


@dataclass
class Figure:
    what: str
    value: str
    goal: str
    met: bool | None = None


@dataclass
class Bench:
    root: Path
    figures: list[Figure]
    quiet: Progress = lambda line: None
    flavours: tuple[str, ...] = FLAVOURS

    @property
    def config(self) -> ReleaseConfig:
        return load_config(self.root)

    def target(self) -> Target:
        return connect(self.config, flavours=self.flavours, progress=self.quiet)

    def add(self, what: str, value: str, goal: str = "", met: bool | None = None) -> None:
        self.figures.append(Figure(what, value, goal, met))
        mark = "" if met is None else (" [met]" if met else " [MISSED]")
        console.progress(f"{what}: {value}{'  (goal ' + goal + ')' if goal else ''}{mark}")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def sample_checkout(fixtures: Path, dockerfile: Path, dest: Path) -> Path:
    shutil.copytree(fixtures, dest)
    shutil.copy(dockerfile, dest / "Dockerfile")
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "add", "-A")
    _git(dest, "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "commit", "-qm", "sample")
    return dest


def set_version(root: Path, version: str) -> None:
    init = root / "sample_app" / "__init__.py"
    text = init.read_text()
    start = text.index('__version__ = "') + len('__version__ = "')
    init.write_text(text[:start] + version + text[text.index('"', start):])
    changelog = root / "CHANGELOG.md"
    head, rest = changelog.read_text().split("\n\n", 1)
    changelog.write_text(f"{head}\n\n## [{version}] - 2026-11-26\n\n- Release {version}.\n\n{rest}")
    _git(root, "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "commit", "-qam", version)


def release_seconds(bench: Bench, version: str) -> float:
    final = str(parse_version(version).final)
    if final != "1.10.6":
        set_version(bench.root, final)
    started = time.perf_counter()
    run_release(bench.config, parse_version(version), bench.target(), RunOptions(flavours=bench.flavours),
                announce=lambda name, does: bench.quiet(name), say=bench.quiet)
    return time.perf_counter() - started


def _storage_bytes(state_dir: Path) -> int:
    blobs = state_dir / "registry"
    return sum(p.stat().st_size for p in blobs.rglob("*") if p.is_file() and p.name == "data")


def bench_aliasing(bench: Bench) -> None:
    """The whole alias set by manifest copy, against `docker tag` + `docker push` of the same tags."""
    target = bench.target()
    image = bench.config.image
    registry = RegistryClient(target.registry)
    aliases = [f"alias{n}-python{p}" for n in range(3) for p in FLAVOURS] + ["alias0", "alias1", "alias2"]
    sources = {a: f"1.10.7-python{a.rsplit('-python', 1)[1] if '-python' in a else '3.11'}" for a in aliases}
    state = target_state_dir(bench)
    before = _storage_bytes(state)
    started = time.perf_counter()
    for alias, source in sources.items():
        registry.copy_tag(image, source, alias)
    copy_seconds = time.perf_counter() - started
    uploaded = _storage_bytes(state) - before
    engine = Engine()
    started = time.perf_counter()
    for alias, source in sources.items():
        ref = f"{target.registry}/{image}:{source}"
        push_ref = f"{target.registry}/{image}:push-{alias}"
        engine.tag(ref, push_ref)
        engine.push(push_ref)
    push_seconds = time.perf_counter() - started
    bench.add(f"aliasing {len(aliases)} tags: blob bytes uploaded", str(uploaded), "0", uploaded == 0)
    bench.add("aliasing time: manifest copy / (docker tag + docker push)",
              f"{copy_seconds:.2f}s / {push_seconds:.2f}s = {copy_seconds / push_seconds:.3f}x")


def target_state_dir(bench: Bench) -> Path:
    found = sandbox.load(bench.root)
    assert found is not None
    return found.state_dir


def bench_verify(bench: Bench) -> None:
    from release.steps.verify import verify_candidate

    release_time = release_seconds(bench, "2.0.0rc1")
    target = bench.target()
    started = time.perf_counter()
    verify_candidate(bench.config, parse_version("2.0.0rc1"), svn_dev_url=target.svn_dev,
                     keys_url=target.keys_url, repo_root=bench.root, progress=bench.quiet)
    seconds = time.perf_counter() - started
    bench.add("verify a sandbox release candidate (signatures, checksums, rebuild)", f"{seconds:.1f}s",
              "< 60 s", seconds < 60)
    bench.add("verify / whole RC release", f"{seconds / release_time:.3f}x")


def run_bench(repo_root: Path, *, platform_flavours: tuple[str, ...] = FLAVOURS, cold_base: bool = False
              ) -> list[Figure]:
    """Run every figure; the caller prints the table. `platform_flavours` get the two-platform
    figures (each needs an arm64 base image: minutes the first time); none skips them."""
    figures = _single_platform(repo_root)
    if platform_flavours:
        from benchmarks.bench_platforms import bench_platforms

        figures += bench_platforms(repo_root, platform_flavours, cold_base=cold_base)
    return figures


def _single_platform(repo_root: Path) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="release-bench-") as work:
        root = sample_checkout(repo_root / "tests" / "fixtures" / "sample", repo_root / "Dockerfile",
                               Path(work) / "sample")
        bench = Bench(root, [])
        try:
            console.progress("warming up: a first release of 1.10.6 (base images, caches)")
            first = release_seconds(bench, "1.10.6")
            warm = release_seconds(bench, "1.10.7")
            bench.add(f"warm release of a new patch version, {len(FLAVOURS)} flavours", f"{warm:.1f}s",
                      "< 90 s", warm < 90)
            bench.add("warm patch release / first release", f"{warm / first:.3f}x")
            bench_aliasing(bench)
            bench_verify(bench)
            from benchmarks.bench_images import bench_images

            bench_images(bench)
        finally:
            sandbox.down(root)
        return bench.figures


def show(figures: list[Figure]) -> None:
    rows = [(f.what, f.value, f.goal or "-", "" if f.met is None else ("met" if f.met else "MISSED"))
            for f in figures]
    console.table("Benchmark", ["figure", "measured", "goal", ""], rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__)
    parser.add_argument("--platform-flavours", default=",".join(FLAVOURS),
                        help="flavours for the two-platform figures (linux/amd64 + linux/arm64 under "
                             "emulation); empty to skip them")
    parser.add_argument("--cold-base", action="store_true",
                        help="also time building each of those flavours' arm64 base image cold (under a "
                             "throwaway name: the shared cache is left alone)")
    options = parser.parse_args(argv)
    chosen = tuple(p for p in options.platform_flavours.split(",") if p)
    show(run_bench(Path.cwd(), platform_flavours=chosen, cold_base=options.cold_base))


if __name__ == "__main__":
    main()
