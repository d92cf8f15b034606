# SPDX-License-Identifier: Apache-2.0
"""invoke tasks of the PMC vote workflow: build, sign, stage, verify, vote-result, promote, announce."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from invoke.context import Context
from invoke.tasks import task

from release import console
from release.adapters.registry import RegistryClient
from release.cli.support import (
    PROFILE_HELP,
    VERSION_HELP,
    connect_target,
    holding,
    read_config,
    reports_errors,
    required_version,
)
from release.config import check_signing_key
from release.errors import ReleaseError, VerificationError
from release.pipeline import release as pipeline
from release.record import sha512_of
from release.steps.announce import announce_release
from release.steps.build import build_release
from release.steps.check_provenance import check_candidate_images, verify_published
from release.steps.promote import promote_release
from release.steps.result import count_result
from release.steps.sign import sign_record, sign_release
from release.steps.verify import FileCheck, verify_candidate, verify_images
from release.steps.vote import stage_release
from release.versions import parse_version
from release.votes import parse_decision, parse_time, when


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP,
            "allow-dirty": "build even though tracked files have uncommitted changes",
            "allow-version-mismatch": "build although the tree declares another version"})
@reports_errors
def build(c: Context, version: str = "", profile: str = "", allow_dirty: bool = False,
          allow_version_mismatch: bool = False) -> None:
    """Build sdist, wheel and source tarball reproducibly into dist/<version>/; twine check them."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    with holding(config, wanted):
        result = build_release(config, wanted, allow_dirty=allow_dirty,
                               allow_version_mismatch=allow_version_mismatch, progress=console.progress)
    console.table("Built", ["file", "sha512"],
                  [(p.relative_to(result.directory), sha512_of(p)[:32] + "...")
                   for p in (*result.svn_files, *result.pypi_files)])


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP,
            "sign-with": "the gpg key to sign with, instead of [tool.release] signing-key"})
@reports_errors
def sign(c: Context, version: str = "", profile: str = "", sign_with: str = "") -> None:
    """Write X.asc and X.sha512 for every file of dist/<version>/ with a key listed in KEYS."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    if sign_with:
        check_signing_key(sign_with, "--sign-with")
    target = connect_target(config)
    keys = pipeline.fetch_keys(target, config.root / "dist" / ".keys" / str(wanted))
    with holding(config, wanted):
        result = sign_release(config, wanted, keys_file=keys, key=sign_with or target.signing_key,
                              gnupghome=target.gnupghome, progress=console.progress)
    console.ok(f"{len(result.signed)} files signed with {result.fingerprint}")


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP})
@reports_errors
def constraints(c: Context, version: str = "", profile: str = "") -> None:
    """Commit the constraints files a release recorded (dist/<V>/constraints/, signed) to svn."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    with holding(config, wanted):  # it writes dist/<V>/release.json, as a run of V does
        url = pipeline.publish_recorded_constraints(config, wanted, target, say=console.progress)
    console.ok(f"constraints of {wanted} published in {url}")


