# SPDX-License-Identifier: Apache-2.0
"""invoke tasks for the local sandbox: sandbox.up, sandbox.status, sandbox.down."""

from __future__ import annotations

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli.support import flavours_of, project_root, read_config, reports_errors


@task(help={"python": "comma-separated flavours to prepare base images for (default: all configured)"})
@reports_errors
def up(c: Context, python: str = "", profile: str = "") -> None:
    """Start the local sandbox: engine, registry, package index, svn, gpg key, base images (and ATR,
    when the config stages there: `staging = "atr"`, `atr = "sandbox"`)."""
    from release import sandbox

    config = read_config(profile)
    services = sandbox.up(config.root, name=config.name, flavours=flavours_of(config, python),
                          progress=console.progress, atr=config.atr_in_sandbox)
    extra = f", ATR {services.atr.url}" if services.atr is not None else ""
    console.ok(f"registry {services.registry}, index {services.index_url}, svn {services.svn_url}{extra}")


@task(help={"json": "print the status as JSON on stdout"})
@reports_errors
def status(c: Context, json: bool = False) -> None:
    """Show whether each sandbox service is running and answering."""
    from release import sandbox

    status = sandbox.status(project_root())
    if json:
        console.print_json(status)
        return
    rows = []
    for name, info in status.items():
        if isinstance(info, dict):
            detail = ", ".join(f"{k}={v}" for k, v in info.items() if not isinstance(v, (dict, list)))
            rows.append((name, detail))
        else:
            rows.append((name, str(info)))
    console.table("Sandbox", ["service", "state"], rows)


@task
@reports_errors
def down(c: Context) -> None:
    """Stop the sandbox services this project started (ATR and its workers too); data and ports are
    kept."""
    from release import sandbox

    sandbox.down(project_root())
    console.ok("sandbox stopped")


sandbox_tasks = Collection("sandbox", up=up, status=status, down=down)
