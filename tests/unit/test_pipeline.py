# SPDX-License-Identifier: Apache-2.0
"""The pure parts of the pipeline: the release report and option parsing."""

from __future__ import annotations

from release.pipeline.release import ReleaseReport, parse_force
from release.record import TagEntry


def test_report_lists_as_moved_only_tags_that_pointed_elsewhere() -> None:
    report = ReleaseReport("1.10.7", images={"3.11": "sha256:new"})
    report.tags = {
        "1.10.7-python3.11": TagEntry("1.10.7-python3.11", "3.11", "sha256:new", None, "create"),
        "1.10.7": TagEntry("1.10.7", "3.11", "sha256:new", None, "create"),
        "1.10": TagEntry("1.10", "3.11", "sha256:new", "sha256:old", "move"),
        "latest": TagEntry("latest", "3.11", "sha256:new", "sha256:new", "skip"),
    }
    data = report.to_json()
    assert set(data["moved"]) == {"1.10"}
    assert data["version"] == "1.10.7"
    assert data["images"] == {"3.11": "sha256:new"}


def test_force_accepts_a_comma_list_or_a_sequence() -> None:
    assert parse_force("1.10.6, 1.10.6-python3.11,") == frozenset({"1.10.6", "1.10.6-python3.11"})
    assert parse_force(["latest", " "]) == frozenset({"latest"})
    assert parse_force("") == frozenset()
