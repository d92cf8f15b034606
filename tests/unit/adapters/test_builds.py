# SPDX-License-Identifier: Apache-2.0
"""What BuildKit's plain progress says, as the pipeline reads it; the Dockerfile as the classic
builder gets it; finding a docker client that drives BuildKit (without running one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from release.adapters.buildkit import BUILDER_ENV, Builder, clients, find_builder
from release.adapters.builds import (
    BuildFailed,
    BuildLine,
    BuildOutcome,
    StepTime,
    follow_plain,
    has_stage,
    merge,
    without_mounts,
)
from release.errors import ServiceError
from release.image import dockerfile

SUCCESS = """\
#1 [internal] load remote build context
#1 DONE 0.0s

#2 copy /context /
#2 DONE 0.1s

#3 [internal] load metadata for docker.io/sandbox/python:3.11
#3 DONE 0.0s

#4 [b 1/2] FROM docker.io/sandbox/python:3.11
#4 sha256:500480eddd41568f1a65877ce6e167667643b71f3adf4633bae69071e168418e
#4 CACHED

#5 [a 2/2] RUN echo a && sleep 1
#5 sha256:262af4c40f97083b948d52d7f9083d8363da5c882fae1b90855cc41a75efce8c

#6 [b 2/2] RUN echo b-stage && sleep 2
#6 0.385 b-stage

#5 [a 2/2] RUN echo a && sleep 1
#5 0.528 \x1b[31ma\x1b[0m
#5 DONE 1.2s

#6 [b 2/2] RUN echo b-stage && sleep 2
#6 DONE 2.4s

#7 [stage-2 1/1] COPY --from=b /etc/hostname /b-host
#7 CACHED

#8 exporting to image
#8 exporting layers 0.0s done
#8 writing image sha256:26e29c8013a539f0e3950ef7661959f0ea95b5bd67773e65d740e58c34953fb8 done
#8 DONE 0.0s
"""

FAILURE = """\
#4 [b 1/2] FROM docker.io/sandbox/python:3.11
#4 CACHED

#5 [a 2/2] RUN echo before-failing && sleep 1 && exit 3
#5 0.388 before-failing
#5 ERROR: executor failed running [/bin/sh -c echo before-failing && sleep 1 && exit 3]: exit code: 3

#6 [b 2/2] RUN echo other; sleep 3; echo other-done
#6 0.345 other
#6 CANCELED
------
 > [a 2/2] RUN echo before-failing && sleep 1 && exit 3:
------
executor failed running [/bin/sh -c echo before-failing && sleep 1 && exit 3]: exit code: 3
"""


def ticking(start: float = 100.0) -> object:
    now = [start]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    return clock


def test_plain_progress_becomes_steps_with_their_stages_times_and_cache_hits() -> None:
    lines: list[BuildLine] = []
    outcome = follow_plain(SUCCESS.splitlines(), "t:1", lines.append, exit_code=lambda: 0,
                           clock=ticking())  # type: ignore[arg-type]
    assert outcome.image_id == ""  # the caller reads it from --iidfile
    counts = (outcome.steps, outcome.cacheable_steps, outcome.cached_steps, outcome.rebuilt_steps)
    assert counts == (4, 3, 1, 2)
    timed = [(t.step, t.stage, t.instruction, t.seconds, t.cached) for t in outcome.timings]
    assert timed[1:] == [(2, "a", "RUN echo a && sleep 1", 1.2, False),
                         (3, "b", "RUN echo b-stage && sleep 2", 2.4, False),
                         (4, "stage-2", "COPY --from=b /etc/hostname /b-host", 1.0, True)]
    assert timed[0][:3] == (1, "b", "FROM docker.io/sandbox/python:3.11") and timed[0][4]
    starts = [(line.step, line.stage, line.instruction) for line in lines if line.instruction]
    assert starts == [(1, "b", "FROM docker.io/sandbox/python:3.11"), (2, "a", "RUN echo a && sleep 1"),
                      (3, "b", "RUN echo b-stage && sleep 2"),
                      (4, "stage-2", "COPY --from=b /etc/hostname /b-host")]
    output = [(line.step, line.text) for line in lines if line.instruction is None and line.step]
    assert (3, "b-stage") in output and (2, "a") in output  # colours gone, each line to its own step
    assert any(line.cached and line.step == 4 for line in lines)
    assert any(line.text == "exporting to image" and line.step is None for line in lines)


def test_a_failed_step_is_named_with_its_stage_and_output() -> None:
    with pytest.raises(BuildFailed) as caught:
        follow_plain(FAILURE.splitlines(), "t:1", lambda line: None, exit_code=lambda: 1)
    message = str(caught.value)
    assert message.startswith("building t:1 failed at step 2 ([a] RUN echo before-failing && sleep 1 && "
                              "exit 3): executor failed running the step: exit code: 3\nbefore-failing")
    assert caught.value.step == 2 and caught.value.tail == ("before-failing",)


def test_a_build_that_fails_before_any_step_says_what_the_client_said() -> None:
    said = ["#1 [internal] load build definition from Dockerfile", "#1 DONE 0.0s",
            "failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse "
            "error line 2: unknown instruction: FROBNICATE"]
    with pytest.raises(BuildFailed, match=r"t:1 failed before the first step: .*unknown instruction: FROB"):
        follow_plain(said, "t:1", lambda line: None, exit_code=lambda: 1)
    with pytest.raises(BuildFailed, match="the docker client exited 2"):
        follow_plain(["#1 [internal] load build definition from Dockerfile"], "t:1", lambda line: None,
                     exit_code=lambda: 2)


def test_a_stage_built_after_the_image_adds_only_what_it_ran() -> None:
    main = BuildOutcome("sha256:main", 2, 1, 0, (StepTime(1, "FROM b", 0.1, True, stage="x"),
                                                 StepTime(2, "RUN a", 3.0, stage="x")))
    extra = BuildOutcome("sha256:deps", 3, 2, 1, (StepTime(1, "FROM b", 0.0, True, stage="y"),
                                                  StepTime(2, "RUN a", 0.0, True, stage="x"),
                                                  StepTime(3, "RUN only-there", 2.0, stage="deps")),
                         kept="r:deps")
    merged = merge(main, extra)
    assert merged.image_id == "sha256:main" and merged.kept == "r:deps"
    steps = [(t.step, t.instruction) for t in merged.timings]
    assert steps == [(1, "FROM b"), (2, "RUN a"), (3, "RUN only-there")]
    assert (merged.steps, merged.cacheable_steps, merged.cached_steps) == (3, 2, 0)


def test_the_classic_builder_gets_the_dockerfile_without_its_mounts() -> None:
    given = ("FROM x AS deps\nRUN --mount=type=cache,id=a-${TARGETARCH},target=/root/.cache/uv \\\n"
             "    --mount=type=cache,target=/root/.cache/pip,sharing=shared \\\n    set -eu; \\\n"
             "    echo --mount=not-an-option\nrun --mount=type=cache,target=/c echo two\nRUN echo three\n")
    assert without_mounts(given) == ("FROM x AS deps\nRUN set -eu; \\\n    echo --mount=not-an-option\n"
                                     "run echo two\nRUN echo three\n")
    shipped = dockerfile().decode()
    assert "--mount=type=cache" in shipped and "# syntax" not in shipped
    assert "--mount" not in "\n".join(line for line in without_mounts(shipped).splitlines()
                                      if not line.lstrip().startswith("#"))


def test_stages_are_found_by_name() -> None:
    text = dockerfile().decode()
    assert has_stage(text, "deps") and has_stage(text, "DEPS") and not has_stage(text, "dep")
    assert not has_stage("FROM x\nRUN a\n", "deps")


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_every_docker_client_on_path_is_a_candidate_once_in_order(tmp_path: Path) -> None:
    first = executable(tmp_path / "local" / "docker")
    second = executable(tmp_path / "usr" / "docker")
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "docker").symlink_to(second)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "docker").write_text("not executable")
    path = os.pathsep.join(str(tmp_path / d) for d in ("local", "plain", "usr", "again", "missing"))
    assert clients(path) == [str(first), str(second)]


def test_the_builder_can_be_chosen_and_names_itself(tmp_path: Path) -> None:
    assert str(find_builder({BUILDER_ENV: "classic"})) == f"classic ({BUILDER_ENV}=classic)"
    nothing = find_builder({"PATH": str(tmp_path)})
    assert not nothing.buildkit and str(nothing) == "classic (no BuildKit client: no docker client on PATH)"
    with pytest.raises(ServiceError, match="no docker client"):
        find_builder({"PATH": str(tmp_path), BUILDER_ENV: "buildkit"})
    assert str(Builder("buildkit", "/usr/bin/docker", "20.10.24")) == "BuildKit (docker 20.10.24)"
