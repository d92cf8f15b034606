# SPDX-License-Identifier: Apache-2.0
"""Real images of the sample app: build, smoke, push, reuse, cache, failures (engine + registry).

Needs the Docker Engine and the local base images `sandbox/python:<flavour>` (built by the
sandbox); each is pushed to a throwaway registry, as the sandbox's registry would hold it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT, make_sample_repo
from engine_helpers import BASE, ThrowawayRegistry, require_engine_and_base, start_registry, untag_all

from release import image
from release.adapters.clients import Clients, real_clients
from release.adapters.cmd import run
from release.adapters.engine import Engine
from release.adapters.net import free_port
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig, Variant, load_config
from release.errors import CommandError, RefusedError
from release.identity import ImageId
from release.pipeline.images import image_job, planned_images, ship
from release.pipeline.refresh import refresh_images as refresh
from release.plan.images import INPUT_HASH_LABEL, OCI, WHEEL_SHA256_LABEL, ImageJob, ImageSource
from release.plan.release import CONSTRAINTS_DIR, PlannedImage, constraints_name
from release.plan.tags import BuildKind
from release.progress import Event, Progress, to_log
from release.record import ConstraintsEntry, load_record, release_dir, sha256_of, sha512_of
from release.steps import images as steps
from release.steps.constraints import ImageToRead, constraints_text, read_installed
from release.steps.images import ImageResult, image_source
from release.steps.refresh import RefreshReport
from release.steps.smoke import SmokeFailed, SmokeReport, smoke_images

pytestmark = pytest.mark.images
VERSION = "1.10.6"


@dataclasses.dataclass
class Sample:
    root: Path
    wheel: Path
    config: ReleaseConfig


def images_job(config: ReleaseConfig, version: str, *, wheels: list[Path], registry: str, engine: Engine,
               flavours: tuple[str, ...] | list[str] = (), base_images: dict[str, str] | None = None,
               kind: BuildKind = BuildKind.RELEASE, source: ImageSource | None = None, jobs: int = 0
               ) -> tuple[ImageJob, Clients]:
    """The pipeline's job for `config`'s images (the chosen flavours) in `registry`."""
    clients = real_clients(registry, engine=engine)
    planned = planned_images(config, version, registry, flavours=flavours, kind=kind, base_images=base_images)
    return image_job(config, planned, clients, version=version, wheels=wheels, kind=kind, source=source,
                     jobs=jobs), clients


def build_images(config: ReleaseConfig, version: str, *, wheels: list[Path], registry: str, engine: Engine,
                 progress: Progress = to_log, **planning: object) -> list[ImageResult]:
    job, clients = images_job(config, version, wheels=wheels, registry=registry, engine=engine,
                              **planning)  # type: ignore[arg-type]
    return steps.build_images(job, clients, progress=progress)


def ship_images(config: ReleaseConfig, version: str, *, wheels: list[Path], registry: str, engine: Engine,
                progress: Progress = to_log, **planning: object
                ) -> tuple[list[ImageResult], list[SmokeReport]]:
    """Build, smoke and push as the pipeline does."""
    job, clients = images_job(config, version, wheels=wheels, registry=registry, engine=engine,
                              **planning)  # type: ignore[arg-type]
    return ship(config, job, clients, version=version, wheels=wheels, push=True, say=progress)


def refresh_images(config: ReleaseConfig, *, registry: str, log_path: Path, engine: Engine) -> RefreshReport:
    return refresh(config, real_clients(registry, engine=engine), log_path=log_path)


def build_wheel(root: Path) -> Path:
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), str(root)])
    return next((root / "dist").glob("*.whl"))


def make_sample(dest: Path, *, version: str = VERSION, extra_code: str = "") -> Sample:
    root = make_sample_repo(dest, version=version)
    if extra_code:
        init = root / "sample_app" / "__init__.py"
        init.write_text(init.read_text() + extra_code)
    return Sample(root, build_wheel(root), load_config(root))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return require_engine_and_base()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayRegistry]:
    live = start_registry(tmp_path_factory.mktemp("registry"))
    yield live
    live.stop()
    untag_all(live.address)


def push_base(engine: Engine, registry: str, flavour: str) -> str:
    """The local sandbox base for `flavour`, pushed where the sample's base-image template points."""
    local = f"sandbox/python:{flavour}"
    if engine.inspect(local) is None:
        pytest.skip(f"no base image {local}")
    ref = f"{registry}/sandbox/python:{flavour}"
    engine.tag(local, ref)
    engine.push(ref)
    return ref


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return make_sample(tmp_path_factory.mktemp("app") / "sample")


