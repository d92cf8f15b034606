# SPDX-License-Identifier: Apache-2.0
"""The one tag mover (steps/tags.py) against an in-memory registry: immutable tags are never
overwritten unless forced, an alias never moves backwards, an index tag never becomes one image."""

from __future__ import annotations

import pytest

from release.errors import RefusedError
from release.identity import ImageId
from release.plan.images import LABEL_ARGS
from release.plan.release import TagAction, TagChange
from release.steps.tags import apply_changes, image_version, point_tag
from release.versions import parse_version
from tests.unit.memory import MemoryRegistry

IMAGE = "sample/app"
VERSION_LABEL = LABEL_ARGS["IMAGE_VERSION"]
V = parse_version


def registry_with(*versions: str) -> tuple[MemoryRegistry, dict[str, str]]:
    registry = MemoryRegistry()
    return registry, {v: registry.push(IMAGE, f"{v}-python3.11", {VERSION_LABEL: v}) for v in versions}


def test_an_absent_tag_is_created_and_one_already_there_is_verified_or_skipped() -> None:
    registry, digests = registry_with("1.10.6")
    entry = point_tag(registry, IMAGE, "1.10.6", digests["1.10.6"], moving=False, flavour="3.11")
    assert (entry.action, entry.previous, entry.flavour) == ("create", None, "3.11")
    assert point_tag(registry, IMAGE, "1.10.6", digests["1.10.6"], moving=False).action == "verify"
    assert point_tag(registry, IMAGE, "latest", digests["1.10.6"], moving=True).action == "create"
    assert point_tag(registry, IMAGE, "latest", digests["1.10.6"], moving=True).action == "skip"


def test_an_immutable_tag_on_another_image_is_refused_unless_forced() -> None:
    registry, digests = registry_with("1.10.6", "1.10.7")
    registry.copy_tag(IMAGE, digests["1.10.6"], "1.10.6")
    with pytest.raises(RefusedError, match=r"never overwritten .*--force 1\.10\.6"):
        point_tag(registry, IMAGE, "1.10.6", digests["1.10.7"], moving=False)
    assert registry.repositories[IMAGE]["1.10.6"] == digests["1.10.6"]
    forced = point_tag(registry, IMAGE, "1.10.6", digests["1.10.7"], moving=False, force=True)
    assert forced.action == "move" and registry.repositories[IMAGE]["1.10.6"] == digests["1.10.7"]


def test_an_alias_never_moves_backwards() -> None:
    registry, digests = registry_with("1.10.6", "2.0.0")
    registry.copy_tag(IMAGE, digests["2.0.0"], "latest")
    lines: list[str] = []
    entry = point_tag(registry, IMAGE, "latest", digests["1.10.6"], moving=True, version=V("1.10.6"),
                      progress=lambda line: lines.append(str(line)))
    assert entry.action == "skip" and entry.digest == digests["2.0.0"]
    assert registry.repositories[IMAGE]["latest"] == digests["2.0.0"]
    assert "never moves backwards" in lines[0]
    forward = point_tag(registry, IMAGE, "latest", digests["2.0.0"], moving=True, version=V("2.0.0"))
    assert forward.action == "skip"


def test_an_alias_on_a_lower_release_moves_forward() -> None:
    registry, digests = registry_with("1.10.6", "1.10.7")
    registry.copy_tag(IMAGE, digests["1.10.6"], "1.10")
    entry = point_tag(registry, IMAGE, "1.10", digests["1.10.7"], moving=True, version=V("1.10.7"))
    assert (entry.action, entry.previous) == ("move", digests["1.10.6"])


def test_the_version_of_an_unlabelled_image_is_read_from_its_version_tags() -> None:
    registry = MemoryRegistry()
    digest = registry.push(IMAGE, "1.9.0-python3.11", {})
    assert image_version(registry, IMAGE, digest) == V("1.9.0")
    assert image_version(registry, IMAGE, registry.push(IMAGE, "nightly", {})) is None


def test_an_index_tag_is_never_moved_to_a_single_image() -> None:
    registry, digests = registry_with("1.10.6", "1.10.7")
    amd = registry.platform_image(IMAGE, digests["1.10.6"])
    assert amd is not None
    index = registry.put_index(IMAGE, [amd], tag="latest")
    with pytest.raises(RefusedError, match=r"image index .* would drop its other platforms"):
        point_tag(registry, IMAGE, "latest", digests["1.10.7"], moving=True)
    assert registry.repositories[IMAGE]["latest"] == index.digest


def test_planned_changes_are_carried_out_in_the_plans_words() -> None:
    registry, digests = registry_with("1.10.6")
    source = "1.10.6-python3.11"
    changes = [TagChange("1.10.6", ImageId("3.11"), False, TagAction.CREATE, None, source),
               TagChange(source, ImageId("3.11"), False, TagAction.VERIFY, digests["1.10.6"], source),
               TagChange("latest-python3.13", ImageId("3.13"), True, TagAction.SKIP, None,
                         "1.10.6-python3.13", "not built in this run (python3.13)")]
    done = apply_changes(registry, IMAGE, changes, {source: digests["1.10.6"]}, created_now={source})
    assert [(e.tag, e.action) for e in done] == [("1.10.6", "create"), (source, "create"),
                                                  ("latest-python3.13", "skip")]
    assert "latest-python3.13" not in registry.repositories[IMAGE]


def test_an_alias_left_on_a_withdrawn_release_moves_back() -> None:
    """A withdrawal stopped past its `withdrawn-V` marker leaves `latest` on V: a later, lower
    release takes it, since a withdrawn release holds no alias; without the marker it stays."""
    registry, digests = registry_with("1.10.6", "1.10.7", "2.0.0")
    registry.copy_tag(IMAGE, digests["2.0.0"], "latest")
    held = point_tag(registry, IMAGE, "latest", digests["1.10.7"], moving=True, version=V("1.10.7"))
    assert held.action == "skip" and registry.repositories[IMAGE]["latest"] == digests["2.0.0"]
    registry.copy_tag(IMAGE, digests["2.0.0"], "withdrawn-2.0.0")
    moved = point_tag(registry, IMAGE, "latest", digests["1.10.7"], moving=True, version=V("1.10.7"))
    assert (moved.action, moved.previous) == ("move", digests["2.0.0"])
    assert registry.repositories[IMAGE]["latest"] == digests["1.10.7"]
