"""The engine adapter: the build stream parser (pure), then the real Docker Engine (`images`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from engine_helpers import BASE, ThrowawayRegistry, require_engine_and_base, start_registry, untag_all

from release.adapters.engine import BuildFailed, BuildLine, _follow_build, split_ref
from release.adapters.registry import RegistryClient
from release.plan.images import context_tar


@pytest.fixture(scope="module")
def live_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayRegistry]:
    registry = start_registry(tmp_path_factory.mktemp("registry"))
    yield registry
    registry.stop()
    untag_all(registry.address)


# ---------------------------------------------------------------- the stream parser, pure


def stream(*chunks: str, image: str = "sha256:abc") -> Iterator[dict[str, Any]]:
    for chunk in chunks:
        yield {"stream": chunk}
    if image:
        yield {"aux": {"ID": image}}


def test_follow_build_counts_cached_and_rebuilt_steps() -> None:
    lines: list[BuildLine] = []
    outcome = _follow_build(
        stream(
            "Step 1/5 : ARG BASE=x\n",
            "Step 2/5 : FROM ${BASE}\n ---> 123\n",
            "Step 3/5 : RUN a\n ---> Using cache\n ---> 456\n",
            "Step 4/5 : RUN b\n ---> Running in 789\nhello\n",
            "Step 5/5 : LABEL x=y\n ---> Running in abc\n",
        ),
        "t:1",
        lines.append,
    )
    assert outcome.image_id == "sha256:abc"
    counts = (outcome.steps, outcome.cacheable_steps, outcome.cached_steps, outcome.rebuilt_steps)
    assert counts == (5, 3, 1, 2)
    starts = [line for line in lines if line.instruction]
    assert [(s.step, s.instruction) for s in starts][2:] == [(3, "RUN a"), (4, "RUN b"), (5, "LABEL x=y")]
    assert any(line.cached and line.step == 3 for line in lines)
    assert any(line.text == "hello" and line.step == 4 for line in lines)


def test_follow_build_error_names_the_step_and_keeps_output() -> None:
    failed = "The command '/bin/sh -c pip install nothing-here' returned a non-zero code: 1"
    events: list[dict[str, Any]] = [
        {"stream": "Step 1/2 : FROM base\n"},
        {"stream": "Step 2/2 : RUN pip install nothing-here\n"},
        {"stream": "ERROR: No matching distribution found for nothing-here\n"},
        {"error": failed, "errorDetail": {"message": failed}},
    ]
    with pytest.raises(BuildFailed) as caught:
        _follow_build(iter(events), "t:1", lambda line: None)
    message = str(caught.value)
    assert "t:1 failed at step 2/2 (RUN pip install nothing-here)" in message
    assert "No matching distribution" in message
    assert caught.value.step == 2


def test_follow_build_without_an_image_fails() -> None:
    with pytest.raises(BuildFailed, match="no image"):
        _follow_build(stream("Step 1/1 : FROM x\n", image=""), "t:1", lambda line: None)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("127.0.0.1:5000/a/b:1.0-python3.11", ("127.0.0.1:5000/a/b", "1.0-python3.11")),
        ("127.0.0.1:5000/a/b", ("127.0.0.1:5000/a/b", "latest")),
        ("python:3.11-slim", ("python", "3.11-slim")),
        ("busybox", ("busybox", "latest")),
    ],
)
def test_split_ref(ref: str, expected: tuple[str, str]) -> None:
    assert split_ref(ref) == expected


# ---------------------------------------------------------------- the real engine


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
