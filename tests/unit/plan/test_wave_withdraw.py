# SPDX-License-Identifier: Apache-2.0
"""Withdrawing distributions of a published provider wave: what goes, what a run refuses, what the
announcement then lists, and the dry run's plan. Pure, on Airflow's two trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from release.config import parse_config
from release.errors import RefusedError
from release.plan.wave_withdraw import (
    announced,
    files_to_remove,
    plan_wave_withdrawal,
    plan_withdraw_wave,
    published,
    withdrawal_record,
    withdrawn_lines,
)
from release.trains import Train
from tests.unit.test_trains import airflow_table

CONFIG = parse_config(Path("/airflow"), airflow_table())
CORE, PROVIDERS = CONFIG.train("core"), CONFIG.train("providers")
DATE = "2026-12-07"
SOURCE = f"providers/apache_airflow_providers-{DATE}-source.tar.gz"


def signed(*names: str) -> list[str]:
    return [f"providers/{n}{suffix}" for n in names for suffix in ("", ".asc", ".sha512")]


HTTP = signed("apache_airflow_providers_http-6.3.1.tar.gz",
              "apache_airflow_providers_http-6.3.1-py3-none-any.whl")
COMMON_IO = signed("apache_airflow_providers_common_io-1.11.1.tar.gz",
                   "apache_airflow_providers_common_io-1.11.1-py3-none-any.whl")


def record(**extra: Any) -> dict[str, Any]:
    """wave.json of a published wave: common.io and http promoted (ftp excluded at the vote)."""
    return {"commit": "c" * 40,
            "vote": {"passed": True, "excluded": {"apache-airflow-providers-ftp": "regression"},
                     "promoted": ["apache-airflow-providers-common-io 1.11.1rc1",
                                  "apache-airflow-providers-http 6.3.1rc2"]},
            "promoted": {"url": "svn://release/apache-airflow/providers",
                         "files": [*COMMON_IO, *HTTP, *signed(SOURCE.removeprefix("providers/"))],
                         "superseded": [], "tags": ["providers-common-io/1.11.1", "providers-http/6.3.1"]},
            "published": {"index": "http://index/", "files": []}, **extra}


def test_every_released_distribution_of_a_published_wave_is_withdrawn_by_default() -> None:
    plan = plan_wave_withdrawal(PROVIDERS, DATE, record(), reason="  a CVE in both  ")
    assert plan.refusals == () and plan.reason == "a CVE in both"
    assert [(d.name, d.id, d.version, d.files) for d in plan.distributions] == [
        ("apache-airflow-providers-common-io", "common-io", "1.11.1", tuple(COMMON_IO)),
        ("apache-airflow-providers-http", "http", "6.3.1", tuple(HTTP))]
    assert plan.new == plan.distributions == plan.untold
    plan.check()  # nothing refused


@pytest.mark.parametrize("name", ["http", "apache-airflow-providers-http", "Apache_Airflow_Providers.HTTP"])
def test_only_takes_a_distribution_by_its_name_or_its_id(name: str) -> None:
    plan = plan_wave_withdrawal(PROVIDERS, DATE, record(), only=[name], reason="CVE-2026-1")
    assert [d.name for d in plan.distributions] == ["apache-airflow-providers-http"]
    # the source release stays: it is the source of every other distribution the wave released
    assert SOURCE not in plan.distributions[0].files


def test_a_listed_distributions_id_is_the_one_the_train_lists() -> None:
    table = airflow_table()
    table["trains"]["flat"] = {"svn": "flat", "svn-folder": "flat", "tag": "{id}/{version}",
                               "distributions": [{"name": "apache-airflow-client", "id": "client",
                                                  "path": "clients/python"}]}
    flat = parse_config(Path("/airflow"), table).train("flat")
    recorded = record()
    recorded["vote"]["promoted"] = ["apache-airflow-client 3.1.0rc1"]
    recorded["promoted"] = {"files": signed("apache_airflow_client-3.1.0.tar.gz"), "tags": ["client/3.1.0"]}
    plan = plan_wave_withdrawal(flat, DATE, recorded, only=["client"], reason="broken")
    assert [(d.name, d.id, d.files) for d in plan.distributions] == [
        ("apache-airflow-client", "client", tuple(signed("apache_airflow_client-3.1.0.tar.gz")))]


def refusal(train: Train, recorded: dict[str, Any], *, only: tuple[str, ...] = (), reason: str = "why"
            ) -> str:
    plan = plan_wave_withdrawal(train, DATE, recorded, only=only, reason=reason)
    assert plan.distributions == () and len(plan.refusals) == 1
    with pytest.raises(RefusedError) as refused:
        plan.check()
    assert refused.value.exit_code == 6
    return plan.refusals[0]


def test_a_versioned_trains_withdrawal_is_refused() -> None:
    assert refusal(CORE, record()).startswith("train core has a folder per release in svn")


@pytest.mark.parametrize("missing", ["published", "promoted", "vote"])
def test_a_wave_not_published_is_refused(missing: str) -> None:
    recorded = record()
    del recorded[missing]
    assert refusal(PROVIDERS, recorded) == (
        f"the providers wave of {DATE} is not published: only what a published wave released can be "
        f"withdrawn (invoke publish --train providers --date {DATE})")
    assert refusal(PROVIDERS, {}).startswith(f"the providers wave of {DATE} is not published")


@pytest.mark.parametrize("name", ["ftp", "imap", "apache-airflow-providers-sqlite", "common"])
def test_a_name_the_wave_did_not_release_is_refused(name: str) -> None:
    assert refusal(PROVIDERS, record(), only=("http", name)) == (
        f"{name} was not released in the providers wave of {DATE} (apache-airflow-providers-common-io, "
        "apache-airflow-providers-http); name one of those, by name or id")


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_withdrawal_without_a_reason_is_refused(reason: str) -> None:
    assert refusal(PROVIDERS, record(), reason=reason) == (
        'say why the distributions are withdrawn: --reason "..." (it is recorded)')


def test_what_is_withdrawn_already_is_kept_as_recorded_and_told_once() -> None:
    earlier = {"apache-airflow-providers-http": {"version": "6.3.1", "reason": "CVE-2026-1",
                                                 "at": "2026-12-10T09:00:00+00:00", "index": "told"}}
    plan = plan_wave_withdrawal(PROVIDERS, DATE, record(withdrawn=earlier), reason="another reason")
    http = plan.distributions[1]
    assert http.earlier == "on 2026-12-10T09:00:00+00:00: CVE-2026-1" and http.told == "told"
    assert [d.name for d in plan.new] == [d.name for d in plan.untold] == [
        "apache-airflow-providers-common-io"]
    added = withdrawal_record(plan, at="2026-12-11T10:00:00+00:00", key="ABCD")
    assert added == {"apache-airflow-providers-common-io": {
        "version": "1.11.1", "reason": "another reason", "at": "2026-12-11T10:00:00+00:00", "key": "ABCD",
        "files": COMMON_IO}}
    again = plan_wave_withdrawal(PROVIDERS, DATE, record(withdrawn=earlier), only=["http"], reason="x")
    assert again.new == () and again.untold == ()


def test_only_the_files_the_release_folder_still_holds_are_removed() -> None:
    plan = plan_wave_withdrawal(PROVIDERS, DATE, record(), only=["http"], reason="CVE")
    listing = [n.rsplit("/", 1)[-1] for n in (*COMMON_IO, *HTTP[:3], SOURCE)]
    assert files_to_remove(plan, listing) == tuple(HTTP[:3])
    assert files_to_remove(plan, []) == ()


def test_the_announcement_leaves_withdrawn_distributions_out_and_refuses_when_all_are() -> None:
    distributions = (("apache-airflow-providers-common-io", "1.11.1"),
                     ("apache-airflow-providers-http", "6.3.1"))
    files = (("apache_airflow_providers-2026-12-07-source.tar.gz", "s0"),
             ("apache_airflow_providers_common_io-1.11.1.tar.gz", "s1"),
             ("apache_airflow_providers_http-6.3.1-py3-none-any.whl", "s2"),
             ("apache_airflow_providers_http-6.3.1.tar.gz", "s3"))
    assert announced(record(), distributions, files) == (distributions, files)
    http = {"apache-airflow-providers-http": {"version": "6.3.1", "reason": "CVE", "at": "then"}}
    assert announced(record(withdrawn=http), distributions, files) == (distributions[:1], files[:2])
    both = {**http,
            "apache-airflow-providers-common-io": {"version": "1.11.1", "reason": "CVE", "at": "then"}}
    with pytest.raises(RefusedError, match=r"every distribution of the wave is withdrawn \(apache-airflow-"
                                           r"providers-common-io, apache-airflow-providers-http\)"):
        announced(record(withdrawn=both), distributions, files)
    assert withdrawn_lines(record(withdrawn=http)) == (
        "withdrawn: apache-airflow-providers-http 6.3.1 on then: CVE",)
    assert withdrawn_lines(record()) == ()


def test_the_dry_run_lists_what_would_be_recorded_removed_and_told() -> None:
    plan = plan_wave_withdrawal(PROVIDERS, DATE, record(), only=["http"], reason="CVE-2026-1")
    shown = plan_withdraw_wave(plan, record="dist/providers-2026-12-07/wave.json", release_url="svn://r/airflow",
                               removed=HTTP[:2], index="http://index/simple/")
    assert shown.invocation == f"invoke withdraw --train providers --date {DATE}"
    assert shown.to_json() == {"command": "withdraw", "version": f"providers {DATE}", "refusals": [],
                               "actions": [
        {"where": "dist", "does": "record in dist/providers-2026-12-07/wave.json: "
                                  "apache-airflow-providers-http 6.3.1 withdrawn (CVE-2026-1)"},
        {"where": "svn", "does": f"remove svn://r/airflow/{HTTP[0]} (the ASF archive keeps it)"},
        {"where": "svn", "does": f"remove svn://r/airflow/{HTTP[1]} (the ASF archive keeps it)"},
        {"where": "index", "does": "tell http://index/simple/ apache-airflow-providers-http 6.3.1 is "
                                   "withdrawn (yanked where it can, else where to yank it by hand)"}]}
    earlier = {"apache-airflow-providers-http": {"version": "6.3.1", "reason": "CVE-2026-1", "at": "then",
                                                 "index": "told"}}
    done = plan_wave_withdrawal(PROVIDERS, DATE, record(withdrawn=earlier), only=["http"], reason="x")
    left = plan_withdraw_wave(done, record="r", release_url="u", removed=(), index="i")
    assert [a.does for a in left.actions] == [
        "leave apache-airflow-providers-http 6.3.1 as recorded: withdrawn already on then: CVE-2026-1"]
    refused = plan_wave_withdrawal(PROVIDERS, DATE, {}, reason="x")
    assert plan_withdraw_wave(refused, record="r", release_url="u", removed=(), index="i").refusals == (
        refused.refusals)


def test_a_record_whose_tags_do_not_pair_with_its_distributions_gives_no_ids() -> None:
    recorded = record()
    recorded["promoted"]["tags"] = ["providers-http/6.3.1"]
    assert [d.id for d in published(PROVIDERS, recorded)] == ["", ""]
    assert refusal(PROVIDERS, recorded, only=("http",)).startswith("http was not released")
