# SPDX-License-Identifier: Apache-2.0
"""The fault suite: each fault is injected into the real sandbox services or into the pipeline's own
process while `invoke release` runs; after each, a rerun of the same command must finish the release.

The sample releases one Python flavour through a misbehaving HTTP proxy in front of the real
registry (which wants a password) and one in front of the real index (uploads want twine's
password), with dist/ on a small tmpfs that can be filled. After every fault these hold:

- `latest` and `X.Y` never point at an image whose packages are not on the index;
- nothing on the index differs from the signed files;
- after the rerun, the registry, the index and the record are those of an uninterrupted release
  (compared with the release of 1.0.0, made at the start without a fault), and every alias is on
  the highest release of its kind;
- no secret appears in any output, log, record, SBOM or image (its layers, labels and history):
  the registry's password and twine's (the index token) are in every run's environment as CI has
  them, and so is a build-arg-like secret the build is handed (PIP_EXTRA_INDEX_URL with a token);

Each fault counts once it went off (a kill's trigger line was reached, a proxy rule acted), each
rerun once it converged, each bad input once it was refused in one line with its exit code.
The two releases at once are forced to interleave: the older one is stopped inside its alias step,
holding the aliases, until the newer one waits for them.

The suite needs root (it mounts a small tmpfs). Not as root it fails, saying so, unless
RELEASE_PIPELINE_SKIP_FAULTS=1 asks to skip it (CI runs as root: there it always runs).

`nox -s faults` runs this file alone; its closing figures are printed at the end.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import CLOSING_FIGURES, REPO_ROOT, SKIP_FAULTS, git, make_sample_repo
from fault_helpers import (
    BAD_CONFIG_PAIRS,
    CONFIG_KEYS,
    SERVICES_DAMAGE,
    FaultProxy,
    Outcome,
    Rule,
    SmallDisk,
    config_refusal_prefix,
    kill_group,
    run_pipeline,
    toml_string,
    with_bad_value,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from benchmarks.bench import set_version
from release import sandbox
from release.adapters import gpg, svn
from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.record import sha256_of, sha512_of
from release.steps.tags import image_version
from release.versions import ReleaseVersion, parse_version

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow, pytest.mark.faults]

NAME, IMAGE, FLAVOUR = "sample-app", "sample/app", "3.11"
BASELINE = "1.0.0"
USER = "faults"
REGISTRY_PASSWORD = f"registry-password-{secrets.token_hex(8)}"
TWINE_PASSWORD = f"twine-password-{secrets.token_hex(8)}"  # the index token
PIP_TOKEN = f"pip-token-{secrets.token_hex(8)}"  # in PIP_EXTRA_INDEX_URL, as a private mirror's
SECRETS = (REGISTRY_PASSWORD, TWINE_PASSWORD, PIP_TOKEN)
BASE = "faults/python"  # the sample's own base image repository, so a test can move it


@dataclass
class Figures:
    faults: int = 0  # faults that went off
    converged: int = 0  # reruns that finished the release as an uninterrupted one
    refused: int = 0  # bad inputs refused in one line with their exit code
    secrets_found: int = 0
    started: float = field(default_factory=time.monotonic)

    def lines(self) -> list[str]:
        return [f"faults injected: {self.faults}", f"reruns that converged: {self.converged}",
                f"bad inputs refused: {self.refused}", f"secrets found in outputs: {self.secrets_found}",
                f"wall time: {time.monotonic() - self.started:.0f}s"]


@dataclass(repr=False)
class Suite:
    root: Path
    disk: SmallDisk
    registry_proxy: FaultProxy
    index_proxy: FaultProxy
    env: dict[str, str]
    figures: Figures
    outputs: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # short: hypothesis shows it with a failing example
        return f"Suite({self.root})"

    # --- the pipeline as a user runs it

    def invoke(self, *args: str, when: str = "", then: Any = None, started: Any = None) -> Outcome:
        outcome = run_pipeline([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
                               cwd=self.root, env=self.env, when=when, then=then, started=started)
        self.outputs += [outcome.stdout, outcome.stderr]
        return outcome

    def release(self, version: str, *extra: str, when: str = "", then: Any = None,
                started: Any = None) -> Outcome:
        return self.invoke("release", "--version", version, *extra, when=when, then=then, started=started)

    def declare(self, version: str) -> None:
        set_version(self.root, str(parse_version(version).final))

    def injected(self, outcome: Outcome, *, fired: bool, code: int, says: str = "") -> None:
        """A fault went off (`fired`: its trigger was reached, its proxy rule acted): the run failed as
        it should, in one clear line, and broke no invariant. Only a fault that went off counts."""
        assert fired, f"the fault never went off:\n{outcome.stderr[-3000:]}"
        self.figures.faults += 1
        assert outcome.returncode == code, f"exit {outcome.returncode} not {code}:\n{outcome.stderr[-3000:]}"
        if code > 0:
            assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
            assert outcome.last_line.startswith("error: ") and says in outcome.last_line, outcome.last_line
        self.services()  # bring back what the fault killed, to look at it
        self.check_invariants()

    def converges(self, version: str, *extra: str) -> Outcome:
        """The rerun of the same command finishes the release, as an uninterrupted one would have."""
        outcome = self.release(version, *extra)
        assert outcome.returncode == 0, outcome.stderr[-3000:]
        self.check_invariants()
        self.check_finished(version)
        self.check_aliases()
        self.figures.converged += 1
        return outcome

    # --- what the services hold

    def services(self) -> sandbox.Services:
        """The sandbox's services, brought back up when a fault killed one."""
        return sandbox.up(self.root, name=NAME, flavours=[FLAVOUR], progress=lambda line: None)

    def loaded(self) -> sandbox.Services:
        found = sandbox.load(self.root)
        assert found is not None
        return found

    def registry(self) -> RegistryClient:
        return RegistryClient(self.loaded().registry)

    def index(self) -> PackageIndex:
        url = self.loaded().index_url
        return PackageIndex(url, url + "simple/")

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / ".release" / "services.json").read_text())
        return data

    def record(self, version: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / "dist" / version / "release.json").read_text())
        return data

    def index_files(self) -> dict[str, str | None]:
        return self.index().hashes(NAME)

    def released(self) -> list[ReleaseVersion]:
        """Final versions whose packages are on the index."""
        versions = {parse_version(n) for n in self.index().versions(NAME)}
        return sorted(v for v in versions if not v.is_prerelease)

    # --- the invariants

    def check_invariants(self) -> None:
        registry, index = self.registry(), self.index_files()
        on_index = {version_of(name) for name in index}
        for tag in registry.tags(IMAGE):
            if not (tag.startswith("latest") or re.fullmatch(r"\d+\.\d+(-python[\d.]+)?", tag)):
                continue
            digest = registry.manifest_digest(IMAGE, tag)
            assert digest is not None
            version = image_version(registry, IMAGE, digest)
            assert version is not None and str(version) in on_index, (
                f"{tag} points at {version}, whose packages are not on the index ({sorted(on_index)})")
        keys = self.root / "dist" / ".faults-KEYS"
        keys.write_text(svn.read_text(f"{self.loaded().svn_url}/release/{NAME}/KEYS"))
        with gpg.temporary_home() as home:  # as a voter checks: against the project's KEYS
            gpg.import_keys(keys, gnupghome=home)
            keys.unlink()
            for name, digest in index.items():
                version = version_of(name)
                ours = self.root / "dist" / version / "pypi" / name
                assert ours.is_file() and sha256_of(ours) == digest, f"{name} on the index was not built"
                signed = ours if ours.with_name(name + ".asc").exists() else ours.parent.parent / "svn" / name
                assert signed.read_bytes() == ours.read_bytes(), f"{name} on the index is not the signed file"
                check = gpg.verify_detached(signed.with_name(name + ".asc"), signed, gnupghome=home)
                assert check.good, f"{name}: {check.detail}"

    def check_finished(self, version: str) -> None:
        """Registry, index and record of `version` as an uninterrupted release of it leaves them."""
        assert snapshot(self, version) == snapshot(self, BASELINE), version
        record, registry = self.record(version), self.registry()
        digest = record["images"][FLAVOUR]["digest"]
        assert registry.manifest_digest(IMAGE, f"{version}-python{FLAVOUR}") == digest
        assert registry.manifest_digest(IMAGE, version) == digest
        directory = self.root / "dist" / version
        for path, entry in record["files"].items():
            assert (directory / path).is_file() and sha512(directory / path) == entry["sha512"], path
        index = self.index_files()
        for package in (directory / "pypi").iterdir():
            assert index[package.name] == sha256_of(package)
        checksum = (directory / "release.json.sha512").read_text().split()[0]
        assert checksum == sha512(directory / "release.json"), "the record changed after it was signed"
        assert not [p.name for p in directory.rglob(".*") if p.name != ".lock"], "a partial file was left"

    def check_aliases(self) -> None:
        """Every alias there, and on the highest release of its kind: `latest` overall, `X.Y` in its
        line. A missing alias is a failure: a release that never moved it is not finished."""
        registry, released = self.registry(), self.released()
        tags = set(registry.tags(IMAGE))
        owners = {"latest": max(released)}
        for version in released:
            owners[version.line] = max(v for v in released if v.line == version.line)
        for alias, owner in owners.items():
            for name in (alias, f"{alias}-python{FLAVOUR}"):
                assert name in tags, f"{name} is missing (it belongs on {owner})"
                assert registry.manifest_digest(IMAGE, name) == registry.manifest_digest(
                    IMAGE, f"{owner}-python{FLAVOUR}"), f"{name} is not on {owner}"

    # --- secrets

    def secrets_found(self) -> list[str]:
        """Where any secret shows: outputs, files under the checkout (the record, dist/'s SBOMs and
        logs, the services' logs and storage), and every image the releases pushed: its layers'
        files, its labels and config, its history."""
        found = [f"output {i}" for i, text in enumerate(self.outputs) for s in SECRETS if s in text]
        for path in [*self.root.rglob("*")]:
            if path.is_file() and not path.is_symlink() and ".git" not in path.parts:
                data = path.read_bytes()
                found += [str(path) for s in SECRETS if s.encode() in data]
        images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}",
                                 f"127.0.0.1:{self.registry_proxy.port}/{IMAGE}"],
                                capture_output=True, text=True, check=True).stdout.split()
        assert images, "no image of the releases to look into"
        with tempfile.TemporaryDirectory(prefix="faults-images-") as scratch:
            found += secrets_in_images(images, Path(scratch), SECRETS)
        return found


