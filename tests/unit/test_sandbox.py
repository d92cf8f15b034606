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
