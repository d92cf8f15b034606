# SPDX-License-Identifier: Apache-2.0
"""This repository passes the checks it makes a PMC member's candidate pass: LICENSE and NOTICE at
the top, a licence header in every file of its source release but those its `license-excludes`
name, and no binary file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from release.config import load_config
from release.licences import check_source_file, excluded, missing_notices

ROOT = Path(__file__).resolve().parents[2]


def test_this_repository_passes_its_own_pmc_checks() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert len(tracked) > 100
    excludes = load_config(ROOT).license_excludes
    problems = {path: found for path in tracked
                if (found := check_source_file(path, (ROOT / path).read_bytes(), excludes))}
    assert problems == {}
    assert missing_notices(tracked) == []


def test_every_header_is_at_the_top_of_its_file() -> None:
    """A marker quoted further down (release/licences.py lists them) is not a header."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    excludes = load_config(ROOT).license_excludes
    def top(text: str, lines: int) -> str:
        return "".join(text.splitlines(keepends=True)[:lines])

    late = [path for path in tracked
            if not path.startswith("tests/fixtures/") and not excluded(path, excludes)
            and (text := (ROOT / path).read_text(encoding="utf-8")).strip()
            and "SPDX-License-Identifier: Apache-2.0" not in top(text, 2)
            # Airflow's own file keeps the ASF header under a few lines saying where it comes from
            and "Licensed to the Apache Software Foundation" not in top(text, 10)]
    assert late == []