class Events:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    def __call__(self, event: str | Event) -> None:
        assert isinstance(event, Event), event
        self.seen.append(event)
        if event.kind not in {"output", "step"}:
            print(f"[{event.elapsed:6.1f}s] {event}")

    def kinds(self, flavour: str = "3.11") -> set[str]:
        return {e.kind for e in self.seen if e.subject == f"python{flavour}"}


@pytest.fixture(scope="module")
def shipped(engine: Engine, registry: ThrowawayRegistry, sample: Sample) -> tuple[list[ImageResult], Events]:
    push_base(engine, registry.address, "3.11")
    events = Events()
    started = time.monotonic()
    results, reports = ship_images(sample.config, VERSION, wheels=[sample.wheel], registry=registry.address,
                                   flavours=["3.11"], engine=engine, progress=events)
    print(f"first ship: {time.monotonic() - started:.1f}s")
    assert all(report.ok for report in reports)
    return results, events


def test_ship_builds_smokes_and_pushes(shipped: tuple[list[ImageResult], Events], registry: ThrowawayRegistry,
                                       sample: Sample) -> None:
    results, events = shipped
    (result,) = results
    assert result.status in {"built", "local"}
    assert result.ref == f"{registry.address}/sample/app:{VERSION}-python3.11"
    client = RegistryClient(registry.address)
    assert result.digest == client.manifest_digest("sample/app", f"{VERSION}-python3.11")
    labels = client.image_labels("sample/app", f"{VERSION}-python3.11") or {}
    assert labels[INPUT_HASH_LABEL] == result.planned.input_hash
    assert labels[WHEEL_SHA256_LABEL] == sha256_of(sample.wheel)
    assert labels[f"{OCI}.version"] == VERSION
    assert labels[f"{OCI}.title"] == "Sample App"
    assert labels[f"{OCI}.licenses"] == "Apache-2.0"
    assert labels[f"{OCI}.base.digest"] == client.manifest_digest("sandbox/python", "3.11")
    assert labels[f"{OCI}.revision"] and labels[f"{OCI}.created"]
    assert {"smoked", "pushed"} <= events.kinds()


def test_rerun_with_nothing_changed_builds_nothing(
    shipped: tuple[list[ImageResult], Events], engine: Engine, registry: ThrowawayRegistry, sample: Sample
) -> None:
    events = Events()
    started = time.monotonic()
    results, _ = ship_images(sample.config, VERSION, wheels=[sample.wheel], registry=registry.address,
                             flavours=["3.11"], engine=engine, progress=events)
    print(f"no-change rerun: {time.monotonic() - started:.1f}s")
    assert results[0].status == "reused"
    assert results[0].digest == shipped[0][0].digest
    assert not events.kinds() & {"started", "built", "pushing"}


def test_final_image_has_no_build_tools_caches_or_secrets(
    shipped: tuple[list[ImageResult], Events], engine: Engine
) -> None:
    ref = shipped[0][0].ref
    history = "\n".join(engine.history(ref))
    assert "pip wheel" not in history and "pip download" not in history  # build stages stay behind
    assert "PIP_INDEX_URL" not in history
    apt = "find /var/lib/apt/lists /var/cache/apt | wc -l"  # the base image's, no cache mount's content
    script = ("test ! -e /root/.cache && test ! -e /home/app/.cache/pip && test ! -e /wheels "
              "&& test ! -e /context && test ! -e /opt/build && test ! -e /opt/venv/bin/uv "
              f"&& ! command -v uv && test ! -e /etc/pip.conf && {apt}")
    ours = engine.run(ref, ["sh", "-c", script], user="0")
    base = engine.run("sandbox/python:3.11", ["sh", "-c", apt])
    assert ours.exit_code == 0, ours.stderr
    assert ours.stdout.strip() == base.stdout.strip()
    info = engine.inspect(ref)
    assert info is not None and info.entrypoint == ("/opt/venv/bin/dumb-init", "--", "/entrypoint")
    assert info.cmd == ()
    assert engine.run(ref, []).exit_code == 0  # no command: bash, with no input
    assert engine.run(ref, ["sh", "-c", "exit 7"]).exit_code == 7  # a command runs as given


