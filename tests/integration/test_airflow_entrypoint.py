# SPDX-License-Identifier: Apache-2.0
"""The Airflow image's entrypoint script (examples/airflow/entrypoint.sh), run with bash here.

`_PIP_ADDITIONAL_REQUIREMENTS` holds several requirements split on spaces; the words must reach pip
as written, never glob-expanded against the files of the working directory (`pkg[extra]` matches a
file `pkge`, `*` every file). A stand-in `python3` first on PATH records the arguments of
`python3 -m pip ...` and passes everything else to the real Python; Airflow's version comes from a
real (tiny) distribution's metadata on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO_ROOT

Start = Callable[[str], list[list[str]]]  # requirements -> each pip call's arguments
ENTRYPOINT = REPO_ROOT / "examples" / "airflow" / "entrypoint.sh"
AIRFLOW_VERSION = "3.3.2"

STAND_IN = """#!{python}
import json, os, sys
if sys.argv[1:3] == ["-m", "pip"]:
    with open(os.environ["PIP_CALLS"], "a") as calls:
        calls.write(json.dumps(sys.argv[3:]) + "\\n")
    sys.exit(0)
os.execv({python!r}, [{python!r}, *sys.argv[1:]])
"""


@pytest.fixture
def start(tmp_path: Path) -> Start:
    python = shutil.which("python3")
    assert python is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "python3"
    stand_in.write_text(STAND_IN.format(python=python))
    stand_in.chmod(0o755)
    site = tmp_path / "site"
    metadata = site / f"apache_airflow-{AIRFLOW_VERSION}.dist-info"
    metadata.mkdir(parents=True)
    (metadata / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: apache-airflow\nVersion: {AIRFLOW_VERSION}\n")
    work = tmp_path / "work"
    work.mkdir()
    # files a glob in the requirements would match: pkg[extra] -> pkge, pkgx...; * -> every file
    for name in ("pkge", "pkgx", "abc", "README", "setup.py"):
        (work / name).write_text("")
    calls = tmp_path / "pip-calls"

    def run(requirements: str) -> list[list[str]]:
        env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path / "home"),
               "PYTHONPATH": str(site), "PIP_CALLS": str(calls), "CONNECTION_CHECK_MAX_COUNT": "0",
               "_PIP_ADDITIONAL_REQUIREMENTS": requirements}
        result = subprocess.run(["bash", str(ENTRYPOINT), "bash", "-c", "echo ran"], cwd=work, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "ran"
        return [json.loads(line) for line in calls.read_text().splitlines()]

    return run


def test_additional_requirements_reach_pip_as_written_not_globbed(start: Start) -> None:
    """Before `set -f`, pip was asked for `pkge pkgx` and every file of the working directory."""
    install, check = start("pkg[extra] * other>=1.0 a?c")
    assert install[-5:] == [f"apache-airflow=={AIRFLOW_VERSION}", "pkg[extra]", "*", "other>=1.0", "a?c"]
    assert install[0] == "install"
    assert check == ["check"]


def test_several_requirements_are_still_split_on_spaces(start: Start) -> None:
    install, _ = start("  apache-airflow-providers-http   requests==2.32.3 ")
    assert install[-3:] == [f"apache-airflow=={AIRFLOW_VERSION}", "apache-airflow-providers-http",
                            "requests==2.32.3"]
