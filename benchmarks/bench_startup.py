# SPDX-License-Identifier: Apache-2.0
"""Section `startup` of `nox -s bench`: how long the commands that only answer take to start
(`release-pipeline --help`, `--version`, every `TASK --help`, `invoke --list` and `invoke --help` in
this repository), and the dry run of a release against a registry holding 5,000 tags.

No sandbox and no engine: the registry of the dry run is a stub in this process that answers what a
dry run asks (the tag list, in pages of 1,000 as registries cap it, and the digests of the tags it
plans with), and the index a page of 300 files. Each command is a real process, run once to warm
up, then timed RUNS times, with bytecode written and read as an installed package has it
(PYTHONDONTWRITEBYTECODE is dropped). The goal is judged on the median CPU seconds (user + system)
of the process: these commands run on one core and wait on nothing but the stub, so on a quiet
machine their wall time is their CPU time, while on a shared one the wall time (shown next to it,
with the load) measures the neighbours. Where the time goes is the command's imports (`python -X
importtime`), then the planning, measured in a process that has imported everything already.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlsplit

RUNS = 5
START_GOAL = 0.5  # seconds, for --help, --version and TASK --help
DRY_RUN_GOAL = 1.0  # seconds, the whole dry-run command against 5,000 tags
PREFLIGHT_CODES = (0, 6)  # the dry run's exits: a clean plan, or problems a real run would refuse
TAGS = 5000
PAGE = 1000  # tags per page of the stub registry's tag list
INDEX_FILES = 300
FLAVOURS = ("3.9", "3.11", "3.13")
# What a command that only answers must not load (tests/integration/test_startup.py asserts it).
HEAVY = ("docker", "requests", "git", "twine", "cryptography", "cyclonedx", "jsonschema", "rich.table",
         "release.pipeline", "release.adapters", "release.steps")


@dataclass(frozen=True)
class Timing:
    command: str
    median: float  # wall seconds
    best: float
    cpu: float  # user + system seconds of one run, median

    def line(self) -> str:
        return f"{self.command}: {self.median:.3f}s (best {self.best:.3f}s, {self.cpu:.3f}s CPU)"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(command: Sequence[str], cwd: Path, codes: Collection[int]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    if result.returncode not in codes:
        raise subprocess.CalledProcessError(result.returncode, list(command), result.stdout, result.stderr)
    return result


def timed(command: Sequence[str], *, cwd: Path, shown: str = "", runs: int = RUNS,
          codes: Collection[int] = (0,)) -> Timing:
    _run(command, cwd, codes)  # warm: bytecode written
    walls, cpus = [], []
    for _ in range(runs):
        cpu, started = _children_cpu(), time.perf_counter()
        _run(command, cwd, codes)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu)
    return Timing(shown or " ".join(command), statistics.median(walls), min(walls), statistics.median(cpus))


def program(*args: str) -> list[str]:
    """`release-pipeline ARGS` as the console script runs it, with this interpreter."""
    return [sys.executable, "-c", "from release.cli.main import main; main()", *args]


def heaviest_imports(command: Sequence[str], *, cwd: Path, count: int = 6) -> list[str]:
    """The top-level imports of one run of `command` that took longest, cumulative."""
    result = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], cwd=cwd, capture_output=True,
                            text=True, check=False, env=ENV)
    found = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)  # top level: one space
        if match:
            found.append((int(match[1]), match[2]))
    return [f"{name} {micros / 1e6:.3f}s" for micros, name in sorted(found, reverse=True)[:count]]


def heavy_loaded(*args: str, cwd: Path) -> list[str]:
    probe = ("import sys; from release.cli.main import main\n"
             "try: main(sys.argv[1:])\nexcept SystemExit: pass\n"
             "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')")
    result = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, capture_output=True, text=True,
                            check=False)
    line = next((x for x in result.stderr.splitlines() if x.startswith("MODULES ")), "MODULES ")
    modules = line.split()[1:]
    return sorted({h for h in HEAVY for m in modules if m == h or m.startswith(h + ".")})


# --- a registry and an index that answer a dry run ---------------------------------------------------


def synthetic_tags(count: int) -> list[str]:
    """`0.Y.Z` releases (below every real one of the sample), each with its flavour tags and its
    plain version tag, as the pipeline tags them: `count` tags."""
    tags: list[str] = []
    y = 0
    while len(tags) < count:
        for z in range(10):
            version = f"0.{y}.{z}"
            tags += [*(f"{version}-python{p}" for p in FLAVOURS), version]
        y += 1
    return tags[:count]


def _digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


class _Stub(BaseHTTPRequestHandler):
    tags: ClassVar[frozenset[str]] = frozenset()
    index_page: ClassVar[bytes] = b""
    requests: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.requests.append(f"HEAD {self.path}")
        reference = urlsplit(self.path).path.rsplit("/manifests/", 1)
        if len(reference) == 2 and reference[1] in self.tags:
            self._send(200, headers={"Docker-Content-Digest": _digest(reference[1]),
                                     "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        else:
            self._send(404)

    def do_GET(self) -> None:
        self.requests.append(f"GET {self.path}")
        parts = urlsplit(self.path)
        if parts.path == "/v2/":
            self._send(200, b"{}", {"Content-Type": "application/json"})
        elif parts.path.endswith("/tags/list"):
            query = parse_qs(parts.query)
            last = query.get("last", [""])[0]
            ordered = sorted(self.tags)
            start = next((i for i, t in enumerate(ordered) if t > last), len(ordered)) if last else 0
            page = ordered[start:start + min(PAGE, int(query.get("n", [str(PAGE)])[0]))]
            headers = {"Content-Type": "application/json"}
            if start + len(page) < len(ordered):
                headers["Link"] = f'<{parts.path}?n={PAGE}&last={quote(page[-1])}>; rel="next"'
            repository = parts.path.removeprefix("/v2/").removesuffix("/tags/list")
            self._send(200, json.dumps({"name": repository, "tags": page}).encode(), headers)
        elif parts.path.startswith("/simple/"):
            self._send(200, self.index_page, {"Content-Type": "text/html"})
        else:
            self._send(404)


@contextmanager
def stub_registry(tags: Sequence[str], project: str) -> Iterator[tuple[str, list[str]]]:
    """A registry and index on 127.0.0.1 holding `tags` and INDEX_FILES wheels of `project`: its
    host:port and the requests it answered."""
    names = [f"{project}-0.{i // 10}.{i % 10}-py3-none-any.whl" for i in range(INDEX_FILES)]
    files = "".join(f'<a href="{name}#sha256={"0" * 64}">{name}</a>\n' for name in names)
    seen: list[str] = []
    handler = type("Stub", (_Stub,), {"tags": frozenset(tags), "requests": seen,
                                      "index_page": f"<html><body>{files}</body></html>".encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _project(sample: Path, dest: Path, registry: str) -> Path:
    """The sample as a checkout whose [tool.release] names the stub, and nothing of the sandbox."""
    from benchmarks.bench import sample_checkout

    root = sample_checkout(sample, dest)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n".join([
        f'registry = "{registry}"', f'index = "http://{registry}/"', f'svn-dev = "http://{registry}/svn/dev"',
        f'svn-release = "http://{registry}/svn/release"', f'signing-key = "{"F" * 40}"', ""]))
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "commit", "-qam",
                    "the stub registry"], cwd=root, check=True, capture_output=True)
    return root


def bench_startup(repo_root: Path) -> tuple[list[tuple[str, str, str, bool | None, str]], list[str]]:
    """(figures as (what, value, goal, met, off), where the time goes)."""
    from release.cli.collection import ns

    figures: list[tuple[str, str, str, bool | None, str]] = []
    details: list[str] = []

    def goal(what: str, timing: Timing, limit: float) -> None:
        met = timing.cpu < limit
        off = "" if met else f"{timing.cpu - limit:.2f}s over, {timing.cpu / limit:.1f} times the goal"
        figures.append((what, f"{timing.cpu:.3f}s CPU ({timing.median:.3f}s wall)", f"< {limit} s CPU", met,
                        off))

    details.append(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores while measuring")
    floor = timed([sys.executable, "-c", "pass"], cwd=repo_root, shown="python -c pass")
    invoke_floor = timed([sys.executable, "-c", "import invoke.program, invoke.collection, invoke.tasks"],
                         cwd=repo_root, shown="python -c 'import invoke'")
    details += [f"floor: {floor.line()}", f"floor: {invoke_floor.line()}"]
    for args in (["--help"], ["--version"]):
        timing = timed(program(*args), cwd=repo_root, shown=f"release-pipeline {' '.join(args)}")
        goal(timing.command, timing, START_GOAL)
        details.append(timing.line())
    tasks = [timed(program(task, "--help"), cwd=repo_root, shown=f"release-pipeline {task} --help", runs=3)
             for task in sorted(ns.task_names)]
    slowest = max(tasks, key=lambda t: t.cpu)
    goal(f"release-pipeline TASK --help, slowest of {len(tasks)} tasks ({slowest.command.split()[1]})",
         slowest, START_GOAL)
    details += [t.line() for t in tasks]
    for args in (["--list"], ["--help"]):
        timing = timed([sys.executable, "-m", "invoke", *args], cwd=repo_root,
                       shown=f"invoke {' '.join(args)}")
        goal(f"{timing.command} in this repository", timing, START_GOAL)
        details.append(timing.line())
    heavy = heavy_loaded("--help", cwd=repo_root)
    figures.append(("what `release-pipeline --help` loads of " + ", ".join(HEAVY), ", ".join(heavy) or "none",
                    "none", not heavy, ", ".join(heavy)))
    slowest_imports = heaviest_imports(program("--help"), cwd=repo_root)
    details += ["--help, its slowest imports: " + "; ".join(slowest_imports)]

    tags = synthetic_tags(TAGS)
    with tempfile.TemporaryDirectory(prefix="release-bench-startup-") as work, \
            stub_registry(tags, "sample_app") as (registry, seen):
        root = _project(repo_root / "tests" / "fixtures" / "sample", Path(work) / "sample", registry)
        dry_run = ["release", "--version", "1.10.8", "--dry-run", "--json"]
        seen.clear()
        # the stub project has no signing key, no credentials and votes on its finals: the dry run
        # plans, runs the preflight over all of it and exits 6 naming those, as it does for a user
        problems = json.loads(_run(program(*dry_run), root, PREFLIGHT_CODES).stdout)["problems"]
        requests_sent = len(seen)
        timing = timed(program(*dry_run), cwd=root, shown="release-pipeline " + " ".join(dry_run),
                       codes=PREFLIGHT_CODES)
        goal(f"dry run with {TAGS} tags, {INDEX_FILES} files on the index (the whole command)", timing,
             DRY_RUN_GOAL)
        plan_seconds = _plan_seconds(root)
        imports = timed([sys.executable, "-c", "import release.cli.collection, release.pipeline.release, "
                         "release.cli.show"], cwd=root, shown="its imports alone")
        details += [
            f"dry run with {TAGS} tags: {timing.line()}; {requests_sent} registry and index requests; "
            f"its preflight names {len(problems)} problems of the stub project (exit 6)",
            f"  of it: {imports.line()}",
            f"  of it: planning in-process (the tag list, the digests, the plan) {plan_seconds:.3f}s",
            "  its slowest imports: " + "; ".join(heaviest_imports(program(*dry_run), cwd=root)),
        ]
        shutil.rmtree(root, ignore_errors=True)
    return figures, details


def _plan_seconds(root: Path) -> float:
    """The dry run's planning alone, in a process that has imported everything already."""
    script = ("import time\nfrom pathlib import Path\nfrom release.config import load_config\n"
              "from release.pipeline.release import RunOptions, dry_run_plan\n"
              "from release.versions import parse_version\n"
              "config = load_config(Path.cwd())\nstarted = time.perf_counter()\n"
              "plan = dry_run_plan(config, parse_version('1.10.8'), RunOptions(flavours=config.python))\n"
              "print(time.perf_counter() - started, len(plan.tags), plan.warnings)")
    result = subprocess.run([sys.executable, "-c", script], cwd=root, check=True, capture_output=True,
                            env=ENV, text=True)
    seconds, _, rest = result.stdout.strip().partition(" ")
    if "unreachable" in rest or "not running" in rest:
        raise RuntimeError(f"the dry run did not reach the stub registry: {rest[:300]}")
    return float(seconds)