def test_source_change_rebuilds_only_the_app_layer(
    shipped: tuple[list[ImageResult], Events], engine: Engine, registry: ThrowawayRegistry,
    tmp_path: Path,
) -> None:
    changed = make_sample(tmp_path / "changed", version="1.10.7", extra_code="\nCHANGED = True\n")
    events = Events()
    started = time.monotonic()
    (result,) = build_images(changed.config, "1.10.7", wheels=[changed.wheel], registry=registry.address,
                             flavours=["3.11"], engine=engine, progress=events)
    print(f"rebuild after a source change: {time.monotonic() - started:.1f}s")
    old = engine.inspect(shipped[0][0].ref)
    new = engine.inspect(result.ref)
    assert old is not None and new is not None
    old_layers, new_layers = old.raw["RootFS"]["Layers"], new.raw["RootFS"]["Layers"]
    assert len(old_layers) == len(new_layers)
    assert old_layers[:-1] == new_layers[:-1]  # base, user, dependencies: reused
    assert old_layers[-1] != new_layers[-1]  # the application
    probe = engine.run(result.ref, ["python3", "-c", "import sample_app; print(sample_app.CHANGED)"])
    assert probe.stdout.strip() == "True"


def test_a_changed_wheel_cannot_replace_a_pushed_version(
    shipped: tuple[list[ImageResult], Events], engine: Engine, registry: ThrowawayRegistry, tmp_path: Path
) -> None:
    changed = make_sample(tmp_path / "same-version", extra_code="\n# changed\n")
    with pytest.raises(RefusedError, match="immutable"):
        build_images(changed.config, VERSION, wheels=[changed.wheel], registry=registry.address,
                     flavours=["3.11"], engine=engine)


def test_smoke_failures_name_image_and_check(shipped: tuple[list[ImageResult], Events], engine: Engine,
                                             sample: Sample, tmp_path: Path) -> None:
    other = tmp_path / "sample_app-1.10.6-py3-none-any.whl"
    other.write_bytes(sample.wheel.read_bytes() + b"\0")
    config = dataclasses.replace(sample.config, app_command=("sample-app-missing",))
    with pytest.raises(SmokeFailed) as caught:
        smoke_images(config, [r.planned for r in shipped[0]], version="1.10.5", wheels=[other], engine=engine)
    message = str(caught.value)
    ref = shipped[0][0].ref
    for check in ("version", "wheel-sha256", "app-command"):
        assert f"{ref}: {check}:" in message
    (report,) = caught.value.reports
    assert {c.name for c in report.failures} == {"version", "wheel-sha256", "app-command"}
    assert report.as_record()["pip-check"] == "ok"


def test_bad_dockerfile_fails_naming_the_flavour_and_pushes_nothing(
    engine: Engine, registry: ThrowawayRegistry, sample: Sample, shipped: object
) -> None:
    bad = sample.root / "Dockerfile.bad"
    bad.write_text(image.dockerfile().decode() + "RUN echo about-to-fail && exit 7\n")
    config = dataclasses.replace(sample.config, dockerfile="Dockerfile.bad", image="sample/bad")
    with pytest.raises(CommandError) as caught:
        ship_images(config, VERSION, wheels=[sample.wheel], registry=registry.address, flavours=["3.11"],
                    engine=engine)
    message = str(caught.value)
    assert "Python 3.11" in message and "python3.11:" in message
    assert "exit 7" in message and "about-to-fail" in message
    assert RegistryClient(registry.address).tags("sample/bad") == []

    bad.write_text("FROM scratch\nFROBNICATE\n")
    with pytest.raises(CommandError, match=r"python3\.11: .*(?i:unknown instruction)"):
        build_images(config, VERSION, wheels=[sample.wheel], registry=registry.address, flavours=["3.11"],
                     engine=engine)


