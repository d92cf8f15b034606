# SPDX-License-Identifier: Apache-2.0
"""The shipped image recipe (release/image/): what the build context gets, what the input hash
takes for "the Dockerfile", writing it out for a build by hand (where the images step takes its
Dockerfile from: tests/unit/steps/test_images.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from release import image
from release.image.__main__ import write


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
