# SPDX-License-Identifier: Apache-2.0
"""The engine adapter against the real Docker Engine and a throwaway registry; builds with BuildKit
and with the classic builder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from engine_helpers import BASE, ThrowawayRegistry, require_engine_and_base, start_registry, untag_all

from release.adapters.buildkit import clients, find_builder, try_client
from release.adapters.engine import Builder, BuildFailed, BuildLine, Engine
from release.adapters.registry import RegistryClient
from release.errors import ServiceError
from release.plan.images import context_tar


@pytest.fixture(scope="module")
def live_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayRegistry]:
    registry = start_registry(tmp_path_factory.mktemp("registry"))
    yield registry
    registry.stop()
    untag_all(registry.address)



@pytest.mark.images
def test_build_run_inspect_push_remove(live_registry: ThrowawayRegistry) -> None:
    engine = require_engine_and_base()
    ref = f"{live_registry.address}/engine/probe:1"
    dockerfile = f'FROM {BASE}\nRUN echo "built-$((6*7))"\nLABEL org.example.probe="yes"\nCMD ["true"]\n'
    lines: list[BuildLine] = []
    outcome = engine.build(context_tar({"Dockerfile": dockerfile.encode()}), tag=ref, buildargs={},
                           on_line=lines.append)
    assert any(line.text == "built-42" for line in lines) or outcome.cached_steps
    info = engine.inspect(ref)
    assert info is not None and info.id == outcome.image_id
    assert info.labels["org.example.probe"] == "yes"

    again = engine.build(context_tar({"Dockerfile": dockerfile.encode()}), tag=ref, buildargs={})
    assert again.image_id == outcome.image_id and again.rebuilt_steps == 0

    result = engine.run(ref, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.exit_code, result.stdout.strip(), result.stderr.strip()) == (3, "out", "err")

    digest = engine.push(ref)
    assert digest == RegistryClient(live_registry.address).manifest_digest("engine/probe", "1")
    assert engine.current_digest(ref) == digest
    assert any("echo" in entry for entry in engine.history(ref))

    engine.tag(ref, f"{live_registry.address}/engine/probe:2")
    assert engine.remove(f"{live_registry.address}/engine/probe:2") is True
    assert engine.remove(f"{live_registry.address}/engine/probe:2") is False
    assert engine.inspect("sandbox/no-such-image:0") is None


@pytest.mark.images
def test_failing_and_unparsable_builds() -> None:
    engine = require_engine_and_base()
    failing = f"FROM {BASE}\nRUN echo before-failing && exit 3\n".encode()
    with pytest.raises(BuildFailed) as caught:
        engine.build(context_tar({"Dockerfile": failing}), tag="engine/failing:1", buildargs={})
    assert caught.value.step == 2
    assert "before-failing" in str(caught.value)
    assert engine.inspect("engine/failing:1") is None

    unparsable = context_tar({"Dockerfile": b"FROM x\nFROBNICATE now\n"})
    with pytest.raises(BuildFailed, match=r"(?i)unknown instruction"):
        engine.build(unparsable, tag="engine/bad:1", buildargs={})


def engine_with(builder: str) -> Engine:
    """The engine with BuildKit (skipped where no docker client drives it) or the classic builder."""
    engine = require_engine_and_base()
    if builder == "classic":
        return Engine(builder=Builder("classic", why="chosen by the test"))
    if not engine.builder().buildkit:
        pytest.skip(f"no BuildKit here: {engine.builder()}")
    return engine


@pytest.mark.images
def test_a_docker_client_without_buildkit_is_passed_over() -> None:
    """This machine has two clients (docker 28 first on PATH, without its buildx plugin, and
    Debian's 20.10): the one that builds with BuildKit is chosen, by trying each."""
    found = find_builder(os.environ)
    tried = {path: try_client(path) for path in clients(os.environ.get("PATH", ""))}
    working = [path for path, (_, problem) in tried.items() if not problem]
    assert found.buildkit == bool(working)
    if not working:
        pytest.skip(f"no docker client here drives BuildKit: {found}")
    assert found.client == working[0] and found.version == tried[working[0]][0]
    for path, (_, problem) in tried.items():
        if problem:
            assert problem.startswith(path), problem  # says which client, and why


@pytest.mark.images
@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_cache_mounts_serve_later_builds_and_never_land_in_a_layer(builder: str) -> None:
    engine = engine_with(builder)
    nonce = uuid.uuid4().hex[:12]
    dockerfile = (f"FROM {BASE}\nARG STAMP\n"
                  f"RUN --mount=type=cache,id=release-pipeline-test-{nonce},target=/var/cache/probe \\\n"
                  "    if grep -qs ' /var/cache/probe ' /proc/self/mountinfo; then \\\n"
                  "        ls /var/cache/probe > /seen; echo \"$STAMP\" > /var/cache/probe/$STAMP; \\\n"
                  "    else echo not-mounted > /seen; fi\n")
    refs = [f"engine/cache-{builder}:{stamp}-{nonce}" for stamp in ("first", "second")]
    try:
        context = context_tar({"Dockerfile": dockerfile.encode()})
        for ref, stamp in zip(refs, ("first", "second")):
            engine.build(context, tag=ref, buildargs={"STAMP": stamp})
        seen = engine.run(refs[1], ["sh", "-c", "cat /seen; ls -A /var/cache/probe 2>/dev/null | wc -l"])
        expected = ["first", "0"] if builder == "buildkit" else ["not-mounted", "0"]
        assert seen.stdout.split() == expected
    finally:
        for ref in refs:
            engine.remove(ref, force=True)


@pytest.mark.images
@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_a_kept_stage_gets_its_own_tag(builder: str) -> None:
    engine = engine_with(builder)
    nonce = uuid.uuid4().hex[:12]
    dockerfile = (f"FROM {BASE} AS deps\nRUN echo {nonce} > /deps\n"
                  f"FROM {BASE} AS final\nCOPY --from=deps /deps /copied\n").encode()
    ref, kept = f"engine/keep-{builder}:{nonce}", f"engine/keep-{builder}-deps:{nonce}"
    try:
        outcome = engine.build(context_tar({"Dockerfile": dockerfile}), tag=ref, buildargs={},
                               keep=("deps", kept))
        assert outcome.kept == kept
        assert engine.run(kept, ["cat", "/deps"]).stdout.strip() == nonce
        assert engine.run(ref, ["cat", "/copied"]).stdout.strip() == nonce
        assert engine.run(ref, ["test", "-e", "/deps"]).exit_code == 1
        missing = engine.build(context_tar({"Dockerfile": dockerfile}), tag=ref, buildargs={},
                               keep=("no-such-stage", f"{kept}-none"))
        assert missing.kept == "" and engine.inspect(f"{kept}-none") is None
    finally:
        for name in (ref, kept):
            engine.remove(name, force=True)


@pytest.mark.images
def test_a_file_is_read_from_an_image_without_running_its_entrypoint() -> None:
    """An entrypoint like Airflow's turns `cat F` into a command of its own: `invoke verify` reads a
    candidate's files through the archive API from a container that is never started."""
    engine = require_engine_and_base()
    ref = f"engine/entrypoint-probe:{uuid.uuid4().hex[:8]}"
    dockerfile = (f"FROM {BASE}\n"
                  "RUN mkdir -p /opt/probe && printf 'sample_app 1 abc\\n' > /opt/probe/record\n"
                  'ENTRYPOINT ["/bin/sh", "-c", "echo airflow \\"$@\\"; exit 3", "--"]\n')
    engine.build(context_tar({"Dockerfile": dockerfile.encode()}), tag=ref, buildargs={})
    try:
        through_entrypoint = engine.run(ref, ["cat", "/opt/probe/record"])
        assert through_entrypoint.exit_code == 3 and "sample_app" not in through_entrypoint.stdout
        assert engine.read_file(ref, "/opt/probe/record") == b"sample_app 1 abc\n"
        assert engine.read_file(ref, "/opt/probe/missing") is None
        assert engine.read_file(ref, "/opt/probe") is None  # a folder is no file
        with pytest.raises(ServiceError, match="over the 4"):
            engine.read_file(ref, "/opt/probe/record", limit=4)
        assert engine.client.containers.list(all=True, filters={"ancestor": ref}) == []
    finally:
        engine.remove(ref, force=True)
