# SPDX-License-Identifier: Apache-2.0
"""The engine adapter against the real Docker Engine and a throwaway registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_helpers import BASE, ThrowawayRegistry, require_engine_and_base, start_registry, untag_all

from release.adapters.engine import BuildFailed, BuildLine
from release.adapters.registry import RegistryClient
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
