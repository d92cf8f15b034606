# SPDX-License-Identifier: Apache-2.0
"""Which svn folders housekeeping removes: old releases, withdrawn ones, finished candidates. Pure."""

from __future__ import annotations

from release.plan.cleanup import (
    RecordEvidence,
    Removal,
    candidates_of,
    confirmed_withdrawals,
    listing_digest,
    listing_refusal,
    plan_cleanup,
)
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
    found = plan_cleanup(["1.10.4", "1.10.5", "1.10.6", "1.10.7"], [], withdrawn={V("1.10.5"), V("1.10.7")})
    assert names(found) == {"release/1.10.4": "older than 1.10.6, the newest of 1.10",
                            "release/1.10.5": "withdrawn"}


def test_the_newest_release_of_a_line_goes_only_when_named_even_withdrawn() -> None:
    """A withdrawal is decided by a signed record, but removing the newest release of a line is
    the release manager's to say (`--include V`): the listing alone never takes it."""
    found = plan_cleanup(["1.10.5", "1.10.6", "1.10.7"], [], withdrawn={V("1.10.7")})
    assert names(found) == {"release/1.10.5": "older than 1.10.6, the newest of 1.10"}
    named = plan_cleanup(["1.10.5", "1.10.6", "1.10.7"], [], withdrawn={V("1.10.7")}, named={V("1.10.7")})
    assert names(named) == {"release/1.10.5": "older than 1.10.6, the newest of 1.10",
                            "release/1.10.7": "withdrawn"}
    assert names(plan_cleanup(["2.0.0", "1.10.6"], [], named={V("2.0.0")})) == {
        "release/2.0.0": "named: the newest of 2.0"}


def test_a_line_whose_only_release_is_withdrawn_is_emptied_when_named() -> None:
    assert plan_cleanup(["2.0.0", "1.10.6"], [], withdrawn={V("2.0.0")}) == ()
    found = plan_cleanup(["2.0.0", "1.10.6"], [], withdrawn={V("2.0.0")}, named={V("2.0.0")})
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
    withdrawn = plan_cleanup(["1.10.6", "constraints-1.10.6"], [], withdrawn={V("1.10.6")},
                             named={V("1.10.6")})
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


def test_a_release_is_withdrawn_only_by_its_signed_record() -> None:
    """A bare `withdrawn-V` tag or an index yank (anyone with push rights) is not a withdrawal."""
    claimed = {V("1.10.5"), V("1.10.6"), V("1.10.7"), V("1.10.8")}
    evidence = {V("1.10.5"): RecordEvidence(True, True, True),  # signed, says withdrawn
                V("1.10.6"): RecordEvidence(True, False, True),  # says so, but the signature fails
                V("1.10.7"): RecordEvidence(True, True, False),  # signed, records no withdrawal
                V("1.9.0"): RecordEvidence(True, True, True)}  # withdrawn, with no tag left: counts
    withdrawn, ignored = confirmed_withdrawals(claimed, evidence)
    assert withdrawn == {V("1.10.5"), V("1.9.0")}
    assert ignored == (
        "1.10.6 is marked withdrawn in the registry or index, but its record's signature does not check out: "
        "not counted as withdrawn",
        "1.10.7 is marked withdrawn in the registry or index, but its signed record records no withdrawal: "
        "not counted as withdrawn",
        "1.10.8 is marked withdrawn in the registry or index, but no record of it: not counted as withdrawn")


def test_a_forged_withdrawal_never_removes_the_current_release_or_its_constraints() -> None:
    released = ["1.10.5", "1.10.6", "constraints-1.10.6", "KEYS"]
    withdrawn, _ = confirmed_withdrawals({V("1.10.6")}, {V("1.10.6"): RecordEvidence(False, False, False)})
    assert names(plan_cleanup(released, [], withdrawn)) == {
        "release/1.10.5": "older than 1.10.6, the newest of 1.10"}


def test_remove_carries_out_exactly_the_printed_listing() -> None:
    removals = plan_cleanup(["1.10.5", "1.10.6"], ["1.10.6rc1"])
    urls = [f"svn://x/{r.area}/{r.name}" for r in removals]
    printed = listing_digest(removals, urls)
    assert listing_refusal(printed, listing_digest(removals, urls)) == ""
    changed = plan_cleanup(["1.10.5", "1.10.6", "1.10.7"], ["1.10.6rc1"])
    fresh = listing_digest(changed, [f"svn://x/{r.area}/{r.name}" for r in changed])
    assert fresh != printed
    assert listing_refusal(printed, fresh).startswith("svn, the registry or the records changed since")
    assert listing_refusal(None, printed).startswith("no listing was printed to remove: run invoke cleanup")
    assert listing_digest((), ()) != printed
