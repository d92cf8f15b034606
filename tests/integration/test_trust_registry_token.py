# SPDX-License-Identifier: Apache-2.0
"""Token registries as Docker Hub and GHCR are, and the credentials `docker login` leaves, against the
real distribution registry configured with `auth: token` and a real token service on 127.0.0.1 that
signs its tokens (tests/token_registry.py). Nothing is faked on the client's side: the registry
refuses a request whose token lacks the scope, and a token the registry's root bundle does not vouch
for.

Credential helpers are real programs on PATH (`docker-credential-NAME`), shell scripts that answer
as docker-credential-helpers do and record what they were asked.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from token_registry import TokenRegistry, token_registry

from release.adapters.docker_config import credentials_for
from release.adapters.engine import Engine
from release.adapters.registry import Manifest, RegistryAuth, RegistryClient, digest_of
from release.errors import ServiceError, ToolMissingError

USER = "releaser"
PASSWORD = "token-registry-pa55-" + "x1y2z3"  # never shown anywhere
REFRESH = "identity-token-" + "r3fr3sh"  # an identity token a helper hands out
SECRETS = (PASSWORD, REFRESH, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A docker config folder of the test's own (never the developer's), empty to start with."""
    folder = tmp_path / "docker"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    return folder


@pytest.fixture(params=["http-on-the-registry-host", "https-on-another-host"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenRegistry]:
    """GHCR's way (the token service on the registry's host; here plain http, as only loopback
    allows) and Docker Hub's (an https token service on another host: `localhost`)."""
    with token_registry(tmp_path, {USER: PASSWORD}, tls=request.param.startswith("https"),
                        refresh_tokens={REFRESH: USER}) as found:
        yield found


def client_for(registry: TokenRegistry, auth: RegistryAuth | None = None) -> RegistryClient:
    session = requests.Session()
    if registry.service.tls:  # the test's own CA, as a system one vouches for auth.docker.io
        session.verify = str(registry.log.parent / "token-service.pem")
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over the session's own
    return RegistryClient(registry.address, auth=auth, session=session)


def write_auths(folder: Path, entries: dict[str, object]) -> None:
    (folder / "config.json").write_text(json.dumps(entries), encoding="utf-8")


def basic(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def push_image(client: RegistryClient, repository: str, tag: str, *, mount_from: str = "") -> str:
    """A one-layer image by the registry API: its layer and config blobs, then its manifest."""
    layer = f"layer of {repository}".encode() if not mount_from else b"shared layer"
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"},
                         "config": {"Labels": {"org.opencontainers.image.version": tag}}}).encode()
    layer_digest = client.upload_blob(repository, layer, mount_from=mount_from)
    config_digest = client.upload_blob(repository, config)
    body = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                       "digest": config_digest},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                        "digest": layer_digest}]}
    raw = json.dumps(body).encode()
    return client.put_manifest(repository, tag, Manifest(raw, body["mediaType"], digest_of(raw)))


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# --------------------------------------------------------------------------- tokens


