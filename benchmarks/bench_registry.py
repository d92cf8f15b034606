# SPDX-License-Identifier: Apache-2.0
"""Registry figures for `nox -s bench`: aliasing by manifest copy against a 10 MB and a 1 GB image,
and how the dry run's planning and the base-image refresh grow from 100 to 5,000 tags."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from benchmarks.bench import FLAVOURS, Bench, target_state_dir
from release.adapters.clients import real_clients
from release.adapters.engine import Engine
from release.adapters.registry import Manifest, RegistryClient
from release.pipeline.refresh import refresh_images
from release.pipeline.release import RunOptions, dry_run_plan
from release.plan.images import context_tar
from release.plan.tags import tag_name
from release.sandbox.state import Layout
from release.steps.refresh import refresh_targets
from release.versions import parse_version

ALIASES = [f"alias{n}-python{p}" for n in range(3) for p in FLAVOURS] + ["alias0", "alias1", "alias2"]
GROWTH = (100, 1000, 5000)
INDEX_VERSIONS = 300


def _storage_bytes(state_dir: Path) -> int:
    blobs = state_dir / "registry"
    return sum(p.stat().st_size for p in blobs.rglob("*") if p.is_file() and p.name == "data")


def bench_aliasing(bench: Bench) -> None:
    """The alias set (12 tags) by manifest copy, for a 10 MB and a 1 GB image: no blob moves, so the
    time must not depend on the size."""
    engine = Engine()
    registry = bench.target().registry
    client = RegistryClient(registry)
    state = target_state_dir(bench)
    base = f"sandbox/python:{FLAVOURS[1]}"
    images = {
        "10 MB": ("bench/alias-small", context_tar({"Dockerfile": b"FROM scratch\nCOPY blob /blob\n",
                                                    "blob": os.urandom(10 * 2**20)})),
        "1 GB": ("bench/alias-large", context_tar({"Dockerfile": f"FROM {base}\nRUN head -c 1073741824 "
                                                   "/dev/urandom > /blob\n".encode()})),
    }
    seconds: dict[str, float] = {}
    for size, (repository, context) in images.items():
        ref = f"{registry}/{repository}:source"
        try:
            engine.build(context, tag=ref, buildargs={})
            engine.push(ref)
            info = engine.inspect(ref)
            before = _storage_bytes(state)
            started = time.perf_counter()
            for alias in ALIASES:
                client.copy_tag(repository, "source", alias)
            seconds[size] = time.perf_counter() - started
            uploaded = _storage_bytes(state) - before
            shown = f"{(info.size if info else 0) / 1e6:.0f} MB image"
            bench.add(f"aliasing {len(ALIASES)} tags of a {size} image: time, blob bytes uploaded",
                      f"{seconds[size]:.2f}s, {uploaded} bytes ({shown})", "0 bytes", uploaded == 0,
                      "" if uploaded == 0 else f"{uploaded} bytes uploaded")
        finally:
            engine.remove(ref, force=True)
    ratio = seconds["1 GB"] / seconds["10 MB"]
    bench.goal("aliasing time, 1 GB image / 10 MB image (independent of size)",
               f"{seconds['1 GB']:.2f}s / {seconds['10 MB']:.2f}s = {ratio:.2f}x", ratio, 1.5, "x", "<= 1.5x")


@contextmanager
def counted_requests(host: str) -> Iterator[collections.Counter[str]]:
    """Counts the HTTP requests this process sends to `host` (by method) while the block runs."""
    counts: collections.Counter[str] = collections.Counter()
    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if f"//{host}/" in str(url):
            counts[method.upper()] += 1
        return original(self, method, url, *args, **kwargs)

    setattr(requests.Session, "request", request)  # noqa: B010 - put back below
    try:
        yield counts
    finally:
        setattr(requests.Session, "request", original)  # noqa: B010


def synthetic_versions(count: int) -> list[str]:
    """`0.Y.Z` versions, below every real release of the sample, in release order."""
    return [f"0.{y}.{z}" for y in range(count // 10 + 1) for z in range(10)][:count]


def _put_tags(registry: str, repository: str, names: list[tuple[str, Manifest]]) -> None:
    def put(chunk: list[tuple[str, Manifest]]) -> None:
        client = RegistryClient(registry)
        for name, manifest in chunk:
            client.put_manifest(repository, name, manifest)

    chunks = [names[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, chunks))


def _dry_run_command(root: Path, version: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "release.cli.main", "release", "--version", version,
                             "--dry-run", "--json"], cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    # 6: the preflight found what a real run would refuse (the tree is not at `version`): timed all the same
    if result.returncode not in {0, 6}:
        raise RuntimeError(f"the dry run of {version} failed (exit {result.returncode}): "
                           f"{result.stderr[-2000:]}")
    return seconds


def bench_scale(bench: Bench) -> None:
    """Tags pushed cheaply (a real image's manifest PUT under each name: no blob moves), then the dry
    run and the refresh timed, and their registry requests counted, at 100, 1,000 and 5,000 tags."""
    config = bench.config
    registry = bench.target().registry
    client = RegistryClient(registry)
    image = config.image
    sources = {p: client.get_manifest(image, f"1.10.7-python{p}") for p in FLAVOURS}
    manifests = {p: m for p, m in sources.items() if m is not None}
    existing = len(client.tags(image))
    versions = synthetic_versions(max(GROWTH) // (len(FLAVOURS) + 1) + 1)
    names = [(tag_name(v, p), manifests[p]) for v in versions for p in FLAVOURS]
    names += [(v, manifests[config.default_python]) for v in versions]
    names.sort(key=lambda item: parse_version(item[0].split("-python")[0]))
    index_dir = Layout(target_state_dir(bench)).index_dir
    for version in versions[:INDEX_VERSIONS]:
        (index_dir / f"sample_app-{version}-py3-none-any.whl").write_bytes(b"not a real wheel")
    engine = Engine()
    lines, pushed = [], 0
    found = {}
    for total in GROWTH:
        started = time.perf_counter()
        _put_tags(registry, image, names[pushed:total - existing])
        put_seconds = time.perf_counter() - started
        pushed = max(pushed, total - existing)
        tags = client.tags(image)
        with counted_requests(registry) as plan_requests:
            started = time.perf_counter()
            dry_run_plan(config, parse_version("1.10.8"), RunOptions(flavours=FLAVOURS))
            plan_seconds = time.perf_counter() - started
        command_seconds = _dry_run_command(bench.root, "1.10.8")
        with counted_requests(registry) as refresh_requests:
            started = time.perf_counter()
            report = refresh_images(config, real_clients(registry, engine=engine), dry_run=True,
                                    progress=lambda line: None)
            refresh_seconds = time.perf_counter() - started
        targets = len(refresh_targets(tags))
        requests_sent = sum(refresh_requests.values())
        found[total] = (command_seconds, plan_seconds, refresh_seconds, requests_sent, targets, len(tags))
        lines.append(f"{len(tags)} tags ({put_seconds:.1f}s to push): dry run {command_seconds:.2f}s as a "
                     f"command, {plan_seconds:.3f}s planning ({sum(plan_requests.values())} requests); "
                     f"refresh {refresh_seconds:.2f}s, {requests_sent} requests for {targets} targets "
                     f"({len(report.items)} checked)")
    command_seconds, plan_seconds, refresh_seconds, requests_sent, targets, tag_count = found[max(GROWTH)]
    bench.goal(f"dry run with {tag_count} tags, {INDEX_VERSIONS} versions on the index (the whole command)",
               f"{command_seconds:.2f}s ({plan_seconds:.2f}s of it planning)", command_seconds, 1, "s",
               "< 1 s")
    bench.add(f"refresh with {tag_count} tags: finding what to rebuild",
              f"{refresh_seconds:.2f}s, {requests_sent} registry requests for {targets} targets",
              "fewer requests than tags", requests_sent < tag_count,
              "" if requests_sent < tag_count else f"{requests_sent} requests")
    bench.detail("planning and refresh as the tags grow", lines)
    for version in versions[:INDEX_VERSIONS]:
        (index_dir / f"sample_app-{version}-py3-none-any.whl").unlink(missing_ok=True)
