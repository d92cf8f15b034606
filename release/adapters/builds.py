# SPDX-License-Identifier: Apache-2.0
"""What a build reports, from either builder: its lines, each step's time and whether it came from
the cache, the image it made; and the Dockerfile as each builder takes it. Pure: the engine adapter
(release/adapters/engine.py) runs the builds and feeds their output here.

The classic builder streams JSON (`Step N/M : INSTRUCTION`, ` ---> Using cache`, output lines).
BuildKit's plain progress names each vertex once (`#7 [deps 2/3] RUN ...`), then prefixes its
output and status with the same number (`#7 0.52 output`, `#7 CACHED`, `#7 DONE 2.4s`,
`#7 ERROR: ...`); the vertices of independent stages interleave.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from release.errors import CommandError

_STEP = re.compile(r"^Step (?P<step>\d+)/(?P<total>\d+) : (?P<instruction>.*)$")
_RESULT = re.compile(r"^\s*---> (?P<image>[0-9a-f]{12,64})$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # pip colours its errors
_TAIL = 30


@dataclass(frozen=True)
class BuildLine:
    """A build output line; `instruction` is set on a step's first line, `cached` on its cache hit."""

    text: str
    step: int | None = None
    total: int | None = None
    instruction: str | None = None
    cached: bool = False
    stage: str = ""  # BuildKit: the stage the step belongs to (its steps run interleaved)


@dataclass(frozen=True)
class StepTime:
    """How long one build step took, from its `Step N/M` line to the next step's (or the end)."""

    step: int
    instruction: str
    seconds: float
    cached: bool = False
    image: str = ""  # the (short) id of the image the step left, as the classic builder printed it
    stage: str = ""  # BuildKit: the stage it belongs to ("" from the classic builder: see its FROM lines)


@dataclass(frozen=True)
class BuildOutcome:
    image_id: str
    steps: int
    cacheable_steps: int  # all but FROM and the ARGs before the first FROM
    cached_steps: int
    timings: tuple[StepTime, ...] = ()
    kept: str = ""  # the ref a stage's image was also tagged as (Engine.build's `keep`), else ""

    @property
    def rebuilt_steps(self) -> int:
        return self.cacheable_steps - self.cached_steps


def stage_image(timings: Sequence[StepTime], stage: str) -> str:
    """The image a build left at the end of the stage named `stage` (`FROM ... AS stage`), or ""."""
    found = ""
    inside = False
    for timing in timings:
        words = timing.instruction.split()
        if words and words[0].upper() == "FROM":
            if inside:
                break
            inside = len(words) == 4 and words[2].upper() == "AS" and words[3] == stage
        elif inside and timing.image:
            found = timing.image
    return found


class BuildFailed(CommandError):
    """A build stopped; names the step and keeps the last output lines."""

    def __init__(self, message: str, *, step: int | None, instruction: str | None, tail: Sequence[str]):
        super().__init__(message)
        self.step = step
        self.instruction = instruction
        self.tail = tuple(tail)


