# SPDX-License-Identifier: Apache-2.0
"""Against a real Apache Trusted Releases server (e354d17, in test mode), started by the sandbox once
for this module and shared: a candidate of the sample is uploaded, checked, voted on, resolved and
announced, and every call run again changes nothing; a broken signature and a missing NOTICE come
back as ATR's own failing checks; the token goes nowhere but the configured host; ATR reaches
nothing (its namespace has only a loopback, and its lookups fail at once); and `down` ends every
process of it, also after it crashed and when it crashed while starting.

ATR's source: RELEASE_ATR_SOURCE, else `../shared/atr/atr-e354d17.tar.gz` next to the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO_ROOT, git
from vote_fixtures import Mail, staged_hours_ago, vote_thread

from release import sandbox
from release.adapters import atr, gpg, netns, process, svn
from release.adapters.atr import AtrClient, AtrTarget, Credentials, Distribution, Secret
from release.adapters.index import PackageIndex
from release.adapters.registry import Manifest, RegistryClient
from release.config import load_config
from release.errors import RefusedError, ServiceError
from release.pipeline.connect import connect, resolve_target
from release.plan.provenance import OCI_MANIFEST_TYPE, TITLE_ANNOTATION, attachment_tag, blob_digest
from release.record import load_record, sha256_of
from release.sandbox import atr as atr_sandbox
from release.sandbox import gpg as sandbox_gpg
from release.sandbox.state import Layout
from release.steps.build import build_release
from release.steps.check_provenance import attachment
from release.steps.sign import sign_files
from release.versions import parse_version

pytestmark = [pytest.mark.atr, pytest.mark.sandbox, pytest.mark.slow]

SOURCE = Path(os.environ.get(atr_sandbox.SOURCE_ENV) or REPO_ROOT.parent / "shared/atr/atr-e354d17.tar.gz")
SKIP_ATR = "RELEASE_PIPELINE_SKIP_ATR"  # "1": no ATR source here, skip these tests (they fail otherwise)
LICENSE_TEXT = Path("/usr/share/common-licenses/Apache-2.0")  # the canonical text ATR compares with
ASF_NOTICE = ("Apache Sample App\nCopyright 2026 The Apache Software Foundation\n\n"
              "This product includes software developed at\nThe Apache Software Foundation (http://www.apache.org/).\n")
ASF_HEADER = """\
# Licensed to the Apache Software Foundation (ASF) under one
# or more contributor license agreements.  See the NOTICE file
# distributed with this work for additional information
# regarding copyright ownership.  The ASF licenses this file
# to you under the Apache License, Version 2.0 (the
# "License"); you may not use this file except in compliance
# with the License.  You may obtain a copy of the License at
#
#   http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing,
# software distributed under the License is distributed on an
# "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY
# KIND, either express or implied.  See the License for the
# specific language governing permissions and limitations
# under the License.
"""
ANNOUNCE = {"email_to": atr.SANDBOX_MAILING_LIST, "subject": "[ANNOUNCE] Apache Sample App 1.10.6",
            "body": "The sample is released.", "path_suffix": "sample-app/1.10.6"}


@dataclass
class Running:
    root: Path
    services: sandbox.Services
    target: AtrTarget
    lines: list[str]  # every progress line the adapter printed, to check that no token is among them
    figures: list[str]

    @property
    def server(self) -> sandbox.AtrServer:
        assert self.services.atr is not None
        return self.services.atr

    def client(self) -> AtrClient:
        return AtrClient(self.target, atr.credentials(self.target),
                         progress=lambda item: self.lines.append(str(item)))

    def token(self) -> str:
        return atr.credentials(self.target).token.reveal()


def _up(root: Path, lines: list[str]) -> tuple[sandbox.Services, float]:
    """The sandbox up as the pipeline brings it up for a config that stages in the sandbox's ATR."""
    config = load_config(root)
    assert config.atr_in_sandbox
    started = time.monotonic()
    target = connect(config, progress=lambda item: lines.append(str(item)))
    services = sandbox.load(root)
    assert services is not None and services.atr is not None and target.atr == services.atr.target()
    return services, time.monotonic() - started


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Running]:
    if not SOURCE.is_file():  # a missing server is a failure, never a silent pass, unless asked
        missing = (f"no ATR source at {SOURCE}: set {atr_sandbox.SOURCE_ENV} to a `git archive "
                   "--prefix=atr/` tarball of apache/tooling-trusted-releases (e354d17), or "
                   f"{SKIP_ATR}=1 to skip these tests")
        if os.environ.get(SKIP_ATR) == "1":
            pytest.skip(missing)
        pytest.fail(missing)
    before = os.environ.get(atr_sandbox.SOURCE_ENV)
    os.environ[atr_sandbox.SOURCE_ENV] = str(SOURCE)
    root = tmp_path_factory.mktemp("atr") / "project"
    shutil.copytree(FIXTURES / "sample", root)
    config = root / "pyproject.toml"  # one flavour: the images published through ATR are the svn path's
    config.write_text(config.read_text().replace('python = ["3.9", "3.11", "3.13"]', 'python = ["3.11"]'))
    with config.open("a", encoding="utf-8") as pyproject:  # [tool.release] is last
        pyproject.write('staging = "atr"\natr = "sandbox"\n')
    lines: list[str] = []
    services, took = _up(root, lines)
    figures = [f"sandbox up with ATR (fresh root: venv, migrations, first answer): {took:.1f}s"]
    figures += [line for line in lines if "atr: environment ready" in line or "atr: answering" in line]
    assert services.atr is not None
    found = Running(root, services, services.atr.target(), [], figures)
    yield found
    stopping = time.monotonic()
    result = invoke(root, "sandbox.down")
    assert result.returncode == 0, result.stderr
    figures.append(f"invoke sandbox.down (ATR answering, workers idle): {time.monotonic() - stopping:.1f}s")
    assert not netns.exists(found.server.netns) and _left(found) == []
    if before is None:
        os.environ.pop(atr_sandbox.SOURCE_ENV, None)
    else:
        os.environ[atr_sandbox.SOURCE_ENV] = before
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_sep("-", "ATR: figures")
            for line in figures:
                reporter.write_line(line)


