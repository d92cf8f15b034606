# SPDX-License-Identifier: Apache-2.0
"""The whole Apache release loop, command by command, as a release manager types it, on a sandbox.

RC -> verify -> vote result (too early, too few binding votes, a binding -1 majority, then a
passing vote) -> promote -> publish (the index holds the exact svn bytes, the images the voted
wheels) -> announce -> cleanup; then a newer release is withdrawn and `latest` moves back. The
one-distribution sample and the two-distribution sample (an app and its SDK with a version of its
own) walk the same loop. Every refusal on the way is one line with what to do, and publishes
nothing. One image flavour keeps the image builds down to three per sample.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git
from release_helpers import SampleRelease
from vote_fixtures import Mail, staged_hours_ago, svn, vote_thread

from release import sandbox
from release.plan.images import WHEEL_SHA256_LABEL
from release.record import sha256_of

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]
RC, FINAL, NEXT = "1.10.6rc1", "1.10.6", "1.10.7"
FLAVOUR = "3.11"


@dataclass
class Loop:
    """A sample checkout on its own sandbox, driven through `invoke` as a release manager would."""

    sample: SampleRelease
    kind: str
    times: list[tuple[str, float]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.sample.root

    @property
    def distributions(self) -> dict[str, str]:
        """distribution -> its final version in the loop's release."""
        found = {"sample-app": FINAL}
        if self.kind == "sample-multi":
            found["sample-app-sdk"] = "0.3.0"
        return found

    def run(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "RELEASE_ROOT": str(self.root), "NO_COLOR": "1", "COLUMNS": "200"}
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
                                cwd=self.root, env=env, capture_output=True, text=True, timeout=1800)
        self.times.append((" ".join(args), time.monotonic() - started))
        command = " ".join(args)
        tail = result.stderr[-3000:]
        assert result.returncode == code, f"invoke {command}: exit {result.returncode}:\n{tail}"
        return result

    def refused(self, *args: str, code: int = 6, says: str = "") -> str:
        """Run a command that must be refused: its exit code, and one error line that says what to do."""
        before = self.published()
        result = self.run(*args, code=code)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, result.stderr[-3000:]
        assert result.stderr.rstrip().endswith(errors[0]), "the error is the last line, and only one line"
        assert says in errors[0], errors[0]
        assert self.published() == before, f"invoke {' '.join(args)} published something"
        self.refusals.append(errors[0])
        return errors[0]

    def published(self) -> tuple[dict[str, str], dict[str, dict[str, str | None]]]:
        """What the registry and the index hold now: tag -> digest, distribution -> file -> sha256."""
        index = self.sample.index()
        return self.sample.tag_digests(), {name: index.hashes(name) for name in self.distributions}

    def signed(self, record: Path) -> None:
        """`record` has a good signature by the sandbox's release manager key."""
        home = self.sample.services().gnupghome
        subprocess.run(["gpg", "--homedir", str(home), "--batch", "--verify", f"{record}.asc", str(record)],
                       check=True, capture_output=True)

    def votes(self, name: str, text: str) -> str:
        path = self.root.parent / name
        path.write_text(text, encoding="utf-8")
        return str(path)


def commit_sdk_version(root: Path, version: str) -> None:
    init = root / "sdk" / "sample_app_sdk" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.3.0"', f'__version__ = "{version}"'))
    git(root, "commit", "-qam", f"SDK {version}")


def mbox(where: Path, opened: datetime, votes: list[tuple[str, str, float]]) -> str:
    """An mbox export of the vote thread, as the list archive gives it: the [VOTE] message, then one
    reply to it per (sender, body, hours after the [VOTE])."""
    path = vote_thread(where / "thread.mbox", [Mail(sender, body, hours) for sender, body, hours in votes],
                       opened=opened, candidate=RC)
    return path.read_text(encoding="utf-8")


BINDING = ["Jane <jane@sample.invalid>", "Joe <joe@sample.invalid>", "Ann Smith <ann@sample.invalid>",
           "Bob <bob@sample.invalid>"]


