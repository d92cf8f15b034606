# SPDX-License-Identifier: Apache-2.0
"""A provider wave staged in Apache Trusted Releases (`[tool.release.trains.providers] staging =
"atr"`), executed from its plan with an in-memory ATR (`MemoryAtr`): the build, signing, PMC checks
and tags stood in for as in test_wave_run.py, the ATR steps, the index's and the vote email's
runners the real ones. What goes to ATR, what is recorded, what a rerun and a blocking check do,
then the vote resolved in ATR, an exclusion refused, promotion refusing a release whose vote is
not resolved or whose files are not those built and signed, the published wave finished in ATR,
and what is refused for a train in ATR (verify, a versioned train's publication)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from release.adapters import atr
from release.adapters.atr import AtrTarget, Check
from release.config import ReleaseConfig, parse_config
from release.errors import RefusedError, ReleaseError, VerificationError
from release.pipeline.connect import Target
from release.pipeline.trains import (
    Wave,
    finish_wave_in_atr,
    plan_train,
    promote_wave,
    publish_wave,
    read_staged_in_atr,
    run_to_json,
    staged_files,
    verify_wave,
    vote_result_wave,
    wave_directory,
)
from release.pipeline.wave_run import Runner, Signed, WaveRunning, run_wave
from release.plan.wave import WaveStepName, wave_promotion
from tests.unit.memory import MemoryAtr, MemoryIndex
from tests.unit.pipeline.test_trains import DATE, PMC, PROVIDERS, three_changed
from tests.unit.pipeline.test_wave_run import FINGERPRINT, TARGET, MemoryWave
from tests.unit.test_trains import airflow_table

ATR_TARGET = Target(**{**TARGET.__dict__, "atr": AtrTarget("https://atr.test", "test", "test")})
RELEASE = f"providers-{DATE}"
STEPS = ["build", "sign", "PMC checks", "atr-upload", "atr-checks", "tags", "index", "vote email", "atr-vote"]
VOTE_PAGE = f"https://atr.test/vote/test/{RELEASE}"
KEYS = "the release managers' keys\n"


class SignedWithKeys(MemoryWave):
    """MemoryWave whose signing also writes the KEYS it signed against, as the real step does."""

    def runners(self) -> dict[WaveStepName, Runner]:
        return {**super().runners(), WaveStepName.SIGN: self.sign_with_keys}

    def sign_with_keys(self, run: WaveRunning) -> Signed:
        keys = run.directory / ".keys" / "KEYS"
        keys.parent.mkdir(parents=True, exist_ok=True)
        keys.write_text(KEYS)
        return self.sign(run)


def setup(tmp_path: Path) -> tuple[ReleaseConfig, SignedWithKeys, MemoryAtr]:
    table = airflow_table()
    table["trains"]["providers"]["staging"] = "atr"
    config = parse_config(tmp_path, {**table, "atr": "sandbox", "binding-voters": PMC})
    return config, SignedWithKeys(three_changed()), MemoryAtr()


def planned(config: ReleaseConfig, memory: MemoryWave) -> Wave:
    """The configured providers train's wave (it stages in ATR)."""
    return plan_train(config, config.train("providers"), date=DATE, reader=memory.git)


def run(config: ReleaseConfig, memory: MemoryWave, client: MemoryAtr | None,
        said: list[str] | None = None) -> Any:
    return run_wave(config, planned(config, memory), ATR_TARGET,
                    key=FINGERPRINT, runners=memory.runners(), index=memory.index, atr=client,
                    announce=lambda name, does: None, say=(said if said is not None else []).append)


def recorded(config: ReleaseConfig) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((config.root / "dist" / RELEASE / "wave.json").read_text())
    return data


def voted_names(memory: MemoryWave) -> list[str]:
    plan = plan_train(parse_config(Path("/x"), airflow_table()), PROVIDERS, date=DATE, reader=memory.git).plan
    names = [f for e in plan.entries for f in e.files] + [
        plan.source_tarball + s for s in ("", ".asc", ".sha512")]
    return sorted(names)


