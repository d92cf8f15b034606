# SPDX-License-Identifier: Apache-2.0
"""The vote: stage the candidate in svn dev/, the vote email, a voter's verification, and promotion."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import git
from vote_fixtures import (
    Keyring,
    SvnRepo,
    build_recorded,
    built_sample,
    copy_tree,
    make_svn,
    shared_keyring,
    sign_recorded,
    svn,
)

from release.adapters import svn as svn_adapter
from release.config import ReleaseConfig, load_config
from release.errors import RefusedError, VerificationError, VersionError
from release.pipeline.recording import count_vote, promote_in_svn
from release.pipeline.stage import stage_in_svn
from release.pipeline.verify import verify_candidate
from release.plan.verify_report import CandidateRejected
from release.record import StageInfo, sha512_of
from release.steps.promote import PromoteResult
from release.steps.verify import check_release_files
from release.steps.vote import StageResult
from release.versions import parse_version

RC, FINAL, NAME = "1.10.6rc1", "1.10.6", "sample-app"
V_RC = parse_version(RC)
V_FINAL = parse_version(FINAL)
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)
ARTEFACTS = ["sample-app-1.10.6-source.tar.gz", "sample_app-1.10.6-py3-none-any.whl",
             "sample_app-1.10.6.tar.gz"]
STAGED_NAMES = sorted(f"{a}{suffix}" for a in ARTEFACTS for suffix in ("", ".asc", ".sha512"))
pytestmark = pytest.mark.slow  # everything here starts from a built, signed candidate


@dataclass(frozen=True)
class Staged:
    root: Path
    config: ReleaseConfig
    repo: SvnRepo
    keyring: Keyring
    result: StageResult

    def copy(self, where: Path) -> Staged:
        """A private checkout and svn repository in the same state, for tests that change them."""
        root, config = copy_tree(self.root, where / "sample")
        return Staged(root, config, self.repo.copy(where / "svnrepo"), self.keyring, self.result)

    @property
    def folder_url(self) -> str:
        return f"{self.repo.dev_url}/{NAME}/{RC}"


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Staged:
    built, _ = built_sample(tmp_path_factory, RC)
    root, config = copy_tree(built, tmp_path_factory.mktemp("staged") / "sample")
    keyring = shared_keyring()
    sign_recorded(config, V_RC, keyring)
    repo = make_svn(tmp_path_factory.mktemp("svn"), NAME, keyring.keys_file.read_text())
    result = stage_in_svn(config, V_RC, svn_dev_url=repo.dev_url, keys_url=repo.keys_url(NAME),
                          fingerprint=keyring.fingerprint, now=NOW)
    return Staged(root, config, repo, keyring, result)


def youngest(repo: SvnRepo) -> int:
    return int(subprocess.run(["svnlook", "youngest", str(repo.path)], check=True, capture_output=True,
                              text=True).stdout)


# --- stage -------------------------------------------------------------------------------------------


def test_stage_commits_the_signed_svn_files(staged: Staged) -> None:
    assert staged.result.url == staged.folder_url
    assert sorted(svn("list", staged.folder_url).split()) == STAGED_NAMES
    assert staged.result.revision == 2
    assert "Stage Sample App 1.10.6rc1 for the vote" in svn("log", "-r", "2", staged.repo.url)
    record = json.loads((staged.root / "dist" / RC / "release.json").read_text())
    assert set(record["stage"]["files"]) == set(STAGED_NAMES)
    for name, digest in record["stage"]["files"].items():
        assert digest == sha512_of(staged.root / "dist" / RC / "svn" / name)


def test_stage_tags_the_built_commit(staged: Staged) -> None:
    assert staged.result.tag == RC
    assert git(staged.root, "rev-parse", f"{RC}^{{commit}}") == staged.result.commit
    assert staged.result.commit == git(staged.root, "rev-parse", "HEAD")


def test_stage_again_commits_nothing(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    before = youngest(mine.repo)
    again = stage_in_svn(mine.config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME),
                         now=NOW + timedelta(days=2))
    assert again.revision is None and youngest(mine.repo) == before
    # the vote still opened when the files were first staged: votes cast since still count
    record = json.loads((mine.root / "dist" / RC / "release.json").read_text())
    assert record["stage"]["opened"] == NOW.isoformat()
    assert "open for at least 72 hours, until 2026-11-29 12:30 UTC" in (mine.root / "dist" / RC /
                                                                        "vote-email.txt").read_text()


def test_stage_refuses_a_folder_with_other_files(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    svn("rm", "-m", "gone", f"{mine.folder_url}/sample_app-1.10.6.tar.gz.asc")
    with pytest.raises(RefusedError, match="already exists with other files"):
        stage_in_svn(mine.config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME))


def test_stage_refuses_files_changed_since_signing(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    signature = mine.root / "dist" / RC / "svn" / "sample_app-1.10.6.tar.gz.asc"
    signature.write_text(signature.read_text().replace("-----END", "\n-----END"))
    with pytest.raises(RefusedError, match=r"tar\.gz\.asc changed since it was built or signed"):
        stage_in_svn(mine.config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME))


def test_stage_refuses_an_unsigned_candidate_and_a_final_version(
        staged: Staged, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    built, _ = built_sample(tmp_path_factory, RC)
    _, config = copy_tree(built, tmp_path / "unsigned")
    with pytest.raises(RefusedError, match=r"build and sign 1\.10\.6rc1 before staging"):
        stage_in_svn(config, V_RC, svn_dev_url=staged.repo.dev_url, keys_url="KEYS")
    with pytest.raises(RefusedError, match="not a release candidate"):
        stage_in_svn(config, V_FINAL, svn_dev_url=staged.repo.dev_url, keys_url="KEYS")


def test_the_vote_email(staged: Staged) -> None:
    text = staged.result.email.read_text()
    assert staged.result.email == staged.root / "dist" / RC / "vote-email.txt"
    assert text.startswith("To: dev@sample.invalid\n"
                           "Subject: [VOTE] Release Sample App 1.10.6 from 1.10.6rc1\n")
    assert "until 2026-11-29 12:30 UTC" in text
    assert staged.folder_url in text and staged.repo.keys_url(NAME) in text
    assert staged.keyring.fingerprint in text
    for artefact in ARTEFACTS:
        assert f"  {artefact}\n    sha512: {sha512_of(staged.root / 'dist' / RC / 'svn' / artefact)}" in text
    assert ".asc\n" not in text.split("Every file")[0]  # signatures and checksums are not listed as files
    assert "- The scheduler no longer loses a heartbeat on restart." in text
    assert f"git tag {RC}\n(commit {staged.result.commit})" in text


# --- verify ------------------------------------------------------------------------------------------


def verify(staged: Staged, *, rebuild: bool = False) -> None:
    verify_candidate(staged.config, V_RC, svn_dev_url=staged.repo.dev_url,
                     keys_url=staged.repo.keys_url(NAME),
                     repo_root=staged.root, rebuild=rebuild)


def test_a_good_candidate_verifies(staged: Staged) -> None:
    report = verify_candidate(staged.config, V_RC, svn_dev_url=staged.repo.dev_url,
                              keys_url=staged.repo.keys_url(NAME), repo_root=staged.root)
    assert report.ok and report.commit == staged.result.commit
    assert [check.name for check in report.checks] == STAGED_NAMES
    passed = {check.name: check.passed for check in report.checks}
    assert passed["sample_app-1.10.6.tar.gz"] == ["signed and checksummed", "LICENSE and NOTICE present",
                                                  "identical to the rebuild"]
    assert passed["sample-app-1.10.6-source.tar.gz"][1].startswith(
        "LICENSE and NOTICE, license headers, no binaries (")
    assert passed["sample_app-1.10.6-py3-none-any.whl"][1] == "its files are the sdist's"
    assert passed["sample_app-1.10.6.tar.gz.asc"] == [f"good signature by {staged.keyring.fingerprint}"]
    assert passed["sample_app-1.10.6.tar.gz.sha512"] == ["sha512 matches"]


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("change", "blamed", "rebuild"), [
    ("artefact", "sample_app-1.10.6.tar.gz", True),
    ("signature", "sample_app-1.10.6-py3-none-any.whl.asc", False),
    ("checksum", "sample-app-1.10.6-source.tar.gz.sha512", False),
    ("stray", "NOTES.txt", False),
    ("missing", "sample_app-1.10.6.tar.gz.asc", False),
])
def test_a_tampered_candidate_fails_naming_the_file(staged: Staged, tmp_path: Path, change: str, blamed: str,
                                                    rebuild: bool) -> None:
    mine = staged.copy(tmp_path)
    wc = tmp_path / "wc"
    svn("checkout", mine.folder_url, str(wc))
    if change == "artefact":
        flip_byte(wc / blamed, 200)
    elif change == "signature":
        text = (wc / blamed).read_text()
        middle = len(text) // 2
        (wc / blamed).write_text(text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1:])
    elif change == "checksum":
        flip_byte(wc / blamed, 10)
    elif change == "stray":
        (wc / blamed).write_text("not part of the release\n")
        svn("add", str(wc / blamed))
    else:
        svn("rm", str(wc / blamed))
    svn("commit", "-m", f"tamper: {change}", str(wc))
    with pytest.raises(CandidateRejected) as rejected:
        verify(mine, rebuild=rebuild)
    assert rejected.value.report.failed == (blamed,)
    assert rejected.value.exit_code == 7
    assert f"FAIL {blamed}" in str(rejected.value)
    if change == "artefact":
        [check] = [c for c in rejected.value.report.checks if c.name == blamed]
        assert "differs from the rebuild of the tagged commit" in check.problems


def test_verify_without_a_candidate_or_a_tag(staged: Staged, tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match="no candidate at"):
        verify_candidate(staged.config, parse_version("1.10.6rc9"), svn_dev_url=staged.repo.dev_url,
                         keys_url=staged.repo.keys_url(NAME), repo_root=staged.root)
    mine = staged.copy(tmp_path)
    git(mine.root, "tag", "-d", RC)
    with pytest.raises(VerificationError, match=r"no git tag 1\.10\.6rc1"):
        verify(mine, rebuild=True)


# --- the checks PMC members make by hand -------------------------------------------------------------

GENERATES = '''
from setuptools.command.build_py import build_py


class WithGenerated(build_py):
    """Writes a module into the wheel that the sdist does not have."""

    def run(self):
        super().run()
        Path(self.build_lib, "sample_app", "_generated.py").write_text("BUILT = True\\n")


setup(cmdclass={"build_py": WithGenerated},
'''


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Staged:
    """A candidate that breaks every hand check: no NOTICE, a file without a header, a binary, and a
    wheel file the sdist lacks; built and signed, its svn files imported by hand (stage refuses them)."""
    built, _ = built_sample(tmp_path_factory, RC)
    root, _ = copy_tree(built, tmp_path_factory.mktemp("broken") / "sample")
    shutil.rmtree(root / "dist")
    (root / "NOTICE").unlink()
    (root / "sample_app" / "helpers.py").write_text("def helper():\n    return 1\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    setup = root / "setup.py"
    setup.write_text(setup.read_text().replace("\nsetup(", GENERATES, 1))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Break the hand checks")
    config = load_config(root)
    build_recorded(config, V_RC)
    keyring = shared_keyring()
    sign_recorded(config, V_RC, keyring)
    repo = make_svn(tmp_path_factory.mktemp("svn-broken"), NAME, keyring.keys_file.read_text())
    git(config.root, "tag", RC)
    nothing = StageResult(RC, "", None, RC, "", Path(), StageInfo("", RC, "", "", "", {}, ""))
    return Staged(config.root, config, repo, keyring, nothing)


def test_stage_refuses_a_candidate_that_fails_the_hand_checks_before_committing(broken: Staged) -> None:
    with pytest.raises(VerificationError) as refused:
        stage_in_svn(broken.config, V_RC, svn_dev_url=broken.repo.dev_url,
                     keys_url=broken.repo.keys_url(NAME))
    message = str(refused.value)
    assert message.startswith("the candidate fails the PMC checks, nothing was staged: ")
    assert "\n" not in message and refused.value.exit_code == 7
    assert "sample-app-1.10.6-source.tar.gz: NOTICE is missing" in message
    assert "no license header: sample_app/helpers.py" in message
    assert "a binary file (list it in license-excludes if it is not compiled code): logo.png" in message
    assert ("sample_app-1.10.6-py3-none-any.whl: files that are not the sdist's: "
            "sample_app/_generated.py") in message
    assert not svn_adapter.exists(broken.folder_url)
    assert not (broken.root / "dist" / RC / "vote-email.txt").exists()


def test_verify_names_each_hand_check_that_fails(broken: Staged, tmp_path: Path) -> None:
    folder = tmp_path / RC
    folder.mkdir()
    for path in (broken.root / "dist" / RC / "svn").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    svn("import", "-m", "Staged by hand", str(folder), broken.folder_url)
    with pytest.raises(CandidateRejected) as rejected:
        verify(broken, rebuild=False)
    problems = {c.name: c.problems for c in rejected.value.report.checks if c.problems}
    binary = "a binary file (list it in license-excludes if it is not compiled code): logo.png"
    assert problems == {
        "sample-app-1.10.6-source.tar.gz": ["NOTICE is missing", binary,
                                            "no license header: sample_app/helpers.py"],
        "sample_app-1.10.6.tar.gz": ["NOTICE is missing"],
        "sample_app-1.10.6-py3-none-any.whl": ["files that are not the sdist's: sample_app/_generated.py"],
    }


def test_license_excludes_let_files_without_a_header_through(broken: Staged) -> None:
    config = dataclasses.replace(broken.config, license_excludes=(*broken.config.license_excludes,
                                                                  "sample_app/helpers.py", "*.png"))
    checks = check_release_files(broken.root / "dist" / RC / "svn", config, FINAL)
    assert checks["sample-app-1.10.6-source.tar.gz"].problems == ["NOTICE is missing"]


def test_a_project_that_does_not_vote_stages_without_the_pmc_checks(broken: Staged, tmp_path: Path) -> None:
    """`vote = "none"`: no PMC checks the project did not ask for, and a call to test, not a [VOTE]."""
    mine = broken.copy(tmp_path)
    config = dataclasses.replace(mine.config, vote="none")
    said: list[object] = []
    result = stage_in_svn(config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME),
                          now=NOW, progress=said.append)
    assert sorted(svn("list", mine.folder_url).split()) == STAGED_NAMES
    assert result.email == mine.root / "dist" / RC / "candidate-email.txt"
    assert not (mine.root / "dist" / RC / "vote-email.txt").exists()
    text = result.email.read_text()
    assert text.startswith("To: dev@sample.invalid\n"
                           "Subject: Sample App 1.10.6rc1: release candidate of 1.10.6, ready for testing\n")
    assert "vote" not in text.lower() and "pmc" not in text.lower() and "binding" not in text.lower()
    assert not any("LICENSE and NOTICE" in str(line) for line in said)
    assert any("no checks of LICENSE, NOTICE, headers and binaries" in str(line) for line in said)
    report = verify_candidate(config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME),
                              repo_root=mine.root, rebuild=False)
    assert report.ok


def test_a_project_that_does_not_vote_may_ask_for_the_pmc_checks(broken: Staged, tmp_path: Path) -> None:
    mine = broken.copy(tmp_path)
    config = dataclasses.replace(mine.config, vote="none", source_checks=True)
    before = youngest(mine.repo)
    with pytest.raises(VerificationError, match=r"^the candidate fails the PMC checks, nothing was staged: "):
        stage_in_svn(config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME))
    assert youngest(mine.repo) == before


def test_a_vote_email_without_a_mailing_list_says_so(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    (mine.root / "dist" / RC / "vote-email.txt").unlink()
    said: list[object] = []
    result = stage_in_svn(dataclasses.replace(mine.config, mailing_list=""), V_RC,
                          svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME), now=NOW,
                          progress=said.append)
    assert result.email.read_text().startswith("To: (no address: set [tool.release] mailing-list)\n")
    assert (f"{result.email} has no address to go to: [tool.release] mailing-list is not set; set it, or "
            "fill in the To: line before sending") in said


# --- promote -----------------------------------------------------------------------------------------


def promote(staged: Staged, reason: str = "tested without a vote") -> PromoteResult:
    return promote_in_svn(staged.config, V_FINAL, from_rc=V_RC, svn_dev_url=staged.repo.dev_url,
                          svn_release_url=staged.repo.release_url, repo_root=staged.root,
                          without_vote_result=reason)


def vote_passed(staged: Staged, tmp_path: Path) -> None:
    votes = tmp_path / "votes.txt"
    votes.write_text("+1 Jane <jane@sample.invalid> 2026-11-26T13:00:00Z\n"
                     "+1 joe@sample.invalid 2026-11-27T13:00:00Z\n"
                     "+1 ann@sample.invalid 2026-11-29T13:00:00Z\n")
    assert count_vote(staged.config, V_RC, votes_file=votes).passed


def test_promote_copies_the_voted_files_and_prepares_publishing(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    svn("mkdir", "-m", "An earlier candidate", f"{mine.repo.dev_url}/{NAME}/1.10.6rc0")
    vote_passed(mine, tmp_path)
    result = promote_in_svn(mine.config, V_FINAL, from_rc=V_RC, svn_dev_url=mine.repo.dev_url,
                            svn_release_url=mine.repo.release_url, repo_root=mine.root)
    release_url = f"{mine.repo.release_url}/{NAME}/{FINAL}"
    assert result.url == release_url and result.revision == 4
    assert sorted(svn("list", release_url).split()) == STAGED_NAMES
    log = svn("log", "-v", "-r", "4", mine.repo.url)
    assert re.search(rf"A /release/{NAME}/{FINAL} \(from /dev/{NAME}/{RC}:[23]\)", log), log
    assert "Release Sample App 1.10.6 from 1.10.6rc1" in log
    assert result.removed == ("1.10.6rc0", "1.10.6rc1")
    assert svn("list", f"{mine.repo.dev_url}/{NAME}").split() == []
    assert "Remove the candidates of Sample App 1.10.6" in svn("log", "-r", "5", mine.repo.url)
    tagged = git(mine.root, "rev-parse", f"{FINAL}^{{commit}}")
    assert tagged == git(mine.root, "rev-parse", f"{RC}^{{commit}}") == result.commit
    directory = mine.root / "dist" / FINAL
    assert sorted(p.name for p in (directory / "pypi").iterdir()) == sorted(ARTEFACTS[1:])
    for package in (directory / "pypi").iterdir():
        assert package.read_bytes() == (mine.root / "dist" / RC / "svn" / package.name).read_bytes()
    record = json.loads((directory / "release.json").read_text())
    assert record["promoted"]["from_rc"] == RC and record["build"]["commit"] == result.commit
    assert record["files"]["pypi/sample_app-1.10.6.tar.gz"]["promoted_from"] == RC
    assert record["promoted"]["removed_candidates"] == ["1.10.6rc0", "1.10.6rc1"]
    assert record["promoted"]["without_vote_result"] == ""
    again = promote(mine, reason="")
    assert again.revision is None and again.removed == () and youngest(mine.repo) == 5


def test_promote_reruns_after_the_final_was_published_with_its_record(staged: Staged, tmp_path: Path) -> None:
    """Publishing commits the record (and SBOMs) next to the voted files; a rerun of promote accepts
    them, and still refuses any other file there."""
    mine = staged.copy(tmp_path)
    promote(mine)
    release_url = f"{mine.repo.release_url}/{NAME}/{FINAL}"
    published = tmp_path / "published"
    published.mkdir()
    for name in ("release.json", "release.json.asc", "release.json.sha512"):
        (published / name).write_text(f"the published {name}\n")
        svn("import", "-m", f"Publish {name}", str(published / name), f"{release_url}/{name}")
    before = youngest(mine.repo)
    again = promote(mine)
    assert again.revision is None and youngest(mine.repo) == before
    svn("import", "-m", "A stray file", str(published / "release.json"), f"{release_url}/notes.txt")
    with pytest.raises(RefusedError, match=r"notes\.txt"):
        promote(mine)


def test_promote_refuses_a_candidate_without_a_passing_vote(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    with pytest.raises(RefusedError, match=r"1\.10\.6rc1 has no vote result: count the votes") as refused:
        promote(mine, reason="")
    assert "\n" not in str(refused.value)
    assert not svn_adapter.exists(f"{mine.repo.release_url}/{NAME}/{FINAL}")
    assert not (mine.root / "dist" / FINAL).exists()


def test_promote_without_a_vote_result_records_the_reason(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    promote(mine, reason="the vote ran on the private list")
    record = json.loads((mine.root / "dist" / FINAL / "release.json").read_text())
    assert record["promoted"]["without_vote_result"] == "the vote ran on the private list"


def test_promote_refuses_files_that_differ_from_the_vote(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    wc = tmp_path / "wc"
    svn("checkout", mine.folder_url, str(wc))
    flip_byte(wc / "sample_app-1.10.6-py3-none-any.whl", 100)
    svn("commit", "-m", "changed after the vote", str(wc))
    with pytest.raises(RefusedError, match=r"differs from what was staged.*1\.10\.6-py3-none-any\.whl"):
        promote(mine)
    assert not svn_adapter.exists(f"{mine.repo.release_url}/{NAME}/{FINAL}")


def test_promote_copies_the_revision_it_checked_not_a_commit_landing_after(
    staged: Staged, tmp_path: Path
) -> None:
    """A commit to the candidate's folder between the check and the copy is never what gets released."""
    mine = staged.copy(tmp_path)
    wc = tmp_path / "wc"

    def land_a_commit(checked: str) -> None:
        svn("checkout", mine.folder_url, str(wc))
        flip_byte(wc / "sample_app-1.10.6-py3-none-any.whl", 100)
        svn("commit", "-m", "changed between the check and the copy", str(wc))

    vote_passed(mine, tmp_path)
    before = youngest(mine.repo)
    result = promote_in_svn(mine.config, V_FINAL, from_rc=V_RC, svn_dev_url=mine.repo.dev_url,
                            svn_release_url=mine.repo.release_url, repo_root=mine.root,
                            checked=land_a_commit)
    # the commit that landed, the copy of the revision checked, the removal of the candidates from dev/
    assert youngest(mine.repo) == before + 3 and result.revision == before + 2
    release_url = f"{mine.repo.release_url}/{NAME}/{FINAL}"
    assert f"(from /dev/{NAME}/{RC}:{before})" in svn("log", "-v", "-r", str(result.revision), mine.repo.url)
    released = svn_adapter.export(release_url, tmp_path / "released")
    for name in STAGED_NAMES:
        assert sha512_of(released / name) == sha512_of(mine.root / "dist" / RC / "svn" / name), name


def test_promote_refuses_when_the_record_disagrees(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    path = mine.root / "dist" / RC / "release.json"
    record = json.loads(path.read_text())
    record["stage"]["files"]["sample_app-1.10.6.tar.gz"] = "0" * 128
    path.write_text(json.dumps(record))
    with pytest.raises(RefusedError, match="differs from what was staged"):
        promote(mine)


def test_promote_refuses_mismatched_versions(staged: Staged) -> None:
    with pytest.raises(VersionError, match="cannot be promoted"):
        promote_in_svn(staged.config, parse_version("1.10.7"), from_rc=V_RC, svn_dev_url=staged.repo.dev_url,
                       svn_release_url=staged.repo.release_url)
