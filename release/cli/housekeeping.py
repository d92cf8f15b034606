# SPDX-License-Identifier: Apache-2.0
"""invoke tasks that look after what was released: cleanup (svn) and withdraw."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli.support import (
    PROFILE_HELP,
    comma_list,
    connect_target,
    read_config,
    reports_errors,
    required_version,
    wave_date,
)
from release.errors import ReleaseError


@task(help={"remove": "remove exactly the folders the last `invoke cleanup` listed (one svn commit); "
                      "refused when a fresh listing differs. Without it, list them",
            "include": "comma-separated releases to remove although each is the newest of its line "
                       "(e.g. a withdrawn one); give it to the listing and to --remove alike",
            "profile": PROFILE_HELP,
            "train": "a train of [tool.release.trains]: its svn folders (flat: each distribution keeps its "
                     "newest version; a folder per release: as without --train, in each of its folders, "
                     "with the releases it withdrew; staging in ATR: nothing in svn to clean)"})
@reports_errors
def cleanup(c: Context, remove: bool = False, include: str = "", profile: str = "", train: str = ""
            ) -> None:
    """List old releases and finished candidates in svn (and write the listing); --remove removes it.

    Old: older than the newest release of their X.Y line, or withdrawn by their signed record;
    finished candidates: those of a released version or superseded by a newer rc. The newest
    release of a line stays unless named with --include. The ASF archive keeps every release.
    With --train: a flat train's folder, where each distribution keeps its newest version, or a
    versioned train's folders (core's and task-sdk/), each as without --train, the releases its
    waves withdrew listed too; a train staging in ATR has nothing in svn to clean (said)."""
    from release.pipeline import housekeeping
    from release.versions import parse_version

    if train:
        if include:
            raise ReleaseError(f"--include goes without --train {train}: a train's cleanup keeps the newest "
                               "release of each distribution and line")
        cleanup_train(train, remove=remove, profile=profile)
        return

    named = tuple(parse_version(v.strip()) for v in include.split(",") if v.strip())
    config = read_config(profile)
    target = connect_target(config)
    result = housekeeping.cleanup(config, target, remove=remove, named=named, say=console.progress)
    if not result.removals:
        console.ok("nothing to remove: svn holds only current releases and open candidates")
        return
    console.table("Removed from svn" if remove else "Would remove from svn", ["folder", "why"],
                  [(f"{r.area}/{config.name}/{r.name}", r.why) for r in result.removals])
    console.progress(f"dev/ is {target.svn_dev}, release/ is {target.svn_release}")
    if remove:
        console.ok(f"removed {len(result.urls)} folders in r{result.revision}")
    else:
        again = f" --include {include}" if named else ""
        console.ok(f"{len(result.urls)} folders would go (listing {result.digest[:16]}, written to "
                   f"dist/{housekeeping.CLEANUP_PLAN}); remove exactly these with: "
                   f"invoke cleanup --remove{again}")


@task(help={"version": "the released version to withdraw, e.g. 1.10.7",
            "reason": "why it is withdrawn (recorded, signed)",
            "dry-run": "show what would move; change nothing",
            "json": "with --dry-run and --train: print the plan as JSON on stdout",
            "sign-with": "the gpg key for the release record", "profile": PROFILE_HELP,
            "train": "a train of [tool.release.trains]: withdraw distributions of its published wave "
                     "(with --date); a versioned train's whole release",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)",
            "only": "with a flat --train: comma-separated distributions of the wave (names or ids); "
                    "default: all"})
@reports_errors
def withdraw(c: Context, version: str = "", reason: str = "", dry_run: bool = False, sign_with: str = "",
             profile: str = "", json: bool = False, train: str = "", date: str = "", only: str = "") -> None:
    """Withdraw a release: its aliases move back to the highest remaining release.

    The registry publishes `withdrawn-V` (no plan picks V again), the index is told where it can
    be (yank), and dist/<V>/release.json records the withdrawal, signed.
    With --train: wave.json records the withdrawal of the published wave's distributions (or those
    --only names; a versioned train's all together, its images as a single release's: `withdrawn-V`,
    the aliases moved back), a flat train's leave its flat release folder in one svn commit (a
    versioned train's release folders stay for cleanup --train to list; a wave in ATR: what to ask
    ATR's administrators for is said), and the index is told about each."""
    from release.pipeline import housekeeping
    from release.plan.release import TagAction
    from release.versions import parse_version

    if train:
        if version or sign_with:
            raise ReleaseError(f"--train {train} takes --date, --only and --reason: the wave's record says "
                               "what it released (--version and --sign-with are not for waves)")
        withdraw_wave(train, date=date, only=only, reason=reason, profile=profile, dry_run=dry_run, json=json)
        return
    if date or only or json:
        raise ReleaseError("--date, --only and --json go with --train NAME, a train of [tool.release.trains]")
    wanted = parse_version(required_version(version))
    if not reason.strip() and not dry_run:
        raise ReleaseError('--reason is required: say why the release is withdrawn, e.g. --reason "CVE-..."')
    config = read_config(profile)
    target = connect_target(config)
    if dry_run:
        plan = housekeeping.withdraw_plan(config, wanted, target)
        console.table(f"Withdrawing {wanted}", ["tag", "action", "gets the image of", "why"],
                      [(t.tag, t.action.value, t.source or "-", t.reason)
                       for t in (plan.marker, *(c for f in plan.families for c in f.changes))])
        return
    result = housekeeping.withdraw(config, wanted, target, reason=reason, key=sign_with, say=console.progress)
    console.table(f"Withdrawn {wanted}", ["alias", "now"], sorted(result.aliases.items()))
    moved = [e.tag for e in result.moved if e.action == TagAction.MOVE.value]
    console.ok(f"withdrew {wanted}: {result.marker.tag} published; moved back: "
               f"{', '.join(moved) if moved else 'nothing'}; record: {result.record}")


