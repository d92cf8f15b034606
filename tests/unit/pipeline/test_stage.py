# SPDX-License-Identifier: Apache-2.0
"""Staging's steps in order (pipeline/stage.py): a candidate that is not as built and signed, or
whose files fail the PMC's checks by hand, is refused before git, svn or ATR is reached (a process
started here would fail the test, tests/unit/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from release.errors import RefusedError, VerificationError
from release.pipeline.stage import stage_in_svn, upload_candidate
from release.plan.atr import plan_atr
from release.record import load_record, release_dir
from release.versions import parse_version
from tests.unit.builders import TARGET, place_signed, sample_config
from tests.unit.memory import MemoryAtr

RC = parse_version("1.10.6rc1")
SDIST = "sample_app-1.10.6.tar.gz"  # bytes that are no .tar.gz: the PMC's checks fail on it
WHEEL = "sample_app-1.10.6-py3-none-any.whl"
FAILS = re.escape(f"the candidate fails the PMC checks, nothing was staged: {SDIST}: cannot be read as a "
                  ".tar.gz")
ATR = {"staging": "atr", "atr": "https://atr.test", "atr-project": "sample",
       "mailing-list": "dev@sample.test"}


def test_a_candidate_failing_the_pmc_checks_is_not_committed_to_svn(tmp_path: Path) -> None:
    config = sample_config(tmp_path)
    place_signed(tmp_path, str(RC), [SDIST, WHEEL])
    with pytest.raises(VerificationError, match=FAILS):
        stage_in_svn(config, RC, svn_dev_url=TARGET.svn_dev, keys_url=TARGET.keys_url)
    assert load_record(release_dir(tmp_path, str(RC)), str(RC)).stage is None


def test_a_candidate_not_built_and_signed_is_refused_before_the_pmc_checks(tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match=re.escape("build and sign 1.10.6rc1 before staging it")):
        stage_in_svn(sample_config(tmp_path), RC, svn_dev_url=TARGET.svn_dev, keys_url=TARGET.keys_url)


def test_atr_gets_nothing_of_a_candidate_not_the_plan_s_or_failing_the_pmc_checks(tmp_path: Path) -> None:
    config = sample_config(tmp_path, ATR)
    place_signed(tmp_path, str(RC), [SDIST, WHEEL])
    client = MemoryAtr()
    other = plan_atr(config, RC, voted=[f"svn/{WHEEL}"])
    assert other is not None
    with pytest.raises(RefusedError, match=f"but the plan uploads {re.escape(WHEEL)}"):
        upload_candidate(config, RC, other, client, keys_text="")
    plan = plan_atr(config, RC, voted=[f"svn/{SDIST}", f"svn/{WHEEL}"])
    assert plan is not None
    with pytest.raises(VerificationError, match=FAILS):
        upload_candidate(config, RC, plan, client, keys_text="")
    assert client.calls == [] and client.files == {}