def test_a_wave_staging_in_atr_is_uploaded_checked_and_voted_on_there_and_nothing_goes_to_svn(
        tmp_path: Path) -> None:
    config, memory, client = setup(tmp_path)
    said: list[str] = []
    done = run(config, memory, client, said)
    assert done.steps == tuple(STEPS) and memory.svn == {} and memory.revisions == []  # no svn commit
    assert [s.value for s in memory.ran] == ["build", "sign", "PMC checks", "tags"]
    assert sorted(client.files[RELEASE]) == voted_names(memory)  # 21: each file, .asc and .sha512
    assert client.phases[RELEASE] == atr.CANDIDATE and client.keys == {FINGERPRINT}
    assert client.kept_ignores == [atr.RAT_JAR_MISSING]  # the sandbox's RAT cannot run offline
    revision = f"{client.revisions[RELEASE]:05d}"
    assert revision == "00022"  # the draft's first revision, then one per file
    assert client.votes == [(RELEASE, revision, atr.SANDBOX_MAILING_LIST,
                             f"[VOTE] Release Apache Airflow providers {DATE}: 3 distributions")]
    data = recorded(config)
    assert data["steps"] == STEPS and "revision" not in data["staged"]
    assert data["staged"]["url"] == VOTE_PAGE and sorted(data["staged"]["files"]) == voted_names(memory)
    assert data["atr"] == {"release": RELEASE, "revision": revision, "vote_started": True}
    assert done.staged == (VOTE_PAGE,) and done.revision is None and done.atr is not None
    assert run_to_json(planned(config, memory), done)["atr"] == {"release": RELEASE, "revision": revision}
    email = (wave_directory(config, planned(config, memory).plan) / "vote-email.txt").read_text()
    assert email.startswith(f"To: {atr.SANDBOX_MAILING_LIST}\n")
    assert (f"are in Apache Trusted Releases, revision {revision}, on its vote page:\n\n  {VOTE_PAGE}\n"
            in email)
    assert "what is voted on is the files in ATR above" in email
    assert "svn" not in email.replace(TARGET.keys_url, "")  # KEYS is read from svn, nothing else
    assert f"ATR sends it to {atr.SANDBOX_MAILING_LIST} when the vote starts" in said[-2]
    assert said[-1] == (f"vote started in ATR sandbox project test release {RELEASE} on revision {revision}")


def test_a_rerun_uploads_nothing_and_starts_no_second_vote(tmp_path: Path) -> None:
    config, memory, client = setup(tmp_path)
    run(config, memory, client)
    before, calls = recorded(config), list(client.calls)
    said: list[str] = []
    again = run(config, memory, client, said)
    assert client.calls == calls and len(client.votes) == 1  # nothing uploaded, no second vote
    assert recorded(config) == before and again.tags == ()
    assert any(line.endswith("(0 uploaded now)") for line in said)
    assert said[-1].startswith("vote already running or done in ATR")


def test_a_blocking_check_in_atr_stops_the_wave_naming_it_before_tags_the_index_and_the_vote(
        tmp_path: Path) -> None:
    config, memory, client = setup(tmp_path)
    sdist = "apache_airflow_providers_http-6.3.1.tar.gz"
    client.results = [Check("atr.tasks.checks.license.files", "failure", sdist, "NOTICE is not the ASF's"),
                      Check("atr.tasks.checks.rat.check", "failure", sdist, "Apache RAT JAR not found at: x")]
    with pytest.raises(VerificationError, match=(
            f"^ATR's checks of ATR sandbox project test release {RELEASE} revision 00022 fail: "
            f"atr.tasks.checks.license.files: failure on {sdist}: NOTICE is not the ASF's; no vote was "
            "started")):
        run(config, memory, client)
    assert recorded(config)["steps"] == STEPS[:4]  # uploaded; no tag, nothing on the index, no vote
    assert "providers-http/6.3.1rc1" not in memory.git.tags and memory.index.uploads == []
    assert client.votes == []


