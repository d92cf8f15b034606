# SPDX-License-Identifier: Apache-2.0
"""invoke tasks of the PMC vote workflow: build, sign, stage, verify, vote-result, promote, announce."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli.support import (
    PROFILE_HELP,
    VERSION_HELP,
    comma_list,
    connect_target,
    read_config,
    reports_errors,
    required_version,
    wave_date,
)
from release.errors import ReleaseError, VerificationError

if TYPE_CHECKING:
    from release.votes import Tally

DRY_RUN = "show what the command would change, and why it would refuse; changes nothing"
JSON = "with --dry-run: print the plan as JSON on stdout"


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP,
            "allow-dirty": "build even though tracked files have uncommitted changes",
            "allow-version-mismatch": "build although the tree declares another version",
            "dry-run": DRY_RUN, "json": JSON,
            "train": "a train of [tool.release.trains]: build its wave (the distributions changed since "
                     "their last release, each at the version its tree declares) into dist/<train>-<date>/",
            "only": "with --train: comma-separated distributions (names or ids) to take, changed or not",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)"})
@reports_errors
def build(c: Context, version: str = "", profile: str = "", allow_dirty: bool = False,
          allow_version_mismatch: bool = False, dry_run: bool = False, json: bool = False, train: str = "",
          only: str = "", date: str = "") -> None:
    """Build sdist, wheel and source tarball reproducibly into dist/<version>/; twine check them."""
    from release.cli.show import show_command_plan
    from release.pipeline import vote as pipeline
    from release.versions import parse_version

    config = read_config(profile) if train else None
    if config is not None:
        from release.cli.show import show_wave
        from release.pipeline import trains

        chosen = trains.configured_train(config, train)
        if chosen is not None:
            if version:
                raise ReleaseError(f"--version goes without --train {train}: each distribution of the wave "
                                   "is built at the version its tree declares")
            wave = trains.plan_train(config, chosen, date=wave_date(date), only=comma_list(only))
            if dry_run:
                show_wave(wave, project=config.name, as_json=json)
                return
            built = trains.build_wave(config, wave, say=console.progress)
            console.table("Built", ["file", "sha512"], [(path, sha512[:32] + "...") for path, sha512 in
                                                        sorted(built.files.items())])
            return
    if only or date:
        raise ReleaseError("--only and --date go with --train NAME, a train of [tool.release.trains]")
    wanted = parse_version(required_version(version))
    config = config or read_config(profile)
    if dry_run:
        show_command_plan(pipeline.build_plan(config, wanted), json)
        return
    result = pipeline.build(config, wanted, allow_dirty=allow_dirty,
                            allow_version_mismatch=allow_version_mismatch, say=console.progress)
    console.table("Built", ["file", "sha512"],
                  [(path, sha512[:32] + "...") for path, sha512 in pipeline.built_files(result)])


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP,
            "sign-with": "the gpg key to sign with, instead of [tool.release] signing-key",
            "dry-run": DRY_RUN, "json": JSON})
@reports_errors
def sign(c: Context, version: str = "", profile: str = "", sign_with: str = "", dry_run: bool = False,
         json: bool = False) -> None:
    """Write X.asc and X.sha512 for every file of dist/<version>/ with a key listed in KEYS."""
    from release.cli.show import show_command_plan
    from release.config import check_signing_key
    from release.pipeline import vote as pipeline
    from release.versions import parse_version

    wanted = parse_version(required_version(version))
    config = read_config(profile)
    if sign_with:
        check_signing_key(sign_with, "--sign-with")
    if dry_run:
        show_command_plan(pipeline.sign_plan(config, wanted, key=sign_with), json)
        return
    result = pipeline.sign(config, wanted, connect_target(config), key=sign_with, say=console.progress)
    console.ok(f"{len(result.signed)} files signed with {result.fingerprint}")


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP, "dry-run": DRY_RUN, "json": JSON})
@reports_errors
def constraints(c: Context, version: str = "", profile: str = "", dry_run: bool = False, json: bool = False
                ) -> None:
    """Commit the constraints files a release recorded (dist/<V>/constraints/, signed) to svn."""
    from release.cli.show import show_command_plan
    from release.pipeline import vote as pipeline
    from release.pipeline.release import check_constraints_go_to_svn
    from release.versions import parse_version

    wanted = parse_version(required_version(version))
    config = read_config(profile)
    if not dry_run:
        check_constraints_go_to_svn(config, wanted)  # before the sandbox is started
    target = connect_target(config)
    if dry_run:
        show_command_plan(pipeline.constraints_plan(config, wanted, target), json)
        return
    url = pipeline.constraints(config, wanted, target, say=console.progress)
    console.ok(f"constraints of {wanted} published in {url}")


@task(help={"version": "the release candidate, e.g. 1.10.6rc1", "profile": PROFILE_HELP, "dry-run": DRY_RUN,
            "json": JSON})
@reports_errors
def stage(c: Context, version: str = "", profile: str = "", dry_run: bool = False, json: bool = False
          ) -> None:
    """Commit a signed candidate to svn dev/ and render its email: the [VOTE], or a call to test it.
    With staging = "atr": upload it to ATR as a revision, wait for ATR's checks, start the vote there."""
    from release.cli.show import show_command_plan
    from release.pipeline import vote as pipeline
    from release.versions import parse_version

    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    if dry_run:
        show_command_plan(pipeline.stage_plan(config, wanted, target), json)
        return
    result = pipeline.stage(config, wanted, target, say=console.progress)
    console.ok(f"staged {result.url}; email: {result.email}")


