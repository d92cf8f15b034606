# SPDX-License-Identifier: Apache-2.0
"""Which svn folders housekeeping removes: old releases, withdrawn ones, finished candidates. Pure."""

from __future__ import annotations

from release.plan.cleanup import Removal, candidates_of, plan_cleanup
from release.versions import parse_version as V


def names(removals: tuple[Removal, ...]) -> dict[str, str]:
    return {f"{r.area}/{r.name}": r.why for r in removals}


def test_the_newest_release_of_each_line_stays() -> None:
    found = plan_cleanup(["KEYS", "1.10.5", "1.10.6", "2.0.0", "1.9.9"], [])
    assert names(found) == {"release/1.10.5": "older than 1.10.6, the newest of 1.10"}


def test_a_line_with_one_release_keeps_it() -> None:
    assert plan_cleanup(["1.9.9", "1.10.6", "2.0.0"], []) == ()


def test_nothing_that_is_not_a_version_is_touched() -> None:
    assert plan_cleanup(["KEYS", "README.txt", "1.10", "v1.10.5", "latest"], ["notes", "KEYS"]) == ()


def test_withdrawn_releases_go_and_the_newest_remaining_stays() -> None:
    found = plan_cleanup(["1.10.5", "1.10.6", "1.10.7"], [], withdrawn={V("1.10.7")})
    assert names(found) == {"release/1.10.5": "older than 1.10.6, the newest of 1.10",
                            "release/1.10.7": "withdrawn"}


def test_a_line_whose_only_release_is_withdrawn_is_emptied() -> None:
    found = plan_cleanup(["2.0.0", "1.10.6"], [], withdrawn={V("2.0.0")})
    assert names(found) == {"release/2.0.0": "withdrawn"}


def test_candidates_of_released_versions_go() -> None:
    found = plan_cleanup(["1.10.6"], ["1.10.6rc1", "1.10.6rc2", "1.10.7rc1", "2.0.0b1"])
    assert names(found) == {"dev/1.10.6rc1": "1.10.6 is released", "dev/1.10.6rc2": "1.10.6 is released"}


def test_candidates_older_than_a_release_of_their_line_go() -> None:
    found = plan_cleanup(["1.10.6"], ["1.10.5rc3", "1.9.9rc1"])
    assert names(found) == {"dev/1.10.5rc3": "1.10.6 is released"}


def test_a_candidate_superseded_by_a_newer_one_goes() -> None:
    found = plan_cleanup([], ["1.10.7rc1", "1.10.7rc2", "1.10.7rc3", "2.0.0rc1"])
    assert names(found) == {"dev/1.10.7rc1": "superseded by 1.10.7rc3",
                            "dev/1.10.7rc2": "superseded by 1.10.7rc3"}


def test_folder_names_with_a_trailing_slash() -> None:
    assert names(plan_cleanup(["1.10.5/", "1.10.6/"], ["1.10.6rc1/"])) == {
        "release/1.10.5": "older than 1.10.6, the newest of 1.10", "dev/1.10.6rc1": "1.10.6 is released"}


def test_prereleases_in_release_are_left_alone() -> None:
    assert plan_cleanup(["1.10.6", "1.10.7rc1"], []) == ()


def test_candidates_of_a_final() -> None:
    folders = ["1.10.6rc1", "1.10.6rc2", "1.10.6b1", "1.10.6", "1.10.7rc1", "KEYS"]
    assert candidates_of(V("1.10.6"), folders) == ("1.10.6b1", "1.10.6rc1", "1.10.6rc2")
    assert candidates_of(V("1.10.6"), []) == ()


def test_shipped_constraints_go_with_their_version() -> None:
    released = ["1.10.5/", "constraints-1.10.5/", "1.10.6/", "constraints-1.10.6/", "KEYS"]
    candidates = ["1.10.6rc1/", "constraints-1.10.6rc1/", "1.10.7rc1/", "constraints-1.10.7rc1/",
                  "constraints-1.10.7rc2/", "1.10.7rc2/"]
    assert names(plan_cleanup(released, candidates)) == {
        "release/1.10.5": "older than 1.10.6, the newest of 1.10",
        "release/constraints-1.10.5": "older than 1.10.6, the newest of 1.10",
        "dev/1.10.6rc1": "1.10.6 is released", "dev/constraints-1.10.6rc1": "1.10.6 is released",
        "dev/1.10.7rc1": "superseded by 1.10.7rc2", "dev/constraints-1.10.7rc1": "superseded by 1.10.7rc2"}
    withdrawn = plan_cleanup(["1.10.6", "constraints-1.10.6"], [], withdrawn={V("1.10.6")})
    assert names(withdrawn) == {"release/1.10.6": "withdrawn", "release/constraints-1.10.6": "withdrawn"}
    assert plan_cleanup(["constraints-banana/", "constraints-/"], ["constraints-x"]) == ()


def test_promotion_removes_the_candidates_shipped_constraints_too() -> None:
    folders = ["1.10.6rc1/", "constraints-1.10.6rc1/", "constraints-1.10.6rc2/", "1.10.6rc2/",
               "constraints-1.10.7rc1/", "signatures/", "KEYS"]
    assert candidates_of(V("1.10.6"), folders) == (
        "1.10.6rc1", "constraints-1.10.6rc1", "1.10.6rc2", "constraints-1.10.6rc2")


def test_the_listings_may_be_read_once() -> None:
    released, candidates = ["1.10.5", "1.10.6"], ["1.10.6rc1", "constraints-1.10.6rc1"]
    assert plan_cleanup(iter(released), iter(candidates)) == plan_cleanup(released, candidates)
