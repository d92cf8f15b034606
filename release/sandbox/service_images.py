# SPDX-License-Identifier: Apache-2.0
"""Database and broker images built here from Debian's packages (no Docker Hub): PostgreSQL,
MariaDB and Redis, each on the sandbox's Debian stable base image, with an entrypoint that reads
the same environment variables as the official images (POSTGRES_USER, MARIADB_DATABASE, ...), so
a docker-compose file written for those runs with only the image names changed.

Cached in the engine by a recipe label, like the Python base images: same Dockerfile, entrypoint
and base image, same recipe, no rebuild.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters.engine import Engine, ImageInfo
from release.errors import ConfigError, ServiceError
from release.plan.images import context_tar
from release.progress import Progress

LABEL_RECIPE = "org.release-pipeline.service.recipe"
RECIPE_VERSION = 1
SCRIPTS = Path(__file__).with_name("images")
# The suite whose packages the services come from, and the flavour whose base image is that suite.
SUITE = "bookworm"
BASE_FLAVOUR = "3.11"


@dataclass(frozen=True)
class ServiceImage:
    """One service: the Debian packages, the port, the data directory, the default command."""

    name: str
    packages: tuple[str, ...]
    port: int
    data: str
    command: tuple[str, ...]
    stop_signal: str = "SIGTERM"
    # Run after the packages are installed: remove what the packages' own setup created, so the
    # entrypoint sets up an empty data directory from the environment on first start.
    after_install: str = ""
    before_install: str = ""

    @property
    def script(self) -> Path:
        return SCRIPTS / f"{self.name}.sh"

    @property
    def ref(self) -> str:
        return f"sandbox/{self.name}:{SUITE}"


SERVICES: Mapping[str, ServiceImage] = {
    "postgres": ServiceImage(
        "postgres", ("postgresql",), 5432, "/var/lib/postgresql/data", ("postgres",), stop_signal="SIGINT",
        before_install="mkdir -p /etc/postgresql-common "
                       "&& echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf",
    ),
    "mariadb": ServiceImage(
        "mariadb", ("mariadb-server",), 3306, "/var/lib/mysql", ("mariadbd",),
        after_install="rm -rf /var/lib/mysql/*",
    ),
    "redis": ServiceImage("redis", ("redis-server",), 6379, "/data", ("redis-server",)),
}


def service(name: str) -> ServiceImage:
    try:
        return SERVICES[name]
    except KeyError:
        raise ConfigError(f"no sandbox service image {name!r}; known: {', '.join(SERVICES)}") from None


def dockerfile(spec: ServiceImage, base: str) -> str:
    """The service's Dockerfile on `base`. A policy-rc.d keeps the packages from starting daemons
    while they install (there is no init in a build)."""
    steps = [
        "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d",
        "chmod +x /usr/sbin/policy-rc.d",
        *([spec.before_install] if spec.before_install else []),
        "apt-get update",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        + " ".join(spec.packages),
        *([spec.after_install] if spec.after_install else []),
        f"mkdir -p {spec.data}",
        "apt-get clean",
        "rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d",
    ]
    command = json.dumps(list(spec.command))
    return "\n".join([
        f"FROM {base}",
        "ENV LANG=C.UTF-8 LC_ALL=C.UTF-8",
        "RUN " + " \\\n    && ".join(steps),
        "COPY entrypoint.sh /usr/local/bin/sandbox-entrypoint",
        f"EXPOSE {spec.port}",
        f"STOPSIGNAL {spec.stop_signal}",
        'ENTRYPOINT ["/usr/local/bin/sandbox-entrypoint"]',
        f"CMD {command}",
    ]) + "\n"


def recipe(spec: ServiceImage, base_id: str) -> str:
    """Content key: the Dockerfile (without the base's name), the entrypoint and the base image id."""
    payload = json.dumps({
        "dockerfile": dockerfile(spec, "BASE"), "entrypoint": spec.script.read_text(encoding="utf-8"),
        "base": base_id, "version": RECIPE_VERSION,
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _context(spec: ServiceImage, base: str, digest: str) -> bytes:
    text = dockerfile(spec, base) + f'LABEL {LABEL_RECIPE}="{digest}"\n'
    return context_tar({"Dockerfile": text.encode(), "entrypoint.sh": spec.script.read_bytes()},
                       modes={"entrypoint.sh": 0o755})


def ensure_service_image(name: str, base: str, progress: Progress, engine: Engine | None = None) -> str:
    """Build (or reuse) `sandbox/<name>:bookworm` on the base image `base`; return its local ref."""
    spec = service(name)
    engine = engine or Engine(timeout=900)
    base_info = engine.inspect(base)
    if base_info is None:
        raise ServiceError(f"base image {base} is not in the engine; bring the sandbox up first")
    digest = recipe(spec, base_info.id)
    found = _labelled(engine, spec, digest)
    if found is not None:
        progress(f"service image {spec.ref}: reusing {found.short_id} (recipe {digest[:12]})")
        return spec.ref
    progress(f"service image {spec.ref}: installing {' '.join(spec.packages)} from Debian {SUITE}")
    outcome = engine.build(_context(spec, base, digest), tag=spec.ref, buildargs={})
    progress(f"service image {spec.ref}: built {outcome.image_id.removeprefix('sha256:')[:12]}")
    return spec.ref


def _labelled(engine: Engine, spec: ServiceImage, digest: str) -> ImageInfo | None:
    """The image of this recipe under its tag (the recipe label is its Dockerfile's last
    instruction, so an image built FROM it is never taken for it)."""
    info = engine.inspect(spec.ref)
    return info if info is not None and info.labels.get(LABEL_RECIPE) == digest else None


def ensure_service_images(names: Sequence[str], base: str, progress: Progress) -> dict[str, str]:
    """Every named service image, built or reused: name -> local ref."""
    engine = Engine(timeout=900)
    return {name: ensure_service_image(name, base, progress, engine) for name in names}
