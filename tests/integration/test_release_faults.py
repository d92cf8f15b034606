# SPDX-License-Identifier: Apache-2.0
"""Break the real registry and index half-way through a release; the rerun must finish the job."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from release_helpers import SampleRelease

from release import sandbox
from release.errors import ReleaseError
from release.plan.provenance import attachment_tag
from release.plan.tags import BuildKind, plan_tags
from release.record import sha256_of
from release.versions import parse_version

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRelease]:
    found = SampleRelease.create(tmp_path_factory.mktemp("faults") / "sample")
    found.release("1.10.6")
    yield found
    sandbox.down(found.root)


def wait_for_kill() -> None:
    time.sleep(1.0)  # let the killed process's port close before the sandbox restarts it


def expected_tags(*versions: str) -> set[str]:
    tags: set[str] = set()
    released = [parse_version(v) for v in versions]
    for version in released:
        plan = plan_tags(version=version, flavours=("3.11", "3.13"), default="3.11",
                         kind=BuildKind.RELEASE, existing=released)
        tags |= {t.name for t in plan.immutable()}
    newest = plan_tags(version=max(released), flavours=("3.11", "3.13"), default="3.11",
                       kind=BuildKind.RELEASE, existing=released)
    return tags | {t.name for t in newest.aliases()}


def test_killed_registry_then_killed_index_then_rerun_completes(sample: SampleRelease) -> None:
    before = sample.tag_digests()
    latest = before["latest"]

    # as the engine starts pushing the first flavour: a delay would race the (fast, local) push
    sample.triggers["pushing"] = ("registry", 0.0)
    with pytest.raises(ReleaseError) as failure:
        sample.release("1.10.7")
    wait_for_kill()
    message = str(failure.value)
    assert "registry" in message or "push" in message, message
    sample.target()  # brings the killed service back on the same port
    assert sample.tag_digests()["latest"] == latest, "latest moved although the push failed"
    assert not any("1.10.7" in name for name in sample.index().hashes("sample-app")), (
        "packages were uploaded although the images were not pushed"
    )

    sample.triggers["uploading"] = ("index", 0.0)  # as twine starts its upload
    with pytest.raises(ReleaseError) as failure:
        sample.release("1.10.7")
    wait_for_kill()
    assert "twine" in str(failure.value) or "index" in str(failure.value)
    sample.target()
    midway = sample.tag_digests()
    assert midway["latest"] == latest, "latest moved although the upload failed"
    assert "1.10.7-python3.11" in midway

    report = sample.release("1.10.7")
    after = sample.tag_digests()
    attachments = {tag for tag in after if tag.endswith(".att")}  # each image's record and SBOM
    assert set(after) - attachments == expected_tags("1.10.6", "1.10.7")
    assert attachments == {attachment_tag(after[f"{version}-python{flavour}"])
                           for version in ("1.10.6", "1.10.7") for flavour in ("3.11", "3.13")}
    for alias in ("latest", "1.10"):
        for flavour in ("3.11", "3.13"):
            assert after[f"{alias}-python{flavour}"] == after[f"1.10.7-python{flavour}"]
        assert after[alias] == after["1.10.7-python3.11"]
    assert after["1.10.6-python3.11"] == before["1.10.6-python3.11"]
    assert {"latest", "1.10"} <= set(report.to_json()["moved"])
    dist = sample.root / "dist" / "1.10.7" / "pypi"
    index = sample.index().hashes("sample-app")
    for path in dist.iterdir():
        assert index[path.name] == sha256_of(path)
