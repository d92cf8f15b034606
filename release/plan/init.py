# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline init`: what it writes into a project, as data. Pure.

From what the project's metadata says (release/plan/project.py) and what its folder holds, the
planner writes a starting `[tool.release]` (name, flavours from `Requires-Python`, the application
command from the console scripts, a base image the chosen registry can serve, the changelog, the
vote policy), a one-line `tasks.py` so `invoke --list` shows the tasks, and the `.gitignore` lines
for `.release/` and `dist/`; and it lists what is left for the release manager to decide.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.changelog import NONE, TOWNCRIER, Changelog, find_section, format_of, locate
from release.config import ASF, DEFAULT_BASE_IMAGE, NO_VOTE, SANDBOX, VOTE_POLICIES, parse_config
from release.errors import ConfigError, RefusedError
from release.newsfragments import towncrier_settings
from release.plan.project import Project, ProjectFiles, allows, read_project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib

SANDBOX_BASE_IMAGE = "{registry}/sandbox/python:{python}"  # the sandbox builds these from Debian
# The flavour that gets the bare tags (`1.2.0`, `latest`): Debian stable's Python first, then the
# newer ones (most wheels exist for them), the oldest last.
DEFAULT_PREFERENCE = ("3.11", "3.13", "3.12", "3.10", "3.14", "3.9")
IGNORED = (".release/", "dist/")  # what the pipeline writes into a checkout
TASKS_LINE = "from release.cli import ns  # noqa: F401  (the release tasks: invoke --list)\n"
_RELEASE_HEADER = re.compile(r"^\s*\[\[?\s*tool\s*\.\s*release\s*(\]|\.)")
_HEADER = re.compile(r"^\s*\[")


@dataclass(frozen=True)
class InitOptions:
    flavours: tuple[str, ...]  # what the pipeline can build here (the sandbox's Debian Pythons)
    registry: str = SANDBOX
    vote: str = NO_VOTE
    force: bool = False


@dataclass(frozen=True)
class Folder:
    """What the project's folder holds that init reads or writes; None for a file that is absent."""

    pyproject: str | None = None
    tasks_py: str | None = None
    gitignore: str | None = None
    files: frozenset[str] = frozenset()  # the files at the top and in docs/ (changelog, Dockerfile)
    texts: Mapping[str, str] = field(default_factory=dict)  # the changelog candidates' contents
    towncrier: Mapping[str, Any] | None = None  # towncrier.toml's [tool.towncrier], if there is one


@dataclass(frozen=True)
class Write:
    path: str
    action: str  # create | append | replace
    text: str  # the file's whole new content
    what: str  # what it adds, in a few words


@dataclass(frozen=True)
class InitPlan:
    project: Project
    flavours: tuple[str, ...]
    default_python: str
    left_out: tuple[tuple[str, str], ...]  # (flavour, why it is not built)
    app_command: tuple[str, ...]
    changelog: Changelog
    table: str  # the [tool.release] table written
    writes: tuple[Write, ...]
    found: tuple[str, ...]  # what init read from the project, one line each
    decide: tuple[str, ...]  # what is left to the release manager, one line each


