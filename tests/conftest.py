# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: a throwaway git checkout of the sample application."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from release import sandbox
from release.sandbox import dockerd
from release.sandbox import services as sandbox_services
from release.sandbox.state import Layout

# No test asserts a time: hypothesis's per-example deadline would fail a slow but correct example
# on a loaded machine, so it is off for the whole suite.
settings.register_profile("release-pipeline", deadline=None)
settings.load_profile("release-pipeline")

FIXTURES = Path(__file__).parent / "fixtures"
CLOSING_FIGURES = pytest.StashKey[list[str]]()  # the fault suite's figures, shown after the results
# The fault suite needs root (it mounts a tmpfs). Not as root its tests fail, saying so, unless this is
# "1": then they are skipped (CI runs as root, so there the suite always runs).
SKIP_FAULTS = "RELEASE_PIPELINE_SKIP_FAULTS"
REPO_ROOT = Path(__file__).parent.parent


@contextlib.contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 answering with `handler`, in a thread; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return result.stdout.strip()


def vote_policy(vote: str) -> str:
    """The [tool.release] lines of a vote policy: `none` (a final ships in one command) keeps the
    source checks an ASF vote has, so a test of one policy checks no less than one of the other."""
    return f'vote = "{vote}"\n' + ("source-checks = true\n" if vote == "none" else "")


def make_sample_repo(dest: Path, *, version: str = "1.10.6", fixture: str = "sample", vote: str = "") -> Path:
    """Copy the sample app into `dest` as a one-commit git repo (it has no Dockerfile of its own: its
    images use the one release-pipeline ships); `fixture="sample-multi"` is the app with its SDK,
    two distributions in one release. The sample is an ASF project (`vote = "asf"`, the default):
    its finals ship only from a voted candidate; `vote="none"` is for tests that release a final in
    one command."""
    shutil.copytree(FIXTURES / fixture, dest)
    if vote:
        pyproject = dest / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace("[tool.release]\n",
                                                           "[tool.release]\n" + vote_policy(vote), 1))
    if version != "1.10.6":
        init = dest / "sample_app" / "__init__.py"
        init.write_text(init.read_text().replace('"1.10.6"', f'"{version}"'))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "rm@sample.invalid")
    git(dest, "config", "user.name", "Release Manager")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", f"Sample app {version}")
    return dest


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    return make_sample_repo(tmp_path / "sample")


@pytest.fixture(scope="session")
def airflow_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Airflow's released sources as Airflow's repository lays them out (tests/airflow_sources.py);
    read-only: a test that adds commits or tags works on `airflow_sources.copy_repo(...)`."""
    from airflow_sources import make_airflow_repo

    return make_airflow_repo(tmp_path_factory.mktemp("airflow") / "airflow")


@pytest.fixture
def local_index(tmp_path: Path) -> Iterator[str]:
    """A real package index (pypiserver, as the sandbox runs it) taking any credentials; its URL."""
    layout = Layout.of(tmp_path / "index")
    index = sandbox_services.ensure(sandbox_services.INDEX, layout, {}, lambda line: None)
    try:
        yield f"http://127.0.0.1:{index['port']}/"
    finally:
        sandbox_services.stop(sandbox_services.INDEX, layout, index)


@pytest.fixture(scope="session", autouse=True)
def engine_running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Image tests talk to the engine directly: start it the way the sandbox does if it is down."""
    if not any(item.get_closest_marker("images") and not item.get_closest_marker("skip")
               for item in request.session.items):
        return
    if dockerd.answering():
        return
    root = tmp_path_factory.mktemp("engine")
    sandbox.up(root, name="engine", flavours=[], progress=lambda line: None)
    sandbox.down(root)  # leaves the engine it started running, as documented


# Markers from the costliest files to the cheapest. The costliest files run first, so that under
# `pytest -n` (one file per worker at a time, `--dist loadfile`) no long file starts last and keeps one
# worker busy while the others wait; unmarked files (the unit tests) come last.
COST_ORDER = ("airflow", "faults", "multiplatform", "atr", "trains", "images", "sandbox", "slow")
WORKER_FIGURES = "closing_figures"  # what a pytest -n worker hands the controller to print


def cost_rank(items: list[pytest.Item]) -> dict[str, int]:
    """Each test file's place in COST_ORDER: the costliest marker any of its tests carries."""
    ranks: dict[str, int] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        rank = next((n for n, name in enumerate(COST_ORDER) if name in marks), len(COST_ORDER))
        ranks[item.nodeid.split("::")[0]] = min(rank, ranks.get(item.nodeid.split("::")[0], rank))
    return ranks


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The costliest files first (COST_ORDER), each file's tests in their own order. Not as root,
    with RELEASE_PIPELINE_SKIP_FAULTS=1, the fault suite's tests are skipped (before an engine is
    started for them); without it they fail, each saying why (test_faults.py)."""
    ranks = cost_rank(items)
    order = {item.nodeid: n for n, item in enumerate(items)}
    items.sort(key=lambda item: (ranks[item.nodeid.split("::")[0]], order[item.nodeid]))
    if os.geteuid() == 0 or os.environ.get(SKIP_FAULTS) != "1":
        return
    skip = pytest.mark.skip(reason=f"the fault suite needs root (it mounts a tmpfs); {SKIP_FAULTS}=1")
    for item in items:
        if item.get_closest_marker("faults"):
            item.add_marker(skip)


class WorkerFigures:
    """Under `pytest -n`, the fault suite's figures are a worker's: it hands them to the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        figures = getattr(node, "workeroutput", {}).get(WORKER_FIGURES)
        if figures:
            self.config.stash[CLOSING_FIGURES] = figures


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(WorkerFigures(config), "release-pipeline-worker-figures")


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    figures = session.config.stash.get(CLOSING_FIGURES, None)
    if output is not None and figures:
        output[WORKER_FIGURES] = figures


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    figures = config.stash.get(CLOSING_FIGURES, None)
    if figures:
        terminalreporter.write_sep("-", "fault suite: closing figures")
        for line in figures:
            terminalreporter.write_line(line)
