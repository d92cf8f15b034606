# SPDX-License-Identifier: Apache-2.0
"""The images step's pure parts: where it takes the Dockerfile from (the project's own, else the
one release-pipeline ships), the build context it sends, and how many images it builds at once."""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from release import image
from release.config import parse_config
from release.errors import ConfigError
from release.plan.images import ImageSource, WheelFile
from release.steps.images import build_context, dockerfile_of, room_for


def config_at(root: Path, **table: object) -> object:
    return parse_config(root, {"name": "app", "project": "App", "image": "a/app", "python": ["3.11"],
                               "default-python": "3.11", **table})


def test_a_project_without_a_dockerfile_gets_the_shipped_one(tmp_path: Path) -> None:
    config = config_at(tmp_path)
    assert dockerfile_of(config) == image.dockerfile()  # type: ignore[arg-type]
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text("FROM own\n")
    own = config_at(tmp_path, dockerfile="docker/Dockerfile")
    assert dockerfile_of(own) == b"FROM own\n"  # type: ignore[arg-type]
    missing = config_at(tmp_path, dockerfile="nowhere/Dockerfile")
    with pytest.raises(ConfigError, match="leave it out to use the Dockerfile release-pipeline ships"):
        dockerfile_of(missing)  # type: ignore[arg-type]


def test_the_build_context_holds_the_dockerfile_helpers_and_wheels(tmp_path: Path) -> None:
    wheel = tmp_path / "app-1-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    source = ImageSource(name="app", version="1", title="App", wheels=(WheelFile(wheel.name, "x"),),
                         dockerfile_sha256="y")
    context = build_context(config_at(tmp_path), source, [wheel])  # type: ignore[arg-type]
    with tarfile.open(fileobj=io.BytesIO(context)) as tar:
        modes = {m.name: m.mode for m in tar.getmembers()}
        assert tar.extractfile("Dockerfile").read() == image.dockerfile()  # type: ignore[union-attr]
    assert modes == {"Dockerfile": 0o644, ".release-pipeline/fetch_wheels.py": 0o644,
                     ".release-pipeline/requirements_from_wheels.py": 0o644,
                     ".release-pipeline/venv-pip": 0o755, f"docker-context-files/{wheel.name}": 0o644}
    index = replace(source, install="index")
    context = build_context(config_at(tmp_path), index, [wheel])  # type: ignore[arg-type]
    with tarfile.open(fileobj=io.BytesIO(context)) as tar:
        assert not [n for n in tar.getnames() if n.startswith("docker-context-files/")]


@pytest.mark.parametrize(("images", "cpus", "memory", "expected"), [
    (3, 2, 24, 3),  # 2 cores: three images at once (they wait on the network and disk as much)
    (5, 2, 24, 3),
    (3, 8, 4, 2),  # memory for two
    (3, 8, 1, 1),
    (1, 1, 1, 1),
    (0, 4, 16, 1),
])
def test_images_build_at_once_where_the_machine_has_room(images: int, cpus: int, memory: float,
                                                        expected: int) -> None:
    assert room_for(images, cpus=cpus, memory_gib=memory) == expected
