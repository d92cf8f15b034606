# SPDX-License-Identifier: Apache-2.0
"""`nox -s bench`: the performance figures of the issues, each measured in this one run next to
what it is compared with (the plain image is built in the same run), with its goal, whether the
goal is met and, when not, how far off it is. Where the time goes (per build step, per smoke
check, per release step) is printed after the table.

Everything runs against a throwaway sandbox under a temporary root, on a copy of the sample
application in tests/fixtures/sample (the image figures also on this repository's own application,
from a checkout of HEAD: its dependency install dominates, as a user's does); figures that need an
empty engine or a fresh machine use a throwaway registry, throwaway base images and image tags of
their own, and remove only the images they made. Nothing here asserts: it measures and prints.

    python -m benchmarks.bench [--skip SECTION,...] [--only SECTION,...] [--platform-flavours 3.11]
                               [--cold-base] [--builder buildkit|classic]

Every image figure is measured with the builder the engine adapter chooses (BuildKit where a docker
client drives it), the plain images it is compared with too; `--builder classic` measures the
classic builder against itself.

Sections: release, images, ci, aliasing, verify, scale, fresh, airflow, platforms, votes, startup
(`airflow`: the production image of Apache Airflow, three flavours in one run: long). Sections
`votes` (benchmarks/bench_votes.py) and `startup` (benchmarks/bench_startup.py: `--help`,
`--version`, every `TASK --help`, `invoke --list`, and the dry run against 5,000 tags of a stub
registry) need no sandbox and run first. The two-platform
figures (section `platforms`, benchmarks/bench_platforms.py) run last on a sandbox of their own;
`--platform-flavours` chooses their flavours (each needs an arm64 base image, built under qemu the
first time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from release import console, sandbox
from release.adapters.engine import BUILDER_ENV
from release.config import ReleaseConfig, load_config
from release.pipeline.connect import Target, connect
from release.pipeline.release import RunOptions, run_release
from release.progress import Event, Progress
from release.versions import parse_version

FLAVOURS = ("3.9", "3.11", "3.13")
SECTIONS = ("release", "images", "ci", "aliasing", "verify", "scale", "fresh", "airflow", "platforms",
            "votes", "startup")
PURE = {"votes", "startup"}  # no sandbox: they run first


@dataclass
class Figure:
    what: str
    value: str
    goal: str = ""
    met: bool | None = None
    off: str = ""  # how far from the goal, when it is missed


def at_most(measured: float, goal: float, unit: str = "x") -> tuple[bool, str]:
    """(met, how far off) for a goal `measured <= goal`."""
    if measured <= goal:
        return True, ""
    return False, f"{measured - goal:.2f}{unit} over, {measured / goal:.2f} times the goal"


@dataclass
class Bench:
    root: Path
    figures: list[Figure]
    details: list[tuple[str, list[str]]] = field(default_factory=list)
    quiet: Progress = lambda line: None
    flavours: tuple[str, ...] = FLAVOURS

    @property
    def config(self) -> ReleaseConfig:
        return load_config(self.root)

    def target(self) -> Target:
        return connect(self.config, flavours=self.flavours, progress=self.quiet)

    def add(self, what: str, value: str, goal: str = "", met: bool | None = None, off: str = "") -> None:
        self.figures.append(Figure(what, value, goal, met, off))
        mark = "" if met is None else (" [met]" if met else f" [NOT MET: {off}]")
        console.progress(f"{what}: {value}{'  (goal ' + goal + ')' if goal else ''}{mark}")

    def goal(self, what: str, value: str, measured: float, goal: float, unit: str, shown_goal: str,
             where: str = "") -> None:
        """A figure with a goal `measured <= goal`; when missed, `where` the time goes follows how far
        off it is."""
        met, off = at_most(measured, goal, unit)
        self.add(what, value, shown_goal, met, f"{off}; {where}" if off and where else off)

    def detail(self, section: str, lines: Sequence[str]) -> None:
        self.details.append((section, list(lines)))
        for line in lines:
            console.progress(f"  {line}")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def sample_checkout(fixtures: Path, dest: Path) -> Path:
    """The sample as a one-commit checkout; like any project without a Dockerfile of its own, its
    images use the one release-pipeline ships. The benchmarks release finals in one command, so the
    sample says `vote = "none"` (with the source checks an ASF vote has)."""
    shutil.copytree(fixtures, dest)
    pyproject = dest / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.release]\n", '[tool.release]\nvote = "none"\nsource-checks = true\n', 1))
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


class Timeline:
    """The release steps as they are announced, and the image events, with times."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: list[tuple[str, float]] = []
        self.events: list[Event] = []

    def announce(self, name: str, does: str) -> None:
        self.steps.append((name, time.perf_counter()))

    def say(self, item: str | Event) -> None:
        if isinstance(item, Event) and item.kind in {"built", "smoked", "pushed", "reused", "cache"}:
            self.events.append(item)

    def lines(self, finished: float) -> list[str]:
        marks = [*self.steps, ("end", finished)]
        found = [f"step {name}: {end - start:.1f}s" for (name, start), (_, end) in zip(marks, marks[1:])]
        found += [f"  {e.subject} {e.kind}: {e.elapsed:.1f}s" for e in self.events if e.elapsed]
        return found


