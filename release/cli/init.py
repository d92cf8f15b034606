# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline init`: plan what to write into the project (release/pipeline/init.py), write it
(or show it with --dry-run), and say what is left to decide."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli.support import project_root, reports_errors
from release.errors import ConfigError

if TYPE_CHECKING:
    from release.plan.init import InitPlan


def show_init(plan: InitPlan, *, dry_run: bool) -> None:
    for line in plan.found:
        console.markup(f"[cyan]found:[/cyan] {console.escape(line)}")
    for write in plan.writes:
        if dry_run:
            added = plan.table if write.path == "pyproject.toml" else write.text
            sys.stdout.write(f"--- {write.path} ({write.action}: {write.what})\n{added}\n")
        else:
            console.ok(f"{write.path}: {write.what} ({write.action})")
    console.markup("[bold]left to decide:[/bold]")
    for line in plan.decide:
        console.markup(f"  - {console.escape(line)}")


@task(help={
    "dry-run": "print what init would write; write nothing",
    "force": "replace an existing [tool.release] (the other tables stay as they are)",
    "registry": "'sandbox' (the local sandbox; default) or host[:port] of the registry the images go to",
    "vote": "'none' (default: the release manager releases) or 'asf' (a PMC votes on each candidate)",
})
@reports_errors
def init(c: Context, dry_run: bool = False, force: bool = False, registry: str = "", vote: str = "") -> None:
    """Write a starting [tool.release], a tasks.py and .gitignore lines into this project."""
    from release.config import NO_VOTE, SANDBOX, VOTE_POLICIES
    from release.pipeline.init import plan_project_init, write_init

    registry, vote = registry or SANDBOX, vote or NO_VOTE
    if vote not in VOTE_POLICIES:
        raise ConfigError(f"--vote {vote}: choose one of {', '.join(VOTE_POLICIES)}")
    root = project_root()
    plan = plan_project_init(root, registry=registry, vote=vote, force=force)
    if not dry_run:
        write_init(root, plan)
    show_init(plan, dry_run=dry_run)
