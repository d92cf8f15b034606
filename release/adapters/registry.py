# SPDX-License-Identifier: Apache-2.0
"""The registry HTTP API (distribution v2): tags, manifests, labels, and manifest copies.

Aliases are set by copying a manifest (GET then PUT under another tag): no blob is uploaded.
Credentials come from where `docker login` keeps them (release/adapters/docker_config.py: config.json,
its credential helpers), read the first time the registry asks for them. Token registries (Docker
Hub, GHCR, Harbor, a distribution registry with `auth: token`) answer 401 with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`; the client asks the token service named
there for a token with every scope the challenge lists (a push needs `pull,push`, a cross-repository
mount also `pull` on the source repository), anonymously or with the credentials, which go to a
token service only over https, or over plain http to the registry's own loopback host. An identity
token (a helper's `<token>` user) is exchanged as an OAuth2 refresh token. Secrets are never logged.

Docker Hub is named `docker.io` in image references and in `docker login`; its API answers at
registry-1.docker.io, which is where the client goes for any of its names.

Every answer is read up to a limit (a manifest 4 MiB, as the distribution registry itself allows; a
blob as its caller says): a registry that sends more is stopped with one error line naming the URL.

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
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from release.adapters.docker_config import (
    DOCKER_HUB,
    DOCKER_HUB_NAMES,
    RegistryAuth,
    api_host,
    credentials_for,
)
from release.adapters.net import CHUNK, read_limited
from release.errors import ServiceError, VerificationError
from release.urls import is_loopback_host, registry_host

__all__ = ["DOCKER_HUB", "RegistryAuth", "RegistryClient", "auth_from_docker_config", "parse_reference"]

log = logging.getLogger("release.registry")

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_TYPES = frozenset({DOCKER_LIST, OCI_INDEX})
MANIFEST_TYPES = ", ".join([DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX])
_TIMEOUT = 30.0
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
MANIFEST_LIMIT = 4 << 20  # what the distribution registry itself accepts as a manifest
CONFIG_LIMIT = 8 << 20  # an image's config: its labels, history and environment
BLOB_LIMIT = 64 << 20  # get_blob's default: the records and SBOMs attached to an image
PAGE_LIMIT = 16 << 20  # one page of a tag list
TOKEN_LIMIT = 1 << 20  # a token service's answer
NO_BODY = 0  # answers whose body is not wanted (HEAD, PUT, POST, errors)
DRAIN_LIMIT = 64 << 10  # a body not wanted is read (and the connection kept) up to this, else dropped
CLIENT_ID = "release-pipeline"  # how the client names itself to an OAuth2 token service
auth_from_docker_config = credentials_for  # the name earlier callers use


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
    if registry in DOCKER_HUB_NAMES:
        registry = DOCKER_HUB
    repository, colon, tag = path.rpartition(":")
    if not colon or "/" in tag:
        repository, tag = path, "latest"
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository, digest or tag


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


@dataclass(frozen=True)
class Answer:
    """A registry's answer, its body read up to the limit the request gave (b"" when not read)."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive, as requests gives them
    content: bytes
    url: str
    links: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.content)


