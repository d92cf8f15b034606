"""The vote: stage the candidate in svn dev/, the vote email, a voter's verification, and promotion."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import git
from vote_fixtures import Keyring, SvnRepo, built_sample, copy_tree, make_svn, shared_keyring, svn

from release.adapters import svn as svn_adapter
from release.config import ReleaseConfig
from release.errors import RefusedError, VerificationError, VersionError
from release.record import sha512_of
from release.steps.promote import PromoteResult, promote_release
from release.steps.sign import sign_release
from release.steps.verify import CandidateRejected, verify_candidate
from release.steps.vote import StageResult, stage_release
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
    sign_release(config, V_RC, key=keyring.fingerprint, gnupghome=keyring.home, keys_file=keyring.keys_file)
    repo = make_svn(tmp_path_factory.mktemp("svn"), NAME, keyring.keys_file.read_text())
    result = stage_release(config, V_RC, svn_dev_url=repo.dev_url, keys_url=repo.keys_url(NAME),
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
    again = stage_release(mine.config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME),
                          now=NOW)
    assert again.revision is None and youngest(mine.repo) == before


def test_stage_refuses_a_folder_with_other_files(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    svn("rm", "-m", "gone", f"{mine.folder_url}/sample_app-1.10.6.tar.gz.asc")
    with pytest.raises(RefusedError, match="already exists with other files"):
        stage_release(mine.config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME))


def test_stage_refuses_files_changed_since_signing(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    signature = mine.root / "dist" / RC / "svn" / "sample_app-1.10.6.tar.gz.asc"
    signature.write_text(signature.read_text().replace("-----END", "\n-----END"))
    with pytest.raises(RefusedError, match=r"tar\.gz\.asc changed since it was built or signed"):
        stage_release(mine.config, V_RC, svn_dev_url=mine.repo.dev_url, keys_url=mine.repo.keys_url(NAME))


def test_stage_refuses_an_unsigned_candidate_and_a_final_version(
        staged: Staged, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    built, _ = built_sample(tmp_path_factory, RC)
    _, config = copy_tree(built, tmp_path / "unsigned")
    with pytest.raises(RefusedError, match=r"build and sign 1\.10\.6rc1 before staging"):
        stage_release(config, V_RC, svn_dev_url=staged.repo.dev_url, keys_url="KEYS")
    with pytest.raises(RefusedError, match="not a release candidate"):
        stage_release(config, V_FINAL, svn_dev_url=staged.repo.dev_url, keys_url="KEYS")


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
    assert passed["sample_app-1.10.6.tar.gz"] == ["signed and checksummed", "identical to the rebuild"]
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


# --- promote -----------------------------------------------------------------------------------------


def promote(staged: Staged) -> PromoteResult:
    return promote_release(staged.config, V_FINAL, from_rc=V_RC, svn_dev_url=staged.repo.dev_url,
                           svn_release_url=staged.repo.release_url, repo_root=staged.root)


def test_promote_copies_the_voted_files_and_prepares_publishing(staged: Staged, tmp_path: Path) -> None:
    mine = staged.copy(tmp_path)
    result = promote_release(mine.config, V_FINAL, from_rc=V_RC, svn_dev_url=mine.repo.dev_url,
                             svn_release_url=mine.repo.release_url, repo_root=mine.root)
    release_url = f"{mine.repo.release_url}/{NAME}/{FINAL}"
    assert result.url == release_url and result.revision == 3
    assert sorted(svn("list", release_url).split()) == STAGED_NAMES
    log = svn("log", "-v", "-r", "3", mine.repo.url)
    assert f"A /release/{NAME}/{FINAL} (from /dev/{NAME}/{RC}:2)" in log
    assert "Release Sample App 1.10.6 from 1.10.6rc1" in log
    tagged = git(mine.root, "rev-parse", f"{FINAL}^{{commit}}")
    assert tagged == git(mine.root, "rev-parse", f"{RC}^{{commit}}") == result.commit
    directory = mine.root / "dist" / FINAL
    assert sorted(p.name for p in (directory / "pypi").iterdir()) == sorted(ARTEFACTS[1:])
    for package in (directory / "pypi").iterdir():
        assert package.read_bytes() == (mine.root / "dist" / RC / "svn" / package.name).read_bytes()
    record = json.loads((directory / "release.json").read_text())
    assert record["promoted"]["from_rc"] == RC and record["build"]["commit"] == result.commit
    assert record["files"]["pypi/sample_app-1.10.6.tar.gz"]["promoted_from"] == RC
    again = promote(mine)
    assert again.revision is None and youngest(mine.repo) == 3


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

    before = youngest(mine.repo)
    result = promote_release(mine.config, V_FINAL, from_rc=V_RC, svn_dev_url=mine.repo.dev_url,
                             svn_release_url=mine.repo.release_url, repo_root=mine.root,
                             checked=land_a_commit)
    assert youngest(mine.repo) == before + 2 and result.revision == before + 2
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
        promote_release(staged.config, parse_version("1.10.7"), from_rc=V_RC, svn_dev_url=staged.repo.dev_url,
                        svn_release_url=staged.repo.release_url)
