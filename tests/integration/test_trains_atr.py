# SPDX-License-Identifier: Apache-2.0
"""A provider wave staged in a real Apache Trusted Releases server (e354d17, in test mode, the
sandbox's) on Airflow's own sources: `[tool.release.trains.providers] staging = "atr"`, then
`invoke release --train providers` (built, signed, the PMC checks, uploaded to ATR's release
`providers-<date>` as a revision, ATR's checks, tags, the rc-numbered packages on the sandbox's
index, the vote started in ATR with the wave's vote email), a rerun, `vote-result` from an mbox
(ATR's vote resolved), `promote` (the files read back from ATR) and `publish` (the index, then the
release finished in ATR), `cleanup` (nothing in svn to clean, said) and the withdrawal of one
provider (recorded, the index told, what ATR keeps said to be asked for by hand). svn dev/ and
release/ are never written; every rerun changes nothing.

One sandbox for the module (its own root: the Airflow tree), brought down at the end.
ATR's source: RELEASE_ATR_SOURCE, else `../shared/atr/atr-e354d17.tar.gz` next to the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from airflow_sources import copy_repo, git
from conftest import REPO_ROOT
from vote_fixtures import Mail, vote_thread

from release import sandbox
from release.adapters import atr, svn
from release.adapters.atr import AtrClient, Ignore
from release.adapters.index import PackageIndex
from release.sandbox import atr as atr_sandbox
from tests.integration.test_trains_release import CHANGED, RAT_EXCLUDES
from tests.unit.test_trains import AIRFLOW

pytestmark = [pytest.mark.trains, pytest.mark.atr, pytest.mark.sandbox, pytest.mark.slow]

SOURCE = Path(os.environ.get(atr_sandbox.SOURCE_ENV) or REPO_ROOT.parent / "shared/atr/atr-e354d17.tar.gz")
DATE = "2026-12-07"
RELEASE = f"providers-{DATE}"  # the wave's release in ATR
# What the PMC keeps as expected in ATR for Airflow's sources: the files its .rat-excludes leaves out
# (generated API clients, the compiled UI, vendored code) and its LICENSE, which ATR e354d17 finds is
# not the canonical text
HEADERS = "atr.tasks.checks.license.headers"
IGNORES = [Ignore(checker=HEADERS, member=f"*/{folder}/*")
           for folder in ("openapi-gen", "ui/dist", "_vendor")]
IGNORES += [Ignore(checker=HEADERS, message="Some files had invalid license headers*"),
            Ignore(checker="atr.tasks.checks.license.files", message="LICENSE is invalid")]
BINDING = ["Jane <jane@apache.org>", "Jarek <jarek@apache.org>", "Kaxil <kaxil@apache.org>"]


def invoke(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """An invoke task run in `root` with the module's profile (beside the tree)."""
    env = {**os.environ, "RELEASE_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "300"}
    profile = ("--profile", str(root.parent / "release.toml")) if args[0] != "sandbox.down" else ()
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args, *profile],
                          cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def run_ok(root: Path, *args: str) -> str:
    found = invoke(root, *args)
    assert found.returncode == 0, found.stderr
    assert "Traceback" not in found.stderr
    return found.stderr


