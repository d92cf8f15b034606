# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline init`: read the project's metadata, plan what to write (release/plan/init.py),
write it (or show it with --dry-run), and say what is left to decide."""

from __future__ import annotations

import configparser
import email.parser
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.context import Context
from invoke.tasks import task

from release import console
from release.cli.support import project_root, reports_errors
from release.errors import ConfigError

if TYPE_CHECKING:
    from release.plan.init import Folder, InitPlan
    from release.plan.project import ProjectFiles

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot be read ({exc})") from None


def _toml(path: Path) -> dict[str, Any]:
    text = _text(path)
    try:
        return tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML ({exc}); fix it first") from None


def _ini(path: Path) -> dict[str, dict[str, str]]:
    text = _text(path)
    if text is None:
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path.name)
    except configparser.Error as exc:
        raise ConfigError(f"{path.name}: cannot be read ({str(exc).splitlines()[0]})") from None
    return {section: dict(parser[section]) for section in parser.sections()}


def read_project_files(root: Path) -> ProjectFiles:
    """The metadata files of the project at `root` (an sdist's PKG-INFO and egg-info too)."""
    from release.plan.project import ProjectFiles, project_name
    from release.steps.build import find_declared_version

    pkg_info = _text(root / "PKG-INFO")
    headers = email.parser.Parser().parsestr(pkg_info) if pkg_info else None
    egg_info = sorted([*root.glob("*.egg-info/entry_points.txt"),
                       *root.glob("src/*.egg-info/entry_points.txt")])
    files = ProjectFiles(
        pyproject=_toml(root / "pyproject.toml"), setup_cfg=_ini(root / "setup.cfg"),
        pkg_info={k: headers.get_all(k) or [] for k in set(headers.keys())} if headers else {},
        entry_points=_ini(egg_info[0]) if egg_info else {}, setup_py=_text(root / "setup.py") or "")
    declared = find_declared_version(root, project_name(files))
    found = (declared.file, declared.value) if declared else None
    return ProjectFiles(**{**files.__dict__, "declared": found})


def read_folder(root: Path) -> Folder:
    from release.changelog import COMMON_NAMES
    from release.plan.init import Folder

    names = {p.relative_to(root).as_posix() for where in (root, root / "docs") if where.is_dir()
             for p in where.iterdir() if p.is_file()}
    wanted = {n.lower() for n in COMMON_NAMES}
    towncrier = _toml(root / "towncrier.toml").get("tool", {}).get("towncrier")
    return Folder(pyproject=_text(root / "pyproject.toml"), tasks_py=_text(root / "tasks.py"),
                  gitignore=_text(root / ".gitignore"), files=frozenset(names),
                  texts={n: _text(root / n) or "" for n in names if n.lower() in wanted},
                  towncrier=towncrier if isinstance(towncrier, dict) else None)


def show_init(plan: InitPlan, *, dry_run: bool) -> None:
    for line in plan.found:
        console.markup(f"[cyan]found:[/cyan] {console.escape(line)}")
    for write in plan.writes:
        if dry_run:
            added = plan.table if write.path == "pyproject.toml" else write.text
            sys.stdout.write(f"--- {write.path} ({write.action}: {write.what})\n{added}\n")
        else:
            console.ok(f"{write.path}: {write.what} ({write.action})")
    console.markup("[bold]left to decide:[/bold]")
    for line in plan.decide:
        console.markup(f"  - {console.escape(line)}")


@task(help={
    "dry-run": "print what init would write; write nothing",
    "force": "replace an existing [tool.release] (the other tables stay as they are)",
    "registry": "'sandbox' (the local sandbox; default) or host[:port] of the registry the images go to",
    "vote": "'none' (default: the release manager releases) or 'asf' (a PMC votes on each candidate)",
})
@reports_errors
def init(c: Context, dry_run: bool = False, force: bool = False, registry: str = "", vote: str = "") -> None:
    """Write a starting [tool.release], a tasks.py and .gitignore lines into this project."""
    from release.config import NO_VOTE, SANDBOX, VOTE_POLICIES
    from release.plan.init import InitOptions, plan_init
    from release.record import write_atomic
    from release.sandbox.base_images import SANDBOX_SUITES

    registry, vote = registry or SANDBOX, vote or NO_VOTE
    if vote not in VOTE_POLICIES:
        raise ConfigError(f"--vote {vote}: choose one of {', '.join(VOTE_POLICIES)}")
    root = project_root()
    plan = plan_init(read_project_files(root), read_folder(root),
                     InitOptions(flavours=tuple(SANDBOX_SUITES), registry=registry, vote=vote, force=force))
    if not dry_run:
        for write in plan.writes:
            write_atomic(root / write.path, write.text)
    show_init(plan, dry_run=dry_run)