def test_a_voter_reads_a_wave_in_atr_from_the_latest_revision_of_its_release(tmp_path: Path) -> None:
    """What `verify --train` checks of a wave staged in ATR: each staged file's bytes as the revision
    the vote runs on holds them (uploaded by name), a file not there is None (named "not in ...")."""
    config, memory, client = setup(tmp_path)
    run(config, memory, client)
    plan = planned(config, memory).plan
    said: list[str] = []
    where, found = read_staged_in_atr(config, plan, client, tmp_path / "read", said.append)
    revision = f"{client.revisions[RELEASE]:05d}"
    assert where == f"ATR sandbox project test release {RELEASE} revision {revision}"
    assert said == [f"reading the wave's files from {where}"]
    staged = staged_files(plan, tmp_path / "wave")
    assert len(staged) == 21
    for relative in staged:
        assert found(relative) == client.files[RELEASE][relative.rsplit("/", 1)[-1]], relative
    del client.files[RELEASE]["apache_airflow_providers_http-6.3.1.tar.gz"]
    _, again = read_staged_in_atr(config, plan, client, tmp_path / "again", said.append)
    assert again("providers/apache_airflow_providers_http-6.3.1.tar.gz") is None


def test_verifying_a_wave_in_atr_needs_atrs_client(tmp_path: Path) -> None:
    config, memory, client = setup(tmp_path)
    run(config, memory, client)
    with pytest.raises(ReleaseError, match="this train stages in ATR: its commands run with ATR's client"):
        verify_wave(config, config.train("providers"), date=DATE, target=ATR_TARGET, rebuild=False,
                    say=lambda line: None, reader=memory.git)


def test_the_atr_steps_need_atrs_client(tmp_path: Path) -> None:
    config, memory, _ = setup(tmp_path)
    with pytest.raises(ReleaseError, match="the ATR steps of the wave run with ATR's client"):
        run(config, memory, None)
    assert recorded(config)["steps"] == STEPS[:3]


def count(config: ReleaseConfig, memory: MemoryWave, tmp_path: Path, client: MemoryAtr | None,
          **options: Any) -> Any:
    votes = tmp_path / "votes.txt"
    cast = (datetime.now(timezone.utc) + timedelta(hours=73)).isoformat()  # the vote ran its 72 hours
    votes.write_text("".join(f"+1 {who} <{who}@apache.org> {cast}\n" for who in ("jane", "jarek", "kaxil")))
    later = datetime.now(timezone.utc) + timedelta(days=4)
    return vote_result_wave(config, config.train("providers"), date=DATE, votes=votes, closed_at=None,
                            reader=memory.git, say=lambda line: None, atr=client, now=later,
                            **{"excluded": {}, **options})


def test_the_count_resolves_atrs_vote_and_an_exclusion_is_refused_as_atr_cannot_remove_a_file(
        tmp_path: Path) -> None:
    config, memory, client = setup(tmp_path)
    run(config, memory, client)
    with pytest.raises(RefusedError, match=(
            "^train providers stages in ATR, which cannot remove a file from the voted revision: nothing "
            r"can be excluded at its vote \(fail the vote; a later wave takes the rest\)$")):
        count(config, memory, tmp_path, client, excluded={"ftp": "a regression"})
    assert "vote" not in recorded(config) and client.phases[RELEASE] == atr.CANDIDATE
    with pytest.raises(ReleaseError, match="this train stages in ATR: its commands run with ATR's client"):
        count(config, memory, tmp_path, None)
    result = count(config, memory, tmp_path, client)
    assert result.tally.passed and client.phases[RELEASE] == atr.PREVIEW
    count(config, memory, tmp_path, client)  # again: ATR holds the result already
    assert client.phases[RELEASE] == atr.PREVIEW


