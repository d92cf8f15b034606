# SPDX-License-Identifier: Apache-2.0
"""The image plan is pure: tags, build args, labels and the input hash."""

from __future__ import annotations

import dataclasses
import io
import tarfile

import pytest

from release import image as recipe
from release.config import DEFAULT_BUILD_ARGS, RESERVED_BUILD_ARGS
from release.errors import RefusedError
from release.identity import ImageId
from release.plan.images import (
    INPUT_HASH_LABEL,
    LABEL_ARGS,
    OCI,
    VOLATILE_LABELS,
    WHEEL_SHA256_LABEL,
    ImageSource,
    WheelFile,
    build_args,
    check_index_url,
    context_tar,
    label_mismatches,
    labels_for,
    metadata_labels,
    network_mode_for,
    parse_metadata,
    parse_wheels_record,
)
from release.plan.release import PlannedImage
from release.plan.tags import MASTER, image_tag
from release.steps.refresh import refresh_targets
from tests.unit.planning import planned_image

SHA_A = "a" * 64
SHA_B = "b" * 64


def source(**changes: object) -> ImageSource:
    base = ImageSource(
        name="sample-app",
        version="1.10.6",
        title="Sample App",
        wheels=(WheelFile("sample_app-1.10.6-py3-none-any.whl", SHA_A),),
        dockerfile_sha256="d" * 64,
        revision="0" * 40,
        created="2026-11-26T12:00:00Z",
        source_url="https://example.invalid/sample-app",
        licenses="Apache-2.0",
        vendor="Sample Developers",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def plan(src: ImageSource | None = None, **kwargs: str) -> PlannedImage:
    options = {"flavour": "3.11", "base_image": "base:3.11", "base_digest": "sha256:" + "1" * 64}
    options.update(kwargs)
    return planned_image(src or source(), **options)


def input_hash_of(src: ImageSource | None = None, **kwargs: str) -> str:
    return plan(src, **kwargs).input_hash


def test_tags_are_immutable_version_tags_or_master() -> None:
    assert image_tag("1.10.6rc1", ImageId("3.11")) == "1.10.6rc1-python3.11"
    assert image_tag(MASTER, ImageId("3.9")) == "master-python3.9"
    made = planned_image(source(), flavour="3.9", registry="r:1", image="x", base_image="b",
                         base_digest="sha256:0")
    assert made.ref == "r:1/x:1.10.6-python3.9"


def test_input_hash_is_stable_for_the_same_inputs() -> None:
    assert input_hash_of() == input_hash_of()
    assert input_hash_of().startswith("sha256:")


@pytest.mark.parametrize(
    "changes",
    [
        {"dockerfile_sha256": "e" * 64},
        {"wheels": (WheelFile("sample_app-1.10.6-py3-none-any.whl", SHA_B),)},
        {"wheels": (WheelFile("other-1.10.6-py3-none-any.whl", SHA_A),)},
        {"constraints_sha256": "c" * 64},
        {"extras": ("postgres",)},
        {"uid": 1000},
        {"version": "1.10.7"},
        {"revision": "1" * 40},
        {"install": "index"},
        {"pip_index_url": "https://pypi.example.invalid/simple"},
        {"extra_args": {"BUILD_APT_DEPS": "gcc"}},
        {"licenses": "MIT"},
        {"title": "Other"},
    ],
)
def test_input_hash_changes_with_each_input(changes: dict[str, object]) -> None:
    assert input_hash_of(source(**changes)) != input_hash_of()


def test_input_hash_changes_with_base_image_and_its_digest() -> None:
    assert input_hash_of(base_digest="sha256:" + "2" * 64) != input_hash_of()
    assert input_hash_of(base_image="other:3.11") != input_hash_of()
    assert input_hash_of(flavour="3.13", base_image="base:3.13") != input_hash_of(base_image="base:3.13")


def test_build_time_is_not_an_input() -> None:
    assert input_hash_of(source(created="2030-01-01T00:00:00Z")) == input_hash_of()


def test_build_args_for_a_wheel_install() -> None:
    args = build_args(source(), base_image="base:3.11", base_digest="sha256:1")
    assert args["INSTALL_FROM"] == "wheel"
    assert "PACKAGE" not in args
    assert "CONSTRAINTS" not in args
    assert args["PYTHON_BASE_IMAGE"] == "base:3.11"
    assert args["APP_UID"] == "50000"
    assert args["WHEEL_SHA256"] == SHA_A


def test_build_args_for_an_index_install_with_constraints() -> None:
    args = build_args(source(install="index", constraints_sha256="c" * 64, extras=("a", "b"),
                             pip_index_url="https://pypi.example.invalid/simple/"),
                      base_image="b", base_digest="d")
    assert args["INSTALL_FROM"] == "index"
    assert args["PACKAGE"] == "sample-app==1.10.6"
    assert args["CONSTRAINTS"] == "docker-context-files/constraints.txt"
    assert args["EXTRAS"] == "a,b"
    assert args["PIP_INDEX_URL"] == "https://pypi.example.invalid/simple/"


def test_extra_args_cannot_override_planned_ones() -> None:
    with pytest.raises(ValueError, match="INPUT_HASH"):
        build_args(source(extra_args={"INPUT_HASH": "x"}), base_image="b", base_digest="d")
    with pytest.raises(ValueError, match="APP_UID"):
        build_args(source(extra_args={"APP_UID": "0"}), base_image="b", base_digest="d")


def test_the_configs_reserved_build_args_are_exactly_those_the_plan_sets() -> None:
    """config.py refuses these in [tool.release] build-args; they must not drift from the plan."""
    every_branch = source(install="index", constraints_sha256=SHA_B, pip_index_url="https://pypi.example/simple/",
                          entrypoint_sha256=SHA_B, default_command=("app", "serve"), expose=("8001",),
                          writable_venv=True)
    planned = set(plan(every_branch).build_args)
    assert planned == RESERVED_BUILD_ARGS | set(DEFAULT_BUILD_ARGS)
    assert not RESERVED_BUILD_ARGS & set(DEFAULT_BUILD_ARGS)
    assert set(LABEL_ARGS) <= RESERVED_BUILD_ARGS
    for name in RESERVED_BUILD_ARGS:
        with pytest.raises(ValueError, match=name):
            plan(dataclasses.replace(every_branch, extra_args={name: "x"}))


def test_index_urls_with_credentials_are_refused() -> None:
    assert check_index_url("https://pypi.org/simple") == "https://pypi.org/simple"
    with pytest.raises(RefusedError, match="credentials"):
        check_index_url("https://user:secret@pypi.example.invalid/simple")
    with pytest.raises(RefusedError):
        build_args(source(pip_index_url="https://token@pypi.example.invalid/simple"), base_image="b",
                   base_digest="d")


def test_labels_are_the_oci_set_plus_wheel_and_input_hash() -> None:
    made = plan()
    labels = made.labels
    for key in ("title", "version", "revision", "created", "source", "licenses", "vendor", "base.name",
                "base.digest"):
        assert f"{OCI}.{key}" in labels
    assert labels[f"{OCI}.version"] == "1.10.6"
    assert labels[f"{OCI}.base.name"] == "base:3.11"
    assert labels[f"{OCI}.base.digest"] == "sha256:" + "1" * 64
    assert labels[WHEEL_SHA256_LABEL] == SHA_A
    assert labels[INPUT_HASH_LABEL] == made.input_hash
    assert {f"{OCI}.created"} == VOLATILE_LABELS


def test_several_wheels_are_recorded_in_file_name_order() -> None:
    wheels = (WheelFile("z-1-py3-none-any.whl", SHA_B), WheelFile("a-1-py3-none-any.whl", SHA_A))
    args = build_args(source(wheels=wheels), base_image="b", base_digest="d")
    assert args["WHEEL_SHA256"] == f"{SHA_A},{SHA_B}"


def test_label_mismatches() -> None:
    expected = labels_for({"IMAGE_VERSION": "1", "IMAGE_CREATED": "2026-01-01T00:00:00Z"})
    actual = dict(expected, **{f"{OCI}.created": "2027-01-01T00:00:00Z"})
    assert label_mismatches(expected, actual) == []
    actual[f"{OCI}.version"] = "2"
    del actual[f"{OCI}.title"]
    actual[f"{OCI}.created"] = ""
    problems = label_mismatches(expected, actual)
    assert any("version" in p and "'2'" in p for p in problems)
    assert any(p == f"{OCI}.title missing" for p in problems)
    assert any(p == f"{OCI}.created empty" for p in problems)


def test_parse_wheels_record() -> None:
    text = f"{SHA_A}  a-1-py3-none-any.whl\n{SHA_B} *b-1-py3-none-any.whl\nnoise\n"
    assert parse_wheels_record(text) == {"a-1-py3-none-any.whl": SHA_A, "b-1-py3-none-any.whl": SHA_B}
    assert parse_wheels_record("") == {}


def test_metadata_labels() -> None:
    raw = (
        b"Metadata-Version: 2.1\nName: sample-app\nVersion: 1.10.6\nHome-page: https://home.invalid\n"
        b"Author: Sample Developers\nLicense: Apache-2.0\nProject-URL: Source Code, https://src.invalid\n\nbody"
    )
    found = metadata_labels(parse_metadata(raw))
    assert found == {
        "source_url": "https://src.invalid", "licenses": "Apache-2.0", "vendor": "Sample Developers"
    }
    long_text = metadata_labels({"License": ["x" * 200], "Home-page": ["https://home.invalid"]})
    assert long_text == {"source_url": "https://home.invalid", "licenses": "", "vendor": ""}
    assert metadata_labels({"License-Expression": ["MIT"], "License": ["Other"]})["licenses"] == "MIT"


def test_host_network_only_for_a_local_index() -> None:
    assert network_mode_for(source()) is None
    assert network_mode_for(source(pip_index_url="http://127.0.0.1:8080/simple/")) == "host"
    local_extra = {"PIP_EXTRA_INDEX_URL": "http://localhost:1/simple/"}
    assert network_mode_for(source(extra_args=local_extra)) == "host"
    assert network_mode_for(source(pip_index_url="https://pypi.org/simple/")) is None


def test_context_tar_is_deterministic() -> None:
    files = {"Dockerfile": b"FROM x\n", "docker-context-files/a.whl": b"wheel"}
    first = context_tar(files)
    assert first == context_tar(dict(reversed(list(files.items()))))
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        assert tar.getnames() == ["Dockerfile", "docker-context-files/a.whl"]
        assert all(member.mtime == 0 for member in tar.getmembers())


def test_refresh_targets_are_master_and_each_lines_newest_final_release() -> None:
    tags = [
        "master-python3.11", "master", "1.9.0-python3.11", "1.9.1-python3.11", "1.9.1-python3.9",
        "1.9.1", "1.9", "latest", "1.10.5-python3.11", "1.10.6rc1-python3.11", "1.10.6-python3.11",
        "1.11.0rc1-python3.11",
    ]
    assert refresh_targets(tags) == [
        "master-python3.11", "1.9.1-python3.11", "1.9.1-python3.9", "1.10.6-python3.11",
    ]


def test_refresh_targets_take_every_variant_of_the_newest_releases() -> None:
    tags = ["master-python3.11", "slim-master-python3.11", "slim-master", "3.3.1-python3.11",
            "slim-3.3.1-python3.11", "3.3.2-python3.11", "slim-3.3.2-python3.11", "slim-3.3.2", "slim-latest",
            "slim-3.3.3rc1-python3.11"]
    assert refresh_targets(tags) == ["master-python3.11", "slim-master-python3.11", "3.3.2-python3.11",
                                     "slim-3.3.2-python3.11"]


def test_a_variants_image_is_tagged_with_its_name() -> None:
    assert image_tag("3.3.2", ImageId("3.11", "slim")) == "slim-3.3.2-python3.11"
    assert image_tag(MASTER, ImageId("3.11", "slim")) == "slim-master-python3.11"
    made = plan(source(variant="slim", extras=()))
    assert (made.image.variant, made.tag) == ("slim", "slim-1.10.6-python3.11")
    assert made.build_args["EXTRAS"] == ""


def test_an_entrypoint_script_is_a_build_arg_and_an_input() -> None:
    without = plan(source())
    assert "ENTRYPOINT_SCRIPT" not in without.build_args
    withit = plan(source(entrypoint_sha256=SHA_A))
    assert withit.build_args["ENTRYPOINT_SCRIPT"] == "docker-context-files/entrypoint"
    assert withit.input_hash != without.input_hash
    assert plan(source(entrypoint_sha256=SHA_B)).input_hash != withit.input_hash


def test_context_tar_modes() -> None:
    data = context_tar({"run.sh": b"#!/bin/sh\n", "Dockerfile": b"FROM x\n"}, modes={"run.sh": 0o755})
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert {m.name: m.mode for m in tar.getmembers()} == {"Dockerfile": 0o644, "run.sh": 0o755}


def test_the_installer_is_uv_unless_build_args_say_pip() -> None:
    assert plan().build_args["INSTALLER"] == "uv"
    with_pip = plan(source(extra_args={"INSTALLER": "pip"}))
    assert with_pip.build_args["INSTALLER"] == "pip"
    assert with_pip.input_hash != plan().input_hash
    assert with_pip.deps_hash != plan().deps_hash


REQUIRES = (("sample-app", ("packaging>=20",)),)


def deps_hash_of(src: ImageSource | None = None, **kwargs: str) -> str:
    return plan(src or source(requires=REQUIRES), **kwargs).deps_hash


def test_deps_hash_ignores_the_wheels_bytes_version_and_labels() -> None:
    other_release = source(requires=REQUIRES, version="1.10.7", revision="1" * 40, title="Other",
                           wheels=(WheelFile("sample_app-1.10.7-py3-none-any.whl", SHA_B),))
    assert deps_hash_of(other_release) == deps_hash_of()
    assert deps_hash_of(source(requires=REQUIRES, created="2030-01-01T00:00:00Z")) == deps_hash_of()


@pytest.mark.parametrize(
    "changes",
    [
        {"requires": (("sample-app", ("packaging>=21",)),)},
        {"requires": (*REQUIRES, ("sample-plugin", ()))},
        {"constraints_sha256": SHA_B},
        {"dockerfile_sha256": "e" * 64},
        {"extras": ("web",)},
        {"extra_args": {"BUILD_APT_DEPS": "gcc"}},
        {"extra_args": {"PIP_EXTRA_INDEX_URL": "https://other.invalid/simple/"}},
        {"extra_args": {"RUNTIME_APT_DEPS": "git"}},  # the runtime stage is the build stages' base
        {"uid": 1000},
    ],
)
def test_deps_hash_changes_with_what_the_deps_stage_reads(changes: dict[str, object]) -> None:
    assert deps_hash_of(source(**{"requires": REQUIRES, **changes})) != deps_hash_of()


def test_deps_hash_changes_with_flavour_and_base_digest() -> None:
    assert deps_hash_of(base_digest="sha256:" + "2" * 64) != deps_hash_of()
    assert deps_hash_of(flavour="3.13") != deps_hash_of()


def test_the_builder_names_the_cache_image_but_not_the_image() -> None:
    """BuildKit's cache image carries its inline cache, which the classic builder cannot use (nor
    BuildKit the classic builder's layers): each builder keeps its own; the image is the same."""
    classic, buildkit = plan(source(requires=REQUIRES)), plan(source(requires=REQUIRES), builder="buildkit")
    assert buildkit.deps_hash != classic.deps_hash and buildkit.cache_ref != classic.cache_ref
    assert buildkit.input_hash == classic.input_hash and buildkit.labels == classic.labels
    assert buildkit.build_args == classic.build_args


def test_deps_hash_without_declared_requirements_is_per_wheel() -> None:
    other = source(wheels=(WheelFile("sample_app-1.10.7-py3-none-any.whl", SHA_B),))
    assert plan(other).deps_hash != plan(source()).deps_hash


def test_cache_ref_is_out_of_the_image_repository() -> None:
    made = plan(source(requires=REQUIRES))
    hexdigits = made.deps_hash.removeprefix("sha256:")[:24]
    assert made.cache_ref == f"127.0.0.1:5000/sample/app-cache:deps-python3.11-{hexdigits}"


def test_each_platform_of_several_has_its_own_dependency_cache_and_sbom_one_platform_as_before() -> None:
    both = ("linux/amd64", "linux/arm64")
    single = planned_image(source(), registry="r:1", image="x", base_image="base:3.11")
    amd = planned_image(source(), registry="r:1", image="x", base_image="base:3.11@sha256:" + "1" * 64,
                        platform="linux/amd64", several=both)
    arm = planned_image(source(), registry="r:1", image="x", base_image="base:3.11@sha256:" + "1" * 64,
                        platform="linux/arm64", several=both)
    assert single.deps_hash == plan().deps_hash  # one platform: the hash main gives
    assert len({single.cache_ref, amd.cache_ref, arm.cache_ref}) == 3
    assert single.build_args["IMAGE_SBOM"] == "sample-app-1.10.6-python3.11.cdx.json"
    assert arm.build_args["IMAGE_SBOM"] == "sample-app-1.10.6-python3.11-linux-arm64.cdx.json"
    assert (arm.tag, arm.index_tag) == ("1.10.6-python3.11-arm64", "1.10.6-python3.11")


def test_the_image_conventions_are_build_args_only_when_set() -> None:
    plain = build_args(source(), base_image="b", base_digest="d")
    assert not {"DEFAULT_COMMAND", "EXPOSE_PORTS", "VENV_OWNER"} & set(plain)
    assert input_hash_of() == input_hash_of(source(default_command=(), expose=(), writable_venv=False))
    args = build_args(source(default_command=("app", "serve", "--title", "it's mine"),
                             expose=("8001", "53/udp"), writable_venv=True, uid=50001),
                      base_image="b", base_digest="d")
    assert args["DEFAULT_COMMAND"] == "app serve --title 'it'\"'\"'s mine'"
    assert args["EXPOSE_PORTS"] == "8001 53/udp"
    assert args["VENV_OWNER"] == "50001:0"
    assert input_hash_of(source(expose=("8001",))) != input_hash_of()


def test_the_shipped_dockerfile_takes_the_conventions() -> None:
    text = recipe.dockerfile().decode()
    assert "DEFAULT_COMMAND=\"\"" in text and "set -- ${DEFAULT_COMMAND:-bash}" in text
    assert "EXPOSE ${EXPOSE_PORTS}" in text
    assert text.count("--chown=${VENV_OWNER}") == 2 and "VENV_OWNER=0:0" in text
