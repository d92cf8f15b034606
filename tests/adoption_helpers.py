# SPDX-License-Identifier: Apache-2.0
"""A real project from PyPI as a new user has it: its sdist downloaded with pip (sha256 checked),
unpacked into a git repository of one commit."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path

from adoption_projects import AdoptedProject
from conftest import git


def download_sdist(project: AdoptedProject, into: Path) -> Path:
    """`pip download` of the project's sdist (pip prepares its metadata, so its build requirements come
    from the index too); refuses a file whose sha256 is not the one recorded."""
    into.mkdir(parents=True, exist_ok=True)
    sdist = into / project.sdist
    if not sdist.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
                        project.name, f"{project.name}=={project.version}", "--dest", str(into)],
                       check=True, capture_output=True, text=True, timeout=600)
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert digest == project.sha256, f"{sdist.name}: sha256 {digest}, expected {project.sha256}"
    return sdist


def project_repo(project: AdoptedProject, sdist: Path, dest: Path) -> Path:
    """The sdist's tree as a git repository with one commit, as if it were the project's checkout."""
    with tarfile.open(sdist) as archive:
        archive.extractall(dest.parent, filter="data")
    top = dest.parent / f"{project.name}-{project.version}"
    top.rename(dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "rm@adopter.invalid")
    git(dest, "config", "user.name", "Release Manager")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", f"{project.name} {project.version} from its sdist")
    return dest
