# SPDX-License-Identifier: Apache-2.0
"""The registry adapter without a registry: credentials from the docker config, the URL scheme."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from release.adapters.docker_config import api_host, server_name
from release.adapters.registry import (
    DOCKER_HUB,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    MANIFEST_TYPES,
    OCI_INDEX,
    PlatformImage,
    RegistryAuth,
    RegistryClient,
    _challenge,
    auth_from_docker_config,
    index_manifest,
    parse_reference,
)
from release.errors import ReleaseError, ServiceError

SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
USER = "robot$release"
PASSWORD = "s3cr3t:pa55-w0rd"  # a test credential that must never leak


@pytest.fixture(autouse=True)
def _no_real_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's ~/.docker/config.json."""
    empty = tmp_path / "docker-config-empty"
    empty.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(empty))


def write_docker_config(directory: Path, auths: dict[str, tuple[str, str]], **extra: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    entries = {
        host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        for host, (user, password) in auths.items()
    }
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": entries, **extra}), encoding="utf-8")
    return path


def test_auth_from_an_explicit_config_dir(tmp_path: Path) -> None:
    write_docker_config(tmp_path, {"registry.example.org:5000": (USER, PASSWORD)})
    auth = auth_from_docker_config("registry.example.org:5000", tmp_path)
    assert auth == RegistryAuth(USER, PASSWORD)
    assert auth is not None
    assert auth.password == PASSWORD  # a colon inside the password survives


def test_auth_from_the_docker_config_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_docker_config(tmp_path / "cfg", {"registry.example.org": ("u", "p")})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    assert auth_from_docker_config("registry.example.org") == RegistryAuth("u", "p")
    assert auth_from_docker_config("other.example.org") is None


def test_auth_from_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_docker_config(tmp_path / "home" / ".docker", {"registry.example.org": ("u", "p")})
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert auth_from_docker_config("registry.example.org") == RegistryAuth("u", "p")


def test_an_explicit_dir_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_docker_config(tmp_path / "env", {"r.example": ("env", "1")})
    write_docker_config(tmp_path / "arg", {"r.example": ("arg", "2")})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "env"))
    assert auth_from_docker_config("r.example", tmp_path / "arg") == RegistryAuth("arg", "2")


def test_auth_under_an_https_key(tmp_path: Path) -> None:
    write_docker_config(tmp_path, {"https://registry.example.org": ("u", "p")})
    assert auth_from_docker_config("registry.example.org", tmp_path) == RegistryAuth("u", "p")


def test_the_exact_key_wins_over_the_https_key(tmp_path: Path) -> None:
    write_docker_config(tmp_path, {"https://r.example": ("https", "1"), "r.example": ("exact", "2")})
    assert auth_from_docker_config("r.example", tmp_path) == RegistryAuth("exact", "2")


@pytest.mark.parametrize(
    "content",
    [
        None,  # no file
        "",
        "{",
        "[]",
        "null",
        '{"auths": []}',
        '{"auths": {"r.example": "dXNlcjpwYXNz"}}',
        '{"auths": {"r.example": {}}}',
        '{"auths": {"r.example": {"auth": 42}}}',
        '{"auths": {"r.example": {"auth": "%%% not base64"}}}',
        '{"auths": {"r.example": {"auth": "/w=="}}}',  # base64 of a byte that is not UTF-8
        '{"auths": {"other.example": {"auth": "dXNlcjpwYXNz"}}}',
    ],
)
def test_no_usable_credentials(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "config.json").write_text(content, encoding="utf-8")
    assert auth_from_docker_config("r.example", tmp_path) is None


def test_a_config_json_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_bytes(b"\xff\xfe{}")
    assert auth_from_docker_config("r.example", tmp_path) is None


