# SPDX-License-Identifier: Apache-2.0
"""The production image's recipe, shipped in the wheel: the Dockerfile, the helper files its build
stages run (put in every build context under `.release-pipeline/`), and the scripts the smoke
test and the SBOM step run inside images with the image's own python3.

Everything in this folder except this module runs inside images, not in the library: it imports
only the standard library of the oldest flavour's Python (3.9), and nothing here imports it
(tests/unit/test_layers.py checks both). `python -m release.image DIR` writes the Dockerfile and
the helper folder into DIR, for building the image by hand.
"""

from __future__ import annotations

import hashlib
from importlib import resources

DOCKERFILE = "Dockerfile"
# The build context's folder the pipeline reserves for the helper files (a project's own
# Dockerfile may use them too); docs/images.md documents it.
HELPERS_DIR = ".release-pipeline"
HELPERS = ("fetch_wheels.py", "requirements_from_wheels.py", "venv-pip")
EXECUTABLE = frozenset({"venv-pip"})
SMOKE_PROBE = "smoke_probe.py"
HEALTH_WATCH = "health_watch.py"
SBOM_PROBE = "sbom_probe.py"


def read(name: str) -> bytes:
    """One shipped file's bytes."""
    return resources.files(__name__).joinpath(name).read_bytes()


def script(name: str) -> str:
    """The source of an in-image script, to run as `python3 -c SOURCE ARGS...`."""
    return read(name).decode("utf-8")


def dockerfile() -> bytes:
    return read(DOCKERFILE)


def helper_files() -> dict[str, bytes]:
    """The helper files as the build context holds them: `.release-pipeline/NAME` -> bytes."""
    return {f"{HELPERS_DIR}/{name}": read(name) for name in HELPERS}


def helper_modes() -> dict[str, int]:
    """Context file modes: the shell helpers are executable."""
    return {f"{HELPERS_DIR}/{name}": 0o755 for name in EXECUTABLE}


def recipe_sha256(dockerfile_bytes: bytes) -> str:
    """What the input hash takes for "the Dockerfile": the sha256 of the Dockerfile and of every
    helper file the context carries with it (a change to either changes the image)."""
    lines = [f"{DOCKERFILE} {hashlib.sha256(dockerfile_bytes).hexdigest()}"]
    lines += [f"{name} {hashlib.sha256(data).hexdigest()}" for name, data in sorted(helper_files().items())]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
