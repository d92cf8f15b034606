# SPDX-License-Identifier: Apache-2.0
"""The invoke collection `ns`: `invoke release`, `invoke publish`, the vote, image, CI and sandbox tasks.

The task modules import at module level only invoke, the console, the errors and each other: each
task imports the pipeline, plans and rules it runs in its own body. `--help`, `--version`,
`TASK --help` and `invoke --list` then load none of the clients, the SBOM tools or the plans
(tests/integration/test_startup.py names what they must not load).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli import ci as ci_tasks
from release.cli import housekeeping
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
from release.errors import PreflightError, ReleaseError

if TYPE_CHECKING:
    from release.config import ReleaseConfig


@task(
    help={
        "version": VERSION_HELP,
        "dry-run": "show the plan (steps, files, uploads, tags, what would move) and every problem a "
                   "real run would refuse (exit 6 if any); reads only, starts nothing",
        "json": "print the plan (or the release report) as JSON on stdout",
        "profile": PROFILE_HELP,
        "python": "comma-separated flavours (default: all); aliases move only for a full release",
        "platform": PLATFORM_HELP,
        "jobs": "how many images to build at once (default 0: as many as the machine has room for)",
        "sign-with": "the gpg key to sign with, instead of [tool.release] signing-key",
        "force": "comma-separated immutable tags you deliberately allow to be overwritten",
        "allow-dirty": "build even though tracked files have uncommitted changes",
        "restart": "HEAD moved since dist/<V>/ was built and nothing of it is published: move that build "
                   "aside and release HEAD instead",
        "train": "a train of [tool.release.trains]: plan its wave from git (each distribution at the version "
                 "its tree declares); without trains, the release's own name runs the release as without it",
        "only": "with --train: comma-separated distributions (names or ids) to take, changed or not",
        "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)",
    }
)
@reports_errors
def release(
    c: Context, version: str = "", dry_run: bool = False, json: bool = False, profile: str = "",
    python: str = "", jobs: int = 0, sign_with: str = "", force: str = "", allow_dirty: bool = False,
    platform: str = "", train: str = "", only: str = "", date: str = "", restart: bool = False,
) -> None:
    """Build, sign, stage, build images, smoke, publish and alias one release (or a train's wave)."""
    from release.cli import show

    config = read_config(profile) if train else None
    if config is not None:
        from release.pipeline import trains

        if trains.configured_train(config, train) is not None:
            release_wave(config, train, version=version, dry_run=dry_run, json=json, sign_with=sign_with,
                         only=only, date=date)
            return
    if only or date:
        raise ReleaseError("--only and --date go with --train NAME, a train of [tool.release.trains]")

    from release.pipeline import release as pipeline
    from release.pipeline.connect import clients_for
    from release.plan.release import Mode
    from release.versions import parse_version

    wanted = parse_version(required_version(version))
    config = config or read_config(profile)
    options = dataclasses.replace(options_for(config, python, jobs, sign_with, force, allow_dirty, platform),
                                  restart=restart)
    found = pipeline.declared_version(config)
    if dry_run:
        plan, problems = pipeline.dry_run(config, wanted, options, declared=found)
        if json:
            console.print_json({**plan.to_json(), "problems": [p.to_json() for p in problems]})
        else:
            show.show_plan(plan)
        show.show_problems(problems)
        if problems:
            many = "s" if len(problems) > 1 else ""
            raise PreflightError(f"the dry run found {len(problems)} problem{many} a real run of {wanted} "
                                 "would refuse (above); fix them and run it again")
        return
    if restart:
        pipeline.start_over(config, wanted, console.progress)
    pipeline.check_vote_policy(config, wanted, Mode.RELEASE)  # before any service is started
    pipeline.check_one_commit(config, wanted, allow_dirty=allow_dirty)
    target = connect_target(config, options.flavours, options.platforms)
    clients = clients_for(target, progress=console.progress)
    plan = pipeline.make_plan(config, wanted, target, options, declared=found, clients=clients)
    report = pipeline.execute(plan, config, target, options, announce=console.step, say=console.progress,
                              clients=clients)
    show.show_report(report, json)


def release_wave(config: ReleaseConfig, name: str, *, version: str, dry_run: bool, json: bool,
                 sign_with: str, only: str, date: str) -> None:
    """`invoke release --train NAME`: the wave's dry run, or its run as far as it is carried out."""
    from release.cli import show
    from release.cli.support import comma_list, wave_date
    from release.config import check_signing_key
    from release.pipeline import trains
    from release.pipeline.connect import clients_for

    train = trains.configured_train(config, name)
    assert train is not None  # the task chose this path for a configured train
    if version:
        raise ReleaseError(f"--version goes without --train {train.name}: each distribution of the wave is "
                           "released at the version its tree declares")
    wave = trains.plan_train(config, train, date=wave_date(date), only=comma_list(only))
    if dry_run:
        show.show_wave(wave, project=config.name, as_json=json)
        return
    if sign_with:
        check_signing_key(sign_with, "--sign-with")
    trains.check_can_run(config, wave)
    target = connect_target(config, config.python if wave.plan.images else ())  # the images' base images
    clients = clients_for(target, progress=console.progress)
    done = trains.run_wave(config, wave, target, announce=console.step, say=console.progress, key=sign_with,
                           index=clients.index, atr=clients.atr if config.stages_in_atr(train) else None,
                           clients=clients)
    if json:
        console.print_json(trains.run_to_json(wave, done))
        return
    on_index = f"; the rc-numbered packages are on {done.on_index.index}" if done.on_index else ""
    constraints = (f"; constraints: {done.constraints.tag} on {done.constraints.branch}" if done.constraints
                   else "")
    console.ok(f"staged the {train.name} wave of {wave.plan.date} in {', '.join(done.staged)}: "
               f"{'; '.join(wave.plan.vote_lines)}; tagged {', '.join(done.tags) or 'nothing new'}{on_index}"
               f"{constraints}")


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP, "json": "print the report as JSON",
            "python": "the flavours to publish (default: all): built from the voted wheels after a "
                      "promotion, else those whose version tags the image jobs pushed",
            "jobs": "how many images to build at once after a promotion (default 0: as the machine has room)",
            "sign-with": "the gpg key for the release record", "force": "immutable tags to overwrite",
            "master": "join master image jobs instead: move master once every master-pythonP holds HEAD",
            "dry-run": "show the plan (steps, files, uploads, tags, what would move); reads only",
            "train": "a train of [tool.release.trains]: upload its promoted wave's packages (with --date)",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)"})