def sha512(path: Path) -> str:
    return sha512_of(path)


def gpg_run(home: str, *args: str) -> None:
    subprocess.run(["gpg", "--homedir", home, "--batch", *args], check=True, capture_output=True)


def snapshot(suite: Suite, version: str) -> dict[str, Any]:
    """What a finished release of `version` holds, with its version and line written as {V} and {L}."""
    v = parse_version(version)

    def neutral(text: str) -> str:
        return text.replace(version, "{V}").replace(v.line, "{L}")

    record = suite.record(version)
    registry = suite.registry()
    return {
        "steps": sorted(record["steps"]),
        "files": sorted(neutral(p) for p in record["files"]),
        "signatures": sorted(neutral(p) for p in record["signatures"]),
        "images": sorted(record["images"]),
        "tags": sorted(neutral(t) for t in record["tags"]),
        "build": sorted(record["build"]),
        "index": sorted(neutral(n) for n in suite.index_files() if version_of(n) == version),
        "registry": sorted(neutral(t) for t in registry.tags(IMAGE) if t.startswith(version)
                           and split_version(t) == version),
        "report": sorted(json.loads((suite.root / "dist" / version / "report.json").read_text())["steps"]),
    }


def split_version(tag: str) -> str:
    return tag.split("-python")[0]


