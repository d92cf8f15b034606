# SPDX-License-Identifier: Apache-2.0
"""Airflow's core train with its production image, on Airflow's own sources (tests/airflow_sources.py,
core 3.3.3 and the task SDK 1.3.3 prepared from the real 3.3.2 sources) in the sandbox: the image
is Airflow's production image as examples/airflow/pyproject.toml gives it (the official image's 34
extras, build args, constraints, entrypoint, uid), installed from the wave's own wheels
(`install = "wheel"`) instead of PyPI, for one flavour (3.11, the default variant: CI time is
tight).

`invoke release --train core` builds, signs, checks, stages and tags the wave, then builds the
image from the three voted wheels, smokes it, pushes it as `3.3.3rc1-python3.11` and writes what it
installed as `constraints/constraints-3.11.txt` (signed); `verify` checks the image installs exactly
the staged wheels; after the vote and promotion `publish` puts `3.3.3-python3.11`, `3.3.3` and the
aliases on the very image voted on (the same digest: nothing is built again). Each step's wall time
is printed (`pytest -s`).

The constraints file pins apache-airflow, -core 3.3.2 and the task SDK 1.3.2 while the wheels are
3.3.3 and 1.3.3: the image build leaves the local wheels' names out of the requirements it installs
with the constraints and uninstalls them from the dependency layer (release/image/Dockerfile,
requirements_from_wheels.py), as for a single release's own distribution, so the pins of the
train's own distributions never reach the image; the test checks the image holds 3.3.3.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_sources import copy_repo, git, prepare_core
from conftest import REPO_ROOT

from release import sandbox
from release.adapters import svn
from release.adapters.index import PackageIndex
from release.adapters.registry import Manifest, RegistryClient
from release.plan.provenance import (
    OCI_MANIFEST_TYPE,
    TITLE_ANNOTATION,
    artifact_layers,
    attachment_tag,
    blob_digest,
)
from release.plan.sbom import summarise
from release.record import sha512_of
from tests.integration.test_trains_release import RAT_EXCLUDES, three_binding_votes
from tests.unit.test_trains import AIRFLOW, tomllib

pytestmark = [pytest.mark.trains, pytest.mark.images, pytest.mark.sandbox, pytest.mark.slow]

DATE = "2026-12-07"
IMAGE = "apache/airflow"
EXAMPLE = REPO_ROOT / "examples" / "airflow"
# what the profile takes of Airflow's production image (examples/airflow/pyproject.toml); its smoke
# commands but `airflow db migrate` and its health check (an API server) are left out for CI's time
IMAGE_KEYS = ("default-python", "base-image", "extras", "app-command", "uid", "build-args")


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def image_settings(root: Path, folder: str) -> str:
    """Airflow's production image settings, its constraints file and entrypoint copied to `folder`
    in the tree, left out of git (the wave's source release is the commit's; these are the profile's)."""
    table = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["tool"]["release"]
    (root / folder).mkdir()
    for name in ("constraints-3.3.2.txt", "entrypoint.sh"):
        shutil.copy(EXAMPLE / name, root / folder / name)
    with (root / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(f"/{folder}/\n")
    lines = [f"{key} = {toml_value(table[key])}" for key in IMAGE_KEYS]
    lines += [f'constraints = "{folder}/constraints-3.3.2.txt"', f'entrypoint = "{folder}/entrypoint.sh"',
              f"smoke-commands = {toml_value(table['smoke-commands'][:1])}"]  # airflow version
    return "\n".join(lines) + "\n"


def invoke(root: Path, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASE_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "300"}
    profile = ("--profile", str(root.parent / "release.toml")) if args[0] != "sandbox.down" else ()
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args, *profile],
                          cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def tree(airflow_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Airflow's trains in a copy of its tree with core 3.3.3 prepared, one flavour (3.11) of its
    production image; everything else the sandbox's, brought down after the module."""
    root = copy_repo(airflow_repo, tmp_path_factory.mktemp("trains-core-images") / "airflow")
    prepare_core(root, "3.3.3", "1.3.3")
    settings = image_settings(root, "release-image")
    mailing = 'mailing-list = "dev@airflow.apache.org"\n'
    (root.parent / "release.toml").write_text(AIRFLOW.replace('python = ["3.11", "3.13"]\n',
                                                              'python = ["3.11"]\n' + settings).replace(
        mailing, mailing + RAT_EXCLUDES))
    try:
        yield root
    finally:
        down = invoke(root, "sandbox.down")
        assert down.returncode == 0, down.stderr


class Timed:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.figures: list[tuple[str, float]] = []

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        start = time.monotonic()
        found = invoke(self.root, *args)
        self.figures.append((" ".join(a for a in args if not a.startswith("/")), time.monotonic() - start))
        return found

    def ok(self, *args: str) -> str:
        found = self(*args)
        assert found.returncode == 0, found.stderr[-6000:]
        assert "Traceback" not in found.stderr
        return found.stderr


def provenance_of_the_image(wave: Path, registry: RegistryClient, record: dict[str, Any], digest: str,
                            rc_tag: str) -> str:
    """The image's SBOM (read inside it: Airflow 3.3.3 and the Debian packages), signed; its signature
    in the lookaside tree; both attached to its digest with the signed copy of wave.json. Returns the
    attachment's digest."""
    [(path, entry)] = record["sboms"].items()
    sbom = wave / "provenance" / path
    assert entry["digest"] == digest and entry["sha512"] == sha512_of(sbom)
    summary = summarise(sbom.read_text())
    assert summary.digest == digest and summary.python["apache-airflow-core"] == "3.3.3"
    assert (summary.python["apache-airflow"], summary.python["apache-airflow-task-sdk"]) == ("3.3.3", "1.3.3")
    assert "libc6" in summary.debian and len(summary.debian) > 50, sorted(summary.debian)[:20]
    assert sorted(record["sboms_signed"]) == [f"{path}.asc", f"{path}.sha512"]
    [signature] = record["image_signatures"].values()
    assert signature["digest"] == digest and signature["identity"].endswith(f"/{IMAGE}:{rc_tag}")
    assert svn.cat_bytes(signature["lookaside"]) == (wave / "provenance" / signature["path"]).read_bytes()
    copy = json.loads((wave / "provenance" / "wave.json").read_text())
    assert copy["sboms"] == record["sboms"] and copy["images"] == record["images"]
    assert (wave / "provenance" / "wave.json.asc").is_file()
    artifact = registry.get_manifest(IMAGE, attachment_tag(digest))
    assert artifact is not None and artifact.body["subject"]["digest"] == digest
    name = Path(path).name
    assert sorted(artifact_layers(artifact.body)) == sorted([
        "wave.json", "wave.json.asc", "wave.json.sha512", name, f"{name}.asc", f"{name}.sha512",
        Path(signature["path"]).name])
    assert record["provenance"]["attached"] == {digest: attachment_tag(digest)}
    return artifact.digest


def a_corrupted_sbom_signature_fails_verify_naming_it(tree: Path, registry: RegistryClient, digest: str,
                                                      rc_tag: str) -> None:
    """The SBOM's signature in the image's attachment replaced by other bytes: `verify --train`
    exits 7 naming the image and the SBOM's signature; the attachment is then put back."""
    tag = attachment_tag(digest)
    original = registry.get_manifest(IMAGE, tag)
    assert original is not None
    body = json.loads(original.raw)
    [layer] = [x for x in body["layers"] if x["annotations"][TITLE_ANNOTATION].endswith(".cdx.json.asc")]
    corrupted = b"-----BEGIN PGP SIGNATURE-----\nnot a signature\n-----END PGP SIGNATURE-----\n"
    layer["digest"], layer["size"] = registry.upload_blob(IMAGE, corrupted), len(corrupted)
    raw = json.dumps(body, separators=(",", ":")).encode()
    registry.put_manifest(IMAGE, tag, Manifest(raw, OCI_MANIFEST_TYPE, blob_digest(raw)))
    try:
        failed = invoke(tree, "verify", "--train", "core", "--date", DATE, "--no-rebuild")
        assert failed.returncode == 7, failed.stderr[-3000:]
        line = next(x for x in (failed.stdout + failed.stderr).splitlines() if f"FAIL image {rc_tag}:" in x)
        assert "SBOM: bad signature" in line, line
    finally:
        registry.put_manifest(IMAGE, tag, original)
    assert registry.manifest_digest(IMAGE, tag) == original.digest


def test_the_core_trains_image_built_from_its_wheels_verified_voted_and_published_by_its_digest(
        tree: Path, tmp_path: Path) -> None:
    run = Timed(tree)
    wave = tree / "dist" / f"core-{DATE}"
    rc_tag, constraints = "3.3.3rc1-python3.11", "constraints/constraints-3.11.txt"

    # the dry run names the image and its constraints file, and the steps that make them
    dry = run("release", "--train", "core", "--date", DATE, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert shown["images"] == [{"tag": rc_tag, "constraints": constraints}]
    steps = ["build", "sign", "PMC checks", "stage", "tags", "images", "constraints", "sbom", "attest",
             "provenance", "index", "constraints tags", "vote email"]
    assert [s["name"] for s in shown["steps"]] == steps

    # the run: the wave staged and tagged, then its image from the three voted wheels, smoked, pushed
    run.ok("release", "--train", "core", "--date", DATE)
    services = sandbox.load(tree)
    assert services is not None
    registry = RegistryClient(services.registry)
    record = json.loads((wave / "wave.json").read_text())
    assert record["steps"] == steps
    images = record["images"]
    assert (images["candidate"], images["version"]) == ("3.3.3rc1", "3.3.3")
    digest = registry.manifest_digest(IMAGE, rc_tag)
    assert digest and images["pushed"]["3.11"]["digest"] == digest
    assert images["pushed"]["3.11"]["ref"] == f"{services.registry}/{IMAGE}:{rc_tag}"
    labels = registry.image_labels(IMAGE, digest) or {}
    assert labels["org.opencontainers.image.version"] == "3.3.3"
    assert labels["org.opencontainers.image.revision"] == record["commit"]
    wheels = ["apache_airflow-3.3.3-py3-none-any.whl", "apache_airflow_core-3.3.3-py3-none-any.whl",
              "apache_airflow_task_sdk-1.3.3-py3-none-any.whl"]
    assert labels["org.release-pipeline.wheel.sha256"] == ",".join(
        subprocess.run(["sha256sum", str(wave / "svn" / w)], check=True, capture_output=True,
                       text=True).stdout.split()[0] for w in sorted(wheels))
    smoked = set(images["smoke"][rc_tag])
    assert {"python", "version", "wheel-sha256", "pip-check", "user", "no-build-tools", "no-headers",
            "shared-libs", "command: airflow version"} <= smoked
    pins = (wave / constraints).read_text().splitlines()
    assert pins[0] == "# Apache Airflow 3.3.3rc1: every distribution the image for Python 3.11 holds,"
    assert pins[1] == f"# {rc_tag} ({digest}). Install the same with"
    assert {"apache-airflow==3.3.3", "apache-airflow-core==3.3.3", "apache-airflow-task-sdk==1.3.3",
            "apache-airflow-providers-amazon==9.39.0", "apache-airflow-providers-celery==3.26.0"} <= set(pins)
    assert record["constraints"][constraints]["sha512"] == sha512_of(wave / constraints)
    assert sorted(record["constraints_signed"]) == [f"{constraints}.asc", f"{constraints}.sha512"]
    assert (wave / f"{constraints}.sha512").read_text().split()[0] == sha512_of(wave / constraints)
    # what the image installed, at the root of the constraints branch as Airflow's install
    # instructions read it (.../constraints-3.3.3rc1/constraints-3.11.txt), the checkout untouched
    head = git(tree, "rev-parse", "HEAD")
    on_branch = git(tree, "rev-parse", "constraints-3-3")
    assert git(tree, "rev-parse", "constraints-3.3.3rc1^{commit}") == on_branch
    assert git(tree, "ls-tree", "--name-only", on_branch).split() == ["constraints-3.11.txt"]
    on_tag = git(tree, "show", "constraints-3.3.3rc1:constraints-3.11.txt") + "\n"
    assert on_tag == (wave / constraints).read_text()
    assert head == record["commit"] and git(tree, "status", "--porcelain", "--untracked-files=no") == ""
    assert record["constraints_tags"] == {"branch": "constraints-3-3", "commit": on_branch,
                                          "tag": "constraints-3.3.3rc1", "files": ["constraints-3.11.txt"]}
    attachment = provenance_of_the_image(wave, registry, record, digest, rc_tag)
    email = (wave / "vote-email.txt").read_text()
    assert f"\n  {services.registry}/{IMAGE}:{rc_tag}@{digest}\n" in email
    assert "  pip install apache-airflow==3.3.3rc1\n" in email
    rerun = run.ok("release", "--train", "core", "--date", DATE)  # resumes: the image is kept
    assert registry.manifest_digest(IMAGE, rc_tag) == digest and "pushing" not in rerun
    assert registry.manifest_digest(IMAGE, attachment_tag(digest)) == attachment  # nothing attached again
    assert "already attached" in rerun and "already written" in rerun
    assert git(tree, "rev-parse", "constraints-3-3") == on_branch  # no new commit on the branch

    # a voter's check: the files from svn, and the image installs exactly the staged wheels
    verified = run.ok("verify", "--train", "core", "--date", DATE, "--no-rebuild")
    assert f"the core wave of {DATE}: 22 files verified" in verified, verified
    # ... and its provenance: its signature, the signed wave.json and the SBOM attached to its digest
    image_check = next(line for line in verified.splitlines() if f"image {rc_tag}:" in line)
    assert "image signature by a KEYS key for" in image_check and "(attached)" in image_check
    assert "wave.json signed (attached as" in image_check and "wave.json names the image" in image_check
    assert "SBOM signed, valid CycloneDX, describes" in image_check, image_check
    a_corrupted_sbom_signature_fails_verify_naming_it(tree, registry, digest, rc_tag)

    # the vote, promotion, publication: the final tags on the voted image, by its digest
    votes = three_binding_votes(wave, tmp_path, tree.parent / "release.toml")
    run.ok("vote-result", "--train", "core", "--date", DATE, "--votes", str(votes))
    promoted = run.ok("promote", "--train", "core", "--date", DATE)
    assert [git(tree, "rev-parse", f"{tag}^{{commit}}") for tag in ("constraints-3.3.3", "constraints-latest")
            ] == [on_branch] * 2
    assert f"tagged {on_branch[:12]} on constraints-3-3: constraints-3.3.3, constraints-latest" in promoted
    planned = run.ok("publish", "--train", "core", "--date", DATE, "--dry-run")
    assert f"onto the voted images {rc_tag}@{digest[:19]}" in planned
    published = run.ok("publish", "--train", "core", "--date", DATE)
    finals = ("3.3.3-python3.11", "3.3.3", "3.3-python3.11", "3.3", "latest-python3.11", "latest")
    assert {tag: registry.manifest_digest(IMAGE, tag) for tag in finals} == dict.fromkeys(finals, digest)
    assert "images tagged" in published
    done = json.loads((wave / "wave.json").read_text())["published"]
    assert done["images"] == dict.fromkeys(finals, digest) and done["owns_latest"] is True
    simple = PackageIndex(services.index_url, services.simple_url)
    assert sorted(simple.hashes("apache-airflow")) == [  # the finals beside the candidate's
        "apache_airflow-3.3.3-py3-none-any.whl", "apache_airflow-3.3.3.tar.gz",
        "apache_airflow-3.3.3rc1-py3-none-any.whl", "apache_airflow-3.3.3rc1.tar.gz"]
    again = run.ok("publish", "--train", "core", "--date", DATE)
    assert "0 files uploaded, 6 there already" in again and "already at" in again
    assert {tag: registry.manifest_digest(IMAGE, tag) for tag in finals} == dict.fromkeys(finals, digest)
    print("\n" + "\n".join(f"{what:<60} {took:7.1f} s" for what, took in run.figures))

    # the base image moves (a security update): `refresh --train` rebuilds the published image as the
    # single release's refresh does, from the wave's voted wheels and the constraints its image
    # installed, and moves its final tags and aliases to it; recorded in wave.json; a rerun does nothing
    run.figures.clear()
    refreshing = ("refresh", "--train", "core", "--date", DATE)
    current = run(*refreshing, "--dry-run", "--json")
    assert current.returncode == 0, current.stderr
    assert [a["does"] for a in json.loads(current.stdout)["actions"]] == [
        "leave 3.3.3-python3.11: base current"]
    base = f"{services.registry}/sandbox/python:3.11"
    old_base = labels["org.opencontainers.image.base.digest"]
    subprocess.run(["docker", "build", "-q", "-t", base, "-"], check=True, capture_output=True, text=True,
                   input=f"FROM {base}\nLABEL moved={time.time()}\n")
    subprocess.run(["docker", "push", "-q", base], check=True, capture_output=True, text=True)
    stale = run(*refreshing, "--version", "3.3.3", "--dry-run", "--json")
    assert stale.returncode == 1 and "give --date D or --version V, not both" in stale.stderr
    stale = run("refresh", "--train", "core", "--version", "3.3.3", "--dry-run", "--json")
    assert stale.returncode == 0, stale.stderr
    moved = json.loads(stale.stdout)["actions"]
    assert len(moved) == 2, (stale.stdout, stale.stderr[-3000:])
    rebuild, record_it = moved
    assert rebuild["does"].startswith(f"rebuild 3.3.3-python3.11 FROM {base} (base {old_base} -> sha256:")
    assert f"(dist/core-{DATE}/constraints/constraints-3.11.txt)" in rebuild["does"]
    assert record_it["where"] == "dist"
    run.ok(*refreshing)
    refreshed = registry.manifest_digest(IMAGE, "3.3.3-python3.11")
    assert refreshed and refreshed != digest
    assert {tag: registry.manifest_digest(IMAGE, tag) for tag in finals} == dict.fromkeys(finals, refreshed)
    assert registry.manifest_digest(IMAGE, rc_tag) == digest  # the candidate's tag: what was voted on
    new_labels = registry.image_labels(IMAGE, refreshed) or {}
    assert new_labels["org.opencontainers.image.base.digest"] not in ("", old_base)
    assert new_labels["org.release-pipeline.wheel.sha256"] == labels["org.release-pipeline.wheel.sha256"]
    (entry,) = json.loads((wave / "wave.json").read_text())["refreshed"]
    assert (entry["tag"], entry["old_image"], entry["new_image"], entry["old_base"]) == (
        "3.3.3-python3.11", digest, refreshed, old_base)
    assert sorted(entry["moved"]) == sorted(finals[1:])
    before = (wave / "wave.json").read_bytes()
    again = run.ok(*refreshing)
    assert "nothing to do" in again and (wave / "wave.json").read_bytes() == before
    print("\n".join(f"{what:<60} {took:7.1f} s" for what, took in run.figures))
    digest = refreshed  # the release's image from here on

    # the withdrawal of the wave's release with its image, as a single release's: `withdrawn-3.3.3` on
    # the voted image; 3.3.3 is the only release, so its aliases have nowhere to go and stay on it
    # (as a single release's do), and its own tags stay; a rerun changes nothing
    withdrawing = ("withdraw", "--train", "core", "--date", DATE, "--reason", "a licence problem")
    run.figures.clear()
    shown = run(*withdrawing, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    repository = f"{services.registry}/{IMAGE}"
    assert [a["does"] for a in json.loads(shown.stdout)["actions"] if a["where"] == "registry"] == [
        f"tag {repository}:withdrawn-3.3.3 on 3.3.3-python3.11 ({digest}): publishes the withdrawal",
        *(f"leave {repository}:{alias}: no other release can hold {prefix}: it stays on 3.3.3"
          for prefix in ("3.3", "latest") for alias in (f"{prefix}-python3.11", prefix))]
    withdrawn = run.ok(*withdrawing)
    assert "withdrawn-3.3.3 on its image" in withdrawn
    assert registry.manifest_digest(IMAGE, "withdrawn-3.3.3") == digest
    assert {tag: registry.manifest_digest(IMAGE, tag) for tag in finals} == dict.fromkeys(finals, digest)
    recorded = json.loads((wave / "wave.json").read_text())
    assert sorted(recorded["withdrawn"]) == [
        "apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"]
    images_withdrawn = recorded["withdrawn_images"]
    assert (images_withdrawn["version"], images_withdrawn["marker"], images_withdrawn["digest"]) == (
        "3.3.3", "withdrawn-3.3.3", digest)
    assert images_withdrawn["aliases"]["latest"] == "no other release can hold latest: it stays on 3.3.3"
    before, tags = (wave / "wave.json").read_bytes(), sorted(registry.tags(IMAGE))
    run.ok(*withdrawing)
    assert (wave / "wave.json").read_bytes() == before and sorted(registry.tags(IMAGE)) == tags
    marked = (*finals, "withdrawn-3.3.3")
    assert {tag: registry.manifest_digest(IMAGE, tag) for tag in marked} == dict.fromkeys(marked, digest)
    print("\n".join(f"{what:<60} {took:7.1f} s" for what, took in run.figures))
