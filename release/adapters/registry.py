# SPDX-License-Identifier: Apache-2.0
"""The registry HTTP API (distribution v2): tags, manifests, labels, and manifest copies.

Aliases are set by copying a manifest (GET then PUT under another tag): no blob is uploaded.
Credentials come from docker's config.json; bearer-token registries are handled, the credentials
going to a token service only over https, or over plain http to the registry's own loopback host;
secrets are never logged.

Content addressing is checked, not trusted: what is read by digest (a manifest, an image config)
must hash to that digest, and the digest a registry answers a manifest PUT with must be that of
the bytes sent (VerificationError otherwise).

Multi-platform images are image indexes (a Docker manifest list, or an OCI image index when the
images are OCI manifests) over one image per platform. An index is checked both ways: every entry's
platform must be the architecture that image's own config states, whether the index is read from
the registry or about to be written to it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from release.errors import ServiceError, VerificationError
from release.urls import is_loopback_host, registry_host

log = logging.getLogger("release.registry")

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_TYPES = frozenset({DOCKER_LIST, OCI_INDEX})
MANIFEST_TYPES = ", ".join([DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX])
_TIMEOUT = 30.0
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


@dataclass(frozen=True)
class RegistryAuth:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"RegistryAuth(username={self.username!r}, password=<hidden>)"


@dataclass(frozen=True)
class Manifest:
    raw: bytes
    media_type: str
    digest: str

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.raw)
        return parsed


@dataclass(frozen=True)
class PlatformImage:
    """One platform's image as an index lists it: its manifest, and the platform its config states."""

    platform: str  # os/architecture[/variant], e.g. linux/arm64
    digest: str  # of its manifest
    size: int  # of its manifest, in bytes
    media_type: str

    def descriptor(self) -> dict[str, Any]:
        os_name, _, rest = self.platform.partition("/")
        architecture, _, variant = rest.partition("/")
        platform = {"architecture": architecture, "os": os_name, **({"variant": variant} if variant else {})}
        return {"mediaType": self.media_type, "size": self.size, "digest": self.digest, "platform": platform}


@dataclass(frozen=True)
class ImageIndex:
    """An image index (or manifest list) in the registry, its entries checked against their configs."""

    digest: str
    media_type: str
    images: tuple[PlatformImage, ...]

    def digests(self) -> dict[str, str]:
        """platform -> the digest of its image."""
        return {image.platform: image.digest for image in self.images}


def index_manifest(images: Sequence[PlatformImage]) -> tuple[bytes, str]:
    """The bytes and media type of an index over `images`, in their order: a Docker manifest list
    over Docker manifests (what `docker push` writes), else an OCI image index. Same images, same bytes."""
    if not images:
        raise ValueError("an image index needs at least one image")
    platforms = [image.platform for image in images]
    if len(set(platforms)) != len(platforms):
        raise ValueError(f"an image index lists each platform once, not {platforms}")
    media_type = DOCKER_LIST if all(i.media_type == DOCKER_MANIFEST for i in images) else OCI_INDEX
    body = {"schemaVersion": 2, "mediaType": media_type, "manifests": [i.descriptor() for i in images]}
    return json.dumps(body, indent=3).encode(), media_type


def _entry_platform(entry: dict[str, Any]) -> str:
    found = entry.get("platform")
    platform: dict[str, Any] = found if isinstance(found, dict) else {}
    parts = [str(platform.get("os", "")), str(platform.get("architecture", ""))]
    if platform.get("variant"):
        parts.append(str(platform["variant"]))
    return "/".join(parts)


DOCKER_HUB = "registry-1.docker.io"


def parse_reference(ref: str) -> tuple[str, str, str]:
    """An image reference as docker reads it -> (registry host, repository, tag or digest):
    `127.0.0.1:5000/sandbox/python:3.11` -> (`127.0.0.1:5000`, `sandbox/python`, `3.11`);
    `python:3.11-slim` -> (Docker Hub, `library/python`, `3.11-slim`); `name:tag@digest` -> the digest."""
    name, _, digest = ref.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DOCKER_HUB, name
    if registry in {"docker.io", "index.docker.io"}:
        registry = DOCKER_HUB
    repository, colon, tag = path.rpartition(":")
    if not colon or "/" in tag:
        repository, tag = path, "latest"
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository, digest or tag