@reports_errors
def publish(c: Context, version: str = "", profile: str = "", json: bool = False, python: str = "",
            jobs: int = 0, sign_with: str = "", force: str = "", master: bool = False, dry_run: bool = False,
            train: str = "", date: str = "") -> None:
    """Publish what was promoted from a vote, or join image jobs run elsewhere; then move aliases.

    After `invoke promote`: images from the voted wheels, the voted svn bytes to the index. A final
    of a voting project promoted on another machine (CI): the voted files taken from svn release/,
    checked against KEYS and their checksums, on a checkout of the final's tag.
    Otherwise: read the digests image jobs pushed (with several platforms, put each flavour's index
    over its platforms' images), upload the packages built and signed here.
    With --master: join master image jobs (move `master`). With --train: the promoted wave's packages
    to the index."""
    from release.cli import show
    from release.pipeline import images as image_jobs
    from release.pipeline import release as pipeline
    from release.pipeline.connect import clients_for
    from release.plan.release import Mode
    from release.versions import parse_version

    if train:
        if master or python or jobs or sign_with or force:
            raise ReleaseError(f"--train {train} takes --date or a versioned train's final --version (and "
                               "--dry-run, --json) only: the promoted wave says what is uploaded")
        publish_wave(read_config(profile), train, date, final=version, dry_run=dry_run, json=json)
        return
    if date:
        raise ReleaseError("--date goes with --train NAME, a train of [tool.release.trains]")
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
    pipeline.check_vote_policy(config, wanted, mode)
    if mode in (Mode.PROMOTED, Mode.FROM_RELEASE):  # the voted files' images come from the candidate's commit
        pipeline.check_one_commit(config, wanted)
    target = connect_target(config, options.flavours if mode in (Mode.PROMOTED, Mode.FROM_RELEASE) else ())
    clients = clients_for(target, progress=console.progress)
    plan = pipeline.make_plan(config, wanted, target, options, mode=mode, clients=clients)
    report = pipeline.execute(plan, config, target, options, announce=console.step, say=console.progress,
                              clients=clients)
    show.show_report(report, json)


def publish_wave(config: ReleaseConfig, name: str, date: str, *, final: str, dry_run: bool, json: bool
                 ) -> None:
    """`invoke publish --train NAME`: the promoted wave's sdists and wheels to the index. Where it was
    not promoted (no wave.json, or a versioned train's `final` named): read from svn release."""
    from release.cli.show import show_command_plan
    from release.cli.support import wave_date
    from release.pipeline import trains, wave_released
    from release.pipeline.connect import clients_for

    chosen = trains.configured_train(config, name)
    if chosen is None:
        raise ReleaseError(f"--train {name}: no such train in [tool.release.trains]")
    day = wave_date(date)
    if wave_released.is_promoted_elsewhere(config, chosen, day, final):
        target = connect_target(config)
        if dry_run:
            show_command_plan(wave_released.publish_released_plan(config, chosen, date=day, final=final,
                                                                  target=target), json)
            return
        clients = clients_for(target, progress=console.progress)
        released = wave_released.publish_released(config, chosen, date=day, final=final, target=target,
                                                  index=clients.index, say=console.progress, clients=clients)
        console.ok(f"the {name} wave of {final or day} is on {released.index}: {len(released.uploaded)} "
                   f"files uploaded, {len(released.kept)} there already (the {released.files} promoted files "
                   f"read from svn release and checked, tagged on {released.commit[:12]})"
                   + (f"; images tagged {', '.join(released.images)}" if released.images else ""))
        return
    if dry_run:
        index = connect_target(config).index_upload
        show_command_plan(trains.publish_wave_plan(config, chosen, date=day, index=index), json)
        return
    trains.check_can_promote(config, chosen, day)  # before any service is reached
    if config.stages_in_atr(chosen):
        trains.check_can_finish_in_atr(chosen)
    target = connect_target(config)
    clients = clients_for(target, progress=console.progress)
    atr = clients.atr if config.stages_in_atr(chosen) else None
    done = trains.publish_wave(config, chosen, date=day, target=target, index=clients.index,
                               say=console.progress, atr=atr, clients=clients)
    console.ok(f"the {name} wave of {day} is on {done.index}: {len(done.uploaded)} files uploaded, "
               f"{len(done.kept)} there already"
               + (f"; images tagged {', '.join(done.images)}" if done.images else ""))


ns = Collection(
    release, publish, vote_tasks.build, vote_tasks.sign, vote_tasks.stage, vote_tasks.verify,
    vote_tasks.vote_result, vote_tasks.promote, vote_tasks.constraints, vote_tasks.announce,
    housekeeping.cleanup, housekeeping.withdraw, image_tasks.images, image_tasks.smoke, image_tasks.refresh,
    ci_tasks.ci, init,
)
ns.add_collection(sandbox_tasks)
