# SPDX-License-Identifier: Apache-2.0
"""Where a release goes: `resolve_target` fills each `sandbox` value from the running sandbox. Pure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from release.adapters.atr import AtrTarget
from release.config import ReleaseConfig, parse_config
from release.errors import ConfigError
from release.pipeline.connect import Target, base_images, resolve_target
from release.sandbox import AtrServer, Services

SERVICES = Services(
    state_dir=Path("/src/.release"),
    registry="127.0.0.1:5001",
    index_url="http://127.0.0.1:8081/",
    svn_url="file:///src/.release/svn/repo/",
    gnupghome=Path("/src/.release/gnupg"),
    signing_key="A" * 40,
    base_images={"3.11": "127.0.0.1:5001/sandbox/python:3.11"},
)
REAL = {
    "registry": "ghcr.io",
    "index": "https://upload.pypi.org/legacy/",
    "svn-dev": "https://dist.apache.org/repos/dist/dev",
    "svn-release": "https://dist.apache.org/repos/dist/release",
    "signing-key": "B" * 40,
}


def config(**table: Any) -> ReleaseConfig:
    return parse_config(Path("/src"), {"name": "sample-app", "python": ["3.11", "3.13"], **table})


def test_an_all_sandbox_config_takes_every_endpoint_from_the_sandbox() -> None:
    target = resolve_target(config(), SERVICES)
    assert target == Target(
        registry="127.0.0.1:5001",
        index_upload="http://127.0.0.1:8081/",
        index_simple="http://127.0.0.1:8081/simple/",
        svn_dev="file:///src/.release/svn/repo/dev",
        svn_release="file:///src/.release/svn/repo/release",
        signing_key="A" * 40,
        keys_url="file:///src/.release/svn/repo/release/sample-app/KEYS",
        gnupghome=Path("/src/.release/gnupg"),
        twine_env={"TWINE_USERNAME": "sandbox", "TWINE_PASSWORD": "sandbox"},
        is_sandbox=True,
    )
    assert target.repository("sample/app") == "127.0.0.1:5001/sample/app"


def test_a_real_config_needs_no_sandbox_and_uses_the_users_own_credentials() -> None:
    target = resolve_target(config(**REAL), None)
    assert target.registry == "ghcr.io"
    assert target.index_upload == "https://upload.pypi.org/legacy/"
    assert target.index_simple == "https://pypi.org/simple/"
    assert target.svn_dev == REAL["svn-dev"] and target.svn_release == REAL["svn-release"]
    assert target.signing_key == "B" * 40
    assert target.keys_url == "https://dist.apache.org/repos/dist/release/sample-app/KEYS"
    assert target.gnupghome is None  # the user's own keyring
    assert target.twine_env == {}  # ~/.pypirc or the user's TWINE_* variables
    assert target.is_sandbox is False


def test_a_real_config_ignores_a_running_sandbox() -> None:
    assert resolve_target(config(**REAL), SERVICES) == resolve_target(config(**REAL), None)


@pytest.mark.parametrize(
    ("upload", "simple"),
    [
        ("https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
        ("https://upload.pypi.org/legacy", "https://pypi.org/simple/"),
        ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"),
        ("https://pypi.example.org/", "https://pypi.example.org/simple/"),
        ("https://pypi.example.org", "https://pypi.example.org/simple/"),
    ],
)
def test_the_simple_url_follows_from_the_upload_url(upload: str, simple: str) -> None:
    assert resolve_target(config(**{**REAL, "index": upload}), None).index_simple == simple


def test_a_mixed_config_takes_only_the_sandbox_values_from_the_sandbox() -> None:
    target = resolve_target(config(**{**REAL, "registry": "sandbox", "signing-key": "sandbox"}), SERVICES)
    assert target.registry == "127.0.0.1:5001"
    assert target.signing_key == "A" * 40 and target.gnupghome == SERVICES.gnupghome
    assert target.index_upload == REAL["index"] and target.twine_env == {}
    assert target.svn_release == REAL["svn-release"]
    assert target.is_sandbox is True


def test_the_sandbox_keyring_is_used_only_with_the_sandbox_key() -> None:
    target = resolve_target(config(**{**REAL, "registry": "sandbox"}), SERVICES)
    assert target.signing_key == "B" * 40 and target.gnupghome is None


def test_a_configured_keys_url_wins() -> None:
    target = resolve_target(config(**{"keys-url": "https://downloads.example.org/KEYS"}), SERVICES)
    assert target.keys_url == "https://downloads.example.org/KEYS"


@pytest.mark.parametrize("key", ["registry", "index", "svn-dev", "svn-release", "signing-key"])
def test_a_sandbox_value_without_a_running_sandbox_is_a_config_error(key: str) -> None:
    with pytest.raises(ConfigError, match=r"sandbox is not running: start it with `invoke sandbox.up`"):
        resolve_target(config(**{**REAL, key: "sandbox"}), None)


def test_base_images_fill_in_the_targets_registry() -> None:
    found = base_images(config(**{"base-image": "{registry}/sandbox/python:{python}"}),
                        resolve_target(config(), SERVICES))
    assert found == {"3.11": "127.0.0.1:5001/sandbox/python:3.11",
                     "3.13": "127.0.0.1:5001/sandbox/python:3.13"}


# --- ATR ---------------------------------------------------------------------------------------------

ATR = AtrServer("https://127.0.0.1:8443", Path("/src/.release/atr/state/cert.pem"),
                Path("/src/.release/atr/token"), "release-atr-0123456789", Path("/src/.release/logs/atr.log"))


def test_staging_in_svn_has_no_atr_target() -> None:
    assert resolve_target(config(), SERVICES).atr is None
    assert resolve_target(config(atr="sandbox"), replace(SERVICES, atr=ATR)).atr is None


def test_the_sandbox_s_atr_comes_with_its_certificate_and_token() -> None:
    target = resolve_target(config(staging="atr", atr="sandbox"), replace(SERVICES, atr=ATR))
    assert target.atr == AtrTarget("https://127.0.0.1:8443", "test", "test",
                                   ca_file=Path("/src/.release/atr/state/cert.pem"),
                                   token_file=Path("/src/.release/atr/token"), uid="test")


def test_the_sandbox_s_atr_must_be_running() -> None:
    with pytest.raises(ConfigError, match="the sandbox's ATR is not running"):
        resolve_target(config(staging="atr", atr="sandbox"), SERVICES)


def test_a_real_atr_trusts_the_system_and_takes_the_release_manager_s_token() -> None:
    table = {**REAL, "staging": "atr", "atr": "https://release-test.apache.org/", "atr-project": "airflow"}
    target = resolve_target(config(**table), None)
    assert target.atr == AtrTarget("https://release-test.apache.org", "airflow", "airflow")
    assert target.atr.ca_file is None and target.atr.token_file is None