@pytest.fixture(scope="module")
def tree(airflow_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Airflow's trains in a copy of its tree, the providers staging in the sandbox's ATR (the
    train's own `staging`; the project's stays svn), everything else the sandbox's; the sandbox
    brought down after the module."""
    if not SOURCE.is_file():  # a missing server is a failure, never a silent pass
        pytest.fail(f"no ATR source at {SOURCE}: set {atr_sandbox.SOURCE_ENV} to a `git archive "
                    "--prefix=atr/` tarball of apache/tooling-trusted-releases (e354d17)")
    before = os.environ.get(atr_sandbox.SOURCE_ENV)
    os.environ[atr_sandbox.SOURCE_ENV] = str(SOURCE)
    root = copy_repo(airflow_repo, tmp_path_factory.mktemp("trains-atr") / "airflow")
    voters = ", ".join(f'"{v.split("<")[1].rstrip(">")}"' for v in BINDING)
    (root.parent / "release.toml").write_text(AIRFLOW.replace('mailing-list = "dev@airflow.apache.org"\n', (
        f'mailing-list = "dev@airflow.apache.org"\natr = "sandbox"\nbinding-voters = [{voters}]\n'
        + RAT_EXCLUDES)).replace('svn-folder = "providers"\n', 'svn-folder = "providers"\nstaging = "atr"\n'))
    try:
        yield root
    finally:
        down = invoke(root, "sandbox.down")
        if before is None:
            os.environ.pop(atr_sandbox.SOURCE_ENV, None)
        else:
            os.environ[atr_sandbox.SOURCE_ENV] = before
        assert down.returncode == 0, down.stderr


def holdings(services: sandbox.Services) -> dict[str, list[str]]:
    """What svn dev/ and release/ hold for the project."""
    return {area: sorted(svn.list_folder(f"{services.svn_url}/{area}/apache-airflow"))
            for area in ("dev", "release")}


def test_a_provider_wave_staged_voted_promoted_and_published_through_atr(tree: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    shown = invoke(tree, "release", "--train", "providers", "--date", DATE, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    dry = json.loads(shown.stdout)
    assert [s["name"] for s in dry["steps"]] == [
        "build", "sign", "PMC checks", "atr-upload", "atr-checks", "tags", "index", "vote email", "atr-vote"]
    assert dry["atr_release"] == RELEASE
    assert not (tree / ".release").exists()  # the dry run starts nothing

    # ATR's own checks find what Airflow's .rat-excludes leaves out (the generated UI, the vendored
    # code) and its LICENSE, which is not the canonical text: the wave stops naming them, no vote
    blocked = invoke(tree, "release", "--train", "providers", "--date", DATE)
    assert blocked.returncode == 7, blocked.stderr
    error = blocked.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: ATR's checks of ATR sandbox project test release {RELEASE} revision ")
    assert (f"atr.tasks.checks.license.files: failure on apache_airflow_providers-{DATE}-source.tar.gz: "
            "LICENSE is invalid") in error and error.endswith("no vote was started: fix the tree and build "
                                                              "a new candidate")
    services = sandbox.load(tree)
    assert services is not None and services.atr is not None
    client = AtrClient(services.atr.target(), atr.credentials(services.atr.target()))
    in_svn = holdings(services)
    assert in_svn == {"dev": [], "release": ["KEYS"]}  # nothing of the wave in svn
    draft = client.release(RELEASE)
    assert draft is not None and draft.phase == atr.DRAFT
    wave = tree / "dist" / RELEASE
    assert json.loads((wave / "wave.json").read_text())["steps"] == [
        "build", "sign", "PMC checks", "atr-upload"]
    assert "providers-http/6.3.1rc1" not in git(tree, "tag", "--list")
    # the PMC keeps those findings as expected in ATR, as its ignores; the rerun uploads nothing
    for ignore in IGNORES:
        client.add_ignore(ignore)
    staged = run_ok(tree, "release", "--train", "providers", "--date", DATE)
    took = time.monotonic() - started
    assert "(0 uploaded now)" in staged and "0 blocking" in staged
    release = client.release(RELEASE)
    assert release is not None and release.phase == atr.CANDIDATE
    assert release.latest_revision == draft.latest_revision  # the vote is on the revision checked
    names = [f"apache_airflow_providers_{i.replace('-', '_')}-{new}" for i, (_, new) in CHANGED.items()]
    files = [f"apache_airflow_providers-{DATE}-source.tar.gz", *(f"{n}.tar.gz" for n in names),
             *(f"{n}-py3-none-any.whl" for n in names)]
    voted = sorted(f + s for f in files for s in ("", ".asc", ".sha512"))
    assert sorted(client.paths(RELEASE)) == voted
    record = json.loads((wave / "wave.json").read_text())
    assert record["steps"] == ["build", "sign", "PMC checks", "atr-upload", "atr-checks", "tags", "index",
                               "vote email", "atr-vote"]
    assert record["atr"] == {"release": RELEASE, "revision": release.latest_revision, "vote_started": True}
    assert record["staged"]["url"] == atr.vote_url(services.atr.target().url, "test", RELEASE)
    assert sorted(record["staged"]["files"]) == voted
    email = (wave / "vote-email.txt").read_text()
    assert email.startswith(f"To: {atr.SANDBOX_MAILING_LIST}\nSubject: [VOTE] Release Apache Airflow "
                            f"providers {DATE}: 3 distributions\n")
    assert f"in Apache Trusted Releases, revision {release.latest_revision}, on its vote page" in email
    assert record["staged"]["url"] in email
    assert [line for line in email.splitlines() if "svn" in line] == [f"  {services.svn_url}/release/"
                                                                     "apache-airflow/KEYS"]  # KEYS alone
    assert "vote started in ATR" in staged
    commit = git(tree, "rev-parse", "HEAD")
    tags = [f"providers-{i}/{new}rc1" for i, (_, new) in CHANGED.items()] + [f"providers/{DATE}"]
    assert [git(tree, "rev-parse", f"{tag}^{{commit}}") for tag in tags] == [commit] * 4
    simple = PackageIndex(services.index_url, services.index_url + "simple/")
    assert [simple.versions(f"apache-airflow-providers-{i}") for i in CHANGED] == [
        [f"{new}rc1"] for _, new in CHANGED.values()]

    again = run_ok(tree, "release", "--train", "providers", "--date", DATE)  # a rerun changes nothing
    assert "(0 uploaded now)" in again and "already running or done" in again
    assert "tagged nothing new" in again and "6 there already" in again
    assert client.release(RELEASE) == release and json.loads((wave / "wave.json").read_text()) == record

    # a voter checks the wave as ATR holds it (the revision the vote runs on), as svn's voters do
    checked = run_ok(tree, "verify", "--train", "providers", "--date", DATE, "--no-rebuild")
    assert (f"reading the wave's files from ATR sandbox project test release {RELEASE} revision "
            f"{release.latest_revision}") in checked
    assert "all checks hold" in checked and "files verified" in checked and "FAIL" not in checked

    # an exclusion is refused in one line: ATR cannot take a file out of the voted revision
    opened = datetime.now(timezone.utc) - timedelta(hours=96)
    votes = vote_thread(tmp_path / "thread.mbox", [Mail(who, "+1", 2 + n) for n, who in enumerate(BINDING)],
                        opened=opened, candidate=f"providers {DATE}")
    excluded = invoke(tree, "vote-result", "--train", "providers", "--date", DATE, "--votes", str(votes),
                      "--exclude", "ftp", "--reason", "FTP passive mode regression")
    assert excluded.returncode == 6, excluded.stderr
    assert "stages in ATR, which cannot remove a file from the voted revision" in excluded.stderr
    assert len(excluded.stderr.strip().splitlines()) == 1 and "vote" not in json.loads(
        (wave / "wave.json").read_text())
    # the vote, open four days as far as the record says
    record["staged"]["at"] = opened.isoformat()
    (wave / "wave.json").write_text(json.dumps(record))
    closed = ("--closed-at", (opened + timedelta(hours=80)).isoformat())
    counted = run_ok(tree, "vote-result", "--train", "providers", "--date", DATE, "--votes", str(votes),
                     *closed)
    assert "resolved as passed" in counted
    resolved = client.release(RELEASE)
    assert resolved is not None and resolved.phase == atr.PREVIEW
    assert "resolved as passed already" in run_ok(tree, "vote-result", "--train", "providers", "--date",
                                                  DATE, "--votes", str(votes), *closed)

    shown = invoke(tree, "promote", "--train", "providers", "--date", DATE, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    assert [a["where"] for a in json.loads(shown.stdout)["actions"]] == ["atr", "atr", "git", "git", "git"]
    promoted = run_ok(tree, "promote", "--train", "providers", "--date", DATE)
    assert f"checking its {len(voted)} files against those built and signed" in promoted
    finals = [f"providers-{i}/{new}" for i, (_, new) in CHANGED.items()]
    assert [git(tree, "rev-parse", f"{tag}^{{commit}}") for tag in finals] == [commit] * 3
    assert "tagged nothing new" in run_ok(tree, "promote", "--train", "providers", "--date", DATE)

    shown = invoke(tree, "publish", "--train", "providers", "--date", DATE, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    assert [a["where"] for a in json.loads(shown.stdout)["actions"]] == ["index"] * 3 + ["atr"] * 2
    published = run_ok(tree, "publish", "--train", "providers", "--date", DATE)
    assert "6 files uploaded, 0 there already" in published
    assert "finished and announced" in published
    finished = client.release(RELEASE)
    assert finished is not None and finished.phase == atr.RELEASED
    packages = files[1:]
    rc = [f"{n}rc1{end}" for n in names for end in (".tar.gz", "-py3-none-any.whl")]
    assert sorted(f for i in CHANGED for f in simple.hashes(f"apache-airflow-providers-{i}")) == sorted(
        packages + rc)
    index_bytes = {f: h for i in CHANGED for f, h in simple.hashes(f"apache-airflow-providers-{i}").items()}
    done = json.loads((wave / "wave.json").read_text())
    assert done["atr"]["finished"] is True
    assert [d["package"] for d in done["atr"]["distributions"]] == [
        f"apache-airflow-providers-{i}" for i in CHANGED]
    assert all(d["recorded"] or "did not record" in d["warning"] for d in done["atr"]["distributions"])
    announce = (wave / "announce-email.txt").read_text()
    assert announce.startswith(f"To: {atr.SANDBOX_MAILING_LIST}\n")

    rerun = run_ok(tree, "publish", "--train", "providers", "--date", DATE)
    assert "0 files uploaded, 6 there already" in rerun and "was finished already" in rerun
    assert client.release(RELEASE) == finished
    assert {f: h for i in CHANGED for f, h in simple.hashes(f"apache-airflow-providers-{i}").items()} == (
        index_bytes)

    # cleanup: ATR keeps each release and svn holds nothing of the train's: said in one line
    for remove in ((), ("--remove",)):
        tidy = run_ok(tree, "cleanup", "--train", "providers", *remove)
        assert tidy.strip().splitlines()[-1].endswith(
            "nothing to remove: the providers train stages in ATR, which keeps each release, and puts "
            "nothing in svn dev/ or release/ (a draft ATR holds is deleted on ATR's own pages)"), tidy
    # withdraw http: recorded, the index told; ATR's API offers its committee no withdrawal, so what to
    # ask ATR's administrators for is said and recorded, and ATR's release stays as it is
    why = ("--only", "http", "--reason", "CVE-2026-0001 in the http hook")
    shown = invoke(tree, "withdraw", "--train", "providers", "--date", DATE, *why, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    assert [a["where"] for a in json.loads(shown.stdout)["actions"]] == ["dist", "index", "atr"]
    withdrawn = run_ok(tree, "withdraw", "--train", "providers", "--date", DATE, *why)
    entry = json.loads((wave / "wave.json").read_text())["withdrawn"]["apache-airflow-providers-http"]
    assert entry["version"] == "6.3.1" and entry["reason"] == "CVE-2026-0001 in the http hook"
    assert "yank it by hand" in entry["index"] and f"by hand: {entry['by_hand']}" in withdrawn
    assert entry["by_hand"].startswith(
        "ATR's API offers a committee no withdrawal (it deletes a release for ATR's administrators only): "
        "ask them to remove apache_airflow_providers_http-6.3.1.tar.gz, ")
    assert f"of release {RELEASE} from {done['promoted']['url']}" in entry["by_hand"]
    assert "ATR keeps their files" in withdrawn
    before = (wave / "wave.json").read_bytes()
    rerun = run_ok(tree, "withdraw", "--train", "providers", "--date", DATE, *why)  # changes nothing
    assert "is withdrawn already on" in rerun and (wave / "wave.json").read_bytes() == before
    assert client.release(RELEASE) == finished and sorted(client.paths(RELEASE)) == voted
    assert holdings(services) == in_svn  # svn dev/ and release/ untouched through it all
    print(f"\nATR wave: release --train to the vote started {took:.0f}s; the whole test "
          f"{time.monotonic() - started:.0f}s")
