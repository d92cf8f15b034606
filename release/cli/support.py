# SPDX-License-Identifier: Apache-2.0
"""What every invoke task shares: error reporting, the project root, config, versions, flavours."""

from __future__ import annotations

import datetime
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from invoke.exceptions import Exit

from release import console
from release.errors import ReleaseError

if TYPE_CHECKING:
    from release.config import ReleaseConfig
    from release.pipeline.connect import Target
    from release.pipeline.release import RunOptions

F = TypeVar("F", bound=Callable[..., Any])
OS_ERROR_EXIT = 1  # a full disk or a permission problem: no error family of the release's own


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
        except OSError as exc:  # the machine, not the release: a full disk, a permission
            where = f"{exc.filename}: " if exc.filename else ""
            console.error(f"{where}{exc.strerror or exc}; fix that and rerun the same command to resume")
            raise Exit(code=OS_ERROR_EXIT) from None

    return wrapper  # type: ignore[return-value]


def project_root() -> Path:
    return Path(os.environ.get("RELEASE_ROOT", Path.cwd())).resolve()


def read_config(profile: str = "") -> ReleaseConfig:
    from release.config import load_config

    root = project_root()
    config = load_config(root, profile=Path(profile).resolve() if profile else None)
    for host in config.allow_http:
        console.warn(f"plain http:// to {host} is allowed ([tool.release] allow-http): anyone on the way "
                     "can read and change what is sent to it")
    return config


def required_version(version: str) -> str:
    if not version:
        raise ReleaseError("--version is required, e.g. --version 1.10.6")
    return version


def comma_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def wave_date(value: str, today: datetime.date | None = None) -> str:
    """A wave's date: `value` (YYYY-MM-DD), else today's in UTC."""
    if not value:
        return (today or datetime.datetime.now(datetime.timezone.utc).date()).isoformat()
    try:
        return datetime.date.fromisoformat(value).isoformat() if len(value) == 10 else _bad_date(value)
    except ValueError:
        return _bad_date(value)


def _bad_date(value: str) -> str:
    raise ReleaseError(f"--date {value!r}: give the wave's date as YYYY-MM-DD, e.g. 2026-12-07")


def flavours_of(config: ReleaseConfig, python: str) -> tuple[str, ...]:
    if not python:
        return config.python
    wanted = tuple(p.strip() for p in python.split(",") if p.strip())
    unknown = [p for p in wanted if p not in config.python]
    if unknown:
        raise ReleaseError(f"--python {unknown[0]} is not a configured flavour ({', '.join(config.python)})")
    return wanted


def platforms_of(config: ReleaseConfig, platform: str) -> tuple[str, ...]:
    """The `--platform` choice (comma-separated), each one of the configured; () when not given."""
    if not platform:
        return ()
    wanted = tuple(p.strip() for p in platform.split(",") if p.strip())
    unknown = [p for p in wanted if p not in config.image_platforms]
    if unknown:
        raise ReleaseError(f"--platform {unknown[0]} is not a configured platform "
                           f"({', '.join(config.image_platforms)}; [tool.release] platforms)")
    return wanted


VERSION_HELP = "the PEP 440 version, e.g. 1.10.6 or 1.10.6rc1"
PLATFORM_HELP = ("comma-separated platforms, e.g. linux/amd64 (default: every configured one); with only "
                 "some, images are pushed under their platform tags and no tag moves")
PROFILE_HELP = "a pyproject-like file with [tool.release] (default: ./pyproject.toml)"


def connect_target(config: ReleaseConfig, flavours: tuple[str, ...] = (), platforms: tuple[str, ...] = ()
                   ) -> Target:
    from release.pipeline.connect import connect

    return connect(config, flavours=flavours, progress=console.progress, platforms=platforms)


def options_for(config: ReleaseConfig, python: str, jobs: int, sign_with: str, force: str,
                allow_dirty: bool = False, platform: str = "") -> RunOptions:
    from release.config import check_signing_key
    from release.pipeline.release import RunOptions, parse_force

    if jobs < 0:
        raise ReleaseError(f"--jobs {jobs}: give 1 or more, or 0 for as many as the machine has room for")
    if sign_with:
        check_signing_key(sign_with, "--sign-with")
    return RunOptions(flavours=flavours_of(config, python), platforms=platforms_of(config, platform),
                      jobs=jobs, sign_with=sign_with, force=parse_force(force), allow_dirty=allow_dirty)
