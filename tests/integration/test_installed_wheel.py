# SPDX-License-Identifier: Apache-2.0
"""`pip install release-pipeline` from its built wheel is enough: installed into a fresh venv
outside this checkout, it builds and smoke-tests an image of the sample (which has no Dockerfile of
its own) from the Dockerfile and helpers the wheel ships."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO_ROOT, make_sample_repo
from engine_helpers import require_engine_and_base

pytestmark = [pytest.mark.images, pytest.mark.slow]

# Runs with the fresh venv's python, in the sample's checkout: no path of this repository in sight.
BUILD = """
import json, sys
from pathlib import Path
import release, release.image
from release.adapters.clients import real_clients
from release.adapters.engine import Engine
from release.config import load_config
from release.pipeline.images import image_job, planned_images
from release.plan.tags import BuildKind
from release.steps.images import build_images
from release.steps.smoke import smoke_images

root = Path.cwd()
config = load_config(root)
wheels = sorted((root / "dist").glob("*.whl"))
engine = Engine()
clients = real_clients("127.0.0.1:9", engine=engine)
images = planned_images(config, "1.10.6", "127.0.0.1:9", flavours=["3.11"], kind=BuildKind.MASTER,
                        base_images={"3.11": "sandbox/python:3.11"})
job = image_job(config, images, clients, version="1.10.6", wheels=wheels, kind=BuildKind.MASTER,
                check_registry=False)
results = build_images(job, clients, progress=lambda event: None)
reports = smoke_images(config, [r.planned for r in results], version="1.10.6", wheels=wheels, engine=engine)
print(json.dumps({"package": release.__file__, "recipe": release.image.__file__, "ref": results[0].ref,
                  "cache": results[0].planned.cache_ref,
                  "image": results[0].image_id, "builder": str(engine.builder()),
                  "smoke": [report.ok for report in reports]}))
"""


def test_the_installed_wheel_builds_an_image_of_a_project_without_a_dockerfile(tmp_path: Path) -> None:
    engine = require_engine_and_base("sandbox/python:3.11")
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO_ROOT)],
                   check=True, capture_output=True)
    (wheel,) = dist.glob("release_pipeline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"release/image/Dockerfile", "release/image/venv-pip", "release/image/smoke_probe.py"} <= names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)

    sample = make_sample_repo(tmp_path / "sample")
    assert not (sample / "Dockerfile").exists()
    subprocess.run([python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(sample / "dist"), str(sample)],
                   check=True, capture_output=True)
    done = subprocess.run([python, "-c", BUILD], cwd=sample, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    try:
        assert found["package"].startswith(str(venv)) and found["recipe"].startswith(str(venv))
        assert found["smoke"] == [True]
        said = engine.run(found["ref"], ["sample-app"])
        assert said.stdout.strip() == "sample-app 1.10.6 on Python 3.11"
    finally:
        engine.remove(found["ref"], force=True)
        engine.remove(found["cache"], force=True)
