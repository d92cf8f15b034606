# SPDX-License-Identifier: Apache-2.0
"""`invoke release --train NAME --dry-run`: the wave planned from git facts (an in-memory history laid
out as Airflow's repository) and printed, every case a release manager meets, table and JSON."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from release import console
from release.cli.show import show_wave
from release.config import parse_config
from release.errors import ConfigError, RefusedError
from release.pipeline.connect import Target
from release.pipeline.trains import (
    Wave,
    WaveBuild,
    WaveRun,
    announce_wave,
    announce_wave_plan,
    build_wave,
    check_can_run,
    configured_train,
    find_staged_wave,
    plan_train,
    run_to_json,
    vote_result_wave,
    wave_directory,
)
from release.plan.wave import dev_folders, wave_promotion
from release.record import sha512_of
from release.trains import SvnLayout
from tests.unit.memory_git import MemoryGit
from tests.unit.test_trains import airflow_table

CONFIG = parse_config(Path("/airflow"), airflow_table())
CORE, PROVIDERS = CONFIG.train("core"), CONFIG.train("providers")
DATE = "2026-12-07"
RELEASED = {"common-io": "1.11.0", "ftp": "3.16.1", "http": "6.3.0", "imap": "3.13.1", "sqlite": "4.3.4"}


def folder(ident: str) -> str:
    return "providers/" + ident.replace("-", "/")


def provider_files(ident: str, versions: list[str], state: str = "ready") -> dict[str, str | None]:
    name = f"apache-airflow-providers-{ident}"
    listed = "".join(f"  - {v}\n" for v in versions)
    return {
        f"{folder(ident)}/provider.yaml": f"package-name: {name}\nstate: {state}\n"
                                          f"source-date-epoch: 1791328848\nversions:\n{listed}",
        f"{folder(ident)}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{versions[0]}"\n',
        f"{folder(ident)}/src/airflow/providers/{ident.replace('-', '/')}/__init__.py": "",
    }


def core_files(airflow: str = "3.3.2", sdk: str = "1.3.2") -> dict[str, str | None]:
    return {
        "pyproject.toml": f'[project]\nname = "apache-airflow"\nversion = "{airflow}"\n',
        "airflow-core/src/airflow/__init__.py": f'__version__ = "{airflow}"\n',
        "task-sdk/src/airflow/sdk/__init__.py": f'__version__ = "{sdk}"\n',
    }


def released() -> MemoryGit:
    """Airflow's tree as released: core 3.3.2 with the task SDK 1.3.2, five providers, each tagged."""
    git = MemoryGit()
    files = core_files()
    for ident, version in RELEASED.items():
        files.update(provider_files(ident, [version]))
    git.commit("Airflow 3.3.2 and its providers", files)
    for tag in ("3.3.2", "task-sdk/1.3.2", *(f"providers-{i}/{v}" for i, v in RELEASED.items())):
        git.tag(tag)
    return git


def change(git: MemoryGit, ident: str, *, to: str = "", state: str = "ready", subject: str = "") -> None:
    """A commit touching a provider's code, then (with `to`) one preparing its next version."""
    code = f"{folder(ident)}/src/airflow/providers/{ident.replace('-', '/')}/__init__.py"
    git.commit(subject or f"Fix {ident}", {code: f"# changed {len(git.commits)}\n"})
    if to or state != "ready":
        git.commit(f"Prepare {ident} {to}", provider_files(ident, [to or RELEASED[ident], RELEASED[ident]],
                                                           state))


def three_changed() -> MemoryGit:
    git = released()
    for ident, version in (("http", "6.3.1"), ("ftp", "3.16.2"), ("common-io", "1.11.1")):
        change(git, ident, to=version)
    return git


def wave(git: MemoryGit, **options: Any) -> Wave:
    return plan_train(CONFIG, PROVIDERS, date=DATE, reader=git, **options)


