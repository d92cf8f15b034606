# SPDX-License-Identifier: Apache-2.0
"""A virtual environment of another Python, filled from a project's uv lock with uv.

uv itself comes from the package index (pip, as the machine configures it) into that environment,
so nothing is installed into the interpreter running the pipeline. uv runs with `--native-tls`:
it then trusts the machine's certificate store, as pip does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from release.adapters.cmd import run

UV_REQUIREMENT = "uv>=0.5"


def python_version(python: Path) -> str:
    """`3.13.0` for a Python 3.13.0 interpreter."""
    result = run([python, "-c", "import platform; print(platform.python_version())"])
    return result.stdout.strip()


def create(python: Path, venv: Path, *, log_file: Path) -> Path:
    """A new environment of `python` at `venv` with uv in it; its interpreter."""
    run([python, "-m", "venv", venv], log_file=log_file)
    interpreter = venv / "bin" / "python"
    run([interpreter, "-m", "pip", "install", "--quiet", UV_REQUIREMENT], log_file=log_file,
        hint="pip must reach the package index to install uv")
    return interpreter


def export_locked(project: Path, venv: Path, *, log_file: Path) -> str:
    """The pinned requirements of `project`'s uv.lock (no development groups, not the project)."""
    result = run([venv / "bin" / "uv", "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project",
                  "--no-header", "--quiet"], cwd=project)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as log:
        log.write(f"+ uv export (in {project}): {len(result.stdout.splitlines())} lines\n")
    return result.stdout


def install(venv: Path, requirements: Path, *, log_file: Path, env: Mapping[str, str] | None = None) -> None:
    """Install every requirement of the file into `venv`, as pinned."""
    run([venv / "bin" / "uv", "pip", "install", "--native-tls", "--python", venv / "bin" / "python",
         "--requirement", requirements], log_file=log_file, env=env,
        hint="uv must reach the package index")
