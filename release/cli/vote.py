"""invoke tasks of the PMC vote workflow: build, sign, stage, verify, promote."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from release import console
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
from release.errors import ReleaseError
from release.pipeline import release as pipeline
from release.record import sha512_of
from release.steps.build import build_release
from release.steps.promote import promote_release
from release.steps.sign import sign_release
from release.steps.verify import verify_candidate
from release.steps.vote import stage_release
from release.versions import parse_version


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


@task(help={"version": "the release candidate, e.g. 1.10.6rc1", "profile": PROFILE_HELP})
@reports_errors
def stage(c: Context, version: str = "", profile: str = "") -> None:
    """Commit a signed candidate to svn dev/ and render the [VOTE] email."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    with holding(config, wanted):
        result = stage_release(config, wanted, svn_dev_url=target.svn_dev, keys_url=target.keys_url,
                               progress=console.progress)
    console.ok(f"staged {result.url}; vote email: {result.email}")


@task(help={"version": "the release candidate, e.g. 1.10.6rc1", "profile": PROFILE_HELP,
            "no-rebuild": "skip rebuilding from the tag (signatures and checksums only)"})
@reports_errors
def verify(c: Context, version: str = "", profile: str = "", no_rebuild: bool = False) -> None:
    """For voters: check signatures against KEYS, checksums, the file list, and rebuild to compare."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    target = connect_target(config)
    report = verify_candidate(config, wanted, svn_dev_url=target.svn_dev, keys_url=target.keys_url,
                              repo_root=config.root, rebuild=not no_rebuild, progress=console.progress)
    console.ok(f"{report.candidate}: {len(report.checks)} files verified")


@task(help={"version": "the final version, e.g. 1.10.6", "from-rc": "the voted candidate, e.g. 1.10.6rc1",
            "profile": PROFILE_HELP})
@reports_errors
def promote(c: Context, version: str = "", from_rc: str = "", profile: str = "") -> None:
    """After the vote: svn copy dev -> release, tag git, hand the voted files to publishing."""
    wanted = parse_version(required_version(version))
    if not from_rc:
        raise ReleaseError("--from-rc is required, e.g. --from-rc 1.10.6rc1")
    config = read_config(profile)
    target = connect_target(config)
    with holding(config, wanted):
        result = promote_release(config, wanted, from_rc=parse_version(from_rc), svn_dev_url=target.svn_dev,
                                 svn_release_url=target.svn_release, progress=console.progress)
    console.ok(f"promoted {result.from_rc} to {result.url}; publish with: invoke publish --version {wanted}")
