# SPDX-License-Identifier: Apache-2.0
"""The package's shape, read from its sources with `ast` (nothing is imported or run):

- only `release/adapters/` imports the clients of outside systems (docker, requests, ...);
- each module imports only modules of its own layer or a lower one (LAYERS, lowest first);
- no import cycles among the package's modules;
- the command line imports only the pipeline, the plan types it shows, the console and the pure
  rules it parses options with;
- a step does not import another step module: the pipeline sequences the steps (the one tag mover,
  `steps/tags.py`, is the one shared service every step may use);
- a step does not write the release record (no `step_done`, `save`, `set_*`, `put_*` or `add_*` of
  ReleaseRecord): it returns what it produced, and the pipeline records it;
- `benchmarks/` stays out of the installed package, and the package never imports it;
- the code that runs inside images (`release/image/`, but for its host side) imports only the
  standard library and is imported by nothing: it is package data, run with the image's python3.

Every import counts: at module level, inside functions, and under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import setuptools

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "release"

# Lowest first. A module may import modules of its own layer and of the layers before it.
# An entry is a module name; `pkg.*` stands for a package and everything in it.
# Entries for modules that do not exist (yet) are fine; a module in no layer fails the test.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("release", "release.errors", "release.versions", "release.platforms", "release.console",
     "release.progress", "release.urls", "release.identity", "release.image", "release.image.__main__"),  # 1
    ("release.config", "release.changelog", "release.newsfragments", "release.notes", "release.record",
     "release.locks", "release.roster", "release.votes", "release.vote_thread", "release.emails",
     "release.licences", "release.trains"),  # 2: pure rules and texts
    ("release.plan.*",),  # 3: pure
    ("release.adapters.*",),  # 4: the only doors out
    ("release.sandbox.*",),  # 5
    ("release.steps.*",),  # 6
    ("release.pipeline.*",),  # 7
    ("release.cli.*",),  # 8
)

# (importing module, imported module) pairs that break the layering today and are someone else's
# to fix, e.g. ("release.plan.release", "release.steps.build"): each is an expected failure, and
# the test fails once it is gone, so remove it then. None today.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()

# Clients of outside systems: only release/adapters/ may import them (or anything inside them).
OUTSIDE_CLIENTS = ("docker", "requests", "git", "twine", "subprocess", "urllib.request", "http.client",
                   "socket")
ADAPTERS = "release.adapters.*"

# (module, client) -> why that module may import it anyway. Stale entries fail the test.
CLIENT_EXCEPTIONS: Mapping[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports, as written (absolute), e.g. `release.adapters.git` or `docker.errors`
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(package: str) -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


# The scripts that run inside images (release/image/*.py but the package's own host side): not
# part of the library's layers, checked on their own below.
IN_IMAGE_PACKAGE = "release.image"
HOST_SIDE = frozenset({"release.image", "release.image.__main__"})
IN_IMAGE = {module: path for module, path in _sources(PACKAGE).items()
            if module.startswith(f"{IN_IMAGE_PACKAGE}.") and module not in HOST_SIDE}
MODULES = {module: path for module, path in _sources(PACKAGE).items() if module not in IN_IMAGE}


def _imports(module: str, path: Path) -> Iterator[Import]:
    """Every import in the file, relative ones made absolute; `from a import b` yields `a.b`."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*parts, *([base] if base else [])])
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}" if alias.name != "*" else base, node.lineno)