def follow_classic(
    stream: Iterator[dict[str, Any]], tag: str, on_line: Callable[[BuildLine], None],
    clock: Callable[[], float] = time.monotonic,
) -> BuildOutcome:
    step: int | None = None
    total: int | None = None
    instruction: str | None = None
    cached = uncacheable = 0
    seen_from = False
    image_id = ""
    tail: list[str] = []
    timings: list[StepTime] = []
    step_started = 0.0
    step_cached = False
    step_image = ""

    def close_step(now: float) -> None:
        if step is not None and instruction is not None:
            timings.append(StepTime(step, instruction, now - step_started, step_cached, step_image))

    for event in stream:
        if "error" in event:
            detail = str((event.get("errorDetail") or {}).get("message") or event["error"]).strip()
            short = " ".join((instruction or "").split())
            short = short if len(short) <= 80 else short[:77] + "..."
            where = f"at step {step}/{total} ({short})" if step else "before the first step"
            last = "".join(f"\n{line}" for line in tail[-10:])
            raise BuildFailed(f"building {tag} failed {where}: {detail}{last}", step=step,
                              instruction=instruction, tail=tail)
        aux = event.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            image_id = str(aux["ID"])
        for raw in str(event.get("stream") or "").splitlines():
            text = _ANSI.sub("", raw).rstrip()
            if not text:
                continue
            match = _STEP.match(text)
            if match:
                now = clock()
                close_step(now)
                step, total = int(match["step"]), int(match["total"])
                instruction = match["instruction"]
                step_started, step_cached, step_image = now, False, ""
                is_from = instruction.upper().startswith("FROM ")
                uncacheable += is_from or not seen_from
                seen_from = seen_from or is_from
                on_line(BuildLine(text, step, total, instruction))
                continue
            is_cached = text.strip() == "---> Using cache"
            cached += is_cached
            step_cached = step_cached or is_cached
            result = _RESULT.match(text)
            step_image = result["image"] if result else step_image
            tail = [*tail[-_TAIL:], text]
            on_line(BuildLine(text, step, total, None, is_cached))
    if not image_id:
        raise BuildFailed(f"building {tag}: the engine reported no image", step=step, instruction=instruction,
                          tail=tail)
    close_step(clock())
    return BuildOutcome(image_id, total or 0, (total or 0) - uncacheable, cached, tuple(timings))


# --- BuildKit's plain progress -------------------------------------------------------------------

_VERTEX = re.compile(r"^#(?P<number>\d+) (?P<rest>.*)$")
_STEP_NAME = re.compile(r"^\[(?:(?P<stage>[^\]]+?) )?(?P<index>\d+)/(?P<count>\d+)\] (?P<instruction>.+)$")
_LOG = re.compile(r"^\d+\.\d+ (?P<text>.*)$")  # `#5 0.385 output`: seconds since the vertex started
_DONE = re.compile(r"^DONE (?P<seconds>\d+(?:\.\d+)?)s$")
_SHELL = re.compile(r"running \[/bin/sh -c .*\]: ", re.S)  # the whole RUN again: the message names it


@dataclass
class _Vertex:
    """One vertex of a BuildKit build: a Dockerfile step (`[stage i/n] INSTRUCTION`) or its own
    work (loading the context, exporting the image)."""

    name: str
    started: float
    step: int | None = None  # Dockerfile steps in the order they started, from 1
    stage: str = ""
    instruction: str = ""
    cached: bool = False
    seconds: float | None = None
    error: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        short = " ".join(self.instruction.split())
        short = short if len(short) <= 80 else short[:77] + "..."
        return f"at step {self.step} ({f'[{self.stage}] ' if self.stage else ''}{short})"


