# SPDX-License-Identifier: Apache-2.0
"""Joining platforms into an index: which platform is missing, and which labels disagree. Pure."""

from __future__ import annotations

from release.adapters.registry import DOCKER_MANIFEST, PlatformImage
from release.identity import ImageId
from release.plan.release import PlannedIndex
from release.steps.index import label_disagreements, missing_platforms

INDEX = PlannedIndex(ImageId("3.11"), "1.10.6-python3.11",
                     (("linux/amd64", "1.10.6-python3.11-amd64"), ("linux/arm64", "1.10.6-python3.11-arm64")))
AMD = PlatformImage("linux/amd64", "sha256:" + "a" * 64, 528, DOCKER_MANIFEST)


def test_a_missing_platform_is_named_with_its_flavour_and_tag() -> None:
    found = {"1.10.6-python3.11-amd64": AMD, "1.10.6-python3.11-arm64": None}
    assert missing_platforms([INDEX], found) == ["python3.11 linux/arm64 (1.10.6-python3.11-arm64)"]
    assert missing_platforms([INDEX], {**found, "1.10.6-python3.11-arm64": AMD}) == []


def test_the_platforms_of_one_index_must_carry_the_same_version_revision_and_wheels() -> None:
    same = {"org.opencontainers.image.version": "1.10.6", "org.opencontainers.image.revision": "abc",
            "org.release-pipeline.wheel.sha256": "f" * 64, "org.opencontainers.image.created": "now"}
    later = {**same, "org.opencontainers.image.created": "later"}  # build times differ, fine
    assert label_disagreements({"linux/amd64": same, "linux/arm64": later}) == []
    other = {**same, "org.release-pipeline.wheel.sha256": "0" * 64}
    assert label_disagreements({"linux/amd64": same, "linux/arm64": other}) == [
        f"org.release-pipeline.wheel.sha256 differs: linux/amd64 {'f' * 64}, linux/arm64 {'0' * 64}"]
