# SPDX-License-Identifier: Apache-2.0
"""Write the target's GitHub Actions workflows, or say how the committed ones differ from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from release import __version__
from release.config import ReleaseConfig, load_config
from release.errors import ConfigError
from release.plan.workflows import TOOL, Settings, Workflow, is_generated, platforms_of, render

WORKFLOWS_DIR = ".github/workflows"


def settings_for(config: ReleaseConfig, *, profile: Path | None = None) -> Settings:
    """The settings for `config` (read from `profile` when given, which must be in the repository)."""
    relative = ""
    if profile is not None:
        try:
            relative = profile.resolve().relative_to(config.root.resolve()).as_posix()
        except ValueError:
            raise ConfigError(f"{profile}: the profile must be inside {config.root} for the workflows "
                              "to read it from the checkout") from None
    return Settings(tool_version=__version__, platforms=platforms_of(config), profile=relative,
                    from_checkout=is_this_tool(config.root))


def is_this_tool(root: Path) -> bool:
    """True when `root` is this tool's own repository (its [tool.release] name is the tool's)."""
    try:
        own = load_config(root)
    except ConfigError:
        return False
    return own.name == TOOL


def texts(found: tuple[Workflow, ...], settings: Settings) -> dict[str, str]:
    return {w.file: render(w, settings.command) for w in found}


@dataclass(frozen=True)
class Difference:
    file: str
    problem: str  # missing | differs | stale


def _generated_files(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        if is_generated(text):
            found[path.name] = text
    return found


def differences(folder: Path, expected: Mapping[str, str]) -> list[Difference]:
    """How `folder` differs from `expected`; files it holds that nobody generated are left out."""
    found = []
    for name, text in expected.items():
        path = folder / name
        if not path.exists():
            found.append(Difference(name, "missing"))
        elif path.read_text(encoding="utf-8") != text:
            found.append(Difference(name, "differs"))
    found += [Difference(name, "stale") for name in _generated_files(folder) if name not in expected]
    return found


def write(folder: Path, expected: Mapping[str, str]) -> list[Difference]:
    """Make `folder` hold exactly `expected` among the generated files; what was changed."""
    changed = differences(folder, expected)
    folder.mkdir(parents=True, exist_ok=True)
    for change in changed:
        path = folder / change.file
        if change.problem == "stale":
            path.unlink()
        else:
            path.write_text(expected[change.file], encoding="utf-8")
    return changed