def withdraw_wave(train: str, *, date: str, only: str, reason: str, profile: str, dry_run: bool, json: bool
                  ) -> None:
    """`invoke withdraw --train NAME`: distributions of a published wave withdrawn."""
    from release.cli.show import show_command_plan
    from release.pipeline import trains, wave_withdraw

    if not reason.strip() and not dry_run:
        raise ReleaseError('--reason is required: say why the distributions are withdrawn, e.g. --reason '
                           '"CVE-..."')
    config = read_config(profile)
    chosen = trains.configured_train(config, train)
    if chosen is None:
        raise ReleaseError(f"--train {train}: no such train in [tool.release.trains]")
    day = wave_date(date)
    target = connect_target(config)
    if dry_run:
        show_command_plan(wave_withdraw.withdraw_wave_plan(config, chosen, date=day, only=comma_list(only),
                                                           reason=reason, target=target), json)
        return
    done = wave_withdraw.withdraw_wave(config, chosen, date=day, only=comma_list(only), reason=reason,
                                       target=target, say=console.progress)
    withdrawal = done.withdrawal
    names = ", ".join(f"{d.name} {d.version}" for d in withdrawal.distributions)
    if done.revision:
        where = f"{len(done.removed)} files removed from svn in r{done.revision}"
    elif withdrawal.folders:
        where = f"its release folders stay until invoke cleanup --train {train} lists them"
    elif withdrawal.by_hand:
        where = "ATR keeps their files (by hand, as said above)"
    else:
        where = "svn holds none of their files"
    if withdrawal.images:
        console.table(f"Withdrawn {withdrawal.images}'s images", ["alias", "now"],
                      sorted(done.aliases.items()))
        where += f"; withdrawn-{withdrawal.images} on its image, its aliases as above"
    console.ok(f"withdrew from the {train} wave of {day}: {names}; {where}; recorded in {done.record}")


def cleanup_train(train: str, *, remove: bool, profile: str) -> None:
    """`invoke cleanup --train NAME`: the old files of a flat train's svn folder, the old release and
    candidate folders of a versioned train's."""
    from release.pipeline import trains

    config = read_config(profile)
    chosen = trains.configured_train(config, train)
    if chosen is None:
        raise ReleaseError(f"--train {train}: no such train in [tool.release.trains]")
    result = trains.cleanup_train(config, chosen, target=connect_target(config), remove=remove,
                                  say=console.progress)
    if result.nothing:
        console.ok(result.nothing)
        return
    if not result.removals:
        console.ok(f"nothing to remove: the {train} train's folders hold only current files")
        return
    what = result.kind  # files, or a versioned train's folders
    console.table("Removed from svn" if remove else "Would remove from svn", [what.removesuffix("s"), "why"],
                  [(f"{r.area}/{config.name}/{r.name}", r.why) for r in result.removals])
    if remove:
        console.ok(f"removed {len(result.urls)} {what} in r{result.revision}")
    else:
        console.ok(f"{len(result.urls)} {what} would go (listing {result.digest[:16]}, written to "
                   f"{result.listing}); remove exactly these with: invoke cleanup --train {train} --remove")
