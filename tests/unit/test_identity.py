# SPDX-License-Identifier: Apache-2.0
"""The one image identity: its record key, its display name and its tags (spelled by plan/tags.py)."""

from __future__ import annotations

import pytest

from release.identity import ImageId
from release.plan.tags import MASTER, image_tag, parse_tag, split_platform
from release.record import ImageEntry


@pytest.mark.parametrize(("image", "key", "name", "tag"), [
    (ImageId("3.11"), "3.11", "python3.11", "1.10.6-python3.11"),
    (ImageId("3.11", "slim"), "slim-3.11", "slim-python3.11", "slim-1.10.6-python3.11"),
    (ImageId("3.11", platform="linux/arm64"), "3.11 linux/arm64", "python3.11 linux/arm64",
     "1.10.6-python3.11-arm64"),
])
def test_an_image_is_named_and_tagged_one_way(image: ImageId, key: str, name: str, tag: str) -> None:
    assert (image.key, image.name, str(image)) == (key, name, name)
    assert image_tag("1.10.6", image) == tag
    parts = parse_tag(split_platform(tag)[0])
    assert (parts.flavour, parts.variant) == (image.flavour, image.variant)
    assert split_platform(tag)[1] == (image.platform or None)


def test_the_record_keys_an_image_by_its_identity() -> None:
    image = ImageId("3.11", platform="linux/arm64")
    entry = ImageEntry("3.11", "r/a:1.10.6-python3.11-arm64", None, "", "", "", "", platform="linux/arm64")
    assert entry.image == image and entry.key == image.key


def test_a_platforms_image_belongs_to_its_index() -> None:
    image = ImageId("3.13").on("linux/amd64")
    assert image.platform == "linux/amd64" and image.of_index == ImageId("3.13")
    assert image_tag(MASTER, image) == "master-python3.13-amd64"
