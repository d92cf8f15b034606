# SPDX-License-Identifier: Apache-2.0
"""Real projects from PyPI adopted as a new user adopts them: their sdist as a git repository,
`release-pipeline init`, what it wrote committed (nothing else edited), `invoke release` into the
sandbox with the project's own tasks.py, and then the image does the project's job: its command
prints its version, and the web application answers HTTP 200 on the port it serves.

The projects (tests/adoption_projects.py) are built with setuptools, hatchling and flit. One flavour
each (3.11): the flavour does not matter here, and the base image is shared with the other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from adoption_helpers import download_sdist, project_repo
from adoption_projects import PROJECTS, AdoptedProject
from conftest import git

from release import sandbox
from release.adapters.index import PackageIndex
from release.adapters.net import free_port
from release.adapters.registry import RegistryClient

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]
FLAVOUR = "3.11"


def run(cwd: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """A command in the project's checkout, as its release manager runs it there."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("RELEASE_ROOT", None)  # the project is the folder the command runs in
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def sdists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sdists")


@pytest.fixture(params=PROJECTS, ids=[p.name for p in PROJECTS])
def adopted(request: pytest.FixtureRequest, sdists: Path, tmp_path: Path
            ) -> Iterator[tuple[AdoptedProject, Path]]:
    project: AdoptedProject = request.param
    root = project_repo(project, download_sdist(project, sdists), tmp_path / project.name)
    try:
        yield project, root
    finally:
        sandbox.down(root)


def answers(url: str, *, within: float) -> int:
    """The HTTP status `url` answers with once it answers at all (0 when it never did)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    return 0


def test_a_real_project_is_released_after_init_and_its_image_does_its_job(
    adopted: tuple[AdoptedProject, Path]
) -> None:
    project, root = adopted
    started = time.monotonic()
    initialised = run(root, sys.executable, "-m", "release.cli.main", "init")
    assert initialised.returncode == 0, initialised.stderr
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Release with release-pipeline")  # all the project changes
    released = run(root, sys.executable, "-m", "invoke", "release", "--version", project.version,
                   "--python", FLAVOUR)
    seconds = time.monotonic() - started
    print(f"{project.name} {project.version} ({project.backend}): init and release in {seconds:.1f}s")
    assert released.returncode == 0, released.stderr[-4000:]
    assert f"released {project.version}" in released.stderr

    services = sandbox.load(root)
    assert services is not None
    index = PackageIndex(services.index_url, f"{services.index_url}simple/")
    files = index.hashes(project.name)
    assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files), files
    image = f"{services.registry}/{project.name}"
    registry = RegistryClient(services.registry)
    digest = registry.manifest_digest(project.name, f"{project.version}-python{FLAVOUR}")
    assert digest and registry.manifest_digest(project.name, project.version) == digest

    ran = run(root, "docker", "run", "--rm", f"{image}:{project.version}-python{FLAVOUR}", *project.command,
              timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert project.prints.format(version=project.version) in ran.stdout
    if project.serve:
        port = free_port()
        container = run(root, "docker", "run", "-d", "-p", f"127.0.0.1:{port}:{project.port}",
                        f"{image}:{project.version}-python{FLAVOUR}", *project.serve, timeout=120)
        assert container.returncode == 0, container.stderr
        try:
            assert answers(f"http://127.0.0.1:{port}{project.path}", within=60) == 200
        finally:
            run(root, "docker", "rm", "-f", container.stdout.strip(), timeout=120)