def version_of(filename: str) -> str:
    """`sample_app-1.0.5-py3-none-any.whl` or `sample_app-1.0.5.tar.gz` -> `1.0.5`."""
    return filename.split("-")[1].removesuffix(".tar.gz")


def _holds(stream: IO[bytes], needles: tuple[bytes, ...]) -> set[bytes]:
    """Which of `needles` the stream holds, read in pieces (a piece's end kept for one that spans two)."""
    found: set[bytes] = set()
    keep = max(len(n) for n in needles)
    tail = b""
    while chunk := stream.read(1 << 20):
        window = tail + chunk
        found.update(n for n in needles if n in window)
        tail = window[-keep:]
    return found


def secrets_in_images(refs: list[str], scratch: Path, wanted: tuple[str, ...]) -> list[str]:
    """Where in the images `refs` any of `wanted` shows: a file in any layer, the config (labels,
    environment, entrypoint), the history. One `docker save` of them all: each layer is read once."""
    found = []
    needles = tuple(s.encode() for s in wanted)
    for ref in refs:
        history = subprocess.run(["docker", "history", "--no-trunc", "--format",
                                  "{{.CreatedBy}} {{.Comment}}", ref], capture_output=True, text=True,
                                 check=True).stdout
        config = subprocess.run(["docker", "inspect", ref], capture_output=True, text=True, check=True).stdout
        found += [f"{ref}: history" for s in wanted if s in history]
        found += [f"{ref}: config or labels" for s in wanted if s in config]
    archive = scratch / "images.tar"
    subprocess.run(["docker", "save", "-o", str(archive), *refs], check=True, capture_output=True)
    try:
        with tarfile.open(archive) as saved:
            for member in saved.getmembers():
                handle = saved.extractfile(member) if member.isfile() else None
                if handle is None:
                    continue
                try:  # a layer (docker save's <id>/layer.tar, or an OCI blob), read file by file
                    with tarfile.open(fileobj=handle, mode="r|*") as layer:
                        for entry in layer:
                            inner = layer.extractfile(entry) if entry.isfile() else None
                            if inner is not None:
                                where = f"layer {member.name}: {entry.name}"
                                found += [where for _ in _holds(inner, needles)]
                except tarfile.TarError:  # a config or manifest: its bytes
                    raw = saved.extractfile(member)
                    assert raw is not None
                    found += [member.name for _ in _holds(raw, needles)]
    finally:
        archive.unlink(missing_ok=True)
    return found


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Suite]:
    if os.geteuid() != 0:
        why = "the fault suite mounts a small tmpfs for dist/ and needs root (CI runs it as root)"
        if os.environ.get(SKIP_FAULTS) == "1":  # conftest skips them already; this is for a direct call
            pytest.skip(f"{why}; skipped: {SKIP_FAULTS}=1")
        pytest.fail(f"{why}; run it as root, or set {SKIP_FAULTS}=1 to skip it", pytrace=False)
    where = tmp_path_factory.mktemp("faults")
    root = make_sample_repo(where / "sample", vote="none")  # its finals ship in one command
    disk = SmallDisk(root / "dist").mount()
    services = sandbox.up(root, name=NAME, flavours=[FLAVOUR], progress=lambda line: None)
    registry_port = int(services.registry.rsplit(":", 1)[1])
    index_port = int(services.index_url.rstrip("/").rsplit(":", 1)[1])
    registry_proxy = FaultProxy(registry_port, USER, REGISTRY_PASSWORD).start()
    index_proxy = FaultProxy(index_port, USER, TWINE_PASSWORD, auth_methods=frozenset({"POST"})).start()
    push_base(services.registry)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace('python = ["3.9", "3.11", "3.13"]', f'python = ["{FLAVOUR}"]')
    text = text.replace('base-image = "{registry}/sandbox/python:{python}"',
                        f'base-image = "{{registry}}/{BASE}:{{python}}"')
    text = text.replace("[tool.release]\n", f'[tool.release]\nregistry = "127.0.0.1:{registry_proxy.port}"\n'
                                            f'index = "http://127.0.0.1:{index_proxy.port}/"\n')
    pyproject.write_text(text)
    git(root, "commit", "-qam", "Release through the fault proxies, one flavour")
    docker_config = where / "docker"
    docker_config.mkdir()
    auth = base64.b64encode(f"{USER}:{REGISTRY_PASSWORD}".encode()).decode()
    auths = {f"127.0.0.1:{registry_proxy.port}": {"auth": auth}}
    (docker_config / "config.json").write_text(json.dumps({"auths": auths}))
    # The secrets a release manager's or CI's environment holds: the registry password (CI's docker
    # login reads it from there), the index token, and a private mirror's token in a build setting.
    env = {**os.environ, "RELEASE_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "200",
           "DOCKER_CONFIG": str(docker_config), "TWINE_USERNAME": USER, "TWINE_PASSWORD": TWINE_PASSWORD,
           "REGISTRY_USERNAME": USER, "REGISTRY_PASSWORD": REGISTRY_PASSWORD,
           "PIP_EXTRA_INDEX_URL": f"http://{USER}:{PIP_TOKEN}@127.0.0.1:{index_proxy.port}/simple/",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    found = Suite(root, disk, registry_proxy, index_proxy, env, Figures())
    try:
        found.declare(BASELINE)
        baseline = found.release(BASELINE)
        assert baseline.returncode == 0, baseline.stderr[-3000:]
        yield found
    finally:
        found.figures.secrets_found = len(found.secrets_found())
        request.config.stash[CLOSING_FIGURES] = found.figures.lines()  # printed at the end of the run
        sandbox.down(root)
        registry_proxy.close()
        index_proxy.close()
        disk.unmount()
        remove_images(f"127.0.0.1:{registry_proxy.port}/", f"127.0.0.1:{registry_port}/{BASE}")


def push_base(registry: str) -> None:
    """The sandbox's Python base image, pushed again as the sample's own base (a test moves it)."""
    ref = f"{registry}/{BASE}:{FLAVOUR}"
    subprocess.run(["docker", "tag", f"sandbox/python:{FLAVOUR}", ref], check=True)
    subprocess.run(["docker", "push", ref], check=True, capture_output=True)


def remove_images(*prefixes: str) -> None:
    listed = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True,
                            text=True, check=True).stdout.split()
    mine = [ref for ref in listed if ref.startswith(prefixes)]
    if mine:
        subprocess.run(["docker", "rmi", *mine], capture_output=True, check=False)


