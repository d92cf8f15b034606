# SPDX-License-Identifier: Apache-2.0
"""Write the target's GitHub Actions workflows, or say how the committed ones differ from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from release import __version__
from release.config import ReleaseConfig, load_config
from release.errors import ConfigError
from release.plan.workflows import (
    REQUIREMENTS_FILE,
    TOOL,
    Settings,
    Workflow,
    is_generated,
    licence_of,
    platforms_of,
    render,
)

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
    licence = config.root / "LICENSE"
    return Settings(tool_version=__version__, platforms=platforms_of(config), profile=relative,
                    from_checkout=is_this_tool(config.root),
                    licence=licence_of(licence.read_text(encoding="utf-8", errors="replace"))
                    if licence.is_file() else "")


def is_this_tool(root: Path) -> bool:
    """True when `root` is this tool's own repository (its [tool.release] name is the tool's)."""
    try:
        own = load_config(root)
    except ConfigError:
        return False
    return own.name == TOOL


def texts(found: tuple[Workflow, ...], settings: Settings) -> dict[str, str]:
    return {w.file: render(w, settings.command, licence=settings.licence) for w in found}


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


def requirements_problem(root: Path, found: tuple[Workflow, ...], settings: Settings) -> str:
    """What is wrong with REQUIREMENTS_FILE, which the jobs holding secrets install by hash: "" when
    no job installs from it, or when it pins every requirement with a hash and the tool at the
    version that generated the workflows (this repository: its own requirements, the checkout is
    installed apart)."""
    if not any(REQUIREMENTS_FILE in render(w, settings.command) for w in found):
        return ""
    path = root / REQUIREMENTS_FILE
    how = (f"make it with `pip-compile --generate-hashes` (or `uv pip compile --generate-hashes`) from a "
           f"line `{TOOL}=={settings.tool_version}`; docs/ci.md")
    holds = f"the jobs holding secrets install {TOOL} by hash from it"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return f"{REQUIREMENTS_FILE} is missing: {holds}; {how}"
    pinned: dict[str, str] = {}
    for line in text.replace("\\\n", " ").splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0].startswith("-"):
            continue
        try:
            requirement = Requirement(words[0])
        except InvalidRequirement:
            return f"{REQUIREMENTS_FILE}: {words[0][:60]!r} is not a requirement; {how}"
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or not any(
                w.startswith("--hash=") for w in words[1:]):
            return f"{REQUIREMENTS_FILE}: {words[0][:60]} is not pinned with == and a --hash; {how}"
        pinned[canonicalize_name(requirement.name)] = specifiers[0].version
    if not settings.from_checkout and pinned.get(TOOL) != settings.tool_version:
        return (f"{REQUIREMENTS_FILE} pins {TOOL} {pinned.get(TOOL, 'nowhere')}, not {settings.tool_version} "
                f"(the version that writes the workflows); {how}")
    return ""
