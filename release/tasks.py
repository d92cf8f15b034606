"""The invoke collection: `invoke release`, `invoke sandbox.up`, ... Arguments in, library calls out."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from release import console, dryrun, pipeline, sandbox
from release.config import ReleaseConfig, load_config
from release.errors import ReleaseError
from release.pipeline import ReleaseReport, RunOptions, parse_force
from release.record import sha512_of
from release.steps.build import build_release, find_declared_version
from release.steps.promote import promote_release
from release.steps.sign import sign_release
from release.steps.verify import verify_candidate
from release.steps.vote import stage_release
from release.target import Target, connect
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


VERSION_HELP = "the PEP 440 version, e.g. 1.10.6 or 1.10.6rc1"
PROFILE_HELP = "a pyproject-like file with [tool.release] (default: ./pyproject.toml)"


def connect_target(config: ReleaseConfig, flavours: tuple[str, ...] = ()) -> Target:
    return connect(config, flavours=flavours, progress=console.progress)


def options_for(config: ReleaseConfig, python: str, jobs: int, sign_with: str, force: str,
                allow_dirty: bool = False) -> RunOptions:
    if jobs < 1:
        raise ReleaseError(f"--jobs {jobs}: give 1 or more")
    return RunOptions(flavours=flavours_of(config, python), jobs=jobs, sign_with=sign_with,
                      force=parse_force(force), allow_dirty=allow_dirty)


def show_report(report: ReleaseReport, as_json: bool) -> None:
    data = report.to_json()
    if as_json:
        console.print_json(data)
        return
    console.table("Files", ["file", "sha512"], [(p, h[:32] + "...") for p, h in data["files"].items()])
    console.table("Images", ["python", "digest"], list(data["images"].items()))
    console.table(
        "Tags", ["tag", "python", "digest", "was"],
        [(t, v["python"], v["digest"], v["previous"] or "-") for t, v in data["tags"].items()],
    )
    moved = data["moved"]
    console.ok(f"released {report.version}; moved: {', '.join(moved) if moved else 'nothing'}")


@task(
    help={
        "version": VERSION_HELP,
        "dry-run": "show the steps, artefacts, tags and what would move; change nothing",
        "json": "print the plan (or the release report) as JSON on stdout",
        "profile": PROFILE_HELP,
        "python": "comma-separated flavours (default: all); aliases move only for a full release",
        "jobs": "how many images to build at once",
        "sign-with": "the gpg key to sign with, instead of [tool.release] signing-key",
        "force": "comma-separated immutable tags you deliberately allow to be overwritten",
        "allow-dirty": "build even though tracked files have uncommitted changes",
    }
)
@reports_errors
def release(
    c: Context, version: str = "", dry_run: bool = False, json: bool = False, profile: str = "",
    python: str = "", jobs: int = 1, sign_with: str = "", force: str = "", allow_dirty: bool = False,
) -> None:
    """Build, sign, stage, build images, smoke, publish and alias one release."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    options = options_for(config, python, jobs, sign_with, force, allow_dirty)
    if dry_run:
        target = connect_target(config)
        declared = find_declared_version(config.root, config.name)
        found = (declared.value, declared.file) if declared else None
        plan = dryrun.compute_plan(config, wanted, target, declared=found)
        if json:
            console.print_json(plan.to_json())
        else:
            dryrun.show_plan(plan)
        return
    target = connect_target(config, options.flavours)
    report = pipeline.run_release(config, wanted, target, options, announce=console.step,
                                  say=console.progress)
    show_report(report, json)


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP, "json": "print the report as JSON",
            "python": "the flavours whose version tags the image jobs pushed (default: all)",
            "sign-with": "the gpg key for the release record", "force": "immutable tags to overwrite"})
@reports_errors
def publish(c: Context, version: str = "", profile: str = "", json: bool = False, python: str = "",
            sign_with: str = "", force: str = "") -> None:
    """Join image jobs run on other machines: read their digests, upload packages, set aliases."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
    options = options_for(config, python, 1, sign_with, force)
    target = connect_target(config)
    report = pipeline.run_publish(config, wanted, target, options, announce=console.step,
                                  say=console.progress)
    show_report(report, json)


@task(help={"version": VERSION_HELP, "profile": PROFILE_HELP,
            "allow-dirty": "build even though tracked files have uncommitted changes",
            "allow-version-mismatch": "build although the tree declares another version"})
@reports_errors
def build(c: Context, version: str = "", profile: str = "", allow_dirty: bool = False,
          allow_version_mismatch: bool = False) -> None:
    """Build sdist, wheel and source tarball reproducibly into dist/<version>/; twine check them."""
    wanted = parse_version(required_version(version))
    config = read_config(profile)
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
    target = connect_target(config)
    keys = pipeline.fetch_keys(target, config.root / "dist" / ".keys" / str(wanted))
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
    result = promote_release(config, wanted, from_rc=from_rc, svn_dev_url=target.svn_dev,
                             svn_release_url=target.svn_release, progress=console.progress)
    console.ok(f"promoted {result.from_rc} to {result.url}; publish with: invoke publish --version {wanted}")


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

ns = Collection(release, publish, build, sign, stage, verify, promote)
ns.add_collection(sandbox_tasks)