@task(help={"version": "the release candidate, e.g. 1.10.6rc1 (with --published: any release)",
            "profile": PROFILE_HELP,
            "no-rebuild": "skip rebuilding from the tag (signatures and checksums only)",
            "no-images": "skip the candidate's images (wheel, labels, SBOM, signature)",
            "published": "check what a release published: its signed record and SBOMs attached to "
                         "the images and (a final's) in svn release/, the digests it names, the image "
                         "signatures",
            "revision": "staged in Apache Trusted Releases: the revision to check (default: the latest, "
                        "which the vote runs on)",
            "train": "a train of [tool.release.trains]: check its staged wave (with --date; a train with a "
                     "folder per release, such as core, also by --version, its candidate: 3.3.3rc1)",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)"})
@reports_errors
def verify(c: Context, version: str = "", profile: str = "", no_rebuild: bool = False,
           no_images: bool = False, published: bool = False, revision: str = "", train: str = "",
           date: str = "") -> None:
    """For voters: check signatures against KEYS, checksums, the file list, a rebuild, and the images
    (each platform's digest under its index).

    With --train: the staged wave's files (as planned at the wave's commit), their signatures,
    checksums and sources, and a rebuild of every distribution. A versioned train's wave (core) is
    found in a clone by its candidate: --train core --version 3.3.3rc1, where its candidate tags point."""
    from release.pipeline import vote as pipeline
    from release.versions import parse_version

    if train:
        if published or revision:
            raise ReleaseError(f"--train {train} takes --date (or a versioned train's --version) and "
                               "--no-rebuild: the wave's tags say what was staged (--published and "
                               "--revision are not for waves)")
        verify_wave(train, date=date, profile=profile, rebuild=not no_rebuild, candidate=version)
        return
    if date:
        raise ReleaseError("--date goes with --train NAME, a train of [tool.release.trains]")
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    if published:
        report = pipeline.verify_release(config, wanted, target, say=console.progress)
        console.ok(f"{report.candidate}: {len(report.checks)} published items verified")
        return
    found = pipeline.verify(config, wanted, target, rebuild=not no_rebuild, images=not no_images,
                            say=console.progress, revision=revision)
    console.ok(f"{found.report.candidate}: {len(found.report.checks)} files and images verified")
    if no_images:
        return
    console.table(f"Images of {wanted} in {target.registry}/{config.image}",
                  ["tag", "digest", "platform", "image", "problem"],
                  [row for check in found.images for row in (
                      [(check.tag, console.short(check.digest), p, console.short(d), check.problem)
                       for p, d in check.platforms]
                      or [(check.tag, "not in the registry", "-", "-", check.problem)])])
    pipeline.image_problems(found.images)


@task(iterable=["count"],
      help={"version": "the release candidate voted on, e.g. 1.10.6rc1", "profile": PROFILE_HELP,
            "votes": "the votes: an mbox export of the vote thread (the replies to this candidate's [VOTE] "
                     "message count, timed by the archive, binding by the sender's address alone) or a "
                     "plain-text file (`+1 Name <address> 2026-11-27T09:12:00Z` a line)",
            "closed-at": "when the vote closed (ISO 8601, UTC unless it says), if not at the last reply",
            "count": "ADDRESS=+1|0|-1|none: how a voter counts once you have read their replies listed for "
                     "reading (it replaces their votes; repeat it for more voters)",
            "decided-by": "who read those replies and decided (recorded with the result); needed with "
                          "--count",
            "dry-run": DRY_RUN, "json": JSON,
            "train": "a train of [tool.release.trains]: count the votes on its staged wave (with --date)",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)",
            "exclude": "with --train: comma-separated distributions the PMC excluded (names or ids); the "
                       "rest is promoted, these go to a later rc",
            "reason": "with --exclude: why the vote excluded them (recorded)"})
