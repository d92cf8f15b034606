# SPDX-License-Identifier: Apache-2.0
"""The release notes of a version, read from a tree (the export of the commit being released, by
the build step and the preflight): which changelog, in which format, and its section are
release/changelog.py's to decide; this module only reads the files it names."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from release.changelog import Changelog, locate, release_notes
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError
from release.newsfragments import Towncrier, towncrier_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot be read as TOML ({exc})") from None


def towncrier_of(tree: Path, project_name: str, folders: tuple[str, ...] = (".",)) -> Towncrier | None:
    """The towncrier settings of the first of `folders` (relative to `tree`) that has any:
    `towncrier.toml` (which towncrier prefers), else `[tool.towncrier]` in pyproject.toml."""
    for folder in dict.fromkeys(folders):
        pyproject = _toml(tree / folder / "pyproject.toml")
        name = pyproject.get("project", {}).get("name") or project_name
        for data in (_toml(tree / folder / "towncrier.toml"), pyproject):
            table = data.get("tool", {}).get("towncrier")
            if isinstance(table, dict):
                return towncrier_settings(table, project_name=str(name), base="" if folder == "." else folder)
    return None


def changelog_of(tree: Path, config: ReleaseConfig) -> Changelog:
    """Where `tree`'s release notes are, by `[tool.release] changelog` and `changelog-format`."""
    files = {p.relative_to(tree).as_posix() for folder in (tree, tree / "docs") if folder.is_dir()
             for p in folder.iterdir() if p.is_file()}
    if config.changelog and (tree / config.changelog).is_file():
        files.add(config.changelog)
    return locate(files, configured=config.changelog, fmt=config.changelog_format,
                  towncrier=towncrier_of(tree, config.name, (".", config.main.path)))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise RefusedError(f"{path.name} is not UTF-8 text; save it as UTF-8 and commit it") from None


def notes_of(tree: Path, config: ReleaseConfig, version: str) -> str:
    """The release notes of `version` in `tree`; "" when the project keeps no changelog."""
    changelog = changelog_of(tree, config)
    fragments: dict[str, str] = {}
    if changelog.towncrier is not None:
        for _, folder in changelog.towncrier.folders:
            where = tree / folder
            if where.is_dir():
                fragments.update({p.relative_to(tree).as_posix(): p.read_text("utf-8", errors="replace")
                                  for p in sorted(where.iterdir()) if p.is_file()})
    text = _read(tree / changelog.path) if changelog.path else None
    return release_notes(changelog, version, text=text, fragments=fragments)
