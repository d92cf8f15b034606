# SPDX-License-Identifier: Apache-2.0
"""Image indexes are checked, not trusted: an entry's platform must be the architecture its image's
own config states, its size its manifest's, whether the index is read from a real `docker-registry`
or about to be written to it; and an index read by digest must hash to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.test_registry import (
    LiveRegistry,
    PushedImage,
    push_image,
    put_raw_manifest,
    sha256,
    start_registry,
)
from integration.test_trust_registry_digests import TamperingProxy
from release.adapters.registry import DOCKER_LIST, DOCKER_MANIFEST, PlatformImage, RegistryClient
from release.errors import RefusedError, VerificationError
from release.steps.tags import point_tag

pytestmark = pytest.mark.sandbox
REPO = "multi/app"
LABELS = {"org.opencontainers.image.version": "1.10.6"}


@pytest.fixture(autouse=True)
def _no_real_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "docker-config-empty"
    empty.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(empty))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRegistry]:
    live = start_registry(tmp_path_factory.mktemp("registry"))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def images(registry: LiveRegistry) -> dict[str, PushedImage]:
    """One image per platform, each config stating its architecture."""
    return {arch: push_image(registry.url, REPO, f"1.10.6-python3.11-{arch}", LABELS, payload=arch.encode(),
                             architecture=arch)
            for arch in ("amd64", "arm64")}


@pytest.fixture
def client(registry: LiveRegistry) -> RegistryClient:
    return RegistryClient(registry.address)


def raw_index(entries: list[tuple[PushedImage, str, int | None]]) -> bytes:
    """A manifest list naming each image with the architecture and size given (None: its own)."""
    return json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [
        {"mediaType": image.media_type, "size": len(image.raw) if size is None else size,
         "digest": image.digest, "platform": {"architecture": arch, "os": "linux"}}
        for image, arch, size in entries]}).encode()


def test_an_index_put_over_each_platforms_image_reads_back_with_each_digest(
    client: RegistryClient, images: dict[str, PushedImage]
) -> None:
    found = [client.platform_image(REPO, f"1.10.6-python3.11-{arch}") for arch in ("amd64", "arm64")]
    assert [(i.platform, i.media_type) for i in found if i] == [("linux/amd64", DOCKER_MANIFEST),
                                                               ("linux/arm64", DOCKER_MANIFEST)]
    put = client.put_index(REPO, [i for i in found if i], "1.10.6-python3.11")
    assert client.manifest_digest(REPO, "1.10.6-python3.11") == put.digest
    assert client.media_type(REPO, "1.10.6-python3.11") == DOCKER_LIST
    read = client.image_index(REPO, "1.10.6-python3.11")
    assert read is not None and read.digest == put.digest
    assert read.digests() == {"linux/amd64": images["amd64"].digest, "linux/arm64": images["arm64"].digest}
    again = client.put_index(REPO, [i for i in found if i])  # by digest only, no tag: the same bytes
    assert again.digest == put.digest
    assert client.image_index(REPO, put.digest) is not None


def test_an_index_that_lists_an_amd64_image_as_arm64_is_refused_when_read(
    registry: LiveRegistry, client: RegistryClient, images: dict[str, PushedImage]
) -> None:
    raw = raw_index([(images["amd64"], "amd64", None), (images["amd64"], "arm64", None)])
    put_raw_manifest(registry.url, REPO, "lying", raw, DOCKER_LIST)
    with pytest.raises(VerificationError) as caught:
        client.image_index(REPO, "lying")
    assert (f"lists {images['amd64'].digest} as linux/arm64, but that image's config says linux/amd64"
            in str(caught.value))
    assert caught.value.exit_code == 7


def test_an_index_entry_with_another_size_than_its_manifest_is_refused(
    registry: LiveRegistry, client: RegistryClient, images: dict[str, PushedImage]
) -> None:
    raw = raw_index([(images["amd64"], "amd64", 7), (images["arm64"], "arm64", None)])
    put_raw_manifest(registry.url, REPO, "wrong-size", raw, DOCKER_LIST)
    with pytest.raises(VerificationError, match="with size 7, but its manifest has"):
        client.image_index(REPO, "wrong-size")


def test_an_amd64_image_is_never_written_into_an_index_as_arm64(
    client: RegistryClient, images: dict[str, PushedImage]
) -> None:
    amd64 = images["amd64"]
    posing = PlatformImage("linux/arm64", amd64.digest, len(amd64.raw), amd64.media_type)
    with pytest.raises(VerificationError, match="is linux/amd64, not linux/arm64"):
        client.put_index(REPO, [posing], "posing")
    assert client.manifest_digest(REPO, "posing") is None
    absent = PlatformImage("linux/arm64", sha256(b"never pushed"), 1, DOCKER_MANIFEST)
    with pytest.raises(VerificationError, match="is not in the registry"):
        client.put_index(REPO, [absent], "absent")


def test_one_platforms_image_is_not_an_index(client: RegistryClient, images: dict[str, PushedImage]) -> None:
    found = client.platform_image(REPO, "1.10.6-python3.11-arm64")
    assert found is not None
    put = client.put_index(REPO, [found], "single")
    with pytest.raises(VerificationError, match="is an image index, not one platform's image"):
        client.platform_image(REPO, put.digest)
    plain = client.image_index(REPO, "1.10.6-python3.11-amd64")  # one image: one entry, its own digest
    assert plain is not None and plain.digest == images["amd64"].digest
    assert plain.digests() == {"linux/amd64": images["amd64"].digest}


def test_an_index_read_by_digest_must_hash_to_it(
    registry: LiveRegistry, images: dict[str, PushedImage]
) -> None:
    honest = RegistryClient(registry.address)
    found = [honest.platform_image(REPO, f"1.10.6-python3.11-{arch}") for arch in ("amd64", "arm64")]
    put = honest.put_index(REPO, [i for i in found if i])
    proxy = TamperingProxy(registry)
    try:
        proxy.manifest_bodies = True
        with pytest.raises(VerificationError, match="refusing them"):
            RegistryClient(proxy.address).image_index(REPO, put.digest)
    finally:
        proxy.close()


def test_an_alias_of_an_index_is_never_moved_to_a_single_image(
    client: RegistryClient, images: dict[str, PushedImage]
) -> None:
    found = [client.platform_image(REPO, f"1.10.6-python3.11-{arch}") for arch in ("amd64", "arm64")]
    index = client.put_index(REPO, [i for i in found if i], "latest")
    with pytest.raises(RefusedError, match="would drop its other platforms"):
        point_tag(client, REPO, "latest", images["amd64"].digest, moving=True)
    assert client.manifest_digest(REPO, "latest") == index.digest
    # from one image to an index is how a project gains a platform: allowed
    client.copy_tag(REPO, images["amd64"].digest, "latest-single")
    moved = point_tag(client, REPO, "latest-single", index.digest, moving=True)
    assert moved.action == "move" and client.manifest_digest(REPO, "latest-single") == index.digest