def kill_service(suite: Suite, name: str) -> None:
    """SIGKILL the sandbox's registry or index, as a crash would."""
    os.kill(int(suite.state()["processes"][name]["pid"]), signal.SIGKILL)


# --------------------------------------------------------------------------- the pipeline killed

# The alias after the first one waits 3 s at the proxy: a fault set off by the first alias's move
# lands while the others are still to move, however fast the machine is.
def second_alias_waits() -> Rule:
    return Rule("HEAD", r"/manifests/\d+\.\d+$", "delay", seconds=3,
                after=("PUT", r"/manifests/\d+\.\d+-python[\d.]+$"))


@pytest.mark.parametrize(
    ("step", "version", "point"),
    [
        ("build", "1.0.1", "building sdist and wheel"),
        ("images", "1.0.2", f"python{FLAVOUR}: building"),
        ("push", "1.0.3", f"python{FLAVOUR}: pushing"),
        ("upload", "1.0.4", "uploading"),
        ("aliases", "1.0.5", " moved to "),
    ],
)
def test_the_pipeline_killed_in_a_step(suite: Suite, step: str, version: str, point: str) -> None:
    suite.declare(version)
    with suite.registry_proxy.faulty(second_alias_waits()):
        killed = suite.release(version, when=point, then=kill_group(signal.SIGKILL))
    assert killed.fired, f"the run never reached {point!r}:\n{killed.stderr[-2000:]}"
    suite.injected(killed, fired=killed.fired, code=-signal.SIGKILL)
    suite.converges(version)


