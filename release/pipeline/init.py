# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline init` against a project's folder: its metadata and files read, the starting
configuration planned from them (pure, release/plan/init.py), and what the plan writes written."""

from __future__ import annotations

import configparser
import email.parser
import sys
from pathlib import Path
from typing import Any

from release.changelog import COMMON_NAMES
from release.errors import ConfigError
from release.plan.init import Folder, InitOptions, InitPlan, plan_init
from release.plan.project import ProjectFiles, project_name
from release.record import write_atomic
from release.sandbox.base_images import SANDBOX_SUITES
from release.steps.build import find_declared_version

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
    """The files init adds to or looks at: pyproject.toml, tasks.py, .gitignore, the changelog and
    the towncrier configuration."""
    names = {p.relative_to(root).as_posix() for where in (root, root / "docs") if where.is_dir()
             for p in where.iterdir() if p.is_file()}
    wanted = {n.lower() for n in COMMON_NAMES}
    towncrier = _toml(root / "towncrier.toml").get("tool", {}).get("towncrier")
    return Folder(pyproject=_text(root / "pyproject.toml"), tasks_py=_text(root / "tasks.py"),
                  gitignore=_text(root / ".gitignore"), files=frozenset(names),
                  texts={n: _text(root / n) or "" for n in names if n.lower() in wanted},
                  towncrier=towncrier if isinstance(towncrier, dict) else None)


def plan_project_init(root: Path, *, registry: str, vote: str, force: bool) -> InitPlan:
    """What init would write into the project at `root`, the sandbox's flavours as its Pythons."""
    return plan_init(read_project_files(root), read_folder(root),
                     InitOptions(flavours=tuple(SANDBOX_SUITES), registry=registry, vote=vote, force=force))


def write_init(root: Path, plan: InitPlan) -> None:
    """Write every file of the plan, each atomically."""
    for write in plan.writes:
        write_atomic(root / write.path, write.text)
