# SPDX-License-Identifier: Apache-2.0
"""What the commands that only answer (`--help`, `--version`, `TASK --help`, `invoke --list`) load:
none of the clients of outside systems, the SBOM tools, rich's tables or the pipeline. Read from
`sys.modules` of a real process, so it says which import came back, not how long it took (`nox -s
bench -- --only startup` prints the times)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from release.cli import ns

# Packages whose import cost a second or more at start, and the package's own heavy layers.
NOT_AT_START = ("docker", "requests", "urllib3", "git", "twine", "cryptography", "cyclonedx", "jsonschema",
                "rfc3987_syntax", "rich.table", "build", "packaging", "release.pipeline", "release.steps",
                "release.adapters", "release.sandbox", "release.plan", "release.config")

# Runs each command in one process, one after another, and prints what each added to sys.modules.
PROBE = """
import json, sys
runs = json.loads(sys.argv[1])
found = {}
for name, argv in runs:
    before = set(sys.modules)
    try:
        if name == "invoke --list":
            from invoke.main import program
            program.run(argv, exit=False)
        else:
            from release.cli.main import main
            main(argv)
    except SystemExit:
        pass
    found[" ".join([name] if name == "invoke --list" else ["release-pipeline", *argv])] = sorted(
        set(sys.modules) - before)
sys.stderr.write("\\nMODULES " + json.dumps(found) + "\\n")
"""


def loaded(*runs: tuple[str, list[str]]) -> dict[str, list[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(runs)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    line = next(line for line in result.stderr.splitlines() if line.startswith("MODULES "))
    found: dict[str, list[str]] = json.loads(line.removeprefix("MODULES "))
    return found


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_AT_START)]


def test_version_answers_without_loading_invoke() -> None:
    (modules,) = loaded(("", ["--version"])).values()
    assert "release.cli.main" in modules
    assert not [m for m in modules if m == "invoke" or m.startswith("invoke.")
                or (m.startswith("release.") and m not in {"release.cli", "release.cli.main"})]


@pytest.mark.parametrize("argv", [["--help"], ["--list"], ["--version", "--help"]], ids=" ".join)
def test_the_command_s_own_help_loads_nothing_heavy(argv: list[str]) -> None:
    (modules,) = loaded(("", argv)).values()
    assert not heavy(modules)


def test_every_task_s_help_loads_nothing_heavy() -> None:
    tasks = sorted(ns.task_names)
    assert len(tasks) >= 20
    found = loaded(*(("", [task, "--help"]) for task in tasks))
    assert len(found) == len(tasks)
    assert {command: heavy(modules) for command, modules in found.items() if heavy(modules)} == {}


def test_invoke_list_in_this_repository_loads_nothing_heavy() -> None:
    found = loaded(("invoke --list", ["invoke", "--list"]))
    assert found["invoke --list"], "the probe ran no `invoke --list`"
    assert heavy(found["invoke --list"]) == []