@reports_errors
def vote_result(c: Context, version: str = "", votes: str = "", closed_at: str = "",
                count: list[str] | None = None, decided_by: str = "", profile: str = "",
                dry_run: bool = False, json: bool = False, train: str = "", date: str = "", exclude: str = "",
                reason: str = "") -> None:
    """Count the votes by the ASF rules, record the result, and write the [RESULT][VOTE] email.

    Binding is decided by the sending address alone (binding-voters); the vote opens no earlier
    than the candidate was staged; replies that do not say one vote plainly, or carry no readable
    time, or one after now, are listed, and a binding voter's must be read (--count) before the vote
    passes."""
    if train:
        vote_on_wave(train, version=version, votes=votes, closed_at=closed_at, count=count,
                     decided_by=decided_by, profile=profile, dry_run=dry_run, json=json, date=date,
                     exclude=exclude, reason=reason)
        return
    if exclude or reason:
        raise ReleaseError("--exclude and --reason go with --train NAME: a wave's distributions can be "
                           "excluded at its vote")
    from release.cli.show import show_command_plan
    from release.pipeline import vote as pipeline
    from release.versions import parse_version
    from release.votes import parse_decision, when

    wanted = parse_version(required_version(version))
    if not votes:
        raise ReleaseError("--votes is required: a plain-text file of votes or an mbox export of the thread")
    decisions = dict(parse_decision(item) for item in count or [])
    config = read_config(profile)
    if dry_run:
        show_command_plan(pipeline.vote_result_plan(config, wanted, votes=votes), json)
        return
    result = pipeline.vote_result(config, wanted, votes=Path(votes).resolve(), closed_at=closed_at,
                                  decisions=decisions, decided_by=decided_by,
                                  target=lambda: connect_target(config), say=console.progress)
    tally = result.tally
    if len(result.roots) > 1:  # a resent call for votes, or someone else's: the replies to each counted
        console.warn(f"{len(result.roots)} [VOTE] messages name {wanted}; the replies to each were read: "
                     f"{'; '.join(result.roots)}")
    if result.outside:
        console.progress(f"{result.outside} messages of the export are not replies to the [VOTE] message of "
                         f"{wanted}: not read")
    if tally.late:
        console.progress(f"cast after the vote closed at {when(tally.closed)}, not counted: "
                         f"{', '.join(v.voter for v in tally.late)}")
    show_review(tally)
    counts = (f"{tally.count(1, binding=True)} binding +1, {tally.count(0, binding=True)} binding 0, "
              f"{tally.count(-1, binding=True)} binding -1, {len(tally.non_binding)} non-binding, "
              f"open {tally.hours_open:.1f} hours")
    if tally.needs_reading:
        raise VerificationError(f"the vote on {wanted} cannot pass yet: {'; '.join(tally.reasons)}; the "
                                f"replies are listed above and in {result.email} (a draft, not to be sent); "
                                "read them in the thread, then count again with --count ADDRESS=VOTE "
                                "--decided-by NAME")
    if not result.passed:
        raise VerificationError(f"the vote on {wanted} did not pass ({'; '.join(tally.reasons)}); "
                                f"recorded, and the [RESULT] email is {result.email}: fix the problems "
                                "and stage a new candidate")
    console.ok(f"the vote on {wanted} passed ({counts}); send {result.email}, then: invoke promote --version "
               f"{wanted.final} --from-rc {wanted}")


def show_review(tally: Tally) -> None:
    """The replies not counted as they stand, those a release manager must read marked."""
    from release.votes import when

    if tally.review:
        console.table(f"Replies not counted as they stand ({len(tally.needs_reading)} need reading)",
                      ["voter", "when", "why", "it begins"],
                      [(f"{r.voter or '-'}{' (binding)' if r.binding else ''}",
                        when(r.when) if r.when else "no time", r.why + (" [NEEDS READING]" if r.needs_reading
                                                                       else ""), r.excerpt or "-")
                       for r in tally.review])