def test_a_failing_flavour_stops_every_push(
    engine: Engine, registry: ThrowawayRegistry, sample: Sample, shipped: object, tmp_path: Path
) -> None:
    broken = f"{registry.address}/sandbox/broken:3.13"  # a base without a shell or Python
    (tmp_path / "hello").write_text("hello\n")
    run(["docker", "build", "-q", "-t", broken, "-f", "-", str(tmp_path)],
        input_text="FROM scratch\nCOPY hello /hello\n")
    engine.push(broken)
    config = dataclasses.replace(sample.config, image="sample/partial", python=("3.11", "3.13"))
    bases = {"3.11": f"{registry.address}/sandbox/python:3.11", "3.13": broken}
    with pytest.raises(CommandError) as caught:
        ship_images(config, VERSION, wheels=[sample.wheel], registry=registry.address, base_images=bases,
                    engine=engine, jobs=2)
    assert "image build failed for Python 3.13" in str(caught.value)
    assert "python3.11:" not in str(caught.value)
    assert RegistryClient(registry.address).tags("sample/partial") == []


def test_index_install_with_constraints(engine: Engine, registry: ThrowawayRegistry, sample: Sample,
                                        shipped: object, tmp_path: Path) -> None:
    packages = tmp_path / "packages"
    packages.mkdir()
    shutil.copy(sample.wheel, packages)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1",
                               "-a", ".", "-P", ".", "--disable-fallback", str(packages)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        (sample.root / "constraints.txt").write_text("packaging==24.2\n")
        config = dataclasses.replace(sample.config, install="index", constraints="constraints.txt",
                                     image="sample/from-index")
        # the sandbox index has no fallback to PyPI: the app comes from it, dependencies from PyPI
        source = image_source(config, VERSION, [sample.wheel],
                              extra_args={"PIP_EXTRA_INDEX_URL": f"http://127.0.0.1:{port}/simple/"})
        time.sleep(1)
        results = build_images(config, VERSION, wheels=[sample.wheel], registry=registry.address,
                               flavours=["3.11"], engine=engine, source=source)
        smoke_images(config, [r.planned for r in results], version=VERSION, wheels=[sample.wheel],
                     engine=engine)
        version_of_packaging = "import packaging; print(packaging.__version__)"
        probe = engine.run(results[0].ref, ["python3", "-c", version_of_packaging])
        assert probe.stdout.strip() == "24.2"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_other_flavours(engine: Engine, registry: ThrowawayRegistry, sample: Sample, shipped: object) -> None:
    flavours = [p for p in ("3.9", "3.13") if engine.inspect(f"sandbox/python:{p}") is not None]
    if not flavours:
        pytest.skip("no sandbox base image for Python 3.9 or 3.13")
    for flavour in flavours:
        push_base(engine, registry.address, flavour)
    started = time.monotonic()
    results, reports = ship_images(sample.config, VERSION, wheels=[sample.wheel], registry=registry.address,
                                   flavours=flavours, engine=engine, jobs=len(flavours), progress=Events())
    print(f"flavours {flavours} with jobs={len(flavours)}: {time.monotonic() - started:.1f}s")
    assert [r.image.flavour for r in results] == flavours
    assert all(r.ok for r in reports) and all(r.digest for r in results)


def docker_build(engine: Engine, context: Path, tag: str) -> None:
    """A build by hand, as docs/images.md shows it: the shipped recipe written into the checkout
    (`python -m release.image DIR`), then `DOCKER_BUILDKIT=1 docker build` with a client that can."""
    builder = engine.builder()
    if not builder.buildkit:
        pytest.skip(f"a build by hand needs BuildKit; {builder}")
    run([sys.executable, "-m", "release.image", str(context)])
    run([builder.client, "build", "-q", "--build-arg", "PYTHON_BASE_IMAGE=sandbox/python:3.11", "-t", tag,
         str(context)], env={"DOCKER_BUILDKIT": "1"})


