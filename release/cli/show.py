# SPDX-License-Identifier: Apache-2.0
"""How plans and reports look on a terminal: tables on stderr, JSON alone on stdout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from release import console
from release.progress import Progress

if TYPE_CHECKING:
    from release.pipeline.release import ReleaseReport
    from release.pipeline.trains import Wave
    from release.plan.commands import CommandPlan
    from release.plan.preflight import Problem
    from release.plan.release import ReleasePlan


def show_plan(plan: ReleasePlan, *, out: Progress = console.progress) -> None:
    from release.plan.release import StepName, TagAction

    for warning in plan.warnings:
        console.warn(warning)
    console.table("Steps", ["step", "does"], [(s.name.value, s.does) for s in plan.steps])
    if len(plan.distributions) > 1:
        console.table("Distributions", ["name", "voted on", "on the index"],
                      [(d.name, d.voted, d.index) for d in plan.distributions])
    console.table(
        f"Artefacts (dist/{plan.version}/)",
        ["file", "kind", "with"],
        [(a.path, a.kind.value, " ".join(x.rsplit(".", 1)[-1] for x in a.companions))
         for a in plan.artefacts],
    )
    console.table("Images", ["python", "platform", "image", "base"],
                  [(i.image.flavour, i.platform, i.ref, i.base_image) for i in plan.images])
    if plan.indexes:
        console.table("Image indexes", ["python", "tag", "lists"],
                      [(i.image.flavour, i.tag, ", ".join(f"{p} {t}" for p, t in i.images))
                       for i in plan.indexes])
    if plan.atr is not None:
        steps = {s.name for s in plan.steps}
        rows = [("server", plan.atr.server), ("project", plan.atr.project),
                ("committee", plan.atr.committee), ("release", plan.atr.release)]
        if StepName.ATR_UPLOAD in steps:
            rows += [("uploads", name) for name in plan.atr.files]
            rows.append(("vote email to", plan.atr.email_to))
            rows += [("ignored check", name) for name in plan.atr.ignores]
        if StepName.ATR_FINISH in steps:
            rows.append(("announcement to", plan.atr.announce_to))
        if StepName.ATR_DISTRIBUTIONS in steps:
            rows += [("records", d.shown) for d in plan.atr.distributions]
        console.table("Apache Trusted Releases", ["what", "value"], rows)
    console.table("Uploads", ["file", "action"], [(u.filename, u.action.value) for u in plan.uploads])
    console.table(
        f"Tags in {plan.repository}",
        ["tag", "python", "action", "points at now", "gets the image of"],
        [(t.tag, t.image.flavour, t.action.value + (f" ({t.reason})" if t.reason else ""),
          console.short(t.current), t.source) for t in plan.tags],
    )
    moving = [t.tag for t in plan.tags if t.action is TagAction.MOVE]
    out(f"tags that would move: {', '.join(moving) if moving else 'none'}")
    if not plan.owns_latest:
        out(f"`latest` stays where it is: {plan.version} is not the highest release")


def show_problems(problems: Sequence[Problem]) -> None:
    """The preflight's problems, one line each: what is wrong, then the fix."""
    for problem in problems:
        console.error(f"preflight: {problem.line}")


def show_report(report: ReleaseReport, as_json: bool) -> None:
    data = report.to_json()
    if as_json:
        console.print_json(data)
        return
    console.table("Files", ["file", "sha512"], [(p, h[:32] + "...") for p, h in data["files"].items()])
    console.table("Images", ["python", "digest"], list(data["images"].items()))
    if "indexes" in data:
        console.table("Image indexes", ["python", "index", "platform", "image"],
                      [(python, console.short(entry["digest"]), platform, console.short(digest))
                       for python, entry in data["indexes"].items()
                       for platform, digest in entry["platforms"].items()])
    console.table("Uploads", ["file", "action"], list(data["uploads"].items()))
    console.table(
        "Tags", ["tag", "python", "action", "digest", "was"],
        [(t, v["python"], v["action"], console.short(v["digest"]), console.short(v["previous"]))
         for t, v in data["tags"].items()],
    )
    for line in report.replanned:
        console.warn(f"differs from the plan shown at the start: {line}")
    moved = data["moved"]
    console.ok(f"released {report.version}; moved: {', '.join(moved) if moved else 'nothing'}")


def show_command_plan(plan: CommandPlan, as_json: bool) -> None:
    """A command's dry run: what it would change, where, and why a run would refuse now."""
    if as_json:
        console.print_json(plan.to_json())
        return
    console.table(f"{plan.invocation} would", ["where", "does"],
                  [(a.where.value, a.does) for a in plan.actions])
    for refusal in plan.refusals:
        console.warn(f"a run would refuse: {refusal}")


def show_wave(wave: Wave, *, project: str, as_json: bool, out: Progress = console.progress) -> None:
    """A train's dry run: every distribution of the wave with its previous version, the commits since,
    its new version and rc, its tags, svn paths and rc-numbered packages for the index, the steps a run
    takes; what stays out and why."""
    from release.plan.wave import wave_to_json

    plan = wave.plan
    if as_json:
        console.print_json(wave_to_json(plan, project=project, commit=wave.commit))
        return
    title = f"Wave of train {plan.train}, {plan.date}, at {wave.commit[:12]}"
    console.table(title, ["distribution", "previous", "commits since", "new version", "rc", "why"],
                  [(e.name, str(e.previous or "-"), f"{len(e.commits)} since {e.since}" if e.since
                    else f"{len(e.commits)} (never released)", str(e.version), f"rc{e.rc}", e.why)
                   for e in plan.entries])
    console.table("Tags", ["distribution", "candidate", "final"],
                  [(e.name, e.tag, e.final_tag) for e in plan.entries])
    console.table("svn", ["distribution", "dev (the vote)", "release (promoted)"],
                  [(e.name, "\n".join(f"dev/{project}/{p}" for p in e.svn_dev),
                    "\n".join(f"release/{project}/{p}" for p in e.svn_release)) for e in plan.entries])
    console.table("Package index (rc-numbered, for testing; not voted on)", ["distribution", "files"],
                  [(e.name, "\n".join(e.index_files)) for e in plan.entries])
    if plan.index_pins:
        out("the rc-numbered packages pin each other's candidates where the tree pins the finals: "
            + ", ".join(f"{name} {final} -> {candidate}" for name, final, candidate in plan.index_pins))
    if plan.images:
        console.table(f"Images (the candidate's tags; {plan.entries[0].version} once published)",
                      ["tag", "constraints"], [(i.tag, i.constraints) for i in plan.images])
    if plan.steps:
        console.table("Steps", ["step", "does"], [(s.name.value, s.does) for s in plan.steps])
    for entry in plan.entries:
        for commit in entry.commits:
            out(f"{entry.name}: {commit.sha[:12]} {commit.subject}")
    for skipped in plan.skipped:
        out(f"left out: {skipped.name}: {skipped.reason}")
    if plan.unchanged:
        out(f"unchanged since their last release: {', '.join(plan.unchanged)}")
    if not plan.entries:
        out(f"nothing to release in train {plan.train}: no distribution changed since its last release")
        return
    out(f"source release: dev/{project}/{plan.source_dev}")
    if plan.wave_tag:
        out(f"wave tag: {plan.wave_tag}")
    if plan.constraints is not None:
        latest = f", moves {plan.constraints.latest}" if plan.constraints.latest else ""
        out(f"constraints: tag {plan.constraints.tag} on {plan.constraints.branch}{latest}")
    out(f"the vote email lists: {'; '.join(plan.vote_lines)}")
    out(f"read with {wave.git_calls} git commands")
