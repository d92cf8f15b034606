# SPDX-License-Identifier: Apache-2.0
"""The Docker Engine, through the docker SDK: build (streamed), import, tag, push, pull, inspect, run,
remove; and whether it answers at all.

The one door to the engine. Builds use BuildKit where a docker client can drive it (found by
trying, release/adapters/buildkit.py), else the classic builder through the SDK, with the
Dockerfile's `RUN --mount` options left out; `Engine.builder()` says which, and why. Either way
every output line becomes a BuildLine (release/adapters/builds.py). Builds, pulls and runs take a
platform (`linux/arm64`); the engine runs another architecture's images under emulation when
binfmt_misc has its qemu.

The SDK is imported when the engine is first spoken to: a command that only plans (a dry run)
makes an Engine and never loads it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tarfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from release.adapters import buildkit
from release.adapters.buildkit import BUILDER_ENV, Builder
from release.adapters.builds import (
    BuildFailed,
    BuildLine,
    BuildOutcome,
    StepTime,
    follow_classic,
    has_stage,
    merge,
    stage_image,
    without_mounts,
)
from release.errors import CommandError, ServiceError

if TYPE_CHECKING:
    import docker

FILE_LIMIT = 16 << 20  # read_file: the records and SBOMs an image carries are kilobytes


Item = TypeVar("Item")
Read = TypeVar("Read")
READERS = 4  # containers run at once by `at_once`: each waits mostly on the engine


def at_once(items: Sequence[Item], read: Callable[[Item], Read]) -> list[Read]:
    """`read(item)` for every item, in order, their containers at once (a container's start and its
    probe wait on the engine, not on this process); the first error is raised once all finished."""
    if len(items) < 2:
        return [read(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), READERS), thread_name_prefix="engine-read") as pool:
        futures = [pool.submit(read, item) for item in items]
    return [future.result() for future in futures]


log = logging.getLogger("release.engine")

__all__ = ["BUILDER_ENV", "BuildFailed", "BuildLine", "BuildOutcome", "Builder", "Engine", "ImageInfo",
           "RunResult", "StepTime", "split_ref"]

_BUILDERS: dict[tuple[str, ...], Builder] = {}  # (DOCKER_HOST, PATH, BUILDER_ENV) -> found once
_BUILDERS_LOCK = threading.Lock()


@dataclass(frozen=True)
class ImageInfo:
    id: str
    size: int
    labels: Mapping[str, str]
    repo_digests: tuple[str, ...]
    user: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    architecture: str = ""
    os: str = ""

    @property
    def platform(self) -> str:
        """`os/architecture` from the image config, e.g. `linux/arm64`."""
        return f"{self.os}/{self.architecture}"

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def layers(self) -> int:
        """How many filesystem layers it has (1 for an imported root filesystem)."""
        return len((self.raw.get("RootFS") or {}).get("Layers") or [])

    def digest_for(self, repository: str) -> str | None:
        """The registry digest of this image in `repository` (from RepoDigests), if known."""
        for entry in self.repo_digests:
            name, _, digest = entry.partition("@")
            if name == repository:
                return digest
        return None


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stdout: str
    stderr: str


def split_ref(ref: str) -> tuple[str, str]:  # host:5000/a/b:tag -> (host:5000/a/b, tag)
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        return ref, "latest"
    return name, tag


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """Engine API errors as ServiceError; ImageNotFound passes through for callers that expect it."""
    import docker.errors

    try:
        yield
    except docker.errors.ImageNotFound:
        raise
    except docker.errors.APIError as exc:
        raise ServiceError(f"{what}: {exc.explanation or exc}") from None
    except requests.RequestException as exc:
        raise ServiceError(f"{what}: lost the Docker Engine ({type(exc).__name__})") from None


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else ()


def _info(attrs: Mapping[str, Any]) -> ImageInfo:
    conf = attrs.get("Config") or {}
    labels = {str(k): str(v) for k, v in (conf.get("Labels") or {}).items()}
    user = str(conf.get("User") or "")
    return ImageInfo(str(attrs.get("Id", "")), int(attrs.get("Size") or 0), labels,
                     _strs(attrs.get("RepoDigests")),
                     user, _strs(conf.get("Entrypoint")), _strs(conf.get("Cmd")), attrs,
                     str(attrs.get("Architecture") or ""), str(attrs.get("Os") or ""))


def image_archive(layer: Path, out: Path, *, repo_tag: str, architecture: str, os: str,
                  labels: Mapping[str, str], env: Sequence[str], cmd: Sequence[str]) -> Path:
    """A `docker load` archive of one image: `layer` (an uncompressed rootfs tar) and a config that
    says `architecture`/`os` (which `docker import` cannot set), with labels, env and cmd."""
    digest = hashlib.sha256()
    with open(layer, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    config = json.dumps({
        "architecture": architecture, "os": os,
        "config": {"Env": list(env), "Cmd": list(cmd), "Labels": dict(labels)},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest.hexdigest()}"]},
        "history": [{"created_by": "release-pipeline: root filesystem"}],
    }, sort_keys=True, separators=(",", ":")).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [repo_tag], "Layers": ["layer/layer.tar"]}])

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        entry = tarfile.TarInfo(name)
        entry.size, entry.mode = len(data), 0o644
        tar.addfile(entry, io.BytesIO(data))

    with tarfile.open(out, "w") as tar:
        add(tar, config_name, config)
        add(tar, "manifest.json", manifest.encode())
        tar.add(layer, arcname="layer/layer.tar")
    return out


def _replace_member(context_tar: bytes, name: str, edit: Callable[[str], str]) -> tuple[bytes, str]:
    """The context with its file `name` passed through `edit` (the other members as they were), and
    that file's original text ("" when the context has none)."""
    source, out = io.BytesIO(context_tar), io.BytesIO()
    original = ""
    with tarfile.open(fileobj=source, mode="r:") as given, tarfile.open(fileobj=out, mode="w",
                                                                        format=tarfile.PAX_FORMAT) as made:
        for member in given.getmembers():
            handle = given.extractfile(member) if member.isfile() else None
            data = handle.read() if handle is not None else b""
            if member.name.removeprefix("./") == name and member.isfile():
                original = data.decode("utf-8")
                data = edit(original).encode("utf-8")
                member.size = len(data)
            made.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return out.getvalue(), original