def _toml(value: Any) -> str:
    """A TOML value: strings and lists of strings, as JSON writes them (TOML basic strings agree)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def choose_flavours(project: Project, available: Sequence[str]) -> tuple[tuple[str, ...], str,
                                                                          tuple[tuple[str, str], ...]]:
    """(flavours, default flavour, (flavour, why left out)...) from `Requires-Python`."""
    chosen = tuple(f for f in available if allows(project.requires_python, f))
    left_out = tuple((f, f"Requires-Python {project.requires_python} excludes it") for f in available
                     if f not in chosen)
    if not chosen:
        raise ConfigError(f"{project.name}'s Requires-Python {project.requires_python} allows none of the "
                          f"Pythons the pipeline builds ({', '.join(available)})")
    default = next((f for f in DEFAULT_PREFERENCE if f in chosen), chosen[0])
    return chosen, default, left_out


def app_command_of(project: Project) -> tuple[str, ...]:
    """The console script named like the project (else the first), asked for its version."""
    if not project.scripts:
        return ()
    name = project.name.lower()
    wanted = {name, name.replace("_", "-"), name.split("-")[-1]}
    script = next((s for s in project.scripts if s.lower() in wanted), project.scripts[0])
    return (script, "--version")


def _changelog(project: Project, folder: Folder, pyproject: Mapping[str, Any]) -> Changelog:
    table = folder.towncrier if folder.towncrier is not None else pyproject.get("tool", {}).get("towncrier")
    settings = towncrier_settings(table, project_name=project.name) if isinstance(table, Mapping) else None
    return locate(folder.files, configured=None, towncrier=settings)


def render_table(project: Project, options: InitOptions, flavours: Sequence[str], default: str,
                 app_command: Sequence[str], changelog: Changelog) -> str:
    """The `[tool.release]` table, with a comment on each choice a release manager may revisit."""
    lines = ["[tool.release]",
             "# Written by `release-pipeline init`: what a release ships and where it goes (see",
             "# release-pipeline's docs/adopting.md). `invoke release --version V --dry-run` shows the plan.",
             f"name = {_toml(project.name)}",
             f"# The version: {project.version.where}; a release refuses another version than the tree's.",
             f"# Python flavours: those Requires-Python ({project.requires_python or 'not set'}) allows "
             "among what the pipeline builds.",
             f"python = {_toml(list(flavours))}",
             f"default-python = {_toml(default)}",
             '# How a release is approved: "none" (the release manager releases) or "asf" (a PMC votes on',
             "# each release candidate, which passes the PMC's LICENSE, NOTICE and header checks first).",
             f"vote = {_toml(options.vote)}"]
    if changelog.format == NONE:
        lines.append('changelog = ""  # none found: the emails say there are no release notes')
    elif changelog.format == TOWNCRIER:
        lines.append('changelog-format = "towncrier"  # the news file\'s section, else the news fragments')
    else:
        lines.append(f"changelog = {_toml(changelog.path)}")
    where = "the local sandbox (a run starts it)" if options.registry == SANDBOX else "real services"
    base = SANDBOX_BASE_IMAGE if options.registry == SANDBOX else DEFAULT_BASE_IMAGE
    lines += [f"# Where a release goes: {where}; set real ones when you are ready.",
              f"registry = {_toml(options.registry)}",
              'index = "sandbox"', 'svn-dev = "sandbox"', 'svn-release = "sandbox"',
              'signing-key = "sandbox"',
              f"base-image = {_toml(base)}"]
    if app_command:
        lines += ["# The application's command: every image must run it and print the version.",
                  f"app-command = {_toml(list(app_command))}",
                  f"smoke-commands = [{{ command = {_toml(list(app_command))}, expect = \"{{version}}\" }}]"]
    lines.append('# mailing-list = "dev@lists.example.org"  # where the candidate and result emails go')
    if options.vote == ASF:
        lines.append('# binding-voters = ["jane@apache.org"]  # the PMC, whose votes are binding')
    return "\n".join(lines) + "\n"


def _without_release(text: str) -> str:
    """`text` without its `[tool.release]` tables (and their sub-tables), line by line."""
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        if _RELEASE_HEADER.match(line):
            inside = True
        elif _HEADER.match(line):
            inside = False
        if not inside:
            kept.append(line)
    return "".join(kept)


def _others(data: Mapping[str, Any]) -> dict[str, Any]:
    """The document without tool.release (and without an emptied [tool])."""
    others = {k: v for k, v in data.items() if k != "tool"}
    tool = {k: v for k, v in data.get("tool", {}).items() if k != "release"}
    return {**others, **({"tool": tool} if tool else {})}


def with_release_table(text: str | None, table: str, *, force: bool) -> tuple[str, str]:
    """(pyproject.toml's new text, create | append | replace): `table` added, or in place of the one
    there with `force`; every other table stays as it was, or nothing is written."""
    if text is None:
        return table, "create"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"pyproject.toml: not valid TOML ({exc}); fix it first") from None
    if "release" not in data.get("tool", {}):
        return text.rstrip("\n") + ("\n\n" if text.strip() else "") + table, "append"
    if not force:
        raise RefusedError("pyproject.toml already has [tool.release]; release-pipeline init --force "
                           "replaces it")
    rest = _without_release(text)
    try:
        left = tomllib.loads(rest)
        same = _others(left) == _others(data) and "release" not in left.get("tool", {})
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        raise RefusedError("pyproject.toml: [tool.release] cannot be told apart from the tables around it "
                           "(a dotted key or a multi-line string?); remove it by hand, then run "
                           "release-pipeline init")
    return rest.rstrip("\n") + "\n\n" + table, "replace"


def _ignored(text: str, entry: str) -> bool:
    name = entry.strip("/")
    return any(line.strip().strip("/") == name for line in text.splitlines())


def _writes(folder: Folder, table: str, options: InitOptions) -> list[Write]:
    pyproject, action = with_release_table(folder.pyproject, table, force=options.force)
    writes = [Write("pyproject.toml", action, pyproject, "[tool.release]")]
    if folder.tasks_py is None:
        header = "# SPDX-License-Identifier: Apache-2.0\n" if options.vote == ASF else ""
        writes.append(Write("tasks.py", "create", header + TASKS_LINE, "the release tasks for invoke"))
    missing = [entry for entry in IGNORED if not _ignored(folder.gitignore or "", entry)]
    if missing:
        lines = "# what release-pipeline writes\n" + "".join(f"{m}\n" for m in missing)
        old = folder.gitignore
        text = lines if old is None else old + ("" if old.endswith("\n") or not old else "\n") + lines
        writes.append(Write(".gitignore", "create" if old is None else "append", text, ", ".join(missing)))
    return writes


def _check_written(table: str) -> None:
    """What init writes must be a config the pipeline reads (a failure here is a bug of init's)."""
    parse_config(Path(), tomllib.loads(table)["tool"]["release"])


def plan_init(files: ProjectFiles, folder: Folder, options: InitOptions) -> InitPlan:
    """Everything `release-pipeline init` writes and says, from the project's files."""
    if options.vote not in VOTE_POLICIES:
        raise ConfigError(f"--vote {options.vote}: choose one of {', '.join(VOTE_POLICIES)}")
    project = read_project(files)
    flavours, default, left_out = choose_flavours(project, options.flavours)
    app_command = app_command_of(project)
    changelog = _changelog(project, folder, files.pyproject)
    table = render_table(project, options, flavours, default, app_command, changelog)
    _check_written(table)
    writes = _writes(folder, table, options)
    found = _found(project, flavours, left_out, app_command, changelog)
    return InitPlan(project, flavours, default, left_out, app_command, changelog, table, tuple(writes), found,
                    _decide(project, folder, options, flavours, app_command, changelog, files))


def _found(project: Project, flavours: Sequence[str], left_out: Sequence[tuple[str, str]],
           app_command: Sequence[str], changelog: Changelog) -> tuple[str, ...]:
    lines = [f"{project.name}: built with {project.backend}; version from {project.version.where}",
             f"Python flavours {', '.join(flavours)}"
             + (f" ({'; '.join(f'{f}: {why}' for f, why in left_out)})" if left_out else "")]
    if app_command:
        others = [s for s in project.scripts if s != app_command[0]]
        lines.append(f"application command: {' '.join(app_command)}"
                     + (f" (other console scripts: {', '.join(others)})" if others else ""))
    lines.append(f"changelog: {changelog.describe()}")
    return tuple(lines)


def _decide(project: Project, folder: Folder, options: InitOptions, flavours: Sequence[str],
            app_command: Sequence[str], changelog: Changelog, files: ProjectFiles) -> tuple[str, ...]:
    decide = []
    if project.version.from_tags:
        decide.append(f"the version comes from {project.version.where}; the pipeline builds the version "
                      "declared in a file ([project] version, __version__, version=): declare it in one")
    elif project.version.kind == "unknown" and files.declared is None:
        decide.append("no declared version found: set [project] version, or __version__ in the package")
    if project.compiled:
        decide.append(f"{project.backend} builds compiled wheels; the pipeline releases pure-Python wheels "
                      "only")
    unlisted = [f for f in flavours if project.classifiers and f not in project.classifiers]
    if unlisted:
        decide.append(f"Python {', '.join(unlisted)}: allowed by Requires-Python but not among its "
                      f"classifiers ({', '.join(project.classifiers)}); drop them from python if it does not "
                      "work there")
    if not app_command:
        decide.append("no console script: set app-command to a command every image must run")
    else:
        decide.append(f"check that `{' '.join(app_command)}` prints the version; if {app_command[0]} serves "
                      "HTTP, add health-check = { command = [...], url = \"http://127.0.0.1:PORT/\" }, "
                      "and default-command = [...] and expose = [PORT] so `docker run IMAGE` serves it")
    if changelog.format not in {NONE, TOWNCRIER} and changelog.path in folder.texts and files.declared:
        text, version = folder.texts[changelog.path], files.declared[1]
        if find_section(text, version, format_of(changelog.path, text)) is None:
            decide.append(f"{changelog.path} has no section for {version}: each release needs one")
    if "Dockerfile" in folder.files:  # without `dockerfile` the images use the one release-pipeline ships
        decide.append("Dockerfile: the images are built from the Dockerfile release-pipeline ships; to build "
                      "them from the project's own, set dockerfile = \"Dockerfile\" (docs/images.md: what it "
                      "must provide)")
    if folder.tasks_py is not None and "release.cli" not in folder.tasks_py:
        decide.append("tasks.py is the project's own: add `from release.cli import ns` to it (or run the "
                      "tasks as release-pipeline TASK)")
    decide += [
        "signing-key: the sandbox signs with a throwaway key; set your key's fingerprint for a real release",
        "mailing-list and announce-list: where the emails go (until set, they say so instead of an address)",
        "registry, index, svn-dev, svn-release: the sandbox now; real ones when you release for real",
    ]
    if options.vote == ASF:
        decide.append("KEYS: your public key in svn-release's <name>/KEYS; binding-voters: the PMC")
    return tuple(decide)
