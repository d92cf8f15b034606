# SPDX-License-Identifier: Apache-2.0
"""invoke tasks for images: images (a release's or the master build), smoke, refresh."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli.support import (
    PLATFORM_HELP,
    PROFILE_HELP,
    connect_target,
    flavours_of,
    platforms_of,
    read_config,
    reports_errors,
    wave_date,
)
from release.errors import RefusedError, ReleaseError

if TYPE_CHECKING:
    from release.pipeline.images import ImageResult, SmokeReport
    from release.pipeline.refresh import RefreshReport

IMAGE_HELP = {
    "version": "the release whose images to build (its wheel from dist/<V>/, built first if missing)",
    "master": "the master build: the wheel of HEAD, master-pythonP; master too when every flavour is built",
    "python": "comma-separated flavours (default: all configured); one per CI runner works",
    "platform": PLATFORM_HELP.split(";")[0] + "; one per CI runner works",
    "jobs": "how many images to build at once (default 0: as many as the machine has room for)",
    "push": "push the images (version tags, or the master tags); default: build and smoke only",
    "dry-run": "show the images that would be built, smoked (and pushed); reads only, starts nothing",
    "json": "with --dry-run: print the plan as JSON on stdout",
    "profile": PROFILE_HELP,
}


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.0f} MB" if size else "-"


def show_images(results: Sequence[ImageResult], reports: Sequence[SmokeReport]) -> None:
    smoked = {r.ref: ("ok" if r.ok else "FAILED") for r in reports}
    console.table(
        "Images", ["python", "variant", "platform", "image", "status", "size", "seconds", "smoke", "digest"],
        [(r.image.flavour, r.image.variant or "-", r.platform or "-", r.ref, r.status, _megabytes(r.size),
          f"{r.seconds:.1f}", smoked.get(r.ref, "-"), (r.digest or "-")[:19]) for r in results],
    )


def _run_images(version: str, master: bool, python: str, jobs: int, push: bool, profile: str,
                platform: str = "", dry_run: bool = False, json: bool = False) -> None:
    from release.cli.show import show_command_plan
    from release.pipeline import images as image_jobs
    from release.versions import parse_version

    if master == bool(version):
        raise ReleaseError("give either --version V (a release's images) or --master")
    if jobs < 0:
        raise ReleaseError(f"--jobs {jobs}: give 1 or more, or 0 for as many as the machine has room for")
    config = read_config(profile)
    flavours = flavours_of(config, python)
    chosen = platforms_of(config, platform)
    if dry_run:
        plan = image_jobs.images_plan(config, None if master else parse_version(version), flavours=flavours,
                                      platforms=chosen, push=push)
        show_command_plan(plan, json)
        return
    if push and not master and (unvoted := image_jobs.pushes_unvoted(config, parse_version(version))):
        raise RefusedError(unvoted)  # before any service is started
    if not master:  # a release's images come from the commit its packages were built from
        from release.pipeline.release import check_one_commit

        check_one_commit(config, parse_version(version))
    target = connect_target(config, flavours, chosen)
    if master:
        results, reports, tags = image_jobs.master_images(config, target, flavours=flavours, jobs=jobs,
                                                         push=push, say=console.progress, platforms=chosen)
        show_images(results, reports)
        if tags:
            console.ok(f"master build pushed: {', '.join(tags)}")
        if push and not tags:
            console.ok("master moves with: invoke publish --master (once every flavour and platform is in)")
        return
    wanted = parse_version(version)
    results, reports = image_jobs.release_images(config, wanted, target, flavours=flavours, jobs=jobs,
                                                 push=push, say=console.progress, platforms=chosen)
    show_images(results, reports)
    if push:
        what = "platform tags" if config.multi_platform else "version tags"
        joined = "indexes, version tags and aliases" if config.multi_platform else "aliases"
        console.ok(f"pushed {what} of {wanted}; {joined} with: invoke publish --version {wanted}")


@task(help=IMAGE_HELP)
@reports_errors
def images(c: Context, version: str = "", master: bool = False, python: str = "", jobs: int = 0,
           push: bool = False, profile: str = "", platform: str = "", dry_run: bool = False,
           json: bool = False) -> None:
    """Build one production image per Python flavour (and platform), smoke every one, push when asked."""
    _run_images(version, master, python, jobs, push, profile, platform, dry_run, json)


@task(help={k: v for k, v in IMAGE_HELP.items() if k not in {"push", "dry-run", "json"}})
@reports_errors
def smoke(c: Context, version: str = "", master: bool = False, python: str = "", jobs: int = 0,
          profile: str = "", platform: str = "") -> None:
    """Build and smoke-test the images locally; nothing is pushed (what contributors run)."""
    _run_images(version, master or not version, python, jobs, False, profile, platform)


@task(help={"dry-run": "only report which images have a stale base (with --train: the plan)",
            "profile": PROFILE_HELP,
            "train": "a versioned train of [tool.release.trains] with images: refresh its wave's published "
                     "images (with --date or --version)",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)",
            "version": "with --train: the released version whose images to refresh (its wave found in "
                       "dist/)",
            "json": "with --dry-run and --train: print the plan as JSON on stdout"})
@reports_errors
def refresh(c: Context, dry_run: bool = False, profile: str = "", train: str = "", date: str = "",
            version: str = "", json: bool = False) -> None:
    """Rebuild, smoke and re-push images whose base image changed, under the same tags."""
    from release.pipeline.refresh import refresh as refresh_stale

    if train:
        refresh_train(train, date=date, version=version, dry_run=dry_run, json=json, profile=profile)
        return
    if date or version or json:
        raise ReleaseError("--date, --version and --json go with --train NAME, a train of "
                           "[tool.release.trains]")
    config = read_config(profile)
    target = connect_target(config, config.python)
    report = refresh_stale(config, target, dry_run=dry_run, say=console.progress)
    show_refresh(report)


def show_refresh(report: RefreshReport) -> None:
    if report.nothing_to_do:
        console.ok("nothing to do: every image's base is current")
        return
    console.table("Refresh", ["tag", "status", "old -> new image"],
                  [(i.tag, i.status, f"{(i.old_digest or '-')[:19]} -> {(i.new_digest or '-')[:19]}")
                   for i in report.items])


def refresh_train(train: str, *, date: str, version: str, dry_run: bool, json: bool, profile: str) -> None:
    """`invoke refresh --train NAME`: the published images of one of its waves."""
    from release.cli.show import show_command_plan
    from release.pipeline import trains, wave_refresh

    if date and version:
        raise ReleaseError("give --date D or --version V, not both: each names the wave")
    config = read_config(profile)
    chosen = trains.configured_train(config, train)
    if chosen is None:
        raise ReleaseError(f"--train {train}: no such train in [tool.release.trains]")
    day = wave_refresh.wave_of_version(config, chosen, version) if version else wave_date(date)
    target = connect_target(config)  # no flavours: the sandbox's bases are observed as they are, not reset
    if dry_run:
        show_command_plan(wave_refresh.refresh_wave_plan(config, chosen, date=day, target=target), json)
        return
    done = wave_refresh.refresh_wave(config, chosen, date=day, target=target, say=console.progress)
    show_refresh(done.report)
    if done.report.changed:
        console.ok(f"refreshed {', '.join(i.tag for i in done.report.changed)} of the {train} wave of {day}; "
                   f"recorded in {done.record}")