def release_seconds(bench: Bench, version: str, timeline: Timeline | None = None) -> float:
    final = str(parse_version(version).final)
    if final != "1.10.6":
        set_version(bench.root, final)
    timeline = timeline or Timeline()
    started = time.perf_counter()
    run_release(bench.config, parse_version(version), bench.target(), RunOptions(flavours=bench.flavours),
                announce=timeline.announce, say=timeline.say)
    return time.perf_counter() - started


def bench_release(bench: Bench) -> None:
    """A first release (the warm-up: base images, caches), then a patch release, measured."""
    timeline = Timeline()
    warm = release_seconds(bench, "1.10.7", timeline)
    bench.goal(f"warm release of a patch version, {len(FLAVOURS)} flavours", f"{warm:.1f}s", warm, 10, "s",
               "< 10 s")
    bench.detail("warm release of 1.10.7, where the time goes", timeline.lines(timeline.started + warm))


def bench_verify(bench: Bench) -> None:
    from release.pipeline.verify import verify_candidate

    release_time = release_seconds(bench, "2.0.0rc1")
    target = bench.target()
    started = time.perf_counter()
    verify_candidate(bench.config, parse_version("2.0.0rc1"), svn_dev_url=target.svn_dev,
                     keys_url=target.keys_url, repo_root=bench.root, progress=bench.quiet)
    seconds = time.perf_counter() - started
    bench.goal("verify a sandbox release candidate (signatures, checksums, rebuild)", f"{seconds:.1f}s",
               seconds, 60, "s", "< 60 s")
    bench.add("verify / whole RC release", f"{seconds / release_time:.3f}x")


def target_state_dir(bench: Bench) -> Path:
    found = sandbox.load(bench.root)
    assert found is not None
    return found.state_dir


def run_bench(repo_root: Path, sections: Sequence[str] = SECTIONS, *,
              platform_flavours: tuple[str, ...] = FLAVOURS, cold_base: bool = False) -> Bench:
    """Run the chosen sections; the caller prints the table. The `platforms` section runs last on a
    sandbox of its own, for `platform_flavours` (each needs an arm64 base image: minutes the first
    time); none skips it."""
    votes = Bench(repo_root, [])
    if "votes" in sections:
        console.progress("== votes")
        _votes(votes)
    if "startup" in sections:
        console.progress("== startup")
        _startup(votes, repo_root)
    single = [s for s in sections if s not in {"platforms", *PURE}]
    bench = _single_platform(repo_root, single) if single else Bench(repo_root, [])
    bench.figures[:0] = votes.figures
    bench.details[:0] = votes.details
    if "platforms" in sections and platform_flavours:
        from benchmarks.bench_platforms import bench_platforms

        console.progress("== platforms")
        try:
            bench.figures += bench_platforms(repo_root, platform_flavours, cold_base=cold_base)
        except Exception as exc:  # one broken section must not lose the others' figures
            bench.add("section platforms", f"failed: {type(exc).__name__}: {str(exc)[:300]}")
    return bench


