# SPDX-License-Identifier: Apache-2.0
"""The sandbox's pure parts: the base image recipe key, and what `up` refuses before starting anything."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fault_helpers import SERVICES_DAMAGE

from release import sandbox
from release.errors import ConfigError, ServiceError
from release.sandbox.base_images import PACKAGES, RECIPE_VERSION, SANDBOX_SUITES, packages_of, recipe_digest
from release.sandbox.service_images import SERVICES, dockerfile, recipe, service
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
    with pytest.raises(ConfigError, match=r"3\.9, 3\.11, 3\.13, 3\.14"):
        sandbox.up(tmp_path, name=NAME, flavours=["2.7"])
    with pytest.raises(ConfigError):
        sandbox.up(tmp_path, name="a/b", flavours=[])
    assert not (tmp_path / ".release").exists()


def test_every_base_image_carries_the_standard_library_debian_splits_out() -> None:
    for suite in SANDBOX_SUITES.values():
        packages = packages_of(suite)
        assert {"python3", "python3-venv", "python3-gdbm", "ca-certificates"} <= set(packages)
        assert "python3-tk" not in packages  # the official slim images have no Tk either
    assert {"python3-distutils", "python3-lib2to3"} <= set(packages_of("bookworm"))
    assert not {"python3-distutils", "python3-lib2to3"} & set(packages_of("trixie"))


def test_each_flavour_is_the_python3_of_one_debian_suite() -> None:
    assert dict(SANDBOX_SUITES) == {"3.9": "bullseye", "3.11": "bookworm", "3.13": "trixie", "3.14": "forky"}
    assert len(set(SANDBOX_SUITES.values())) == len(SANDBOX_SUITES)


def test_the_service_images_install_debians_packages_with_no_daemon_started() -> None:
    postgres = dockerfile(SERVICES["postgres"], "127.0.0.1:5000/sandbox/python:3.11")
    assert postgres.startswith("FROM 127.0.0.1:5000/sandbox/python:3.11\n")
    assert "exit 101" in postgres and "create_main_cluster = false" in postgres
    assert "apt-get install -y --no-install-recommends postgresql" in postgres
    assert 'CMD ["postgres"]' in postgres and "STOPSIGNAL SIGINT" in postgres
    assert "rm -rf /var/lib/mysql/*" in dockerfile(SERVICES["mariadb"], "b")
    assert [s.ref for s in SERVICES.values()] == [
        "sandbox/postgres:bookworm", "sandbox/mariadb:bookworm", "sandbox/redis:bookworm"]
    assert all(s.script.is_file() for s in SERVICES.values())


def test_a_service_images_recipe_changes_with_its_base_and_nothing_else() -> None:
    spec = SERVICES["redis"]
    assert recipe(spec, "sha256:1") == recipe(spec, "sha256:1")
    assert recipe(spec, "sha256:1") != recipe(spec, "sha256:2")
    assert recipe(spec, "sha256:1") != recipe(SERVICES["postgres"], "sha256:1")


def test_an_unknown_service_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="postgres, mariadb, redis"):
        service("mysql")


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


@pytest.mark.parametrize(("key", "value"), SERVICES_DAMAGE)
def test_every_damage_the_fault_suite_makes_is_refused(tmp_path: Path, key: str, value: object) -> None:
    """The fault suite counts a damaged services file as refused only when it is: each one is."""
    from release.sandbox.state import Layout, read_state

    layout = Layout.of(tmp_path)
    layout.state_dir.mkdir(parents=True)
    layout.state_file.write_text(json.dumps({**VALID_STATE, key: value}))
    with pytest.raises(ServiceError, match="is damaged"):
        read_state(layout)


def test_a_sandbox_whose_up_stopped_half_way_is_no_damage() -> None:
    """Left out of the fault suite's damage: `complete: false` is what an interrupted `up` leaves."""
    assert state_damage({**VALID_STATE, "complete": False}) == ""
