# SPDX-License-Identifier: Apache-2.0
"""`withdraw --train`'s run refuses before it reaches svn or the index: a wave not published, and a
wave another run holds (dist/<train>-<date>/.lock); wave.json stays as it was. A versioned train's
release and a wave finished in ATR are withdrawn without svn (an in-memory index told), and a
train staging in ATR has nothing in svn to clean up. A versioned train's published images are
withdrawn as a single release's are, in an in-memory registry: `withdrawn-V` on the voted image, the
aliases back to the earlier final or left on V when nothing else holds them, a rerun changing
nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release import locks
from release.adapters.clients import Clients
from release.config import parse_config
from release.errors import RefusedError
from release.pipeline.connect import Target
from release.pipeline.trains import cleanup_train
from release.pipeline.wave_images import publish_images
from release.pipeline.wave_withdraw import withdraw_wave, withdraw_wave_plan
from tests.unit.memory import MemoryIndex, MemoryRegistry
from tests.unit.pipeline.test_wave_images import IMAGE, candidate_images, released_332
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
    clients = Clients(MemoryRegistry(), index)
    done = withdraw_wave(config, CORE, date=DATE, only=(), reason="a licence problem", target=TARGET,
                         say=said.append, clients=clients)
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
                          clients=clients)
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
                         say=said.append, clients=Clients(MemoryRegistry(), index))
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


def published_core(tmp_path: Path, registry: MemoryRegistry, *, earlier: bool) -> tuple[Path, dict[str, str]]:
    """The core's 3.3.3 published as `publish --train` publishes it (the voted images given their final
    tags and aliases), 3.3.2 released before it when `earlier`; its wave.json, and the voted digests."""
    config = parse_config(tmp_path, airflow_table())
    if earlier:
        released_332(registry)
    images = candidate_images(registry, "3.3.3rc1", "3.3.3")
    done = publish_images(config, images, Clients(registry, MemoryIndex()), say=lambda line: None)
    recorded = core_record(images=images)
    recorded["published"]["images"] = {e.tag: e.digest for e in done.tags if e.digest}
    voted = {p: registry.repositories[IMAGE][f"3.3.3rc1-python{p}"] for p in ("3.11", "3.13")}
    return wave_record(tmp_path, recorded, "core"), voted


ALIASES = [f"{prefix}{flavour}" for prefix in ("3.3", "latest")
           for flavour in ("", "-python3.11", "-python3.13")]


def test_a_versioned_trains_images_are_marked_and_latest_goes_back_to_the_earlier_final(tmp_path: Path
                                                                                        ) -> None:
    registry = MemoryRegistry()
    path, voted = published_core(tmp_path, registry, earlier=True)
    config = parse_config(tmp_path, airflow_table())
    old = registry.repositories[IMAGE]["3.3.2-python3.11"]
    clients = Clients(registry, MemoryIndex())
    shown = withdraw_wave_plan(config, CORE, date=DATE, only=(), reason="x", target=TARGET, clients=clients)
    assert [a.where.value for a in shown.actions] == ["dist"] * 3 + ["registry"] * 7 + ["svn"] * 2 + [
        "index"] * 3
    assert shown.actions[3].does == (
        f"tag registry.test/{IMAGE}:withdrawn-3.3.3 on 3.3.3-python3.11 ({voted['3.11']}): publishes the "
        "withdrawal")
    said: list[str] = []
    done = withdraw_wave(config, CORE, date=DATE, only=(), reason="CVE", target=TARGET, say=said.append,
                         clients=clients)
    tags = registry.repositories[IMAGE]
    assert tags["withdrawn-3.3.3"] == voted["3.11"]
    assert tags["latest"] == tags["3.3"] == tags["latest-python3.11"] == old
    # 3.3.2 has one flavour's image only: the 3.13 aliases have nowhere to go and, as for a single
    # release, stay on 3.3.3
    assert tags["latest-python3.13"] == tags["3.3-python3.13"] == voted["3.13"]
    assert done.aliases["latest-python3.13"] == "no other release can hold latest-python3.13: 3.3.2 has no " \
                                                "python3.13 image; it stays on 3.3.3"
    assert (tags["3.3.3"], tags["3.3.3-python3.11"], tags["3.3.3-python3.13"]) == (
        voted["3.11"], voted["3.11"], voted["3.13"])  # its own tags stay
    recorded = json.loads(path.read_text())["withdrawn_images"]
    assert (recorded["version"], recorded["marker"], recorded["digest"]) == ("3.3.3", "withdrawn-3.3.3",
                                                                            voted["3.11"])
    assert recorded["aliases"]["latest"] == "3.3.2-python3.11"
    before, registry_before = path.read_bytes(), dict(tags)
    again = withdraw_wave(config, CORE, date=DATE, only=(), reason="another", target=TARGET, say=said.append,
                          clients=clients)
    assert path.read_bytes() == before and registry.repositories[IMAGE] == registry_before
    assert again.told == {} and all(why.startswith("does not point at") or why.endswith("stays on 3.3.3")
                                    for why in again.aliases.values())
    rerun = withdraw_wave_plan(config, CORE, date=DATE, only=(), reason="x", target=TARGET, clients=clients)
    assert next(a.does for a in rerun.actions if a.where.value == "registry") == (
        f"leave registry.test/{IMAGE}:withdrawn-3.3.3 as it is: the withdrawal is published already")


def test_the_only_releases_aliases_stay_on_it_and_a_missing_image_is_refused_before_anything(
        tmp_path: Path) -> None:
    registry = MemoryRegistry()
    path, voted = published_core(tmp_path, registry, earlier=False)
    config = parse_config(tmp_path, airflow_table())
    done = withdraw_wave(config, CORE, date=DATE, only=(), reason="CVE", target=TARGET, say=print,
                         clients=Clients(registry, MemoryIndex()))
    tags = registry.repositories[IMAGE]
    assert tags["withdrawn-3.3.3"] == tags["latest"] == tags["3.3"] == voted["3.11"]
    assert all(done.aliases[a].endswith("it stays on 3.3.3") for a in ALIASES)
    # a wave whose final image is gone from the registry: refused, nothing recorded or told
    other, index = MemoryRegistry(), MemoryIndex()
    before = path.read_text().replace('"withdrawn"', '"was"')
    path.write_text(before)
    missing = r"^the registry has no 3\.3\.3-python3\.11 image to mark withdrawn"
    with pytest.raises(RefusedError, match=missing):
        withdraw_wave(config, CORE, date=DATE, only=(), reason="CVE", target=TARGET, say=print,
                      clients=Clients(other, index))
    assert path.read_text() == before and index.yanked == set()
    shown = withdraw_wave_plan(config, CORE, date=DATE, only=(), reason="x", target=TARGET,
                               clients=Clients(other, index))
    assert shown.refusals[0].startswith("the registry has no 3.3.3-python3.11 image")