def test_an_interrupt_while_publishing(suite: Suite) -> None:
    suite.declare("1.0.6")
    # the first upload waits 5 s at the proxy: the interrupt lands while publishing even when this
    # harness reads the line late on a loaded machine (once the run had finished before it did)
    with suite.index_proxy.faulty(Rule("POST", r"^/", "delay", seconds=5)):
        interrupted = suite.release("1.0.6", when="uploading", then=kill_group(signal.SIGINT))
    suite.injected(interrupted, fired=interrupted.fired, code=130,
                   says="interrupted; rerun the same command to resume")
    suite.converges("1.0.6")


# --------------------------------------------------------------------------- the registry misbehaves


def test_the_registry_answers_500_on_a_manifest_put(suite: Suite) -> None:
    suite.declare("1.0.7")
    rule = Rule("PUT", r"/manifests/latest$")
    with suite.registry_proxy.faulty(rule):
        failed = suite.release("1.0.7")
    suite.injected(failed, fired=rule.hits > 0, code=5, says="setting sample/app:latest failed (HTTP 500)")
    assert suite.registry().manifest_digest(IMAGE, "latest-python3.11") == suite.registry().manifest_digest(
        IMAGE, "1.0.7-python3.11"), "the aliases before the failing one were to move"
    suite.converges("1.0.7")


def test_the_registry_times_out_on_a_manifest_put_it_stored(suite: Suite) -> None:
    suite.declare("1.0.8")
    rule = Rule("PUT", r"/manifests/latest-python", "stall", seconds=40)
    with suite.registry_proxy.faulty(rule):
        failed = suite.release("1.0.8")
    suite.injected(failed, fired=rule.hits > 0, code=5, says="is not reachable")
    suite.converges("1.0.8")


def test_the_registry_dies_while_the_aliases_move(suite: Suite) -> None:
    suite.declare("1.0.9")
    with suite.registry_proxy.faulty(second_alias_waits()):
        failed = suite.release("1.0.9", when=" moved to ",
                               then=lambda process: kill_service(suite, "registry"))
    suite.injected(failed, fired=failed.fired, code=5, says="registry")
    suite.converges("1.0.9")


# --------------------------------------------------------------------------- the index misbehaves


def test_the_index_answers_500_on_upload(suite: Suite) -> None:
    suite.declare("1.0.10")
    rule = Rule("POST", r"^/$", times=100)  # twine retries a 500 a few times
    with suite.index_proxy.faulty(rule):
        failed = suite.release("1.0.10")
    suite.injected(failed, fired=rule.hits > 0, code=4, says="twine")
    suite.converges("1.0.10")


def test_the_index_answers_500_on_the_read_back(suite: Suite) -> None:
    suite.declare("1.0.11")
    rule = Rule("GET", r"/simple/sample-app/", after=("POST", r"^/$"))
    with suite.index_proxy.faulty(rule):
        failed = suite.release("1.0.11")
    suite.injected(failed, fired=rule.hits > 0, code=5, says="HTTP 500")
    suite.converges("1.0.11")


def test_the_index_is_down(suite: Suite) -> None:
    suite.declare("1.0.12")
    failed = suite.release("1.0.12", when="==> upload", then=lambda process: kill_service(suite, "index"))
    suite.injected(failed, fired=failed.fired, code=5, says="is not reachable")
    suite.converges("1.0.12")


# --------------------------------------------------------------------------- a full disk


def test_the_disk_fills_up_during_the_build(suite: Suite) -> None:
    suite.declare("1.0.13")
    try:
        failed = suite.release("1.0.13", when="twine check --strict", then=lambda process: suite.disk.fill())
    finally:
        suite.disk.free()
    suite.injected(failed, fired=failed.fired, code=1, says="No space left on device")
    suite.converges("1.0.13")


def test_the_disk_fills_up_when_the_record_is_written(suite: Suite) -> None:
    suite.declare("1.0.14")
    record = suite.root / "dist" / "1.0.14" / "release.json"
    before: list[bytes] = []

    def fill(process: object) -> None:
        before.append(record.read_bytes())
        suite.disk.fill()

    try:
        failed = suite.release("1.0.14", when="==> images", then=fill)
    finally:
        suite.disk.free()
    suite.injected(failed, fired=failed.fired and bool(before), code=1,
                   says="1.0.14/release.json: No space left on device")
    assert record.read_bytes() == before[0], "the record was changed by a write that failed"
    suite.converges("1.0.14")


# --------------------------------------------------------------------------- the signing key


def test_the_signing_key_expired(suite: Suite) -> None:
    suite.declare("1.0.15")
    home, fingerprint = suite.state()["gnupghome"], suite.state()["signing_key"]
    gpg_run(home, "--quick-set-expire", fingerprint, "seconds=1")
    time.sleep(2)
    try:
        refused = suite.release("1.0.15")
    finally:
        gpg_run(home, "--quick-set-expire", fingerprint, "2y")  # what the message says to do
    suite.injected(refused, fired=True, code=6, says="expired on")  # gpg set the expiry: it went off
    suite.converges("1.0.15")


