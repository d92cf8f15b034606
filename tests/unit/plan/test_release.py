# SPDX-License-Identifier: Apache-2.0
"""The release plan: steps, artefacts, images, uploads and every tag's action, from a target state. Pure."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.config import parse_config
from release.errors import ConfigError, VersionError
from release.plan.release import (
    Mode,
    PlannedDistribution,
    StepName,
    TagAction,
    TargetState,
    UploadAction,
    alias_differences,
    artefacts,
    constraints_folder,
    constraints_name,
    distribution_of,
    plan_distributions,
    plan_release,
    release_steps,
    replan_aliases,
    tags_to_observe,
    unvoted_final,
)
from release.versions import ReleaseVersion, parse_version

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
REGISTRY = "127.0.0.1:5000"


def state(released: tuple[str, ...] = (), tags: dict[str, str] | None = None,
          index: tuple[str, ...] = ()) -> TargetState:
    return TargetState(released=tuple(V(v) for v in released), tags=tags or {}, index_files=frozenset(index))


def actions(plan_tags: object) -> dict[str, str]:
    return {t.tag: t.action.value for t in plan_tags}  # type: ignore[attr-defined]


def test_final_release_steps_skip_the_vote_stage() -> None:
    names = [s.name.value for s in release_steps(V("1.10.6"))]
    assert names == ["build", "sign", "images", "push", "constraints", "sbom", "attest", "upload", "aliases",
                     "report", "provenance"]


def test_rc_release_stages_for_the_vote_before_images() -> None:
    names = [s.name for s in release_steps(V("1.10.6rc1"))]
    assert names.index(StepName.STAGE) == names.index(StepName.SIGN) + 1
    assert names.index(StepName.PUSH) < names.index(StepName.UPLOAD) < names.index(StepName.ALIASES)


def test_a_publish_join_neither_builds_nor_signs() -> None:
    names = [s.name.value for s in release_steps(V("1.10.6"), Mode.PUBLISH)]
    assert names == ["push", "constraints", "sbom", "attest", "upload", "aliases", "report", "provenance"]


def test_final_artefacts_are_signed_and_the_index_gets_copies_of_the_voted_packages() -> None:
    found = {a.path: a for a in artefacts("sample-app", V("1.10.6"))}
    assert set(found) == {
        "svn/sample-app-1.10.6-source.tar.gz",
        "svn/sample_app-1.10.6.tar.gz",
        "svn/sample_app-1.10.6-py3-none-any.whl",
        "pypi/sample_app-1.10.6.tar.gz",
        "pypi/sample_app-1.10.6-py3-none-any.whl",
        "release.json",
    }
    assert found["svn/sample_app-1.10.6.tar.gz"].companions == (
        "svn/sample_app-1.10.6.tar.gz.asc",
        "svn/sample_app-1.10.6.tar.gz.sha512",
    )
    assert found["pypi/sample_app-1.10.6.tar.gz"].companions == ()  # the same bytes as svn's
    assert found["release.json"].companions == ("release.json.asc", "release.json.sha512")


def test_rc_svn_files_carry_the_final_version_and_signed_index_files_the_rc() -> None:
    found = {a.path: a for a in artefacts("sample-app", V("1.10.6rc1"))}
    assert "svn/sample-app-1.10.6-source.tar.gz" in found
    assert "svn/sample_app-1.10.6-py3-none-any.whl" in found
    assert found["pypi/sample_app-1.10.6rc1-py3-none-any.whl"].signed
    assert not any("rc1" in p for p in found if p.startswith("svn/"))


# every kind of version: what its voted (svn) files carry, and whether the index gets other files
VERSION_KINDS = [
    ("1.10.6", "1.10.6", False),
    ("1.10.6rc1", "1.10.6", True),
    ("1.10.6a1", "1.10.6a1", False),
    ("1.10.6b1", "1.10.6b1", False),
    ("1.10.6.dev1", "1.10.6.dev1", False),
    ("1.10.6.post1", "1.10.6.post1", False),
]


@pytest.mark.parametrize(("version", "voted", "own_index_files"), VERSION_KINDS)
def test_every_version_kind_names_its_files_by_the_one_voted_version_rule(
        version: str, voted: str, own_index_files: bool) -> None:
    found = {a.path: a for a in artefacts("sample-app", V(version))}
    assert f"svn/sample-app-{voted}-source.tar.gz" in found
    assert f"svn/sample_app-{voted}-py3-none-any.whl" in found
    assert f"pypi/sample_app-{version}-py3-none-any.whl" in found
    # the index's files are signed exactly when they are not the voted ones under their own names
    assert all(a.signed is own_index_files for p, a in found.items() if p.startswith("pypi/"))
    assert str(V(version).voted) == voted


@pytest.mark.parametrize(("version", "voted", "own_index_files"), VERSION_KINDS)
def test_a_distribution_with_its_own_version_follows_the_same_rule(
        version: str, voted: str, own_index_files: bool) -> None:
    config = parse_config(Path("/src"), {
        "name": "sample-app", "image": "sample/app", "python": ["3.11"],
        "base-image": "{registry}/sandbox/python:{python}",
        "distributions": [{"name": "sample-app", "path": "."},
                          {"name": "sample-sdk", "path": "sdk", "version-from": "sdk/pyproject.toml"}],
    })
    sdk = plan_distributions(config, V(version), {"sample-sdk": "0.3.0"})[1]
    suffix = version[len("1.10.6"):]
    assert sdk.index == f"0.3.0{suffix}"
    assert sdk.voted == (f"0.3.0{suffix}" if not own_index_files else "0.3.0")
    plan = plan_release(config, V(version), state(), registry=REGISTRY, versions={"sample-sdk": "0.3.0"})
    signed = {a.path for a in plan.artefacts if a.signed and a.path.startswith("pypi/")}
    assert bool(signed) is own_index_files
    assert {u.filename for u in plan.uploads} == {a.path[len("pypi/"):] for a in plan.artefacts
                                                   if a.for_index}


def test_first_release_creates_every_tag_and_uploads_both_packages() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY)
    assert set(actions(plan.tags).values()) == {"create"}
    assert {t.tag for t in plan.aliases} == {
        "1.10-python3.9", "1.10-python3.11", "1.10-python3.13", "1.10",
        "latest-python3.9", "latest-python3.11", "latest-python3.13", "latest",
    }
    assert [(u.filename, u.action) for u in plan.uploads] == [
        ("sample_app-1.10.6.tar.gz", UploadAction.UPLOAD),
        ("sample_app-1.10.6-py3-none-any.whl", UploadAction.UPLOAD),
    ]
    assert plan.owns_latest and plan.owns_line and plan.full


def test_every_tag_says_which_version_tag_it_takes_its_image_from() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY)
    sources = {t.tag: t.source for t in plan.tags}
    assert sources["latest"] == sources["1.10"] == sources["1.10.6"] == "1.10.6-python3.11"
    assert sources["latest-python3.9"] == "1.10.6-python3.9"


def test_images_are_planned_per_flavour_with_their_base() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY)
    assert [(i.image.flavour, i.ref, i.base_image) for i in plan.images] == [
        (p, f"{REGISTRY}/sample/app:1.10.6-python{p}", f"{REGISTRY}/sandbox/python:{p}")
        for p in ("3.9", "3.11", "3.13")
    ]


def test_a_patch_on_an_older_line_moves_its_line_but_not_latest() -> None:
    old = {"1.10": "sha256:old", "latest": "sha256:two"}
    plan = plan_release(CONFIG, V("1.10.7"), state(("1.10.6", "2.0.0"), old), registry=REGISTRY)
    found = actions(plan.tags)
    assert found["1.10"] == "move"
    assert "latest" not in found and not plan.owns_latest


def test_a_candidate_never_gets_aliases() -> None:
    plan = plan_release(CONFIG, V("2.0.0rc1"), state(("1.10.6",)), registry=REGISTRY)
    assert plan.aliases == ()
    assert plan.step(StepName.STAGE) is not None


def test_a_rerun_of_a_finished_release_verifies_and_skips_everything() -> None:
    tags = dict.fromkeys(tags_to_observe(CONFIG, V("1.10.6"), [V("1.10.6")]), "sha256:ours")
    files = ("sample_app-1.10.6.tar.gz", "sample_app-1.10.6-py3-none-any.whl")
    plan = plan_release(CONFIG, V("1.10.6"), state(("1.10.6",), tags, files), registry=REGISTRY)
    assert {a for t, a in actions(plan.immutable).items()} == {"verify"}
    assert {a for t, a in actions(plan.aliases).items()} == {"skip"}
    assert {u.action for u in plan.uploads} == {UploadAction.SKIP}
    assert "already exists" in " ".join(plan.warnings)


def test_a_release_stopped_after_its_images_moves_the_aliases_from_the_old_release() -> None:
    tags = {f"1.10.7-python{p}": f"sha256:new{p}" for p in CONFIG.python}
    tags |= {"1.10": "sha256:old", "latest": "sha256:old"}
    plan = plan_release(CONFIG, V("1.10.7"), state(("1.10.6", "1.10.7"), tags), registry=REGISTRY)
    found = actions(plan.tags)
    assert found["1.10.7-python3.11"] == "verify"
    assert found["1.10.7"] == "create"
    assert found["1.10"] == found["latest"] == "move"
    assert found["1.10-python3.9"] == "create"


def test_an_immutable_tag_on_another_image_is_flagged_before_the_run_refuses_it() -> None:
    tags = {"1.10.6": "sha256:someone-else", "1.10.6-python3.11": "sha256:ours"}
    plan = plan_release(CONFIG, V("1.10.6"), state(("1.10.6",), tags), registry=REGISTRY)
    bare = next(t for t in plan.tags if t.tag == "1.10.6")
    assert bare.action is TagAction.VERIFY and "must be this release's image" in bare.reason


def test_some_flavours_only_leave_the_aliases_for_a_full_release() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, flavours=["3.11"])
    assert not plan.full and plan.flavours == ("3.11",)
    assert {t.action for t in plan.aliases} == {TagAction.SKIP}
    assert [i.image.flavour for i in plan.images] == ["3.11"]


def test_some_flavours_leave_the_tags_of_the_others_alone() -> None:
    """A partial run has no image for the other flavours: their version tags are not its to set."""
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, flavours=["3.11", "3.13"])
    found = actions(plan.tags)
    assert found["1.10.6-python3.9"] == "skip" and found["1.10.6-python3.11"] == "create"
    assert found["1.10.6"] == "create"
    reason = next(t.reason for t in plan.tags if t.tag == "1.10.6-python3.9")
    assert reason == "not built in this run (python3.9)"


def test_flavours_without_the_default_are_refused_before_anything_is_built() -> None:
    with pytest.raises(ConfigError, match=r"leaves out the default flavour 3\.11.*add 3\.11 to --python"):
        plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, flavours=["3.13"])


def test_a_version_too_long_for_an_image_tag_is_refused_by_the_plan() -> None:
    with pytest.raises(VersionError, match="too long for an image tag"):
        plan_release(CONFIG, V("1.0.0.dev" + "1" * 118), state(), registry=REGISTRY)


def test_a_tree_declaring_another_version_is_a_warning_of_the_refusal_to_come() -> None:
    declared = ("1.10.5", "pkg/__init__.py")
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, declared=declared)
    assert any("declares version 1.10.5 in pkg/__init__.py" in w for w in plan.warnings)
    rc = plan_release(CONFIG, V("1.10.6rc1"), state(), registry=REGISTRY, declared=("1.10.6", "x"))
    assert rc.warnings == ()


def test_an_unreachable_target_is_said_in_the_plan() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), TargetState(unreachable="registry down"), registry=REGISTRY)
    assert "registry down; this plan assumes the registry and index hold nothing" in plan.warnings


def test_the_plan_is_json_and_round_trips() -> None:
    plan = plan_release(CONFIG, V("1.10.6rc1"), state(("1.10.5",)), registry=REGISTRY)
    data = json.loads(json.dumps(plan.to_json()))
    assert data["version"] == "1.10.6rc1" and data["mode"] == "release"
    assert [s["name"] for s in data["steps"]] == [s.name.value for s in plan.steps]
    assert {t["tag"]: t["action"] for t in data["tags"]} == actions(plan.tags)
    assert data["uploads"][0] == {"filename": "sample_app-1.10.6rc1.tar.gz", "action": "upload"}


def test_replanning_the_aliases_says_when_a_higher_release_appeared_meanwhile() -> None:
    plan = plan_release(CONFIG, V("1.10.7"), state(("1.10.6",)), registry=REGISTRY)
    assert plan.owns_latest
    now = replan_aliases(plan, CONFIG, state(("1.10.6", "1.11.0")))
    assert not now.owns_latest and now.immutable == plan.immutable
    lines = alias_differences(plan, now)
    assert lines and all("no longer moves" in line for line in lines)
    latest = {t.tag for t in plan.aliases if t.tag.startswith("latest")}
    assert {line.split(":")[0] for line in lines} == latest


def test_replanning_an_unchanged_target_changes_nothing() -> None:
    plan = plan_release(CONFIG, V("1.10.7"), state(("1.10.6",)), registry=REGISTRY)
    assert alias_differences(plan, replan_aliases(plan, CONFIG, state(("1.10.6",)))) == ()


def test_tags_to_observe_cover_every_tag_the_plan_can_set() -> None:
    names = set(tags_to_observe(CONFIG, V("1.10.6"), []))
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY)
    assert {t.tag for t in plan.tags} <= names


versions = st.builds(
    lambda major, minor, patch: f"{major}.{minor}.{patch}",
    st.integers(0, 3), st.integers(0, 12), st.integers(0, 5),
)


@given(target=versions, released=st.lists(versions, max_size=6), present=st.sets(st.sampled_from(
    ["latest", "1.0", "1.10", "2.1"]), max_size=4))
def test_properties_of_any_plan(target: str, released: list[str], present: set[str]) -> None:
    existing = tuple(sorted({V(v) for v in released}))
    tags = {name: f"sha256:{name}" for name in present}
    plan = plan_release(CONFIG, V(target), TargetState(released=existing, tags=tags), registry=REGISTRY)
    names = [t.tag for t in plan.tags]
    assert len(names) == len(set(names))
    for tag in plan.tags:
        assert (tag.action is TagAction.CREATE) == (tag.current is None)
        assert tag.action is not TagAction.MOVE or tag.moving
        assert tag.source.startswith(f"{target}-python")
    higher = [v for v in existing if v > V(target) and not v.is_prerelease]
    assert plan.owns_latest == (not higher)


@pytest.mark.parametrize("version", ["1.10.6", "1.10.6rc1", "2.0.0.post1"])
def test_plan_is_frozen(version: str) -> None:
    plan = plan_release(CONFIG, V(version), state(), registry=REGISTRY)
    with pytest.raises(AttributeError):
        plan.version = V("9.9.9")  # type: ignore[misc]
    assert isinstance(plan.version, ReleaseVersion)


# --- image variants and the constraints each image ships ---------------------------------------------

SLIM = parse_config(Path("/src"), {
    "name": "apache-airflow", "image": "apache/airflow", "python": ["3.11", "3.13"], "default-python": "3.11",
    "base-image": "{registry}/sandbox/python:{python}", "extras": ["celery"],
    "variants": {"slim": {"extras": []}},
})


def test_every_variant_of_every_flavour_is_an_image_with_its_constraints_file() -> None:
    plan = plan_release(SLIM, V("3.3.2"), state(), registry=REGISTRY)
    assert [(i.image.variant, i.image.flavour, i.tag, i.constraints) for i in plan.images] == [
        ("", "3.11", "3.3.2-python3.11", "constraints/constraints-3.11.txt"),
        ("", "3.13", "3.3.2-python3.13", "constraints/constraints-3.13.txt"),
        ("slim", "3.11", "slim-3.3.2-python3.11", "constraints/constraints-slim-3.11.txt"),
        ("slim", "3.13", "slim-3.3.2-python3.13", "constraints/constraints-slim-3.13.txt"),
    ]
    files = {a.path: a for a in plan.artefacts}
    assert files["constraints/constraints-slim-3.13.txt"].kind == "constraints"
    assert files["constraints/constraints-3.11.txt"].companions == (
        "constraints/constraints-3.11.txt.asc", "constraints/constraints-3.11.txt.sha512")
    paths = [a.path for a in plan.artefacts]  # what the images installed comes with their provenance
    assert paths.index("release.json") < paths.index("constraints/constraints-3.11.txt")


def test_a_variants_tags_take_their_image_from_its_own_version_tag() -> None:
    plan = plan_release(SLIM, V("3.3.2"), state(), registry=REGISTRY)
    sources = {t.tag: (t.source, t.image.variant) for t in plan.tags}
    assert sources["slim-latest"] == sources["slim-3.3"] == sources["slim-3.3.2"]
    assert sources["slim-3.3.2"] == ("slim-3.3.2-python3.11", "slim")
    assert sources["slim-latest-python3.13"] == ("slim-3.3.2-python3.13", "slim")
    assert sources["latest"] == ("3.3.2-python3.11", "")
    assert {t.tag for t in plan.immutable} == {"3.3.2-python3.11", "3.3.2-python3.13", "3.3.2",
                                               "slim-3.3.2-python3.11", "slim-3.3.2-python3.13", "slim-3.3.2"}
    assert set(tags_to_observe(SLIM, V("3.3.2"), [])) >= {t.tag for t in plan.tags}


def test_aliases_of_every_variant_wait_for_a_full_release() -> None:
    plan = plan_release(SLIM, V("3.3.2"), state(), registry=REGISTRY, flavours=["3.11"])
    assert {i.tag for i in plan.images} == {"3.3.2-python3.11", "slim-3.3.2-python3.11"}
    assert {t.action for t in plan.aliases} == {TagAction.SKIP}
    assert {a.path for a in plan.artefacts if a.kind == "constraints"} == {
        "constraints/constraints-3.11.txt", "constraints/constraints-slim-3.11.txt"}


def test_constraints_come_after_the_push_and_before_anything_is_uploaded_or_aliased() -> None:
    for mode in Mode:
        names = [s.name for s in release_steps(V("3.3.2rc1"), mode)]
        assert names.index(StepName.PUSH) < names.index(StepName.CONSTRAINTS) < names.index(StepName.UPLOAD)
        assert names.index(StepName.CONSTRAINTS) < names.index(StepName.ALIASES)


def test_constraints_names_and_folders() -> None:
    assert constraints_name("3.11") == "constraints-3.11.txt"
    assert constraints_name("3.14", "slim") == "constraints-slim-3.14.txt"
    assert constraints_folder("apache-airflow", V("3.3.2")) == "apache-airflow/constraints-3.3.2"


def test_a_variant_plan_is_json_with_the_variant_of_every_image_and_tag() -> None:
    found = json.loads(json.dumps(plan_release(SLIM, V("3.3.2"), state(), registry=REGISTRY).to_json()))
    assert {i["variant"] for i in found["images"]} == {"", "slim"}
    assert {t["variant"] for t in found["tags"] if t["tag"].startswith("slim-")} == {"slim"}


# --------------------------------------------------------------------------- platforms

TWO = parse_config(
    Path("/src"),
    {
        "name": "sample-app",
        "image": "sample/app",
        "python": ["3.11", "3.13"],
        "base-image": "{registry}/sandbox/python:{python}",
        "platforms": ["linux/amd64", "linux/arm64"],
    },
)


def test_a_single_platform_release_plans_as_before_one_image_per_flavour_under_its_version_tag() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY)
    assert [(i.image.flavour, i.platform, i.tag) for i in plan.images] == [
        ("3.9", "linux/amd64", "1.10.6-python3.9"), ("3.11", "linux/amd64", "1.10.6-python3.11"),
        ("3.13", "linux/amd64", "1.10.6-python3.13"),
    ]
    assert plan.indexes == () and not plan.multi_platform
    assert StepName.INDEX not in [s.name for s in plan.steps]
    assert plan.platforms == ("linux/amd64",)


def test_two_platforms_plan_an_image_per_flavour_and_platform_and_an_index_per_flavour() -> None:
    plan = plan_release(TWO, V("1.10.6"), state(), registry=REGISTRY)
    assert [(i.image.flavour, i.platform, i.ref) for i in plan.images] == [
        ("3.11", "linux/amd64", f"{REGISTRY}/sample/app:1.10.6-python3.11-amd64"),
        ("3.11", "linux/arm64", f"{REGISTRY}/sample/app:1.10.6-python3.11-arm64"),
        ("3.13", "linux/amd64", f"{REGISTRY}/sample/app:1.10.6-python3.13-amd64"),
        ("3.13", "linux/arm64", f"{REGISTRY}/sample/app:1.10.6-python3.13-arm64"),
    ]
    assert {i.base_image for i in plan.images
            if i.image.flavour == "3.11"} == {f"{REGISTRY}/sandbox/python:3.11"}
    assert [(i.image.flavour, i.tag, i.images) for i in plan.indexes] == [
        ("3.11", "1.10.6-python3.11",
         (("linux/amd64", "1.10.6-python3.11-amd64"), ("linux/arm64", "1.10.6-python3.11-arm64"))),
        ("3.13", "1.10.6-python3.13",
         (("linux/amd64", "1.10.6-python3.13-amd64"), ("linux/arm64", "1.10.6-python3.13-arm64"))),
    ]
    names = [s.name for s in plan.steps]
    assert names.index(StepName.IMAGES) + 1 == names.index(StepName.INDEX) == names.index(StepName.PUSH) - 1
    assert plan.multi_platform and plan.full
    # the tags are the same as a single-platform release's: each gets its flavour's index
    one = plan_release(dataclasses.replace(TWO, platforms=()), V("1.10.6"), state(), registry=REGISTRY)
    assert actions(plan.tags) == actions(one.tags)
    assert {t.source for t in plan.tags if t.image.flavour == "3.13"} == {"1.10.6-python3.13"}


def test_a_publish_join_of_several_platforms_puts_the_indexes_before_the_version_tags() -> None:
    names = [s.name.value for s in plan_release(TWO, V("1.10.6"), state(), registry=REGISTRY,
                                                mode=Mode.PUBLISH).steps]
    assert names == ["index", "push", "constraints", "sbom", "attest", "upload", "aliases", "report",
                     "provenance"]
    rc = [s.name.value for s in release_steps(V("1.10.6rc1"), multi_platform=True)]
    assert rc == ["build", "sign", "stage", "images", "index", "push", "constraints", "sbom", "attest",
                  "upload", "aliases", "report", "provenance"]


def test_one_platform_of_two_pushes_its_images_and_sets_no_tag_at_all() -> None:
    released = {"1.10-python3.11": "sha256:" + "1" * 64, "latest": "sha256:" + "2" * 64}
    plan = plan_release(TWO, V("1.10.7"), state(("1.10.6",), released), registry=REGISTRY,
                        platforms=["linux/amd64"])
    assert [(i.platform, i.tag) for i in plan.images] == [
        ("linux/amd64", "1.10.7-python3.11-amd64"), ("linux/amd64", "1.10.7-python3.13-amd64")]
    assert plan.indexes == () and not plan.full and plan.multi_platform
    assert set(actions(plan.tags).values()) == {"skip"}
    assert all(t.deferred for t in plan.tags)
    assert any("only linux/amd64 of linux/amd64, linux/arm64" in w for w in plan.warnings)
    # and the aliases stay skipped when decided again right before they would move
    again = replan_aliases(plan, TWO, state(("1.10.6",), released))
    assert {t.action for t in again.aliases} == {TagAction.SKIP}


def test_every_platform_chosen_is_a_full_release() -> None:
    plan = plan_release(TWO, V("1.10.6"), state(), registry=REGISTRY,
                        platforms=["linux/arm64", "linux/amd64"])
    assert plan.full and len(plan.indexes) == 2


def test_an_unconfigured_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="linux/arm64 is not one of linux/amd64"):
        plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, platforms=["linux/arm64"])


def test_the_dry_run_json_lists_every_image_per_flavour_and_platform_and_every_index() -> None:
    data = json.loads(json.dumps(plan_release(TWO, V("1.10.6"), state(), registry=REGISTRY).to_json()))
    assert data["platforms"] == ["linux/amd64", "linux/arm64"]
    assert [(i["python"], i["platform"], i["tag"]) for i in data["images"]] == [
        ("3.11", "linux/amd64", "1.10.6-python3.11-amd64"),
        ("3.11", "linux/arm64", "1.10.6-python3.11-arm64"),
        ("3.13", "linux/amd64", "1.10.6-python3.13-amd64"),
        ("3.13", "linux/arm64", "1.10.6-python3.13-arm64"),
    ]
    assert data["indexes"][0] == {"python": "3.11", "tag": "1.10.6-python3.11", "images": [
        {"platform": "linux/amd64", "tag": "1.10.6-python3.11-amd64"},
        {"platform": "linux/arm64", "tag": "1.10.6-python3.11-arm64"}],
        "signature": "image-signatures/sample-app-1.10.6-python3.11.sig"}


def test_several_platforms_plan_an_sbom_and_signature_per_platform_image_and_a_signature_per_index() -> None:
    plan = plan_release(TWO, V("1.10.6"), state(), registry=REGISTRY)
    arm = next(i for i in plan.images if i.image.flavour == "3.11" and i.platform == "linux/arm64")
    assert arm.sbom == "sbom/sample-app-1.10.6-python3.11-linux-arm64.cdx.json"
    assert arm.signature == "image-signatures/sample-app-1.10.6-python3.11-linux-arm64.sig"
    assert arm.key == "3.11 linux/arm64" and arm.index_tag == "1.10.6-python3.11"
    signed = [(i.key, i.tag, i.signature) for i in plan.attested if not i.sbom]
    assert signed == [("3.11", "1.10.6-python3.11", "image-signatures/sample-app-1.10.6-python3.11.sig"),
                      ("3.13", "1.10.6-python3.13", "image-signatures/sample-app-1.10.6-python3.13.sig")]
    paths = {a.path for a in plan.artefacts}
    assert {i.sbom for i in plan.images} | {i.signature for i in plan.attested} <= paths
    single = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY)
    assert [i.key for i in single.attested] == ["3.9", "3.11", "3.13"]  # as before: one image per flavour
    assert single.images[1].sbom == "sbom/sample-app-1.10.6-python3.11.cdx.json"


def test_a_run_of_some_platforms_leaves_provenance_to_the_join() -> None:
    plan = plan_release(TWO, V("1.10.6"), state(), registry=REGISTRY, platforms=["linux/arm64"])
    names = [s.name for s in plan.steps]
    assert StepName.INDEX in names
    assert not {StepName.CONSTRAINTS, StepName.SBOM, StepName.ATTEST, StepName.PROVENANCE} & set(names)
    assert not any(a.kind in {"constraints", "sbom", "image-signature"} for a in plan.artefacts)
    assert plan.indexes == () and all(t.deferred for t in plan.tags)


# --- several distributions, and publishing what a vote passed -------------------------------------

MULTI = parse_config(Path("/src"), {
    "name": "sample-app", "image": "sample/app", "python": ["3.11"],
    "distributions": [{"name": "sample-app"}, {"name": "sample-app-sdk", "path": "sdk",
                                               "version-from": "sdk/sample_app_sdk/__init__.py"}],
})


def test_a_publish_after_promotion_checks_the_voted_files_and_builds_images_from_them() -> None:
    names = [s.name.value for s in release_steps(V("1.10.6"), Mode.PROMOTED)]
    assert names == ["voted", "images", "push", "constraints", "sbom", "attest", "upload", "aliases",
                     "report", "provenance"]


def test_a_final_promoted_on_another_machine_is_taken_from_the_release_folder_then_shipped_alike() -> None:
    taken = [s.name.value for s in release_steps(V("1.10.6"), Mode.FROM_RELEASE)]
    promoted = [s.name.value for s in release_steps(V("1.10.6"), Mode.PROMOTED)]
    assert taken == ["from-release", *promoted[1:]]
    step = release_steps(V("1.10.6"), Mode.FROM_RELEASE)[0]
    assert "KEYS" in step.does and "no rebuild" in step.does
    assert unvoted_final(CONFIG, V("1.10.6"), Mode.FROM_RELEASE) == ""
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, mode=Mode.FROM_RELEASE)
    assert plan.mode is Mode.FROM_RELEASE and not any("real run refuses" in w for w in plan.warnings)
    assert plan.to_json()["steps"][0]["name"] == "from-release"


def test_each_distribution_gets_its_version_and_the_sdk_its_own() -> None:
    rc = plan_distributions(MULTI, V("1.10.6rc1"), {"sample-app-sdk": "0.3.0"})
    assert rc == (PlannedDistribution("sample-app", "1.10.6", "1.10.6rc1"),
                  PlannedDistribution("sample-app-sdk", "0.3.0", "0.3.0rc1"))
    final = plan_distributions(MULTI, V("1.10.6"), {"sample-app-sdk": "0.3.0"})
    assert [(d.voted, d.index) for d in final] == [("1.10.6", "1.10.6"), ("0.3.0", "0.3.0")]
    one = plan_distributions(CONFIG, V("1.10.6rc1"))
    assert one == (PlannedDistribution("sample-app", "1.10.6", "1.10.6rc1"),)


def test_a_distribution_whose_version_is_unknown_is_refused() -> None:
    with pytest.raises(ConfigError, match="the version of sample-app-sdk is unknown: declare it in sdk/"):
        plan_distributions(MULTI, V("1.10.6"), {})


def test_the_artefacts_of_two_distributions() -> None:
    distributions = plan_distributions(MULTI, V("1.10.6rc1"), {"sample-app-sdk": "0.3.0"})
    found = {a.path: a for a in artefacts("sample-app", V("1.10.6rc1"), distributions)}
    assert set(found) == {
        "svn/sample-app-1.10.6-source.tar.gz",
        "svn/sample_app-1.10.6.tar.gz", "svn/sample_app-1.10.6-py3-none-any.whl",
        "svn/sample_app_sdk-0.3.0.tar.gz", "svn/sample_app_sdk-0.3.0-py3-none-any.whl",
        "pypi/sample_app-1.10.6rc1.tar.gz", "pypi/sample_app-1.10.6rc1-py3-none-any.whl",
        "pypi/sample_app_sdk-0.3.0rc1.tar.gz", "pypi/sample_app_sdk-0.3.0rc1-py3-none-any.whl",
        "release.json",
    }
    assert found["pypi/sample_app_sdk-0.3.0rc1-py3-none-any.whl"].signed


def test_a_plan_of_two_distributions_uploads_both_and_says_their_versions() -> None:
    plan = plan_release(MULTI, V("1.10.6"), state(index=("sample_app_sdk-0.3.0.tar.gz",)), registry=REGISTRY,
                        versions={"sample-app-sdk": "0.3.0"})
    assert [(u.filename, u.action.value) for u in plan.uploads] == [
        ("sample_app-1.10.6.tar.gz", "upload"), ("sample_app-1.10.6-py3-none-any.whl", "upload"),
        ("sample_app_sdk-0.3.0.tar.gz", "skip"), ("sample_app_sdk-0.3.0-py3-none-any.whl", "upload")]
    assert plan.to_json()["distributions"] == [{"name": "sample-app", "voted": "1.10.6", "index": "1.10.6"},
                                               {"name": "sample-app-sdk", "voted": "0.3.0", "index": "0.3.0"}]


@pytest.mark.parametrize(("filename", "name"), [
    ("sample_app_sdk-0.3.0rc1-py3-none-any.whl", "sample-app-sdk"),
    ("sample_app-1.10.6.tar.gz", "sample-app"),
    ("sample-app-1.10.6-source.tar.gz", ""),
    ("release.json", ""),
    ("broken.whl", ""),
])
def test_distribution_of_a_file_name(filename: str, name: str) -> None:
    assert distribution_of(filename) == name


def test_a_flavour_left_out_of_a_run_defers_its_tags_like_a_left_out_platform() -> None:
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, flavours=["3.11"])
    skipped = [t for t in plan.tags if t.image.flavour != "3.11"]
    assert skipped and all(t.deferred for t in skipped)
    assert not any(t.deferred for t in plan.tags if t.image.flavour == "3.11" and not t.moving)


# --- a final of a project that votes ------------------------------------------------------------------

NO_VOTE = dataclasses.replace(CONFIG, vote="none")


@pytest.mark.parametrize("mode", [Mode.RELEASE, Mode.PUBLISH])
def test_a_final_of_a_voting_project_is_refused_unless_promoted(mode: Mode) -> None:
    """`vote = "asf"` (the default): a final built here (a one-command release, or a join of image
    jobs that built it) is not what the PMC voted on; the one line names the promote path."""
    why = unvoted_final(CONFIG, V("1.10.6"), mode)
    assert why == ('1.10.6 is a final and this project\'s releases are voted on (vote = "asf"): release a '
                   "candidate (invoke release --version 1.10.6rc1), then after its vote invoke promote "
                   "--version 1.10.6 --from-rc RC and invoke publish --version 1.10.6")
    plan = plan_release(CONFIG, V("1.10.6"), state(), registry=REGISTRY, mode=mode)
    assert plan.warnings[0] == f"a real run refuses: {why}"  # the dry run says so first


@pytest.mark.parametrize("version", ["1.10.6rc1", "1.10.6b2", "2.0.0a1", "1.10.6.dev3"])
def test_a_voting_projects_candidates_and_previews_are_released_in_one_command(version: str) -> None:
    assert unvoted_final(CONFIG, V(version), Mode.RELEASE) == ""
    assert not any("real run refuses" in w for w in
                   plan_release(CONFIG, V(version), state(), registry=REGISTRY).warnings)


def test_a_promoted_final_ships_and_a_project_without_a_vote_releases_finals_in_one_command() -> None:
    assert unvoted_final(CONFIG, V("1.10.6"), Mode.PROMOTED) == ""
    for mode in Mode:
        assert unvoted_final(NO_VOTE, V("1.10.6"), mode) == ""
    assert plan_release(NO_VOTE, V("1.10.6"), state(), registry=REGISTRY).warnings == ()


def test_a_post_release_of_a_voting_project_is_a_final_too() -> None:
    why = unvoted_final(CONFIG, V("1.10.6.post1"), Mode.RELEASE)
    assert why.startswith("1.10.6.post1 is a final") and "release a candidate (a candidate)" not in why
    assert "1.10.6.post1rc1" not in why