def test_plain_docker_build_of_the_sample_builds_its_wheel(engine: Engine, tmp_path: Path) -> None:
    root = make_sample_repo(tmp_path / "plain")
    docker_build(engine, root, "sample/plain:test")
    greeting = engine.run("sample/plain:test", ["sample-app"]).stdout.strip()
    assert greeting == "sample-app 1.10.6 on Python 3.11"
    facts = engine.run("sample/plain:test", ["bash", "-c", "id -u; id -g; test -w $HOME && echo writable"])
    assert facts.stdout.split() == ["50000", "0", "writable"]
    engine.remove("sample/plain:test")


def test_a_build_by_hand_takes_the_image_conventions(engine: Engine, tmp_path: Path) -> None:
    """The shipped Dockerfile's DEFAULT_COMMAND, EXPOSE_PORTS and VENV_OWNER (`default-command`,
    `expose`, `writable-venv`): a bare `docker run` runs the command, the ports are EXPOSEd, the
    image's user may install into the venv. Cheap: only the final stage and the wheels stage differ
    from the build above, whose layers the engine has."""
    root = make_sample_repo(tmp_path / "conventions")
    builder = engine.builder()
    if not builder.buildkit:
        pytest.skip(f"a build by hand needs BuildKit; {builder}")
    run([sys.executable, "-m", "release.image", str(root)])
    tag = "sample/conventions:test"
    run([builder.client, "build", "-q", "--build-arg", "PYTHON_BASE_IMAGE=sandbox/python:3.11",
         "--build-arg", "DEFAULT_COMMAND=sample-app", "--build-arg", "EXPOSE_PORTS=8001 53/udp",
         "--build-arg", "VENV_OWNER=50000:0", "-t", tag, str(root)], env={"DOCKER_BUILDKIT": "1"})
    try:
        assert engine.run(tag, []).stdout.strip() == "sample-app 1.10.6 on Python 3.11"
        exposed = run([builder.client, "image", "inspect", "--format", "{{json .Config.ExposedPorts}}", tag])
        assert set(json.loads(exposed.stdout)) == {"8001/tcp", "53/udp"}
        writable = engine.run(tag, ["bash", "-c", "touch /opt/venv/lib/plugin && echo writable"])
        assert writable.stdout.strip() == "writable", writable.stderr
    finally:
        engine.remove(tag)


def test_plain_docker_build_of_this_repository(engine: Engine, tmp_path: Path) -> None:
    assert (REPO_ROOT / "README.md").exists(), "setup.py reads README.md: the repository needs one"
    checkout = tmp_path / "release-pipeline"
    checkout.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "HEAD"], check=True,
                             capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(checkout)], input=archive.stdout, check=True)
    docker_build(engine, checkout, "release-pipeline/plain:test")
    config = load_config(REPO_ROOT)
    result = engine.run("release-pipeline/plain:test", list(config.app_command))
    assert result.exit_code == 0, result.stdout + result.stderr
    engine.remove("release-pipeline/plain:test")


def record_constraints(sample: Sample, results: list[ImageResult], engine: Engine) -> dict[str, list[str]]:
    """What the release's constraints step records: each pushed image's installed set, as a file
    under dist/<V>/constraints/ with its sha512 in the record (unsigned here)."""
    record = load_record(release_dir(sample.root, VERSION), VERSION)
    pins = {}
    for result in results:
        assert result.digest is not None
        path_in_dist = f"{CONSTRAINTS_DIR}/{constraints_name(result.image.flavour, result.image.variant)}"
        planned = PlannedImage(ImageId(result.image.flavour, result.image.variant), result.tag, result.ref,
                               result.planned.base_image, constraints=path_in_dist)
        image = ImageToRead(planned, result.digest)
        pins[result.tag] = read_installed(engine, image.image)
        path = record.directory / planned.constraints
        path.parent.mkdir(parents=True, exist_ok=True)
        text = constraints_text(pins[result.tag], project="Sample App", version=VERSION, image=image)
        path.write_text(text)
        record.put_constraints([ConstraintsEntry(planned.constraints, sha512_of(path), result.image.flavour,
                                                 result.image.variant, image.image)])
    return pins