def _votes(bench: Bench) -> None:
    from benchmarks.bench_votes import RATIO_GOAL, SHORT_GOAL, bench_votes

    for filler, short, long, ratio in bench_votes():
        bench.goal(f"a 20,000-character vote line ({filler})", f"{short * 1000:.2f} ms", short, SHORT_GOAL,
                   " s", f"<= {SHORT_GOAL * 1000:.0f} ms (was 2.6 s)")
        bench.goal(f"a 200,000-character vote line ({filler}), against 20,000",
                   f"{ratio:.1f}x ({long * 1000:.1f} ms)", ratio, RATIO_GOAL, "x",
                   f"<= {RATIO_GOAL:.0f}x (linear: about 10)")


def _startup(bench: Bench, repo_root: Path) -> None:
    from benchmarks.bench_startup import bench_startup

    try:
        figures, details = bench_startup(repo_root)
    except Exception as exc:  # one broken section must not lose the others' figures
        bench.add("section startup", f"failed: {type(exc).__name__}: {str(exc)[:300]}")
        return
    for what, value, goal, met, off in figures:
        bench.add(what, value, goal, met, off)
    bench.detail("startup and the dry run, where the time goes", details)


def _single_platform(repo_root: Path, sections: Sequence[str]) -> Bench:
    from benchmarks import bench_fresh, bench_images, bench_registry

    runners: dict[str, Callable[[Bench], None]] = {
        "release": bench_release,
        "images": lambda b: bench_images.bench_images(b, repo_root),
        "ci": bench_images.bench_empty_engine,
        "aliasing": bench_registry.bench_aliasing,
        "verify": bench_verify,
        "scale": bench_registry.bench_scale,
        "fresh": lambda b: bench_fresh.bench_fresh(b, repo_root),
        "airflow": lambda b: bench_fresh.bench_airflow(b, repo_root),
    }
    with tempfile.TemporaryDirectory(prefix="release-bench-") as work:
        root = sample_checkout(repo_root / "tests" / "fixtures" / "sample", Path(work) / "sample")
        bench = Bench(root, [])
        try:
            console.progress("warming up: a first release of 1.10.6 (sandbox, base images, caches)")
            first = release_seconds(bench, "1.10.6")
            bench.add("first release of the sample (base images here, engine warm)", f"{first:.1f}s")
            for name in sections:
                console.progress(f"== {name}")
                started = time.perf_counter()
                try:
                    runners[name](bench)
                except Exception as exc:  # one broken section must not lose the others' figures
                    bench.add(f"section {name}", f"failed: {type(exc).__name__}: {str(exc)[:300]}")
                console.progress(f"== {name}: {time.perf_counter() - started:.0f}s")
        finally:
            sandbox.down(root)
        return bench


def show(bench: Bench) -> None:
    for section, lines in bench.details:
        console.table(section, ["measured"], [[line] for line in lines])
    def verdict(figure: Figure) -> str:
        return "" if figure.met is None else ("met" if figure.met else f"NOT MET: {figure.off}")

    rows = [(f.what, f.value, f.goal or "-", verdict(f)) for f in bench.figures]
    console.table("Benchmark", ["figure", "measured", "goal", "met?"], rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    parser.add_argument("--platform-flavours", default=",".join(FLAVOURS),
                        help="flavours for the two-platform figures (linux/amd64 + linux/arm64 under "
                             "emulation); empty to skip them")
    parser.add_argument("--builder", choices=("buildkit", "classic"), default="",
                        help="the image builder for every figure (default: BuildKit where a docker client "
                             "drives it, else classic)")
    parser.add_argument("--cold-base", action="store_true",
                        help="also time building each of those flavours' arm64 base image cold (under a "
                             "throwaway name: the shared cache is left alone)")
    args = parser.parse_args(argv)
    only = [s for s in args.only.split(",") if s] or list(SECTIONS)
    skip = {s for s in args.skip.split(",") if s}
    unknown = sorted((set(only) | skip) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    chosen = tuple(p for p in args.platform_flavours.split(",") if p)
    if args.builder:
        os.environ[BUILDER_ENV] = args.builder
    show(run_bench(Path.cwd(), [s for s in SECTIONS if s in only and s not in skip],
                   platform_flavours=chosen, cold_base=args.cold_base))


if __name__ == "__main__":
    main()