def auth_from_docker_config(registry: str, config_dir: Path | None = None) -> RegistryAuth | None:
    """Basic credentials for `registry` from docker's config.json (`auths`), if any."""
    directory = config_dir or Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))
    path = directory / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: bad JSON and bad UTF-8 alike
        return None
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        return None
    entry = auths.get(registry) or auths.get(f"https://{registry}")
    if not isinstance(entry, dict) or not isinstance(entry.get("auth"), str):
        return None
    try:
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    except ValueError:  # binascii.Error and UnicodeDecodeError: a damaged entry
        return None
    return RegistryAuth(user, password)


def digest_of(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def require_digest(digest: object, what: str) -> str:
    """`digest` when it is `sha256:<64 hex>` or `sha512:<128 hex>`, else VerificationError."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise VerificationError(f"{what}: {str(digest)[:80]!r} is not a sha256 or sha512 digest")
    return digest


def check_digest(raw: bytes, digest: str, what: str) -> None:
    """VerificationError unless `raw` hashes to `digest`."""
    algorithm, _, expected = require_digest(digest, what).partition(":")
    actual = hashlib.new(algorithm, raw).hexdigest()
    if actual != expected:
        raise VerificationError(f"{what}: the registry sent bytes with digest {algorithm}:{actual}, "
                                f"not {digest}; refusing them")


def _is_loopback(registry: str) -> bool:
    """Whether `registry` (`host[:port]`) is on this machine, its host read as urllib parses it:
    `localhost:1@registry.example.com` is registry.example.com, not loopback."""
    return is_loopback_host(registry_host(registry))


def _origin(url: str) -> str:
    """`scheme://host` of `url` (no user info, path or query), for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a malformed URL>"
    return f"{parts.scheme}://{parts.hostname or ''}"


def credentials_allowed(realm: str, registry: str) -> bool:
    """Whether the credentials for `registry` (`host[:port]`) may go to the token service `realm`:
    over https to any host, over plain http only to the registry's own host when that is loopback.

    Hosts are compared as urllib parses them, so `http://localhost:1@evil.example/` is evil.example.
    """
    try:
        parts = urlsplit(realm)
        host, _ = parts.hostname or "", parts.port  # .port: ValueError for a malformed one
        own_host = registry_host(registry)
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(host)
    return parts.scheme == "http" and host == own_host and is_loopback_host(host)


class RegistryClient:
    """One registry, by `host[:port]`. Loopback registries are spoken to over plain HTTP."""

    def __init__(
        self,
        registry: str,
        *,
        insecure: bool | None = None,
        auth: RegistryAuth | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.registry = registry
        plain = _is_loopback(registry) if insecure is None else insecure
        self.base = f"{'http' if plain else 'https'}://{registry}/v2"
        self.auth = auth if auth is not None else auth_from_docker_config(registry)
        self.session = session or requests.Session()
        self._tokens: dict[str, str] = {}
        self._warned_realm = False

    def __repr__(self) -> str:
        return f"RegistryClient({self.registry!r})"

    def _token(self, challenge: str) -> str:
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = fields.pop("realm", "")
        if not realm:
            raise ServiceError(f"registry {self.registry}: bearer challenge without a realm")
        basic = None
        if self.auth and credentials_allowed(realm, self.registry):
            basic = (self.auth.username, self.auth.password)
        elif self.auth and not self._warned_realm:
            self._warned_realm = True
            log.warning("registry %s: its token service %s is neither https nor plain http on the "
                        "registry's own loopback host; asking it for a token without credentials",
                        self.registry, _origin(realm))
        try:
            answer = self.session.get(realm, params=fields, auth=basic, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            raise ServiceError(f"registry {self.registry}: token service unreachable: {exc}") from None
        if answer.status_code != 200:
            raise ServiceError(f"registry {self.registry}: token refused (HTTP {answer.status_code})")
        try:
            payload = answer.json()
        except ValueError:
            raise ServiceError(f"registry {self.registry}: token service did not answer JSON") from None
        token = (payload.get("token") or payload.get("access_token")) if isinstance(payload, dict) else None
        if not isinstance(token, str):
            raise ServiceError(f"registry {self.registry}: token service gave no token")
        return token

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base}{path}"
        scope_key = path.split("/manifests/")[0].split("/tags/")[0].split("/blobs/")[0]
        headers = dict(kwargs.pop("headers", {}))
        for attempt in range(2):
            auth_header = self._tokens.get(scope_key)
            if auth_header:
                headers["Authorization"] = auth_header
            try:
                response = self.session.request(method, url, headers=headers, timeout=_TIMEOUT, **kwargs)
            except requests.RequestException as exc:
                raise ServiceError(
                    f"registry {self.registry} is not reachable ({type(exc).__name__}); "
                    "is it running? (`invoke sandbox.status`)"
                ) from None
            # A 401 despite a cached token means it expired or lacks the scope (pull, then push):
            # answer the new challenge once.
            if response.status_code != 401 or attempt:
                return response
            challenge = response.headers.get("WWW-Authenticate", "")
            if challenge.lower().startswith("bearer"):
                self._tokens[scope_key] = f"Bearer {self._token(challenge)}"
            elif challenge.lower().startswith("basic") and self.auth:
                raw = f"{self.auth.username}:{self.auth.password}".encode()
                self._tokens[scope_key] = f"Basic {base64.b64encode(raw).decode()}"
            else:
                return response
        return response

    def _fail(self, response: requests.Response, what: str) -> ServiceError:
        return ServiceError(f"registry {self.registry}: {what} failed (HTTP {response.status_code})")

    def ping(self) -> bool:
        try:
            return self._request("GET", "/").status_code in {200, 401}
        except ServiceError:
            return False

    def tags(self, repository: str) -> list[str]:
        """Every tag, following `Link: <...>; rel="next"` pages: registries may cap the page size."""
        found: set[str] = set()
        path, params = f"/{repository}/tags/list", [("n", "10000")]
        seen: set[tuple[str, str]] = set()
        while True:
            response = self._request("GET", path, params=params)
            if response.status_code == 404 and not seen:
                return []
            if response.status_code != 200:
                raise self._fail(response, f"listing tags of {repository}")
            found.update(response.json().get("tags") or [])
            seen.add((path, urlencode(params)))
            following = urlsplit(response.links.get("next", {}).get("url", ""))
            path = following.path.removeprefix("/v2")
            params = parse_qsl(following.query)
            if not path or (path, urlencode(params)) in seen:
                return sorted(found)

    def _head_manifest(self, repository: str, reference: str) -> Mapping[str, str] | None:
        """The headers of a HEAD on the manifest `reference` names; None when it is absent."""
        response = self._request(
            "HEAD", f"/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"reading {repository}:{reference}")
        return response.headers

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        headers = self._head_manifest(repository, reference)
        return None if headers is None else headers.get("Docker-Content-Digest")

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        response = self._request(
            "GET", f"/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"reading {repository}:{reference}")
        raw = response.content
        if ":" in reference:  # a digest (a tag has no colon): the bytes must be the ones it names
            check_digest(raw, reference, f"registry {self.registry}: manifest {repository}@{reference}")
        media_type = response.headers.get("Content-Type", "").split(";")[0]
        return Manifest(raw=raw, media_type=media_type, digest=digest_of(raw))

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        """Set `tag` to `manifest`; its digest, computed from the bytes sent. A registry that answers
        with another Docker-Content-Digest stored something else: VerificationError."""
        response = self._request(
            "PUT",
            f"/{repository}/manifests/{tag}",
            data=manifest.raw,
            headers={"Content-Type": manifest.media_type},
        )
        if response.status_code not in {200, 201}:
            raise self._fail(response, f"setting {repository}:{tag}")
        sent = digest_of(manifest.raw)
        answered = response.headers.get("Docker-Content-Digest")
        if answered is not None and answered != sent:
            raise VerificationError(f"registry {self.registry}: {repository}:{tag} was sent a manifest with "
                                    f"digest {sent}, but the registry says it stored {answered}")
        return sent

    def copy_tag(self, repository: str, source: str, tag: str) -> str:
        """Point `tag` at what `source` (a tag or digest) points at; returns the digest."""
        manifest = self.get_manifest(repository, source)
        if manifest is None:
            raise ServiceError(f"registry {self.registry}: {repository}:{source} does not exist")
        log.info("tag %s:%s -> %s", repository, tag, manifest.digest)
        return self.put_manifest(repository, tag, manifest)

    def media_type(self, repository: str, reference: str) -> str | None:
        """The media type of what `reference` names (an image manifest or an index), None when absent."""
        headers = self._head_manifest(repository, reference)
        return None if headers is None else headers.get("Content-Type", "").split(";")[0]

    def _config(self, repository: str, config_digest: str, what: str) -> dict[str, Any]:
        response = self._request("GET", f"/{repository}/blobs/{config_digest}")
        if response.status_code != 200:
            raise self._fail(response, f"reading the config of {what}")
        check_digest(response.content, config_digest, f"registry {self.registry}: {what}: its image config")
        try:
            config = json.loads(response.content)
        except ValueError:
            raise VerificationError(f"registry {self.registry}: {what}: its image config is not JSON"
                                    ) from None
        if not isinstance(config, dict):
            raise VerificationError(f"registry {self.registry}: {what}: its image config is not an object")
        return config

    def platform_image(self, repository: str, reference: str) -> PlatformImage | None:
        """One image (not an index) with the platform its own config states; None when absent."""
        manifest = self.get_manifest(repository, reference)
        if manifest is None:
            return None
        what = f"{repository}@{manifest.digest}"
        body = manifest.body
        if "manifests" in body or manifest.media_type in INDEX_TYPES:
            raise VerificationError(f"registry {self.registry}: {repository}:{reference} is an image index, "
                                    "not one platform's image")
        config_digest = require_digest((body.get("config") or {}).get("digest"), f"registry {self.registry}: "
                                       f"{what}: config")
        config = self._config(repository, config_digest, what)
        platform = "/".join(str(config[k]) for k in ("os", "architecture", "variant") if config.get(k))
        return PlatformImage(platform, manifest.digest, len(manifest.raw),
                             manifest.media_type or str(body.get("mediaType", "")))

    def image_index(self, repository: str, reference: str) -> ImageIndex | None:
        """The index `reference` names, each entry checked: its digest names a manifest with those
        bytes (size and hash) whose config states the entry's platform. None when absent; an image
        manifest (one platform) gives a one-image ImageIndex whose digest is that image's."""
        manifest = self.get_manifest(repository, reference)
        if manifest is None:
            return None
        body = manifest.body
        where = f"registry {self.registry}: index {repository}:{reference}"
        if "manifests" not in body:
            image = self.platform_image(repository, manifest.digest)
            assert image is not None  # just read by its digest
            return ImageIndex(manifest.digest, manifest.media_type, (image,))
        images = []
        for entry in body["manifests"]:
            digest = require_digest(entry.get("digest") if isinstance(entry, dict) else None, where)
            listed = _entry_platform(entry)
            found = self.platform_image(repository, digest)
            if found is None:
                raise VerificationError(f"{where} lists {digest} ({listed}), which the registry lacks")
            if found.platform != listed:
                raise VerificationError(f"{where} lists {digest} as {listed}, but that image's config says "
                                        f"{found.platform}; refusing it")
            if entry.get("size") != found.size:
                raise VerificationError(f"{where} lists {digest} with size {entry.get('size')}, but its "
                                        f"manifest has {found.size} bytes")
            images.append(found)
        return ImageIndex(manifest.digest, manifest.media_type, tuple(images))

    def put_index(self, repository: str, images: Sequence[PlatformImage], tag: str | None = None
                  ) -> ImageIndex:
        """Put an index over `images` under `tag`, or by its own digest only; first check that each
        is in the registry as that platform (its config's architecture)."""
        checked = []
        for image in images:
            found = self.platform_image(repository, image.digest)
            if found is None:
                raise VerificationError(f"registry {self.registry}: {repository}@{image.digest} "
                                        f"({image.platform}) is not in the registry; an index lists pushed "
                                        "images")
            if found.platform != image.platform:
                raise VerificationError(f"registry {self.registry}: {repository}@{image.digest} is "
                                        f"{found.platform}, not {image.platform}; refusing to list it so")
            checked.append(found)
        raw, media_type = index_manifest(checked)
        digest = digest_of(raw)
        self.put_manifest(repository, tag or digest, Manifest(raw=raw, media_type=media_type, digest=digest))
        return ImageIndex(digest, media_type, tuple(checked))

    def config_digest(self, repository: str, reference: str) -> str | None:
        """Digest of the image's config blob, which is the engine's image id; None when absent."""
        manifest = self.get_manifest(repository, reference)
        if manifest is None:
            return None
        body = manifest.body
        what = f"registry {self.registry}: {repository}:{reference}"
        if "manifests" in body:  # an index: its first image
            return self.config_digest(repository, require_digest(body["manifests"][0]["digest"], what))
        return require_digest(body["config"]["digest"], what)

    def labels_or_index(self, repository: str, reference: str) -> tuple[dict[str, str] | None, bool]:
        """(the image's labels, False), or (None, True) when `reference` names an image index, or
        (None, False) when absent: one manifest request, and a config blob for an image."""
        manifest = self.get_manifest(repository, reference)
        if manifest is None:
            return None, False
        body = manifest.body
        if "manifests" in body or manifest.media_type in INDEX_TYPES:
            return None, True
        what = f"registry {self.registry}: {repository}:{reference}"
        config_digest = require_digest((body.get("config") or {}).get("digest"), what)
        config = self._config(repository, config_digest, what)
        labels = (config.get("config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in labels.items()}, False

    def image_labels(self, repository: str, reference: str) -> dict[str, str] | None:
        config_digest = self.config_digest(repository, reference)
        if config_digest is None:
            return None
        config = self._config(repository, config_digest, f"{repository}:{reference}")
        labels = (config.get("config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in labels.items()}

    def get_blob(self, repository: str, digest: str) -> bytes | None:
        """A blob's bytes, checked against `digest`; None when the registry has no such blob."""
        response = self._request("GET", f"/{repository}/blobs/{require_digest(digest, 'blob')}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"reading blob {digest} of {repository}")
        check_digest(response.content, digest, f"registry {self.registry}: blob {repository}@{digest}")
        return response.content

    def has_blob(self, repository: str, digest: str) -> bool:
        response = self._request("HEAD", f"/{repository}/blobs/{require_digest(digest, 'blob')}")
        if response.status_code not in {200, 404}:
            raise self._fail(response, f"looking for blob {digest} in {repository}")
        return response.status_code == 200

    def upload_blob(self, repository: str, data: bytes) -> str:
        """Upload `data` as a blob (monolithic: POST then PUT), unless the registry has it; its digest."""
        digest = digest_of(data)
        if self.has_blob(repository, digest):
            return digest
        started = self._request("POST", f"/{repository}/blobs/uploads/")
        location = started.headers.get("Location", "")
        if started.status_code != 202 or not location:
            raise self._fail(started, f"starting a blob upload to {repository}")
        parts = urlsplit(location)
        path = parts.path.removeprefix(urlsplit(self.base).path)  # absolute or relative: the part after /v2
        params = [*parse_qsl(parts.query), ("digest", digest)]
        finished = self._request("PUT", path, params=params, data=data,
                                 headers={"Content-Type": "application/octet-stream"})
        if finished.status_code not in {201, 204}:
            raise self._fail(finished, f"uploading blob {digest} to {repository}")
        answered = finished.headers.get("Docker-Content-Digest")
        if answered is not None and answered != digest:
            raise VerificationError(f"registry {self.registry}: uploaded a blob with digest {digest}, "
                                    f"but the registry says it stored {answered}")
        return digest
