# SPDX-License-Identifier: Apache-2.0
"""A local sandbox of real services on 127.0.0.1: the pipeline's default publishing target.

`up` starts (or reuses) a Docker registry, a package index (pypiserver, no fallback to PyPI, so it
shows only what was uploaded), a Subversion repository laid out like dist.apache.org, a throwaway
GPG signing key, and Python base images built from Debian. State lives in `<root>/.release/`.

Base images are cached in the engine as `sandbox/python:P` (and `P-ARCH` for another platform);
`RELEASE_SANDBOX_BASE_REPOSITORY` names another local repository for them, which starts cold
without touching the shared cache (how the cold figures are measured).

With `atr=True`, `up` also starts a real Apache Trusted Releases server in a network namespace that
reaches nothing (`release/sandbox/atr.py`).

`down` stops the registry, the index, the gpg-agent and ATR, and keeps all data and ports so `up`
brings them back on the same URLs. A dockerd the sandbox started is left running by default: the
engine is shared with whatever else uses it (`down(root, stop_engine=True)` stops it too). A dockerd
the sandbox did not start is never stopped.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release import platforms as known_platforms
from release.errors import ConfigError, ReleaseError, ServiceError
from release.progress import Progress
from release.sandbox import atr as atr_server
from release.sandbox import base_images, dockerd, emulation, gpg, service_images, services, svn, tools
from release.sandbox.atr import AtrServer
from release.sandbox.base_images import SANDBOX_SUITES, recipe_digest
from release.sandbox.state import Clock, Layout, locked, print_progress, read_state, write_state

__all__ = ["SANDBOX_SUITES", "AtrServer", "Services", "down", "load", "recipe_digest", "service_images_up",
           "status", "up"]

STATE_VERSION = 1
BASE_REPOSITORY_ENV = "RELEASE_SANDBOX_BASE_REPOSITORY"


@dataclass(frozen=True)
class Services:
    """Where the running sandbox's services answer."""

    state_dir: Path
    registry: str
    index_url: str
    svn_url: str
    gnupghome: Path
    signing_key: str
    base_images: Mapping[str, str]
    atr: AtrServer | None = None  # when ATR was brought up

    def __hash__(self) -> int:
        return hash(
            (
                self.state_dir,
                self.registry,
                self.index_url,
                self.svn_url,
                self.gnupghome,
                self.signing_key,
                tuple(sorted(self.base_images.items())),
                self.atr,
            )
        )

    @property
    def simple_url(self) -> str:
        return f"{self.index_url}simple/"


def _validate(name: str, flavours: Sequence[str], platforms: Sequence[str]) -> None:
    if not name or "/" in name or name.strip() != name or name.startswith("."):
        raise ConfigError(f"sandbox project name {name!r} must be a plain folder name like 'airflow'")
    for flavour in flavours:
        base_images.suite_of(flavour)
    for platform in platforms:
        try:
            known_platforms.info(platform)
        except ValueError as exc:
            raise ConfigError(f"sandbox base images: {exc}") from None


def up(
    root: Path, *, name: str, flavours: Sequence[str], progress: Progress = print_progress,
    platforms: Sequence[str] = (), atr: bool = False,
) -> Services:
    """Bring every service up (reusing what already answers) and return where they are. Base
    images are built for `platforms` (default: the host's); another architecture's needs qemu,
    which is set up first. `atr`: ATR too (RELEASE_ATR_SOURCE names its source)."""
    _validate(name, flavours, platforms)
    layout = Layout.of(root)
    clock = Clock(progress)
    with locked(layout):
        data: dict[str, Any] = read_state(layout) or {}
        data["version"] = STATE_VERSION
        data["state_dir"] = str(layout.state_dir)
        procs: dict[str, Any] = data.setdefault("processes", {})
        layout.logs.mkdir(parents=True, exist_ok=True)

        procs["dockerd"] = dockerd.ensure_engine(layout, procs.get("dockerd", {}), clock)
        write_state(layout, data)
        for proc, service in (("registry", services.REGISTRY), ("index", services.INDEX)):
            procs[proc] = services.ensure(service, layout, procs.get(proc, {}), clock)
            write_state(layout, data)
        registry = f"127.0.0.1:{procs['registry']['port']}"
        data["registry"] = registry
        data["registry_url"] = f"http://{registry}"
        data["index_url"] = f"http://127.0.0.1:{procs['index']['port']}/"

        key = gpg.ensure_key(layout.gnupghome, data, clock)
        tools.ensure_program("skopeo", "skopeo", clock)  # signs the images (the attest step)
        data.update(key)
        write_state(layout, data)

        names = sorted({*data.get("names", []), name})
        home, fingerprint = Path(key["gnupghome"]), str(key["signing_key"])
        if atr:  # the key names ATR's test user before KEYS is written from it
            atr_server.ensure_asf_user_id(home, fingerprint, clock)
        keys = functools.partial(gpg.with_key, home=home, fingerprint=fingerprint)
        data["svn_url"] = svn.ensure_repo(layout.svn_repo, names, keys, clock)["url"]
        data["names"] = names
        write_state(layout, data)

        if atr:
            procs["atr"] = atr_server.ensure(layout, procs.get("atr", {}), gnupghome=home,
                                             fingerprint=fingerprint, progress=clock)
            write_state(layout, data)

        known = sorted({*data.get("base_images", {}), *flavours})
        data["base_images"] = {flavour: base_images.registry_ref(registry, flavour) for flavour in known}
        host = known_platforms.host_platform()
        if flavours:
            emulation.ensure_emulation(platforms, host, clock)
        local = os.environ.get(BASE_REPOSITORY_ENV) or base_images.REPOSITORY
        base_images.ensure_base_images(flavours, registry, layout, clock, platforms, host=host,
                                       local_repository=local)
        data["complete"] = True
        write_state(layout, data)
    clock(f"sandbox up: registry {registry}, index {data['index_url']}, state {layout.state_file}")
    return _services(layout, data)


