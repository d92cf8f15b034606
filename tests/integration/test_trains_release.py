# SPDX-License-Identifier: Apache-2.0
"""`invoke release --train` and `invoke build --train` on Airflow's own sources (tests/airflow_sources.py):
the wave's dry run as the command prints it, what a run refuses, and a provider wave built with each
provider's own backend, signed, staged flat to svn and tagged. No sandbox: git, the build backends,
twine, a local svn repository and a throwaway key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from airflow_sources import copy_repo, git
from conftest import REPO_ROOT
from vote_fixtures import SvnRepo, make_svn, shared_keyring, svn

from release.adapters.index import PackageIndex
from release.adapters.svn import cat_bytes, put_files
from release.record import sha512_of
from tests.unit.test_trains import AIRFLOW

pytestmark = pytest.mark.trains
DATE = "2026-12-07"
# What Airflow's .rat-excludes leaves out of the source release's license check (generated UI
# bundles and API clients, vendored code, lock files, images, data and the docs' marker files), as
# globs: the wave's source tarball is the whole repository, checked as a PMC member runs RAT.
RAT_EXCLUDES = ("license-excludes = [" + ", ".join(f'"{p}"' for p in (
    "*.json", "*/dist/*", "*/openapi-gen/*", "*/_vendor/*", "*.png", "*.svg", "*.ttf", "*.wasm", "*.ico",
    "*.html", "*-generated.yaml", "*/openapi/_private_ui.yaml", "*-lock.yaml", ".prettierrc",
    ".prettierignore", "git_version", ".latest-doc-only-change.txt", "redirects.txt",
    "test_notifier.txt")) + "]\n")
CHANGED = {"common-io": ("1.11.0", "1.11.1"), "ftp": ("3.16.1", "3.16.2"), "http": ("6.3.0", "6.3.1")}


def run(cwd: Path, program: list[str], *args: str, profile: Path, gnupghome: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASE_ROOT": str(cwd), "NO_COLOR": "1", "COLUMNS": "300",
           **({"GNUPGHOME": str(gnupghome)} if gnupghome else {})}
    return subprocess.run([*program, *args, "--profile", str(profile)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def invoke(cwd: Path, *args: str, profile: Path, gnupghome: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    return run(cwd, [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT)], *args, profile=profile,
               gnupghome=gnupghome)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    """Airflow's two trains (docs/trains.md), as a profile beside the repository."""
    path = tmp_path / "release.toml"
    path.write_text(AIRFLOW)
    return path


def test_the_dry_run_of_the_provider_wave_prints_every_distribution(airflow_repo: Path, profile: Path
                                                                    ) -> None:
    found = invoke(airflow_repo, "release", "--train", "providers", "--dry-run", "--json", "--date", DATE,
                   profile=profile)
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    assert data["commit"] == git(airflow_repo, "rev-parse", "HEAD")
    assert [(d["id"], d["previous"], d["candidate"], d["tags"]["candidate"], len(d["commits"]))
            for d in data["distributions"]] == [
        (ident, old, f"{new}rc1", f"providers-{ident}/{new}rc1", 2) for ident, (old, new) in CHANGED.items()]
    assert data["distributions"][2]["svn"]["dev"][0] == (
        "dev/apache-airflow/providers/apache_airflow_providers_http-6.3.1.tar.gz")
    assert data["unchanged"] == ["apache-airflow-providers-imap", "apache-airflow-providers-sqlite"]
    assert data["source_tarball"]["file"] == f"apache_airflow_providers-{DATE}-source.tar.gz"
    assert [s["name"] for s in data["steps"]] == [
        "build", "sign", "PMC checks", "stage", "tags", "index", "vote email"]
    assert data["distributions"][2]["index"] == ["apache_airflow_providers_http-6.3.1rc1.tar.gz",
                                                 "apache_airflow_providers_http-6.3.1rc1-py3-none-any.whl"]
    # the console script prints the same wave as tables
    shown = run(airflow_repo, [sys.executable, "-m", "release.cli.main"], "release", "--train", "providers",
                "--dry-run", "--date", DATE, profile=profile)
    assert shown.returncode == 0, shown.stderr
    assert "Wave of train providers" in shown.stderr and "providers-http/6.3.1rc1" in shown.stderr
    assert "read with 4 git commands" in shown.stderr
    assert "one svn commit of the 21 files, signatures included, to dev/apache-airflow/providers" in (
        shown.stderr)
    assert "Package index (rc-numbered, for testing; not voted on)" in shown.stderr
    assert "apache_airflow_providers_http-6.3.1rc1-py3-none-any.whl" in shown.stderr