@pytest.mark.parametrize("name", ["docker.io", "index.docker.io", "registry-1.docker.io", "DOCKER.IO"])
def test_docker_hub_credentials_are_found_under_the_name_docker_login_stores(tmp_path: Path,
                                                                            name: str) -> None:
    """`docker login` (and `docker login docker.io`) keep Docker Hub's under https://index.docker.io/v1/;
    before, `registry = "docker.io"` looked for a key `docker.io` and found nothing."""
    write_docker_config(tmp_path, {"https://index.docker.io/v1/": (USER, PASSWORD), "ghcr.io": ("g", "h")})
    assert auth_from_docker_config(name, tmp_path) == RegistryAuth(USER, PASSWORD)
    assert auth_from_docker_config("ghcr.io", tmp_path) == RegistryAuth("g", "h")
    assert auth_from_docker_config("quay.io", tmp_path) is None


def test_an_auths_key_with_a_scheme_and_a_path_names_its_host(tmp_path: Path) -> None:
    write_docker_config(tmp_path, {"https://registry.example.org/v2/": ("u", "p")})
    assert auth_from_docker_config("registry.example.org", tmp_path) == RegistryAuth("u", "p")
    assert auth_from_docker_config("example.org", tmp_path) is None


def test_an_identity_token_in_auths_is_kept_as_one(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"r.example": {"identitytoken": "refresh"}}}))
    auth = auth_from_docker_config("r.example", tmp_path)
    assert auth == RegistryAuth("<token>", "refresh") and auth.identity_token
    assert "refresh" not in repr(auth)


@pytest.mark.parametrize(("registry", "base"), [
    ("docker.io", "https://registry-1.docker.io/v2"),  # before: https://docker.io/v2, a web site
    ("index.docker.io", "https://registry-1.docker.io/v2"),
    ("registry-1.docker.io", "https://registry-1.docker.io/v2"),
    ("ghcr.io", "https://ghcr.io/v2"),
    ("127.0.0.1:5000", "http://127.0.0.1:5000/v2"),
])
def test_the_api_of_docker_hub_is_registry_1(registry: str, base: str) -> None:
    client = RegistryClient(registry)
    assert client.base == base
    assert client.registry == registry  # messages name it as the configuration does


def test_the_name_a_credential_helper_is_asked_for() -> None:
    assert server_name("docker.io") == "https://index.docker.io/v1/"
    assert server_name("ghcr.io") == "ghcr.io"
    assert api_host("index.docker.io") == "registry-1.docker.io" and api_host("quay.io") == "quay.io"


@pytest.mark.parametrize(("header", "realm", "fields", "scopes"), [
    ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
     'scope="repository:apache/airflow:pull"', "https://auth.docker.io/token",
     {"service": "registry.docker.io"}, ["repository:apache/airflow:pull"]),
    ('Bearer realm="https://ghcr.io/token",service="ghcr.io",'
     'scope="repository:a/b:pull,push repository:a/c:pull"',
     "https://ghcr.io/token", {"service": "ghcr.io"}, ["repository:a/b:pull,push", "repository:a/c:pull"]),
    ('Bearer realm="http://127.0.0.1:1/token"', "http://127.0.0.1:1/token", {}, []),
])
def test_a_challenge_gives_every_scope_it_lists(header: str, realm: str, fields: dict[str, str],
                                                 scopes: list[str]) -> None:
    assert _challenge(header) == (realm, fields, scopes)


def test_a_client_without_any_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "absent"))
    assert RegistryClient("registry.example.org").auth is None


@pytest.mark.parametrize(
    ("registry", "scheme"),
    [
        ("127.0.0.1:5000", "http"),
        ("127.0.0.1", "http"),
        ("127.1.2.3:80", "http"),
        ("localhost:5000", "http"),
        ("localhost", "http"),
        ("[::1]:5000", "http"),
        ("[::1]", "http"),
        ("::1", "http"),
        ("registry.example.org", "https"),
        ("registry.example.org:5000", "https"),
        ("10.0.0.1:5000", "https"),
        ("127.example.org:5000", "https"),
        ("127.0.0.1.nip.io:5000", "https"),
        ("localhost.example.org", "https"),
        ("ghcr.io", "https"),
        ("localhost:1@registry.example.com", "https"),  # the host is registry.example.com
        ("127.0.0.1:5000@registry.example.com:443", "https"),
    ],
)
def test_only_loopback_registries_use_plain_http(registry: str, scheme: str) -> None:
    assert RegistryClient(registry, auth=None).base == f"{scheme}://{registry}/v2"


