# SPDX-License-Identifier: Apache-2.0
"""The real projects the adoption tests release: taken from PyPI as sdists, made into git
repositories, given `release-pipeline init` and nothing else, and released into the sandbox.

Chosen so that between them they cover what a new user brings: three build backends (setuptools
with only a setup.py, hatchling with a custom build hook, flit), a version declared in a module,
in a `version.py` and dynamically read by the backend, no changelog in the sdist and a
reStructuredText one, console scripts declared in an egg-info, in [project.scripts] and by flit,
and a web application. Each installs in Debian's Python 3.11 (bookworm) with every dependency
from a wheel, needs no service, and its command prints its version (checked with pip in a
scratch venv of /usr/bin/python3 3.11.2: `pip install --only-binary :all: --no-binary NAME
./NAME-V.tar.gz`, then the command).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AdoptedProject:
    name: str  # the distribution on PyPI
    version: str
    sha256: str  # of the sdist, as PyPI lists it
    backend: str  # what [build-system] build-backend names (setuptools: no pyproject.toml at all)
    command: tuple[str, ...]  # prints the version
    prints: str  # what `command` prints, with {version}
    serve: tuple[str, ...] = ()  # a web application's server command
    port: int = 0  # ... and the port it answers HTTP 200 on, at path
    path: str = "/"
    why: str = ""

    @property
    def sdist(self) -> str:
        return f"{self.name}-{self.version}.tar.gz"


PROJECTS = (
    AdoptedProject(
        name="datasette", version="0.65.5",
        sha256="8d16ab1bf9a2753089cd3cb079045885d440f11267973e89e08e7fecf555264a",
        backend="setuptools", command=("datasette", "--version"), prints="datasette, version {version}",
        serve=("datasette", "serve", "--host", "0.0.0.0", "--port", "8001"), port=8001,
        path="/-/versions.json",
        why="the web application: serves HTTP (GET / and /-/versions.json answer 200 with no database); "
            "a setup.py-only sdist (no pyproject.toml), version in datasette/version.py read by setup.py, "
            "console script only in the egg-info, Requires-Python >=3.10, no changelog in the sdist, ~25 "
            "dependencies all from wheels (uvicorn, httpx, Jinja2, PyYAML, ...)",
    ),
    AdoptedProject(
        name="mkdocs", version="1.6.1",
        sha256="7b432f01d928c084353ab39c57282f29f92136665bdd6abf7c1ec8d822ef86f2",
        backend="hatchling.build", command=("mkdocs", "--version"), prints="mkdocs, version {version}",
        why="hatchling with a custom build hook (hatch_build.py compiles the themes' translations with "
            "babel, a build requirement of the hook's own), version dynamic from [tool.hatch.version] path, "
            "Requires-Python >=3.8 (every flavour) but classifiers up to 3.12, no changelog in the sdist",
    ),
    AdoptedProject(
        name="docutils", version="0.23.1",
        sha256="8a83ac8810e41228b6f20e96a183abd2460a1757f78e2603e3d4b31fe7d29622",
        backend="flit_core.buildapi", command=("docutils", "--version"), prints="Docutils {version}",
        why="flit with a dynamic version from docutils.__version__, several console scripts (rst2html, ...), "
            "no dependencies, and a reStructuredText changelog (HISTORY.rst, `Release 0.23.1 (2026-11-26)` "
            "sections under a document title)",
    ),
)
