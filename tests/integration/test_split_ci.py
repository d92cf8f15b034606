# SPDX-License-Identifier: Apache-2.0
"""Image jobs on separate runners, then `invoke publish` joining them from the registry alone.

Each runner is its own process in its own clone, configured with plain endpoints (as CI is),
sharing nothing but the registry, the index, svn and the signing key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git, make_sample_repo, vote_policy

from release import sandbox
from release.adapters.registry import RegistryClient

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]
FLAVOURS = ("3.11", "3.13")


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sandbox.Services]:
    root = tmp_path_factory.mktemp("split-sandbox")
    found = sandbox.up(root, name="sample-app", flavours=FLAVOURS, progress=lambda line: None)
    yield found
    sandbox.down(root)


def runner_checkout(origin: Path, dest: Path, services: sandbox.Services) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin), str(dest)], check=True)
    git(dest, "config", "user.email", "ci@sample.invalid")
    git(dest, "config", "user.name", "CI")
    return dest


def configure_endpoints(repo: Path, services: sandbox.Services) -> None:
    svn = services.svn_url.rstrip("/")
    table = (
        '[tool.release]\nname = "sample-app"\nproject = "Sample App"\nimage = "sample/app"\n'
        f'python = ["3.11", "3.13"]\ndefault-python = "3.11"\n'
        'base-image = "{registry}/sandbox/python:{python}"\n'
        f'registry = "{services.registry}"\nindex = "{services.index_url}"\n'
        f'svn-dev = "{svn}/dev"\nsvn-release = "{svn}/release"\n'
        f'signing-key = "{services.signing_key}"\napp-command = ["sample-app"]\n'
        + vote_policy("none")  # the image jobs and the join ship a final built here: no PMC votes on it
    )
    pyproject = repo / "pyproject.toml"
    head = pyproject.read_text().split("[tool.release]")[0]
    pyproject.write_text(head + table)
    git(repo, "commit", "-qam", "Publish to the CI endpoints")


def invoke(cwd: Path, services: sandbox.Services, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASE_ROOT": str(cwd), "GNUPGHOME": str(services.gnupghome),
           "TWINE_USERNAME": "ci", "TWINE_PASSWORD": "ci", "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
                            cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_image_jobs_on_separate_runners_then_publish_joins_them(
    tmp_path: Path, services: sandbox.Services
) -> None:
    origin = make_sample_repo(tmp_path / "origin")
    configure_endpoints(origin, services)
    jobs = {p: runner_checkout(origin, tmp_path / f"runner-{p}", services) for p in FLAVOURS}
    processes = {
        p: subprocess.Popen(
            [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), "images", "--version",
             "1.10.6", "--python", p, "--push"],
            cwd=repo, env={**os.environ, "RELEASE_ROOT": str(repo), "NO_COLOR": "1"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for p, repo in jobs.items()
    }
    for flavour, process in processes.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"python{flavour} job failed:\n{output[-3000:]}"

    registry = RegistryClient(services.registry)
    pushed = {p: registry.manifest_digest("sample/app", f"1.10.6-python{p}") for p in FLAVOURS}
    assert all(pushed.values())
    assert registry.manifest_digest("sample/app", "latest") is None, "image jobs must not move aliases"

    publisher = runner_checkout(origin, tmp_path / "publisher", services)
    assert not (publisher / "dist").exists()
    invoke(publisher, services, "build", "--version", "1.10.6")
    invoke(publisher, services, "sign", "--version", "1.10.6")
    result = invoke(publisher, services, "publish", "--version", "1.10.6", "--json")
    assert '"version": "1.10.6"' in result.stdout
    for flavour, digest in pushed.items():
        assert registry.manifest_digest("sample/app", f"latest-python{flavour}") == digest
        assert registry.manifest_digest("sample/app", f"1.10-python{flavour}") == digest
    assert registry.manifest_digest("sample/app", "latest") == pushed["3.11"]
    assert registry.manifest_digest("sample/app", "1.10.6") == pushed["3.11"]


def test_master_build_pushes_master_tags_and_nothing_else(tmp_path: Path, services: sandbox.Services) -> None:
    origin = make_sample_repo(tmp_path / "origin")
    configure_endpoints(origin, services)
    registry = RegistryClient(services.registry)
    releases_before = {t for t in registry.tags("sample/app") if not t.startswith("master")}
    result = invoke(origin, services, "images", "--master", "--push")
    assert "master build pushed" in result.stderr
    digests = {p: registry.manifest_digest("sample/app", f"master-python{p}") for p in FLAVOURS}
    assert all(digests.values())
    assert registry.manifest_digest("sample/app", "master") == digests["3.11"]
    labels = registry.image_labels("sample/app", "master-python3.13")
    assert labels is not None
    assert labels["org.opencontainers.image.revision"] == git(origin, "rev-parse", "HEAD")
    assert {t for t in registry.tags("sample/app") if not t.startswith("master")} == releases_before