def follow_plain(lines: Iterable[str], tag: str, on_line: Callable[[BuildLine], None], *,
                 exit_code: Callable[[], int], clock: Callable[[], float] = time.monotonic) -> BuildOutcome:
    """BuildKit's `--progress=plain` output (every line of it, in order) as BuildLines and step
    times; `exit_code()` is the client's, asked once the output ended. The image id is not in the
    output (the caller reads `--iidfile`): the outcome has none. Raises BuildFailed naming the first
    step that failed, with its last output lines."""
    vertices: dict[int, _Vertex] = {}
    trailer: list[str] = []  # lines outside any vertex: the summary BuildKit prints after a failure
    steps = 0
    for raw in lines:
        text = _ANSI.sub("", raw).rstrip()
        match = _VERTEX.match(text)
        if match is None:
            if text.strip() and text.strip("-"):
                trailer = [*trailer[-_TAIL:], text]
            continue
        number, rest = int(match["number"]), match["rest"]
        vertex = vertices.get(number)
        if vertex is None:
            vertex = vertices[number] = _Vertex(rest, clock())
            step = _STEP_NAME.match(rest)
            if step is not None:
                steps += 1
                vertex.step, vertex.stage = steps, step["stage"] or ""
                vertex.instruction = step["instruction"]
                on_line(BuildLine(rest, steps, None, vertex.instruction, stage=vertex.stage))
            else:
                on_line(BuildLine(rest))
            continue
        if rest == vertex.name or rest.startswith("sha256:") or rest == "CANCELED":
            continue
        done = _DONE.match(rest)
        if done is not None:
            vertex.seconds = float(done["seconds"])
            continue
        if rest == "CACHED":
            vertex.cached, vertex.seconds = True, clock() - vertex.started
            on_line(BuildLine(rest, vertex.step, None, None, True, vertex.stage))
            continue
        if rest.startswith("ERROR"):
            vertex.error = _SHELL.sub("running the step: ", rest.partition(" ")[2].lstrip(":").strip())
            continue
        logged = _LOG.match(rest)
        line = logged["text"] if logged is not None else rest
        vertex.output = [*vertex.output[-_TAIL:], line]
        on_line(BuildLine(line, vertex.step, None, None, stage=vertex.stage))
    now = clock()
    failed = [v for v in vertices.values() if v.error]
    code = exit_code()
    if failed or code != 0:
        first = next((v for v in failed if v.step is not None), failed[0] if failed else None)
        detail = _SHELL.sub("running the step: ", trailer[-1]) if trailer else ""
        detail = (first.error if first is not None else "") or detail or f"the docker client exited {code}"
        where = first.where if first is not None and first.step is not None else "before the first step"
        tail = first.output if first is not None else []
        last = "".join(f"\n{line}" for line in tail[-10:])
        raise BuildFailed(f"building {tag} failed {where}: {detail}{last}",
                          step=first.step if first is not None else None,
                          instruction=first.instruction if first is not None else None, tail=tail)
    timed = sorted((v for v in vertices.values() if v.step is not None), key=lambda v: v.step or 0)
    timings = tuple(StepTime(v.step or 0, v.instruction, now - v.started if v.seconds is None else v.seconds,
                             v.cached, "", v.stage) for v in timed)
    cacheable = [v for v in timed if not v.instruction.upper().startswith("FROM ")]
    return BuildOutcome("", len(timed), len(cacheable), sum(v.cached for v in cacheable), timings)


def merge(main: BuildOutcome, extra: BuildOutcome) -> BuildOutcome:
    """Two builds of one Dockerfile, one after the other (the whole, then one stage of it), as one:
    the first's steps, and any step only the second ran; the image is the first's, the kept ref
    the second's."""
    known = {t.instruction for t in main.timings}
    added = [t for t in extra.timings if t.instruction not in known and not t.cached]
    timings = (*main.timings, *(StepTime(len(main.timings) + n, t.instruction, t.seconds, t.cached, t.image,
                                         t.stage) for n, t in enumerate(added, 1)))
    return BuildOutcome(main.image_id, main.steps + len(added), main.cacheable_steps + len(added),
                        main.cached_steps, timings, kept=extra.kept)


# --- the Dockerfile as each builder takes it -----------------------------------------------------

_MOUNTS = re.compile(r"(?im)^(?P<run>[ \t]*RUN[ \t]+)(?P<mounts>(?:--mount=\S+(?:[ \t]*\\\n[ \t]*|[ \t]+))+)")
_STAGE = re.compile(r"(?im)^[ \t]*FROM[ \t]+\S+[ \t]+AS[ \t]+(?P<name>\S+)[ \t]*$")


def without_mounts(dockerfile: str) -> str:
    """The Dockerfile for the classic builder, which has no `RUN --mount`: the options go, the
    commands stay (they see no cache mounted, and cache nothing)."""
    return _MOUNTS.sub(lambda m: m["run"], dockerfile)


def has_stage(dockerfile: str, name: str) -> bool:
    """True when the Dockerfile has a stage `FROM ... AS name`."""
    return any(m["name"].lower() == name.lower() for m in _STAGE.finditer(dockerfile))
