# SPDX-License-Identifier: Apache-2.0
"""What the sandbox asks of the adapters: svn set-up, a generated gpg key and its KEYS entry, a root
filesystem packed and imported, whether the engine answers, and an image's config digest.

svn, gpg and tar run for real in throwaway places; the engine and the registry are fakes here
(the real ones are exercised by test_sandbox).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from release.adapters import gpg, rootfs, svn
from release.adapters.cmd import CalledProcessError
from release.adapters.engine import Engine
from release.adapters.registry import RegistryClient
from release.errors import ServiceError

# --- svn ---------------------------------------------------------------------------------------------


def svn_ls(url: str) -> list[str]:
    listed = subprocess.run(["svn", "ls", "--non-interactive", url], check=True, capture_output=True,
                            text=True)
    return listed.stdout.split()


def test_svn_repository_folders_and_a_text_file(tmp_path: Path) -> None:
    url = svn.create_repository(tmp_path / "svn" / "repo")
    assert url == (tmp_path / "svn" / "repo").resolve().as_uri()
    assert svn_ls(url) == []
    folders = [svn.join(url, "dev", "demo"), svn.join(url, "release", "demo")]
    assert svn.mkdir(folders, "Create folders for demo") == 1
    assert svn_ls(url) == ["dev/", "release/"] and svn.exists(folders[1])
    keys = svn.join(folders[1], "KEYS")
    assert svn.write_text(keys, "first key\n", "Add KEYS") == 2
    assert svn.write_text(keys, "first key\nsecond key\n", "Change KEYS") == 3
    assert svn.write_text(keys, "first key\nsecond key\n", "Same KEYS") is None
    assert svn.read_text(keys) == "first key\nsecond key\n"
    assert svn_ls(folders[1]) == ["KEYS"]


# --- gpg ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> Iterator[tuple[Path, str]]:
    with gpg.temporary_home() as home:
        yield home, gpg.generate_key("Sandbox Test <sandbox-test@release.invalid>", gnupghome=home,
                                     algorithm="ed25519")


def test_a_generated_key_is_a_secret_signing_key(generated: tuple[Path, str]) -> None:
    home, fingerprint = generated
    assert len(fingerprint) == 40
    [key] = gpg.list_keys(None, gnupghome=home, secret=True)
    assert key.fingerprint == fingerprint and key.can_sign and not key.is_expired()
    assert key.user_ids == ("Sandbox Test <sandbox-test@release.invalid>",)


def test_the_secret_key_is_found_from_the_files(generated: tuple[Path, str], tmp_path: Path) -> None:
    home, fingerprint = generated
    assert gpg.has_secret_key(fingerprint, gnupghome=home)
    assert not gpg.has_secret_key("0" * 40, gnupghome=home)
    assert not gpg.has_secret_key(fingerprint, gnupghome=tmp_path / "no-such-home")


def test_a_keys_entry_lists_the_signatures_then_the_armored_key(generated: tuple[Path, str]) -> None:
    home, fingerprint = generated
    entry = gpg.keys_entry(fingerprint, gnupghome=home)
    listing, _, armored = entry.partition("\n\n")
    assert listing.startswith("pub") and fingerprint in listing and "sig 3" in listing
    assert armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert entry.endswith("-----END PGP PUBLIC KEY BLOCK-----\n")


def test_the_socket_dir_is_where_gpg_agent_listens(generated: tuple[Path, str]) -> None:
    home, _ = generated
    assert gpg.socket_dir(home).startswith("/")


# --- root filesystems ---------------------------------------------------------------------------------


def test_a_rootfs_is_packed_with_numeric_owners(tmp_path: Path) -> None:
    tree = tmp_path / "rootfs"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "hostname").write_text("sandbox\n")
    (tree / "bin").symlink_to("usr/bin")
    tarball = rootfs.pack(tree, tmp_path / "rootfs.tar")
    with tarfile.open(tarball) as archive:
        members = {member.name: member for member in archive.getmembers()}
    assert {"./etc/hostname", "./bin"} <= set(members)
    assert members["./bin"].issym() and members["./bin"].linkname == "usr/bin"
    assert all(member.uname == "" and member.gname == "" for member in members.values())
    rootfs.unmount_under(tmp_path)  # nothing mounted there: nothing to do


# --- the engine (a fake SDK client) ----------------------------------------------------------------


@dataclass
class FakeApi:
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def import_image_from_file(self, filename: str, **kwargs: Any) -> str:
        self.calls.append((filename, kwargs))
        labels = dict(change.split(" ", 1)[1].split("=", 1) for change in kwargs["changes"][:1])
        self.images[f"{kwargs['repository']}:{kwargs['tag']}"] = {
            "Id": "sha256:" + "ab" * 32, "Config": {"Labels": labels}}
        return json.dumps({"status": "sha256:" + "ab" * 32})

    def inspect_image(self, ref: str) -> dict[str, Any]:
        if ref not in self.images:
            raise docker.errors.ImageNotFound(ref)
        return self.images[ref]


@dataclass
class FakeClient:
    api: FakeApi = field(default_factory=FakeApi)

    def ping(self) -> bool:
        return True

    def version(self) -> dict[str, str]:
        return {"Version": "99.0.1"}


def _unreachable() -> Any:
    raise docker.errors.DockerException("Error while fetching server API version")


def test_an_engine_that_answers_says_so_and_its_version() -> None:
    engine = Engine(FakeClient)
    assert engine.ping() is True and engine.version() == "99.0.1"


def test_no_engine_is_not_an_error_when_asking_whether_it_answers() -> None:
    engine = Engine(_unreachable)
    assert engine.ping() is False and engine.version() is None
    with pytest.raises(ServiceError, match="cannot reach the Docker Engine"):
        engine.inspect("anything")


def test_a_rootfs_tar_is_imported_under_its_ref(tmp_path: Path) -> None:
    client = FakeClient()
    engine = Engine(lambda: client)
    tarball = tmp_path / "rootfs.tar"
    info = engine.import_rootfs(tarball, "127.0.0.1:5000/sandbox/python:3.11",
                                changes=["LABEL recipe=abc", 'CMD ["python3"]'])
    assert client.api.calls == [(str(tarball), {"repository": "127.0.0.1:5000/sandbox/python", "tag": "3.11",
                                                "changes": ["LABEL recipe=abc", 'CMD ["python3"]']})]
    assert info.labels == {"recipe": "abc"} and info.short_id == "ab" * 6


# --- the registry (a fake HTTP session) -------------------------------------------------------------


@dataclass
class FakeResponse:
    status_code: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    url: str = ""
    links: dict[str, dict[str, str]] = field(default_factory=dict)

    def iter_content(self, size: int) -> Iterator[bytes]:
        yield self.content

    def close(self) -> None:
        pass


class FakeSession:
    def __init__(self, manifests: dict[str, dict[str, Any]]) -> None:
        self.manifests = manifests

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        reference = url.rsplit("/manifests/", 1)[1]
        if reference not in self.manifests:
            return FakeResponse(404)
        body = self.manifests[reference]
        return FakeResponse(200, json.dumps(body).encode(), {"Content-Type": body["mediaType"]})


def test_the_config_digest_is_read_from_the_manifest_or_the_first_of_an_index() -> None:
    image = {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "config": {"digest": "sha256:" + "c" * 64}}
    first = "sha256:" + hashlib.sha256(json.dumps(image).encode()).hexdigest()  # digests are checked
    index = {"mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"digest": first}, {"digest": "sha256:" + "2" * 64}]}
    session = FakeSession({"3.11": image, "multi": index, first: image})
    client = RegistryClient("127.0.0.1:5000", session=session)  # type: ignore[arg-type]
    assert client.config_digest("sandbox/python", "3.11") == "sha256:" + "c" * 64
    assert client.config_digest("sandbox/python", "multi") == "sha256:" + "c" * 64
    assert client.config_digest("sandbox/python", "3.13") is None


# --- cmd ---------------------------------------------------------------------------------------------


def test_the_process_error_of_libraries_is_subprocess_s() -> None:
    assert CalledProcessError is subprocess.CalledProcessError