def test_insecure_overrides_the_scheme() -> None:
    assert RegistryClient("registry.example.org", insecure=True).base == "http://registry.example.org/v2"
    assert RegistryClient("127.0.0.1:5000", insecure=False).base == "https://127.0.0.1:5000/v2"


def test_manifest_types_cover_docker_and_oci() -> None:
    for media_type in (SCHEMA2, MANIFEST_LIST, OCI_MANIFEST, "application/vnd.oci.image.index.v1+json"):
        assert media_type in MANIFEST_TYPES


def test_service_error_is_a_release_error() -> None:
    assert issubclass(ServiceError, ReleaseError)


# --------------------------------------------------------------------------- image indexes, references

AMD = PlatformImage("linux/amd64", "sha256:" + "a" * 64, 528, DOCKER_MANIFEST)
ARM = PlatformImage("linux/arm64", "sha256:" + "b" * 64, 530, DOCKER_MANIFEST)


def test_an_index_over_docker_manifests_is_a_manifest_list_in_the_given_order() -> None:
    raw, media_type = index_manifest([AMD, ARM])
    assert media_type == DOCKER_LIST
    body = json.loads(raw)
    assert body["schemaVersion"] == 2 and body["mediaType"] == DOCKER_LIST
    assert body["manifests"] == [
        {"mediaType": DOCKER_MANIFEST, "size": 528, "digest": AMD.digest,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": DOCKER_MANIFEST, "size": 530, "digest": ARM.digest,
         "platform": {"architecture": "arm64", "os": "linux"}},
    ]
    assert index_manifest([AMD, ARM])[0] == raw  # same images, same bytes: a rerun gets the same digest


def test_an_index_over_oci_manifests_is_an_oci_index_and_variants_are_kept() -> None:
    oci = PlatformImage("linux/arm/v7", "sha256:" + "c" * 64, 400, OCI_MANIFEST)
    raw, media_type = index_manifest([oci])
    assert media_type == OCI_INDEX
    platform = json.loads(raw)["manifests"][0]["platform"]
    assert platform == {"architecture": "arm", "os": "linux", "variant": "v7"}


def test_an_index_lists_each_platform_once_and_at_least_one() -> None:
    with pytest.raises(ValueError, match="each platform once"):
        index_manifest([AMD, PlatformImage("linux/amd64", ARM.digest, 1, DOCKER_MANIFEST)])
    with pytest.raises(ValueError, match="at least one"):
        index_manifest([])


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("127.0.0.1:5000/sandbox/python:3.11", ("127.0.0.1:5000", "sandbox/python", "3.11")),
        ("localhost/a/b", ("localhost", "a/b", "latest")),
        ("ghcr.io/apache/airflow:3.3.2", ("ghcr.io", "apache/airflow", "3.3.2")),
        ("python:3.11-slim-bookworm", (DOCKER_HUB, "library/python", "3.11-slim-bookworm")),
        ("docker.io/python:3.11", (DOCKER_HUB, "library/python", "3.11")),
        ("apache/airflow", (DOCKER_HUB, "apache/airflow", "latest")),
        ("127.0.0.1:5000/sandbox/python:3.11@sha256:" + "d" * 64,
         ("127.0.0.1:5000", "sandbox/python", "sha256:" + "d" * 64)),
    ],
)
def test_references_are_read_as_docker_reads_them(ref: str, expected: tuple[str, str, str]) -> None:
    assert parse_reference(ref) == expected