ALL_IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _package_module(target: str) -> str | None:
    """The module of the package an import names: `release.sandbox.Services` -> `release.sandbox`."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def _matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return module == pattern[:-2] or fnmatch.fnmatchcase(module, pattern)
    return module == pattern


def _layer(module: str) -> int | None:
    found = [number for number, entries in enumerate(LAYERS, 1) if any(_matches(module, e) for e in entries)]
    return found[0] if found else None


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for imp in ALL_IMPORTS:
        target = _package_module(imp.target)
        if target is not None and target != imp.module:
            graph[imp.module].add(target)
    return graph


# --- outside systems ---------------------------------------------------------------------------------


def _client_of(target: str) -> str | None:
    return next((c for c in OUTSIDE_CLIENTS if target == c or target.startswith(c + ".")), None)


def test_only_the_adapters_import_clients_of_outside_systems() -> None:
    found = {}
    for imp in ALL_IMPORTS:
        client = _client_of(imp.target)
        if client is not None and not _matches(imp.module, ADAPTERS):
            found.setdefault((imp.module, client), f"{MODULES[imp.module].relative_to(ROOT)}:{imp.line}")
    unexpected = {key: where for key, where in found.items() if key not in CLIENT_EXCEPTIONS}
    assert not unexpected, (
        "only release/adapters/ may talk to outside systems; move these calls into the adapter for "
        f"that system: {', '.join(f'{where} imports {client}' for (_, client), where in unexpected.items())}"
    )
    stale = sorted(set(CLIENT_EXCEPTIONS) - set(found))
    assert not stale, f"these CLIENT_EXCEPTIONS no longer happen; remove them: {stale}"


def test_the_client_check_sees_every_spelling_of_an_import(tmp_path: Path) -> None:
    source = tmp_path / "release" / "steps" / "probe.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "import docker.errors\nfrom urllib import request\nfrom http import client as c\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import git\n"
        "def later():\n    import subprocess\n    from socket import socket\n"
        "from release.adapters import git as ours\nimport urllib.parse\nfrom http import server\n",
        encoding="utf-8",
    )
    targets = [imp.target for imp in _imports("release.steps.probe", source)]
    clients = sorted({c for c in map(_client_of, targets) if c is not None})
    assert clients == ["docker", "git", "http.client", "socket", "subprocess", "urllib.request"]


# --- who may use whom above the layers ------------------------------------------------------------

# What release/cli/ may import: the pipeline, the plans it shows, the console, and the pure rules it
# parses options and the configuration with.
CLI = "release.cli.*"
CLI_MAY_IMPORT = ("release.cli.*", "release.pipeline.*", "release.plan.*", "release.console", "release",
                  "release.errors", "release.versions", "release.config", "release.progress", "release.votes")
# (cli module, imported module) -> why it may anyway. Stale entries fail the test.
CLI_EXCEPTIONS: Mapping[tuple[str, str], str] = {
    ("release.cli.sandbox", "release.sandbox"): "the sandbox tasks start and stop the local services",
}

STEPS = "release.steps.*"
# The one shared service every step may use: the tag mover.
SHARED_STEPS = ("release.steps.tags",)
# (step, other step) -> why it uses it today. Each is a step the pipeline should sequence instead
# (or a helper to move below the steps); the test fails once one is gone, so remove it then.
KNOWN_STEP_IMPORTS: Mapping[tuple[str, str], str] = {}  # none today


def _steps_imported(module: str) -> set[str]:
    found = set()
    for imp in ALL_IMPORTS:
        target = _package_module(imp.target)
        if imp.module == module and target is not None and target != module and _matches(target, STEPS):
            found.add(target)
    return found


def test_the_command_line_imports_only_the_pipeline_the_plans_and_the_console() -> None:
    found = {}
    for imp in ALL_IMPORTS:
        target = _package_module(imp.target)
        if (_matches(imp.module, CLI) and target is not None
                and not any(_matches(target, allowed) for allowed in CLI_MAY_IMPORT)):
            found.setdefault((imp.module, target), f"{MODULES[imp.module].relative_to(ROOT)}:{imp.line}")
    unexpected = {key: where for key, where in found.items() if key not in CLI_EXCEPTIONS}
    listed = ", ".join(f"{where} imports {target}" for (_, target), where in unexpected.items())
    assert not unexpected, f"release/cli/ goes through the pipeline: {listed}"
    stale = sorted(set(CLI_EXCEPTIONS) - set(found))
    assert not stale, f"these CLI_EXCEPTIONS no longer happen; remove them: {stale}"


def test_a_step_does_not_import_another_step_but_the_tag_mover() -> None:
    found = {(module, other) for module in MODULES if _matches(module, STEPS)
             for other in _steps_imported(module) if other not in SHARED_STEPS}
    unexpected = sorted(found - set(KNOWN_STEP_IMPORTS))
    assert not unexpected, ("a step does not orchestrate other steps (the pipeline does) nor import them: "
                            + ", ".join(f"{a} imports {b}" for a, b in unexpected))
    stale = sorted(set(KNOWN_STEP_IMPORTS) - found)
    assert not stale, f"these KNOWN_STEP_IMPORTS no longer happen; remove them: {stale}"


# --- the record is written by the pipeline --------------------------------------------------------

RECORD_WRITER = re.compile(r"step_done|save|(set|put|add)_\w+")
# step -> why it still writes the release record itself. Each is to return its entries for the
# pipeline to record instead; the test fails once one no longer writes, so remove it then. None today.
KNOWN_RECORD_WRITERS: Mapping[str, str] = {}


def _record_writers() -> frozenset[str]:
    """The methods of ReleaseRecord that change it, read from release/record.py."""
    tree = ast.parse((ROOT / PACKAGE / "record.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "ReleaseRecord":
            return frozenset(f.name for f in node.body
                             if isinstance(f, ast.FunctionDef) and RECORD_WRITER.fullmatch(f.name))
    raise AssertionError("release/record.py defines ReleaseRecord no more; update this test")


def _named(node: ast.expr) -> str:
    """What an expression is called by its last name: `candidate.record` -> `record`,
    `load_record(...)` -> `load_record`; "" for anything else."""
    if isinstance(node, ast.Call):
        return _named(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _record_writes(path: Path) -> list[tuple[str, int]]:
    """(method, line) of each call of a record writer on something named a record (`record`,
    `rc_record`, `candidate.record`, `load_record(...)`): how the steps spell a ReleaseRecord."""
    writers = _record_writers()
    return [(node.func.attr, node.lineno) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in writers and "record" in _named(node.func.value).lower()]


def test_the_record_writers_are_read_from_the_record() -> None:
    assert {"step_done", "save", "set_stage", "set_vote_result", "set_promotion", "set_withdrawal",
            "set_build", "add_files", "add_signatures", "put_image", "put_sbom"} <= _record_writers()
    assert not {"is_done", "files_in", "wheels", "to_json"} & _record_writers()


def test_the_record_write_check_sees_each_spelling(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "record.step_done('x')\ncandidate.record.add_files([])\nload_record(d, v).set_withdrawal(w)\n"
        "rc_record.set_stage(s)\nregistry.put_index(i, [])\nsvn.put_files(u, [], 'm')\nrecord.is_done('x')\n",
        encoding="utf-8")
    assert _record_writes(source) == [("step_done", 1), ("add_files", 2), ("set_withdrawal", 3),
                                      ("set_stage", 4)]


def test_steps_return_what_they_produced_and_only_the_pipeline_writes_the_record() -> None:
    found = {module: _record_writes(path) for module, path in MODULES.items() if _matches(module, STEPS)}
    writing = {module: calls for module, calls in found.items() if calls}
    unexpected = {module: calls for module, calls in writing.items() if module not in KNOWN_RECORD_WRITERS}
    assert not unexpected, ("a step returns what it produced and the pipeline records it: " + ", ".join(
        f"{MODULES[m].relative_to(ROOT)}:{line} calls {name}" for m, calls in unexpected.items()
        for name, line in calls))
    stale = sorted(set(KNOWN_RECORD_WRITERS) - set(writing))
    assert not stale, f"these KNOWN_RECORD_WRITERS no longer write the record; remove them: {stale}"


def test_the_pipeline_builds_the_clients_and_no_step_does() -> None:
    """No step constructs a client of an outside system: the pipeline builds one set per command."""
    constructors = ("RegistryClient(", "PackageIndex(", "Engine(")
    found = [f"{path.relative_to(ROOT)}: {name}" for module, path in MODULES.items()
             if _matches(module, STEPS) for name in constructors if name in path.read_text(encoding="utf-8")]
    assert not found, f"steps take their clients from the pipeline: {found}"


# --- layers ------------------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    missing = sorted(module for module in MODULES if _layer(module) is None)
    assert not missing, f"put these modules in a layer of LAYERS in {Path(__file__).name}: {missing}"


def test_modules_import_only_their_own_layer_or_lower() -> None:
    violations = {}
    for imp in ALL_IMPORTS:
        target = _package_module(imp.target)
        if target is None:
            continue
        mine, theirs = _layer(imp.module), _layer(target)
        if mine is not None and theirs is not None and theirs > mine:
            where = f"{MODULES[imp.module].relative_to(ROOT)}:{imp.line}"
            text = f"{where}: layer {mine} imports {target} (layer {theirs})"
            violations.setdefault((imp.module, target), text)
    unexpected = [text for key, text in sorted(violations.items()) if key not in KNOWN_VIOLATIONS]
    assert not unexpected, "imports that go up the layers:\n" + "\n".join(unexpected)
    stale = sorted(KNOWN_VIOLATIONS - set(violations))
    assert not stale, f"these KNOWN_VIOLATIONS are fixed; remove them: {stale}"


@pytest.mark.parametrize(
    ("module", "layer"),
    [("release", 1), ("release.errors", 1), ("release.record", 2), ("release.plan", 3),
     ("release.plan.tags", 3), ("release.adapters.git", 4), ("release.sandbox", 5),
     ("release.pipeline.connect", 7), ("release.cli.main", 8), ("release.releases", None)],
)
def test_the_layer_table_reads_as_written(module: str, layer: int | None) -> None:
    assert _layer(module) == layer


# --- cycles ------------------------------------------------------------------------------------------


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle (`a -> b -> a`) per strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: Mapping[str, set[str]], component: set[str]) -> list[str]:
    start = min(component)
    paths = [[start]]
    while paths:  # breadth first: the shortest way back to `start`
        path = paths.pop(0)
        for nxt in sorted(graph[path[-1]] & component):
            if nxt == start:
                return [*path, start]
            if nxt not in path:
                paths.append([*path, nxt])
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component always has one


def test_no_import_cycles() -> None:
    cycles = _cycles(_edges())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_cycle_finder_reports_the_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# --- code that runs inside images -------------------------------------------------------------------


def test_there_is_code_that_runs_inside_images() -> None:
    assert {"release.image.smoke_probe", "release.image.fetch_wheels"} <= set(IN_IMAGE)


def test_code_that_runs_inside_images_imports_only_the_standard_library() -> None:
    import sys

    found = {}
    for module, path in IN_IMAGE.items():
        for imp in _imports(module, path):
            top = imp.target.split(".")[0]
            if top == "__future__" or (top in sys.stdlib_module_names and top != PACKAGE):
                continue
            if imp.target.startswith("pip._vendor."):  # the build stage puts pip's wheel on sys.path
                continue
            found[f"{path.relative_to(ROOT)}:{imp.line}"] = imp.target
    assert not found, f"code that runs inside images imports beyond the standard library: {found}"


def test_nothing_imports_the_code_that_runs_inside_images() -> None:
    found = [f"{MODULES[imp.module].relative_to(ROOT)}:{imp.line}" for imp in ALL_IMPORTS
             if any(imp.target == m or imp.target.startswith(f"{m}.") for m in IN_IMAGE)]
    assert not found, f"in-image scripts are package data, run inside images, not imported: {found}"


# --- benchmarks --------------------------------------------------------------------------------------


def _find_packages_include() -> list[str]:
    """The `include=` list of setup.py's find_packages(...) call."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "find_packages":
            for keyword in node.keywords:
                if keyword.arg == "include":
                    value = ast.literal_eval(keyword.value)
                    assert isinstance(value, list)
                    return [str(item) for item in value]
    raise AssertionError("setup.py calls find_packages(include=[...]) no more; update this test")


def test_benchmarks_are_not_in_the_installed_package() -> None:
    include = _find_packages_include()
    assert all(pattern == PACKAGE or pattern.startswith(f"{PACKAGE}.") for pattern in include), include
    packages = setuptools.find_packages(str(ROOT), include=include)
    assert PACKAGE in packages and "release.adapters" in packages
    assert not [p for p in packages if not (p == PACKAGE or p.startswith(f"{PACKAGE}."))], packages


def test_the_package_never_imports_benchmarks() -> None:
    found = [f"{MODULES[imp.module].relative_to(ROOT)}:{imp.line}" for imp in ALL_IMPORTS
             if imp.target == "benchmarks" or imp.target.startswith("benchmarks.")]
    assert not found, f"release/ imports benchmarks/: {found}"
