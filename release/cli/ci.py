# SPDX-License-Identifier: Apache-2.0
"""invoke ci: write the GitHub Actions workflows from [tool.release], or check the committed ones."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli.support import PROFILE_HELP, project_root, read_config, reports_errors
from release.errors import RefusedError

HOW = {"missing": "not written yet", "differs": "differs from the config", "stale": "no longer generated"}


@task(help={"check": "change nothing; fail when the committed workflows differ from what the config gives",
            "profile": PROFILE_HELP,
            "out": "the folder to write to (default: .github/workflows of the project)",
            "graph": "also print every job: what it needs, its matrix, the commands it runs"})
@reports_errors
def ci(c: Context, check: bool = False, profile: str = "", out: str = "", graph: bool = False) -> None:
    """Write .github/workflows/ (tests, master images, refresh, release, each train's) from [tool.release]."""
    from release.pipeline import ci as ci_files
    from release.plan.workflows import job_graph, workflows

    config = read_config(profile)
    folder = Path(out).resolve() if out else project_root() / ci_files.WORKFLOWS_DIR
    settings = ci_files.settings_for(config, profile=Path(profile) if profile else None)
    found = workflows(config, settings)
    expected = ci_files.texts(found, settings)
    if graph:
        console.table("Jobs", ["workflow", "job", "needs", "matrix", "runs"],
                      [(j.workflow, j.job, ", ".join(j.needs) or "-", j.matrix or "-", "; ".join(j.commands))
                       for j in job_graph(found)])
    requirements = ci_files.requirements_problem(config.root, found, settings)
    if check:
        problems = ci_files.differences(folder, expected)
        if problems:
            lines = ", ".join(f"{p.file} {HOW[p.problem]}" for p in problems)
            fix = f"regenerate with `{settings.command}` and commit the result"
            raise RefusedError(f"{folder}: {lines}; {fix}")
        if requirements:
            raise RefusedError(requirements)
        console.ok(f"{folder}: {', '.join(expected)} match the config")
        return
    changed = ci_files.write(folder, expected)
    for change in changed:
        console.progress(f"{folder / change.file}: {'removed' if change.problem == 'stale' else 'written'}")
    console.ok(f"{folder}: {', '.join(expected)} " + ("updated" if changed else "already up to date"))
    if requirements:
        console.warn(requirements)
