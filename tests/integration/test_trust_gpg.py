# SPDX-License-Identifier: Apache-2.0
"""A signature by a revoked or expired key is not good, though gpg exits 0 and prints VALIDSIG for
it (security review, finding 2). Status output as gpg 2.2 prints it, then real gpg in throwaway
keyrings, then the voter's `verify` of a candidate in a real svn repository."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from vote_fixtures import make_svn, new_gnupghome, svn

from release.adapters import gpg
from release.config import load_config
from release.pipeline.verify import verify_candidate
from release.plan.verify_report import CandidateRejected
from release.steps.sign import checksum_text
from release.versions import parse_version

FIXTURES = Path(__file__).parents[1] / "fixtures"
FPR = "4483F0166A3800B990313C6F0A5CD9C01A8A30E5"
SUBKEY = "E6B2A172910CDF483D539FA2FE1109F01AF9A692"
VALIDSIG = f"[GNUPG:] VALIDSIG {FPR} 2026-11-28 1795864915 0 4 0 1 10 00 {FPR}\n"


def status(*lines: str) -> str:
    return "".join(f"[GNUPG:] {line}\n" if not line.startswith("[GNUPG:]") else line for line in lines)


UID = "0A5CD9C01A8A30E5 Rev <rev@x.invalid>"
GOOD = status("NEWSIG rev@x.invalid", f"KEY_CONSIDERED {FPR} 0", f"GOODSIG {UID}", VALIDSIG,
              "TRUST_ULTIMATE 0 pgp")
REVOKED = status("NEWSIG rev@x.invalid", f"KEY_CONSIDERED {FPR} 0", f"REVKEYSIG {UID}", VALIDSIG,
                 "KEYREVOKED", "TRUST_ULTIMATE 0 pgp")
EXPIRED_KEY = status("NEWSIG", "KEYEXPIRED 1795700000", f"EXPKEYSIG {UID}", VALIDSIG, "KEYEXPIRED 1795700000",
                     "TRUST_UNDEFINED 0 pgp")
# A good signature by a current subkey of a key whose old signing subkey expired: gpg prints
# KEYEXPIRED for the unused subkey, which must not spoil the signature.
OLD_SUBKEY_EXPIRED = status(
    "NEWSIG", "KEYEXPIRED 1609372800", f"KEY_CONSIDERED {FPR} 0",
    "GOODSIG FE1109F01AF9A692 Sub <sub@x.invalid>",
    f"VALIDSIG {SUBKEY} 2026-11-28 1795864951 0 4 0 1 10 00 {FPR}", "KEYEXPIRED 1609372800",
    "TRUST_UNDEFINED 0 pgp")


@pytest.mark.parametrize(("output", "returncode", "detail"), [
    (REVOKED, 0, f"REVKEYSIG: signed by a revoked key {FPR}"),
    (status("NEWSIG", "GOODSIG 0A5CD9C01A8A30E5 Rev", VALIDSIG, "KEYREVOKED"), 0,
     f"KEYREVOKED: signed by a revoked key {FPR}"),
    (EXPIRED_KEY, 0, f"EXPKEYSIG: signed by an expired key {FPR}"),
    (status("NEWSIG", "EXPSIG 0A5CD9C01A8A30E5 Rev", VALIDSIG), 0,
     f"EXPSIG: the signature has expired; made by {FPR}"),
    (status("NEWSIG", "BADSIG 0A5CD9C01A8A30E5 Rev"), 1,
     "BADSIG: bad signature (the file or the signature was changed) by 0A5CD9C01A8A30E5"),
    (status("NEWSIG", "ERRSIG 0A5CD9C01A8A30E5 1 10 00 1795864915 9 -", "NO_PUBKEY 0A5CD9C01A8A30E5"), 2,
     "ERRSIG: the signature could not be checked; made by 0A5CD9C01A8A30E5"),
    (status("NODATA 1"), 2, "NODATA: no signature in the file"),
    (GOOD + GOOD.replace(FPR, SUBKEY), 0, f"signatures by several keys ({FPR}, {SUBKEY}); expected one"),
])
def test_status_that_is_not_a_good_signature(output: str, returncode: int, detail: str) -> None:
    check = gpg.judge_signature(output, returncode)
    assert (check.good, check.signer, check.detail) == (False, "", detail)


@pytest.mark.parametrize("output", [GOOD, OLD_SUBKEY_EXPIRED, GOOD + GOOD])
def test_status_of_a_good_signature(output: str) -> None:
    assert gpg.judge_signature(output, 0) == gpg.SignatureCheck(True, FPR, "good signature")


@pytest.mark.parametrize(("output", "returncode"), [
    (GOOD, 2),  # gpg itself failed
    (status("NEWSIG", VALIDSIG), 0),  # VALIDSIG alone (no GOODSIG) is not enough
    (status("NEWSIG", "GOODSIG 0A5CD9C01A8A30E5 Rev"), 0),  # nor GOODSIG alone
    (GOOD + status("NEWSIG"), 0),  # a second signature gpg said nothing good about
    ("", 0),
])
def test_status_missing_a_part_of_a_good_signature(output: str, returncode: int) -> None:
    assert not gpg.judge_signature(output, returncode).good


# --------------------------------------------------------------------------- real gpg


def gpg_cli(home: Path, *args: str, at: float | None = None) -> str:
    faked = ["--faked-system-time", time.strftime("%Y%m%dT%H%M%S", time.gmtime(at))] if at else []
    result = subprocess.run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                             "--passphrase", "", *faked, *args], check=True, capture_output=True, text=True)
    return result.stdout


def make_key(home: Path, uid: str, *, usage: str = "sign", expire: str = "1y",
             at: float | None = None) -> str:
    """An ed25519 key (fast to make), created at `at` (now by default); its fingerprint."""
    gpg_cli(home, "--quick-gen-key", uid, "ed25519", usage, expire, at=at)
    return next(line.split(":")[9] for line in gpg_cli(home, "--with-colons", "--list-keys", uid).splitlines()
                if line.startswith("fpr:"))


def sign(home: Path, fingerprint: str, data: Path, *extra: str, at: float | None = None) -> Path:
    signature = data.with_name(data.name + ".asc")
    gpg_cli(home, "--yes", "--armor", "--local-user", fingerprint, *extra, "--output", str(signature),
            "--detach-sign", str(data), at=at)
    return signature


def revoke(home: Path, fingerprint: str) -> None:
    """Import the revocation certificate gpg stored when it made the key (the standard path)."""
    stored = (home / "openpgp-revocs.d" / f"{fingerprint}.rev").read_text()
    certificate = home / "revocation.asc"
    certificate.write_text(stored.replace(":-----BEGIN PGP", "-----BEGIN PGP"))
    gpg_cli(home, "--import", str(certificate))


DAY = 86400.0


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "sample_app-1.10.6.tar.gz"
    path.write_bytes(b"release bytes")
    return path


def test_a_signature_by_a_revoked_key_is_not_good(data: Path) -> None:
    home = new_gnupghome()
    fingerprint = make_key(home, "Revoked RM <revoked@sample.invalid>")
    signature = sign(home, fingerprint, data)
    assert gpg.verify_detached(signature, data, gnupghome=home).good
    revoke(home, fingerprint)
    check = gpg.verify_detached(signature, data, gnupghome=home)
    assert (check.good, check.detail) == (False, f"REVKEYSIG: signed by a revoked key {fingerprint}")


def test_a_signature_by_an_expired_key_is_not_good(data: Path) -> None:
    home = new_gnupghome()
    two_days_ago = time.time() - 2 * DAY
    fingerprint = make_key(home, "Expired RM <expired@sample.invalid>", expire="1d", at=two_days_ago)
    signature = sign(home, fingerprint, data, at=two_days_ago + 60)  # good when it was made
    check = gpg.verify_detached(signature, data, gnupghome=home)
    assert (check.good, check.detail) == (False, f"EXPKEYSIG: signed by an expired key {fingerprint}")


def test_an_expired_signature_is_not_good(data: Path) -> None:
    home = new_gnupghome()
    fingerprint = make_key(home, "RM <rm@sample.invalid>", at=time.time() - 3 * DAY)
    signature = sign(home, fingerprint, data, "--default-sig-expire", "1d", at=time.time() - 2 * DAY)
    check = gpg.verify_detached(signature, data, gnupghome=home)
    assert (check.good, check.detail) == (False, f"EXPSIG: the signature has expired; made by {fingerprint}")


def test_an_expired_old_subkey_does_not_spoil_a_good_signature(data: Path) -> None:
    """gpg prints KEYEXPIRED for any expired subkey; only the key that signed decides."""
    home = new_gnupghome()
    long_ago = time.time() - 30 * DAY
    fingerprint = make_key(home, "Rotating RM <rotating@sample.invalid>", usage="cert", expire="2y",
                           at=long_ago)
    gpg_cli(home, "--quick-add-key", fingerprint, "ed25519", "sign", "1d", at=long_ago)
    gpg_cli(home, "--quick-add-key", fingerprint, "ed25519", "sign", "1y")
    signature = sign(home, fingerprint, data)
    check = gpg.verify_detached(signature, data, gnupghome=home)
    assert (check.good, check.signer, check.detail) == (True, fingerprint, "good signature")


# --------------------------------------------------------------------------- the voter's verify


def test_verify_rejects_a_candidate_signed_by_a_key_revoked_in_keys(tmp_path: Path) -> None:
    """Before the fix the report said `good signature by <revoked key>` and the candidate passed."""
    home = new_gnupghome()
    fingerprint = make_key(home, "Revoked RM <revoked@sample.invalid>")
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    artefacts = ["sample-app-1.10.6-source.tar.gz", "sample_app-1.10.6-py3-none-any.whl",
                 "sample_app-1.10.6.tar.gz"]
    for name in artefacts:
        path = candidate / name
        path.write_bytes(f"bytes of {name}".encode())
        path.with_name(name + ".sha512").write_text(checksum_text(path))
        sign(home, fingerprint, path)
    revoke(home, fingerprint)  # KEYS then carries the revocation with the key
    repo = make_svn(tmp_path, "sample-app", gpg_cli(home, "--armor", "--export", fingerprint))
    svn("import", "-m", "Stage 1.10.6rc1", str(candidate), f"{repo.dev_url}/sample-app/1.10.6rc1")
    config = load_config(FIXTURES / "sample")
    with pytest.raises(CandidateRejected) as caught:
        verify_candidate(config, parse_version("1.10.6rc1"), svn_dev_url=repo.dev_url,
                         keys_url=repo.keys_url("sample-app"),
                         repo_root=FIXTURES / "sample", rebuild=False, progress=lambda line: None)
    report = caught.value.report
    signatures = {check.name: check.problems for check in report.checks if check.name.endswith(".asc")}
    assert sorted(name for name in signatures if signatures[name]) == sorted(f"{n}.asc" for n in artefacts)
    # the stand-in archives also fail the licence checks, for being no archives; nothing else fails
    others = {check.name for check in report.checks if check.problems} - signatures.keys()
    assert others <= {"sample-app-1.10.6-source.tar.gz", "sample_app-1.10.6.tar.gz"}
    for check in report.checks:
        if check.name in others:
            assert all("cannot be read as a .tar.gz" in problem for problem in check.problems)
    assert f"signed by a revoked key {fingerprint}" in str(caught.value)
    assert "good signature" not in str(caught.value)
    assert caught.value.exit_code == 7
