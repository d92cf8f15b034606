# SPDX-License-Identifier: Apache-2.0
"""Where a release goes: the configured endpoints, with `sandbox` values filled from the sandbox."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from release import sandbox
from release.adapters.atr import AtrClient, AtrTarget, check_url, credentials
from release.adapters.clients import Atr, Clients, real_clients
from release.config import SANDBOX, ReleaseConfig
from release.errors import ConfigError
from release.progress import Progress


@dataclass(frozen=True)
class Target:
    registry: str  # host[:port]
    index_upload: str
    index_simple: str
    svn_dev: str  # URL of the folder holding <name>/<rc>/
    svn_release: str  # URL of the folder holding <name>/<version>/ and <name>/KEYS
    signing_key: str
    keys_url: str
    gnupghome: Path | None = None
    twine_env: Mapping[str, str] = field(default_factory=dict)
    is_sandbox: bool = False
    atr: AtrTarget | None = None  # with staging = "atr": the server, project and how to log in

    def repository(self, image: str) -> str:
        return f"{self.registry}/{image}"


def _simple_for(upload_url: str) -> str:
    if upload_url.rstrip("/").endswith("upload.pypi.org/legacy"):
        return "https://pypi.org/simple/"
    if upload_url.rstrip("/").endswith("test.pypi.org/legacy"):
        return "https://test.pypi.org/simple/"
    return upload_url.rstrip("/") + "/simple/"


def resolve_target(config: ReleaseConfig, services: sandbox.Services | None) -> Target:
    """Pure: the endpoints of `config`, where each `sandbox` value comes from `services`."""
    if config.uses_sandbox and services is None:
        raise ConfigError("the sandbox is not running: start it with `invoke sandbox.up`")

    def pick(value: str, from_sandbox: Callable[[sandbox.Services], str]) -> str:
        if value != SANDBOX:
            return value
        assert services is not None
        return from_sandbox(services)

    svn_dev = pick(config.svn_dev, lambda s: f"{s.svn_url.rstrip('/')}/dev")
    svn_release = pick(config.svn_release, lambda s: f"{s.svn_url.rstrip('/')}/release")
    index_upload = pick(config.index, lambda s: s.index_url)
    return Target(
        registry=pick(config.registry, lambda s: s.registry),
        index_upload=index_upload,
        index_simple=_simple_for(index_upload),
        svn_dev=svn_dev,
        svn_release=svn_release,
        signing_key=pick(config.signing_key, lambda s: s.signing_key),
        keys_url=config.keys_url or f"{svn_release}/{config.name}/KEYS",
        gnupghome=services.gnupghome if services is not None and config.signing_key == SANDBOX else None,
        twine_env={"TWINE_USERNAME": "sandbox", "TWINE_PASSWORD": "sandbox"}
        if config.index == SANDBOX
        else {},
        is_sandbox=config.uses_sandbox,
        atr=_atr_target(config, services),
    )


def _atr_target(config: ReleaseConfig, services: sandbox.Services | None) -> AtrTarget | None:
    """Pure: ATR when the config stages there; the sandbox's carries its certificate and token."""
    if not config.reaches_atr:
        return None
    if config.atr != SANDBOX:
        return AtrTarget(check_url(config.atr), config.atr_project, config.atr_committee)
    if services is None or services.atr is None:
        raise ConfigError("the sandbox's ATR is not running: start it with `invoke sandbox.up`")
    return services.atr.target(config.atr_project, config.atr_committee)


def connect(
    config: ReleaseConfig,
    *,
    start: bool = True,
    flavours: tuple[str, ...] = (),
    progress: Progress | None = None,
    platforms: tuple[str, ...] = (),
) -> Target:
    """Resolve the target, bringing the sandbox up first when the config uses it, with base
    images of `flavours` for `platforms` (default: every configured platform)."""
    services = None
    if config.uses_sandbox:
        services = sandbox.load(config.root)
        if start:
            kwargs = {"progress": progress} if progress is not None else {}
            services = sandbox.up(config.root, name=config.name, flavours=flavours,
                                  platforms=platforms or config.image_platforms, atr=config.atr_in_sandbox,
                                  **kwargs)
    return resolve_target(config, services)


def base_images(config: ReleaseConfig, target: Target) -> dict[str, str]:
    return {p: config.base_image_for(p, registry=target.registry) for p in config.python}


def clients_for(target: Target, *, progress: Progress | None = None) -> Clients:
    """The one set of clients of a command: built here, once, and handed to every runner and step.
    ATR's client is made when first used (it reads the token then), and only once."""
    clients = real_clients(target.registry, target.index_upload, target.index_simple)
    if target.atr is None:
        return clients
    atr_target = target.atr

    @functools.cache
    def atr_client() -> Atr:
        if progress is None:
            return AtrClient(atr_target, credentials(atr_target))
        return AtrClient(atr_target, credentials(atr_target), progress=progress)

    return dataclasses.replace(clients, atr_client=atr_client)
