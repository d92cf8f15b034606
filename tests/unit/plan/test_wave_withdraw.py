# SPDX-License-Identifier: Apache-2.0
"""Withdrawing distributions of a published wave: what goes, what a run refuses, what the
announcement then lists, and the dry run's plan; a versioned train's whole release (its folders
then listed by its cleanup) and a wave finished in ATR. Pure, on Airflow's two trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from release.config import parse_config
from release.errors import RefusedError
from release.plan.release import TargetState
from release.plan.wave import versioned_cleanup
from release.plan.wave_withdraw import (
    announced,
    files_to_remove,
    image_actions,
    images_version,
    in_atr_by_hand,
    plan_wave_withdrawal,
    plan_withdraw_wave,
    published,
    train_state,
    withdrawal_record,
    withdrawn_folders,
    withdrawn_lines,
)
from release.plan.withdraw import plan_withdraw
from release.trains import Train
from release.versions import parse_version
from tests.unit.test_trains import airflow_table

CONFIG = parse_config(Path("/airflow"), airflow_table())
CORE, PROVIDERS = CONFIG.train("core"), CONFIG.train("providers")
DATE = "2026-12-07"
SOURCE = f"providers/apache_airflow_providers-{DATE}-source.tar.gz"


def core_signed(folder: str, *names: str) -> list[str]:
    return [f"{folder}/{n}{suffix}" for n in names for suffix in ("", ".asc", ".sha512")]


CORE_FILES = core_signed("3.3.3", "apache-airflow-3.3.3-source.tar.gz", "apache_airflow-3.3.3.tar.gz",
                         "apache_airflow-3.3.3-py3-none-any.whl", "apache_airflow_core-3.3.3.tar.gz",
                         "apache_airflow_core-3.3.3-py3-none-any.whl")
SDK_FILES = core_signed("task-sdk/1.3.3", "apache_airflow_task_sdk-1.3.3.tar.gz",
                        "apache_airflow_task_sdk-1.3.3-py3-none-any.whl")


def core_record(**extra: Any) -> dict[str, Any]:
    """wave.json of a published core release: its three distributions, in two release folders."""
    return {"commit": "c" * 40,
            "vote": {"passed": True, "excluded": {},
                     "promoted": ["apache-airflow 3.3.3rc1", "apache-airflow-core 3.3.3rc1",
                                  "apache-airflow-task-sdk 1.3.3rc1"]},
            "promoted": {"url": "svn://release/apache-airflow", "files": [*CORE_FILES, *SDK_FILES],
                         "superseded": [], "tags": ["3.3.3", "task-sdk/1.3.3"],
                         "folders": [["3.3.3rc1", "3.3.3"], ["task-sdk/1.3.3rc1", "task-sdk/1.3.3"]]},
            "published": {"index": "http://index/", "files": []}, **extra}


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


def test_a_versioned_trains_distributions_are_withdrawn_together_and_only_is_refused() -> None:
    assert refusal(CORE, core_record(), only=("apache-airflow-task-sdk",)) == (
        "train core releases its distributions together: they are withdrawn together (give no --only)")
    assert refusal(CORE, {}, only=("apache-airflow",)).startswith("train core releases its distributions")


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


def test_a_versioned_trains_whole_release_is_withdrawn_and_its_release_folders_stay() -> None:
    plan = plan_wave_withdrawal(CORE, DATE, core_record(), reason="a licence problem")
    assert plan.refusals == () and plan.folders == ("3.3.3", "task-sdk/1.3.3") and plan.by_hand == ""
    assert [(d.name, d.version, len(d.files)) for d in plan.distributions] == [
        ("apache-airflow", "3.3.3", 6), ("apache-airflow-core", "3.3.3", 6),
        ("apache-airflow-task-sdk", "1.3.3", 6)]
    assert plan.distributions[2].files == tuple(SDK_FILES)
    assert plan.new == plan.untold == plan.distributions
    # its files stay in their release folders, as a single release's folder does: cleanup lists them
    assert files_to_remove(plan, [f.rsplit("/", 1)[-1] for f in (*CORE_FILES, *SDK_FILES)]) == ()
    shown = plan_withdraw_wave(plan, record="dist/core-2026-12-07/wave.json", release_url="svn://r/airflow",
                               removed=(), index="http://index/simple/")
    assert [(a.where.value, a.does) for a in shown.actions] == [
        *(("dist", f"record in dist/core-2026-12-07/wave.json: {name} withdrawn (a licence problem)")
          for name in ("apache-airflow 3.3.3", "apache-airflow-core 3.3.3", "apache-airflow-task-sdk 1.3.3")),
        *(("svn", f"leave svn://r/airflow/{folder} in place: invoke cleanup --train core lists it to remove "
                  "(the ASF archive keeps it)") for folder in ("3.3.3", "task-sdk/1.3.3")),
        *(("index", f"tell http://index/simple/ {name} is withdrawn (yanked where it can, else where to yank "
                    "it by hand)")
          for name in ("apache-airflow 3.3.3", "apache-airflow-core 3.3.3", "apache-airflow-task-sdk 1.3.3"))]
    # a rerun: recorded and told already, nothing left but the folders cleanup lists
    told = {d.name: {"version": d.version, "reason": "a licence problem", "at": "then", "index": "told",
                     "files": list(d.files)} for d in plan.distributions}
    again = plan_wave_withdrawal(CORE, DATE, core_record(withdrawn=told), reason="another")
    assert again.new == again.untold == () and again.folders == plan.folders
    # the announcement of a withdrawn release is refused, verify names each of its distributions
    with pytest.raises(RefusedError, match="every distribution of the wave is withdrawn"):
        announced(core_record(withdrawn=told), (("apache-airflow", "3.3.3"),), ())
    assert withdrawn_lines(core_record(withdrawn=told))[2] == (
        "withdrawn: apache-airflow-task-sdk 1.3.3 on then: a licence problem")


def test_a_withdrawn_releases_folders_are_what_the_trains_cleanup_lists() -> None:
    plan = plan_wave_withdrawal(CORE, DATE, core_record(), reason="CVE")
    recorded = core_record(withdrawn=withdrawal_record(plan, at="then", key="ABCD"))
    folders = withdrawn_folders([recorded, record(withdrawn={"apache-airflow-providers-http": {
        "version": "6.3.1", "files": HTTP}}), {}, {"withdrawn": {"x": {"files": ["KEYS", "y/1.0/x"]}}}])
    assert folders == {"": frozenset({parse_version("3.3.3")}),
                       "task-sdk": frozenset({parse_version("1.3.3")})}
    # the newest of its line is listed (the withdrawal named it); the newest left in the line stays
    removals = versioned_cleanup({"": (["3.3.2", "3.3.3", "KEYS", "task-sdk"], ["3.3.4rc1"]),
                                  "task-sdk": (["1.3.3"], [])}, folders)
    assert [(r.area, r.name, r.why) for r in removals] == [
        ("release", "3.3.3", "withdrawn"), ("release", "task-sdk/1.3.3", "withdrawn")]
    unwithdrawn = {"": (["3.3.2", "3.3.3"], []), "task-sdk": ([], [])}
    assert versioned_cleanup(unwithdrawn) == versioned_cleanup(unwithdrawn, {})
    assert [r.name for r in versioned_cleanup(unwithdrawn)] == ["3.3.2"]


def images_record(version: str = "3.3.3", **extra: Any) -> dict[str, Any]:
    """wave.json of a published core release whose voted images got their final tags."""
    return core_record(images={"candidate": f"{version}rc1", "version": version, "pushed": {}},
                       published={"index": "http://index/", "files": [],
                                  "images": {f"{version}-python3.11": f"sha256:{version}-3.11"}}, **extra)


def test_a_versioned_trains_published_images_are_withdrawn_with_its_release() -> None:
    plan = plan_wave_withdrawal(CORE, DATE, images_record(), reason="CVE")
    assert plan.refusals == () and plan.images == "3.3.3" and plan.to_json()["images"] == "3.3.3"
    # images built for the vote but never given their final tags, or none at all: nothing in the registry
    unpublished = core_record(images={"candidate": "3.3.3rc1", "version": "3.3.3", "pushed": {}})
    assert plan_wave_withdrawal(CORE, DATE, unpublished, reason="CVE").images == ""
    assert plan_wave_withdrawal(CORE, DATE, core_record(), reason="CVE").images == ""
    # a train without images: what its record says of images is not its business
    providers = plan_wave_withdrawal(PROVIDERS, DATE, record(images={"version": "6.3.1"}), reason="CVE")
    assert providers.images == ""
    assert images_version(images_record()) == "3.3.3" and images_version({"images": "x"}) == ""


def core_images(*versions: str) -> dict[str, str]:
    """The registry's version tags of the core's releases: per flavour, and bare for the default one."""
    tags = {}
    for version in versions:
        for python in CONFIG.python:
            tags[f"{version}-python{python}"] = f"sha256:{version}-{python}"
        tags[version] = f"sha256:{version}-3.11"
    return tags


def aliased(tags: dict[str, str], prefix: str, version: str) -> dict[str, str]:
    for python in CONFIG.python:
        tags[f"{prefix}-python{python}"] = f"sha256:{version}-{python}"
    tags[prefix] = f"sha256:{version}-3.11"
    return tags


def registry_state(tags: dict[str, str], *released: str, withdrawn: tuple[str, ...] = ()) -> TargetState:
    return TargetState(released=tuple(parse_version(v) for v in released), tags=tags,
                       withdrawn=frozenset(parse_version(v) for v in withdrawn))


def shown_images(state: TargetState, records: tuple[dict[str, Any], ...] = ()) -> list[str]:
    """The registry's lines of the dry run of withdrawing 3.3.3, the train's waves recording `records`."""
    withdrawal = plan_wave_withdrawal(CORE, DATE, images_record(), reason="CVE")
    images = plan_withdraw(CONFIG, parse_version(withdrawal.images), train_state(state, records))
    shown = plan_withdraw_wave(withdrawal, record="r", release_url="u", removed=(), index="i",
                               images=image_actions(images, "registry.test/apache/airflow"))
    assert shown.to_json()["actions"][3]["where"] == "registry"  # after what is recorded, before svn
    return [a.does.removeprefix("registry.test/apache/airflow:") for a in shown.actions
            if a.where.value == "registry"]


MARKER = "tag registry.test/apache/airflow:withdrawn-3.3.3 on 3.3.3-python3.11 (sha256:3.3.3-3.11): " \
         "publishes the withdrawal"


def test_the_only_release_is_marked_and_its_aliases_stay_on_it_as_a_single_releases_do() -> None:
    tags = aliased(aliased(core_images("3.3.3"), "3.3", "3.3.3"), "latest", "3.3.3")
    assert shown_images(registry_state(tags, "3.3.3rc1", "3.3.3")) == [MARKER, *(
        f"leave registry.test/apache/airflow:{alias}: no other release can hold {prefix}: it stays on 3.3.3"
        for prefix in ("3.3", "latest")
        for alias in (f"{prefix}-python3.11", f"{prefix}-python3.13", prefix))]


def test_an_earlier_final_takes_latest_and_its_line_back() -> None:
    tags = aliased(aliased(core_images("3.3.2", "3.3.3"), "3.3", "3.3.3"), "latest", "3.3.3")
    assert shown_images(registry_state(tags, "3.3.2", "3.3.3")) == [MARKER, *(
        f"move registry.test/apache/airflow:{alias} to 3.3.2-python{python}'s image: back to 3.3.2"
        for prefix in ("3.3", "latest") for alias, python in (
            (f"{prefix}-python3.11", "3.11"), (f"{prefix}-python3.13", "3.13"), (prefix, "3.11")))]
    # a rerun: the marker there, no alias left on 3.3.3
    moved = aliased(aliased(dict(tags), "3.3", "3.3.2"), "latest", "3.3.2")
    moved["withdrawn-3.3.3"] = tags["3.3.3"]
    assert shown_images(registry_state(moved, "3.3.2", "3.3.3", withdrawn=("3.3.3",))) == [
        "leave registry.test/apache/airflow:withdrawn-3.3.3 as it is: the withdrawal is published already"]


def test_an_older_line_release_that_owns_no_alias_is_only_marked() -> None:
    # 3.3.4 holds 3.3, 3.4.0 holds latest: 3.3.3 owns nothing, no alias moves
    tags = aliased(aliased(core_images("3.3.3", "3.3.4", "3.4.0"), "3.3", "3.3.4"), "latest", "3.4.0")
    aliased(tags, "3.4", "3.4.0")
    assert shown_images(registry_state(tags, "3.3.3", "3.3.4", "3.4.0")) == [MARKER]


def test_a_release_the_trains_waves_record_withdrawn_never_takes_an_alias_back() -> None:
    tags = aliased(aliased(core_images("3.3.1", "3.3.2", "3.3.3"), "3.3", "3.3.3"), "latest", "3.3.3")
    # 3.3.2's wave recorded its withdrawal, and the run stopped before its withdrawn-3.3.2 tag
    earlier = images_record("3.3.2", withdrawn={"apache-airflow": {"version": "3.3.2"}})
    lines = shown_images(registry_state(tags, "3.3.1", "3.3.2", "3.3.3"), (earlier, images_record()))
    assert lines[1] == "move registry.test/apache/airflow:3.3-python3.11 to 3.3.1-python3.11's image: back " \
                       "to 3.3.1" and len(lines) == 7
    assert "3.3.2" not in " ".join(lines)
    # a wave that published images is a release, even where the registry's tags were not read
    state = train_state(registry_state({}), (images_record("3.3.1"), earlier, core_record()))
    assert state.released == (parse_version("3.3.1"), parse_version("3.3.2"))
    assert state.current == (parse_version("3.3.1"),)


def atr_record(**extra: Any) -> dict[str, Any]:
    """A provider wave finished in ATR: its files in ATR's downloads, none in svn."""
    recorded = record(**extra)
    recorded["promoted"].update({"url": "https://atr.test/downloads/airflow/providers", "folders": [],
                                 "atr": {"release": f"providers-{DATE}", "revision": "00005"}})
    return recorded


