# SPDX-License-Identifier: Apache-2.0
"""The invoke collection: `invoke release`, `invoke publish`, the vote, image, CI and sandbox tasks."""

from __future__ import annotations

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli import ci as ci_tasks
from release.cli import housekeeping, show
from release.cli import images as image_tasks
from release.cli import vote as vote_tasks
from release.cli.init import init
from release.cli.sandbox import sandbox_tasks
from release.cli.support import (
    PLATFORM_HELP,
    PROFILE_HELP,
    VERSION_HELP,
    connect_target,
    options_for,
    read_config,
    reports_errors,
    required_version,
)
from release.errors import ReleaseError
from release.pipeline import images as image_jobs
from release.pipeline import release as pipeline
from release.pipeline.connect import clients_for
from release.plan.release import Mode
from release.versions import parse_version


@task(
    help={
        "version": VERSION_HELP,
        "dry-run": "show the plan (steps, files, uploads, tags, what would move); reads only, starts nothing",
        "json": "print the plan (or the release report) as JSON on stdout",
        "profile": PROFILE_HELP,
        "python": "comma-separated flavours (default: all); aliases move only for a full release",
        "platform": PLATFORM_HELP,
        "jobs": "how many images to build at once (default 0: as many as the machine has room for)",
        "sign-with": "the gpg key to sign with, instead of [tool.release] signing-key",
        "force": "comma-separated immutable tags you deliberately allow to be overwritten",
        "allow-dirty": "build even though tracked files have uncommitted changes",
    }
)
@reports_errors
def release(
    c: Context, version: str = "", dry_run: bool = False, json: bool = False, profile: str = "",
    python: str = "", jobs: int = 0, sign_with: str = "", force: str = "", allow_dirty: bool = False,
    platform: str = "",
) -> None:
    """Build, sign, stage, build images, smoke, publish and alias one release."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    options = options_for(config, python, jobs, sign_with, force, allow_dirty, platform)
    found = pipeline.declared_version(config)
    if dry_run:
        plan = pipeline.dry_run_plan(config, wanted, options, declared=found)
        if json:
            console.print_json(plan.to_json())
        else:
            show.show_plan(plan)
        return
    target = connect_target(config, options.flavours, options.platforms)
    clients = clients_for(target, progress=console.progress)
    plan = pipeline.make_plan(config, wanted, target, options, declared=found, clients=clients)
    report = pipeline.execute(plan, config, target, options, announce=console.step, say=console.progress,
                              clients=clients)
    show.show_report(report, json)


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP, "json": "print the report as JSON",
            "python": "the flavours to publish (default: all): built from the voted wheels after a "
                      "promotion, else those whose version tags the image jobs pushed",
            "jobs": "how many images to build at once after a promotion (default 0: as the machine has room)",
            "sign-with": "the gpg key for the release record", "force": "immutable tags to overwrite",
            "master": "join master image jobs instead: move master once every master-pythonP holds HEAD",
            "dry-run": "show the plan (steps, files, uploads, tags, what would move); reads only"})
@reports_errors
def publish(c: Context, version: str = "", profile: str = "", json: bool = False, python: str = "",
            jobs: int = 0, sign_with: str = "", force: str = "", master: bool = False, dry_run: bool = False
            ) -> None:
    """Publish what was promoted from a vote, or join image jobs run elsewhere; then move aliases.

    After `invoke promote`: images from the voted wheels, the voted svn bytes to the index.
    Otherwise: read the digests image jobs pushed (with several platforms, put each flavour's index
    over its platforms' images), upload the packages built and signed here.
    With --master: join master image jobs (move `master`)."""
    if master:
        if version:
            raise ReleaseError("give either --version V (join a release) or --master, not both")
        if dry_run:
            raise ReleaseError("--dry-run goes with --version: the master join moves only master")
        config = read_config(profile)
        tags = image_jobs.join_master(config, connect_target(config), say=console.progress)
        console.ok(f"master build joined: {', '.join(tags)}")
        return
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    options = options_for(config, python, jobs, sign_with, force)
    mode = pipeline.publish_mode(config, wanted)
    if dry_run:
        plan = pipeline.dry_run_plan(config, wanted, options, mode=mode)
        if json:
            console.print_json(plan.to_json())
        else:
            show.show_plan(plan)
        return
    target = connect_target(config, options.flavours if mode is Mode.PROMOTED else ())
    clients = clients_for(target, progress=console.progress)
    plan = pipeline.make_plan(config, wanted, target, options, mode=mode, clients=clients)
    report = pipeline.execute(plan, config, target, options, announce=console.step, say=console.progress,
                              clients=clients)
    show.show_report(report, json)


ns = Collection(
    release, publish, vote_tasks.build, vote_tasks.sign, vote_tasks.stage, vote_tasks.verify,
    vote_tasks.vote_result, vote_tasks.promote, vote_tasks.constraints, vote_tasks.announce,
    housekeeping.cleanup, housekeeping.withdraw, image_tasks.images, image_tasks.smoke, image_tasks.refresh,
    ci_tasks.ci, init,
)
ns.add_collection(sandbox_tasks)
