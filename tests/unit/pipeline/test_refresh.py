# SPDX-License-Identifier: Apache-2.0
"""`invoke refresh`'s parts that run no process: the rebuild of a master image's wheel from its
labelled commit is refused before git or a build runs unless the label is a full commit hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.config import parse_config
from release.pipeline.refresh import revision_wheels


@pytest.mark.parametrize("revision", ["--upload-pack=touch /tmp/x", "HEAD", "main", "a" * 39])
def test_a_master_wheel_is_rebuilt_only_from_a_full_commit_hash(tmp_path: Path, revision: str) -> None:
    config = parse_config(tmp_path, {"name": "sample-app", "python": ["3.11"]})
    find = revision_wheels(config, tmp_path / "built")
    assert find(revision, "1.10.6", ["0" * 64]) is None  # refused before git or a build runs
    assert not (tmp_path / "built").exists()