def test_what_a_run_of_a_wave_refuses_is_one_line(airflow_repo: Path, profile: Path) -> None:
    # the option checks before any git command are unit tests (tests/unit/cli/test_train_options.py)
    for args, code, says in (
            (("release", "--train", "core"), 6, "nothing to release in train core"),
            (("announce", "--train", "core", "--date", DATE), 6,
             f"records no passed vote on the core wave of {DATE}"),
            (("verify", "--train", "core", "--version", "3.3.3"), 6,
             "--version '3.3.3': give the candidate the vote is on, e.g. 3.3.3rc1"),
            (("release", "--train", "providers", "--date", "7.12.2026", "--dry-run"), 1,
             "--date '7.12.2026'"),
            (("promote", "--train", "providers", "--date", DATE), 6, "records no passed vote"),
            (("promote", "--train", "core", "--date", DATE), 6, "records no passed vote on the core wave"),
            (("promote", "--train", "providers", "--version", "1.0.0"), 1, "takes --date (and --dry-run")):
        found = invoke(airflow_repo, *args, profile=profile)
        assert found.returncode == code, found.stderr
        assert says in found.stderr and "Traceback" not in found.stderr
        assert len(found.stderr.strip().splitlines()) == 1, found.stderr
    assert not (airflow_repo / "dist").exists()


CORE_IMAGES = '["apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"]'
CORE_CONSTRAINTS = 'constraints = { branch = "constraints-{major}-{minor}" }\n'


def wave_profile(tmp_path: Path, repo: SvnRepo, fingerprint: str, *, excludes: str = RAT_EXCLUDES,
                 index: str = "https://upload.pypi.invalid/legacy/") -> Path:
    """Airflow's trains against a local svn repository, a throwaway key and `index` (no sandbox: the
    registry is never reached by a wave's run, as the core train's images, and the constraints tags
    set from what they installed, are left out here; they are
    tests/integration/test_trains_core_images.py's, in the sandbox)."""
    profile = tmp_path / "release.toml"
    without_images = AIRFLOW.replace(f"images = {CORE_IMAGES}\n", "").replace(CORE_CONSTRAINTS, "")
    assert without_images != AIRFLOW and CORE_CONSTRAINTS in AIRFLOW
    profile.write_text(without_images.replace('mailing-list = "dev@airflow.apache.org"\n', (
        'mailing-list = "dev@airflow.apache.org"\nregistry = "127.0.0.1:5999"\n' + excludes +
        f'index = "{index}"\n'
        f'svn-dev = "{repo.dev_url}"\nsvn-release = "{repo.release_url}"\n'
        f'signing-key = "{fingerprint}"\n')))
    return profile


def three_binding_votes(wave: Path, tmp_path: Path, profile: Path) -> Path:
    """A vote that passes on the staged wave in `wave`: staged four days ago as far as its record
    says, three +1 from the PMC `profile` now names; the votes file."""
    record = json.loads((wave / "wave.json").read_text())
    record["staged"]["at"] = "2026-12-03T10:00:00+00:00"
    (wave / "wave.json").write_text(json.dumps(record))
    votes = tmp_path / "votes.txt"
    votes.write_text("".join(f"+1 {who} <{who}@apache.org> 2026-12-0{day}T09:00:00Z\n"
                             for who, day in (("jane", 4), ("jarek", 5), ("kaxil", 7))))
    pmc = 'binding-voters = ["jane", "jarek", "kaxil"]\n\n'
    core = "[tool.release.trains.core]"
    profile.write_text(profile.read_text().replace(core, pmc + core))
    return votes