def test_the_signing_key_was_revoked(suite: Suite, tmp_path: Path) -> None:
    suite.declare("1.0.16")
    state = suite.state()
    home, real, fingerprint = Path(state["gnupghome"]), Path(state["gnupghome_dir"]), state["signing_key"]
    backup = tmp_path / "gnupg"
    shutil.copytree(real, backup, ignore=shutil.ignore_patterns("S.*"))
    try:
        certificate = (real / "openpgp-revocs.d" / f"{fingerprint}.rev").read_text()
        revocation = tmp_path / "revoke.asc"
        revocation.write_text(certificate.replace(":-----BEGIN", "-----BEGIN"))
        gpg_run(str(home), "--import", str(revocation))
        refused = suite.release("1.0.16")
        suite.injected(refused, fired=True, code=6, says="is revoked")  # the revocation was imported
        # the release manager's way out: a new key, added to KEYS, signs instead
        new = gpg.generate_key("Faults Release Manager <rm@faults.invalid>", gnupghome=home)
        keys_url = f"{state['svn_url']}/release/{NAME}/KEYS"
        keys = svn.read_text(keys_url).rstrip("\n") + "\n\n" + gpg.keys_entry(new, gnupghome=home)
        svn.write_text(keys_url, keys, "Add the new release manager's key")
        suite.converges("1.0.16", "--sign-with", new)
    finally:
        gpg.kill_agent(home)
        shutil.rmtree(real)
        shutil.copytree(backup, real)


# --------------------------------------------------------------------------- svn


def test_an_svn_commit_conflict_while_staging(suite: Suite) -> None:
    rc = "1.1.0rc1"
    suite.declare(rc)
    repo = suite.root / ".release" / "svn" / "repo"
    url = f"{suite.state()['svn_url']}/dev/{NAME}/{rc}"
    flag = repo / "conflict-done"
    hook = repo / "hooks" / "pre-commit"
    # another run staging the same candidate commits first, between our check and our commit
    hook.write_text(f"""#!/bin/sh
if /usr/bin/svnlook changed -t "$2" "$1" | grep -q "dev/{NAME}/{rc}/" && [ ! -e {flag} ]; then
  touch {flag}
  /usr/bin/svn import --non-interactive -q -m "The same candidate, staged by another run" \\
      {suite.root / 'dist' / rc / 'svn'} {url} >/dev/null 2>&1
fi
exit 0
""")
    hook.chmod(0o755)
    try:
        failed = suite.release(rc)
    finally:
        hook.unlink()
    suite.injected(failed, fired=flag.exists(), code=4, says="svn import")
    outcome = suite.release(rc)
    assert outcome.returncode == 0, outcome.stderr[-3000:]
    suite.check_invariants()
    assert "already holds these files" in outcome.stderr
    record = suite.record(rc)
    assert set(record["stage"]["files"]) == {p.name for p in (suite.root / "dist" / rc / "svn").iterdir()}
    assert {"build", "sign", "stage", "images", "push", "upload", "aliases", "report"} <= set(record["steps"])
    suite.figures.converged += 1


# --------------------------------------------------------------------------- runs at the same time


ALIAS_PUT = r"/manifests/(latest|\d+\.\d+)(-python[\d.]+)?$"  # an alias being moved, not a version tag


def test_two_releases_of_different_versions_at_once(suite: Suite) -> None:
    """The older release is stopped inside its alias step (its aliases decided, the first one being
    moved, the project's alias lock held) until the newer one, built, pushed and uploaded meanwhile,
    waits for that lock; then both go on. `latest` ends on the newer one, each line on its own.

    The hold is a SIGSTOP of the older run's process group, sent by the registry proxy when that
    run's first alias PUT arrives: the run is stopped at that point whatever the machine's load,
    and the answer waits in its socket (no client timeout runs while it is stopped)."""
    suite.declare("1.2.0")
    older: dict[str, subprocess.Popen[str]] = {}
    held, waiting, resumed = threading.Event(), threading.Event(), threading.Event()

    def hold_the_older_run() -> None:
        os.killpg(older["process"].pid, signal.SIGSTOP)
        held.set()

    def go_on() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(older["process"].pid, signal.SIGCONT)
        resumed.set()

    outcomes: dict[str, Outcome] = {}
    hold = Rule("PUT", ALIAS_PUT, "hook", hook=hold_the_older_run,
                after=("PUT", r"/manifests/1\.2\.0-python"))
    with suite.registry_proxy.faulty(hold):
        first = threading.Thread(target=lambda: outcomes.update({"1.2.0": suite.release(
            "1.2.0", started=lambda process: older.update(process=process))}))
        first.start()
        try:
            while not held.wait(5) and first.is_alive():
                pass
            assert held.is_set(), f"1.2.0 never moved an alias:\n{outcomes['1.2.0'].stderr[-3000:]}"
            suite.declare("1.3.0")  # 1.2.0 is built from its commit; the checkout moves on
            second = threading.Thread(target=lambda: outcomes.update({"1.3.0": suite.release(
                "1.3.0", when="waiting for another run moving this project's aliases",
                then=lambda process: (waiting.set(), go_on()))}))
            second.start()
            second.join(1800)
        finally:
            go_on()  # never leave the older run stopped
        first.join(1800)
    assert not first.is_alive() and not second.is_alive(), "a release never finished"
    assert set(outcomes) == {"1.2.0", "1.3.0"}
    for version, outcome in outcomes.items():
        assert outcome.returncode == 0, f"{version}:\n{outcome.stderr[-3000:]}"
    # the interleaving happened: the newer release reached the aliases while the older held them
    assert waiting.is_set(), f"1.3.0 never waited for 1.2.0's aliases:\n{outcomes['1.3.0'].stderr[-3000:]}"
    suite.figures.faults += 1
    suite.check_invariants()
    suite.check_aliases()
    tags = {t: suite.registry().manifest_digest(IMAGE, t) for t in ("latest", "1.2", "1.3", "1.3.0", "1.2.0")}
    assert tags["latest"] == tags["1.3"] == tags["1.3.0"] and tags["1.2"] == tags["1.2.0"], tags


