"""The sandbox's pure parts: the base image recipe key, and what `up` refuses before starting anything."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from release import sandbox
from release.errors import ConfigError
from release.sandbox.base_images import PACKAGES, RECIPE_VERSION, recipe_digest

NAME = "demo"


def test_recipe_digest_is_a_pure_content_key() -> None:
    ca = hashlib.sha256(b"ca").hexdigest()
    base = recipe_digest("bookworm", PACKAGES, ca)
    assert len(base) == 64 and int(base, 16) >= 0
    assert base == recipe_digest("bookworm", list(reversed(PACKAGES)), ca)
    assert base == recipe_digest("bookworm", PACKAGES, ca, RECIPE_VERSION)
    others = {
        recipe_digest("trixie", PACKAGES, ca),
        recipe_digest("bookworm", (*PACKAGES, "git"), ca),
        recipe_digest("bookworm", PACKAGES, hashlib.sha256(b"other").hexdigest()),
        recipe_digest("bookworm", PACKAGES, ca, RECIPE_VERSION + 1),
    }
    assert base not in others and len(others) == 4


def test_unknown_flavour_and_bad_name_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"3\.9, 3\.11, 3\.13"):
        sandbox.up(tmp_path, name=NAME, flavours=["2.7"])
    with pytest.raises(ConfigError):
        sandbox.up(tmp_path, name="a/b", flavours=[])
    assert not (tmp_path / ".release").exists()


def test_another_architectures_base_has_its_own_recipe_and_tag_and_the_hosts_keeps_its_own() -> None:
    from release.sandbox.base_images import local_ref

    ca = hashlib.sha256(b"ca").hexdigest()
    amd64 = recipe_digest("bookworm", PACKAGES, ca)
    assert recipe_digest("bookworm", PACKAGES, ca, architecture="amd64") == amd64  # cached bases stay valid
    assert recipe_digest("bookworm", PACKAGES, ca, architecture="arm64") != amd64
    assert local_ref("3.11") == "sandbox/python:3.11"
    assert local_ref("3.11", "linux/arm64") == "sandbox/python:3.11-arm64"
    assert local_ref("3.11", "linux/arm64", "cold/python") == "cold/python:3.11-arm64"


def test_an_unknown_platform_is_a_config_error_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'linux/s390x' is not a supported platform"):
        sandbox.up(tmp_path, name=NAME, flavours=["3.11"], platforms=["linux/s390x"])
    assert not (tmp_path / ".release").exists()
