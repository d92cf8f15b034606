# SPDX-License-Identifier: Apache-2.0
"""PEP 440 release versions: what is accepted, what is refused (with a hint), and how they order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from release.errors import ReleaseError, VersionError
from release.plan.tags import versions_from_tags
from release.versions import (
    ReleaseVersion,
    companion_version,
    describe,
    parse_existing,
    parse_version,
)

# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    "text",
    [
        "1.10.6",
        "0.0.0",
        "0.1.0",
        "2.0.0",
        "10.20.30",
        "1.10.6rc1",
        "1.10.6rc0",
        "2.0.0a1",
        "2.0.0b2",
        "1.10.6.post1",
        "1.10.6.dev0",
        "1.10.6.dev12",
    ],
)
def test_canonical_versions_are_accepted_unchanged(text: str) -> None:
    version = parse_version(text)
    assert isinstance(version, ReleaseVersion)
    assert str(version) == text
    assert version.value == Version(text)


# --------------------------------------------------------------------------- refused, with hints


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("v1.10.6", "1.10.6"),
        ("V1.10.6", "1.10.6"),
        ("1.10.6-rc1", "1.10.6rc1"),
        ("1.10.6.rc1", "1.10.6rc1"),
        ("1.10.6RC1", "1.10.6rc1"),
        ("1.10.6c1", "1.10.6rc1"),
        ("1.10.6-alpha1", "1.10.6a1"),
        ("1.10.6beta2", "1.10.6b2"),
        ("1.10.6-post1", "1.10.6.post1"),
        ("1.10.6-1", "1.10.6.post1"),
        ("1.10.6dev0", "1.10.6.dev0"),
        ("01.10.6", "1.10.6"),
        ("1.010.6", "1.10.6"),
        ("1.10.06", "1.10.6"),
        (" 1.10.6", "1.10.6"),
        ("1.10.6 ", "1.10.6"),
        ("1.10.6\n", "1.10.6"),
        ("1.10", "1.10.0"),
        ("1", "1.0.0"),
        ("1.10rc1", "1.10.0rc1"),
        ("v1.10", "1.10.0"),
        ("01.10", "1.10.0"),
        ("v2", "2.0.0"),
    ],
)
def test_non_canonical_versions_are_refused_naming_the_canonical_form(text: str, canonical: str) -> None:
    with pytest.raises(VersionError) as caught:
        parse_version(text)
    message = str(caught.value)
    assert f"did you mean {canonical}?" in message
    assert repr(text) in message
    # The hint is itself a version the pipeline accepts: following it never fails again.
    assert str(parse_version(canonical)) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "1.10.x",
        "latest",
        "master",
        "1..6",
        "1.10.6-",
        "-1.10.6",
        "1.2.3.4",  # four parts: nothing to pad to
        "v1.2.3.4",
        "1!1.10.6",  # epoch
        "1.10.6+local",  # local version
        "v1.10.6+local",
        "1!1.10",
    ],
)
def test_unreleasable_versions_are_refused_without_a_misleading_hint(text: str) -> None:
    with pytest.raises(VersionError) as caught:
        parse_version(text)
    message = str(caught.value)
    assert repr(text) in message
    if "did you mean" in message:
        hint = message.split("did you mean ", 1)[1].rstrip("?")
        parse_version(hint)  # any hint given must be accepted


@pytest.mark.parametrize("text", ["1.2.3.4", "1!1.10.6", "1.10.6+local"])
def test_unpaddable_or_unreleasable_forms_get_no_hint(text: str) -> None:
    with pytest.raises(VersionError) as caught:
        parse_version(text)
    assert "did you mean" not in str(caught.value)


def test_epochs_and_local_versions_say_why() -> None:
    with pytest.raises(VersionError, match="epochs and local versions"):
        parse_version("1!1.10.6")
    with pytest.raises(VersionError, match="epochs and local versions"):
        parse_version("1.10.6+local")


def test_two_part_version_says_three_parts_are_needed() -> None:
    with pytest.raises(VersionError, match=r"exactly three parts X\.Y\.Z; did you mean 1\.10\.0\?"):
        parse_version("1.10")


@pytest.mark.parametrize("text", ["", " ", "\t\n"])
def test_empty_version_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(VersionError, match="empty version") as caught:
        parse_version(text)
    assert "1.10.6" in str(caught.value)


def test_version_error_is_a_release_error_with_its_exit_code() -> None:
    with pytest.raises(ReleaseError) as caught:
        parse_version("v1.10.6")
    assert caught.value.exit_code == 2


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize(
    ("text", "prerelease", "rc"),
    [
        ("1.10.6", False, False),
        ("1.10.6rc1", True, True),
        ("1.10.6a1", True, False),
        ("1.10.6b3", True, False),
        ("1.10.6.dev0", True, False),
        ("1.10.6.post1", False, False),
    ],
)
def test_prerelease_and_rc_flags(text: str, prerelease: bool, rc: bool) -> None:
    version = parse_version(text)
    assert version.is_prerelease is prerelease
    assert version.is_rc is rc


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("1.10.6", "1.10"),
        ("1.9.12", "1.9"),
        ("2.0.0rc1", "2.0"),
        ("2.10.0.post3", "2.10"),
        ("0.0.1.dev1", "0.0"),
        ("12.345.6", "12.345"),
    ],
)
def test_release_line(text: str, line: str) -> None:
    assert parse_version(text).line == line


@pytest.mark.parametrize(
    ("text", "final"),
    [
        ("1.10.6rc1", "1.10.6"),
        ("2.0.0a1", "2.0.0"),
        ("2.0.0b2", "2.0.0"),
        ("1.10.7.dev3", "1.10.7"),
        ("1.10.6", "1.10.6"),
    ],
)
def test_final_version_of_a_candidate(text: str, final: str) -> None:
    result = parse_version(text).final
    assert isinstance(result, ReleaseVersion)
    assert str(result) == final
    assert not result.is_prerelease


# --------------------------------------------------------------------------- ordering


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.9.9", "1.10.0"),
        ("1.9.12", "1.10.6"),
        ("1.10.5", "1.10.6"),
        ("1.10.6", "1.10.10"),
        ("2.9.0", "2.10.0"),
        ("1.99.99", "2.0.0"),
        ("2.0.0rc1", "2.0.0"),
        ("2.0.0rc1", "2.0.0rc2"),
        ("2.0.0rc9", "2.0.0rc10"),
        ("2.0.0a1", "2.0.0b1"),
        ("2.0.0b1", "2.0.0rc1"),
        ("2.0.0.dev0", "2.0.0a1"),
        ("1.10.6", "1.10.6.post1"),
        ("1.10.6.post1", "1.10.6.post2"),
        ("1.10.6.post1", "1.10.7rc1"),
        ("1.10.15", "2.0.0rc1"),
    ],
)
def test_ordering_is_numeric_not_textual(lower: str, higher: str) -> None:
    low, high = parse_version(lower), parse_version(higher)
    assert low < high
    assert low <= high
    assert high > low
    assert high >= low
    assert not high < low
    assert not low > high
    assert low != high
    assert sorted([high, low]) == [low, high]
    assert max(low, high) is high


def test_equal_versions_compare_equal_and_hash_alike() -> None:
    a, b = parse_version("1.10.6"), parse_version("1.10.6")
    assert a == b
    assert a <= b
    assert a >= b
    assert not a < b
    assert not a > b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_versions_sort_like_a_release_history() -> None:
    texts = [
        "2.0.0",
        "1.10.6",
        "1.9.12",
        "2.0.0rc1",
        "1.10.6.post1",
        "1.10.10",
        "2.10.0",
        "2.9.1",
        "1.10.7.dev0",
    ]
    ordered = [str(v) for v in sorted(parse_version(t) for t in texts)]
    assert ordered == [
        "1.9.12",
        "1.10.6",
        "1.10.6.post1",
        "1.10.7.dev0",
        "1.10.10",
        "2.0.0rc1",
        "2.0.0",
        "2.9.1",
        "2.10.0",
    ]


_SUFFIXES = st.sampled_from(["", "rc1", "rc2", "a1", "b1", ".post1", ".dev0", ".dev3"])
_VERSION_TEXTS = st.builds(
    lambda x, y, z, s: f"{x}.{y}.{z}{s}",
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 30),
    _SUFFIXES,
)


@given(st.lists(_VERSION_TEXTS, max_size=12))
def test_ordering_agrees_with_packaging(texts: list[str]) -> None:
    ours = [str(v) for v in sorted(parse_version(t) for t in texts)]
    theirs = [str(v) for v in sorted(Version(t) for t in texts)]
    assert ours == theirs


@given(_VERSION_TEXTS)
def test_canonical_strings_round_trip(text: str) -> None:
    assert str(parse_version(text)) == text


@given(_VERSION_TEXTS)
def test_a_v_prefix_is_always_refused_with_the_right_hint(text: str) -> None:
    with pytest.raises(VersionError, match=f"did you mean {text.replace('.', '[.]')}\\?"):
        parse_version(f"v{text}")


# --------------------------------------------------------------------------- existing versions


def test_parse_existing_keeps_only_releasable_versions_in_order_given() -> None:
    found = parse_existing(["1.10.6", "latest", "v1.10.7", "1.10", "2.0.0rc1", "", "junk", "1.9.12"])
    assert [str(v) for v in found] == ["1.10.6", "2.0.0rc1", "1.9.12"]


def test_parse_existing_of_nothing() -> None:
    assert parse_existing([]) == []
    assert parse_existing(iter(())) == []


def test_versions_from_tags_ignores_aliases_lines_and_garbage() -> None:
    tags = [
        "latest",
        "latest-python3.11",
        "master",
        "master-python3.9",
        "1.10",
        "1.10-python3.11",
        "2.0",
        "1.10.6",
        "1.10.6-python3.9",
        "1.10.6-python3.11",
        "1.9.12-python3.8",
        "2.0.0rc1",
        "2.0.0rc1-python3.11",
        "1.10.6.post1-python3.11",
        "v1.10.7",
        "1.10.7-rc1",
        "01.10.8",
        "1.10.9-foo",
        "1.10.9-python",
        "1.10.9-pythonX",
        "sha256-abcdef",
        "buildcache",
        "",
    ]
    assert [str(v) for v in versions_from_tags(tags)] == ["1.9.12", "1.10.6", "1.10.6.post1", "2.0.0rc1"]


def test_versions_from_tags_deduplicates_and_sorts() -> None:
    found = versions_from_tags(
        ["2.10.0-python3.11", "2.9.0", "2.10.0", "2.9.0-python3.9", "2.10.0-python3.9"]
    )
    assert [str(v) for v in found] == ["2.9.0", "2.10.0"]


def test_versions_from_tags_of_nothing() -> None:
    assert versions_from_tags([]) == []
    assert versions_from_tags(["latest", "master"]) == []


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1.10.6", "release 1.10.6"),
        ("1.10.6.post1", "release 1.10.6.post1"),
        ("1.10.6rc1", "release candidate 1 of 1.10.6"),
        ("2.0.0a2", "alpha 2 of 2.0.0"),
        ("2.0.0b3", "beta 3 of 2.0.0"),
        ("1.10.7.dev0", "development release 0 of 1.10.7"),
        ("1.10.6rc1.dev2", "development release 2 of 1.10.6rc1"),
        ("1.10.6.post1.dev2", "development release 2 of 1.10.6.post1"),
    ],
)
def test_describe(text: str, words: str) -> None:
    assert describe(parse_version(text)) == words


@pytest.mark.parametrize(("own", "release", "expected"), [
    ("0.3.0", "1.10.6rc1", "0.3.0rc1"),
    ("0.3.0", "1.10.6", "0.3.0"),
    ("0.3.0", "1.10.6b2", "0.3.0b2"),
    ("0.3.0", "1.10.6.dev4", "0.3.0.dev4"),
    ("1.0.0", "3.0.0rc2", "1.0.0rc2"),
])
def test_a_distribution_with_its_own_version_takes_the_release_suffix(own: str, release: str,
                                                                       expected: str) -> None:
    assert companion_version(own, parse_version(release)) == expected


@pytest.mark.parametrize("own", ["0.3.0rc1", "0.3.0.post1", "0.3", "zero"])
def test_an_own_version_must_be_final(own: str) -> None:
    with pytest.raises(VersionError):
        companion_version(own, parse_version("1.10.6rc1"))


@pytest.mark.parametrize("text", ["1.0." + "9" * 5000, "9" * 4301, "1." + "1" * 300 + ".0",
                                  "1.0.0rc" + "1" * 250])
def test_an_absurdly_long_version_is_one_clear_error_naming_its_length(text: str) -> None:
    with pytest.raises(VersionError) as caught:
        parse_version(text)
    message = str(caught.value)
    assert f"({len(text)} characters)" in message and len(message) < 200 and "\n" not in message


@given(st.text(max_size=300))
def test_any_text_is_a_version_or_one_version_error(text: str) -> None:
    """Whatever is typed after --version: a ReleaseVersion, or one VersionError line; never a crash."""
    try:
        version = parse_version(text)
    except VersionError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
    else:
        assert str(version) == text


def test_a_number_too_long_for_int_in_a_registry_tag_is_not_a_version() -> None:
    assert parse_existing(["1.0." + "9" * 5000, "1.0.0"]) == [parse_version("1.0.0")]


@pytest.mark.parametrize(("text", "voted", "accepted"), [
    ("1.10.6", "1.10.6", {"1.10.6"}),
    ("1.10.6rc2", "1.10.6", {"1.10.6"}),
    ("1.10.6a1", "1.10.6a1", {"1.10.6a1", "1.10.6"}),
    ("1.10.6b3", "1.10.6b3", {"1.10.6b3", "1.10.6"}),
    ("1.10.6.dev4", "1.10.6.dev4", {"1.10.6.dev4", "1.10.6"}),
    ("1.10.6.post1", "1.10.6.post1", {"1.10.6.post1"}),
])
def test_only_a_candidate_is_voted_on_as_another_version(text: str, voted: str, accepted: set[str]) -> None:
    version = parse_version(text)
    assert str(version.voted) == voted
    tried = (text, str(version.final), "1.10.6rc1", "1.10.7")
    assert {d for d in tried if version.accepts_declared(d)} == accepted