@pytest.fixture
def own_registry(engine: Engine, sample: Sample, tmp_path: Path) -> Iterator[ThrowawayRegistry]:
    """A registry of its own holding the sample's shipped 3.11 image and its recorded constraints:
    the refresh test moves its base."""
    (tmp_path / "registry").mkdir()
    live = start_registry(tmp_path / "registry")
    try:
        push_base(engine, live.address, "3.11")
        results, _ = ship_images(sample.config, VERSION, wheels=[sample.wheel], registry=live.address,
                                 flavours=["3.11"], engine=engine)
        record_constraints(sample, results, engine)
        yield live
    finally:
        live.stop()
        untag_all(live.address)
        shutil.rmtree(release_dir(sample.root, VERSION), ignore_errors=True)


def move_base(engine: Engine, registry: str) -> tuple[str, str]:
    """A new base image under the same tag; (its ref, its new digest)."""
    base = f"{registry}/sandbox/python:3.11"
    dockerfile = f"FROM {base}\nLABEL refreshed={time.time()}\n"
    run(["docker", "build", "-q", "-t", base, "-"], input_text=dockerfile)
    return base, engine.push(base)


def test_refresh_rebuilds_only_when_the_base_moved(
    engine: Engine, own_registry: ThrowawayRegistry, sample: Sample, tmp_path: Path
) -> None:
    registry = own_registry
    client = RegistryClient(registry.address)
    tag = f"{VERSION}-python3.11"
    client.copy_tag("sample/app", tag, "1.10-python3.11")
    log_file = tmp_path / "refresh.log"
    quiet = refresh_images(sample.config, registry=registry.address, log_path=log_file, engine=engine)
    assert quiet.nothing_to_do and not log_file.exists()
    assert {i.tag for i in quiet.items} >= {tag}

    old_base = client.manifest_digest("sandbox/python", "3.11")
    base, new_base = move_base(engine, registry.address)
    old_image = client.manifest_digest("sample/app", tag)
    started = time.monotonic()
    report = refresh_images(sample.config, registry=registry.address, log_path=log_file, engine=engine)
    print(f"refresh of one image: {time.monotonic() - started:.1f}s")
    (item,) = report.changed
    assert (item.tag, item.old_base, item.new_base, item.old_digest) == (tag, old_base, new_base, old_image)
    assert item.moved_tags == ("1.10-python3.11",)
    new_image = client.manifest_digest("sample/app", tag)
    assert new_image == item.new_digest != old_image
    assert client.manifest_digest("sample/app", "1.10-python3.11") == new_image
    labels = client.image_labels("sample/app", tag) or {}
    assert labels[f"{OCI}.base.digest"] == new_base
    assert labels[WHEEL_SHA256_LABEL] == sha256_of(sample.wheel)
    logged = log_file.read_text().splitlines()
    assert len(logged) == 1
    assert f"{tag} (also 1.10-python3.11): base {base} {old_base} -> {new_base}" in logged[0]
    recorded = (release_dir(sample.root, VERSION) / "constraints" / "constraints-3.11.txt").read_text()
    rebuilt = read_installed(engine, f"{registry.address}/sample/app@{new_image}")
    assert rebuilt == [line for line in recorded.splitlines() if not line.startswith("#")]

    again = refresh_images(sample.config, registry=registry.address, log_path=log_file, engine=engine)
    assert again.nothing_to_do and len(log_file.read_text().splitlines()) == 1


