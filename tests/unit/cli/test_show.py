# SPDX-License-Identifier: Apache-2.0
"""The dry run's printout of a release plan: its tables on stderr and what would move. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from release import console
from release.cli.show import show_plan
from release.config import parse_config
from release.plan.release import Mode, ReleasePlan, TargetState, plan_release
from release.versions import parse_version
from tests.unit.builders import sample_config

# a project whose finals ship in one command (vote = "none"); an ASF final is refused (test_release.py)
CONFIG = sample_config(table={"vote": "none"})
REGISTRY = "127.0.0.1:5001"
OLD_LINE, OLD_LINE_311, OLD_PATCH = "sha256:" + "a" * 12, "sha256:" + "b" * 12, "sha256:" + "c" * 12


def plan(version: str, existing: tuple[str, ...] = (), digests: dict[str, str] | None = None,
         declared: str | None = None) -> ReleasePlan:
    state = TargetState(released=tuple(parse_version(v) for v in existing), tags=digests or {})
    return plan_release(CONFIG, parse_version(version), state, registry=REGISTRY,
                        declared=(declared, "sample_app/__init__.py") if declared else None)


def shown(found: ReleasePlan, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """What show_plan printed on the console (stderr) and through `out`."""
    monkeypatch.setattr(console.err, "width", 200)  # a terminal's width must not fold the tables
    lines: list[str] = []
    with console.err.capture() as captured:
        show_plan(found, out=lines.append)
    return captured.get(), lines


def table(text: str, title: str) -> list[list[str]]:
    """The body rows of the table printed under `title`, as stripped cells."""
    rows, inside = [], False
    for line in text.splitlines():
        if line == title:
            inside = True
        elif inside and line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
        elif inside and line.startswith("└"):
            break
    return rows


def test_an_older_line_patch_moves_its_line_and_leaves_latest(monkeypatch: pytest.MonkeyPatch) -> None:
    digests = {"1.10": OLD_LINE, "1.10-python3.11": OLD_LINE_311, "1.10.7": OLD_PATCH}
    text, lines = shown(plan("1.10.7", ("1.10.6", "2.0.0"), digests), monkeypatch)
    assert table(text, f"Tags in {REGISTRY}/sample/app") == [
        ["1.10.7-python3.11", "3.11", "create", "-", "1.10.7-python3.11"],
        ["1.10.7-python3.13", "3.13", "create", "-", "1.10.7-python3.13"],
        ["1.10.7", "3.11", "verify (must be this release's image)", OLD_PATCH, "1.10.7-python3.11"],
        ["1.10-python3.11", "3.11", "move", OLD_LINE_311, "1.10.7-python3.11"],
        ["1.10-python3.13", "3.13", "create", "-", "1.10.7-python3.13"],
        ["1.10", "3.11", "move", OLD_LINE, "1.10.7-python3.11"],
    ]
    assert lines == [
        "tags that would move: 1.10-python3.11, 1.10",
        "`latest` stays where it is: 1.10.7 is not the highest release",
    ]


def test_a_first_release_moves_nothing_and_takes_latest(monkeypatch: pytest.MonkeyPatch) -> None:
    text, lines = shown(plan("1.10.6"), monkeypatch)
    tags = table(text, f"Tags in {REGISTRY}/sample/app")
    assert {action for _, _, action, *_ in tags} == {"create"}
    assert {"latest", "latest-python3.13", "1.10", "1.10.6"} <= {tag for tag, *_ in tags}
    assert lines == ["tags that would move: none"]


def test_steps_artefacts_and_images_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = shown(plan("1.10.6rc1"), monkeypatch)
    assert [row[0] for row in table(text, "Steps")] == [
        "build", "sign", "stage", "images", "push", "constraints", "sbom", "attest", "upload", "aliases",
        "report", "provenance"]
    assert table(text, "Artefacts (dist/1.10.6rc1/)") == [
        ["svn/sample-app-1.10.6-source.tar.gz", "source", "asc sha512"],
        ["svn/sample_app-1.10.6.tar.gz", "sdist", "asc sha512"],
        ["svn/sample_app-1.10.6-py3-none-any.whl", "wheel", "asc sha512"],
        ["pypi/sample_app-1.10.6rc1.tar.gz", "sdist", "asc sha512"],
        ["pypi/sample_app-1.10.6rc1-py3-none-any.whl", "wheel", "asc sha512"],
        ["release.json", "record", "asc sha512"],
        ["constraints/constraints-3.11.txt", "constraints", "asc sha512"],
        ["constraints/constraints-3.13.txt", "constraints", "asc sha512"],
        ["sbom/sample-app-1.10.6rc1-python3.11.cdx.json", "sbom", "asc sha512"],
        ["image-signatures/sample-app-1.10.6rc1-python3.11.sig", "image-signature", ""],
        ["sbom/sample-app-1.10.6rc1-python3.13.cdx.json", "sbom", "asc sha512"],
        ["image-signatures/sample-app-1.10.6rc1-python3.13.sig", "image-signature", ""],
    ]
    assert table(text, "Images") == [
        ["3.11", "linux/amd64", f"{REGISTRY}/sample/app:1.10.6rc1-python3.11", "python:3.11-slim-bookworm"],
        ["3.13", "linux/amd64", f"{REGISTRY}/sample/app:1.10.6rc1-python3.13", "python:3.13-slim-bookworm"],
    ]
    assert "Image indexes" not in text


def test_several_platforms_show_each_image_and_each_index(monkeypatch: pytest.MonkeyPatch) -> None:
    two = sample_config(table={"python": ["3.11"], "platforms": ["linux/amd64", "linux/arm64"]})
    text, _ = shown(plan_release(two, parse_version("1.10.6"), TargetState(), registry=REGISTRY), monkeypatch)
    assert [row[:3] for row in table(text, "Images")] == [
        ["3.11", "linux/amd64", f"{REGISTRY}/sample/app:1.10.6-python3.11-amd64"],
        ["3.11", "linux/arm64", f"{REGISTRY}/sample/app:1.10.6-python3.11-arm64"],
    ]
    assert table(text, "Image indexes") == [
        ["3.11", "1.10.6-python3.11",
         "linux/amd64 1.10.6-python3.11-amd64, linux/arm64 1.10.6-python3.11-arm64"]]


def test_warnings_come_first(monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = shown(plan("1.10.6", ("1.10.6",), declared="1.10.5"), monkeypatch)
    first, second, third = text.splitlines()[:3]
    assert first.startswith("warning: the tree declares version 1.10.5 in sample_app/__init__.py")
    assert second == "warning: 1.10.6 already exists in the registry or index; a real run only resumes it"
    assert third == "Steps"


def test_without_warnings_the_steps_come_first(monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = shown(plan("1.10.6", declared="1.10.6"), monkeypatch)
    assert "warning" not in text and text.splitlines()[0] == "Steps"


def test_a_release_of_several_distributions_lists_them(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config(Path("/src"), {"name": "sample-app", "python": ["3.11"], "distributions": [
        {"name": "sample-app"}, {"name": "sample-app-sdk", "path": "sdk", "version-from": "sdk/v.py"}]})
    found = plan_release(config, parse_version("1.10.6rc1"), TargetState(), registry=REGISTRY,
                         versions={"sample-app-sdk": "0.3.0"})
    text, _ = shown(found, monkeypatch)
    assert table(text, "Distributions") == [["sample-app", "1.10.6", "1.10.6rc1"],
                                            ["sample-app-sdk", "0.3.0", "0.3.0rc1"]]
    single, _ = shown(plan("1.10.6"), monkeypatch)
    assert "Distributions" not in single


def test_a_plan_staging_in_atr_shows_atr_s_steps_and_part(monkeypatch: pytest.MonkeyPatch) -> None:
    config = sample_config(table={"python": ["3.11"], "staging": "atr", "atr": "sandbox"})
    candidate = plan_release(config, parse_version("1.10.6rc1"), TargetState(), registry=REGISTRY)
    text, _ = shown(candidate, monkeypatch)
    steps = [row[0] for row in table(text, "Steps") if row[0]]
    assert steps[:5] == ["build", "sign", "atr-upload", "atr-checks", "atr-vote"] and "stage" not in steps
    rows = table(text, "Apache Trusted Releases")
    assert rows[:4] == [["server", "sandbox"], ["project", "test"], ["committee", "test"],
                        ["release", "1.10.6"]]
    assert [r[1] for r in rows if r[0] == "uploads"][:3] == [
        "sample-app-1.10.6-source.tar.gz", "sample-app-1.10.6-source.tar.gz.asc",
        "sample-app-1.10.6-source.tar.gz.sha512"]
    assert ["vote email to", "user-tests@tooling.apache.org"] in rows
    assert ["ignored check", "rat-jar-missing"] in rows and not any(r[0] == "records" for r in rows)
    final = plan_release(config, parse_version("1.10.6"), TargetState(), registry=REGISTRY,
                         mode=Mode.PROMOTED)
    rows = table(shown(final, monkeypatch)[0], "Apache Trusted Releases")
    assert [r for r in rows if r[0] == "records"] == [["records", "pypi: sample-app 1.10.6"],
                                                      ["records", "docker: sample/app 1.10.6"]]
    assert not any(r[0] == "uploads" for r in rows)


def test_a_plan_staging_in_svn_shows_no_atr_table(monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = shown(plan("1.10.6rc1"), monkeypatch)
    assert "Apache Trusted Releases" not in text and table(text, "Steps")[2][0] == "stage"