def vote_on_wave(train: str, *, version: str, votes: str, closed_at: str, count: list[str] | None,
                 decided_by: str, profile: str, dry_run: bool, json: bool, date: str, exclude: str,
                 reason: str) -> None:
    """`invoke vote-result --train NAME`: the votes on a staged wave, its exclusions recorded."""
    from release.cli.show import show_command_plan
    from release.pipeline import trains
    from release.votes import parse_decision, parse_time

    config = read_config(profile)
    chosen = trains.configured_train(config, train)
    if chosen is None:
        raise ReleaseError(f"--train {train}: no such train in [tool.release.trains]")
    if version:
        raise ReleaseError(f"--version goes without --train {train}: the wave's record says what was staged")
    if not votes:
        raise ReleaseError("--votes is required: a plain-text file of votes or an mbox export of the thread")
    names = comma_list(exclude)
    if names and not reason.strip():
        raise ReleaseError("--exclude needs --reason: why the vote excluded them is recorded")
    if reason and not names:
        raise ReleaseError("--reason goes with --exclude DIST")
    decisions = dict(parse_decision(item) for item in count or [])
    excluded = dict.fromkeys(names, reason.strip())
    day = wave_date(date)
    if dry_run:
        show_command_plan(trains.vote_result_wave_plan(config, chosen, date=day, votes=votes,
                                                       excluded=excluded), json)
        return
    from release.pipeline.connect import clients_for

    atr = (clients_for(connect_target(config), progress=console.progress).atr
           if config.stages_in_atr(chosen) and not excluded else None)
    result = trains.vote_result_wave(config, chosen, date=day, votes=Path(votes).resolve(),
                                     closed_at=parse_time(closed_at) if closed_at else None,
                                     excluded=excluded, decisions=decisions, decided_by=decided_by,
                                     say=console.progress, atr=atr)
    tally = result.tally
    show_review(tally)
    if tally.needs_reading:
        raise VerificationError(f"the vote on the {train} wave cannot pass yet: {'; '.join(tally.reasons)}; "
                                f"the replies are listed above and in {result.email} (a draft, not to be "
                                "sent); read them in the thread, then count again with --count ADDRESS=VOTE "
                                "--decided-by NAME")
    if not tally.passed:
        raise VerificationError(f"the vote on the {train} wave did not pass ({'; '.join(tally.reasons)}); "
                                f"recorded in {result.record}")
    console.ok(f"the vote on the {train} wave passed: {tally.count(1, binding=True)} binding +1, recorded in "
               f"{result.record}; promoted: {', '.join(f'{e.name} {e.version}' for e in result.plan.entries)}"
               + (f"; excluded: {', '.join(s.name for s in result.excluded)}" if result.excluded else ""))


