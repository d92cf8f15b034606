# SPDX-License-Identifier: Apache-2.0
"""The release notes the build takes from the tree of the commit it releases: files in a temporary
folder shaped like real projects' trees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from release.changelog import NONE, TOWNCRIER
from release.config import ReleaseConfig, parse_config
from release.errors import ConfigError, RefusedError
from release.notes import changelog_of, notes_of, towncrier_of


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def config(root: Path, **table: Any) -> ReleaseConfig:
    return parse_config(root, {"name": "sample", "python": ["3.11"], **{k.replace("_", "-"): v
                                                                       for k, v in table.items()}})


def test_a_changes_rst_is_found_and_read(tmp_path: Path) -> None:
    root = tree(tmp_path, {"setup.py": "",
                           "CHANGES.rst": "2.0.0\n=====\n\n- New.\n\n1.0.0\n=====\n\n- Old.\n"})
    assert notes_of(root, config(root), "2.0.0") == "- New."


def test_a_project_that_keeps_no_changelog_has_no_notes(tmp_path: Path) -> None:
    root = tree(tmp_path, {"setup.py": "", "README.md": "# sample\n\n## 1.0.0\n\nnot a changelog\n"})
    assert changelog_of(root, config(root)).format == NONE
    assert notes_of(root, config(root), "1.0.0") == ""
    assert notes_of(root, config(root, changelog=""), "1.0.0") == ""


def test_a_configured_changelog_elsewhere(tmp_path: Path) -> None:
    root = tree(tmp_path, {"doc/en/changelog.md": "## 1.0.0\n\n- Deep.\n",
                           "CHANGELOG.md": "## 1.0.0\n\n- Top.\n"})
    assert notes_of(root, config(root, changelog="doc/en/changelog.md"), "1.0.0") == "- Deep."
    assert notes_of(root, config(root), "1.0.0") == "- Top."


def test_a_forced_format_reads_a_file_the_name_does_not_tell(tmp_path: Path) -> None:
    root = tree(tmp_path, {"HISTORY": "Release history\n\n1.0.0\n-----\n\n* One.\n"})
    assert notes_of(root, config(root, changelog_format="rst"), "1.0.0") == "* One."


def test_a_changelog_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    root = tree(tmp_path, {"CHANGELOG.md": "## 1.0.0\n\n- caf\xe9\n".encode("latin-1")})
    with pytest.raises(RefusedError, match=r"^CHANGELOG.md is not UTF-8 text"):
        notes_of(root, config(root), "1.0.0")


PIP_LIKE_PYPROJECT = """[project]
name = "sample"

[tool.towncrier]
directory = "news/"
filename = "NEWS.rst"
issue_format = "#{issue}"

[[tool.towncrier.type]]
name = "Features"
directory = "feature"

[[tool.towncrier.type]]
name = "Bug Fixes"
directory = "bugfix"
"""


def test_a_towncrier_project_before_and_after_towncrier_build(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "pyproject.toml": PIP_LIKE_PYPROJECT,
        "NEWS.rst": ".. towncrier release notes start\n\n1.0.0 (2026-01-01)\n==================\n\n"
                    "Features\n--------\n\n- First. (#1)\n",
        "news/2.bugfix.rst": "A fix not yet released.\n",
        "news/.gitignore": "!.gitignore\n",
    })
    changelog = changelog_of(root, config(root))
    assert changelog.format == TOWNCRIER and changelog.path == "NEWS.rst"
    assert notes_of(root, config(root), "1.1.0") == "Bug Fixes\n---------\n\n- A fix not yet released. (#2)"
    assert notes_of(root, config(root), "1.0.0") == "Features\n--------\n\n- First. (#1)"


def test_towncrier_toml_wins_over_pyproject(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "pyproject.toml": PIP_LIKE_PYPROJECT,
        "towncrier.toml": '[tool.towncrier]\ndirectory = "changes"\n',
        "changes/3.feature": "From changes/.",
        "news/2.bugfix.rst": "From news/.",
    })
    settings = towncrier_of(root, "sample")
    assert settings is not None and settings.directory == "changes"
    assert notes_of(root, config(root), "1.1.0") == "Features\n--------\n\n- From changes/. (#3)"


def test_the_main_distributions_folder_holds_the_towncrier_config(tmp_path: Path) -> None:
    """Airflow's shape: the release's own distribution in a sub-folder with its news fragments."""
    root = tree(tmp_path, {
        "pyproject.toml": '[project]\nname = "sample"\n',
        "core/pyproject.toml": '[project]\nname = "sample-core"\n\n[tool.towncrier]\nname = "Sample"\n'
                               'filename = "RELEASE_NOTES.rst"\nunderlines = ["-", "^"]\n'
                               'directory = "newsfragments"\n',
        "core/newsfragments/41.significant.rst": "Not a default type: skipped.\n",
        "core/newsfragments/42.feature.rst": "A feature.\n",
    })
    cfg = parse_config(root, {"name": "sample-core", "python": ["3.11"],
                              "distributions": [{"name": "sample-core", "path": "core"}]})
    changelog = changelog_of(root, cfg)
    assert changelog.path == "core/RELEASE_NOTES.rst"
    assert notes_of(root, cfg, "3.0.0") == "Features\n^^^^^^^^\n\n- A feature. (#42)"


def test_a_broken_towncrier_file_is_one_config_line(tmp_path: Path) -> None:
    root = tree(tmp_path, {"towncrier.toml": "[tool.towncrier\n"})
    with pytest.raises(ConfigError, match=r"^towncrier.toml: cannot be read as TOML"):
        notes_of(root, config(root), "1.0.0")