def service_images_up(root: Path, names: Sequence[str], *, progress: Progress = print_progress
                      ) -> dict[str, str]:
    """Build (or reuse) the database and broker images `names` (postgres, mariadb, redis) on the
    sandbox's Debian stable base image; the sandbox must be up. Returns name -> local image ref."""
    for name in names:
        service_images.service(name)
    found = load(root)
    if found is None:
        raise ServiceError(f"the sandbox in {root} is not up; run the sandbox up first")
    layout = Layout.of(root)
    clock = Clock(progress)
    with locked(layout):
        base = base_images.ensure_base_image(service_images.BASE_FLAVOUR, found.registry, layout, clock)
        return service_images.ensure_service_images(names, base, clock)


def _services(layout: Layout, data: Mapping[str, Any]) -> Services:
    try:
        return Services(
            state_dir=layout.state_dir,
            registry=str(data["registry"]),
            index_url=str(data["index_url"]),
            svn_url=str(data["svn_url"]),
            gnupghome=Path(data["gnupghome"]),
            signing_key=str(data["signing_key"]),
            base_images={str(k): str(v) for k, v in dict(data["base_images"]).items()},
            atr=atr_server.load(dict(data.get("processes", {}).get("atr", {}))),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ServiceError(
            f"{layout.state_file} is incomplete (missing {exc}); run the sandbox up again"
        ) from exc


def load(root: Path) -> Services | None:
    """The sandbox recorded under `root`, or None when it was never brought up."""
    layout = Layout.of(root)
    data = read_state(layout)
    if data is None:
        return None
    if not data.get("complete"):
        raise ServiceError(
            f"the sandbox in {layout.state_dir} did not finish coming up; run the sandbox up again"
        )
    found = _services(layout, data)
    real = data.get("gnupghome_dir")
    if isinstance(real, str) and Path(real) != found.gnupghome and not found.gnupghome.exists():
        gpg.usable_home(Path(real))
    return found


def down(root: Path, *, stop_engine: bool = False) -> None:
    """Stop what `up` started (never a dockerd it did not start); keep data and ports."""
    layout = Layout.of(root)
    if not layout.state_file.exists():
        return
    with locked(layout):
        data = read_state(layout)
        if data is None:
            return
        procs: dict[str, Any] = data.get("processes", {})
        for key, service in (("index", services.INDEX), ("registry", services.REGISTRY)):
            record = procs.get(key, {})
            services.stop(service, layout, record)
            record["pid"] = None
        if procs.get("atr") or atr_server.Paths.of(layout).home.exists():
            atr_server.stop(layout, procs.setdefault("atr", {}))
        home = data.get("gnupghome")
        if isinstance(home, str) and Path(home).exists():
            gpg.stop_agent(Path(home))
        engine = procs.get("dockerd", {})
        if stop_engine and dockerd.stop_engine(engine):
            engine["pid"] = None
            engine["started_by_sandbox"] = False
        write_state(layout, data)


def status(root: Path) -> dict[str, object]:
    """What is recorded and whether each service answers now; JSON-serialisable."""
    layout = Layout.of(root)
    data = read_state(layout) or {}
    procs: dict[str, Any] = data.get("processes", {})
    registry = data.get("registry")
    reg = services.service_status(services.REGISTRY, layout, procs.get("registry", {}))
    idx = services.service_status(services.INDEX, layout, procs.get("index", {}))
    svn_part: dict[str, Any] = {"url": data.get("svn_url"), "answering": False}
    if data.get("svn_url"):
        try:
            svn_part = svn.svn_status(layout.svn_repo, data.get("names", []))
        except ReleaseError as exc:
            svn_part["error"] = str(exc)
    home = data.get("gnupghome")
    fingerprint = data.get("signing_key")
    key_ok = False
    if isinstance(home, str) and isinstance(fingerprint, str):
        try:
            key_ok = gpg.key_present(Path(home), fingerprint)
        except ReleaseError:
            key_ok = False
    images = base_images.base_image_status(
        registry, sorted(data.get("base_images", {})), answering=reg["answering"]
    )
    engine = dockerd.engine_status(procs.get("dockerd", {}))
    result: dict[str, object] = {
        "state_dir": str(layout.state_dir),
        "recorded": bool(data),
        "complete": bool(data.get("complete")),
        "engine": engine,
        "registry": {"url": data.get("registry_url"), "registry": registry, **reg},
        "index": {"url": data.get("index_url"), **idx},
        "svn": svn_part,
        "gpg": {"gnupghome": home, "signing_key": fingerprint, "key_present": key_ok},
        "base_images": images,
    }
    if procs.get("atr"):
        result["atr"] = atr_server.status(layout, procs["atr"])
    result["up"] = bool(
        data.get("complete")
        and engine["answering"]
        and reg["answering"]
        and idx["answering"]
        and svn_part.get("answering")
        and key_ok
        and all(i["present"] for i in images.values())
    )
    return result