class Engine:
    """One engine. Safe to share between threads: each thread gets its own SDK client."""

    def __init__(self, factory: Callable[[], docker.DockerClient] | None = None, *, timeout: int = 900,
                 builder: Builder | None = None):
        def from_env() -> docker.DockerClient:
            import docker

            return docker.from_env(timeout=timeout)

        self._factory = factory or from_env
        self._local = threading.local()
        self._builder = builder

    def builder(self) -> Builder:
        """The builder this engine's builds use: BuildKit when a docker client on PATH can drive it
        (tried once per process), else the classic one, with the reason."""
        if self._builder is None:
            key = tuple(os.environ.get(name, "") for name in ("DOCKER_HOST", "PATH", BUILDER_ENV))
            with _BUILDERS_LOCK:
                if key not in _BUILDERS:
                    _BUILDERS[key] = buildkit.find_builder(os.environ)
                    log.info("builder: %s", _BUILDERS[key])
                self._builder = _BUILDERS[key]
        return self._builder

    @property
    def client(self) -> docker.DockerClient:
        import docker.errors

        if getattr(self._local, "client", None) is None:
            try:
                self._local.client = self._factory()
            except docker.errors.DockerException as exc:
                raise ServiceError(f"cannot reach the Docker Engine ({exc}); is dockerd running?") from None
        client: docker.DockerClient = self._local.client
        return client

    def ping(self) -> bool:
        """True when the engine answers; False, never an error, when it does not."""
        import docker.errors

        try:
            return bool(self.client.ping())
        except (ServiceError, docker.errors.DockerException, requests.RequestException, OSError):
            return False

    def version(self) -> str | None:
        """The engine's version (e.g. `20.10.24`), or None when it does not answer."""
        import docker.errors

        try:
            version: Any = self.client.version()
        except (ServiceError, docker.errors.DockerException, requests.RequestException, OSError):
            return None
        return str(version.get("Version")) if isinstance(version, dict) else None

    def build(
        self,
        context_tar: bytes,
        *,
        tag: str,
        buildargs: Mapping[str, str],
        dockerfile: str = "Dockerfile",
        network_mode: str | None = None,
        nocache: bool = False,
        target: str | None = None,
        cache_from: Sequence[str] = (),
        on_line: Callable[[BuildLine], None] | None = None,
        platform: str | None = None,
        keep: tuple[str, str] | None = None,
    ) -> BuildOutcome:
        """Build from an uncompressed tar context; stream lines to `on_line`; tag the result.

        `platform` builds for another architecture (its base image must be that architecture).
        `target` stops at that stage. `cache_from` are images whose layers may stand in for steps
        (the classic builder then takes cache hits only from them: pull them first; BuildKit only
        from images built with its inline cache). `keep=(stage, ref)` also tags that stage's image
        as `ref` (with BuildKit's inline cache, for other engines' `cache_from`), when the
        Dockerfile has that stage: the outcome's `kept` says whether it did."""
        chosen = self.builder()
        report = on_line or (lambda line: None)
        edit = (lambda text: text) if chosen.buildkit else without_mounts
        try:
            context_tar, text = _replace_member(context_tar, dockerfile, edit)
        except (tarfile.TarError, UnicodeDecodeError) as exc:
            raise BuildFailed(f"building {tag}: unreadable build context ({exc})", step=None,
                              instruction=None, tail=()) from None
        stage, ref = keep if keep is not None and has_stage(text, keep[0]) else ("", "")
        if not chosen.buildkit:
            outcome = self._classic(context_tar, tag=tag, buildargs=buildargs, dockerfile=dockerfile,
                                    network_mode=network_mode, nocache=nocache, target=target,
                                    cache_from=cache_from, on_line=report, platform=platform)
            image = stage_image(outcome.timings, stage) if stage else ""
            if image:
                self.tag(image, ref)
            return replace(outcome, kept=ref if image else "")
        build = partial(buildkit.build, chosen, context_tar, buildargs=buildargs, dockerfile=dockerfile,
                        network_mode=network_mode, cache_from=cache_from, platform=platform)
        main = build(tag=tag, target=target, nocache=nocache, on_line=report)
        if not stage:
            return main
        # the image first (the smoke test may start on it), then the stage, every step of it cached
        # by now (so never with --no-cache), exported with BuildKit's inline cache
        extra = build(tag=ref, target=stage, nocache=False, on_line=lambda line: None, inline_cache=True)
        return merge(main, replace(extra, kept=ref))

    def _classic(
        self, context_tar: bytes, *, tag: str, buildargs: Mapping[str, str], dockerfile: str,
        network_mode: str | None, nocache: bool, target: str | None, cache_from: Sequence[str],
        on_line: Callable[[BuildLine], None], platform: str | None,
    ) -> BuildOutcome:
        try:
            with _errors(f"building {tag}"):
                stream = self.client.api.build(
                    fileobj=io.BytesIO(context_tar), custom_context=True, dockerfile=dockerfile, tag=tag,
                    buildargs=dict(buildargs), network_mode=network_mode, rm=True, forcerm=True,
                    pull=False, nocache=nocache, decode=True, platform=platform, target=target,
                    cache_from=list(cache_from) or None,
                )
                return follow_classic(stream, tag, on_line)
        except ServiceError as exc:  # e.g. a Dockerfile the engine cannot parse
            raise BuildFailed(str(exc), step=None, instruction=None, tail=()) from None

    @property
    def _api(self) -> Any:  # the SDK's stubs leave inspect_image/history untyped
        return self.client.api

    def inspect(self, ref: str) -> ImageInfo | None:
        import docker.errors

        try:
            with _errors(f"inspecting {ref}"):
                return _info(self._api.inspect_image(ref))
        except docker.errors.ImageNotFound:
            return None

    def find_labelled(self, label: str, value: str) -> list[ImageInfo]:
        """The images whose `label` is `value`, tagged or dangling (never an intermediate build
        layer), newest first. Images built FROM one of them inherit its labels: callers tell them
        apart (e.g. by `layers`)."""
        with _errors(f"listing images labelled {label}={value}"):
            ids = self._api.images(filters={"label": f"{label}={value}"}, quiet=True)
        found = [info for info in (self.inspect(str(i)) for i in dict.fromkeys(ids)) if info is not None]
        return sorted(found, key=lambda info: str(info.raw.get("Created", "")), reverse=True)

    def pull(self, ref: str, *, platform: str | None = None) -> ImageInfo:
        """Pull `ref` (`repo:tag` or `repo@digest`); `platform` picks an index's entry."""
        repository, tag = ref.split("@", 1) if "@" in ref else split_ref(ref)
        with _errors(f"pulling {ref}"):
            for event in self.client.api.pull(repository, tag=tag, stream=True, decode=True,
                                              platform=platform):
                if "error" in event:
                    raise ServiceError(f"pulling {ref}: {event['error']}")
        info = self.inspect(ref)
        if info is None:
            raise ServiceError(f"pulled {ref} but the engine does not show it")
        return info

    def pull_digest(self, repository: str, digest: str) -> ImageInfo:
        """The image `repository@digest`, pulled unless the engine has it: exactly those bytes."""
        ref = f"{repository}@{digest}"
        return self.inspect(ref) or self.pull(ref)

    def current_digest(self, ref: str) -> str:
        """Pull `ref` to learn the digest it has now (falling back to a local-only image); the
        RepoDigest in ref's repository, else the image id (an image never pushed anywhere)."""
        try:
            info = self.pull(ref)
        except ServiceError as exc:
            local = self.inspect(ref)
            if local is None:
                raise ServiceError(f"image {ref} is not available: {exc}") from None
            log.warning("%s could not be pulled (%s); using the local image", ref, exc)
            info = local
        repository = ref.split("@")[0] if "@" in ref else split_ref(ref)[0]
        return info.digest_for(repository) or info.id

    def import_rootfs(self, tarball: Path, ref: str, *, changes: Sequence[str] = ()) -> ImageInfo:
        """Make image `ref` from a root filesystem tar (as `docker import` does); `changes` are
        Dockerfile instructions (LABEL, ENV, CMD) applied to it."""
        repository, tag = split_ref(ref)
        with _errors(f"importing {tarball.name} as {ref}"):
            self._api.import_image_from_file(str(tarball), repository=repository, tag=tag,
                                             changes=list(changes))
        info = self.inspect(ref)
        if info is None:
            raise ServiceError(f"imported {tarball.name} as {ref} but the engine does not show it")
        return info

    def load_rootfs(self, tarball: Path, ref: str, *, architecture: str, os: str = "linux",
                    labels: Mapping[str, str], env: Sequence[str] = (), cmd: Sequence[str] = ()) -> ImageInfo:
        """Make image `ref` from a root filesystem tar, as `docker import` does, but with the image
        config saying `architecture` (import always says the engine's own)."""
        archive = tarball.with_name(tarball.name + ".image.tar")
        try:
            image_archive(tarball, archive, repo_tag=ref, architecture=architecture, os=os, labels=labels,
                          env=env, cmd=cmd)
            with _errors(f"loading {tarball.name} as {ref}"), open(archive, "rb") as handle:
                for event in self._api.load_image(handle):
                    if isinstance(event, dict) and "error" in event:
                        raise ServiceError(f"loading {ref}: {event['error']}")
        finally:
            archive.unlink(missing_ok=True)
        info = self.inspect(ref)
        if info is None:
            raise ServiceError(f"loaded {tarball.name} as {ref} but the engine does not show it")
        return info

    def tag(self, image: str, ref: str) -> None:
        repository, tag = split_ref(ref)
        with _errors(f"tagging {image} as {ref}"):
            self.client.api.tag(image, repository, tag=tag)

    def push(self, ref: str, *, on_status: Callable[[str], None] | None = None) -> str:
        """Push `ref`; return the registry's manifest digest for it."""
        repository, tag = split_ref(ref)
        digest = None
        with _errors(f"pushing {ref}"):
            for event in self.client.api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise ServiceError(f"pushing {ref}: {event['error']}")
                aux = event.get("aux") or {}
                if isinstance(aux, dict) and aux.get("Digest"):
                    digest = str(aux["Digest"])
                if on_status is not None and event.get("status"):
                    on_status(" ".join(str(event[k]) for k in ("id", "status") if event.get(k)))
        if digest is None:
            raise ServiceError(f"pushing {ref}: the engine reported no digest")
        return digest

    def run(
        self, image: str, command: Sequence[str], *, user: str | None = None,
        entrypoint: Sequence[str] | None = None, network_mode: str = "none", timeout: float = 120,
        environment: Mapping[str, str] | None = None, volumes: Mapping[str, str] | None = None,
        platform: str | None = None,
    ) -> RunResult:
        """Run a throwaway container (no network by default), capture its output, remove it.
        `volumes` maps a host path to `container-path[:ro]`; `network_mode` may name a network.
        `platform` names the image's platform (another architecture runs under emulation)."""
        kwargs: dict[str, Any] = {"detach": True, "network_mode": network_mode, "user": user,
                                  "entrypoint": None if entrypoint is None else list(entrypoint),
                                  "environment": None if environment is None else dict(environment),
                                  "volumes": _binds(volumes), "platform": platform}
        kwargs = {key: value for key, value in kwargs.items() if value is not None}
        with _errors(f"running {list(command)} in {image}"):
            container = self.client.containers.run(image, list(command), **kwargs)
        try:
            status = container.wait(timeout=timeout)
            stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
            stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
            return RunResult(int(status.get("StatusCode", -1)), stdout, stderr)
        except requests.RequestException:
            raise CommandError(f"{list(command)} in {image} did not finish in {timeout:.0f}s") from None
        finally:
            container.remove(force=True)

    def read_file(self, image: str, path: str, *, platform: str | None = None,
                  limit: int = FILE_LIMIT) -> bytes | None:
        """The bytes of the regular file `path` in `image`, read through the engine's archive API from
        a container that is created and never started: nothing of the image runs (its entrypoint
        cannot turn the read into a command of its own). None when the image has no such file;
        a file over `limit` bytes is refused."""
        import docker

        kwargs: dict[str, Any] = {"network_disabled": True}
        if platform:
            kwargs["platform"] = platform
        with _errors(f"creating a container of {image} to read {path}"):
            container = self.client.containers.create(image, ["true"], **kwargs)
        try:
            with _errors(f"reading {path} from {image}"):
                try:
                    stream, stat = container.get_archive(path)
                except docker.errors.NotFound:
                    return None
            if int(stat.get("size", 0)) > limit:
                raise ServiceError(f"{path} in {image} is {stat.get('size')} bytes, over the {limit} read")
            data = bytearray()
            with _errors(f"reading {path} from {image}"):
                for chunk in stream:
                    data += chunk
                    if len(data) > limit + 1024 * 1024:  # the file, its tar header and padding
                        raise ServiceError(f"{path} in {image}: over the {limit} bytes read")
            with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
                member = tar.next()
                if member is None or not member.isfile():
                    return None
                handle = tar.extractfile(member)
                return handle.read(limit + 1) if handle is not None else None
        finally:
            with _errors(f"removing the container that read {path}"):
                container.remove(force=True)

    def start(
        self, image: str, command: Sequence[str] | None = None, *, name: str, network: str,
        environment: Mapping[str, str] | None = None, user: str | None = None,
        volumes: Mapping[str, str] | None = None, aliases: Sequence[str] = (),
    ) -> str:
        """Start a long-running container `name` on `network` (reachable there as `name` and
        `aliases`); return its id. `stop` removes it."""
        kwargs: dict[str, Any] = {"detach": True, "name": name, "network": network, "user": user,
                                  "environment": dict(environment or {}), "volumes": _binds(volumes)}
        kwargs = {key: value for key, value in kwargs.items() if value is not None}
        with _errors(f"starting {name} from {image}"):
            container = self.client.containers.create(image, None if command is None else list(command),
                                                      **kwargs)
            if aliases:
                self.client.networks.get(network).disconnect(container)
                self.client.networks.get(network).connect(container, aliases=list(aliases))
            container.start()
        return str(container.id)

    def _container(self, container: str) -> Any:
        """The SDK's container object, or None when there is no such container."""
        import docker.errors

        with _errors(f"inspecting container {container[:12]}"):
            try:
                return self.client.containers.get(container)
            except docker.errors.NotFound:
                return None

    def exec(self, container: str, command: Sequence[str], *, user: str | None = None,
             environment: Mapping[str, str] | None = None) -> RunResult:
        """Run `command` in the running `container` (not through its entrypoint)."""
        with _errors(f"running {list(command)} in {container[:12]}"):
            found = self.client.containers.get(container)
            code, (stdout, stderr) = found.exec_run(list(command), user=user or "", demux=True,
                                                   environment=dict(environment or {}))
        return RunResult(int(code), (stdout or b"").decode(errors="replace"),
                         (stderr or b"").decode(errors="replace"))

    def state(self, container: str) -> Mapping[str, Any]:
        """The container's State (Status, ExitCode, Health...), or {} when it is gone."""
        found = self._container(container)
        state: Mapping[str, Any] = found.attrs.get("State") or {} if found is not None else {}
        return state

    def logs(self, container: str, *, tail: int = 200) -> str:
        found = self._container(container)
        if found is None:
            return ""
        with _errors(f"reading the logs of {container[:12]}"):
            return bytes(found.logs(tail=tail)).decode(errors="replace")

    def stop(self, container: str) -> None:
        """Stop and remove `container` with its anonymous volumes; nothing when it is gone."""
        found = self._container(container)
        if found is not None:
            with _errors(f"removing container {container[:12]}"):
                found.remove(force=True, v=True)

    def containers(self, label: str) -> list[str]:
        """Ids of the containers (running or not) carrying `label` (`key` or `key=value`)."""
        with _errors(f"listing containers labelled {label}"):
            return [str(c.id) for c in self.client.containers.list(all=True, filters={"label": label})]

    def labels_of(self, container: str) -> Mapping[str, str]:
        """The container's labels ({} when it is gone)."""
        found = self._container(container)
        labels: Mapping[str, str] = (found.attrs.get("Config") or {}).get("Labels") or {} if found else {}
        return labels

    def network(self, name: str) -> str:
        """Create the bridge network `name`; return it."""
        with _errors(f"creating network {name}"):
            self.client.networks.create(name, driver="bridge")
        return name

    def remove_network(self, name: str) -> None:
        import docker.errors

        with _errors(f"removing network {name}"), suppress(docker.errors.NotFound):
            self.client.networks.get(name).remove()

    def remove(self, ref: str, *, force: bool = False) -> bool:  # False: it was not there
        import docker.errors

        try:
            with _errors(f"removing {ref}"):
                self.client.api.remove_image(ref, force=force)
        except docker.errors.ImageNotFound:
            return False
        return True

    def images_labelled(self, label: str) -> list[str]:
        """Ids of every image (intermediate ones too) carrying `label` (`key` or `key=value`), the
        newest first (children before their parents)."""
        with _errors(f"listing images labelled {label}"):
            found = self._api.images(all=True, filters={"label": label})
        ordered = sorted(found, key=lambda image: int(image.get("Created") or 0), reverse=True)
        return list(dict.fromkeys(str(image["Id"]) for image in ordered))

    def remove_labelled(self, label: str) -> int:
        """Remove every image carrying `label`, children first; how many there were. For throwaway
        images a run made itself: nothing without the label is touched."""
        found = left = self.images_labelled(label)
        while left:
            blocked = []
            for image in left:
                try:
                    self.remove(image, force=True)
                except ServiceError:  # a child not yet removed (equal creation times): next pass
                    blocked.append(image)
            if len(blocked) == len(left):
                raise ServiceError(f"cannot remove the images labelled {label}: {', '.join(blocked)}")
            left = blocked
        return len(found)

    def history(self, ref: str) -> list[str]:
        """The `created_by` of every history entry, newest first."""
        with _errors(f"reading the history of {ref}"):
            entries = self._api.history(ref)
        return [str(entry.get("CreatedBy", "")) for entry in entries]


def _binds(volumes: Mapping[str, str] | None) -> dict[str, dict[str, str]] | None:
    """{host path: "container path[:ro]"} -> the SDK's volume table."""
    if volumes is None:
        return None
    binds = {}
    for host, target in volumes.items():
        path, _, mode = target.partition(":")
        binds[host] = {"bind": path, "mode": mode or "rw"}
    return binds
