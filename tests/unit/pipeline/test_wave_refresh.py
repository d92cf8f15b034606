# SPDX-License-Identifier: Apache-2.0
"""`refresh --train`'s observation and refusals, in an in-memory registry whose base images' digests
are known: the core's 3.3.3 published by `publish --train`, one flavour's base moved since, the other
not; only the wave's own final tags are looked at; a run with nothing stale records nothing; a
withdrawn release is refused before anything; `--version` finds its wave. And where the rebuild's
inputs come from: the wave's voted wheels whatever version their names carry, its constraints files
by the sha512 wave.json records."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from release.adapters.clients import Clients
from release.config import parse_config
from release.errors import RefusedError
from release.identity import ImageId
from release.pipeline.wave_images import publish_images
from release.pipeline.wave_refresh import refresh_wave, refresh_wave_plan, wave_of_version
from release.plan.images import OCI
from release.record import ImageEntry
from release.steps.refresh import folder_constraints, folder_wheels
from tests.unit.memory import MemoryBases, MemoryIndex, MemoryRegistry
from tests.unit.pipeline.test_wave_images import IMAGE, VERSION
from tests.unit.pipeline.test_wave_withdraw import TARGET, wave_record
from tests.unit.plan.test_wave_withdraw import CORE, DATE, core_record
from tests.unit.test_trains import airflow_table

BASE = {"3.11": "python:3.11-slim-bookworm", "3.13": "python:3.13-slim-bookworm"}


def published(tmp_path: Path, registry: MemoryRegistry, **extra: Any) -> Path:
    """The core's 3.3.3 candidate images, each labelled with its base and the base's digest then,
    given their final tags by `publish --train`; the wave's wave.json."""
    config = parse_config(tmp_path, airflow_table())
    pushed = {}
    for flavour, base in BASE.items():
        tag = f"3.3.3rc1-python{flavour}"
        labels = {VERSION: "3.3.3", f"{OCI}.base.name": base, f"{OCI}.base.digest": f"sha256:{flavour}-then"}
        digest = registry.push(IMAGE, tag, labels)
        entry = ImageEntry(flavour, f"registry.test/{IMAGE}:{tag}", digest, "", "sha256:in", base, "sha256:b")
        pushed[entry.key] = asdict(entry)
    images = {"candidate": "3.3.3rc1", "version": "3.3.3", "pushed": pushed}
    done = publish_images(config, images, Clients(registry, MemoryIndex()), say=lambda line: None)
    recorded = core_record(images=images, date=DATE, train="core", **extra)
    recorded["published"]["images"] = {e.tag: e.digest for e in done.tags if e.digest}
    return wave_record(tmp_path, recorded, "core")


def clients(registry: MemoryRegistry, moved: bool) -> Clients:
    """The 3.11 base moved since the images were built (when `moved`); the 3.13 one did not."""
    return Clients(registry, MemoryIndex(), engine=MemoryBases({
        BASE["3.11"]: "sha256:3.11-now" if moved else "sha256:3.11-then", BASE["3.13"]: "sha256:3.13-then"}))


def test_the_dry_run_rebuilds_the_tag_whose_base_moved_and_leaves_the_other(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    path = published(tmp_path, registry)
    registry.push(IMAGE, "3.2.0-python3.11", {})  # another release's: not the wave's, not looked at
    config = parse_config(tmp_path, airflow_table())
    plan = refresh_wave_plan(config, CORE, date=DATE, target=TARGET, clients=clients(registry, moved=True))
    assert plan.refusals == ()
    assert [a.does.split(" (")[0] for a in plan.actions] == [
        f"rebuild 3.3.3-python3.11 FROM {BASE['3.11']}", "leave 3.3.3-python3.13: base current",
        f"append each refresh to {path} under `refreshed`"]
    assert "(base sha256:3.11-then -> sha256:3.11-now)" in plan.actions[0].does


def test_a_run_with_every_base_current_changes_and_records_nothing(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    path = published(tmp_path, registry)
    config = parse_config(tmp_path, airflow_table())
    before, tags = path.read_bytes(), dict(registry.repositories[IMAGE])
    said: list[str] = []
    done = refresh_wave(config, CORE, date=DATE, target=TARGET, say=said.append,
                        clients=clients(registry, moved=False))
    assert done.report.nothing_to_do and done.record == path
    assert [i.tag for i in done.report.items] == ["3.3.3-python3.11", "3.3.3-python3.13"]
    assert path.read_bytes() == before and registry.repositories[IMAGE] == tags
    assert said[-1] == "nothing to do: every image's base is current"
    assert not (tmp_path / "docs").exists()  # no refresh log either


def test_a_withdrawn_release_is_refused_before_the_registry_is_read(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    path = published(tmp_path, registry, withdrawn={"apache-airflow": {"version": "3.3.3"}})
    config = parse_config(tmp_path, airflow_table())
    before = path.read_bytes()
    refused = Clients(MemoryRegistry(), MemoryIndex(), engine=MemoryBases({}))  # nothing there to read
    with pytest.raises(RefusedError, match=r"^3\.3\.3 \(the core wave of .*\) is withdrawn"):
        refresh_wave(config, CORE, date=DATE, target=TARGET, say=print, clients=refused)
    plan = refresh_wave_plan(config, CORE, date=DATE, target=TARGET, clients=refused)
    assert plan.actions == () and len(plan.refusals) == 1 and path.read_bytes() == before


def test_version_finds_the_wave_that_published_its_images(tmp_path: Path) -> None:
    published(tmp_path, MemoryRegistry())
    config = parse_config(tmp_path, airflow_table())
    assert wave_of_version(config, CORE, "3.3.3") == DATE
    with pytest.raises(RefusedError, match=r"^--version 3\.3\.2: no wave of the core train in dist/"):
        wave_of_version(config, CORE, "3.3.2")


def test_the_voted_wheels_are_found_by_sha256_whatever_version_their_names_carry(tmp_path: Path) -> None:
    svn = tmp_path / "svn"
    svn.mkdir()
    shas = []
    for name in ("apache_airflow-3.3.3-py3-none-any.whl", "apache_airflow_task_sdk-1.3.3-py3-none-any.whl"):
        (svn / name).write_bytes(name.encode())
        shas.append(hashlib.sha256(name.encode()).hexdigest())
    find = folder_wheels(svn)
    assert [p.name for p in find("3.3.3", shas) or []] == ["apache_airflow-3.3.3-py3-none-any.whl",
                                                          "apache_airflow_task_sdk-1.3.3-py3-none-any.whl"]
    assert find("3.3.3", [*shas, "0" * 64]) is None and find("3.3.3", []) is None


def test_the_constraints_are_the_waves_files_with_the_recorded_sha512(tmp_path: Path) -> None:
    (tmp_path / "constraints").mkdir()
    written = tmp_path / "constraints" / "constraints-3.11.txt"
    written.write_text("apache-airflow==3.3.3\n")
    sha512 = hashlib.sha512(written.read_bytes()).hexdigest()
    recorded = {"constraints/constraints-3.11.txt": {"sha512": sha512}}  # as the constraints step records it
    find = folder_constraints(tmp_path, recorded)
    assert find("3.3.3", ImageId("3.11")) == written
    assert find("3.3.3", ImageId("3.13")) is None  # none recorded
    written.write_text("apache-airflow==3.3.3\nrequests==2.0\n")  # changed since: not what was released
    assert find("3.3.3", ImageId("3.11")) is None
