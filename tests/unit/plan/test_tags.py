# SPDX-License-Identifier: Apache-2.0
"""The tag planner: every tag of a build and the flavour it points at, table-driven and by property."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.config import RESERVED_VARIANT_NAMES, VARIANT_NAME
from release.errors import VersionError
from release.identity import ImageId
from release.plan.tags import (
    BuildKind,
    Tag,
    TagPlan,
    alias_candidates,
    cache_repository,
    cache_tag,
    owns_latest,
    owns_line,
    parse_tag,
    plan_tags,
    split_tag,
    tag_name,
    version_tag,
    versions_from_tags,
    withdrawn_from_tags,
    withdrawn_tag,
)
from release.versions import ReleaseVersion, parse_version

FLAVOURS = ("3.9", "3.11", "3.13")
DEFAULT = "3.11"


def v(text: str) -> ReleaseVersion:
    return parse_version(text)


def release(
    version: str,
    existing: tuple[str, ...] = (),
    *,
    flavours: tuple[str, ...] = FLAVOURS,
    default: str = DEFAULT,
) -> TagPlan:
    return plan_tags(
        version=v(version),
        flavours=flavours,
        default=default,
        kind=BuildKind.RELEASE,
        existing=[v(e) for e in existing],
    )


def expected(*prefixes: str, flavours: tuple[str, ...] = FLAVOURS, default: str = DEFAULT) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for prefix in prefixes:
        for p in flavours:
            mapping[f"{prefix}-python{p}"] = p
        mapping[prefix] = default
    return mapping


# --------------------------------------------------------------------------- table

# (version, existing, prefixes that get tags, owns the line, owns latest)
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...], bool, bool]] = [
    # first release ever
    ("1.10.6", (), ("1.10.6", "1.10", "latest"), True, True),
    # a normal next release
    ("1.10.7", ("1.10.6", "1.9.12"), ("1.10.7", "1.10", "latest"), True, True),
    # two-digit minors order numerically, not textually
    ("1.10.0", ("1.9.9", "1.9.12"), ("1.10.0", "1.10", "latest"), True, True),
    ("1.9.13", ("1.10.0", "1.9.12"), ("1.9.13", "1.9"), True, False),
    ("2.10.0", ("2.9.5",), ("2.10.0", "2.10", "latest"), True, True),
    ("2.9.6", ("2.10.0", "2.9.5"), ("2.9.6", "2.9"), True, False),
    ("1.10.10", ("1.10.9", "1.10.2"), ("1.10.10", "1.10", "latest"), True, True),
    ("1.10.9", ("1.10.10",), ("1.10.9",), False, False),
    # a patch on an older line moves X.Y, never latest
    ("1.10.15", ("2.0.0", "1.10.14"), ("1.10.15", "1.10"), True, False),
    ("1.10.15", ("2.0.0",), ("1.10.15", "1.10"), True, False),
    # an older patch on an older line moves nothing
    ("1.10.13", ("2.0.0", "1.10.14"), ("1.10.13",), False, False),
    # the first release of a new line whose successor line exists
    ("1.11.0", ("2.0.0", "1.10.14"), ("1.11.0", "1.11"), True, False),
    # re-running the same version: it still owns its tags
    ("1.10.6", ("1.10.6",), ("1.10.6", "1.10", "latest"), True, True),
    ("1.10.6", ("1.10.6", "1.10.5", "1.9.0"), ("1.10.6", "1.10", "latest"), True, True),
    ("1.10.15", ("2.0.0", "1.10.15"), ("1.10.15", "1.10"), True, False),
    # higher existing pre-releases do not hold back latest or the line
    ("1.10.7", ("2.0.0rc1", "1.10.6"), ("1.10.7", "1.10", "latest"), True, True),
    ("1.10.7", ("1.10.8rc1", "1.10.6"), ("1.10.7", "1.10", "latest"), True, True),
    ("1.10.7", ("2.0.0.dev0", "2.0.0a1", "2.0.0b1"), ("1.10.7", "1.10", "latest"), True, True),
    ("2.0.0", ("2.0.0rc1", "2.0.0rc2", "1.10.14"), ("2.0.0", "2.0", "latest"), True, True),
    # post releases
    ("1.10.6.post1", ("1.10.6",), ("1.10.6.post1", "1.10", "latest"), True, True),
    ("1.10.6.post2", ("1.10.6", "1.10.6.post1"), ("1.10.6.post2", "1.10", "latest"), True, True),
    ("1.10.6", ("1.10.6.post1",), ("1.10.6",), False, False),
    ("1.10.6.post1", ("1.10.7",), ("1.10.6.post1",), False, False),
    ("1.10.6.post1", ("2.0.0", "1.10.6"), ("1.10.6.post1", "1.10"), True, False),
    # pre-releases: only their own tags, whatever exists
    ("2.0.0rc1", (), ("2.0.0rc1",), False, False),
    ("2.0.0rc2", ("2.0.0rc1", "1.10.14"), ("2.0.0rc2",), False, False),
    ("2.0.0a1", (), ("2.0.0a1",), False, False),
    ("2.0.0b1", ("1.10.14",), ("2.0.0b1",), False, False),
    ("1.10.7rc1", ("1.10.6",), ("1.10.7rc1",), False, False),
    # dev releases are pre-releases
    ("2.0.0.dev0", (), ("2.0.0.dev0",), False, False),
    ("1.10.7.dev1", ("1.10.6",), ("1.10.7.dev1",), False, False),
    # lower major lines
    ("0.9.0", ("1.0.0",), ("0.9.0", "0.9"), True, False),
    ("3.0.0", ("2.10.5", "2.9.9", "1.10.15"), ("3.0.0", "3.0", "latest"), True, True),
]


@pytest.mark.parametrize(("version", "existing", "prefixes", "line", "latest"), CASES)
def test_release_tags(
    version: str, existing: tuple[str, ...], prefixes: tuple[str, ...], line: bool, latest: bool
) -> None:
    plan = release(version, existing)
    assert plan.as_mapping() == expected(*prefixes)
    assert plan.owns_line is line
    assert plan.owns_latest is latest
    assert plan.kind is BuildKind.RELEASE
    assert plan.version == v(version)
    assert len(plan.tags) == len(plan.as_mapping())


@pytest.mark.parametrize(("version", "existing", "prefixes", "line", "latest"), CASES)
def test_release_tags_with_a_single_flavour(
    version: str, existing: tuple[str, ...], prefixes: tuple[str, ...], line: bool, latest: bool
) -> None:
    plan = release(version, existing, flavours=("3.12",), default="3.12")
    assert plan.as_mapping() == expected(*prefixes, flavours=("3.12",), default="3.12")
    assert all(tag.image.flavour == "3.12" for tag in plan.tags)


def test_full_tag_list_of_a_first_release() -> None:
    plan = release("1.10.6")
    assert [(t.name, t.image.flavour, t.moving) for t in plan.tags] == [
        ("1.10.6-python3.9", "3.9", False),
        ("1.10.6-python3.11", "3.11", False),
        ("1.10.6-python3.13", "3.13", False),
        ("1.10.6", "3.11", False),
        ("1.10-python3.9", "3.9", True),
        ("1.10-python3.11", "3.11", True),
        ("1.10-python3.13", "3.13", True),
        ("1.10", "3.11", True),
        ("latest-python3.9", "3.9", True),
        ("latest-python3.11", "3.11", True),
        ("latest-python3.13", "3.13", True),
        ("latest", "3.11", True),
    ]
    assert [t.name for t in plan.immutable()] == [
        "1.10.6-python3.9",
        "1.10.6-python3.11",
        "1.10.6-python3.13",
        "1.10.6",
    ]
    assert {t.name for t in plan.aliases()} == set(expected("1.10", "latest"))


def test_the_default_flavour_need_not_be_the_first() -> None:
    plan = release("1.10.6", flavours=("3.9", "3.13"), default="3.13")
    mapping = plan.as_mapping()
    assert mapping["1.10.6"] == "3.13"
    assert mapping["1.10"] == "3.13"
    assert mapping["latest"] == "3.13"
    assert mapping["1.10.6-python3.9"] == "3.9"


def test_a_patch_on_an_old_line_moves_the_line_not_latest() -> None:
    plan = release("1.10.15", ("2.0.0", "2.0.1", "1.10.14", "1.10.13"))
    names = set(plan.as_mapping())
    assert "1.10" in names
    assert "1.10-python3.11" in names
    assert not any(name.startswith("latest") for name in names)
    assert not any(name.startswith("2.0") for name in names)


def test_existing_may_be_a_one_shot_iterator() -> None:
    plan = plan_tags(
        version=v("1.10.6"),
        flavours=FLAVOURS,
        default=DEFAULT,
        kind=BuildKind.RELEASE,
        existing=iter([v("1.10.5"), v("2.0.0")]),
    )
    assert plan.owns_line is True
    assert plan.owns_latest is False


# --------------------------------------------------------------------------- master


def test_master_tags() -> None:
    plan = plan_tags(version=None, flavours=FLAVOURS, default=DEFAULT, kind=BuildKind.MASTER)
    assert plan.as_mapping() == expected("master")
    assert all(tag.moving for tag in plan.tags)
    assert plan.immutable() == ()
    assert plan.owns_line is False
    assert plan.owns_latest is False
    assert plan.kind is BuildKind.MASTER


def test_master_ignores_a_version_and_existing_releases() -> None:
    plan = plan_tags(
        version=v("1.10.6"),
        flavours=("3.11",),
        default="3.11",
        kind=BuildKind.MASTER,
        existing=[v("1.10.5")],
    )
    assert plan.as_mapping() == {"master-python3.11": "3.11", "master": "3.11"}
    assert not any(name.startswith(("latest", "1.")) for name in plan.as_mapping())


def test_build_kind_values() -> None:
    assert BuildKind("release") is BuildKind.RELEASE
    assert BuildKind("master") is BuildKind.MASTER


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kind", list(BuildKind))
def test_empty_flavours_are_refused(kind: BuildKind) -> None:
    with pytest.raises(ValueError, match="at least one"):
        plan_tags(version=v("1.10.6"), flavours=(), default="3.11", kind=kind)


@pytest.mark.parametrize("kind", list(BuildKind))
def test_a_default_outside_the_flavours_is_refused(kind: BuildKind) -> None:
    with pytest.raises(ValueError, match=r"default flavour 3\.12 is not one of 3\.9, 3\.11"):
        plan_tags(version=v("1.10.6"), flavours=("3.9", "3.11"), default="3.12", kind=kind)


@pytest.mark.parametrize("kind", list(BuildKind))
def test_repeated_flavours_are_refused(kind: BuildKind) -> None:
    with pytest.raises(ValueError, match="unique"):
        plan_tags(version=v("1.10.6"), flavours=("3.11", "3.11"), default="3.11", kind=kind)


def test_a_release_without_a_version_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a version"):
        plan_tags(version=None, flavours=FLAVOURS, default=DEFAULT, kind=BuildKind.RELEASE)


# --------------------------------------------------------------------------- helpers


def test_owns_line_and_latest_directly() -> None:
    existing = [v("1.10.14"), v("2.0.0"), v("2.1.0rc1")]
    assert owns_line(v("1.10.15"), existing)
    assert not owns_latest(v("1.10.15"), existing)
    assert owns_line(v("2.0.1"), existing)
    assert owns_latest(v("2.0.1"), existing)
    assert not owns_line(v("2.1.0rc2"), existing)
    assert not owns_latest(v("2.1.0rc2"), [])
    assert owns_line(v("1.0.0"), [])
    assert owns_latest(v("1.0.0"), [])


def test_tag_is_bare() -> None:
    assert Tag("1.10.6", ImageId("3.11"), False).is_bare
    assert Tag("latest", ImageId("3.11"), True).is_bare
    assert not Tag("1.10.6-python3.11", ImageId("3.11"), False).is_bare
    assert not Tag("latest-python3.9", ImageId("3.9"), True).is_bare


# --------------------------------------------------------------------------- properties

_ALL_FLAVOURS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]
_SUFFIXES = ["", "", "", "rc1", "rc2", "a1", "b1", ".post1", ".dev0"]

versions = st.builds(
    lambda x, y, z, s: parse_version(f"{x}.{y}.{z}{s}"),
    st.integers(0, 3),
    st.integers(0, 12),
    st.integers(0, 12),
    st.sampled_from(_SUFFIXES),
)


@st.composite
def flavour_sets(draw: st.DrawFn) -> tuple[tuple[str, ...], str]:
    flavours = tuple(draw(st.lists(st.sampled_from(_ALL_FLAVOURS), min_size=1, max_size=5, unique=True)))
    return flavours, draw(st.sampled_from(flavours))


def _flavour_of(name: str) -> str | None:
    prefix, sep, python = name.rpartition("-python")
    return python if sep and prefix else None


def _check_invariants(plan: TagPlan, flavours: tuple[str, ...], default: str) -> None:
    names = [tag.name for tag in plan.tags]
    assert len(names) == len(set(names)), "a tag appears twice"
    for tag in plan.tags:
        assert tag.image.flavour in flavours
        flavour = _flavour_of(tag.name)
        if flavour is None:
            assert tag.is_bare
            assert tag.image.flavour == default, f"bare tag {tag.name} does not point at the default flavour"
        else:
            assert not tag.is_bare
            assert tag.image.flavour == flavour, f"{tag.name} points at {tag.image.flavour}"
        prefix = tag.name if flavour is None else tag.name.rpartition("-python")[0]
        is_alias = prefix in {"latest", "master"} or prefix.count(".") == 1
        assert tag.moving is is_alias, f"{tag.name}: moving={tag.moving}"


@given(versions, st.lists(versions, max_size=8), flavour_sets())
def test_release_plan_invariants(
    version: ReleaseVersion, existing: list[ReleaseVersion], fl: tuple[tuple[str, ...], str]
) -> None:
    flavours, default = fl
    plan = plan_tags(
        version=version, flavours=flavours, default=default, kind=BuildKind.RELEASE, existing=existing
    )
    _check_invariants(plan, flavours, default)
    mapping = plan.as_mapping()
    for p in flavours:
        assert mapping[f"{version}-python{p}"] == p
    assert mapping[str(version)] == default
    if version.is_prerelease:
        assert set(mapping) == {str(version), *(f"{version}-python{p}" for p in flavours)}
        assert not plan.owns_latest
        assert not plan.owns_line
    if plan.owns_latest:
        assert not version.is_prerelease
        assert plan.owns_line, "the highest release overall is the highest of its line"
        assert all(version >= e for e in existing if not e.is_prerelease)
    else:
        assert not any(name.startswith("latest") for name in mapping)
    if plan.owns_line:
        assert all(version >= e for e in existing if e.line == version.line and not e.is_prerelease)
        assert mapping[version.line] == default
    else:
        assert version.line not in mapping
    # the planner is monotone: adding the version itself to what exists changes nothing
    again = plan_tags(
        version=version,
        flavours=flavours,
        default=default,
        kind=BuildKind.RELEASE,
        existing=[*existing, version],
    )
    assert again.tags == plan.tags


@given(versions, st.lists(versions, max_size=8), flavour_sets(), st.randoms(use_true_random=False))
def test_release_plan_does_not_depend_on_the_order_of_existing(
    version: ReleaseVersion,
    existing: list[ReleaseVersion],
    fl: tuple[tuple[str, ...], str],
    rnd: random.Random,
) -> None:
    flavours, default = fl
    shuffled = list(existing)
    rnd.shuffle(shuffled)
    a = plan_tags(
        version=version, flavours=flavours, default=default, kind=BuildKind.RELEASE, existing=existing
    )
    b = plan_tags(
        version=version, flavours=flavours, default=default, kind=BuildKind.RELEASE, existing=shuffled
    )
    c = plan_tags(
        version=version,
        flavours=flavours,
        default=default,
        kind=BuildKind.RELEASE,
        existing=list(reversed(existing)),
    )
    assert a == b == c


@given(st.one_of(st.none(), versions), flavour_sets())
def test_master_plan_invariants(version: ReleaseVersion | None, fl: tuple[tuple[str, ...], str]) -> None:
    flavours, default = fl
    plan = plan_tags(version=version, flavours=flavours, default=default, kind=BuildKind.MASTER)
    _check_invariants(plan, flavours, default)
    assert plan.as_mapping() == expected("master", flavours=flavours, default=default)
    assert all(tag.moving for tag in plan.tags)


@given(versions, st.lists(versions, min_size=1, max_size=8), flavour_sets())
def test_at_most_one_version_owns_latest(
    version: ReleaseVersion, existing: list[ReleaseVersion], fl: tuple[tuple[str, ...], str]
) -> None:
    """Among everything released so far, only the highest final release may hold `latest`."""
    flavours, default = fl
    everything = sorted({*existing, version})
    owners = [
        candidate
        for candidate in everything
        if plan_tags(
            version=candidate, flavours=flavours, default=default, kind=BuildKind.RELEASE, existing=everything
        ).owns_latest
    ]
    finals = [c for c in everything if not c.is_prerelease]
    assert owners == ([max(finals)] if finals else [])


# --------------------------------------------------------------------------- variants

VARIANTS = ("", "slim")


def test_the_variant_prefixes_every_spelling() -> None:
    assert tag_name("3.3.2", "3.11", "slim") == "slim-3.3.2-python3.11"
    assert tag_name("3.3.2", None, "slim") == "slim-3.3.2"
    assert tag_name("3.3", "3.11", "slim") == "slim-3.3-python3.11"
    assert tag_name("latest", None, "slim") == "slim-latest"
    assert tag_name("latest", "3.14", "slim") == "slim-latest-python3.14"
    assert tag_name("master", "3.11", "slim") == "slim-master-python3.11"
    assert version_tag("3.3.2", "3.11", "slim") == "slim-3.3.2-python3.11"
    assert version_tag(v("3.3.2rc1"), "3.13") == "3.3.2rc1-python3.13"
    assert tag_name("3.3.2", "3.11", "") == tag_name("3.3.2", "3.11") == "3.3.2-python3.11"


@pytest.mark.parametrize(("name", "variant", "prefix", "python"), [
    ("3.3.2-python3.11", "", "3.3.2", "3.11"),
    ("3.3.2", "", "3.3.2", None),
    ("3.3-python3.14", "", "3.3", "3.14"),
    ("latest", "", "latest", None),
    ("latest-python3.11", "", "latest", "3.11"),
    ("master", "", "master", None),
    ("master-python3.13", "", "master", "3.13"),
    ("2.0.0rc1-python3.11", "", "2.0.0rc1", "3.11"),
    ("1.10.6.post1", "", "1.10.6.post1", None),
    ("1.10.7.dev1-python3.9", "", "1.10.7.dev1", "3.9"),
    ("slim-3.3.2-python3.11", "slim", "3.3.2", "3.11"),
    ("slim-3.3.2", "slim", "3.3.2", None),
    ("slim-3.3-python3.11", "slim", "3.3", "3.11"),
    ("slim-latest", "slim", "latest", None),
    ("slim-latest-python3.11", "slim", "latest", "3.11"),
    ("slim-master-python3.11", "slim", "master", "3.11"),
    ("slim2-3.3.2rc1", "slim2", "3.3.2rc1", None),
    # not variants: no rest, an uppercase or reserved head, a head that is no word
    ("slim", "", "slim", None),
    ("latest-slim", "", "latest-slim", None),
    ("master-x", "", "master-x", None),
    ("Slim-3.3.2", "", "Slim-3.3.2", None),
    ("3-slim", "", "3-slim", None),
    ("slim-3.3.2-pythonX", "slim", "3.3.2-pythonX", None),
])
def test_parse_tag_takes_apart_what_tag_name_spells(name: str, variant: str, prefix: str, python: str | None
                                                    ) -> None:
    parts = parse_tag(name)
    assert (parts.variant, parts.prefix, parts.flavour) == (variant, prefix, python)
    assert split_tag(name) == (prefix, python)
    assert tag_name(parts.prefix, parts.flavour, parts.variant) == name


def test_versions_named_by_variant_tags_count_as_released() -> None:
    assert versions_from_tags(["slim-3.3.2", "slim-3.3.3-python3.11", "latest", "slim-latest", "3.3.1"]) == [
        v("3.3.1"), v("3.3.2"), v("3.3.3")]


def expected_variants(*prefixes: str, variants: tuple[str, ...] = VARIANTS,
                      flavours: tuple[str, ...] = FLAVOURS, default: str = DEFAULT) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for variant in variants:
        head = f"{variant}-" if variant else ""
        for name, python in expected(*prefixes, flavours=flavours, default=default).items():
            mapping[head + name] = python
    return mapping


@pytest.mark.parametrize(("version", "existing", "prefixes", "line", "latest"), CASES)
def test_every_variant_gets_the_same_tags_as_the_default_image(
    version: str, existing: tuple[str, ...], prefixes: tuple[str, ...], line: bool, latest: bool
) -> None:
    plan = plan_tags(version=v(version), flavours=FLAVOURS, default=DEFAULT, kind=BuildKind.RELEASE,
                     existing=[v(e) for e in existing], variants=VARIANTS)
    assert plan.as_mapping() == expected_variants(*prefixes)
    assert (plan.owns_line, plan.owns_latest) == (line, latest)
    for tag in plan.tags:
        assert parse_tag(tag.name).variant == tag.image.variant
        assert parse_tag(tag.name).flavour in {tag.image.flavour, None}


def test_full_tag_list_of_a_first_release_with_a_slim_variant() -> None:
    plan = plan_tags(version=v("3.3.2"), flavours=("3.11", "3.13"), default="3.11", kind=BuildKind.RELEASE,
                     variants=VARIANTS)
    assert [(t.name, t.image.flavour, t.moving, t.image.variant) for t in plan.tags] == [
        ("3.3.2-python3.11", "3.11", False, ""),
        ("3.3.2-python3.13", "3.13", False, ""),
        ("3.3.2", "3.11", False, ""),
        ("slim-3.3.2-python3.11", "3.11", False, "slim"),
        ("slim-3.3.2-python3.13", "3.13", False, "slim"),
        ("slim-3.3.2", "3.11", False, "slim"),
        ("3.3-python3.11", "3.11", True, ""),
        ("3.3-python3.13", "3.13", True, ""),
        ("3.3", "3.11", True, ""),
        ("slim-3.3-python3.11", "3.11", True, "slim"),
        ("slim-3.3-python3.13", "3.13", True, "slim"),
        ("slim-3.3", "3.11", True, "slim"),
        ("latest-python3.11", "3.11", True, ""),
        ("latest-python3.13", "3.13", True, ""),
        ("latest", "3.11", True, ""),
        ("slim-latest-python3.11", "3.11", True, "slim"),
        ("slim-latest-python3.13", "3.13", True, "slim"),
        ("slim-latest", "3.11", True, "slim"),
    ]
    assert all(not t.moving for t in plan.tags[:6]), "every immutable tag comes before any alias"


def test_master_tags_of_every_variant() -> None:
    plan = plan_tags(version=None, flavours=("3.11",), default="3.11", kind=BuildKind.MASTER,
                     variants=VARIANTS)
    assert plan.as_mapping() == {"master-python3.11": "3.11", "master": "3.11",
                                 "slim-master-python3.11": "3.11", "slim-master": "3.11"}
    assert all(t.moving for t in plan.tags)


@pytest.mark.parametrize("variants", [(), ("", ""), ("", "Slim"), ("", "latest"), ("", "master"), ("", "a-b"),
                                      ("", "1x"), ("", "python")])
def test_bad_variants_are_refused(variants: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="variant"):
        plan_tags(version=v("3.3.2"), flavours=FLAVOURS, default=DEFAULT, kind=BuildKind.RELEASE,
                  variants=variants)


variant_sets = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True).filter(
    lambda name: name not in {"latest", "master", "python", "default"}), max_size=3, unique=True).map(
    lambda names: ("", *names))


@settings(deadline=None)  # a shared, loaded machine must not turn a slow example into a failure
@given(versions, st.lists(versions, max_size=8), flavour_sets(), variant_sets)
def test_variant_tags_parse_back_and_mirror_the_default_images(
    version: ReleaseVersion, existing: list[ReleaseVersion], fl: tuple[tuple[str, ...], str],
    variants: tuple[str, ...],
) -> None:
    flavours, default = fl
    plan = plan_tags(version=version, flavours=flavours, default=default, kind=BuildKind.RELEASE,
                     existing=existing, variants=variants)
    alone = plan_tags(version=version, flavours=flavours, default=default, kind=BuildKind.RELEASE,
                      existing=existing)
    names = [tag.name for tag in plan.tags]
    assert len(names) == len(set(names)), "a tag appears twice"
    assert len(plan.tags) == len(alone.tags) * len(variants)
    for variant in variants:
        mine = [t for t in plan.tags if t.image.variant == variant]
        assert [(parse_tag(t.name).prefix, t.image.flavour, t.moving) for t in mine] == [
            (parse_tag(t.name).prefix, t.image.flavour, t.moving) for t in alone.tags]
        for tag in mine:
            parts = parse_tag(tag.name)
            assert parts.variant == variant
            assert tag_name(parts.prefix, parts.flavour, parts.variant) == tag.name
    moving = [t.moving for t in plan.tags]
    assert moving == sorted(moving), "immutable tags first, then the aliases"


@given(st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True))
def test_every_variant_name_the_config_accepts_parses_back_from_its_tags(name: str) -> None:
    accepted = VARIANT_NAME.match(name) is not None and name not in RESERVED_VARIANT_NAMES
    for tag in (tag_name("3.3.2", "3.11", name), tag_name("latest", None, name),
                tag_name("3.3", "3.14", name)):
        assert (parse_tag(tag).variant == name) is accepted


# --------------------------------------------------------------------------- platform helper tags


def test_a_platforms_image_is_pushed_under_its_flavour_tag_and_architecture() -> None:
    from release.plan.tags import platform_tag, split_platform, split_tag

    assert platform_tag("1.10.6-python3.11", "linux/arm64") == "1.10.6-python3.11-arm64"
    assert platform_tag("master-python3.13", "linux/amd64") == "master-python3.13-amd64"
    assert split_platform("1.10.6-python3.11-arm64") == ("1.10.6-python3.11", "linux/arm64")
    assert split_platform("1.10.6-python3.11") == ("1.10.6-python3.11", None)
    assert split_platform("latest-arm64") == ("latest-arm64", None)  # no flavour: not a helper tag
    assert split_tag("1.10.6-python3.11-arm64") == ("1.10.6-python3.11-arm64", None)
    with pytest.raises(ValueError, match="not a supported platform"):
        platform_tag("1.10.6-python3.11", "linux/s390x")


def test_a_version_that_only_has_platform_images_is_taken() -> None:
    from release.plan.tags import versions_from_tags

    tags = ["1.10.6-python3.11-arm64", "2.0.0-python3.11-amd64", "latest", "nightly-arm64"]
    found = versions_from_tags(tags)
    assert [str(x) for x in found] == ["1.10.6", "2.0.0"]


def test_a_withdrawal_is_spelled_as_a_tag_and_read_back() -> None:
    assert withdrawn_tag(parse_version("1.10.7")) == "withdrawn-1.10.7"
    tags = ["1.10.6", "1.10.7-python3.11", "withdrawn-1.10.7", "withdrawn-latest", "withdrawn-", "latest"]
    assert withdrawn_from_tags(tags) == [parse_version("1.10.7")]
    assert versions_from_tags(tags) == [parse_version("1.10.6"), parse_version("1.10.7")]


def test_alias_candidates_are_the_tags_the_planner_may_point_at_the_same_image() -> None:
    assert alias_candidates("1.10.6-python3.9", "3.11") == ("1.10-python3.9", "latest-python3.9")
    assert alias_candidates("1.10.6-python3.11", "3.11") == (
        "1.10-python3.11", "latest-python3.11", "1.10.6", "1.10", "latest")
    assert alias_candidates("master-python3.11", "3.11") == ("master",)
    assert alias_candidates("master-python3.9", "3.11") == ()
    assert alias_candidates("latest", "3.11") == ()
    assert alias_candidates("nightly-python3.11", "3.11") == ()


def test_cache_tags_live_in_a_repository_of_their_own() -> None:
    assert cache_repository("127.0.0.1:5000/apache/airflow") == "127.0.0.1:5000/apache/airflow-cache"
    assert cache_tag("3.11", "sha256:" + "ab" * 32) == "deps-python3.11-" + "ab" * 12
    assert split_tag(cache_tag("3.11", "sha256:" + "0" * 64))[1] is None  # never taken for a release


@pytest.mark.parametrize("kind", [BuildKind.RELEASE, BuildKind.MASTER])
def test_every_alias_a_plan_sets_is_a_candidate_of_its_image_tag(kind: BuildKind) -> None:
    plan = plan_tags(version=v("2.0.0"), flavours=FLAVOURS, default=DEFAULT, kind=kind, existing=[v("1.9.9")])
    image_tags = [t for t in plan.tags if not t.is_bare and (kind is BuildKind.MASTER or not t.moving)]
    for image_tag in image_tags:
        same_image = {t.name for t in plan.tags
                      if t.image.flavour == image_tag.image.flavour and t.name != image_tag.name}
        assert same_image <= set(alias_candidates(image_tag.name, DEFAULT)), image_tag


def test_a_version_whose_tags_docker_would_refuse_is_refused_before_anything_is_built() -> None:
    version = parse_version("1.0.0.dev" + "1" * 120)
    with pytest.raises(VersionError) as caught:
        plan_tags(version=version, flavours=["3.9", "3.13"], default="3.9", kind=BuildKind.RELEASE)
    message = str(caught.value)
    assert "-python3.13" in message and "128" in message and f"{len(str(version)) + 11} characters" in message
    longest = "1.0.0.dev" + "1" * (128 - len("1.0.0.dev-python3.13"))
    assert plan_tags(version=parse_version(longest), flavours=["3.13"], default="3.13",
                     kind=BuildKind.RELEASE)


def test_the_tag_bound_counts_the_platforms_helper_tags_when_there_are_several() -> None:
    from release.plan.tags import check_tag_length

    fits = parse_version("1.0.0.dev" + "1" * (128 - len("1.0.0.dev-python3.13")))
    check_tag_length(fits, ["3.13"])
    with pytest.raises(VersionError, match=r"V-python3.13-(amd|arm)64\) would have 134 characters"):
        check_tag_length(fits, ["3.13"], ["linux/amd64", "linux/arm64"])