@task(help={"version": "the final version, e.g. 1.10.6", "from-rc": "the voted candidate, e.g. 1.10.6rc1",
            "profile": PROFILE_HELP,
            "without-vote-result": "promote although no passing vote result is recorded (give --reason)",
            "reason": "why the candidate is promoted without a passing vote result (recorded)",
            "dry-run": DRY_RUN, "json": JSON,
            "train": "a train of [tool.release.trains]: promote its voted wave (with --date), the "
                     "distributions the vote excluded left out",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)"})
@reports_errors
def promote(c: Context, version: str = "", from_rc: str = "", profile: str = "",
            without_vote_result: bool = False, reason: str = "", dry_run: bool = False, json: bool = False,
            train: str = "", date: str = "") -> None:
    """After the vote: svn copy dev -> release, tag git, hand the voted files to publishing. With
    staging = "atr": read the voted revision back from ATR instead (publish finishes it there).
    With --train: the voted wave's files to the train's flat release folder, and their final tags."""
    from release.cli.show import show_command_plan
    from release.pipeline import vote as pipeline
    from release.versions import parse_version

    if train:
        promote_wave(train, date=date, profile=profile, dry_run=dry_run, json=json,
                     other=bool(version or from_rc or without_vote_result or reason))
        return
    if date:
        raise ReleaseError("--date goes with --train NAME, a train of [tool.release.trains]")
    wanted = parse_version(required_version(version))
    if not from_rc:
        raise ReleaseError("--from-rc is required, e.g. --from-rc 1.10.6rc1")
    if without_vote_result and not reason.strip():
        raise ReleaseError('--without-vote-result needs --reason "why", which is recorded')
    if reason and not without_vote_result:
        raise ReleaseError("--reason goes with --without-vote-result; a passing vote result needs no reason")
    config = read_config(profile)
    target = connect_target(config)
    rc = parse_version(from_rc)
    if dry_run:
        show_command_plan(pipeline.promote_plan(config, wanted, rc, target, without_vote_result=reason), json)
        return
    result = pipeline.promote(config, wanted, rc, target, without_vote_result=reason, say=console.progress)
    console.ok(f"promoted {result.from_rc} to {result.url}; publish with: invoke publish --version {wanted}")


def promote_wave(train: str, *, date: str, profile: str, dry_run: bool, json: bool, other: bool) -> None:
    """`invoke promote --train NAME`: the voted wave to the release folder, tagged."""
    from release.cli.show import show_command_plan
    from release.pipeline import trains

    config = read_config(profile)
    chosen = trains.configured_train(config, train)
    if chosen is None:
        raise ReleaseError(f"--train {train}: no such train in [tool.release.trains]")
    if other:
        raise ReleaseError(f"--train {train} takes --date (and --dry-run, --json) only: the vote on the wave "
                           "says what is promoted (--version, --from-rc and --without-vote-result are not "
                           "for waves)")
    day = wave_date(date)
    if dry_run:
        plan = trains.promote_wave_plan(config, chosen, date=day, target=connect_target(config))
        show_command_plan(plan, json)
        return
    trains.check_can_promote(config, chosen, day)  # before any service is reached
    from release.pipeline.connect import clients_for

    target = connect_target(config)
    atr = clients_for(target, progress=console.progress).atr if config.stages_in_atr(chosen) else None
    done = trains.promote_wave(config, chosen, date=day, target=target, say=console.progress, atr=atr)
    excluded = ", ".join(done.excluded)
    console.ok(f"promoted the {train} wave to {done.url}: {', '.join(done.promoted)}"
               + (f"; excluded: {excluded}" if excluded else "")
               + f"; tagged {', '.join(done.tags) or 'nothing new'}")


@task(help={"version": "the published final version, e.g. 1.10.6", "profile": PROFILE_HELP,
            "dry-run": DRY_RUN, "json": JSON,
            "train": "a train of [tool.release.trains]: announce its published wave (with --date)",
            "date": "with --train: the wave's date, YYYY-MM-DD (default: today, UTC)"})
@reports_errors
def announce(c: Context, version: str = "", profile: str = "", dry_run: bool = False, json: bool = False,
             train: str = "", date: str = "") -> None:
    """Write the [ANNOUNCE] email of a published release into dist/<version>/.

    With --train: the published wave's, into dist/<train>-<date>/."""
    from release.cli.show import show_command_plan
    from release.pipeline import vote as pipeline
    from release.versions import parse_version

    if train:
        if version:
            raise ReleaseError(f"--version goes without --train {train}: the wave's record says what it "
                               "released")
        announce_wave(train, date=date, profile=profile, dry_run=dry_run, json=json)
        return
    if date:
        raise ReleaseError("--date goes with --train NAME, a train of [tool.release.trains]")
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    if dry_run:
        show_command_plan(pipeline.announce_plan(config, wanted), json)
        return
    email = pipeline.announce(config, wanted, connect_target(config), say=console.progress)
    console.ok(f"announcement of {wanted} written to {email}; send it")


def announce_wave(train: str, *, date: str, profile: str, dry_run: bool, json: bool) -> None:
    """`invoke announce --train NAME`: the published wave's [ANNOUNCE] email."""
    from release.cli.show import show_command_plan
    from release.pipeline import trains

    config = read_config(profile)
    chosen = trains.configured_train(config, train)
    if chosen is None:
        raise ReleaseError(f"--train {train}: no such train in [tool.release.trains]")
    day = wave_date(date)
    if not dry_run:
        trains.check_can_announce(config, chosen, day)  # before any service is reached
    target = connect_target(config)
    if dry_run:
        show_command_plan(trains.announce_wave_plan(config, chosen, date=day, target=target), json)
        return
    email = trains.announce_wave(config, chosen, date=day, target=target, say=console.progress)
    console.ok(f"announcement of the {train} wave of {day} written to {email}; send it")


def verify_wave(train: str, *, date: str, profile: str, rebuild: bool, candidate: str = "") -> None:
    """`invoke verify --train NAME`: the staged wave, as a voter checks it (a versioned train's by its
    `candidate`, --version, too)."""
    from release.pipeline import trains
    from release.pipeline.connect import clients_for

    config = read_config(profile)
    chosen = trains.configured_train(config, train)
    if chosen is None:
        raise ReleaseError(f"--train {train}: no such train in [tool.release.trains]")
    day = wave_date(date)
    if candidate.strip():
        trains.check_candidate(chosen, candidate.strip())  # before any service is reached
    target = connect_target(config)
    clients = clients_for(target, progress=console.progress)
    atr = clients.atr if config.stages_in_atr(chosen) else None
    report = trains.verify_wave(config, chosen, date=day, target=target, rebuild=rebuild,
                                say=console.progress, candidate=candidate.strip(), atr=atr, clients=clients)
    console.ok(f"the {train} wave of {candidate.strip() or day}: {len(report.checks)} files verified")
