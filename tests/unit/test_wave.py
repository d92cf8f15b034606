# SPDX-License-Identifier: Apache-2.0
"""The wave planner: every case a release manager meets, on Airflow's two trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.config import parse_config
from release.errors import RefusedError
from release.plan.declared import State
from release.plan.wave import (
    Commit,
    ConstraintsRef,
    DistributionFacts,
    Skipped,
    WavePlan,
    exclude,
    final_constraints,
    flat_cleanup,
    packages_of,
    plan_wave,
    released,
    superseded,
    wave_promotion,
)
from release.versions import parse_version
from tests.unit.test_trains import airflow_table

CONFIG = parse_config(Path("/airflow"), airflow_table())
CORE, PROVIDERS = CONFIG.train("core"), CONFIG.train("providers")
DATE = "2026-12-07"
RELEASED = {"common-io": "1.11.0", "ftp": "3.16.1", "http": "6.3.0", "imap": "3.13.1", "sqlite": "4.3.4"}


def versions(*texts: str) -> tuple[Any, ...]:
    return tuple(sorted(parse_version(t) for t in texts))


def provider(ident: str, declared: str = "", *, tagged: tuple[str, ...] = (), commits: int = 0,
             state: State = State.READY) -> DistributionFacts:
    released = RELEASED.get(ident)
    return DistributionFacts(
        name=f"apache-airflow-providers-{ident}", id=ident, path="providers/" + ident.replace("-", "/"),
        declared=declared or released or "1.0.0", tag="providers-{id}/{version}", svn_folder="providers",
        state=state, source_date_epoch=1791328848,
        tagged=versions(*(tagged or ((released,) if released else ()))),
        commits=tuple(Commit(f"{ident}{n:038d}", f"change {n} of {ident}") for n in range(commits)),
    )


def wave(*facts: DistributionFacts, **options: Any) -> WavePlan:
    return plan_wave(PROVIDERS, facts, date=DATE, project="apache-airflow", **options)


def five(**changes: DistributionFacts) -> list[DistributionFacts]:
    return [changes.get(ident.replace("-", "_"), provider(ident)) for ident in RELEASED]


def test_nothing_changed_is_an_empty_wave_saying_so() -> None:
    plan = wave(*five())
    assert plan.entries == () and plan.skipped == () and plan.vote_lines == ()
    assert plan.unchanged == tuple(f"apache-airflow-providers-{i}" for i in RELEASED)
    assert plan.source_tarball == "" and plan.wave_tag == "" and plan.constraints is None


def test_three_of_five_changed_go_each_at_its_own_version() -> None:
    plan = wave(*five(http=provider("http", "6.3.1", commits=2), ftp=provider("ftp", "3.16.2", commits=1),
                      common_io=provider("common-io", "1.11.1", commits=3)))
    assert plan.names == ("apache-airflow-providers-common-io", "apache-airflow-providers-ftp",
                          "apache-airflow-providers-http")
    http = plan.entries[2]
    assert (str(http.previous), http.since, len(http.commits), str(http.version), http.rc) == (
        "6.3.0", "providers-http/6.3.0", 2, "6.3.1", 1)
    assert http.why == "2 commits since providers-http/6.3.0"
    assert (http.tag, http.final_tag, str(http.candidate)) == (
        "providers-http/6.3.1rc1", "providers-http/6.3.1", "6.3.1rc1")
    assert plan.entries[0].tag == "providers-common-io/1.11.1rc1"
    assert plan.unchanged == ("apache-airflow-providers-imap", "apache-airflow-providers-sqlite")
    assert plan.source_tarball == "apache_airflow_providers-2026-12-07-source.tar.gz"
    assert plan.source_dev == "providers/apache_airflow_providers-2026-12-07-source.tar.gz"
    assert plan.wave_tag == "providers/2026-12-07"
    assert plan.vote_lines == ("apache-airflow-providers-common-io 1.11.1rc1 (voted as 1.11.1)",
                               "apache-airflow-providers-ftp 3.16.2rc1 (voted as 3.16.2)",
                               "apache-airflow-providers-http 6.3.1rc1 (voted as 6.3.1)")
    assert http.source_date_epoch == 1791328848


def test_the_flat_svn_paths_carry_final_names_in_one_folder() -> None:
    (http,) = wave(provider("http", "6.3.1", commits=1)).entries
    files = ("apache_airflow_providers_http-6.3.1.tar.gz",
             "apache_airflow_providers_http-6.3.1-py3-none-any.whl")
    assert http.files == tuple(f + s for f in files for s in ("", ".asc", ".sha512"))
    assert http.svn_dev == tuple(f"providers/{f}" for f in http.files)
    assert http.svn_release == http.svn_dev  # promotion renames nothing: the voted bytes, the same names


def test_an_explicit_list_takes_only_those_and_names_unknown_ones() -> None:
    facts = five(http=provider("http", "6.3.1", commits=2), ftp=provider("ftp", "3.16.2", commits=1))
    plan = wave(*facts, only=["http", "apache-airflow-providers-imap"])
    assert plan.names == ("apache-airflow-providers-http",)
    assert plan.entries[0].why == "listed"
    assert plan.skipped == (Skipped("apache-airflow-providers-imap",
                                    "3.13.1 is released already and nothing changed"),)
    with pytest.raises(RefusedError, match="redis is not a distribution of this train"):
        wave(*facts, only=["redis"])


def test_changed_but_not_bumped_is_skipped_saying_what_to_do() -> None:
    plan = wave(provider("http", commits=2))
    assert plan.entries == ()
    assert plan.skipped == (Skipped("apache-airflow-providers-http",
                                    "changed since providers-http/6.3.0 (2 commits) "
                                    "but still declares 6.3.0: declare its next version"),)


def test_a_provider_suspended_between_waves_is_never_released() -> None:
    first = wave(provider("http", "6.3.1", commits=1), provider("imap", "3.13.2", commits=1))
    assert first.names == ("apache-airflow-providers-http", "apache-airflow-providers-imap")
    suspended = provider("imap", "3.13.2", commits=2, state=State.SUSPENDED, tagged=("3.13.1", "3.13.2rc1"))
    second = wave(provider("http", "6.3.2", commits=1, tagged=("6.3.0", "6.3.1")), suspended)
    assert second.names == ("apache-airflow-providers-http",)
    assert second.skipped[0].name == "apache-airflow-providers-imap"
    assert second.skipped[0].reason.startswith("suspended: a suspended distribution is never released")
    assert wave(suspended, only=["imap"]).entries == ()  # not even when listed


def test_a_removed_provider_gets_its_one_last_release_then_none() -> None:
    last = wave(provider("sqlite", "4.3.5", commits=1, state=State.REMOVED))
    assert last.names == ("apache-airflow-providers-sqlite",)
    assert last.entries[0].why == "removed: its one last release"
    after = wave(provider("sqlite", "4.3.5", commits=1, state=State.REMOVED,
                          tagged=("4.3.4", "4.3.5rc1", "4.3.5")))
    assert after.entries == ()
    assert after.skipped == (Skipped("apache-airflow-providers-sqlite",
                                     "removed, and its last release 4.3.5 is out: its sources can go"),)


def test_not_ready_goes_only_when_listed() -> None:
    facts = provider("ftp", "3.16.2", commits=1, state=State.NOT_READY)
    assert wave(facts).skipped == (Skipped("apache-airflow-providers-ftp",
                                           "not-ready: released only when listed by name"),)
    assert wave(facts, only=["ftp"]).names == ("apache-airflow-providers-ftp",)


def test_an_rc3_beside_rc1s() -> None:
    plan = wave(provider("http", "6.3.1", commits=4, tagged=("6.3.0", "6.3.1rc1", "6.3.1rc2")),
                provider("ftp", "3.16.2", commits=1), provider("imap", "3.13.2", commits=1))
    assert [(e.id, e.rc, e.tag) for e in plan.entries] == [
        ("http", 3, "providers-http/6.3.1rc3"), ("ftp", 1, "providers-ftp/3.16.2rc1"),
        ("imap", 1, "providers-imap/3.13.2rc1")]
    assert plan.vote_lines[0] == "apache-airflow-providers-http 6.3.1rc3 (voted as 6.3.1)"


def test_excluded_at_the_vote_then_a_later_rc_of_only_the_excluded_one() -> None:
    facts = five(http=provider("http", "6.3.1", commits=2), ftp=provider("ftp", "3.16.2", commits=1),
                 common_io=provider("common-io", "1.11.1", commits=1))
    voted = exclude(wave(*facts), {"apache-airflow-providers-http": "HttpHook retries regressed (#73001)"})
    assert voted.names == ("apache-airflow-providers-common-io", "apache-airflow-providers-ftp")
    assert voted.excluded == (Skipped("apache-airflow-providers-http",
                                      "HttpHook retries regressed (#73001)"),)
    assert all("providers-http" not in line for line in voted.vote_lines)
    # after promotion: ftp and common.io are released; http has its rc1 tag and nothing else
    after = five(http=provider("http", "6.3.1", commits=3, tagged=("6.3.0", "6.3.1rc1")),
                 ftp=provider("ftp", "3.16.2", tagged=("3.16.1", "3.16.2rc1", "3.16.2")),
                 common_io=provider("common-io", "1.11.1", tagged=("1.11.0", "1.11.1rc1", "1.11.1")))
    later = wave(*after, retry={s.name: s.reason for s in voted.excluded})
    assert later.names == ("apache-airflow-providers-http",)
    assert (later.entries[0].rc, later.entries[0].tag) == (2, "providers-http/6.3.1rc2")
    assert later.entries[0].why == ("excluded at the last vote (HttpHook retries regressed (#73001)): "
                                    "its next candidate")
    with pytest.raises(RefusedError, match="takes no other list"):
        wave(*after, retry={"http": "x"}, only=["ftp"])


def test_exclusions_name_wave_members_and_give_a_reason() -> None:
    plan = wave(provider("http", "6.3.1", commits=1))
    with pytest.raises(RefusedError, match="imap is not in the wave of 2026-12-07"):
        exclude(plan, {"imap": "broken"})
    with pytest.raises(RefusedError, match="needs the reason the vote gave"):
        exclude(plan, {"http": " "})


def test_the_first_release_of_a_new_provider() -> None:
    (entry,) = wave(provider("openfaas-two", "1.0.0", commits=5)).entries
    assert (entry.previous, entry.since, entry.rc, entry.why) == (None, "", 1, "its first release")
    assert entry.path == "providers/openfaas/two" and entry.tag == "providers-openfaas-two/1.0.0rc1"


def test_a_version_lower_than_the_last_release_is_skipped() -> None:
    plan = wave(provider("http", "6.2.9", commits=1))
    assert plan.skipped == (Skipped("apache-airflow-providers-http",
                                    "declares 6.2.9, lower than its last release 6.3.0"),)


def test_a_distribution_twice_in_the_facts_is_refused() -> None:
    with pytest.raises(RefusedError, match="appears twice"):
        wave(provider("http", "6.3.1", commits=1), provider("http", "6.3.2", commits=1))


# --- the core train ----------------------------------------------------------------------------------


def core(meta: str = "3.3.3", sdk: str = "1.3.3", *, tagged: tuple[str, ...] = ("3.3.2",),
         sdk_tagged: tuple[str, ...] = ("1.3.2",), commits: int = 1) -> list[DistributionFacts]:
    change = tuple(Commit(f"{n:040d}", f"fix {n}") for n in range(commits))
    return [
        DistributionFacts("apache-airflow", "apache-airflow", ".", meta, "{version}",
                          tagged=versions(*tagged), commits=change),
        DistributionFacts("apache-airflow-core", "apache-airflow-core", "airflow-core", meta, "{version}",
                          tagged=versions(*tagged), commits=change),
        DistributionFacts("apache-airflow-task-sdk", "apache-airflow-task-sdk", "task-sdk", sdk,
                          "task-sdk/{version}", svn_folder="task-sdk", tagged=versions(*sdk_tagged),
                          commits=change),
    ]


def test_the_core_train_goes_together_under_one_vote_with_the_sdk_at_its_own_version() -> None:
    plan = plan_wave(CORE, core(), date=DATE, project="apache-airflow", constraints_tagged=versions("3.3.2"))
    assert [(e.name, str(e.candidate), e.tag) for e in plan.entries] == [
        ("apache-airflow", "3.3.3rc1", "3.3.3rc1"), ("apache-airflow-core", "3.3.3rc1", "3.3.3rc1"),
        ("apache-airflow-task-sdk", "1.3.3rc1", "task-sdk/1.3.3rc1")]
    meta, _, sdk = plan.entries
    assert meta.svn_dev[0] == "3.3.3rc1/apache_airflow-3.3.3.tar.gz"
    assert meta.svn_release[0] == "3.3.3/apache_airflow-3.3.3.tar.gz"
    assert sdk.svn_dev[0] == "task-sdk/1.3.3rc1/apache_airflow_task_sdk-1.3.3.tar.gz"
    assert sdk.svn_release[3] == "task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3-py3-none-any.whl"
    assert plan.source_tarball == "apache-airflow-3.3.3-source.tar.gz"
    assert plan.source_dev == "3.3.3rc1/apache-airflow-3.3.3-source.tar.gz"
    assert plan.wave_tag == ""
    assert plan.constraints == ConstraintsRef("constraints-3-3", "constraints-3.3.3rc1", "")  # a candidate
    assert plan.vote_lines == ("apache-airflow 3.3.3rc1 (voted as 3.3.3)",
                               "apache-airflow-core 3.3.3rc1 (voted as 3.3.3)",
                               "apache-airflow-task-sdk 1.3.3rc1 (voted as 1.3.3)")


def test_the_core_train_shares_one_rc_number() -> None:
    plan = plan_wave(CORE, core(tagged=("3.3.2", "3.3.3rc1"), sdk_tagged=("1.3.2", "1.3.3rc1", "1.3.3rc2")),
                     date=DATE, project="apache-airflow")
    assert {e.rc for e in plan.entries} == {3}


def test_the_core_train_refuses_to_leave_one_behind() -> None:
    with pytest.raises(RefusedError, match=r"releases its distributions together, but "
                                           r"apache-airflow-task-sdk cannot go \(it declares a released"):
        plan_wave(CORE, core(sdk="1.3.2"), date=DATE, project="apache-airflow")
    assert plan_wave(CORE, core(commits=0, meta="3.3.2", sdk="1.3.2"), date=DATE, project="x").entries == ()


@pytest.mark.parametrize(("tagged", "latest"), [
    (("3.3.2",), "constraints-latest"),  # the highest final moves constraints-latest
    (("3.3.2", "3.4.0"), ""),  # a patch on an older line does not
    ((), "constraints-latest"),
])
def test_constraints_latest_moves_only_for_the_highest_final(tagged: tuple[str, ...], latest: str) -> None:
    plan = plan_wave(CORE, core(), date=DATE, project="apache-airflow")
    assert final_constraints(plan, versions(*tagged), CORE) == ConstraintsRef(
        "constraints-3-3", "constraints-3.3.3", latest)
    assert final_constraints(wave(), versions(), CORE) is None


def test_superseded_files_of_a_flat_folder_are_the_older_versions_of_each_distribution() -> None:
    listing = [f"apache_airflow_providers_http-{v}{e}{s}" for v in ("6.3.0", "6.3.1")
               for e in (".tar.gz", "-py3-none-any.whl") for s in ("", ".asc", ".sha512")]
    listing += ["apache_airflow_providers_ftp-3.16.1.tar.gz",
                "apache_airflow_providers-2026-11-01-source.tar.gz", "KEYS"]
    assert superseded(listing) == tuple(sorted(n for n in listing if "6.3.0" in n))


# --- properties ----------------------------------------------------------------------------------------

IDS = ("common-io", "ftp", "http", "imap", "sqlite", "smtp")


@st.composite
def provider_facts(draw: st.DrawFn) -> list[DistributionFacts]:
    found = []
    for ident in draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS))):
        minor = draw(st.integers(0, 3))
        finals = [f"1.{m}.0" for m in range(minor)]
        declared = f"1.{draw(st.integers(max(0, minor - 1), minor + 1))}.0"
        rcs = [f"{declared}rc{n}" for n in range(1, draw(st.integers(0, 4)) + 1)]
        found.append(provider(ident, declared, tagged=tuple(finals + rcs) or ("0.1.0",),
                              commits=draw(st.integers(0, 2)), state=draw(st.sampled_from(list(State)))))
    return found


@given(provider_facts(), st.lists(st.sampled_from(IDS), max_size=3))
def test_rc_numbers_only_grow_no_distribution_twice_and_no_suspended_one(
        facts: list[DistributionFacts], listed: list[str]) -> None:
    known = {f.id for f in facts}
    plan = wave(*facts, only=[i for i in listed if i in known])
    by_name = {f.name: f for f in facts}
    assert len(set(plan.names)) == len(plan.names)
    assert set(plan.names).isdisjoint({s.name for s in plan.skipped} | set(plan.unchanged))
    for entry in plan.entries:
        facts_of = by_name[entry.name]
        assert facts_of.state is not State.SUSPENDED
        earlier = [v.value.pre[1] for v in facts_of.tagged if v.value.pre and v.final == entry.version]
        assert all(entry.rc > n for n in earlier)
        assert entry.candidate not in facts_of.tagged and entry.version not in facts_of.tagged


def test_promoting_a_voted_wave_copies_its_files_removes_their_older_versions_and_tags_finals() -> None:
    facts = five(http=provider("http", "6.3.1", commits=2), ftp=provider("ftp", "3.16.2", commits=1))
    voted = exclude(wave(*facts), {"apache-airflow-providers-ftp": "passive mode regressed"})
    released = ["apache_airflow_providers_http-6.3.0.tar.gz",
                "apache_airflow_providers_http-6.3.0.tar.gz.asc",
                "apache_airflow_providers_http-6.3.0-py3-none-any.whl.sha512",
                "apache_airflow_providers_ftp-3.16.1.tar.gz",  # excluded: its older release stays
                "apache_airflow_providers_imap-3.9.0.tar.gz",
                "apache_airflow_providers-2026-11-23-source.tar.gz"]
    done = wave_promotion(voted, released)
    http = "providers/apache_airflow_providers_http-6.3.1"
    tarball = f"providers/apache_airflow_providers-{DATE}-source.tar.gz"
    assert done.files == (*(f"{http}{end}" for end in (".tar.gz", ".tar.gz.asc", ".tar.gz.sha512",
                                                       "-py3-none-any.whl", "-py3-none-any.whl.asc",
                                                       "-py3-none-any.whl.sha512")),
                          tarball, f"{tarball}.asc", f"{tarball}.sha512")
    assert done.superseded == tuple(sorted(f"providers/{n}" for n in released[:3]))
    assert done.tags == ("providers-http/6.3.1",)
    assert wave_promotion(voted, [n.rsplit("/", 1)[-1] for n in done.files]).superseded == ()  # a rerun


def test_the_packages_of_a_wave_by_distribution_leave_out_signatures_and_the_source_release() -> None:
    files = ["providers/apache_airflow_providers_http-6.3.1.tar.gz",
             "providers/apache_airflow_providers_http-6.3.1.tar.gz.asc",
             "providers/apache_airflow_providers_http-6.3.1-py3-none-any.whl",
             "providers/apache_airflow_providers_common_io-1.11.1-py3-none-any.whl.sha512",
             "providers/apache_airflow_providers_common_io-1.11.1-py3-none-any.whl",
             f"providers/apache_airflow_providers-{DATE}-source.tar.gz"]
    assert packages_of(files) == {
        "apache-airflow-providers-common-io": (
            "providers/apache_airflow_providers_common_io-1.11.1-py3-none-any.whl",),
        "apache-airflow-providers-http": ("providers/apache_airflow_providers_http-6.3.1-py3-none-any.whl",
                                          "providers/apache_airflow_providers_http-6.3.1.tar.gz")}


def test_a_published_waves_announcement_names_each_final_and_each_released_file_with_its_sum() -> None:
    files = ["providers/apache_airflow_providers_http-6.3.1.tar.gz",
             "providers/apache_airflow_providers_http-6.3.1.tar.gz.asc",
             "providers/apache_airflow_providers_http-6.3.1.tar.gz.sha512",
             "providers/apache_airflow_providers_http-6.3.1-py3-none-any.whl",
             "apache_airflow_providers-2026-12-06-source.tar.gz"]
    sums = {name.rsplit("/", 1)[-1]: f"sum-{n}" for n, name in enumerate(files)}
    distributions, listed = released(["apache-airflow-providers-http 6.3.1rc2",
                                      "apache-airflow-providers-common-io 1.11.1rc1"], files, sums,
                                     "providers")
    assert distributions == (("apache-airflow-providers-common-io", "1.11.1"),
                             ("apache-airflow-providers-http", "6.3.1"))
    assert listed == (("apache_airflow_providers-2026-12-06-source.tar.gz", "sum-4"),
                      ("apache_airflow_providers_http-6.3.1-py3-none-any.whl", "sum-3"),
                      ("apache_airflow_providers_http-6.3.1.tar.gz", "sum-0"))
    with pytest.raises(RefusedError, match=r"no sha512 recorded for apache_airflow_providers_http-6\.3\.1"):
        released([], files[:1], {})


def signed(*names: str) -> list[str]:
    return [n + suffix for n in names for suffix in ("", ".asc", ".sha512")]


def test_a_flat_folders_cleanup_keeps_each_distributions_newest_and_every_waves_source_release() -> None:
    released = [*signed("apache_airflow_providers_http-6.3.0.tar.gz",
                        "apache_airflow_providers_http-6.3.1.tar.gz",
                        "apache_airflow_providers_http-6.3.1-py3-none-any.whl",
                        "apache_airflow_providers_ftp-3.16.1.tar.gz",
                        "apache_airflow_providers-2026-11-20-source.tar.gz",
                        "apache_airflow_providers-2026-12-06-source.tar.gz"), "README"]
    staged = signed("apache_airflow_providers_http-6.3.1.tar.gz",  # left behind: released
                    "apache_airflow_providers_http-6.3.0.tar.gz",  # older than released
                    "apache_airflow_providers_ftp-3.16.2.tar.gz",  # excluded, waiting for its rc2
                    "apache_airflow_providers_sftp-5.0.0.tar.gz",  # never released: under vote
                    "apache_airflow_providers-2026-12-01-source.tar.gz",  # a failed wave's
                    "apache_airflow_providers-2026-12-20-source.tar.gz")  # the next wave's
    removals = flat_cleanup("providers", released, staged)
    by_area = {(r.area, r.name): r.why for r in removals}
    assert {n for a, n in by_area if a == "release"} == {
        f"providers/{n}" for n in signed("apache_airflow_providers_http-6.3.0.tar.gz")}
    assert by_area[("release", "providers/apache_airflow_providers_http-6.3.0.tar.gz")] == \
        "older than apache-airflow-providers-http 6.3.1, released"
    assert {n for a, n in by_area if a == "dev"} == {f"providers/{n}" for n in signed(
        "apache_airflow_providers_http-6.3.1.tar.gz", "apache_airflow_providers_http-6.3.0.tar.gz",
        "apache_airflow_providers-2026-12-01-source.tar.gz")}
    assert by_area[("dev", "providers/apache_airflow_providers-2026-12-01-source.tar.gz.asc")] == \
        "the wave of 2026-12-20 replaces it"
    assert by_area[("dev", "providers/apache_airflow_providers_http-6.3.0.tar.gz")] == \
        "apache-airflow-providers-http 6.3.1 is released"
    assert flat_cleanup("providers", released[:3], staged[6:9]) == ()  # nothing old: nothing goes
