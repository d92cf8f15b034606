"""The invoke collection: `invoke release`, `invoke sandbox.up`, ... Arguments in, library calls out."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task
from invoke.exceptions import Exit

from release import console, sandbox
from release.config import ReleaseConfig, load_config
from release.errors import ReleaseError
from release.versions import parse_version

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a ReleaseError into one red line and its exit code, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReleaseError as exc:
            console.error(str(exc))
            raise Exit(code=exc.exit_code) from None
        except KeyboardInterrupt:
            console.error("interrupted; rerun the same command to resume")
            raise Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def project_root() -> Path:
    return Path(os.environ.get("RELEASE_ROOT", Path.cwd())).resolve()


def read_config(profile: str = "") -> ReleaseConfig:
    root = project_root()
    return load_config(root, profile=Path(profile).resolve() if profile else None)


def required_version(version: str) -> str:
    if not version:
        raise ReleaseError("--version is required, e.g. --version 1.10.6")
    return version


def flavours_of(config: ReleaseConfig, python: str) -> tuple[str, ...]:
    if not python:
        return config.python
    wanted = tuple(p.strip() for p in python.split(",") if p.strip())
    unknown = [p for p in wanted if p not in config.python]
    if unknown:
        raise ReleaseError(f"--python {unknown[0]} is not a configured flavour ({', '.join(config.python)})")
    return wanted


@task(
    help={
        "version": "the PEP 440 version to release, e.g. 1.10.6 or 1.10.6rc1",
        "dry-run": "show the steps, artefacts, tags and what would move; change nothing",
        "json": "print the plan (or the report) as JSON on stdout",
        "profile": "a pyproject-like file with [tool.release] (default: ./pyproject.toml)",
    }
)
@reports_errors
def release(
    c: Context, version: str = "", dry_run: bool = False, json: bool = False, profile: str = ""
) -> None:
    """Build, sign, stage, build images, smoke, publish and alias one release."""
    from release import dryrun
    from release.declared import find_declared_version
    from release.target import connect

    wanted = parse_version(required_version(version))
    config = read_config(profile)
    if dry_run:
        target = connect(config, progress=console.progress)
        plan = dryrun.compute_plan(config, wanted, target, declared=find_declared_version(config.root))
        if json:
            console.print_json(plan.to_json())
        else:
            dryrun.show_plan(plan)
        return
    raise ReleaseError("a real release run needs the build and image steps; use --dry-run for now")


@task(help={"python": "comma-separated flavours to prepare base images for (default: all configured)"})
@reports_errors
def sandbox_up(c: Context, python: str = "", profile: str = "") -> None:
    """Start the local sandbox: engine, registry, package index, svn, gpg key, base images."""
    config = read_config(profile)
    services = sandbox.up(config.root, name=config.name, flavours=flavours_of(config, python),
                          progress=console.progress)
    console.ok(f"registry {services.registry}, index {services.index_url}, svn {services.svn_url}")


@task(help={"json": "print the status as JSON on stdout"})
@reports_errors
def sandbox_status(c: Context, json: bool = False) -> None:
    """Show whether each sandbox service is running and answering."""
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
def sandbox_down(c: Context) -> None:
    """Stop the sandbox services this project started; data and ports are kept."""
    sandbox.down(project_root())
    console.ok("sandbox stopped")


sandbox_tasks = Collection("sandbox", up=sandbox_up, status=sandbox_status, down=sandbox_down)

ns = Collection(release)
ns.add_collection(sandbox_tasks)
