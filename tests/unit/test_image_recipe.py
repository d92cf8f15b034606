# SPDX-License-Identifier: Apache-2.0
"""The shipped image recipe (release/image/): what the build context gets, what the input hash
takes for "the Dockerfile", writing it out for a build by hand; and where the images step takes
its Dockerfile from and how many images it builds at once."""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from release import image
from release.config import parse_config
from release.errors import ConfigError
from release.image.__main__ import write
from release.plan.images import ImageSource, WheelFile
from release.steps.images import build_context, dockerfile_of, room_for


def test_the_context_gets_the_helpers_under_their_reserved_folder() -> None:
    files = image.helper_files()
    assert sorted(files) == [".release-pipeline/fetch_wheels.py",
                             ".release-pipeline/requirements_from_wheels.py", ".release-pipeline/venv-pip"]
    assert files[".release-pipeline/venv-pip"].startswith(b"#!/bin/sh\n")
    assert image.helper_modes() == {".release-pipeline/venv-pip": 0o755}


def test_the_dockerfile_uses_every_helper_and_names_every_cache() -> None:
    text = image.dockerfile().decode()
    assert "COPY .release-pipeline/ /opt/build/" in text
    for name in image.HELPERS:
        assert name in text
    mounts = re.findall(r"(?m)^\s*(?:RUN\s+)?--mount=(\S+)", text)
    assert mounts and all("type=cache" in m and "id=release-pipeline-" in m for m in mounts)
    assert not re.search(r"(?m)^#\s*syntax=", text)  # that image would come from Docker Hub


def test_venv_pip_looks_for_uv_where_fetch_wheels_keeps_it() -> None:
    from release.image import fetch_wheels

    place = fetch_wheels.uv_in_cache(Path(fetch_wheels.CACHE_DIR), "VERSION", "ARCH")
    shell = image.read("venv-pip").decode()
    assert str(place).replace("VERSION-ARCH", "$(cat /opt/build/uv-version)-$(uname -m)") in shell
    assert f"--mount=type=cache,id=release-pipeline-downloads,target={fetch_wheels.CACHE_DIR}" in \
        image.dockerfile().decode()


def test_the_recipe_hash_changes_with_the_dockerfile_and_is_stable() -> None:
    shipped = image.dockerfile()
    assert image.recipe_sha256(shipped) == image.recipe_sha256(bytes(shipped))
    assert image.recipe_sha256(shipped + b"\n") != image.recipe_sha256(shipped)
    assert re.fullmatch(r"[0-9a-f]{64}", image.recipe_sha256(b"FROM x\n"))


def test_writing_the_recipe_for_a_build_by_hand(tmp_path: Path) -> None:
    written = write(tmp_path)
    assert (tmp_path / "Dockerfile").read_bytes() == image.dockerfile()
    assert (tmp_path / ".release-pipeline" / "venv-pip").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / ".release-pipeline" / "fetch_wheels.py").stat().st_mode & 0o777 == 0o644
    assert len(written) == 1 + len(image.HELPERS)
    assert write(tmp_path)  # the same Dockerfile again: fine
    (tmp_path / "Dockerfile").write_text("FROM mine\n")
    with pytest.raises(SystemExit, match="differs from the shipped one"):
        write(tmp_path)
    assert (tmp_path / "Dockerfile").read_text() == "FROM mine\n"
    write(tmp_path, force=True)
    assert (tmp_path / "Dockerfile").read_bytes() == image.dockerfile()


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