def test_promotion_refuses_an_unresolved_vote_and_files_that_are_not_those_built_and_signed(
        tmp_path: Path) -> None:
    config, memory, client = setup(tmp_path)
    run(config, memory, client)
    record = recorded(config)
    record["vote"] = {"passed": True, "promoted": [], "excluded": {}}
    (config.root / "dist" / RELEASE / "wave.json").write_text(json.dumps(record))

    def promote() -> Any:
        return promote_wave(config, config.train("providers"), date=DATE, target=ATR_TARGET,
                            say=lambda line: None, reader=memory.git, atr=client)

    with pytest.raises(RefusedError, match=(f"^the vote on ATR sandbox project test release {RELEASE} is not "
                                            r"resolved as passed in ATR \(phase release_candidate\)")):
        promote()
    client.phases[RELEASE] = atr.PREVIEW
    sdist = "apache_airflow_providers_http-6.3.1.tar.gz"
    client.files[RELEASE][sdist] += b"\0"
    with pytest.raises(RefusedError, match=f"^{sdist} in ATR .* is not what was built and signed"):
        promote()
    client.files[RELEASE]["extra.txt"] = b"not voted on"
    with pytest.raises(RefusedError, match=r"holds other files than were staged for the vote \(extra.txt\)"):
        promote()
    assert "promoted" not in recorded(config) and "providers-http/6.3.1" not in memory.git.tags


def test_a_published_wave_is_finished_in_atr_announced_and_its_packages_recorded_once(
        tmp_path: Path) -> None:
    """What `publish --train` does after the index: ATR finishes the release (its files to the train's
    folder in ATR's downloads, the [ANNOUNCE] sent to ATR's list), each package recorded on PyPI; ATR
    refusing because it cannot reach PyPI is a warning naming it; run again, nothing changes."""
    config, memory, client = setup(tmp_path)
    run(config, memory, client)
    count(config, memory, tmp_path, client)  # the vote, resolved as passed in ATR
    promotion = wave_promotion(planned(config, memory).plan, ())
    record = recorded(config)
    downloads = "https://atr.test/downloads/test/providers"
    record.update(promoted={"url": downloads, "files": list(promotion.files), "tags": list(promotion.tags),
                            "superseded": [], "folders": []},
                  published={"index": TARGET.index_upload, "files": []})
    (config.root / "dist" / RELEASE / "wave.json").write_text(json.dumps(record))
    client.offline = True
    said: list[str] = []
    train = config.train("providers")
    assert finish_wave_in_atr(config, train, date=DATE, target=ATR_TARGET, atr=client, say=said.append)
    assert client.announced == [(RELEASE, atr.SANDBOX_MAILING_LIST, "providers")]
    assert client.phases[RELEASE] == atr.RELEASED
    found = recorded(config)["atr"]
    assert found["finished"] is True and found["release"] == RELEASE
    assert [(d["package"], d["version"], d["recorded"]) for d in found["distributions"]] == [
        ("apache-airflow-providers-common-io", "1.11.1", False),
        ("apache-airflow-providers-ftp", "3.16.2", False), ("apache-airflow-providers-http", "6.3.1", False)]
    assert found["distributions"][2]["warning"] == (
        "ATR did not record apache-airflow-providers-http 6.3.1 on pypi")
    email = (config.root / "dist" / RELEASE / "announce-email.txt").read_text()
    assert email.startswith(f"To: {atr.SANDBOX_MAILING_LIST}\n") and downloads in email
    assert said[0] == f"ATR sandbox project test release {RELEASE} finished and announced"
    assert not finish_wave_in_atr(config, train, date=DATE, target=ATR_TARGET, atr=client, say=said.append)
    assert len(client.announced) == 1 and recorded(config)["atr"] == found


def test_publishing_a_versioned_train_staged_in_atr_is_refused_before_any_service(tmp_path: Path) -> None:
    config = parse_config(tmp_path, {**airflow_table(), "atr": "sandbox", "staging": "atr"})
    with pytest.raises(RefusedError, match=r"^train core has a folder per release in svn: finishing it in "
                                           r"ATR \(which sends its announcement\) is not carried out yet"):
        publish_wave(config, config.train("core"), date=DATE, target=ATR_TARGET, index=MemoryIndex(),
                     say=lambda line: None, atr=MemoryAtr())
