# SPDX-License-Identifier: Apache-2.0
"""`withdraw --train`'s run refuses before it reaches svn or the index: a wave not published, and a
wave another run holds (dist/<train>-<date>/.lock); wave.json stays as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release import locks
from release.config import parse_config
from release.errors import RefusedError
from release.pipeline.connect import Target
from release.pipeline.wave_withdraw import withdraw_wave
from tests.unit.plan.test_wave_withdraw import DATE, PROVIDERS, record
from tests.unit.test_trains import airflow_table

# svn and the index are never reached by these refusals: nothing answers at these addresses
TARGET = Target(registry="registry.test", index_upload="https://index.test/legacy/",
                index_simple="https://index.test/simple/", svn_dev="https://svn.test/dev",
                svn_release="https://svn.test/release", signing_key="ABCD", keys_url="https://svn.test/KEYS")


def wave_record(root: Path, data: dict[str, object]) -> Path:
    path = root / "dist" / f"providers-{DATE}" / "wave.json"
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
