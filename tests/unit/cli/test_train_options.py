# SPDX-License-Identifier: Apache-2.0
"""`--train`, `--only`, `--date` and `--exclude` on `invoke release`, `invoke build`, `invoke vote-result`,
`invoke withdraw` and `invoke refresh`, `--version` on `invoke verify --train` and `invoke refresh
--train` and `--include` on `invoke cleanup --train`:
what they refuse, each in one line with its exit code, before any git, build or svn command runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from release import console
from release.cli.collection import release as release_task
from release.cli.housekeeping import cleanup as cleanup_task
from release.cli.housekeeping import withdraw as withdraw_task
from release.cli.images import refresh as refresh_task
from release.cli.vote import build as build_task
from release.cli.vote import verify as verify_task
from release.cli.vote import vote_result as vote_result_task
from tests.unit.test_trains import AIRFLOW


@pytest.fixture
def airflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(AIRFLOW)
    monkeypatch.setenv("RELEASE_ROOT", str(tmp_path))
    return tmp_path


def refused(task: object, monkeypatch: pytest.MonkeyPatch, **options: object) -> tuple[int, str]:
    monkeypatch.setattr(console.err, "width", 300)
    with console.err.capture() as captured, pytest.raises(Exit) as caught:
        task(Context(), **options)  # type: ignore[operator]
    return int(caught.value.code), captured.get().strip()


@pytest.mark.parametrize("task", [release_task, build_task])
def test_a_wave_takes_its_versions_from_the_tree_not_from_version(
        task: object, airflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = refused(task, monkeypatch, train="providers", version="6.3.1")
    assert code == 1 and said.startswith("error: --version goes without --train providers: each distribution")
    assert "\n" not in said


@pytest.mark.parametrize("task", [release_task, build_task])
def test_only_and_date_go_with_a_train(task: object, airflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = refused(task, monkeypatch, version="3.3.3", only="http")
    assert (code, said) == (1, "error: --only and --date go with --train NAME, a train of "
                               "[tool.release.trains]")


def test_an_unknown_train_names_the_ones_there_are(airflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = refused(release_task, monkeypatch, train="helm-chart", dry_run=True)
    assert (code, said) == (2, "error: no train 'helm-chart' in [tool.release] trains (there are: core, "
                               "providers)")


def test_the_releases_own_train_without_trains_is_the_release_as_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.release]\nname = "sample-app"\npython = ["3.11"]\n')
    monkeypatch.setenv("RELEASE_ROOT", str(tmp_path))
    code, said = refused(release_task, monkeypatch, train="sample-app", dry_run=True)
    assert (code, said) == (1, "error: --version is required, e.g. --version 1.10.6")


def test_a_waves_vote_needs_votes_and_a_reason_for_each_exclusion(airflow: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = refused(vote_result_task, monkeypatch, train="providers", votes="votes.txt", exclude="ftp")
    assert (code, said) == (1, "error: --exclude needs --reason: why the vote excluded them is recorded")
    code, said = refused(vote_result_task, monkeypatch, train="providers", exclude="ftp", reason="broken")
    assert code == 1 and said.startswith("error: --votes is required")
    code, said = refused(vote_result_task, monkeypatch, version="3.3.3rc1", votes="v.txt", exclude="ftp")
    assert code == 1 and said.startswith("error: --exclude and --reason go with --train NAME")
    code, said = refused(vote_result_task, monkeypatch, train="providers", votes="v.txt", date="2026-12-07")
    assert code == 6 and "the providers wave of 2026-12-07 was never staged for a vote" in said



def test_a_versioned_trains_vote_excludes_nothing_in_one_line_and_its_dry_run_says_so(
        airflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    why = ("train core releases its distributions together: none can be excluded at its vote (a vote that "
           "fails is followed by a new candidate of all of them)")
    options = {"train": "core", "votes": "v.txt", "date": "2026-12-07", "exclude": "apache-airflow-task-sdk",
               "reason": "broken"}
    assert refused(vote_result_task, monkeypatch, **options) == (6, f"error: {why}")
    with console.err.capture() as captured:
        vote_result_task(Context(), dry_run=True, **options)
    assert f"a run would refuse: {why}" in " ".join(captured.get().split())


@pytest.mark.parametrize(("options", "says"), [
    ({"train": "providers", "date": "2026-12-07", "only": "http"},
     'error: --reason is required: say why the distributions are withdrawn, e.g. --reason "CVE-..."'),
    ({"train": "providers", "version": "6.3.1", "reason": "CVE"},
     "error: --train providers takes --date, --only and --reason: the wave's record says what it released "
     "(--version and --sign-with are not for waves)"),
    ({"version": "3.3.2", "only": "http", "reason": "CVE"},
     "error: --date, --only and --json go with --train NAME, a train of [tool.release.trains]"),
    ({"train": "providers", "date": "7.12.2026", "reason": "CVE"},
     "error: --date '7.12.2026': give the wave's date as YYYY-MM-DD, e.g. 2026-12-07"),
])
def test_a_waves_withdrawal_refuses_bad_options_in_one_line(
        options: dict[str, str], says: str, airflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert refused(withdraw_task, monkeypatch, **options) == (1, says)


@pytest.mark.parametrize(("train", "version", "says"), [
    ("core", "3.3.3", "error: --version '3.3.3': give the candidate the vote is on, e.g. 3.3.3rc1"),
    ("providers", "6.3.1rc1", "error: --version 6.3.1rc1: train providers's waves are found by their "
                              "date (--date); a candidate version names a wave of a train with a folder per "
                              "release")])
def test_verify_finds_only_a_versioned_trains_wave_by_its_candidate(
        train: str, version: str, says: str, airflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = refused(verify_task, monkeypatch, train=train, version=version)
    assert (code, said) == (6, says)


def test_a_trains_cleanup_takes_no_include(airflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = refused(cleanup_task, monkeypatch, train="core", include="3.3.3")
    assert (code, said) == (1, "error: --include goes without --train core: a train's cleanup keeps the "
                               "newest release of each distribution and line")


@pytest.mark.parametrize(("options", "code", "says"), [
    ({"train": "core", "date": "2026-12-07", "version": "3.3.3"}, 1,
     "error: give --date D or --version V, not both: each names the wave"),
    ({"date": "2026-12-07"}, 1,
     "error: --date, --version and --json go with --train NAME, a train of [tool.release.trains]"),
    ({"train": "nightly"}, 2,
     "error: no train 'nightly' in [tool.release] trains (there are: core, providers)"),
    ({"train": "core", "date": "7.12.2026"}, 1,
     "error: --date '7.12.2026': give the wave's date as YYYY-MM-DD, e.g. 2026-12-07"),
    ({"train": "core", "version": "3.3.3"}, 6,
     "error: --version 3.3.3: no wave of the core train in dist/ published images of 3.3.3; give its --date"),
])
def test_a_trains_refresh_refuses_bad_options_in_one_line_before_any_service(
        options: dict[str, str], code: int, says: str, airflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert refused(refresh_task, monkeypatch, **options) == (code, says)