def test_a_wave_failing_the_pmc_checks_is_refused_naming_the_files_and_nothing_is_staged(
        airflow_repo: Path, tmp_path: Path) -> None:
    root = copy_repo(airflow_repo, tmp_path / "airflow")
    keyring = shared_keyring()
    (tmp_path / "svn").mkdir()
    repo = make_svn(tmp_path / "svn", "apache-airflow", keyring.keys_file.read_text())
    profile = wave_profile(tmp_path, repo, keyring.fingerprint, excludes="")  # no RAT excludes
    found = invoke(root, "release", "--train", "providers", "--date", DATE, profile=profile,
                   gnupghome=keyring.home)
    assert found.returncode == 7, found.stderr
    error = found.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: the providers wave of {DATE} fails the PMC checks, nothing was staged: "
                            f"apache_airflow_providers-{DATE}-source.tar.gz: no license header: ")
    assert "license-excludes" in error and "Traceback" not in found.stderr
    assert svn("list", f"{repo.dev_url}/apache-airflow").split() in ([], ["providers/"])
    assert "providers-http/6.3.1rc1" not in git(root, "tag", "--list")


def test_the_provider_wave_built_signed_staged_flat_and_tagged(
        airflow_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_index: str) -> None:
    """`invoke release --train providers` against a local svn repository, a throwaway key and a local
    index (the rc-numbered packages go there for testing), then its vote, promotion, publication,
    announcement, cleanup, and the withdrawal of one provider."""
    monkeypatch.setenv("TWINE_USERNAME", "wave")  # the test's index takes any credentials
    monkeypatch.setenv("TWINE_PASSWORD", "wave-pa55")
    root = copy_repo(airflow_repo, tmp_path / "airflow")
    keyring = shared_keyring()
    (tmp_path / "svn").mkdir()
    repo = make_svn(tmp_path / "svn", "apache-airflow", keyring.keys_file.read_text())
    url = local_index
    profile = wave_profile(tmp_path, repo, keyring.fingerprint, index=url)
    built = invoke(root, "build", "--train", "providers", "--date", DATE, profile=profile)
    assert built.returncode == 0, built.stderr
    wave = root / "dist" / f"providers-{DATE}"
    record = json.loads((wave / "wave.json").read_text())
    names = [f"apache_airflow_providers_{i.replace('-', '_')}-{new}" for i, (_, new) in CHANGED.items()]
    files = [f"apache_airflow_providers-{DATE}-source.tar.gz", *(f"{n}.tar.gz" for n in names),
             *(f"{n}-py3-none-any.whl" for n in names)]
    candidates = [f"{n}rc1{end}" for n in names for end in (".tar.gz", "-py3-none-any.whl")]  # for the index
    assert sorted(record["files"]) == sorted([*(f"svn/{f}" for f in files),
                                              *(f"pypi/{f}" for f in candidates)])
    with zipfile.ZipFile(wave / "pypi/apache_airflow_providers_http-6.3.1rc1-py3-none-any.whl") as wheel:
        metadata = wheel.read("apache_airflow_providers_http-6.3.1rc1.dist-info/METADATA").decode()
    assert "\nVersion: 6.3.1rc1\n" in metadata
    with tarfile.open(wave / "pypi/apache_airflow_providers_http-6.3.1rc1.tar.gz") as sdist:
        assert {member.mtime for member in sdist.getmembers()} == {
            yaml.safe_load((root / "providers/http/provider.yaml").read_text())["source-date-epoch"]}
    epoch = yaml.safe_load((root / "providers/http/provider.yaml").read_text()).get("source-date-epoch")
    with tarfile.open(wave / "svn/apache_airflow_providers_http-6.3.1.tar.gz") as sdist:
        assert {member.mtime for member in sdist.getmembers()} == {epoch}  # the provider's own, as Airflow's
    found = invoke(root, "release", "--train", "providers", "--date", DATE, profile=profile,
                   gnupghome=keyring.home)
    assert found.returncode == 0, found.stderr
    assert "13 files of the wave are built already" in found.stderr
    listed = svn("list", f"{repo.dev_url}/apache-airflow/providers").split()
    assert sorted(listed) == sorted(f + s for f in files for s in ("", ".asc", ".sha512"))
    commit = git(root, "rev-parse", "HEAD")
    tags = [f"providers-{i}/{new}rc1" for i, (_, new) in CHANGED.items()] + [f"providers/{DATE}"]
    assert [git(root, "rev-parse", f"{tag}^{{commit}}") for tag in tags] == [commit] * 4
    record = json.loads((wave / "wave.json").read_text())
    assert record["commit"] == commit and record["signer"] == keyring.fingerprint and record["tags"] == tags
    assert record["staged"]["revision"] is not None
    assert record["steps"] == ["build", "sign", "PMC checks", "stage", "tags", "index", "vote email"]
    # the candidates on the index as users pip install them to test: rc-numbered, the wheel says so too
    assert record["candidates_published"] == {"index": url, "files": sorted(candidates)}
    simple = PackageIndex(url, url + "simple/")
    assert [simple.versions(f"apache-airflow-providers-{i}") for i in CHANGED] == [
        [f"{new}rc1"] for _, new in CHANGED.values()]
    fetched = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                              "--disable-pip-version-check", "--index-url", url + "simple/", "--dest",
                              str(tmp_path / "fetched"),
                              "apache-airflow-providers-http==6.3.1rc1"], capture_output=True, text=True,
                             timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    wheel_path = tmp_path / "fetched" / "apache_airflow_providers_http-6.3.1rc1-py3-none-any.whl"
    assert wheel_path.read_bytes() == (wave / "pypi" / wheel_path.name).read_bytes()
    assert "==> PMC checks" in found.stderr
    email = (wave / "vote-email.txt").read_text()  # one vote on every provider, named as vote-result reads it
    assert email.startswith("To: dev@airflow.apache.org\nSubject: [VOTE] Release Apache Airflow providers "
                            f"{DATE}: 3 distributions\n")
    assert all(f"providers-{i}/{new}rc1" in email for i, (_, new) in CHANGED.items())
    assert f"{repo.dev_url}/apache-airflow/providers" in email and keyring.fingerprint in email
    again = invoke(root, "release", "--train", "providers", "--date", DATE, profile=profile,
                   gnupghome=keyring.home)
    assert again.returncode == 0, again.stderr
    assert "(there already)" in again.stderr and "tagged nothing new" in again.stderr
    assert "0 rc-numbered files uploaded to " in again.stderr and "6 there already" in again.stderr
    assert json.loads((wave / "wave.json").read_text())["staged"] == record["staged"]  # as first staged
    # verify, as the release manager (the wave's record) and as a voter (a clone with the tags, no dist/)
    checked = invoke(root, "verify", "--train", "providers", "--date", DATE, "--no-rebuild", profile=profile)
    assert checked.returncode == 0, checked.stderr
    assert f"the providers wave of {DATE}: 21 files verified" in checked.stderr
    voter = tmp_path / "voter"
    git(tmp_path, "clone", "-q", str(root), str(voter))
    rebuilt = invoke(voter, "verify", "--train", "providers", "--date", DATE, profile=profile)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "identical to the rebuild" in rebuilt.stderr and "21 files verified" in rebuilt.stderr
    http = "apache_airflow_providers_http-6.3.1.tar.gz"
    providers = f"{repo.dev_url}/apache-airflow/providers"
    staged_http = f"{providers}/{http}"
    changed = tmp_path / http
    changed.write_bytes((wave / "svn" / http).read_bytes() + b"\0")
    put_files(providers, {http: changed}, "Not the signed sdist")
    tampered = invoke(voter, "verify", "--train", "providers", "--date", DATE, "--no-rebuild",
                      profile=profile)
    assert tampered.returncode == 7, tampered.stderr
    assert f"FAIL {http}: matches neither its signature nor its checksum" in tampered.stderr
    put_files(providers, {http: wave / "svn" / http}, "The signed sdist again")
    assert cat_bytes(staged_http) == (wave / "svn" / http).read_bytes()
    untagged = tmp_path / "untagged"
    git(tmp_path, "clone", "-q", "--no-tags", str(root), str(untagged))
    unknown = invoke(untagged, "verify", "--train", "providers", "--date", DATE, profile=profile)
    assert unknown.returncode == 6 and f"no git tag providers/{DATE}" in unknown.stderr, unknown.stderr
    # the vote, one provider excluded (staged four days ago, as far as the record says)
    votes = three_binding_votes(wave, tmp_path, profile)
    voted = invoke(root, "vote-result", "--train", "providers", "--date", DATE, "--votes", str(votes),
                   "--exclude", "ftp", "--reason", "FTP passive mode regression", profile=profile)
    assert voted.returncode == 0, voted.stderr
    result = json.loads((wave / "wave.json").read_text())["vote"]
    assert result["passed"] and result["excluded"] == {
        "apache-airflow-providers-ftp": "FTP passive mode regression"}
    assert result["promoted"] == ["apache-airflow-providers-common-io 1.11.1rc1",
                                  "apache-airflow-providers-http 6.3.1rc1"]
    sent = (wave / "vote-result-email.txt").read_text()
    assert sent.startswith("To: dev@airflow.apache.org\nSubject: [RESULT][VOTE] Release Apache Airflow "
                           f"providers {DATE}\n")
    assert "apache-airflow-providers-ftp: FTP passive mode regression" in sent
    # promotion: the voted files of http and common.io to the flat release folder, where http's older
    # release goes; ftp (excluded) stays in dev, untagged
    older = tmp_path / "older"
    older.mkdir()
    for end in (".tar.gz", ".tar.gz.asc"):
        (older / f"apache_airflow_providers_http-6.3.0{end}").write_bytes(b"the release before")
    svn("import", "-m", "http 6.3.0", str(older), f"{repo.release_url}/apache-airflow/providers")
    early = invoke(root, "publish", "--train", "providers", "--date", DATE, profile=profile)
    assert early.returncode == 6 and "is not promoted yet" in early.stderr, early.stderr
    shown = invoke(root, "promote", "--train", "providers", "--date", DATE, "--dry-run", "--json",
                   profile=profile)
    assert shown.returncode == 0, shown.stderr
    dry = json.loads(shown.stdout)
    assert dry["refusals"] == [] and dry["version"] == f"providers {DATE}"
    does = [a["does"] for a in dry["actions"]]
    assert sum(d.startswith("copy ") for d in does) == 15 and does[-2:] == [
        f"tag {commit[:12]} as providers-common-io/1.11.1", f"tag {commit[:12]} as providers-http/6.3.1"]
    assert any("apache_airflow_providers_http-6.3.0.tar.gz (a newer version replaces it)" in d for d in does)
    assert svn("list", f"{repo.release_url}/apache-airflow/providers").split() == sorted(
        f"apache_airflow_providers_http-6.3.0{end}" for end in (".tar.gz", ".tar.gz.asc"))  # read only
    promoted = invoke(root, "promote", "--train", "providers", "--date", DATE, profile=profile)
    assert promoted.returncode == 0, promoted.stderr
    kept = [n for n in names if "_ftp-" not in n]
    voted = sorted(f + s for f in (files[0], *(f for f in files if any(k in f for k in kept)))
                   for s in ("", ".asc", ".sha512"))
    assert sorted(svn("list", f"{repo.release_url}/apache-airflow/providers").split()) == voted
    assert sorted(svn("list", f"{repo.dev_url}/apache-airflow/providers").split()) == sorted(
        f + s for f in files if "_ftp-" in f for s in ("", ".asc", ".sha512"))
    finals = ["providers-common-io/1.11.1", "providers-http/6.3.1"]
    assert [git(root, "rev-parse", f"{tag}^{{commit}}") for tag in finals] == [commit] * 2
    assert "providers-ftp/3.16.2" not in git(root, "tag", "--list").split()
    assert json.loads((wave / "wave.json").read_text())["promoted"]["tags"] == finals
    again = invoke(root, "promote", "--train", "providers", "--date", DATE, profile=profile)
    assert again.returncode == 0, again.stderr
    assert "holds the 15 voted files already" in again.stderr and "tagged nothing new" in again.stderr
    unpublished = invoke(root, "announce", "--train", "providers", "--date", DATE, profile=profile)
    assert unpublished.returncode == 6 and "is not published yet" in unpublished.stderr, unpublished.stderr
    # publish from a runner's clone without dist/: what the final tags on the wave's commit say was
    # promoted (ftp, excluded, has none), read from the flat release folder and checked first
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(root), str(runner))
    release_http = f"{repo.release_url}/apache-airflow/providers"
    put_files(release_http, {http: changed}, "Not the signed sdist")
    unsigned = invoke(runner, "publish", "--train", "providers", "--date", DATE, profile=profile)
    assert unsigned.returncode == 6 and (
        f"{http}: matches neither its signature nor its checksum") in unsigned.stderr, unsigned.stderr
    assert sorted(simple.hashes("apache-airflow-providers-http")) == sorted(
        c for c in candidates if "_http-" in c)  # nothing uploaded
    put_files(release_http, {http: wave / "svn" / http}, "The signed sdist again")
    from_release = invoke(runner, "publish", "--train", "providers", "--date", DATE, profile=profile)
    assert from_release.returncode == 0, from_release.stderr
    assert (f"4 files uploaded, 0 there already (the 15 promoted files read from svn release and checked, "
            f"tagged on {commit[:12]})") in from_release.stderr
    git(runner, "tag", "-f", "providers-http/6.3.1", f"{commit}~1")
    moved = invoke(runner, "publish", "--train", "providers", "--date", DATE, profile=profile)
    assert moved.returncode == 6 and (
        f"git tag providers-http/6.3.1 is on {git(root, 'rev-parse', commit + '~1')[:12]}") in moved.stderr, \
        moved.stderr
    # publish: the promoted packages, the voted final-version files, to the index beside the candidates
    # (a runner put them there: the promoting tree finds them with the same bytes, then records them)
    refused = invoke(root, "publish", "--train", "providers", "--date", "2026-12-01", profile=profile)
    assert refused.returncode == 6 and (  # no record of that wave here: taken from svn, if git knew it
        "the providers wave of 2026-12-01 is not known here (no git tag providers/2026-12-01, no "
        "dist/providers-2026-12-01/wave.json)") in refused.stderr, refused.stderr
    planned = invoke(root, "publish", "--train", "providers", "--date", DATE, "--dry-run",
                     profile=profile)
    assert planned.returncode == 0, planned.stderr
    assert f"invoke publish --train providers --date {DATE} would" in planned.stderr
    assert planned.stderr.count("upload apache_airflow_providers_") == 2
    published = invoke(root, "publish", "--train", "providers", "--date", DATE, profile=profile)
    assert published.returncode == 0, published.stderr
    assert "0 files uploaded, 4 there already" in published.stderr
    packages = [n for n in files[1:] if "_ftp-" not in n]
    assert sorted(f for d in ("apache-airflow-providers-http", "apache-airflow-providers-common-io")
                  for f in simple.hashes(d)) == sorted(packages + [c for c in candidates if "_ftp-" not in c])
    assert sorted(simple.hashes("apache-airflow-providers-ftp")) == sorted(  # excluded: its rc1 alone
        c for c in candidates if "_ftp-" in c)
    again = invoke(root, "publish", "--train", "providers", "--date", DATE, profile=profile)
    assert again.returncode == 0 and "0 files uploaded, 4 there already" in again.stderr, again.stderr
    announced = invoke(root, "announce", "--train", "providers", "--date", DATE, profile=profile)
    assert announced.returncode == 0, announced.stderr
    news = (wave / "announce-email.txt").read_text()
    assert f"Subject: [ANNOUNCE] Apache Airflow providers {DATE} released\n" in news
    assert ("  apache-airflow-providers-common-io 1.11.1\n  apache-airflow-providers-http 6.3.1\n\n"
            in news and "ftp" not in news)  # the excluded provider is not released
    http = "apache_airflow_providers_http-6.3.1.tar.gz"
    assert f"  {repo.release_url}/apache-airflow/providers/{http}\n" in news
    assert f"  {http}\n    sha512: {sha512_of(wave / 'svn' / http)}\n" in news
    assert "  pip install apache-airflow-providers-http==6.3.1\n" in news and url + "simple/" in news
    # cleanup: an older common.io left in release/, http's released sdist put back in dev/
    stale = tmp_path / "stale"
    stale.mkdir()
    for end in (".tar.gz", ".tar.gz.asc"):
        (stale / f"apache_airflow_providers_common_io-1.11.0{end}").write_bytes(b"an older release")
    svn("import", "-m", "common.io 1.11.0", str(stale), f"{repo.release_url}/apache-airflow/providers")
    put_files(providers, {http: wave / "svn" / http}, "A released candidate left behind")
    unlisted = invoke(root, "cleanup", "--train", "providers", "--remove", profile=profile)
    assert unlisted.returncode == 6 and "no listing was printed" in unlisted.stderr, unlisted.stderr
    listed = invoke(root, "cleanup", "--train", "providers", profile=profile)
    assert listed.returncode == 0 and "3 files would go" in listed.stderr, listed.stderr
    assert "older than apache-airflow-providers-common-io 1.11.1, released" in listed.stderr
    removed = invoke(root, "cleanup", "--train", "providers", "--remove", profile=profile)
    assert removed.returncode == 0 and "removed 3 files" in removed.stderr, removed.stderr
    assert sorted(svn("list", f"{repo.release_url}/apache-airflow/providers").split()) == voted
    assert sorted(svn("list", providers).split()) == sorted(
        f + s for f in files if "_ftp-" in f for s in ("", ".asc", ".sha512"))  # ftp waits for its rc2
    quiet = invoke(root, "cleanup", "--train", "providers", profile=profile)
    assert quiet.returncode == 0 and "nothing to remove" in quiet.stderr, quiet.stderr
    # a later wave of the excluded one alone: its rc2
    later = invoke(root, "release", "--train", "providers", "--dry-run", "--json", "--only", "ftp",
                   "--date", "2026-12-14", profile=profile)
    assert later.returncode == 0, later.stderr
    assert [d["candidate"] for d in json.loads(later.stdout)["distributions"]] == ["3.16.2rc2"]
    # withdraw http from the published wave: its files leave the flat release folder in one commit,
    # wave.json records why, the index is told (it has no yank API: where to yank by hand)
    why = ("--only", "http", "--reason", "CVE-2026-0001 in the http hook")
    ftp = invoke(root, "withdraw", "--train", "providers", "--date", DATE, "--only", "ftp", "--reason",
                 "x", profile=profile)
    assert ftp.returncode == 6 and "ftp was not released in the providers wave" in ftp.stderr, ftp.stderr
    unexplained = invoke(root, "withdraw", "--train", "providers", "--date", DATE, "--only", "http",
                         profile=profile)
    assert unexplained.returncode == 1, unexplained.stderr
    assert "--reason is required" in unexplained.stderr and "Traceback" not in unexplained.stderr
    gone = sorted(n for n in voted if n.startswith("apache_airflow_providers_http-"))
    release_folder = f"{repo.release_url}/apache-airflow/providers"
    dry = invoke(root, "withdraw", "--train", "providers", "--date", DATE, *why, "--dry-run", "--json",
                 profile=profile)
    assert dry.returncode == 0, dry.stderr
    planned_withdrawal = json.loads(dry.stdout)
    actions = planned_withdrawal["actions"]
    assert planned_withdrawal["refusals"] == []
    assert [a["does"] for a in actions if a["where"] != "svn"] == [
        f"record in {wave / 'wave.json'}: apache-airflow-providers-http 6.3.1 withdrawn (CVE-2026-0001 "
        "in the http hook)",
        f"tell {url}simple/ apache-airflow-providers-http 6.3.1 is withdrawn (yanked where it can, else "
        "where to yank it by hand)"]
    assert sorted(a["does"] for a in actions if a["where"] == "svn") == [
        f"remove {release_folder}/{n} (the ASF archive keeps it)" for n in gone]
    assert sorted(svn("list", release_folder).split()) == voted  # the dry run changed nothing
    withdrawn = invoke(root, "withdraw", "--train", "providers", "--date", DATE, *why, profile=profile)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert f"removed {len(gone)} files from {release_folder}" in withdrawn.stderr
    assert "offers no API to yank (PEP 592) apache-airflow-providers-http 6.3.1" in withdrawn.stderr
    assert sorted(svn("list", release_folder).split()) == sorted(set(voted) - set(gone))
    entry = json.loads((wave / "wave.json").read_text())["withdrawn"]["apache-airflow-providers-http"]
    assert entry["version"] == "6.3.1" and entry["reason"] == "CVE-2026-0001 in the http hook"
    assert entry["key"] == keyring.fingerprint and isinstance(entry["revision"], int)
    assert sorted(f.rsplit("/", 1)[-1] for f in entry["files"]) == gone
    assert "yank it by hand" in entry["index"]
    before = (wave / "wave.json").read_bytes()
    rerun = invoke(root, "withdraw", "--train", "providers", "--date", DATE, *why, profile=profile)
    assert rerun.returncode == 0, rerun.stderr
    assert "is withdrawn already on" in rerun.stderr and "svn holds none of their files" in rerun.stderr
    assert (wave / "wave.json").read_bytes() == before
    assert sorted(svn("list", release_folder).split()) == sorted(set(voted) - set(gone))
    # the announcement leaves it out; verify names it; cleanup and the next wave's plan go on
    reannounced = invoke(root, "announce", "--train", "providers", "--date", DATE, profile=profile)
    assert reannounced.returncode == 0, reannounced.stderr
    news = (wave / "announce-email.txt").read_text()
    assert "  apache-airflow-providers-common-io 1.11.1\n\n" in news and "providers_http" not in news
    assert "apache-airflow-providers-http" not in news
    verified = invoke(root, "verify", "--train", "providers", "--date", DATE, "--no-rebuild",
                      profile=profile)
    assert ("withdrawn: apache-airflow-providers-http 6.3.1 on " in verified.stderr
            and ": CVE-2026-0001 in the http hook" in verified.stderr), verified.stderr
    tidy = invoke(root, "cleanup", "--train", "providers", profile=profile)
    assert tidy.returncode == 0 and "nothing to remove" in tidy.stderr, tidy.stderr
    next_wave = invoke(root, "release", "--train", "providers", "--dry-run", "--json", "--only", "http",
                       "--date", "2026-12-14", profile=profile)
    assert next_wave.returncode == 0, next_wave.stderr
    assert json.loads(next_wave.stdout)["skipped"] == [{  # 6.3.1 is never released again
        "name": "apache-airflow-providers-http",
        "reason": "6.3.1 is released already and nothing changed"}]