def normal(scope: str) -> str:
    """A scope with its actions in one order: the registry's challenge lists `pull,push` or
    `push,pull` from run to run (the same grant either way)."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return f"{kind}:{name}:{','.join(sorted(actions.split(',')))}"


def test_anonymous_pulls_and_authenticated_pushes(registry: TokenRegistry, docker_config: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    write_auths(docker_config, {"auths": {registry.address: basic(USER, PASSWORD)}})
    pusher = client_for(registry)  # credentials from config.json, read when the registry asks
    digest = push_image(pusher, "public/app", "1.0.0")
    assert pusher.copy_tag("public/app", "1.0.0", "latest") == digest
    pushed = list(registry.service.asked)
    assert {a.caller for a in pushed} == {f"basic:{USER}"}
    assert "repository:public/app:pull,push" in {normal(scope) for a in pushed for scope in a.scopes}

    (docker_config / "config.json").unlink()
    reader = client_for(registry)
    assert reader.tags("public/app") == ["1.0.0", "latest"]
    assert reader.manifest_digest("public/app", "latest") == digest
    assert (reader.image_labels("public/app", "1.0.0") or {})["org.opencontainers.image.version"] == "1.0.0"
    anonymous = registry.service.asked[len(pushed):]
    assert anonymous and {a.caller for a in anonymous} == {"anonymous"}
    assert all(a.authorization is None for a in anonymous)
    with pytest.raises(ServiceError, match=r"setting public/app:stolen failed \(HTTP 401\)"):
        reader.copy_tag("public/app", "1.0.0", "stolen")  # the token service grants no push: refused
    assert_no_secret(caplog.text, repr(pusher), repr(pusher.auth))


def test_private_repositories_want_credentials(registry: TokenRegistry) -> None:
    push_image(client_for(registry, RegistryAuth(USER, PASSWORD)), "private/app", "1.0.0")
    with pytest.raises(ServiceError, match=r"listing tags of private/app failed \(HTTP 401\)"):
        client_for(registry).tags("private/app")
    with pytest.raises(ServiceError, match=r"token refused \(HTTP 401\)") as refused:
        client_for(registry, RegistryAuth(USER, "wrong-" + PASSWORD)).tags("private/app")
    assert_no_secret(str(refused.value))


def test_a_cross_repository_mount_asks_for_both_scopes(registry: TokenRegistry,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="release.registry")
    client = client_for(registry, RegistryAuth(USER, PASSWORD))
    push_image(client, "private/base", "1", mount_from="")
    client.upload_blob("private/base", b"shared layer")
    registry.service.asked.clear()
    push_image(client, "private/app", "1", mount_from="private/base")
    scopes = [{normal(scope) for scope in a.scopes} for a in registry.service.asked]
    assert {"repository:private/app:pull,push", "repository:private/base:pull"} in scopes
    assert "mounted into private/app from private/base" in caplog.text
    assert client.has_blob("private/app", digest_of(b"shared layer"))


def test_an_identity_token_is_exchanged_as_a_refresh_token(registry: TokenRegistry) -> None:
    client = client_for(registry, RegistryAuth("<token>", REFRESH))
    push_image(client, "private/app", "2")
    assert client.tags("private/app") == ["2"]
    assert {(a.method, a.caller) for a in registry.service.asked} == {("POST", f"refresh:{USER}")}


def test_a_token_the_registry_does_not_trust_is_refused(tmp_path: Path) -> None:
    """The registry checks the token's signature against its root bundle: the tests' token service
    is no pass-through. Another issuer's tokens (another key) get a 401."""
    with token_registry(tmp_path / "a", {USER: PASSWORD}) as first, \
            token_registry(tmp_path / "b", {USER: PASSWORD}) as second:
        token = second.service.issuer.token(USER, [{"type": "repository", "name": "public/app",
                                                     "actions": ["pull"]}])
        answer = requests.get(f"http://{first.address}/v2/public/app/tags/list",
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 401


# --------------------------------------------------------------------------- helpers and Docker Hub


HELPER = """#!/bin/sh
# docker-credential-{name}: answers `get` as docker-credential-helpers do, and records what it was asked
[ "$1" = get ] || exit 2
read -r server
echo "$server" >> {log}
case "$server" in
{cases}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"""


def install_helper(folder: Path, name: str, answers: dict[str, tuple[str, str]]) -> Path:
    log = folder / f"{name}.asked"
    answer = {server: json.dumps({"ServerURL": server, "Username": user, "Secret": secret})
              for server, (user, secret) in answers.items()}
    cases = "\n".join(f"  {server}) echo '{text}' ;;" for server, text in answer.items())
    script = folder / f"docker-credential-{name}"
    script.write_text(HELPER.format(name=name, log=log, cases=cases))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "helpers"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_a_credential_store_serves_the_registry(registry: TokenRegistry, docker_config: Path,
                                                helpers: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Before, `credsStore` was ignored: config.json's auths hold only `{}` then, so no credentials."""
    caplog.set_level(logging.DEBUG)
    asked = install_helper(helpers, "teststore", {registry.address: (USER, PASSWORD)})
    write_auths(docker_config, {"credsStore": "teststore", "auths": {registry.address: {}}})
    client = client_for(registry)
    push_image(client, "private/app", "3")
    assert client.tags("private/app") == ["3"]
    assert asked.read_text().splitlines() == [registry.address]  # run once, when the registry asked
    assert "docker-credential-teststore get" in caplog.text
    assert_no_secret(caplog.text)


def test_a_registry_that_never_asks_runs_no_helper(tmp_path: Path, docker_config: Path,
                                                   helpers: Path) -> None:
    """The sandbox's registry wants no credentials: a store whose helper is missing or locked (a
    desktop keychain on a CI machine) must not stop a release to it."""
    asked = install_helper(helpers, "teststore", {})
    write_auths(docker_config, {"credsStore": "teststore"})
    with token_registry(tmp_path / "open", {}, auth=False) as found:
        client = RegistryClient(found.address)
        push_image(client, "sample/app", "1.0.0")
        assert client.tags("sample/app") == ["1.0.0"]
    assert not asked.exists()


def test_a_ping_reads_no_credentials(registry: TokenRegistry, docker_config: Path, helpers: Path) -> None:
    """Whether a token registry is up is its 401: publish asks before anything needs credentials."""
    asked = install_helper(helpers, "teststore", {registry.address: (USER, PASSWORD)})
    write_auths(docker_config, {"credsStore": "teststore"})
    assert client_for(registry).ping()
    assert not asked.exists() and registry.service.asked == []


def test_a_helper_for_one_registry_wins_over_the_store(registry: TokenRegistry, docker_config: Path,
                                                       helpers: Path) -> None:
    store = install_helper(helpers, "teststore", {registry.address: (USER, "wrong")})
    one = install_helper(helpers, "thisone", {registry.address: (USER, PASSWORD)})
    write_auths(docker_config, {"credsStore": "teststore", "credHelpers": {registry.address: "thisone"}})
    push_image(client_for(registry), "private/app", "4")
    assert one.read_text().splitlines() == [registry.address] and not store.exists()


def test_a_helper_that_does_not_know_the_registry_means_no_credentials(
        registry: TokenRegistry, docker_config: Path, helpers: Path) -> None:
    install_helper(helpers, "teststore", {"other.example": (USER, PASSWORD)})
    write_auths(docker_config, {"credsStore": "teststore"})
    push_image(client_for(registry, RegistryAuth(USER, PASSWORD)), "public/app", "5")
    assert client_for(registry).tags("public/app") == ["5"]  # anonymous pull still works
    assert registry.service.asked[-1].caller == "anonymous"


def test_a_helper_that_is_missing_or_fails_is_one_line(registry: TokenRegistry, docker_config: Path,
                                                       helpers: Path) -> None:
    write_auths(docker_config, {"credsStore": "absent"})
    with pytest.raises(ToolMissingError, match="'docker-credential-absent' is not installed"):
        client_for(registry).tags("public/app")
    broken = helpers / "docker-credential-broken"
    broken.write_text(f"#!/bin/sh\necho 'keychain locked'\necho '{PASSWORD}' >&2\nexit 3\n")
    broken.chmod(0o755)
    write_auths(docker_config, {"credsStore": "broken"})
    with pytest.raises(ServiceError) as failed:
        client_for(registry).tags("public/app")
    assert str(failed.value) == (f"docker-credential-broken get {registry.address} failed (exit 3): "
                                 "keychain locked")
    write_auths(docker_config, {"credsStore": "../../bin/sh"})
    with pytest.raises(ServiceError, match="is not a program name"):
        client_for(registry).tags("public/app")


@pytest.mark.parametrize("name", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_credentials_come_from_a_helper_by_docker_logins_name(
        docker_config: Path, helpers: Path, name: str) -> None:
    """`docker login` with a store keeps Docker Hub's under https://index.docker.io/v1/; the helper
    is asked for that name, whichever Docker Hub name the configuration uses."""
    asked = install_helper(helpers, "teststore", {"https://index.docker.io/v1/": (USER, PASSWORD)})
    write_auths(docker_config, {"credsStore": "teststore"})
    assert credentials_for(name) == RegistryAuth(USER, PASSWORD)
    assert asked.read_text().splitlines() == ["https://index.docker.io/v1/"]
    assert RegistryClient(name).base == "https://registry-1.docker.io/v2"


# --------------------------------------------------------------------------- the engine


@pytest.mark.images
def test_the_engine_pushes_to_a_token_registry_with_the_same_credentials(
        tmp_path: Path, docker_config: Path) -> None:
    """A release pushes with the engine, then moves tags with the client: both through one token
    service, with the credentials docker login would have stored."""
    with token_registry(tmp_path / "registry", {USER: PASSWORD}) as found:
        write_auths(docker_config, {"auths": {found.address: basic(USER, PASSWORD)}})
        rootfs = tmp_path / "rootfs.tar"
        with tarfile.open(rootfs, "w") as archive:
            info = tarfile.TarInfo("hello.txt")
            info.size = 6
            archive.addfile(info, fileobj=io.BytesIO(b"hello\n"))
        ref = f"{found.address}/private/tiny:1.0.0"
        engine = Engine()
        engine.import_rootfs(rootfs, ref)
        try:
            digest = engine.push(ref)
            client = RegistryClient(found.address)
            assert client.copy_tag("private/tiny", "1.0.0", "latest") == digest
            assert client.tags("private/tiny") == ["1.0.0", "latest"]
        finally:
            subprocess.run(["docker", "rmi", ref], capture_output=True, check=False)
        assert {a.caller for a in found.service.asked} == {f"basic:{USER}"}
