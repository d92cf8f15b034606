# SPDX-License-Identifier: Apache-2.0
"""A release for linux/amd64 and linux/arm64 on the sandbox: one image index per tag.

One flavour (3.11) keeps this affordable: the arm64 images are built and smoked under qemu. In
order, on one sample: a two-platform release does what its dry run said and every tag of it is one
index over both platforms' images; pulling each platform runs that architecture; an amd64-only run
of the next version pushes its image and moves no tag; its join (`invoke publish`) is refused,
naming the missing platform, until the arm64 image job has pushed, then joins; `verify` lists
each platform's digest under the index; refreshing after one platform's base moved rebuilds
every platform of the tag and replaces the index, the aliases moving with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git
from release_helpers import SampleRelease

from release import sandbox
from release.adapters.clients import real_clients
from release.adapters.engine import Engine
from release.adapters.registry import DOCKER_LIST, RegistryClient
from release.pipeline.refresh import refresh_images
from release.plan.images import INPUT_HASH_LABEL, OCI
from release.record import load_record, release_dir
from release.sandbox import base_images
from release.steps.verify import verify_images
from release.versions import parse_version

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow, pytest.mark.multiplatform]
PLATFORMS = ("linux/amd64", "linux/arm64")
MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
FLAVOUR = "3.11"
IMAGE = "sample/app"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRelease]:
    found = SampleRelease.create(tmp_path_factory.mktemp("multiplatform") / "sample", flavours=(FLAVOUR,))
    pyproject = found.root / "pyproject.toml"
    platforms = 'platforms = ["linux/amd64", "linux/arm64"]'
    text = pyproject.read_text().replace('default-python = "3.11"', f'default-python = "3.11"\n{platforms}')
    pyproject.write_text(text)
    git(found.root, "commit", "-qam", "Release for amd64 and arm64")
    found.target()
    yield found
    sandbox.down(found.root)


def invoke(sample: SampleRelease, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
        cwd=sample.root, env={**os.environ, "RELEASE_ROOT": str(sample.root), "NO_COLOR": "1",
                              "COLUMNS": "200"},
        capture_output=True, text=True, timeout=3600, check=False,
    )
    if ok:
        assert result.returncode == 0, result.stderr[-4000:]
    return result


def index_of(registry: RegistryClient, tag: str) -> dict[str, str]:
    index = registry.image_index(IMAGE, tag)
    assert index is not None and index.media_type == DOCKER_LIST, tag
    return index.digests()


def released(sample: SampleRelease, version: str) -> None:
    if not (sample.root / "dist" / version / "report.json").exists():
        sample.release(version)


def test_a_two_platform_release_puts_one_index_under_every_tag_as_its_dry_run_said(
    sample: SampleRelease,
) -> None:
    plan = json.loads(invoke(sample, "release", "--version", "1.10.6", "--dry-run", "--json").stdout)
    assert [(i["platform"], i["tag"]) for i in plan["images"]] == [
        ("linux/amd64", "1.10.6-python3.11-amd64"), ("linux/arm64", "1.10.6-python3.11-arm64")]
    assert [i["tag"] for i in plan["indexes"]] == ["1.10.6-python3.11"]
    report = sample.release("1.10.6")
    assert report.steps == [s["name"] for s in plan["steps"]]
    assert "index" in report.steps
    assert {t: e.action for t, e in report.tags.items()} == {t["tag"]: t["action"] for t in plan["tags"]}

    registry = sample.registry()
    index = registry.image_index(IMAGE, "1.10.6-python3.11")
    assert index is not None and index.media_type == DOCKER_LIST
    assert [i.platform for i in index.images] == list(PLATFORMS)
    for image in index.images:  # each entry is the image pushed under its platform's helper tag
        helper = f"1.10.6-python3.11-{image.platform.split('/')[1]}"
        assert registry.manifest_digest(IMAGE, helper) == image.digest
    tags = sample.tag_digests()
    for alias in ("1.10.6", "1.10-python3.11", "1.10", "latest-python3.11", "latest"):
        assert tags[alias] == index.digest, alias
    record = load_record(release_dir(sample.root, "1.10.6"), "1.10.6")
    assert record.indexes["3.11"].digest == index.digest
    assert dict(record.indexes["3.11"].platforms) == index.digests()
    assert {e.platform for e in record.images.values()} == set(PLATFORMS)
    assert report.platforms == {"3.11": index.digests()}
    # provenance per platform image (its own SBOM and signature) and per index (its own signature)
    assert {e.digest for e in record.sboms.values()} == set(index.digests().values())
    assert {e.platform for e in record.sboms.values()} == set(PLATFORMS)
    signed = {e.digest for e in record.image_signatures.values()}
    assert signed == {index.digest, *index.digests().values()}
    assert all(e.identity.endswith(f"/{IMAGE}:1.10.6-python3.11") for e in record.image_signatures.values())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_pulled_from_the_tag_runs_its_own_architecture(sample: SampleRelease, platform: str
                                                                      ) -> None:
    released(sample, "1.10.6")
    ref = f"{sample.services().registry}/{IMAGE}:1.10.6"
    engine = Engine()
    try:
        subprocess.run(["docker", "pull", "-q", "--platform", platform, ref], check=True, capture_output=True)
        run = subprocess.run(["docker", "run", "--rm", "--platform", platform, "--entrypoint", "python3", ref,
                              "-c", "import platform; print(platform.machine())"],
                             check=True, capture_output=True, text=True)
        assert run.stdout.strip() == MACHINES[platform]
        info = engine.inspect(ref)
        assert info is not None and info.platform == platform
    finally:
        engine.remove(ref)


def test_an_amd64_only_run_moves_no_tag_and_its_join_waits_for_arm64(sample: SampleRelease) -> None:
    released(sample, "1.10.6")
    registry = sample.registry()
    before = sample.tag_digests()
    sample.set_version("1.10.7")

    amd64 = invoke(sample, "release", "--version", "1.10.7", "--platform", "linux/amd64", "--json")
    assert registry.manifest_digest(IMAGE, "1.10.7-python3.11-amd64") is not None
    after = sample.tag_digests()
    assert {t: d for t, d in after.items() if not t.startswith("1.10.7")} == before, "no alias moved"
    assert "1.10.7-python3.11" not in after and "1.10.7" not in after
    assert json.loads(amd64.stdout)["moved"] == {}

    refused = invoke(sample, "publish", "--version", "1.10.7", ok=False)
    assert refused.returncode == 6, refused.stderr
    assert "python3.11 linux/arm64 (1.10.7-python3.11-arm64)" in refused.stderr
    assert sample.tag_digests() == after, "a refused join changes nothing"

    invoke(sample, "images", "--version", "1.10.7", "--python", FLAVOUR, "--platform", "linux/arm64",
           "--push")
    joined = json.loads(invoke(sample, "publish", "--version", "1.10.7", "--json").stdout)
    digests = index_of(registry, "1.10.7-python3.11")
    assert set(digests) == set(PLATFORMS)
    tags = sample.tag_digests()
    assert tags["latest"] == tags["1.10"] == tags["1.10.7"] == tags["1.10.7-python3.11"]
    assert joined["indexes"]["3.11"] == {"digest": tags["1.10.7-python3.11"], "platforms": digests}
    assert digests["linux/amd64"] == after["1.10.7-python3.11-amd64"]  # the amd64 job's image, as pushed


def test_verify_lists_each_platforms_digest_under_the_index(sample: SampleRelease) -> None:
    released(sample, "1.10.6")
    registry = sample.registry()
    (check,) = verify_images(sample.config, parse_version("1.10.6"), registry)
    assert check.tag == "1.10.6-python3.11" and not check.problem
    assert check.digest == registry.manifest_digest(IMAGE, "1.10.6-python3.11")
    assert dict(check.platforms) == index_of(registry, "1.10.6-python3.11")
    (absent,) = verify_images(sample.config, parse_version("9.9.9"), registry)
    assert absent.digest is None and not absent.problem  # not pushed (yet): reported, not failed


def test_refresh_after_one_platforms_base_moved_replaces_the_index_and_moves_its_aliases(
    sample: SampleRelease,
) -> None:
    released(sample, "1.10.6")
    services = sample.services()
    registry = RegistryClient(services.registry)
    newest = "1.10.7" if registry.manifest_digest(IMAGE, "1.10.7-python3.11") else "1.10.6"  # of the line
    tag = f"{newest}-python3.11"
    old, old_digest = index_of(registry, tag), registry.manifest_digest(IMAGE, tag)
    move_base(services.registry, "linux/amd64")

    # the library, not `invoke refresh`: bringing the sandbox up would put its own base back
    log = sample.root / "refresh.log"
    report = refresh_images(sample.config, real_clients(services.registry), log_path=log, progress=sample.say)
    (item,) = report.changed
    assert item.platforms == PLATFORMS and "base moved for linux/amd64" in item.detail
    new, new_digest = index_of(registry, tag), registry.manifest_digest(IMAGE, tag)
    assert new_digest != old_digest
    assert new["linux/amd64"] != old["linux/amd64"]  # rebuilt on the new base
    # arm64's base did not move, but the index is rebuilt as a whole with the constraints its release
    # recorded (the release itself resolved them), so both platforms install the same pinned set
    old_arm64, new_arm64 = (registry.image_labels(IMAGE, index["linux/arm64"]) or {} for index in (old, new))
    assert new_arm64[f"{OCI}.base.digest"] == old_arm64[f"{OCI}.base.digest"]
    assert new_arm64[INPUT_HASH_LABEL] != old_arm64[INPUT_HASH_LABEL]
    assert registry.manifest_digest(IMAGE, f"{tag}-amd64") == new["linux/amd64"]
    tags = sample.tag_digests()
    assert tags["latest"] == tags["1.10"] == tags["latest-python3.11"] == tags[newest] == new_digest
    assert set(item.moved_tags) == {"1.10", "1.10-python3.11", "latest", "latest-python3.11", newest}
    assert f"{tag} (also " in log.read_text()


def move_base(registry_address: str, platform: str) -> None:
    """A new `platform` image of the sandbox's python:3.11 base (a label more, same layers),
    pushed under its platform tag and listed by a new base index, as an upstream rebuild would."""
    engine = Engine()
    registry = RegistryClient(registry_address)
    repository = base_images.REPOSITORY
    suffix = platform.split("/")[1]
    digests = registry.image_index(repository, FLAVOUR)
    assert digests is not None
    current = digests.digests()[platform]
    context = Path(os.environ.get("TMPDIR", "/tmp")) / f"move-base-{suffix}"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(
        f"FROM {registry_address}/{repository}@{current}\nLABEL org.release-pipeline.test.moved=1\n")
    ref = f"{registry_address}/{repository}:{FLAVOUR}-{suffix}"
    engine.pull(f"{registry_address}/{repository}@{current}", platform=platform)
    subprocess.run(["docker", "build", "-q", "--platform", platform, "-t", ref, str(context)], check=True,
                   capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    engine.push(ref)
    images = [registry.platform_image(repository, f"{FLAVOUR}-{p.split('/')[1]}") for p in PLATFORMS]
    registry.put_index(repository, [i for i in images if i is not None], FLAVOUR)
    engine.remove(ref)


def test_split_master_jobs_per_platform_then_the_join_puts_the_index_and_moves_master(
    sample: SampleRelease,
) -> None:
    registry = sample.registry()
    commit = git(sample.root, "rev-parse", "HEAD")
    invoke(sample, "images", "--master", "--platform", "linux/amd64", "--push")
    assert registry.manifest_digest(IMAGE, "master-python3.11-amd64") is not None
    assert registry.manifest_digest(IMAGE, "master-python3.11") is None
    refused = invoke(sample, "publish", "--master", ok=False)
    assert refused.returncode == 6 and "python3.11 linux/arm64 (master-python3.11-arm64)" in refused.stderr
    assert registry.manifest_digest(IMAGE, "master") is None

    invoke(sample, "images", "--master", "--platform", "linux/arm64", "--push")
    invoke(sample, "publish", "--master")
    digests = index_of(registry, "master-python3.11")
    assert digests["linux/arm64"] == registry.manifest_digest(IMAGE, "master-python3.11-arm64")
    assert registry.manifest_digest(IMAGE, "master") == registry.manifest_digest(IMAGE, "master-python3.11")
    labels = registry.image_labels(IMAGE, digests["linux/arm64"]) or {}
    assert labels["org.opencontainers.image.revision"] == commit
