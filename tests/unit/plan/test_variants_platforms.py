# SPDX-License-Identifier: Apache-2.0
"""Image variants meet the other dimensions: platforms, provenance names, record keys, the
withdrawal, the dependency cache. Pure planning, no engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from release.config import parse_config
from release.errors import ConfigError, VersionError
from release.identity import ImageId
from release.plan.images import ImageSource, WheelFile
from release.plan.release import TargetState, plan_release
from release.plan.tags import (
    alias_candidates,
    check_tag_length,
    parse_tag,
    platform_tag,
    split_platform,
    split_tag,
    versions_from_tags,
)
from release.plan.withdraw import plan_withdraw, withdraw_tags_to_observe
from release.record import ImageEntry
from release.versions import parse_version
from tests.unit.planning import planned_image

V = parse_version
REGISTRY = "127.0.0.1:5000"
TABLE = {
    "name": "apache-airflow", "image": "apache/airflow", "python": ["3.11", "3.13"], "default-python": "3.11",
    "base-image": "{registry}/sandbox/python:{python}", "extras": ["celery"],
    "variants": {"slim": {"extras": []}},
}
SLIM = parse_config(Path("/src"), TABLE)


def test_variants_with_several_platforms_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(Path("/src"), {**TABLE, "platforms": ["linux/amd64", "linux/arm64"]})
    message = str(raised.value)
    assert "\n" not in message and message.startswith("[tool.release] variants:")
    assert "linux/amd64, linux/arm64" in message and raised.value.exit_code == 2


def test_variants_with_one_named_platform_are_accepted() -> None:
    config = parse_config(Path("/src"), {**TABLE, "platforms": ["linux/arm64"]})
    assert config.variant_names == ("", "slim") and not config.multi_platform


def test_a_variants_provenance_and_record_key_are_its_own() -> None:
    plan = plan_release(SLIM, V("3.3.2"), TargetState(), registry=REGISTRY)
    slim = next(i for i in plan.images if i.image == ImageId("3.13", "slim"))
    assert slim.key == "slim-3.13" and slim.platform == SLIM.host_platform and not slim.index_tag
    assert slim.sbom == "sbom/apache-airflow-slim-3.3.2-python3.13.cdx.json"
    assert slim.signature == "image-signatures/apache-airflow-slim-3.3.2-python3.13.sig"
    assert slim.constraints == "constraints/constraints-slim-3.13.txt"
    keys = [i.key for i in plan.attested]
    assert keys == ["3.11", "3.13", "slim-3.11", "slim-3.13"] and len(set(keys)) == len(keys)
    entry = ImageEntry("3.13", slim.ref, None, "", "", "", "", "slim")
    assert entry.image == slim.image
    assert entry.key == slim.key
    several = ImageEntry("3.11", "r/a:3.3.2-python3.11-arm64", None, "", "", "", "", platform="linux/arm64")
    assert several.key == "3.11 linux/arm64"
    kinds = {a.path: a.kind for a in plan.artefacts}
    assert kinds[slim.sbom] == "sbom" and kinds[slim.signature] == "image-signature"


def test_the_build_plans_key_and_subject_name_the_variant() -> None:
    source = ImageSource(name="apache-airflow", version="3.3.2", title="Airflow",
                         wheels=(WheelFile("apache_airflow-3.3.2-py3-none-any.whl", "a" * 64),),
                         dockerfile_sha256="d" * 64, variant="slim")
    made = planned_image(source, registry="r", image="apache/airflow", base_image="b",
                         base_digest="sha256:" + "0" * 64)
    assert made.key == "slim-3.11" and made.name == "slim-python3.11"
    assert made.tag == "slim-3.3.2-python3.11"
    assert made.build_args["IMAGE_SBOM"] == "apache-airflow-slim-3.3.2-python3.11.cdx.json"
    default = planned_image(replace(source, variant="", extras=("celery",)), registry="r",
                            image="apache/airflow", base_image="b", base_digest="sha256:" + "0" * 64)
    assert default.deps_hash != made.deps_hash  # other extras: another dependency cache image
    assert made.cache_ref != default.cache_ref


def test_an_entrypoint_changes_the_image_but_not_its_dependency_cache() -> None:
    source = ImageSource(name="apache-airflow", version="3.3.2", title="Airflow",
                         wheels=(WheelFile("apache_airflow-3.3.2-py3-none-any.whl", "a" * 64),),
                         dockerfile_sha256="d" * 64)
    with_script = replace(source, entrypoint_sha256="e" * 64)
    plain, scripted = (planned_image(s, registry="r", image="a", base_image="b",
                                     base_digest="sha256:" + "0" * 64) for s in (source, with_script))
    assert plain.input_hash != scripted.input_hash
    assert plain.deps_hash == scripted.deps_hash


def test_a_variants_tags_are_read_back_with_and_without_a_platform() -> None:
    helper = platform_tag("slim-3.3.2-python3.11", "linux/arm64")
    assert helper == "slim-3.3.2-python3.11-arm64"
    assert split_platform(helper) == ("slim-3.3.2-python3.11", "linux/arm64")
    assert split_tag(helper)[1] is None  # a helper tag is no image tag of its own
    found = versions_from_tags([helper, "slim-3.3.3-python3.11", "withdrawn-3.3.1"])
    assert found == [V("3.3.2"), V("3.3.3")]
    assert parse_tag("withdrawn-3.3.1").variant == ""


def test_a_variants_alias_candidates_keep_its_prefix() -> None:
    assert alias_candidates("slim-3.3.2-python3.11", "3.11") == (
        "slim-3.3-python3.11", "slim-latest-python3.11", "slim-3.3.2", "slim-3.3", "slim-latest")
    assert alias_candidates("slim-3.3.2-python3.13", "3.11") == (
        "slim-3.3-python3.13", "slim-latest-python3.13")
    assert alias_candidates("slim-master-python3.11", "3.11") == ("slim-master",)


def test_the_tag_length_check_counts_the_longest_variant() -> None:
    version = V("1.0.0.dev" + "1" * (128 - len("1.0.0.dev-python3.11")))  # fits exactly, no variant
    check_tag_length(version, ["3.11"])
    with pytest.raises(VersionError, match=r"\(longervariantname-V-python3.11\)"):
        check_tag_length(version, ["3.11"], variants=("", "longervariantname"))


def test_withdrawing_moves_every_variants_aliases_back() -> None:
    tags = {}
    for version in ("3.3.1", "3.3.2"):
        for variant in ("", "slim-"):
            for python in ("3.11", "3.13"):
                tags[f"{variant}{version}-python{python}"] = f"sha256:{variant}{version}-{python}"
            tags[f"{variant}{version}"] = f"sha256:{variant}{version}-3.11"
    for variant in ("", "slim-"):
        for python in ("3.11", "3.13"):
            tags[f"{variant}latest-python{python}"] = f"sha256:{variant}3.3.2-{python}"
            tags[f"{variant}3.3-python{python}"] = f"sha256:{variant}3.3.2-{python}"
        tags[f"{variant}latest"] = tags[f"{variant}3.3"] = f"sha256:{variant}3.3.2-3.11"
    state = TargetState(released=(V("3.3.1"), V("3.3.2")), tags=tags)
    assert {"slim-latest", "slim-3.3-python3.13", "slim-3.3.1-python3.13"} <= set(
        withdraw_tags_to_observe(SLIM, V("3.3.2"), state))
    plan = plan_withdraw(SLIM, V("3.3.2"), state)
    moved = {c.tag: c.source for c in plan.moves}
    assert moved["slim-latest"] == "slim-3.3.1-python3.11"
    assert moved["slim-3.3-python3.13"] == "slim-3.3.1-python3.13"
    assert moved["latest"] == "3.3.1-python3.11"
    assert {c.image.variant for c in plan.moves} == {"", "slim"}
    assert len(moved) == 12  # latest and 3.3, bare and per flavour, in both variants
