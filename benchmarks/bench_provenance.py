# SPDX-License-Identifier: Apache-2.0
"""`python -m benchmarks.bench_provenance`: what provenance costs, in release time and bytes.

One flavour, a final and a candidate of the sample app on a throwaway sandbox: the time of each
release step (from the run's step announcements), the size of each SBOM, signature and record,
the attached artifact next to the image, and how long `verify --published` takes.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.bench import Bench, _git, sample_checkout, set_version
from release import console, sandbox
from release.adapters.clients import real_clients
from release.adapters.registry import RegistryClient
from release.pipeline.connect import connect
from release.pipeline.release import RunOptions, run_release
from release.plan.provenance import attachment_tag
from release.plan.tags import version_tag
from release.steps.check_provenance import verify_published
from release.versions import parse_version

FLAVOUR = "3.11"
PROVENANCE_STEPS = ("sbom", "attest", "provenance")


def step_seconds(bench: Bench, version: str) -> dict[str, float]:
    """Each step's seconds in a release of `version`, one flavour."""
    times: dict[str, float] = {}
    current: list[object] = ["", time.perf_counter()]

    def announce(name: str, does: str) -> None:
        now = time.perf_counter()
        if current[0]:
            times[str(current[0])] = now - float(str(current[1]))
        current[:] = [name, now]

    final = str(parse_version(version).final)
    if final != "1.10.6":
        set_version(bench.root, final)
    target = connect(bench.config, flavours=(FLAVOUR,), progress=bench.quiet)
    run_release(bench.config, parse_version(version), target, RunOptions(flavours=(FLAVOUR,)),
                announce=announce, say=bench.quiet)
    times[str(current[0])] = time.perf_counter() - float(str(current[1]))
    return times


def bench_provenance(bench: Bench) -> None:
    for version in ("1.10.6", "2.0.0rc1"):
        times = step_seconds(bench, version)
        spent = sum(times[s] for s in PROVENANCE_STEPS)
        bench.add(f"{version}: sbom / attest / provenance steps, one image",
                  " / ".join(f"{times[s]:.2f}s" for s in PROVENANCE_STEPS))
        whole = sum(times.values())
        bench.add(f"{version}: provenance steps / whole release", f"{spent:.1f}s / {whole:.1f}s")
        directory = bench.root / "dist" / version
        for pattern in ("sbom/*.cdx.json", "image-signatures/*.sig", "release.json"):
            for path in sorted(directory.glob(pattern)):
                bench.add(f"{version}: bytes of {path.relative_to(directory)}", str(path.stat().st_size))
    target = connect(bench.config, flavours=(FLAVOUR,), progress=bench.quiet)
    registry = RegistryClient(target.registry)
    image = bench.config.image
    digest = registry.manifest_digest(image, version_tag(parse_version("1.10.6"), FLAVOUR))
    attached = registry.get_manifest(image, attachment_tag(digest or ""))
    pushed = registry.get_manifest(image, digest or "")
    if attached is not None and pushed is not None:
        layers = sum(int(layer["size"]) for layer in attached.body["layers"])
        size = sum(int(layer["size"]) for layer in pushed.body["layers"]) + int(pushed.body["config"]["size"])
        bench.add("attached artifact / image, bytes (compressed)",
                  f"{layers + len(attached.raw)} / {size} = {(layers + len(attached.raw)) / size:.4f}x")
    started = time.perf_counter()
    verify_published(bench.config, parse_version("1.10.6"), real_clients(target.registry),
                     svn_dev_url=target.svn_dev, svn_release_url=target.svn_release,
                     keys_url=target.keys_url, progress=bench.quiet)
    bench.add("verify --published of the final", f"{time.perf_counter() - started:.1f}s")


def main() -> None:
    repo_root = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="release-bench-") as work:
        root = sample_checkout(repo_root / "tests" / "fixtures" / "sample", Path(work) / "sample")
        pyproject = root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('python = ["3.9", "3.11", "3.13"]',
                                                           f'python = ["{FLAVOUR}"]'))
        _git(root, "-c", "user.name=Bench", "-c", "user.email=bench@sample.invalid", "commit", "-qam",
             "one flavour")
        bench = Bench(root, [])
        try:
            bench_provenance(bench)
        finally:
            sandbox.down(root)
    console.table("Provenance", ["figure", "measured"], [(f.what, f.value) for f in bench.figures])


if __name__ == "__main__":
    main()