@task(help={"version": "the release candidate, e.g. 1.10.6rc1", "profile": PROFILE_HELP})
@reports_errors
def stage(c: Context, version: str = "", profile: str = "") -> None:
    """Commit a signed candidate to svn dev/ and render its email: the [VOTE], or a call to test it."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    with holding(config, wanted):
        result = stage_release(config, wanted, svn_dev_url=target.svn_dev, keys_url=target.keys_url,
                               progress=console.progress)
    console.ok(f"staged {result.url}; email: {result.email}")


@task(help={"version": "the release candidate, e.g. 1.10.6rc1 (with --published: any release)",
            "profile": PROFILE_HELP,
            "no-rebuild": "skip rebuilding from the tag (signatures and checksums only)",
            "no-images": "skip the candidate's images (wheel, labels, SBOM, signature)",
            "published": "check what a release published: its signed record and SBOMs attached to "
                         "the images and (a final's) in svn release/, the digests it names, the image "
                         "signatures"})
@reports_errors
def verify(c: Context, version: str = "", profile: str = "", no_rebuild: bool = False,
           no_images: bool = False, published: bool = False) -> None:
    """For voters: check signatures against KEYS, checksums, the file list, a rebuild, and the images
    (each platform's digest under its index)."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    if published:
        report = verify_published(config, wanted, registry=target.registry, svn_dev_url=target.svn_dev,
                                  svn_release_url=target.svn_release, keys_url=target.keys_url,
                                  progress=console.progress)
        console.ok(f"{report.candidate}: {len(report.checks)} published items verified")
        return

    def images(checks: dict[str, FileCheck], commit: str, keys: Path,
               wheels: Mapping[str, str] | None) -> None:
        check_candidate_images(config, wanted, registry=target.registry, svn_dev_url=target.svn_dev,
                               keys_file=keys, commit=commit, wheels=wheels, checks=checks,
                               progress=console.progress)

    report = verify_candidate(config, wanted, svn_dev_url=target.svn_dev, keys_url=target.keys_url,
                              repo_root=config.root, rebuild=not no_rebuild,
                              image_checks=None if no_images else images, progress=console.progress)
    console.ok(f"{report.candidate}: {len(report.checks)} files and images verified")
    if no_images:
        return
    checks = verify_images(config, wanted, RegistryClient(target.registry))
    console.table(f"Images of {wanted} in {target.registry}/{config.image}",
                  ["tag", "digest", "platform", "image", "problem"],
                  [row for check in checks for row in (
                      [(check.tag, console.short(check.digest), p, console.short(d), check.problem)
                       for p, d in check.platforms]
                      or [(check.tag, "not in the registry", "-", "-", check.problem)])])
    problems = [f"{check.tag}: {check.problem}" for check in checks if check.problem]
    if problems:
        raise VerificationError("; ".join(problems))


@task(iterable=["count"],
      help={"version": "the release candidate voted on, e.g. 1.10.6rc1", "profile": PROFILE_HELP,
            "votes": "the votes: an mbox export of the vote thread (the replies to this candidate's [VOTE] "
                     "message count, timed by the archive, binding by the sender's address alone) or a "
                     "plain-text file (`+1 Name <address> 2026-11-27T09:12:00Z` a line)",
            "closed-at": "when the vote closed (ISO 8601, UTC unless it says), if not at the last reply",
            "count": "ADDRESS=+1|0|-1|none: how a voter counts once you have read their replies listed for "
                     "reading (it replaces their votes; repeat it for more voters)",
            "decided-by": "who read those replies and decided (recorded with the result); needed with "
                          "--count"})
@reports_errors
def vote_result(c: Context, version: str = "", votes: str = "", closed_at: str = "",
                count: list[str] | None = None, decided_by: str = "", profile: str = "") -> None:
    """Count the votes by the ASF rules, record the result, and write the [RESULT][VOTE] email.

    Binding is decided by the sending address alone (binding-voters); the vote opens no earlier
    than the candidate was staged; replies that do not say one vote plainly, or carry no readable
    time, or one after now, are listed, and a binding voter's must be read (--count) before the vote
    passes."""
    wanted = parse_version(required_version(version))
    if not votes:
        raise ReleaseError("--votes is required: a plain-text file of votes or an mbox export of the thread")
    decisions = dict(parse_decision(item) for item in count or [])
    config = read_config(profile)

    def resign(record: Path) -> None:  # the record of a published candidate is signed: sign it again
        target = connect_target(config)
        sign_record(record, key=target.signing_key, gnupghome=target.gnupghome)

    result = count_result(config, wanted, votes_file=Path(votes).resolve(),
                          closed_at=parse_time(closed_at) if closed_at else None, decisions=decisions,
                          decided_by=decided_by, resign=resign, progress=console.progress)
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
    if tally.review:
        console.table(f"Replies not counted as they stand ({len(tally.needs_reading)} need reading)",
                      ["voter", "when", "why", "it begins"],
                      [(f"{r.voter or '-'}{' (binding)' if r.binding else ''}",
                        when(r.when) if r.when else "no time", r.why + (" [NEEDS READING]" if r.needs_reading
                                                                       else ""), r.excerpt or "-")
                       for r in tally.review])
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


@task(help={"version": "the final version, e.g. 1.10.6", "from-rc": "the voted candidate, e.g. 1.10.6rc1",
            "profile": PROFILE_HELP,
            "without-vote-result": "promote although no passing vote result is recorded (give --reason)",
            "reason": "why the candidate is promoted without a passing vote result (recorded)"})
@reports_errors
def promote(c: Context, version: str = "", from_rc: str = "", profile: str = "",
            without_vote_result: bool = False, reason: str = "") -> None:
    """After the vote: svn copy dev -> release, tag git, hand the voted files to publishing."""
    wanted = parse_version(required_version(version))
    if not from_rc:
        raise ReleaseError("--from-rc is required, e.g. --from-rc 1.10.6rc1")
    if without_vote_result and not reason.strip():
        raise ReleaseError('--without-vote-result needs --reason "why", which is recorded')
    if reason and not without_vote_result:
        raise ReleaseError("--reason goes with --without-vote-result; a passing vote result needs no reason")
    config = read_config(profile)
    target = connect_target(config)
    with holding(config, wanted):
        result = promote_release(config, wanted, from_rc=parse_version(from_rc),
                                 svn_dev_url=target.svn_dev, svn_release_url=target.svn_release,
                                 without_vote_result=reason, progress=console.progress)
    console.ok(f"promoted {result.from_rc} to {result.url}; publish with: invoke publish --version {wanted}")


@task(help={"version": "the published final version, e.g. 1.10.6", "profile": PROFILE_HELP})
@reports_errors
def announce(c: Context, version: str = "", profile: str = "") -> None:
    """Write the [ANNOUNCE] email of a published release into dist/<version>/."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    email = announce_release(config, wanted, keys_url=target.keys_url, index_url=target.index_simple,
                             repository=target.repository(config.image), progress=console.progress)
    console.ok(f"announcement of {wanted} written to {email}; send it")
