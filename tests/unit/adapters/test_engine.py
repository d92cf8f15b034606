# SPDX-License-Identifier: Apache-2.0
"""The engine adapter's pure parts: the classic builder's stream, reference splitting (BuildKit's
output: test_builds.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from release.adapters.builds import BuildFailed, BuildLine, stage_image
from release.adapters.builds import follow_classic as _follow_build
from release.adapters.engine import at_once, split_ref
from release.errors import ServiceError


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


def test_follow_build_times_each_step_from_its_line_to_the_next() -> None:
    ticks = iter([10.0, 10.5, 13.0, 13.25])
    outcome = _follow_build(
        stream(
            "Step 1/3 : FROM base\n",
            "Step 2/3 : RUN a\n ---> Using cache\n",
            "Step 3/3 : RUN b\nhello\n",
        ),
        "t:1",
        lambda line: None,
        clock=lambda: next(ticks),
    )
    timed = [(t.step, t.instruction, t.seconds, t.cached) for t in outcome.timings]
    assert timed == [(1, "FROM base", 0.5, False), (2, "RUN a", 2.5, True), (3, "RUN b", 0.25, False)]


def test_follow_build_keeps_each_steps_image_and_finds_a_stages_last() -> None:
    outcome = _follow_build(
        stream(
            "Step 1/6 : FROM base AS build\n ---> 1111111111aa\n",
            "Step 2/6 : RUN a\n ---> Running in 2222222222bb\n ---> 3333333333cc\n",
            "Step 3/6 : FROM build AS deps\n",
            "Step 4/6 : ARG X\n ---> Using cache\n ---> 4444444444dd\n",
            "Step 5/6 : RUN b\n ---> Running in 5555555555ee\nout\n ---> 6666666666ff\n",
            "Step 6/6 : FROM base AS final\n ---> 1111111111aa\n",
        ),
        "t:1",
        lambda line: None,
    )
    assert [t.image for t in outcome.timings] == ["1111111111aa", "3333333333cc", "", "4444444444dd",
                                                  "6666666666ff", "1111111111aa"]
    assert stage_image(outcome.timings, "deps") == "6666666666ff"
    assert stage_image(outcome.timings, "build") == "3333333333cc"
    assert stage_image(outcome.timings, "other") == ""


def test_at_once_reads_every_item_side_by_side_in_order_and_raises_the_first_error_after_all() -> None:
    started: list[int] = []
    every_one_started = threading.Barrier(3, timeout=10)  # passes only if the three run at once

    def read(item: int) -> int:
        started.append(item)
        every_one_started.wait()
        return item * 10

    assert at_once([1, 2, 3], read) == [10, 20, 30]
    assert sorted(started) == [1, 2, 3]

    finished: list[int] = []

    def failing(item: int) -> int:
        if item in (2, 3):
            raise ServiceError(f"item {item} failed")
        finished.append(item)
        return item

    with pytest.raises(ServiceError, match=r"^item 2 failed$"):
        at_once([1, 2, 3, 4], failing)
    assert sorted(finished) == [1, 4]  # the others ran to the end before the error was raised
    assert at_once([], read) == [] and at_once([7], lambda item: item + 1) == [8]