def test_refresh_moves_every_variant_of_a_release_or_none(engine: Engine, sample: Sample, tmp_path: Path
                                                        ) -> None:
    """A release whose slim image has no recorded constraints is not refreshed at all, not even its
    default image; once the slim's are recorded, both move to the new base together."""
    config = dataclasses.replace(sample.config, variants=(Variant("slim", smoke_commands=()),))
    (tmp_path / "registry").mkdir()
    live = start_registry(tmp_path / "registry")
    try:
        push_base(engine, live.address, "3.11")
        results, _ = ship_images(config, VERSION, wheels=[sample.wheel], registry=live.address,
                                 flavours=["3.11"], engine=engine)
        assert [r.tag for r in results] == [f"{VERSION}-python3.11", f"slim-{VERSION}-python3.11"]
        record_constraints(sample, results[:1], engine)
        move_base(engine, live.address)
        log_file = tmp_path / "refresh.log"
        held = refresh_images(config, registry=live.address, log_path=log_file, engine=engine)
        found = {i.tag: i for i in held.items}
        assert {i.status for i in found.values()} == {"skipped"} and not log_file.exists()
        assert "constraints its release recorded" in found[f"slim-{VERSION}-python3.11"].detail
        assert "the variants of one version move together" in found[f"{VERSION}-python3.11"].detail

        record_constraints(sample, results[1:], engine)
        moved = refresh_images(config, registry=live.address, log_path=log_file, engine=engine)
        assert {i.tag for i in moved.changed} == {f"{VERSION}-python3.11", f"slim-{VERSION}-python3.11"}
        assert len(log_file.read_text().splitlines()) == 2
    finally:
        live.stop()
        untag_all(live.address)
        shutil.rmtree(release_dir(sample.root, VERSION), ignore_errors=True)


def test_an_empty_engine_takes_the_dependency_layers_from_the_registry(
    engine: Engine, sample: Sample, tmp_path: Path
) -> None:
    """A runner that starts with an empty engine: what the first build made is removed from the engine
    (everything built on a base of this test's own, so nothing else is touched), and the next commit's
    build pulls the dependency stage the first one pushed and installs no dependency again. (With
    BuildKit the engine's build cache outlives the removed images and the shared engine is never
    pruned, so the hits may come from it: `nox -s bench -- --only ci` builds on a second, empty
    engine to show the registry's cache image alone serves.)"""
    live = start_registry(tmp_path / "registry")
    nonce = uuid.uuid4().hex[:12]
    label = f"org.release-pipeline.test={nonce}"
    base = f"{live.address}/sandbox/python:3.11-{nonce}"
    try:
        run(["docker", "build", "-q", "-t", base, "-"], input_text=f"FROM {BASE}\nLABEL {label}\n")
        engine.push(base)
        config = dataclasses.replace(sample.config, image="sample/cached")
        source = image_source(config, VERSION, [sample.wheel])

        def master(revision: str) -> ImageResult:
            (result,) = ship_images(config, VERSION, wheels=[sample.wheel], registry=live.address,
                                    flavours=["3.11"], base_images={"3.11": base}, kind=BuildKind.MASTER,
                                    engine=engine, source=dataclasses.replace(source, revision=revision))[0]
            return result

        first = master("1" * 40)
        assert first.cache == "built"
        cache_repository, cache_tag = first.planned.cache_ref.split("/", 1)[1].rsplit(":", 1)
        assert RegistryClient(live.address).manifest_digest(cache_repository, cache_tag) is not None
        engine.remove_labelled(label)
        assert engine.inspect(first.planned.cache_ref) is None and engine.inspect(first.image_id) is None
        pulled_base = engine.pull(base)

        second = master("2" * 40)
        assert second.cache == "registry"
        install = [t for t in second.timings if "--requirement /deps/requirements.txt" in t.instruction]
        assert install and all(t.cached for t in install)
        image, cache = engine.inspect(second.ref), engine.inspect(first.planned.cache_ref)
        assert image is not None and cache is not None
        first_own = len(pulled_base.raw["RootFS"]["Layers"])  # the runtime stage's layer, from the cache
        assert image.raw["RootFS"]["Layers"][first_own] == cache.raw["RootFS"]["Layers"][first_own]
    finally:
        live.stop()
        engine.remove_labelled(label)
