"""The sandbox's pure parts: the base image recipe key, and what `up` refuses before starting anything."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from release import sandbox
from release.errors import ConfigError
from release.sandbox.base_images import PACKAGES, RECIPE_VERSION, recipe_digest
from release.sandbox.state import state_damage

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


VALID_STATE = {
    "version": 1, "state_dir": "/srv/.release", "complete": True, "registry": "127.0.0.1:5000",
    "registry_url": "http://127.0.0.1:5000", "index_url": "http://127.0.0.1:3141/", "svn_url": "file:///r",
    "gnupghome": "/srv/.release/gnupg", "gnupghome_dir": "/srv/.release/gnupg", "signing_key": "F" * 40,
    "names": ["demo"], "base_images": {"3.11": "127.0.0.1:5000/sandbox/python:3.11"},
    "processes": {"registry": {"pid": 12, "port": 5000},
                  "dockerd": {"pid": None, "started_by_sandbox": False}},
}


def test_a_sound_state_document_has_no_damage() -> None:
    assert state_damage(VALID_STATE) == "" and state_damage({}) == ""


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [("registry", 5000, "registry"), ("complete", "yes", "complete"), ("names", "demo", "names"),
     ("base_images", ["x"], "base_images"), ("processes", [], "processes"),
     ("processes", {"registry": 5}, "processes.registry"),
     ("processes", {"index": {"port": "3141"}}, "processes.index.port"),
     ("processes", {"index": {"pid": True}}, "processes.index.pid"),
     ("processes", {"dockerd": {"started_by_sandbox": 1}}, "processes.dockerd.started_by_sandbox"),
     ("version", True, "version")],
)
def test_a_damaged_state_document_is_named(key: str, value: object, named: str) -> None:
    assert state_damage({**VALID_STATE, key: value}).startswith(f"{named}: expected")


def test_each_architecture_keeps_its_own_debootstrap_downloads(tmp_path: Path) -> None:
    from release.sandbox.base_images import debootstrap_cache
    from release.sandbox.state import Layout

    layout = Layout.of(tmp_path)
    assert debootstrap_cache(layout, "bookworm") == layout.cache / "debootstrap" / "bookworm"  # as on main
    assert debootstrap_cache(layout, "bookworm", "arm64") == layout.cache / "debootstrap" / "bookworm-arm64"