def test_two_runs_of_the_same_version_at_once(suite: Suite) -> None:
    suite.declare("1.4.0")
    started = threading.Event()
    outcomes: list[Outcome] = []
    thread = threading.Thread(target=lambda: outcomes.append(
        suite.release("1.4.0", when="==> build", then=lambda process: started.set())))
    thread.start()
    assert started.wait(600)
    second = suite.release("1.4.0")
    thread.join(1800)
    assert not thread.is_alive() and len(outcomes) == 1, "the first run of 1.4.0 never finished"
    # it went off when the first run was still going when the second was refused: it printed
    # `==> build` before, and finished after
    suite.injected(second, fired=started.is_set(), code=6,
                   says="another run of 1.4.0 holds dist/1.4.0; wait for it")
    assert second.last_line == "error: another run of 1.4.0 holds dist/1.4.0; wait for it"
    assert outcomes[0].returncode == 0, outcomes[0].stderr[-3000:]
    suite.converges("1.4.0")


# --------------------------------------------------------------------------- the record


def test_a_corrupted_record_is_refused_and_never_overwritten(suite: Suite) -> None:
    suite.declare("1.5.0")
    killed = suite.release("1.5.0", when="==> upload", then=kill_group(signal.SIGKILL))
    assert killed.fired
    record = suite.root / "dist" / "1.5.0" / "release.json"
    damaged = record.read_bytes()[: len(record.read_bytes()) // 2]
    record.write_bytes(damaged)
    for command in (("release", "--version", "1.5.0"), ("build", "--version", "1.5.0"),
                    ("sign", "--version", "1.5.0"), ("publish", "--version", "1.5.0"),
                    ("images", "--version", "1.5.0", "--push")):
        refused = suite.invoke(*command)
        assert refused.returncode == 6, f"{command}: {refused.stderr[-2000:]}"
        assert "cannot read the release record" in refused.last_line and "move it away" in refused.last_line
        assert "Traceback" not in refused.stderr
        assert record.read_bytes() == damaged, f"{command} wrote over the damaged record"
    suite.injected(refused, fired=killed.fired, code=6, says="cannot read the release record")
    record.rename(record.with_name("release.json.damaged"))  # what the message says
    suite.converges("1.5.0")
    record.with_name("release.json.damaged").unlink()


# --------------------------------------------------------------------------- the base image moves


def test_a_rerun_after_the_base_image_moved_keeps_its_pushed_images(suite: Suite, tmp_path: Path) -> None:
    suite.declare("1.6.0")
    killed = suite.release("1.6.0", when="==> upload", then=kill_group(signal.SIGKILL))
    assert killed.fired
    pushed = suite.registry().manifest_digest(IMAGE, "1.6.0-python3.11")
    registry = suite.services().registry
    base = f"{registry}/{BASE}:{FLAVOUR}"
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nLABEL org.release-pipeline.faults.moved=1\n")
    subprocess.run(["docker", "build", "-q", "-t", base, str(tmp_path)], check=True, capture_output=True)
    subprocess.run(["docker", "push", base], check=True, capture_output=True)
    try:
        suite.figures.faults += 1  # the base image moved: the docker push above went through
        outcome = suite.converges("1.6.0")
        assert "this release pushed it already" in outcome.stderr
        assert suite.registry().manifest_digest(IMAGE, "1.6.0-python3.11") == pushed
    finally:
        push_base(registry)


# --------------------------------------------------------------------------- bad input


# Each example runs the pipeline (seconds): no shrinking, a failing example is shown as it was found.
SLOW = settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def untouched(suite: Suite) -> dict[str, Any]:
    """What a refused command must leave as it was: dist/, the sandbox state, registry and index."""
    dist = sorted((str(p.relative_to(suite.root)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in (suite.root / "dist").rglob("*") if p.is_file() and p.name != ".filler")
    registry = suite.registry()
    tags = {t: registry.manifest_digest(IMAGE, t) for t in registry.tags(IMAGE)}
    return {"dist": dist, "state": (suite.root / ".release" / "services.json").read_bytes(), "tags": tags,
            "index": suite.index_files()}


def refused_in_one_line(suite: Suite, outcome: Outcome, code: int, starts: str = "error: ") -> None:
    """The bad input was refused: exit `code`, one line on stderr, no traceback. Only then counted."""
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert outcome.returncode == code, f"exit {outcome.returncode}, not {code}:\n{outcome.stderr[-2000:]}"
    assert len(lines) == 1 and lines[0].startswith(starts), outcome.stderr[-2000:]
    suite.figures.refused += 1


# Every version starts with an ASCII digit: text that does not is never one.
_NOT_A_VERSION = st.text(min_size=1, max_size=60).filter(lambda t: "\0" not in t and t[0] not in "0123456789")


@SLOW
@given(text=_NOT_A_VERSION | st.sampled_from(["1.0." + "9" * 5000, "v1.0.0", "1.0", "1.0.0+local", "1!1.0.0",
                                              " 1.0.0", "1.0.0\n"]))
def test_bad_versions_change_nothing(suite: Suite, text: str) -> None:
    before = untouched(suite)
    outcome = suite.invoke("release", f"--version={text}", "--dry-run")
    refused_in_one_line(suite, outcome, 2, "error: ")
    assert untouched(suite) == before


# Text with a line break in it is valid for none of the keys (each checks for one), as a TOML string.
_LINE_BROKEN = st.tuples(st.text(max_size=15), st.text(max_size=15)).map(
    lambda parts: toml_string(f"{parts[0]}\n{parts[1]}"))


@SLOW
@given(pair=st.sampled_from(BAD_CONFIG_PAIRS) | st.tuples(st.sampled_from(CONFIG_KEYS), _LINE_BROKEN))
def test_bad_config_tables_change_nothing(suite: Suite, tmp_path_factory: pytest.TempPathFactory,
                                          pair: tuple[str, str]) -> None:
    key, value = pair
    profile = tmp_path_factory.mktemp("profile") / "release.toml"
    table = (suite.root / "pyproject.toml").read_text().split("[tool.release]\n", 1)[1]
    profile.write_text(with_bad_value(table, key, value))
    before = untouched(suite)
    outcome = suite.invoke("release", "--version", "9.9.9", "--dry-run", "--profile", str(profile))
    refused_in_one_line(suite, outcome, 2, f"error: {config_refusal_prefix(key)}")
    assert untouched(suite) == before


@SLOW
@given(damage=st.sampled_from(SERVICES_DAMAGE)
       | st.integers(min_value=1, max_value=400).map(lambda n: ("cut", n)))
def test_bad_services_files_change_nothing(suite: Suite, damage: tuple[str, Any]) -> None:
    path = suite.root / ".release" / "services.json"
    good = path.read_bytes()
    key, value = damage
    if key == "cut":
        data = good[: min(value, len(good) - 2)]
    else:
        data = json.dumps({**json.loads(good), key: value}).encode()
    before = untouched(suite)
    path.write_bytes(data)
    try:
        outcome = suite.invoke("release", "--version", "9.9.9")
        assert path.read_bytes() == data, "the damaged services file was rewritten"
    finally:
        path.write_bytes(good)
    refused_in_one_line(suite, outcome, 5)
    assert untouched(suite) == before


# --------------------------------------------------------------------------- secrets, last


def test_the_secret_check_finds_a_secret_in_a_layer_a_label_and_the_history(tmp_path: Path) -> None:
    """The check below can fail: an image with a secret in a file of a layer, in a label and in its
    history is found out three times."""
    secret = f"check-secret-{secrets.token_hex(8)}"
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as archive:
        data = f"token={secret}\n".encode()
        info = tarfile.TarInfo("etc/pip.conf")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    ref = f"faults-secret-check:{secrets.token_hex(4)}"
    subprocess.run(["docker", "import", "--change", f"LABEL leaked={secret}", "--message",
                    f"made with {secret}", str(rootfs), ref], check=True, capture_output=True)
    try:
        found = secrets_in_images([ref], tmp_path, (secret, "not-there-" + secret))
    finally:
        subprocess.run(["docker", "rmi", ref], capture_output=True, check=False)
    assert f"{ref}: history" in found and f"{ref}: config or labels" in found
    assert any(f.startswith("layer ") and f.endswith("etc/pip.conf") for f in found), found


def test_no_secret_in_any_output_log_record_or_image(suite: Suite) -> None:
    found = suite.secrets_found()
    suite.figures.secrets_found = len(found)
    assert found == [], found
    asked = [seen for seen in suite.registry_proxy.seen if seen[2] == 401]
    assert asked, "the registry never asked for its password"
    assert any(m == "POST" and code == 200 for m, _, code in suite.index_proxy.seen), "nothing was uploaded"
    # the build was handed the mirror's token: its isolated environment asked the mirror for packages
    asked_mirror = {path for m, path, _ in suite.index_proxy.seen
                    if m == "GET" and path.startswith("/simple/") and path != "/simple/sample-app/"}
    assert asked_mirror, "no build ever used PIP_EXTRA_INDEX_URL: the secret in it was never passed on"