@pytest.fixture(params=["sample", "sample-multi"])
def loop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    kind = str(request.param)
    where = tmp_path_factory.mktemp(kind) / "checkout"
    sample = SampleRelease.create(where, flavours=(FLAVOUR,), fixture=kind, vote="asf")
    found = Loop(sample, kind)
    try:
        yield found
    finally:
        width = max(len(command) for command, _ in found.times) if found.times else 0
        print(f"\n{kind}: the loop's commands and their seconds")
        for command, seconds in found.times:
            print(f"  invoke {command:<{width}}  {seconds:7.1f}")
        print(f"{kind}: the refusals on the way")
        for line in found.refusals:
            print(f"  {line}")
        sandbox.down(sample.root)


def test_the_release_loop(loop: Loop) -> None:
    root = loop.root

    # --- the candidate ------------------------------------------------------------------------------
    loop.run("release", "--version", RC)
    svn_root = loop.sample.services().svn_url.rstrip("/")
    vote_email = (root / "dist" / RC / "vote-email.txt").read_text()
    for name, version in loop.distributions.items():
        assert f"  {name} {version}\n" in vote_email
    loop.run("verify", "--version", RC)

    # --- nothing ships before a passing vote ----------------------------------------------------------
    loop.refused("publish", "--version", FINAL, says=f"invoke promote --version {FINAL} --from-rc RC")
    loop.refused("announce", "--version", FINAL, says="publish it first")
    loop.refused("promote", "--version", FINAL, "--from-rc", RC, says=f"invoke vote-result --version {RC}")

    # --- the vote -----------------------------------------------------------------------------------
    now = datetime.now(timezone.utc).replace(microsecond=0)
    early = loop.votes("early.txt", "".join(f"+1 {who} {(now + timedelta(hours=h)).isoformat()}\n"
                                            for who, h in zip(BINDING, (1, 2, 3))))
    loop.refused("vote-result", "--version", RC, "--votes", early,
                 says="ASF votes stay open at least 72 hours")
    assert json.loads((root / "dist" / RC / "release.json").read_text()).get("vote_result") is None

    opened = staged_hours_ago(root / "dist" / RC, RC, 96)  # as if the vote had been open four days
    few = loop.votes("few.mbox", mbox(root.parent, opened, [
        (BINDING[0], "+1 (binding)", 2), (BINDING[1], "+1", 20),
        ("Jim <jim@example.org>", "+1 (binding)", 30), ("Kim <kim@example.org>", "+1", 73)]))
    loop.refused("vote-result", "--version", RC, "--votes", few, code=7,
                 says="2 binding +1 votes, at least 3 are needed")
    result_email = (root / "dist" / RC / "vote-result-email.txt").read_text()
    assert "Counted as non-binding (not in the list of binding voters): Jim <jim@example.org>" in result_email
    loop.refused("promote", "--version", FINAL, "--from-rc", RC, says="did not pass")

    against = loop.votes("against.mbox", mbox(root.parent, opened, [
        (BINDING[0], "+1", 2), (BINDING[1], "-1 the NOTICE is wrong", 20), (BINDING[2], "-1", 30),
        (BINDING[3], "-1", 73), ("Kim <kim@example.org>", "+1", 74)]))
    loop.refused("vote-result", "--version", RC, "--votes", against, code=7,
                 says="3 binding -1 against 1 binding +1")

    passing = loop.votes("passing.mbox", mbox(root.parent, opened, [
        (BINDING[0], "+1 (binding)\n\nsignatures and rebuild checked", 2), (BINDING[1], "+1", 20),
        ("Kim <kim@example.org>", "+1 non-binding", 40), (BINDING[3], "0 no time to check", 50),
        (BINDING[2], "> [ ] -1 no\n\n+1", 73)]))
    ok = loop.run("vote-result", "--version", RC, "--votes", passing)
    assert f"then: invoke promote --version {FINAL} --from-rc {RC}" in ok.stderr
    result_email = (root / "dist" / RC / "vote-result-email.txt").read_text()
    assert "The vote has passed: 3 binding +1, 0 binding -1." in result_email
    assert json.loads((root / "dist" / RC / "release.json").read_text())["vote_result"]["passed"] is True
    loop.signed(root / "dist" / RC / "release.json")  # the candidate's record, signed again

    # --- promote, then exactly the command it prints ------------------------------------------------
    promoted = loop.run("promote", "--version", FINAL, "--from-rc", RC)
    found = re.search(r"publish with: invoke (.+)$", promoted.stderr.strip())
    assert found, promoted.stderr[-2000:]
    # the image signatures' lookaside folder stays: it is not a candidate
    left = [n for n in svn("list", f"{svn_root}/dev/sample-app").split() if n != "signatures/"]
    assert left == [], "promotion removes the candidates"
    wheel = next((root / "dist" / FINAL / "pypi").glob("sample_app-*.whl"))
    voted_bytes = wheel.read_bytes()
    wheel.write_bytes(voted_bytes + b"\0")  # not the file the vote passed
    loop.refused(*found.group(1).split(), says=f"pypi/{wheel.name} changed since the vote")
    wheel.write_bytes(voted_bytes)
    # the voted files' images come from the candidate's commit: a HEAD that moved on is refused
    voted_commit = git(root, "rev-parse", "HEAD")
    (root / "LATER.txt").write_text("a change after the vote\n")
    git(root, "add", "LATER.txt")
    git(root, "commit", "-qm", "A change after the vote")
    loop.refused(*found.group(1).split(), says=f"holds the voted files of its candidate, built from "
                                                f"{voted_commit[:12]}")
    git(root, "reset", "-q", "--hard", voted_commit)
    loop.run(*found.group(1).split())

    # --- the index holds the voted svn bytes, the images the voted wheels -----------------------------
    voted = root / "dist" / RC / "svn"
    released = {p.name: sha256_of(p) for p in voted.iterdir() if p.name.endswith((".whl", ".tar.gz"))
                and not p.name.endswith("-source.tar.gz")}
    on_index: dict[str, str | None] = {}
    for name in loop.distributions:
        on_index |= {f: h for f, h in loop.sample.index().hashes(name).items() if "rc" not in f}
    assert on_index == released
    exported = root.parent / "released"
    svn("export", f"{svn_root}/release/sample-app/{FINAL}", str(exported))
    assert {p.name: sha256_of(p) for p in exported.iterdir() if p.name in released} == released
    labels = loop.sample.registry().image_labels("sample/app", f"{FINAL}-python{FLAVOUR}")
    assert labels is not None
    wheels = sorted(n for n in released if n.endswith(".whl"))
    assert labels[WHEEL_SHA256_LABEL] == ",".join(released[n] for n in wheels)
    tags = loop.sample.tag_digests()
    assert tags["latest"] == tags[FINAL] == tags[f"{FINAL}-python{FLAVOUR}"] == tags["1.10"]

    # --- announce -----------------------------------------------------------------------------------
    loop.run("announce", "--version", FINAL)
    announcement = (root / "dist" / FINAL / "announce-email.txt").read_text()
    assert f"Subject: [ANNOUNCE] Sample App {FINAL} released" in announcement
    assert f"{svn_root}/release/sample-app/{FINAL}" in announcement
    assert f"{svn_root}/release/sample-app/KEYS" in announcement
    assert f"sample/app:{FINAL}-python{FLAVOUR}" in announcement
    for name, version in loop.distributions.items():
        assert f"pip install {name}=={version}" in announcement
    for name in wheels:
        assert f"  {name}\n    sha512: " in announcement
    assert "The scheduler no longer loses a heartbeat on restart." in announcement

    # --- cleanup: an older release and a stale candidate, listed, then removed ------------------------
    # (publish committed the constraints the final's images installed beside its folder)
    shipped = svn("list", f"{svn_root}/release/sample-app/constraints-{FINAL}").split()
    assert f"constraints-{FLAVOUR}.txt" in shipped and f"constraints-{FLAVOUR}.txt.asc" in shipped
    svn("mkdir", "--parents", "-m", "Older release", f"{svn_root}/release/sample-app/1.10.5",
        f"{svn_root}/release/sample-app/constraints-1.10.5", f"{svn_root}/dev/sample-app/1.10.4rc1",
        f"{svn_root}/dev/sample-app/constraints-1.10.4rc1")
    listing = loop.run("cleanup")
    for folder in ("release/sample-app/1.10.5", "release/sample-app/constraints-1.10.5",
                   "dev/sample-app/1.10.4rc1", "dev/sample-app/constraints-1.10.4rc1"):
        assert folder in listing.stderr, folder
    assert "1.10.5" in svn("list", f"{svn_root}/release/sample-app")
    # --remove removes exactly the listing printed: one that changed since is refused, nothing removed
    svn("mkdir", "--parents", "-m", "An older release lands", f"{svn_root}/release/sample-app/1.10.3")
    loop.refused("cleanup", "--remove", says="changed since invoke cleanup printed its listing")
    assert "1.10.5" in svn("list", f"{svn_root}/release/sample-app")
    assert "release/sample-app/1.10.3" in loop.run("cleanup").stderr
    loop.run("cleanup", "--remove")
    assert svn("list", f"{svn_root}/release/sample-app").split() == [
        "1.10.6/", "KEYS", "constraints-1.10.6/", "signatures/"]
    assert svn("list", f"{svn_root}/dev/sample-app").split() in ([], ["signatures/"])

    # --- withdraw the newest release: latest moves back ------------------------------------------------
    loop.sample.set_version(NEXT)
    if loop.kind == "sample-multi":
        commit_sdk_version(root, "0.3.1")
    # a final of a voted project is never built and shipped in one command; without a vote it goes
    # through a candidate and a promotion that records why
    loop.refused("release", "--version", NEXT, says=f"invoke promote --version {NEXT} --from-rc RC")
    loop.run("release", "--version", f"{NEXT}rc1")
    loop.refused("promote", "--version", NEXT, "--from-rc", f"{NEXT}rc1", says="invoke vote-result")
    loop.run("promote", "--version", NEXT, "--from-rc", f"{NEXT}rc1", "--without-vote-result", "--reason",
             "a security fix released at once, as the PMC decided")
    loop.run("publish", "--version", NEXT)
    before = loop.sample.tag_digests()
    assert before["latest"] == before[NEXT] != before[FINAL]
    loop.refused("withdraw", "--version", "1.10.9", "--reason", "never released", says="is not released")
    loop.run("withdraw", "--version", NEXT, "--reason", "the NOTICE file is wrong")
    after = loop.sample.tag_digests()
    for alias in ("latest", f"latest-python{FLAVOUR}", "1.10", f"1.10-python{FLAVOUR}"):
        assert after[alias] == before[f"{FINAL}-python{FLAVOUR}"], alias
    assert after[f"withdrawn-{NEXT}"] == before[NEXT] == after[NEXT], "the withdrawn images stay, marked"
    record = json.loads((root / "dist" / NEXT / "release.json").read_text())
    assert record["withdrawn"]["reason"] == "the NOTICE file is wrong"
    assert record["withdrawn"]["aliases"]["latest"] == f"{FINAL}-python{FLAVOUR}"
    assert "not yanked" in record["withdrawn"]["index"]
    loop.signed(root / "dist" / NEXT / "release.json")
    # the re-signed record went out again (svn release/ and the image attachments): verify says so
    shipped_record = json.loads(svn("cat", f"{svn_root}/release/sample-app/{NEXT}/release.json"))
    assert shipped_record["withdrawn"]["reason"] == "the NOTICE file is wrong"
    checked = loop.run("verify", "--version", NEXT, "--published", code=7)
    assert f"{NEXT} was withdrawn on " in checked.stdout + checked.stderr
    assert "the copies differ" not in checked.stdout + checked.stderr
    loop.refused("publish", "--version", NEXT, says="was withdrawn")
    # a final of this voting project, and the tree is NEXT's (no 1.10.8 declared or in the changelog):
    # the dry run names all three and exits 6
    plan = json.loads(loop.run("release", "--version", "1.10.8", "--dry-run", "--json", code=6).stdout)
    assert [p["check"] for p in plan["problems"]] == ["vote", "version", "changelog"]
    assert plan["owns_latest"], "a withdrawn 1.10.7 never holds latest: 1.10.8 would take it"