def _challenge(header: str) -> tuple[str, dict[str, str], list[str]]:
    """`Bearer realm="...",service="...",scope="a b"` -> (realm, other fields, the scopes): a challenge
    lists several scopes separated by spaces (a mount: the target's push and the source's pull)."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
    realm = fields.pop("realm", "")
    scopes = fields.pop("scope", "").split()
    return realm, fields, scopes


class RegistryClient:
    """One registry, by `host[:port]` or a Docker Hub name. Loopback registries are spoken to over
    plain HTTP."""

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
        self.base = f"{'http' if plain else 'https'}://{api_host(registry)}/v2"
        self._auth = auth
        self._auth_read = auth is not None
        self.session = session or requests.Session()
        self._tokens: dict[str, str] = {}
        self._warned_realm = False

    def __repr__(self) -> str:
        return f"RegistryClient({self.registry!r})"

    @property
    def auth(self) -> RegistryAuth | None:
        """The credentials docker keeps for this registry, read (a credential helper run) once, the
        first time they are needed: a registry that never asks never makes a helper run."""
        if not self._auth_read:
            self._auth = credentials_for(self.registry)
            self._auth_read = True
        return self._auth

    def _read(self, response: requests.Response, limit: int) -> bytes:
        try:
            return read_limited(response.iter_content(CHUNK), limit, response.url)
        except requests.RequestException as exc:
            raise ServiceError(f"registry {self.registry}: reading its answer failed ({type(exc).__name__})"
                               ) from None
        finally:
            response.close()

    def _drain(self, response: requests.Response) -> None:
        """Read a body nobody wants, so that its connection serves the next request; a large one is
        dropped with its connection instead."""
        with contextlib.suppress(ServiceError):
            self._read(response, DRAIN_LIMIT)

    def _token(self, challenge: str) -> str:
        realm, fields, scopes = _challenge(challenge)
        if not realm:
            raise ServiceError(f"registry {self.registry}: bearer challenge without a realm")
        auth = self.auth
        if auth and not credentials_allowed(realm, self.registry):
            if not self._warned_realm:
                self._warned_realm = True
                log.warning("registry %s: its token service %s is neither https nor plain http on the "
                            "registry's own loopback host; asking it for a token without credentials",
                            self.registry, _origin(realm))
            auth = None
        try:
            if auth and auth.identity_token:  # OAuth2: the refresh token for an access token
                form = {"grant_type": "refresh_token", "refresh_token": auth.password, "client_id": CLIENT_ID,
                        "scope": " ".join(scopes), **fields}
                answer = self.session.post(realm, data=form, timeout=_TIMEOUT, stream=True)
            else:
                params = [*fields.items(), *(("scope", scope) for scope in scopes)]
                basic = (auth.username, auth.password) if auth else None
                answer = self.session.get(realm, params=params, auth=basic, timeout=_TIMEOUT, stream=True)
        except requests.RequestException as exc:
            raise ServiceError(f"registry {self.registry}: token service unreachable: {exc}") from None
        if answer.status_code != 200:
            self._drain(answer)
            raise ServiceError(f"registry {self.registry}: token refused (HTTP {answer.status_code})")
        body = self._read(answer, TOKEN_LIMIT)
        try:
            payload = json.loads(body)
        except ValueError:
            raise ServiceError(f"registry {self.registry}: token service did not answer JSON") from None
        token = (payload.get("token") or payload.get("access_token")) if isinstance(payload, dict) else None
        if not isinstance(token, str):
            raise ServiceError(f"registry {self.registry}: token service gave no token")
        return token

    def _request(self, method: str, path: str, *, limit: int = NO_BODY, **kwargs: Any) -> Answer:
        """`method` on `path` (under /v2), answering a token or basic challenge once; the body of a
        2xx answer is read up to `limit` bytes (ServiceError when larger), any other body is not."""
        url = f"{self.base}{path}"
        scope_key = path.split("/manifests/")[0].split("/tags/")[0].split("/blobs/")[0]
        headers = dict(kwargs.pop("headers", {}))
        for attempt in range(2):
            auth_header = self._tokens.get(scope_key)
            if auth_header:
                headers["Authorization"] = auth_header
            try:
                response = self.session.request(method, url, headers=headers, timeout=_TIMEOUT, stream=True,
                                                **kwargs)
            except requests.RequestException as exc:
                raise ServiceError(
                    f"registry {self.registry} is not reachable ({type(exc).__name__}); "
                    "is it running? (`invoke sandbox.status`)"
                ) from None
            # A 401 despite a cached token means it expired or lacks the scope (pull, then push):
            # answer the new challenge once.
            challenge = response.headers.get("WWW-Authenticate", "")
            if response.status_code != 401 or attempt:
                break
            self._drain(response)
            if challenge.lower().startswith("bearer"):
                self._tokens[scope_key] = f"Bearer {self._token(challenge)}"
            elif challenge.lower().startswith("basic") and self.auth:
                auth = self.auth
                assert auth is not None
                raw = f"{auth.username}:{auth.password}".encode()
                self._tokens[scope_key] = f"Basic {base64.b64encode(raw).decode()}"
            else:
                break
        if 200 <= response.status_code < 300 and method != "HEAD" and limit:
            content = self._read(response, limit)
        else:
            content = b""
            self._drain(response)
        return Answer(response.status_code, response.headers, content, response.url, response.links)

    def _fail(self, response: Answer, what: str) -> ServiceError:
        return ServiceError(f"registry {self.registry}: {what} failed (HTTP {response.status_code})")

    def ping(self) -> bool:
        """Whether the registry answers its API; a 401 is an answer (no credentials are read for it)."""
        try:
            response = self.session.get(f"{self.base}/", timeout=_TIMEOUT, stream=True)
        except requests.RequestException:
            return False
        self._drain(response)
        return response.status_code in {200, 401}

    def tags(self, repository: str) -> list[str]:
        """Every tag, following `Link: <...>; rel="next"` pages: registries may cap the page size."""
        found: set[str] = set()
        path, params = f"/{repository}/tags/list", [("n", "10000")]
        seen: set[tuple[str, str]] = set()
        while True:
            response = self._request("GET", path, params=params, limit=PAGE_LIMIT)
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
            "GET", f"/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES},
            limit=MANIFEST_LIMIT,
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
        response = self._request("GET", f"/{repository}/blobs/{config_digest}", limit=CONFIG_LIMIT)
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

    def get_blob(self, repository: str, digest: str, *, limit: int = BLOB_LIMIT) -> bytes | None:
        """A blob's bytes, checked against `digest`; None when the registry has no such blob; a blob
        larger than `limit` bytes is a ServiceError."""
        response = self._request("GET", f"/{repository}/blobs/{require_digest(digest, 'blob')}", limit=limit)
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

    def upload_blob(self, repository: str, data: bytes, *, mount_from: str = "") -> str:
        """Upload `data` as a blob (monolithic: POST then PUT), unless the registry has it; its digest.
        With `mount_from`, another repository of this registry that holds the blob, the registry is
        first asked to mount it from there (no bytes sent); a token registry wants `pull,push` here
        and `pull` there for that, which its challenge asks for."""
        digest = digest_of(data)
        if self.has_blob(repository, digest):
            return digest
        params = [("mount", digest), ("from", mount_from)] if mount_from else []
        started = self._request("POST", f"/{repository}/blobs/uploads/", params=params)
        if started.status_code == 201 and mount_from:
            self._check_stored(started, digest)
            log.info("blob %s mounted into %s from %s", digest, repository, mount_from)
            return digest
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
        self._check_stored(finished, digest)
        return digest

    def _check_stored(self, answer: Answer, digest: str) -> None:
        answered = answer.headers.get("Docker-Content-Digest")
        if answered is not None and answered != digest:
            raise VerificationError(f"registry {self.registry}: uploaded a blob with digest {digest}, "
                                    f"but the registry says it stored {answered}")