def shown(found: Wave, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    monkeypatch.setattr(console.err, "width", 400)
    lines: list[str] = []
    with console.err.capture() as captured:
        show_wave(found, project="apache-airflow", as_json=False, out=lines.append)
    return captured.get(), lines


def as_json(found: Wave, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    show_wave(found, project="apache-airflow", as_json=True)
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def rows(text: str, title: str) -> list[list[str]]:
    found, inside = [], False
    for line in text.splitlines():
        if line.startswith(title):
            inside = True
        elif inside and line.startswith("│"):
            found.append([cell.strip() for cell in line.strip("│").split("│")])
        elif inside and line.startswith("└"):
            break
    return found


def test_three_of_five_changed_shows_each_with_previous_commits_version_rc_tags_and_svn(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    git = three_changed()
    found = wave(git)
    assert found.commit == git.commits[-1][0] and found.git_calls == 4  # tree, files, tags, one log
    text, lines = shown(found, monkeypatch)
    assert rows(text, "Wave of train providers") == [
        ["apache-airflow-providers-common-io", "1.11.0", "2 since providers-common-io/1.11.0", "1.11.1",
         "rc1", "2 commits since providers-common-io/1.11.0"],
        ["apache-airflow-providers-ftp", "3.16.1", "2 since providers-ftp/3.16.1", "3.16.2", "rc1",
         "2 commits since providers-ftp/3.16.1"],
        ["apache-airflow-providers-http", "6.3.0", "2 since providers-http/6.3.0", "6.3.1", "rc1",
         "2 commits since providers-http/6.3.0"]]
    assert rows(text, "Tags")[2] == ["apache-airflow-providers-http", "providers-http/6.3.1rc1",
                                     "providers-http/6.3.1"]
    svn = [row for row in rows(text, "svn") if row[0] == "" or row[0].startswith("apache")]
    assert svn[0] == ["apache-airflow-providers-common-io",
                      "dev/apache-airflow/providers/apache_airflow_providers_common_io-1.11.1.tar.gz",
                      "release/apache-airflow/providers/apache_airflow_providers_common_io-1.11.1.tar.gz"]
    assert "apache-airflow-providers-http: " + git.commits[1][0][:12] + " Fix http" in lines
    assert ("unchanged since their last release: apache-airflow-providers-imap, "
            "apache-airflow-providers-sqlite") in lines
    assert ("source release: dev/apache-airflow/providers/apache_airflow_providers-2026-12-07-source.tar.gz"
            in lines)
    assert "wave tag: providers/2026-12-07" in lines
    data = as_json(found, capsys)
    http = data["distributions"][2]
    assert (http["previous"], http["since"], http["version"], http["rc"], http["candidate"]) == (
        "6.3.0", "providers-http/6.3.0", "6.3.1", 1, "6.3.1rc1")
    assert [c["subject"] for c in http["commits"]] == ["Prepare http 6.3.1", "Fix http"]
    assert http["tags"] == {"candidate": "providers-http/6.3.1rc1", "final": "providers-http/6.3.1"}
    assert http["svn"]["dev"] == [f"dev/apache-airflow/providers/{f}" for f in (
        "apache_airflow_providers_http-6.3.1.tar.gz", "apache_airflow_providers_http-6.3.1.tar.gz.asc",
        "apache_airflow_providers_http-6.3.1.tar.gz.sha512",
        "apache_airflow_providers_http-6.3.1-py3-none-any.whl",
        "apache_airflow_providers_http-6.3.1-py3-none-any.whl.asc",
        "apache_airflow_providers_http-6.3.1-py3-none-any.whl.sha512")]
    assert http["svn"]["release"] == [p.replace("dev/", "release/", 1) for p in http["svn"]["dev"]]
    assert http["source_date_epoch"] == 1791328848
    assert (data["train"], data["date"], data["commit"]) == ("providers", DATE, found.commit)
    assert data["vote_lines"][2] == "apache-airflow-providers-http 6.3.1rc1 (voted as 6.3.1)"
    assert data["unchanged"] == ["apache-airflow-providers-imap", "apache-airflow-providers-sqlite"]


def test_nothing_changed_says_so_and_lists_nothing(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    found = wave(released())
    text, lines = shown(found, monkeypatch)
    assert rows(text, "Wave of train providers") == []
    assert lines[-1] == ("nothing to release in train providers: no distribution changed since its last "
                         "release")
    assert not any(line.startswith(("source release", "wave tag", "the vote email")) for line in lines)
    data = as_json(found, capsys)
    assert data["distributions"] == [] and data["source_tarball"] is None and data["wave_tag"] is None
    assert len(data["unchanged"]) == 5


def test_a_provider_suspended_between_waves_is_left_out_saying_why(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    git = three_changed()
    change(git, "imap", to="3.13.2", state="suspended")
    found = wave(git)
    assert "apache-airflow-providers-imap" not in found.plan.names
    _, lines = shown(found, monkeypatch)
    assert ("left out: apache-airflow-providers-imap: suspended: a suspended distribution is never released "
            "(resume it: state ready)") in lines
    data = as_json(found, capsys)
    assert data["skipped"] == [{"name": "apache-airflow-providers-imap",
                                "reason": "suspended: a suspended distribution is never released "
                                          "(resume it: state ready)"}]


def test_a_removed_providers_last_release_then_nothing(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    git = released()
    change(git, "sqlite", to="4.3.5", state="removed")
    found = wave(git)
    (sqlite,) = found.plan.entries
    assert (sqlite.name, str(sqlite.candidate), sqlite.why) == (
        "apache-airflow-providers-sqlite", "4.3.5rc1", "removed: its one last release")
    text, _ = shown(found, monkeypatch)
    assert rows(text, "Wave of train providers")[0][-1] == "removed: its one last release"
    assert as_json(found, capsys)["distributions"][0]["state"] == "removed"
    git.tag("providers-sqlite/4.3.5rc1")
    git.tag("providers-sqlite/4.3.5")
    after = wave(git)
    assert after.plan.entries == ()
    assert after.plan.skipped[0].reason == "removed, and its last release 4.3.5 is out: its sources can go"


def test_an_rc3_beside_rc1s(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    git = three_changed()
    git.tag("providers-http/6.3.1rc1")
    git.tag("providers-http/6.3.1rc2")
    found = wave(git)
    text, lines = shown(found, monkeypatch)
    assert [row[4] for row in rows(text, "Wave of train providers")] == ["rc1", "rc1", "rc3"]
    assert rows(text, "Tags")[2][1] == "providers-http/6.3.1rc3"
    assert "apache-airflow-providers-http 6.3.1rc3 (voted as 6.3.1)" in lines[-2]
    data = as_json(found, capsys)
    assert [(d["id"], d["candidate"]) for d in data["distributions"]] == [
        ("common-io", "1.11.1rc1"), ("ftp", "3.16.2rc1"), ("http", "6.3.1rc3")]


def test_only_takes_the_listed_and_refuses_a_stranger() -> None:
    found = wave(three_changed(), only=("http",))
    assert found.plan.names == ("apache-airflow-providers-http",)
    with pytest.raises(RefusedError, match=r"^docker is not a distribution of this train$"):
        wave(three_changed(), only=("docker",))


def test_the_core_train_with_its_constraints_tag() -> None:
    git = released()
    git.tag("constraints-3.3.2")
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    found = plan_train(CONFIG, CORE, date=DATE, reader=git)
    assert [(e.name, str(e.candidate), e.tag) for e in found.plan.entries] == [
        ("apache-airflow", "3.3.3rc1", "3.3.3rc1"), ("apache-airflow-core", "3.3.3rc1", "3.3.3rc1"),
        ("apache-airflow-task-sdk", "1.3.3rc1", "task-sdk/1.3.3rc1")]
    assert found.plan.constraints is not None
    assert (found.plan.constraints.tag, found.plan.constraints.branch) == ("constraints-3.3.3rc1",
                                                                           "constraints-3-3")
    assert found.git_calls == 3  # a listed train reads no tree: the files, the tags, one log


def test_the_core_trains_dry_run_shows_its_rc_numbered_packages_pinning_each_others_candidates(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    found = plan_train(CONFIG, CORE, date=DATE, reader=git)
    text, lines = shown(found, monkeypatch)
    assert [r[1] for r in rows(text, "Package index") if r[1]][:2] == ["apache_airflow-3.3.3rc1.tar.gz",
                                                                       "apache_airflow-3.3.3rc1-py3-none-any.whl"]
    assert ("the rc-numbered packages pin each other's candidates where the tree pins the finals: "
            "apache-airflow 3.3.3 -> 3.3.3rc1, apache-airflow-core 3.3.3 -> 3.3.3rc1, "
            "apache-airflow-task-sdk 1.3.3 -> 1.3.3rc1") in lines
    assert [s["name"] for s in as_json(found, capsys)["steps"]][-3:] == ["index", "constraints tags",
                                                                          "vote email"]


def test_a_missing_version_file_is_one_line() -> None:
    git = released()
    git.commit("Move the SDK", {"task-sdk/src/airflow/sdk/__init__.py": None})
    with pytest.raises(ConfigError, match=r"^train core: task-sdk/src/airflow/sdk/__init__.py is not in the "
                                          r"commit; apache-airflow-task-sdk declares its version there$"):
        plan_train(CONFIG, CORE, date=DATE, reader=git)


def test_a_configuration_without_trains_is_its_own_train_run_as_before() -> None:
    plain = parse_config(Path("/t"), {"name": "sample-app", "python": ["3.11"]})
    assert configured_train(plain, "sample-app") is None  # the release as without --train
    with pytest.raises(ConfigError, match=r"no train 'providers'.*there are: sample-app"):
        configured_train(plain, "providers")
    assert configured_train(CONFIG, "providers") == PROVIDERS


def test_an_empty_wave_is_refused_in_one_line_and_a_versioned_trains_run_is_not() -> None:
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    check_can_run(CONFIG, plan_train(CONFIG, CORE, date=DATE, reader=git))  # a folder per release runs too
    with pytest.raises(RefusedError, match=r"^nothing to release in train providers: no distribution"):
        check_can_run(CONFIG, wave(released()))
    check_can_run(CONFIG, wave(three_changed()))


def test_building_an_empty_wave_is_refused_before_anything(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    with pytest.raises(RefusedError, match=r"^nothing to build in train providers: no distribution changed"):
        build_wave(config, plan_train(config, PROVIDERS, date=DATE, reader=released()), say=print)
    assert not (tmp_path / "dist").exists()


def test_a_built_wave_is_kept_when_unchanged_and_another_commits_refused(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    git = three_changed()
    found = plan_train(config, PROVIDERS, date=DATE, reader=git)
    directory = wave_directory(config, found.plan)
    assert directory == tmp_path / "dist/providers-2026-12-07"
    names = [f"svn/{found.plan.source_tarball}"] + [f"svn/{f}" for e in found.plan.entries for f in e.files
                                                    if not f.endswith((".asc", ".sha512"))]
    names += [f"pypi/{f}" for e in found.plan.entries for f in e.index_files]  # the rc-numbered ones
    assert "pypi/apache_airflow_providers_http-6.3.1rc1-py3-none-any.whl" in names
    for name in names:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(name.encode())
    files = {n: sha512_of(directory / n) for n in names}
    (directory / "wave.json").write_text(json.dumps({"commit": found.commit, "files": files}))
    said: list[str] = []
    built = build_wave(config, found, say=said.append)
    assert built.reused and built.files == files
    assert said == [f"13 files of the wave are built already in {directory} (sha512 as recorded)"]
    change(git, "imap", to="3.13.2")
    later = plan_train(config, PROVIDERS, date=DATE, reader=git)
    expected = f"{directory} holds the wave built from {found.commit[:12]}, HEAD is {later.commit[:12]}; move"
    with pytest.raises(RefusedError, match=f"^{re.escape(expected)}"):
        build_wave(config, later, say=said.append)


def test_a_rerun_of_a_tagged_wave_resumes_it_at_its_own_rc_numbers(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    git = three_changed()
    first = plan_train(config, PROVIDERS, date=DATE, reader=git)
    tags = [e.tag for e in first.plan.entries]
    for tag in tags:
        git.tag(tag)
    assert [e.rc for e in plan_train(config, PROVIDERS, date=DATE, reader=git).plan.entries] == [2, 2, 2]
    directory = wave_directory(config, first.plan)
    directory.mkdir(parents=True)
    (directory / "wave.json").write_text(json.dumps({"commit": first.commit, "tags": tags}))
    again = plan_train(config, PROVIDERS, date=DATE, reader=git)
    assert [e.tag for e in again.plan.entries] == tags
    change(git, "http", subject="Fix http again")  # a later commit: its own wave, the next rc
    assert [e.rc for e in plan_train(config, PROVIDERS, date=DATE, reader=git).plan.entries] == [2, 2, 2]


PMC = ["jane@apache.org", "jarek@apache.org", "kaxil@apache.org", "ash@apache.org"]


def staged_wave(tmp_path: Path, *, staged_at: str = "2026-12-07T10:00:00+00:00") -> tuple[Any, MemoryGit]:
    table = {**airflow_table(), "binding-voters": PMC}
    config = parse_config(tmp_path, table)
    git = three_changed()
    found = plan_train(config, PROVIDERS, date=DATE, reader=git)
    tags = [e.tag for e in found.plan.entries]
    for tag in tags:
        git.tag(tag)
    directory = wave_directory(config, found.plan)
    directory.mkdir(parents=True)
    (directory / "wave.json").write_text(json.dumps({"commit": found.commit, "tags": tags,
                                                     "staged": {"at": staged_at}}))
    return config, git


def votes_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "votes.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def test_the_vote_on_a_wave_records_its_exclusions_and_promotes_the_rest(tmp_path: Path) -> None:
    config, git = staged_wave(tmp_path)
    votes = votes_file(tmp_path, "+1 Jane <jane@apache.org> 2026-12-08T09:00:00Z",
                       "+1 Jarek <jarek@apache.org> 2026-12-09T09:00:00Z",
                       "+1 Kaxil <kaxil@apache.org> 2026-12-10T11:00:00Z",
                       "+1 Someone <someone@example.org> 2026-12-10T12:00:00Z")
    said: list[str] = []
    result = vote_result_wave(config, PROVIDERS, date=DATE, votes=votes, closed_at=None, reader=git,
                              excluded={"ftp": "FTP passive mode regression found in testing"},
                              say=said.append, now=datetime(2026, 12, 11, tzinfo=timezone.utc))
    assert result.tally.passed
    assert result.plan.names == ("apache-airflow-providers-common-io", "apache-airflow-providers-http")
    vote = json.loads(result.record.read_text())["vote"]
    assert vote["excluded"] == {
        "apache-airflow-providers-ftp": "FTP passive mode regression found in testing"}
    assert vote["promoted"] == ["apache-airflow-providers-common-io 1.11.1rc1",
                                "apache-airflow-providers-http 6.3.1rc1"]
    assert vote["binding"] == {"Jane <jane@apache.org>": "+1", "Jarek <jarek@apache.org>": "+1",
                               "Kaxil <kaxil@apache.org>": "+1"}
    email = tmp_path / "dist" / f"providers-{DATE}" / "vote-result-email.txt"
    assert said == ["3 binding and 1 non-binding votes counted; excluded: apache-airflow-providers-ftp",
                    f"the result email is {email}; send it to dev@airflow.apache.org"]
    assert "apache-airflow-providers-ftp: " in email.read_text()
    # the later rc of the excluded one alone
    later = plan_train(config, PROVIDERS, date="2026-12-21", reader=git,
                       retry={"ftp": "FTP passive mode regression found in testing"})
    assert [(e.name, str(e.candidate)) for e in later.plan.entries] == [
        ("apache-airflow-providers-ftp", "3.16.2rc2")]


def test_a_waves_vote_refuses_too_early_unstaged_and_strangers(tmp_path: Path) -> None:
    config, git = staged_wave(tmp_path)
    votes = votes_file(tmp_path, "+1 Jane <jane@apache.org> 2026-12-08T09:00:00Z")
    with pytest.raises(RefusedError, match=r"was open 23\.0 hours .* stay open at least 72 hours"):
        vote_result_wave(config, PROVIDERS, date=DATE, votes=votes, closed_at=None, excluded={}, reader=git,
                         say=print, now=datetime(2026, 12, 11, tzinfo=timezone.utc))
    with pytest.raises(RefusedError, match=r"^docker is not in the wave of 2026-12-07"):
        vote_result_wave(config, PROVIDERS, date=DATE, votes=votes, closed_at=None, reader=git,
                         excluded={"docker": "no"}, say=print)
    with pytest.raises(RefusedError, match=r"the providers wave of 2026-12-01 was never staged for a vote"):
        vote_result_wave(config, PROVIDERS, date="2026-12-01", votes=votes, closed_at=None, excluded={},
                         reader=git, say=print)


def test_a_binding_voters_unread_reply_holds_the_wave_until_the_release_manager_counts_it(
    tmp_path: Path
) -> None:
    """As for a single release: a reply of a PMC member that says no vote plainly is listed, and the
    wave does not pass until the release manager reads it and says how it counts (recorded, with who
    decided, in wave.json and the result email)."""
    from vote_fixtures import Mail, vote_thread

    from release.emails import wave_candidate

    config, git = staged_wave(tmp_path)
    opened = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
    thread = vote_thread(tmp_path / "thread.mbox", (
        Mail("Jane <jane@apache.org>", "+1", 2), Mail("Jarek <jarek@apache.org>", "+1 (binding)", 20),
        Mail("Kaxil <kaxil@apache.org>", "Looks good to me, ship it", 73)),
        opened=opened, candidate=wave_candidate("providers", DATE))
    now = datetime(2026, 12, 11, tzinfo=timezone.utc)
    held = vote_result_wave(config, PROVIDERS, date=DATE, votes=thread, closed_at=None, excluded={},
                            reader=git, say=print, now=now)
    assert not held.tally.passed and held.tally.needs_reading
    vote = json.loads(held.record.read_text())["vote"]
    assert not vote["passed"] and vote["review"][0].startswith("Kaxil <kaxil@apache.org> (binding)")
    with pytest.raises(RefusedError, match="--count needs --decided-by NAME"):
        vote_result_wave(config, PROVIDERS, date=DATE, votes=thread, closed_at=None, excluded={}, reader=git,
                         say=print, now=now, decisions={"kaxil@apache.org": 1})
    counted = vote_result_wave(config, PROVIDERS, date=DATE, votes=thread, closed_at=None, excluded={},
                               reader=git, say=print, now=now, decisions={"kaxil@apache.org": 1},
                               decided_by="Release Manager")
    assert counted.tally.passed
    vote = json.loads(counted.record.read_text())["vote"]
    assert vote["passed"] and vote["decided"] == {"kaxil@apache.org": "+1"}
    assert vote["decided_by"] == "Release Manager"
    assert "decided by Release Manager: kaxil@apache.org: +1." in counted.email.read_text()


def test_a_train_with_a_vote_policy_of_its_own_is_counted_by_it(tmp_path: Path) -> None:
    """A train may ask for more than the ASF's least (here 96 hours and four binding +1): three
    binding +1 after 80 hours is too early for it, and four after 97 hours pass; the result says its
    own numbers."""
    config, git = staged_wave(tmp_path)
    table = {**airflow_table(), "binding-voters": PMC}
    table["trains"]["providers"]["vote"] = {"hours": 96, "binding": 4}
    config = parse_config(tmp_path, table)
    train = config.train("providers")
    three = votes_file(tmp_path, "+1 Jane <jane@apache.org> 2026-12-08T09:00:00Z",
                       "+1 Jarek <jarek@apache.org> 2026-12-09T09:00:00Z",
                       "+1 Kaxil <kaxil@apache.org> 2026-12-10T18:00:00Z")
    early = r"its votes stay open at least 96 hours: wait until 2026-12-11 10:00"
    with pytest.raises(RefusedError, match=early):
        vote_result_wave(config, train, date=DATE, votes=three, closed_at=None, excluded={}, reader=git,
                         say=print, now=datetime(2026, 12, 12, tzinfo=timezone.utc))
    late = datetime(2026, 12, 11, 11, tzinfo=timezone.utc)
    few = vote_result_wave(config, train, date=DATE, votes=three, closed_at=late, excluded={}, reader=git,
                           say=print, now=datetime(2026, 12, 12, tzinfo=timezone.utc))
    assert not few.tally.passed and few.tally.reasons == ("3 binding +1 votes, at least 4 are needed",)
    assert "at least 96 are required) and needed at least 4 binding +1" in few.email.read_text()
    four = votes_file(tmp_path, "+1 Jane <jane@apache.org> 2026-12-08T09:00:00Z",
                      "+1 Jarek <jarek@apache.org> 2026-12-09T09:00:00Z",
                      "+1 Kaxil <kaxil@apache.org> 2026-12-10T18:00:00Z",
                      "+1 Ash <ash@apache.org> 2026-12-11T11:00:00Z")
    assert vote_result_wave(config, train, date=DATE, votes=four, closed_at=None, excluded={}, reader=git,
                            say=print, now=datetime(2026, 12, 12, tzinfo=timezone.utc)).tally.passed


def test_a_waves_vote_result_dry_run_says_what_it_counts_and_records(tmp_path: Path) -> None:
    from release.pipeline.trains import vote_result_wave_plan

    config, _ = staged_wave(tmp_path)
    plan = vote_result_wave_plan(config, PROVIDERS, date=DATE, votes="thread.mbox",
                                 excluded={"ftp": "a regression"})
    assert plan.refusals == () and plan.invocation == f"invoke vote-result --train providers --date {DATE}"
    does = [a.does for a in plan.actions]
    assert does[0].startswith("count the votes in thread.mbox") and does[1].endswith("ftp (a regression)")
    assert does[2].startswith(f"record the result in {tmp_path}/dist/providers-{DATE}/wave.json")
    unstaged = vote_result_wave_plan(config, PROVIDERS, date="2026-12-01", votes="v", excluded={})
    assert unstaged.refusals and "was never staged for a vote" in unstaged.refusals[0]


def test_one_run_of_a_wave_at_a_time(tmp_path: Path) -> None:
    from release import locks

    config = parse_config(tmp_path, airflow_table())
    found = plan_train(config, PROVIDERS, date=DATE, reader=three_changed())
    busy = r"^another run of providers-2026-12-07 holds dist/providers-2026-12-07; wait for it$"
    held = locks.release_run(wave_directory(config, found.plan), "another")
    with held, pytest.raises(RefusedError, match=busy):
        build_wave(config, found, say=print)


def test_a_waves_run_as_json_names_what_it_did(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    found = plan_train(config, PROVIDERS, date=DATE, reader=three_changed())
    built = WaveBuild(tmp_path, found.commit, {"svn/a.tar.gz": "0" * 128}, False)
    done = WaveRun(built, ("svn/a.tar.gz.asc", "svn/a.tar.gz.sha512"), "file:///svn/dev/apache-airflow/providers",
                   7, ("providers-http/6.3.1rc1",), ("build", "sign", "stage", "tags"))
    data = run_to_json(found, done)
    assert (data["train"], data["commit"], data["revision"], data["steps"]) == (
        "providers", found.commit, 7, ["build", "sign", "stage", "tags"])
    assert data["candidates"][2] == "apache-airflow-providers-http 6.3.1rc1"
    assert json.loads(json.dumps(data)) == data


def core_candidates() -> tuple[MemoryGit, str, str]:
    """Core 3.3.3 staged twice, as a voter's clone has it: rc1's tags on one commit, rc2's on a later one."""
    git = released()
    first = git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    git.tag("3.3.3rc1")
    git.tag("task-sdk/1.3.3rc1")
    second = git.commit("Fix the scheduler", {"airflow-core/src/airflow/jobs.py": "# fixed\n"})
    git.tag("3.3.3rc2")
    git.tag("task-sdk/1.3.3rc2")
    return git, first, second


def test_a_voters_clone_finds_a_versioned_waves_commit_by_the_candidate_its_tags_name(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())  # no dist/: nothing recorded here
    git, first, second = core_candidates()
    for candidate, commit, rc in (("3.3.3rc1", first, 1), ("3.3.3rc2", second, 2)):
        found, plan = find_staged_wave(config, CORE, date=DATE, candidate=candidate, reader=git)
        assert found == commit
        assert [(e.name, str(e.candidate)) for e in plan.entries] == [
            ("apache-airflow", f"3.3.3rc{rc}"), ("apache-airflow-core", f"3.3.3rc{rc}"),
            ("apache-airflow-task-sdk", f"1.3.3rc{rc}")]
        assert dev_folders(plan) == (f"3.3.3rc{rc}", f"task-sdk/1.3.3rc{rc}")
    untold = re.escape(f"(train core tags no wave, no dist/core-{DATE}/wave.json): give the candidate "
                       "the vote is on, e.g. --version 3.3.3rc1")
    with pytest.raises(RefusedError, match=untold):
        find_staged_wave(config, CORE, date=DATE, reader=git)


def test_a_candidate_whose_tags_are_missing_or_disagree_is_refused(tmp_path: Path) -> None:
    config = parse_config(tmp_path, airflow_table())
    git, first, second = core_candidates()
    with pytest.raises(RefusedError, match=r"^no git tag 3\.3\.3rc3: the core candidate 3\.3\.3rc3 is not"):
        find_staged_wave(config, CORE, date=DATE, candidate="3.3.3rc3", reader=git)
    git.tag("task-sdk/1.3.3rc1", second)  # moved to another commit than 3.3.3rc1's
    moved = f"git tag task-sdk/1.3.3rc1 points at {second[:12]}, not at {first[:12]} where the other tags"
    with pytest.raises(RefusedError, match=re.escape(moved)):
        find_staged_wave(config, CORE, date=DATE, candidate="3.3.3rc1", reader=git)
    del git.tags["task-sdk/1.3.3rc1"]
    with pytest.raises(RefusedError, match=r"^no git tag task-sdk/1\.3\.3rc1: the core wave of 3\.3\.3rc1"):
        find_staged_wave(config, CORE, date=DATE, candidate="3.3.3rc1", reader=git)
    with pytest.raises(RefusedError, match=r"^--version '3\.3\.3': give the candidate the vote is on"):
        find_staged_wave(config, CORE, date=DATE, candidate="3.3.3", reader=git)
    with pytest.raises(RefusedError, match=r"^--version 6\.3\.1rc1: train providers's waves are found by "
                                           r"their date"):
        find_staged_wave(config, PROVIDERS, date=DATE, candidate="6.3.1rc1", reader=git)


TARGET = Target(registry="registry.test", index_upload="https://index.test/legacy/",
                index_simple="https://index.test/simple/", svn_dev="https://svn.test/dev",
                svn_release="https://svn.test/release/", signing_key="ABCD", keys_url="https://svn.test/KEYS")


def published_core(tmp_path: Path) -> tuple[Any, Path, dict[str, Any]]:
    """A core wave's record after its vote, promotion and publication, as those commands write it."""
    config = parse_config(tmp_path, airflow_table())
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    plan = plan_train(config, CORE, date=DATE, reader=git).plan
    promotion = wave_promotion(plan, (), SvnLayout.VERSIONED)
    built = {f"svn/{p.rpartition('/')[2]}": f"sha-{p.rpartition('/')[2]}" for p in promotion.files
             if not p.endswith((".asc", ".sha512"))}
    record = {"commit": "c" * 40, "files": built, "vote": {
        "passed": True, "excluded": {}, "promoted": [f"{e.name} {e.candidate}" for e in plan.entries]},
        "promoted": {"url": "https://svn.test/release/apache-airflow/", "files": list(promotion.files),
                     "superseded": [], "tags": list(promotion.tags),
                     "folders": [list(pair) for pair in promotion.folders]},
        "published": {"index": "https://index.test/legacy/", "files": []}}
    path = wave_directory(config, plan) / "wave.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record))
    return config, path, record


def test_a_published_versioned_wave_is_announced_with_each_release_folder_and_its_files(tmp_path: Path
                                                                                        ) -> None:
    config, path, _ = published_core(tmp_path)
    said: list[str] = []
    email = announce_wave(config, CORE, date=DATE, target=TARGET, say=said.append)
    assert email == path.parent / "announce-email.txt"
    text = email.read_text()
    base = "https://svn.test/release/apache-airflow"
    assert "Subject: [ANNOUNCE] Apache Airflow core 2026-12-07 released\n" in text
    assert "  apache-airflow 3.3.3\n  apache-airflow-core 3.3.3\n  apache-airflow-task-sdk 1.3.3\n" in text
    assert f"are at\n\n  {base}/3.3.3\n  {base}/task-sdk/1.3.3\n\n" in text
    assert f"  {base}/3.3.3/apache-airflow-3.3.3-source.tar.gz\n" in text
    assert f"  {base}/task-sdk/1.3.3/apache_airflow_task_sdk-1.3.3-py3-none-any.whl\n" in text
    assert ("  apache_airflow_task_sdk-1.3.3.tar.gz\n    sha512: sha-apache_airflow_task_sdk-1.3.3.tar.gz\n"
            in text)
    assert "https://svn.test/KEYS" in text and "  pip install apache-airflow-task-sdk==1.3.3\n" in text
    assert "rc1" not in text
    plan = announce_wave_plan(config, CORE, date=DATE, target=TARGET)
    assert plan.refusals == ()


def test_a_versioned_wave_not_published_is_not_announced(tmp_path: Path) -> None:
    config, path, record = published_core(tmp_path)
    del record["published"]
    path.write_text(json.dumps(record))
    with pytest.raises(RefusedError, match=f"^the core wave of {DATE} is not published yet"):
        announce_wave(config, CORE, date=DATE, target=TARGET, say=print)
    assert not (path.parent / "announce-email.txt").exists()
    refused = announce_wave_plan(config, CORE, date=DATE, target=TARGET)
    assert len(refused.refusals) == 1 and "is not published yet" in refused.refusals[0]