def invoke(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """An invoke task of this repository, run in `root` as a release manager runs it."""
    env = {**os.environ, "RELEASE_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def asf_tree(tree: Path, version: str, *, notice: bool | str = True) -> Path:
    """The sample as an ASF project ships it (the Apache License's canonical text, an ASF NOTICE, the
    ASF header in every source file) at `version`, committed in git in `tree` (made, or, when it is
    there, its sources written again from the fixture): `notice` False leaves NOTICE out, a text is
    the NOTICE instead. Its pyproject.toml is left as it is when there is one."""
    shutil.copytree(FIXTURES / "sample", tree, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("pyproject.toml") if (tree / "pyproject.toml").exists()
                    else None)
    shutil.copy(LICENSE_TEXT, tree / "LICENSE")
    if notice is True:
        (tree / "NOTICE").write_text(ASF_NOTICE, encoding="utf-8")
    elif notice is False:
        (tree / "NOTICE").unlink()
    else:
        (tree / "NOTICE").write_text(notice, encoding="utf-8")
    changelog = tree / "CHANGELOG.md"
    notes = f"## [{version}] - 2026-12-01\n\n### Fixed\n- A candidate for ATR's checks.\n\n"
    text = changelog.read_text(encoding="utf-8")
    changelog.write_text(text if f"## [{version}]" in text else text.replace("## [", notes + "## [", 1),
                         encoding="utf-8")
    for source in ("setup.py", "sample_app/__init__.py"):
        path = tree / source
        text = path.read_text(encoding="utf-8").replace('"1.10.6"', f'"{version}"')
        path.write_text(ASF_HEADER + text, encoding="utf-8")
    if not (tree / ".git").exists():
        git(tree, "init", "-q", "-b", "main")
        git(tree, "config", "user.email", "rm@sample.invalid")
        git(tree, "config", "user.name", "Release Manager")
        (tree / ".gitignore").write_text(".release/\ndist/\n", encoding="utf-8")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", f"Sample app {version}")
    return tree


def asf_candidate(where: Path, version: str, services: sandbox.Services, *,
                  notice: bool = True) -> list[Path]:
    """The ASF sample (`asf_tree`) built and signed with the sandbox's key: its svn files."""
    tree = asf_tree(where / f"sample-{version}", version, notice=notice)
    built = build_release(load_config(tree), parse_version(version))
    sign_files(list(built.svn_files), built.directory / "svn", key=services.signing_key,
               gnupghome=services.gnupghome)
    return sorted((built.directory / "svn").iterdir())


def start_vote(client: AtrClient, version: str, revision: str) -> atr.VoteStart:
    return client.start_vote(version, revision, email_to=atr.SANDBOX_MAILING_LIST,
                             subject=f"[VOTE] Release Apache Sample App {version}",
                             body="Please vote on the sample's candidate.")


def prepared(running: Running) -> AtrClient:
    """The committee holds the sandbox's key, and the RAT result that cannot be had offline is ignored."""
    client = running.client()
    keys = sandbox_gpg.keys_text(running.services.gnupghome, running.services.signing_key)
    client.upload_keys(keys, [running.services.signing_key])
    client.add_ignore(atr.RAT_JAR_MISSING)
    return client


# --- where it runs ----------------------------------------------------------------------------------------


def test_atr_runs_in_a_namespace_with_only_loopback_and_answers_on_127_0_0_1(running: Running) -> None:
    name = running.server.netns
    assert netns.interfaces(name) == ["lo"]
    routes = netns.routes(name)
    assert routes and all(" dev lo " in f" {route} " for route in routes), routes
    assert not any(route.startswith("default") for route in routes)
    assert running.server.url.startswith("https://127.0.0.1:")
    pids = netns.pids(name)
    workers = [pid for pid in pids if "atr/worker.py" in _cmdline(pid)]
    assert len(workers) >= 1 and len(pids) > len(workers)
    shown = invoke(running.root, "sandbox.status", "--json")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)["atr"]
    assert status["answering"] and status["running"] and status["bridge_running"]
    assert status["url"] == running.server.url and status["netns"] == name
    assert status["processes_in_netns"] == len(netns.pids(name))


def test_the_published_keys_name_atr_s_test_user_as_the_signing_key_does(running: Running) -> None:
    """KEYS is written after the key names ATR's test user, so what voters import is the key ATR holds."""
    keys = svn.read_text(f"{running.services.svn_url}/release/sample-app/KEYS")
    assert f"<{atr.SANDBOX_UID}@apache.org>" in keys and running.services.signing_key in keys.replace(" ", "")


def test_the_pipeline_s_target_is_the_sandbox_s_atr_and_its_token_logs_in(running: Running) -> None:
    target = resolve_target(load_config(running.root), sandbox.load(running.root))
    assert target.atr == running.target
    assert (target.atr.project, target.atr.committee, target.atr.uid) == ("test", "test", "test")
    running.client().login()
    token_file = atr_sandbox.Paths.of(Layout.of(running.root)).token
    assert token_file.stat().st_mode & 0o777 == 0o600


# --- a candidate's way through ATR -------------------------------------------------------------------------


def test_a_candidate_is_uploaded_checked_voted_resolved_and_finished_and_every_rerun_changes_nothing(
        running: Running, tmp_path: Path) -> None:
    files = asf_candidate(tmp_path, "1.10.6", running.services)
    client = prepared(running)
    keys = sandbox_gpg.keys_text(running.services.gnupghome, running.services.signing_key)
    assert client.upload_keys(keys, [running.services.signing_key]) is False
    assert client.add_ignore(atr.RAT_JAR_MISSING) is False
    assert client.ignores().count(atr.RAT_JAR_MISSING) == 1

    created = client.create_release("1.10.6")
    assert (created.phase, created.latest_revision) == (atr.DRAFT, "00001")
    assert client.create_release("1.10.6") == created

    started = time.monotonic()
    upload = client.upload("1.10.6", files)
    assert upload.uploaded == tuple(f.name for f in files) and upload.already_there == ()
    again = client.upload("1.10.6", files)
    assert (again.revision, again.uploaded, again.already_there) == (upload.revision, (), upload.uploaded)
    assert client.paths("1.10.6", upload.revision) == sorted(f.name for f in files)

    report = client.wait_for_checks("1.10.6", upload.revision)
    running.figures.append(f"upload of the sample's 9 files and ATR's checks of revision {upload.revision}: "
                           f"{time.monotonic() - started:.1f}s")
    assert report.blockers == (), "\n".join(map(str, report.blockers))
    signatures = {c.path for c in report.checks if c.checker == "atr.tasks.checks.signature.check"
                  and c.status == "success"}
    assert signatures == {f.name for f in files if f.name.endswith(".asc")}
    hashes = {c.path for c in report.checks if c.checker == "atr.tasks.checks.hashing.check"
              and c.status == "success"}
    assert hashes == {f.name for f in files if f.name.endswith(".sha512")}
    notices = {c.path for c in report.checks if c.checker == "atr.tasks.checks.license.files"
               and c.message == "NOTICE is valid"}
    assert notices == {"sample-app-1.10.6-source.tar.gz", "sample_app-1.10.6.tar.gz"}
    rat = [c for c in report.checks if c.checker == "atr.tasks.checks.rat.check"]
    assert rat and all(c.ignored and c.status == "failure" for c in rat)
    assert {c.path for c in report.ignored} == {c.path for c in rat}

    vote = start_vote(client, "1.10.6", upload.revision)
    assert (vote.started, vote.revision, vote.phase) == (True, upload.revision, atr.CANDIDATE)
    assert any("mail-relay.apache.org" in w and "name resolution" in w for w in vote.mail_warnings)
    again_vote = start_vote(client, "1.10.6", upload.revision)
    assert again_vote == atr.VoteStart(False, upload.revision, atr.CANDIDATE)
    assert client.upload("1.10.6", files).uploaded == ()  # during the vote: the same files, nothing to do

    assert client.resolve_vote("1.10.6", "passed") is True
    assert client.resolve_vote("1.10.6", "passed") is False
    assert client.release("1.10.6").phase == atr.PREVIEW  # type: ignore[union-attr]
    with pytest.raises(RefusedError, match="past its draft"):
        client.upload("1.10.6", [*files, files[0].with_name("extra.txt")])

    assert client.announce("1.10.6", **ANNOUNCE) is True
    assert client.announce("1.10.6", **ANNOUNCE) is False
    assert start_vote(client, "1.10.6", upload.revision).started is False
    assert client.resolve_vote("1.10.6", "passed") is False
    finished = client.release("1.10.6")
    assert finished is not None and finished.phase == atr.RELEASED
    assert client.paths("1.10.6") == sorted(f.name for f in files)
    assert client.sha512_of("1.10.6", files[0].name) == atr._sha512(files[0])

    for distribution in (Distribution("pypi", "sample-app", "1.10.6"),
                         Distribution("docker", "app", "1.10.6", owner="sample")):
        recorded = client.record_distribution("1.10.6", distribution)
        assert not recorded.recorded
        assert distribution.package in recorded.warning and distribution.platform in recorded.warning
        assert "Failed to get API response from distribution platform" in recorded.warning
    warned = "warning: ATR did not record sample/app 1.10.6 on docker"
    assert any(line.startswith(warned) for line in running.lines)

    token = running.token()
    assert token not in "\n".join(running.lines) and token not in repr(client)


def test_a_broken_signature_is_atr_s_own_failing_check_naming_the_file(running: Running,
                                                                        tmp_path: Path) -> None:
    files = {f.name: f for f in asf_candidate(tmp_path, "1.10.7", running.services)}
    good = files["sample_app-1.10.7.tar.gz.asc"].read_bytes()
    shutil.copy(files["sample_app-1.10.7-py3-none-any.whl.asc"], files["sample_app-1.10.7.tar.gz.asc"])
    client = prepared(running)
    client.create_release("1.10.7")
    upload = client.upload("1.10.7", list(files.values()))
    report = client.wait_for_checks("1.10.7", upload.revision)
    assert [(c.checker, c.path, c.status) for c in report.blockers] == [
        ("atr.tasks.checks.signature.check", "sample_app-1.10.7.tar.gz.asc", "failure")]
    assert "No valid signature found" in str(report.blockers[0])

    files["sample_app-1.10.7.tar.gz.asc"].write_bytes(good)  # fixed here, but ATR holds the broken one
    with pytest.raises(RefusedError, match=r"already holds sample_app-1.10.7.tar.gz.asc .* with other bytes"):
        client.upload("1.10.7", list(files.values()))
    assert client.release("1.10.7").latest_revision == upload.revision  # type: ignore[union-attr]


def test_a_missing_notice_is_atr_s_own_failing_check_naming_the_file(running: Running,
                                                                      tmp_path: Path) -> None:
    files = asf_candidate(tmp_path, "1.10.8", running.services, notice=False)
    client = prepared(running)
    client.create_release("1.10.8")
    report = client.wait_for_checks("1.10.8", client.upload("1.10.8", files).revision)
    found = {(c.checker, c.path, c.message) for c in report.blockers}
    checker = "atr.tasks.checks.license.files"
    assert found == {(checker, "sample-app-1.10.8-source.tar.gz", "No NOTICE file found"),
                     (checker, "sample_app-1.10.8.tar.gz", "No NOTICE file found")}


# --- the pipeline's commands staging in ATR -----------------------------------------------------


BINDING = ["Jane <jane@sample.invalid>", "Joe <joe@sample.invalid>", "Ann Smith <ann@sample.invalid>"]


def in_running_sandbox(running: Running, version: str, *, notice: bool | str = True) -> Path:
    """The module's project (staging in the sandbox's ATR, one server for the module) as the ASF
    sample at `version`, committed: the pipeline's commands run in it. The committee gets the
    sandbox's key with its ASF user id first (svn's KEYS, from before that id was added, lacks it)."""
    prepared(running)
    return asf_tree(running.root, version, notice=notice)


def run_ok(tree: Path, *args: str, timeout: float = 300) -> str:
    result = invoke(tree, *args, timeout=timeout)
    assert result.returncode == 0, (f"invoke {' '.join(args)}: exit {result.returncode}\n"
                                    f"{result.stderr[-4000:]}")
    return result.stderr


def test_the_pipeline_stages_verifies_resolves_and_promotes_through_atr_and_reruns_change_nothing(
        running: Running, tmp_path: Path) -> None:
    rc, final = "1.10.9rc1", "1.10.9"
    tree = in_running_sandbox(running, final)
    started = time.monotonic()
    run_ok(tree, "build", "--version", rc)
    run_ok(tree, "sign", "--version", rc)
    shown = invoke(tree, "stage", "--version", rc, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr[-3000:]
    actions = [a["does"] for a in json.loads(shown.stdout)["actions"] if a["where"] == "atr"]
    assert any(d.startswith("upload 9 files to ATR sandbox project test release 1.10.9") for d in actions)
    staged = run_ok(tree, "stage", "--version", rc)
    running.figures.append(f"invoke build, sign and stage of {rc} through ATR: "
                           f"{time.monotonic() - started:.1f}s")
    client = running.client()
    release = client.release(final)
    assert release is not None and release.phase == atr.CANDIDATE
    record = json.loads((tree / "dist" / rc / "release.json").read_text())
    stage = record["stage"]
    assert stage["url"] == f"{running.server.url}/vote/test/{final}"
    assert f"{stage['revision']:05d}" == release.latest_revision
    assert len(stage["files"]) == 9 and "vote started in ATR" in staged
    email = (tree / "dist" / rc / "vote-email.txt").read_text()
    assert f"revision {release.latest_revision} in Apache Trusted Releases" in email
    assert "mail-relay.apache.org" in staged  # ATR could not send it here: a warning, not an error

    again = run_ok(tree, "stage", "--version", rc)  # a rerun: nothing uploaded, no second vote
    assert "already holds these 9 files" in again and "already running or done" in again
    assert client.release(final) == release
    assert len(client.revisions(final)) == int(release.latest_revision)

    verified = run_ok(tree, "verify", "--version", rc, "--no-images", "--no-rebuild")
    assert f"revision {release.latest_revision}" in verified

    # --- the candidate's images: their constraints and signatures attached, nothing in svn ------------
    in_svn = svn_holdings(running)
    run_ok(tree, "release", "--version", rc, timeout=900)
    assert svn_holdings(running) == in_svn and not any("constraints-" in n or n.endswith("signatures")
                                                       for n in in_svn)
    registry = RegistryClient(running.services.registry)
    carries_its_signature_and_the_constraints(registry, tree, rc)
    assert client.release(final) == release  # the images' run left ATR's vote alone
    checked = run_ok(tree, "verify", "--version", rc, "--no-rebuild")
    assert "image signature by a KEYS key for" in checked and "(attached)" in checked
    a_corrupted_attached_signature_fails_verify_naming_it(registry, tree, rc)
    pushed = {t: registry.manifest_digest("sample/app", t) for t in registry.tags("sample/app")}
    run_ok(tree, "release", "--version", rc, timeout=900)  # a rerun changes nothing: attachments included
    assert {t: registry.manifest_digest("sample/app", t) for t in registry.tags("sample/app")} == pushed
    assert svn_holdings(running) == in_svn and client.release(final) == release

    opened = staged_hours_ago(tree / "dist" / rc, rc, 96)  # as if the vote had been open four days
    votes = vote_thread(tmp_path / "thread.mbox", [Mail(who, "+1", 2 + n) for n, who in enumerate(BINDING)],
                        opened=opened, candidate=rc)
    closed = (opened + timedelta(hours=80)).isoformat()
    counted = run_ok(tree, "vote-result", "--version", rc, "--votes", str(votes), "--closed-at", closed)
    assert "resolved as passed" in counted
    assert client.release(final).phase == atr.PREVIEW  # type: ignore[union-attr]
    assert "resolved as passed already" in run_ok(tree, "vote-result", "--version", rc, "--votes", str(votes),
                                                  "--closed-at", closed)

    promoted = run_ok(tree, "promote", "--version", final, "--from-rc", rc)
    assert "invoke publish finishes the release in ATR" in promoted
    placed = sorted(p.name for p in (tree / "dist" / final / "svn").iterdir())
    assert placed == sorted(stage["files"])
    record = load_record(tree / "dist" / final, final)  # the voted .asc files are the final's signatures
    assert {s.of for s in record.signatures.values() if s.path.endswith(".asc")} == {
        f.path for f in record.files_in("svn")}
    run_ok(tree, "promote", "--version", final, "--from-rc", rc)  # a rerun: the same files, nothing else
    assert client.release(final).phase == atr.PREVIEW  # type: ignore[union-attr]
    dry = invoke(tree, "publish", "--version", final, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr[-3000:]
    steps = [step["name"] for step in json.loads(dry.stdout)["steps"]]
    assert steps[-4:] == ["atr-finish", "atr-distributions", "report", "provenance"]
    running.figures.append(f"the pipeline's ATR test (build to promote, reruns): "
                           f"{time.monotonic() - started:.1f}s")

    # --- publish: images, packages, aliases, then ATR finishes the release, as the dry run said ------
    publishing = time.monotonic()
    published = run_ok(tree, "publish", "--version", final, timeout=900)
    running.figures.append(f"invoke publish of {final} through ATR (one flavour): "
                           f"{time.monotonic() - publishing:.1f}s")
    done = json.loads((tree / "dist" / final / "report.json").read_text())
    assert done["steps"] == steps  # in the plan's order: ATR finishes once the images and packages are out
    finished = client.release(final)
    assert finished is not None and finished.phase == atr.RELEASED
    assert client.paths(final) == sorted(stage["files"])  # the voted revision, now the release
    index = PackageIndex(running.services.index_url, f"{running.services.index_url}simple/")
    voted = {p.name: sha256_of(p) for p in (tree / "dist" / final / "pypi").iterdir()}
    assert {n: h for n, h in index.hashes("sample-app").items() if final in n and "rc" not in n} == voted
    tags = {t: registry.manifest_digest("sample/app", t) for t in registry.tags("sample/app")}
    assert tags[final] == tags[f"{final}-python3.11"] == tags["latest"] != tags.get(f"{rc}-python3.11")
    # recording a distribution needs the real PyPI and Docker Hub: a warning naming each, not a failure
    for package in ("sample-app", "sample/app"):
        assert f"warning: ATR did not record {package} {final}" in published, published[-3000:]
    recorded = load_record(tree / "dist" / final, final)
    assert len(recorded.steps["atr-distributions"].produced["warnings"]) == 2
    assert svn_holdings(running) == in_svn  # no constraints folder, no signatures, no record in svn
    carries_its_signature_and_the_constraints(registry, tree, final)
    run_ok(tree, "verify", "--version", final, "--published")
    a_user_checks_the_attached_signature_as_documented(running, registry, tree, final, tmp_path / "user")

    again = run_ok(tree, "publish", "--version", final, timeout=900)  # a rerun changes nothing
    assert {t: registry.manifest_digest("sample/app", t) for t in registry.tags("sample/app")} == tags
    assert {n: h for n, h in index.hashes("sample-app").items() if final in n and "rc" not in n} == voted
    assert client.release(final) == finished and "finished" in again
    assert svn_holdings(running) == in_svn


def svn_holdings(running: Running) -> dict[str, list[str]]:
    """What svn dev/ and release/ hold for the module's project."""
    return {area: svn.list_folder(f"{running.services.svn_url}/{area}/sample-app")
            for area in ("dev", "release")}


def carries_its_signature_and_the_constraints(registry: RegistryClient, tree: Path, version: str) -> None:
    """The artifact attached to the version's image digest holds the image's own signature and the
    constraints files (with .asc and .sha512), the bytes dist/<V>/ recorded."""
    digest = registry.manifest_digest("sample/app", f"{version}-python3.11")
    assert digest is not None
    files = attachment(registry, "sample/app", digest)
    assert files is not None
    record = load_record(tree / "dist" / version, version)
    [signature] = record.image_signatures.values()
    assert signature.digest == digest and signature.lookaside == ""
    assert files[Path(signature.path).name] == (tree / "dist" / version / signature.path).read_bytes()
    [constraints] = record.constraints.values()
    assert constraints.url == ""
    for suffix in ("", ".asc", ".sha512"):
        path = tree / "dist" / version / (constraints.path + suffix)
        assert files[path.name] == path.read_bytes()


def a_user_checks_the_attached_signature_as_documented(running: Running, registry: RegistryClient, tree: Path,
                                                       version: str, work: Path) -> None:
    """docs/provenance.md's steps for a project staging in ATR: the artifact attached to the image's
    digest, its `.sig` layer, the image's manifest, KEYS imported, `skopeo standalone-verify`."""
    tag = f"{version}-python3.11"
    digest = registry.manifest_digest("sample/app", tag)
    assert digest is not None
    artifact = registry.get_manifest("sample/app", attachment_tag(digest))
    subject = registry.get_manifest("sample/app", digest)
    assert artifact is not None and subject is not None
    [layer] = [x for x in artifact.body["layers"] if x["annotations"][TITLE_ANNOTATION].endswith(".sig")]
    signature = registry.get_blob("sample/app", layer["digest"])
    assert signature is not None
    work.mkdir(parents=True)
    (work / "KEYS").write_text(svn.read_text(f"{running.services.svn_url}/release/sample-app/KEYS"))
    (work / "manifest.json").write_bytes(subject.raw)
    (work / "signature").write_bytes(signature)
    [signer] = {s.signer for s in load_record(tree / "dist" / version, version).image_signatures.values()}
    reference = f"{running.services.registry}/sample/app:{tag}"
    with gpg.temporary_home() as home:  # its gpg-agent ends with it
        env = {**os.environ, "GNUPGHOME": str(home)}
        subprocess.run(["gpg", "--batch", "--import", str(work / "KEYS")], env=env, capture_output=True,
                       check=True)
        checked = subprocess.run(["skopeo", "standalone-verify", str(work / "manifest.json"), reference,
                                  signer, str(work / "signature")], env=env, capture_output=True, text=True)
    assert checked.returncode == 0 and "Signature verified" in checked.stdout, checked.stderr


def a_corrupted_attached_signature_fails_verify_naming_it(registry: RegistryClient, tree: Path,
                                                          version: str) -> None:
    """The candidate image's signature in its attachment replaced by other bytes: `invoke verify`
    exits 7 naming the image and the attached signature; the attachment is then put back."""
    digest = registry.manifest_digest("sample/app", f"{version}-python3.11")
    assert digest is not None
    tag = attachment_tag(digest)
    original = registry.get_manifest("sample/app", tag)
    assert original is not None
    body = json.loads(original.raw)
    [layer] = [x for x in body["layers"] if x["annotations"][TITLE_ANNOTATION].endswith(".sig")]
    corrupted = b"-----BEGIN PGP MESSAGE-----\nnot a signature\n-----END PGP MESSAGE-----\n"
    layer["digest"], layer["size"] = registry.upload_blob("sample/app", corrupted), len(corrupted)
    raw = json.dumps(body, separators=(",", ":")).encode()
    registry.put_manifest("sample/app", tag, Manifest(raw, OCI_MANIFEST_TYPE, blob_digest(raw)))
    try:
        failed = invoke(tree, "verify", "--version", version, "--no-rebuild")
        assert failed.returncode == 7, failed.stderr[-3000:]
        said = failed.stdout + failed.stderr
        name = layer["annotations"][TITLE_ANNOTATION]
        assert f"image signature attached as sample/app:{tag} ({name})" in said, said[-3000:]
        assert "not pulled: its signature does not check out" in said
    finally:
        registry.put_manifest("sample/app", tag, original)
    assert registry.manifest_digest("sample/app", tag) == original.digest


def test_a_notice_atr_finds_wrong_stops_invoke_stage_with_atr_s_finding_and_no_vote(running: Running) -> None:
    rc, final = "1.10.11rc1", "1.10.11"
    # a NOTICE the pipeline's own checks take (it is there), but not in the ASF's form ATR checks
    own = (FIXTURES / "sample" / "NOTICE").read_text()
    tree = in_running_sandbox(running, final, notice=own)
    run_ok(tree, "build", "--version", rc)
    run_ok(tree, "sign", "--version", rc)
    result = invoke(tree, "stage", "--version", rc)
    assert result.returncode == 7, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr[-3000:]
    assert "atr.tasks.checks.license.files: failure on sample-app-1.10.11-source.tar.gz" in errors[0]
    assert "no vote was started" in errors[0]
    release = running.client().release(final)
    assert release is not None and release.phase == atr.DRAFT and not release.vote_started
    assert not (tree / "dist" / rc / "vote-email.txt").exists()


def test_a_missing_notice_is_stopped_by_the_pipeline_s_own_checks_before_atr(running: Running) -> None:
    rc, final = "1.10.12rc1", "1.10.12"
    tree = in_running_sandbox(running, final, notice=False)
    run_ok(tree, "build", "--version", rc)
    run_ok(tree, "sign", "--version", rc)
    result = invoke(tree, "stage", "--version", rc)
    assert result.returncode == 7 and "NOTICE" in result.stderr.splitlines()[-1], result.stderr[-3000:]
    assert running.client().release(final) is None  # nothing reached ATR

# --- the token goes to the configured host only ------------------------------------------------------------


class _Seen(BaseHTTPRequestHandler):
    """Answers every request with a redirect to `location`; counts what reached it."""

    location = ""
    hits: list[str]

    def _answer(self) -> None:
        self.hits.append(f"{self.command} {self.path}")
        self.send_response(307)
        self.send_header("Location", self.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _tls_server(cert: Path, key: Path, location: str, hits: list[str]) -> tuple[ThreadingHTTPServer, int]:
    handler = type("Handler", (_Seen,), {"location": location, "hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, server.server_address[1]


@pytest.mark.parametrize("elsewhere", ["https://localhost:{port}/api/jwt/create", "http://127.0.0.1:{port}/"])
def test_a_redirect_to_another_host_or_to_plain_http_is_refused_and_the_token_stays(
        running: Running, elsewhere: str) -> None:
    paths = atr_sandbox.Paths.of(Layout.of(running.root))
    other_hits: list[str] = []
    other, other_port = _tls_server(paths.cert, paths.key, "/", other_hits)
    hits: list[str] = []
    redirecting, port = _tls_server(paths.cert, paths.key, elsewhere.format(port=other_port), hits)
    try:
        target = AtrTarget(f"https://127.0.0.1:{port}", "test", "test", ca_file=paths.cert)
        client = AtrClient(target, Credentials("test", Secret("a-token")))
        with pytest.raises(RefusedError) as caught:
            client.paths("1.10.6")
        assert "refusing to follow it" in str(caught.value)
        assert hits == ["GET /api/release/paths/test/1.10.6"] and other_hits == []
        with pytest.raises(RefusedError) as caught:
            client.login()  # the token goes to the configured host, which sends it elsewhere: not followed
        assert hits[-1] == "POST /api/jwt/create" and other_hits == []
        assert "a-token" not in str(caught.value)
    finally:
        for server in (redirecting, other):
            server.shutdown()
            server.server_close()


# --- ATR reaches nothing ---------------------------------------------------------------------------------

_LINE = re.compile(r"^\[(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] \[\d+\] \[\w+\] (?P<text>.*)$")


def _log_lines(path: Path) -> list[tuple[datetime, str]]:
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        matched = _LINE.match(line)
        if matched:
            found.append((datetime.strptime(matched["at"], "%Y-%m-%d %H:%M:%S.%f"), matched["text"]))
    return found


def _first(lines: list[tuple[datetime, str]], pattern: str, after: datetime | None = None) -> datetime | None:
    found = (at for at, text in lines if re.search(pattern, text) and (after is None or at >= after))
    return next(found, None)


def test_atr_s_outbound_lookups_fail_at_once(running: Running) -> None:
    """ATR looks up whimsy.apache.org about a minute after it starts, and mails the vote through
    mail-relay.apache.org: in its namespace each fails at the name lookup, within milliseconds (a
    resolver's timeout alone would be 5 s). Its worker log says so."""
    log = atr_sandbox.Paths.of(Layout.of(running.root)).worker_log
    process.wait_until(lambda: "Metadata update failed" in log.read_text(errors="replace"), timeout=240,
                       interval=2)
    lines = _log_lines(log)
    claimed = _first(lines, r"Claimed task \d+ \(TaskType\.METADATA_UPDATE\)")
    failed = _first(lines, r"Metadata update failed: .*whimsy\.apache\.org.*name resolution", claimed)
    connecting = _first(lines, r"Connecting async to mail-relay\.apache\.org")
    refused = _first(lines, r"mail-relay\.apache\.org .*name resolution", connecting)
    assert claimed and failed and connecting and refused, "ATR's worker log lacks its failed lookups"
    lookup, mail = (failed - claimed).total_seconds(), (refused - connecting).total_seconds()
    running.figures.append(f"ATR's lookup of whimsy.apache.org failed after {lookup * 1000:.0f} ms, its mail "
                           f"to mail-relay.apache.org after {mail * 1000:.0f} ms (worker log)")
    assert lookup < 5 and mail < 5


# --- nothing left running -------------------------------------------------------------------------------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _left(running: Running) -> list[str]:
    """Every process on the machine that belongs to this sandbox's ATR."""
    home = str(atr_sandbox.Paths.of(Layout.of(running.root)).home)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and process.alive(int(entry.name)):
            line = _cmdline(int(entry.name))
            if home in line:
                found.append(f"{entry.name}: {line}")
    return found


def test_down_ends_atr_and_its_workers_after_it_crashed(running: Running) -> None:
    record = sandbox.status(running.root)["atr"]
    assert isinstance(record, dict)
    pid = int(record["pid"])
    os.kill(pid, signal.SIGKILL)
    process.wait_until(lambda: not process.alive(pid), timeout=10)
    orphans = [pid for pid in netns.pids(running.server.netns) if "atr/worker.py" in _cmdline(pid)]
    assert orphans, "ATR's workers make their own sessions: they outlive their server"
    result = invoke(running.root, "sandbox.down")
    assert result.returncode == 0, result.stderr
    assert _left(running) == []
    assert not netns.exists(running.server.netns)


def test_an_up_interrupted_while_atr_starts_leaves_nothing(running: Running) -> None:
    """Ctrl-C while ATR starts, before the sandbox has recorded it: it is ended there and then."""
    marker = atr_sandbox.Paths.of(Layout.of(running.root)).server_marker
    code = ("from pathlib import Path; from release import sandbox; "
            f"sandbox.up(Path({str(running.root)!r}), name='sample-app', flavours=[], atr=True)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=REPO_ROOT)
    try:
        started = process.wait_until(lambda: any(marker in line for line in _left(running)), timeout=120,
                                     interval=0.1, while_alive=child.pid)
        assert started, "ATR's server never started"
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode != 0 and "KeyboardInterrupt" in err
    assert _left(running) == []
    assert not netns.exists(running.server.netns)


def test_a_server_that_crashes_while_starting_leaves_nothing_and_the_next_up_recovers(
        running: Running) -> None:
    paths = atr_sandbox.Paths.of(Layout.of(running.root))
    host_key = paths.state / "ssh_host_key"  # read after the workers start: a bad one ends the server
    host_key.write_text("not a key\n", encoding="utf-8")
    lines: list[str] = []
    with pytest.raises(ServiceError, match="ATR stopped while starting"):
        _up(running.root, lines)
    assert _left(running) == []
    assert not netns.exists(running.server.netns)
    last_start = running.server.log.read_text(errors="replace").rsplit("\n=== ", 1)[-1]
    assert "WorkerManager.spawn_worker" in last_start, "the crash was meant to come after ATR started workers"
    assert "Invalid private key" in last_start

    host_key.unlink()
    services, took = _up(running.root, lines)
    running.figures.append(f"ATR restarted in a sandbox that has its venv: {took:.1f}s")
    assert services.atr == running.server
    client = running.client()
    assert client.release("1.10.6").phase == atr.RELEASED  # type: ignore[union-attr]
    assert netns.interfaces(running.server.netns) == ["lo"]


def test_a_second_up_reuses_the_running_server(running: Running) -> None:
    pid = sandbox.status(running.root)["atr"]["pid"]  # type: ignore[index]
    lines: list[str] = []
    services, took = _up(running.root, lines)
    assert sandbox.status(running.root)["atr"]["pid"] == pid  # type: ignore[index]
    assert any("atr: already running" in line for line in lines)
    running.figures.append(f"sandbox up with ATR already running: {took:.1f}s")
    assert services.atr == running.server


def test_atr_is_started_only_by_a_sandbox_that_asks_for_it(running: Running, tmp_path: Path) -> None:
    root = tmp_path / "plain"
    shutil.copytree(FIXTURES / "sample", root)
    found = sandbox.up(root, name="sample-app", flavours=[], progress=lambda item: None)
    try:
        assert found.atr is None and "atr" not in sandbox.status(root)
        assert not (root / ".release" / "atr").exists()
    finally:
        sandbox.down(root)
    assert atr_sandbox.namespace_of(Layout.of(root)) not in netns.names()
