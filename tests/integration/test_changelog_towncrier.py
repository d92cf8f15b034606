# SPDX-License-Identifier: Apache-2.0
"""The notes rendered from news fragments are what towncrier itself writes: the real `towncrier build
--draft` over the same fragments and settings, its version title left out and its double blank
lines read as one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from release.config import parse_config
from release.notes import notes_of

FRAGMENTS = {
    "41120.significant.rst": "The default parallelism is 64\n\nSet it explicitly to keep the old one.\n",
    "41345.feature.rst": "Add a ``--dry-run`` flag to ``dags trigger``\n",
    "41346.feature.rst": "Add a ``--dry-run`` flag to ``dags trigger``\n",
    "41022.bugfix.rst": "Fix the scheduler losing a heartbeat\n",
    "9.bugfix.rst": "Stop logging tokens\n",
    "+e1f2.bugfix.rst": "A fix without an issue\n",
    "41400.misc.rst": "Bump an internal dependency\n",
    "41401.doc.rst": "Explain the new flag\n",
    "41402.removal.rst": "Remove an old option\n",
    "gh-17.feature.1.rst": "An entry with a counter\n",  # two of one issue: towncrier's order is os.listdir's
}

CONFIGS = {
    "defaults": '[tool.towncrier]\ndirectory = "newsfragments"\n',
    "airflow": """[tool.towncrier]
name = "Airflow"
filename = "RELEASE_NOTES.rst"
underlines = ["-", "^"]
directory = "newsfragments"

[[tool.towncrier.type]]
directory = "significant"
name = "Significant Changes"
showcontent = true

[[tool.towncrier.type]]
directory = "feature"
name = "Features"
showcontent = true

[[tool.towncrier.type]]
directory = "bugfix"
name = "Bug Fixes"
showcontent = true

[[tool.towncrier.type]]
directory = "misc"
name = "Misc/Internal"
showcontent = true
""",
    "issue-links": """[tool.towncrier]
directory = "newsfragments"
issue_format = "`#{issue} <https://example.invalid/issues/{issue}>`_"

[tool.towncrier.fragment.feature]
name = "New"

[tool.towncrier.fragment.bugfix]

[tool.towncrier.fragment.misc]
showcontent = false
""",
    "markdown": '[tool.towncrier]\ndirectory = "newsfragments"\nfilename = "CHANGELOG.md"\n',
    "sections": """[tool.towncrier]
directory = "newsfragments"

[[tool.towncrier.section]]
name = ""
path = ""

[[tool.towncrier.section]]
name = "Providers"
path = "providers"
""",
}


def towncrier_draft(root: Path, version: str) -> str:
    result = subprocess.run([sys.executable, "-m", "towncrier", "build", "--draft", "--version", version,
                             "--name", "sample", "--date", "2026-01-01"],
                            cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def without_title(text: str) -> str:
    lines = text.strip("\n").splitlines()
    # Markdown: `# title`; reStructuredText: the title and its underline
    lines = lines[1:] if lines[0].startswith("# ") else lines[2:]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_notes_are_what_towncrier_writes(tmp_path: Path, name: str) -> None:
    root = tmp_path / name
    (root / "newsfragments").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "sample"\n\n' + CONFIGS[name])
    for fragment, text in FRAGMENTS.items():
        (root / "newsfragments" / fragment).write_text(text)
    if name == "sections":
        (root / "newsfragments" / "providers").mkdir()
        (root / "newsfragments" / "providers" / "77.bugfix.rst").write_text("A provider fix\n")
    expected = without_title(towncrier_draft(root, "3.1.0"))
    assert "Bug" in expected  # towncrier found the fragments
    notes = notes_of(root, parse_config(root, {"name": "sample", "python": ["3.11"]}), "3.1.0")
    assert notes == expected
