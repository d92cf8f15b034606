# SPDX-License-Identifier: Apache-2.0
"""`withdraw --train`'s run refuses before it reaches svn or the index: a wave not published, and a
wave another run holds (dist/<train>-<date>/.lock); wave.json stays as it was. A versioned train's
release and a wave finished in ATR are withdrawn without svn (an in-memory index told), and a
train staging in ATR has nothing in svn to clean up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release import locks
from release.config import parse_config
from release.errors import RefusedError
from release.pipeline.connect import Target
from release.pipeline.trains import cleanup_train
from release.pipeline.wave_withdraw import withdraw_wave, withdraw_wave_plan
from tests.unit.memory import MemoryIndex
from tests.unit.plan.test_wave_withdraw import CORE, DATE, PROVIDERS, atr_record, core_record, record
from tests.unit.test_trains import airflow_table

# svn and the index are never reached by these refusals: nothing answers at these addresses
TARGET = Target(registry="registry.test", index_upload="https://index.test/legacy/",
                index_simple="https://index.test/simple/", svn_dev="https://svn.test/dev",
                svn_release="https://svn.test/release", signing_key="ABCD", keys_url="https://svn.test/KEYS")


def wave_record(root: Path, data: dict[str, object], train: str = "providers") -> Path:
    path = root / "dist" / f"{train}-{DATE}" / "wave.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    return path


def test_a_wave_not_published_is_refused_before_svn_or_the_index(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    unpublished = record()
    del unpublished["published"]
    path = wave_record(tmp_path, unpublished)
    with pytest.raises(RefusedError, match=f"^the providers wave of {DATE} is not published"):
        withdraw_wave(config, PROVIDERS, date=DATE, only=("http",), reason="CVE", target=TARGET, say=print)
    assert json.loads(path.read_text()) == unpublished


def test_a_wave_another_run_holds_is_refused_and_its_record_stays(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    path = wave_record(tmp_path, record())
    before = path.read_bytes()
    busy = rf"^another run of providers-{DATE} holds dist/providers-{DATE}; wait for it$"
    with locks.release_run(path.parent, "another"), pytest.raises(RefusedError, match=busy) as caught:
        withdraw_wave(config, PROVIDERS, date=DATE, only=("http",), reason="CVE", target=TARGET, say=print)
    assert caught.value.exit_code == 6 and path.read_bytes() == before


def test_a_versioned_trains_release_is_recorded_and_told_and_svn_is_not_reached(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    path = wave_record(tmp_path, core_record(), "core")
    index, said = MemoryIndex(), []
    done = withdraw_wave(config, CORE, date=DATE, only=(), reason="a licence problem", target=TARGET,
                         say=said.append, index=index)
    assert done.removed == () and done.revision is None and len(done.told) == 3
    assert index.yanked == {("apache-airflow", "3.3.3"), ("apache-airflow-core", "3.3.3"),
                            ("apache-airflow-task-sdk", "1.3.3")}
    withdrawn = json.loads(path.read_text())["withdrawn"]
    assert sorted(withdrawn) == ["apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"]
    assert {(w["version"], w["reason"], w["key"]) for w in withdrawn.values()} == {
        ("3.3.3", "a licence problem", "ABCD"), ("1.3.3", "a licence problem", "ABCD")}
    assert withdrawn["apache-airflow-task-sdk"]["index"] == "yanked apache-airflow-task-sdk 1.3.3"
    assert said[:2] == [f"https://svn.test/release/apache-airflow/{folder} stays until invoke cleanup "
                        "--train core lists it (the ASF archive keeps it)"
                        for folder in ("3.3.3", "task-sdk/1.3.3")]
    before = path.read_bytes()
    again = withdraw_wave(config, CORE, date=DATE, only=(), reason="another", target=TARGET, say=said.append,
                          index=index)
    assert again.told == {} and path.read_bytes() == before  # a rerun changes nothing
    shown = withdraw_wave_plan(config, CORE, date=DATE, only=(), reason="x", target=TARGET)
    assert [a.where.value for a in shown.actions] == ["dist"] * 3 + ["svn"] * 2


def test_a_wave_finished_in_atr_is_recorded_told_and_what_atr_keeps_said(tmp_path: Path) -> None:
    table = airflow_table()
    table["trains"]["providers"]["staging"] = "atr"
    config = parse_config(tmp_path, {**table, "atr": "sandbox"})
    path = wave_record(tmp_path, atr_record())
    index, said = MemoryIndex(), []
    providers = config.train("providers")
    done = withdraw_wave(config, providers, date=DATE, only=("http",), reason="CVE", target=TARGET,
                         say=said.append, index=index)
    assert done.removed == () and index.yanked == {("apache-airflow-providers-http", "6.3.1")}
    entry = json.loads(path.read_text())["withdrawn"]["apache-airflow-providers-http"]
    assert entry["by_hand"] == done.withdrawal.by_hand and said[-1] == f"by hand: {entry['by_hand']}"
    assert "ask them to remove apache_airflow_providers_http-6.3.1.tar.gz, " in entry["by_hand"]
    shown = withdraw_wave_plan(config, providers, date=DATE, only=("http",), reason="x", target=TARGET)
    assert [a.where.value for a in shown.actions] == ["dist", "atr"]  # told already: the index is not


def test_a_train_staging_in_atr_has_nothing_in_svn_to_clean(tmp_path: Path) -> None:
    table = airflow_table()
    table["trains"]["providers"]["staging"] = "atr"
    config = parse_config(tmp_path, {**table, "atr": "sandbox"})
    for remove in (False, True):
        result = cleanup_train(config, config.train("providers"), target=TARGET, remove=remove, say=print)
        assert result.removals == () and result.revision is None and not result.listing.exists()
        assert result.nothing == (
            "nothing to remove: the providers train stages in ATR, which keeps each release, and puts "
            "nothing in svn dev/ or release/ (a draft ATR holds is deleted on ATR's own pages)")
