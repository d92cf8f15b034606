"""The release plan: steps, artefacts, images, tags and which tags would move. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.config import parse_config
from release.plan.release import TagChange, artefacts, plan_release, release_steps
from release.versions import parse_version

CONFIG = parse_config(
    Path("/src"),
    {
        "name": "sample-app",
        "image": "sample/app",
        "python": ["3.9", "3.11", "3.13"],
        "default-python": "3.11",
        "base-image": "{registry}/sandbox/python:{python}",
    },
)
V = parse_version


def test_final_release_steps_skip_the_vote_stage() -> None:
    names = [s.name for s in release_steps(V("1.10.6"))]
    assert names == ["build", "sign", "images", "smoke", "push", "upload", "aliases", "report"]


def test_rc_release_stages_for_the_vote_before_images() -> None:
    names = [s.name for s in release_steps(V("1.10.6rc1"))]
    assert names.index("stage") == names.index("sign") + 1
    assert names.index("push") < names.index("upload") < names.index("aliases")


def test_final_artefacts_are_signed_and_named_after_the_version() -> None:
    found = {a.path: a for a in artefacts("sample-app", V("1.10.6"))}
    assert set(found) == {
        "svn/sample-app-1.10.6-source.tar.gz",
        "svn/sample_app-1.10.6.tar.gz",
        "svn/sample_app-1.10.6-py3-none-any.whl",
        "release.json",
    }
    assert found["svn/sample_app-1.10.6.tar.gz"].companions == (
        "svn/sample_app-1.10.6.tar.gz.asc",
        "svn/sample_app-1.10.6.tar.gz.sha512",
    )
    assert found["release.json"].companions == ("release.json.asc", "release.json.sha512")


def test_rc_svn_files_carry_the_final_version_and_index_files_the_rc() -> None:
    paths = {a.path for a in artefacts("sample-app", V("1.10.6rc1"))}
    assert "svn/sample-app-1.10.6-source.tar.gz" in paths
    assert "svn/sample_app-1.10.6-py3-none-any.whl" in paths
    assert "pypi/sample_app-1.10.6rc1-py3-none-any.whl" in paths
    assert not any("rc1" in p for p in paths if p.startswith("svn/"))


def test_plan_names_every_image_and_base_per_flavour() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), registry="127.0.0.1:5000", existing=[], current_digests={})
    assert plan.images == {
        "3.9": "127.0.0.1:5000/sample/app:1.10.6-python3.9",
        "3.11": "127.0.0.1:5000/sample/app:1.10.6-python3.11",
        "3.13": "127.0.0.1:5000/sample/app:1.10.6-python3.13",
    }
    assert plan.base_images["3.13"] == "127.0.0.1:5000/sandbox/python:3.13"


def test_first_release_creates_every_tag() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), registry="r", existing=[], current_digests={})
    assert {c.action for c in plan.changes} == {"create"}
    assert plan.to_json()["tags"]["latest"] == "3.11"


def test_existing_aliases_would_move_and_existing_version_tags_are_verified() -> None:
    existing = [V("1.10.5")]
    digests = {"latest": "sha256:old", "1.10": "sha256:old", "1.10.6": "sha256:same"}
    plan = plan_release(CONFIG, V("1.10.6"), registry="r", existing=existing, current_digests=digests)
    actions = {c.tag: c.action for c in plan.changes}
    assert actions["latest"] == "move"
    assert actions["1.10"] == "move"
    assert actions["1.10.6"] == "verify"
    assert actions["1.10.6-python3.9"] == "create"


def test_older_line_patch_never_plans_latest() -> None:
    existing = [V("2.0.0"), V("1.10.14")]
    plan = plan_release(CONFIG, V("1.10.15"), registry="r", existing=existing, current_digests={})
    tags = plan.to_json()["tags"]
    assert "1.10" in tags
    assert "latest" not in tags
    assert not plan.tags.owns_latest


def test_declared_version_mismatch_is_a_warning_naming_the_file() -> None:
    plan = plan_release(
        CONFIG, V("1.10.7"), registry="r", existing=[], current_digests={},
        declared_version="1.10.6", declared_in="sample_app/__init__.py",
    )
    assert len(plan.warnings) == 1
    assert "sample_app/__init__.py" in plan.warnings[0]
    assert "1.10.6" in plan.warnings[0]


@pytest.mark.parametrize(("declared", "version"), [("1.10.6", "1.10.6"), ("1.10.6", "1.10.6rc1")])
def test_declared_final_version_is_right_for_the_release_and_its_rc(declared: str, version: str) -> None:
    plan = plan_release(
        CONFIG, V(version), registry="r", existing=[], current_digests={}, declared_version=declared
    )
    assert plan.warnings == ()


def test_rerun_of_an_existing_version_warns_it_only_resumes() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), registry="r", existing=[V("1.10.6")], current_digests={})
    assert any("already exists" in w for w in plan.warnings)


def test_plan_json_has_version_and_tag_flavours() -> None:
    data = plan_release(CONFIG, V("1.10.6rc1"), registry="r", existing=[], current_digests={}).to_json()
    assert data["version"] == "1.10.6rc1"
    assert data["tags"] == {
        "1.10.6rc1-python3.9": "3.9",
        "1.10.6rc1-python3.11": "3.11",
        "1.10.6rc1-python3.13": "3.13",
        "1.10.6rc1": "3.11",
    }
    assert data["owns_latest"] is False


def test_tag_change_actions() -> None:
    assert TagChange("latest", "3.11", None, True).action == "create"
    assert TagChange("latest", "3.11", "sha256:a", True).action == "move"
    assert TagChange("1.0.0", "3.11", "sha256:a", False).action == "verify"