def test_a_wave_in_atr_is_recorded_and_told_and_what_atr_keeps_is_asked_for_by_hand() -> None:
    plan = plan_wave_withdrawal(PROVIDERS, DATE, atr_record(), only=["http"], reason="CVE", in_atr=True)
    assert plan.refusals == () and [d.name for d in plan.distributions] == ["apache-airflow-providers-http"]
    names = ", ".join(f.rsplit("/", 1)[-1] for f in HTTP)
    assert plan.by_hand == (
        "ATR's API offers a committee no withdrawal (it deletes a release for ATR's administrators only): "
        f"ask them to remove {names} of release providers-{DATE} from https://atr.test/downloads/airflow/providers")
    assert files_to_remove(plan, [f.rsplit("/", 1)[-1] for f in HTTP]) == () and plan.folders == ()
    added = withdrawal_record(plan, at="then", key="ABCD")
    assert added["apache-airflow-providers-http"]["by_hand"] == plan.by_hand
    shown = plan_withdraw_wave(plan, record="r", release_url="svn://r/airflow", removed=(), index="i")
    assert [a.where.value for a in shown.actions] == ["dist", "index", "atr"]
    assert shown.actions[-1].does == f"by hand: {plan.by_hand}"
    assert plan.to_json()["by_hand"] == plan.by_hand
    assert in_atr_by_hand({}, ()) == (
        "ATR's API offers a committee no withdrawal (it deletes a release for ATR's administrators only): "
        "ask them to remove nothing of release the wave's release from ATR's downloads")
