# SPDX-License-Identifier: Apache-2.0
"""Signing: .asc and .sha512 next to every file, only with a valid key from KEYS, never replacing silently."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from vote_fixtures import (
    Keyring,
    built_sample,
    copy_tree,
    generate_key,
    keys_text,
    new_gnupghome,
    shared_keyring,
    sign_recorded,
)

from release.adapters import gpg
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError
from release.steps.sign import checksum_text, sign_release
from release.versions import parse_version

RC = "1.10.6rc1"
V_RC = parse_version(RC)
pytestmark = pytest.mark.slow  # every test here starts from a built candidate
Candidate = tuple[Path, ReleaseConfig]


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return shared_keyring()


@pytest.fixture
def candidate(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Candidate:
    root, _ = built_sample(tmp_path_factory, RC)
    return copy_tree(root, tmp_path / "sample")


def sign(config: ReleaseConfig, keyring: Keyring, version: str = RC, **kwargs: object) -> list[str]:
    result = sign_recorded(config, parse_version(version), keyring, **kwargs)
    return sorted(p.name for p in result.written)


def test_every_file_gets_a_signature_and_a_checksum(candidate: Candidate, keyring: Keyring) -> None:
    root, config = candidate
    directory = root / "dist" / RC
    artefacts = sorted(p for p in (directory / "svn").iterdir()) + sorted((directory / "pypi").iterdir())
    written = sign(config, keyring)
    assert len(written) == 2 * len(artefacts) == 10
    for artefact in artefacts:
        signature = artefact.with_name(artefact.name + ".asc")
        check = gpg.verify_detached(signature, artefact, gnupghome=keyring.home)
        assert check.good and check.signer == keyring.fingerprint
        assert artefact.with_name(artefact.name + ".sha512").read_text() == checksum_text(artefact)
    for folder in ("svn", "pypi"):
        sums = [p.name for p in (directory / folder).glob("*.sha512")]
        done = subprocess.run(["sha512sum", "-c", *sums], cwd=directory / folder, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count(": OK") == len(sums)
    record = json.loads((directory / "release.json").read_text())
    assert record["steps"]["sign"]["key"] == keyring.fingerprint
    assert "svn/sample_app-1.10.6.tar.gz.asc" in record["signatures"]


def test_a_rerun_keeps_correct_signatures(candidate: Candidate, keyring: Keyring) -> None:
    root, config = candidate
    sign(config, keyring)
    signature = root / "dist" / RC / "svn" / "sample_app-1.10.6.tar.gz.asc"
    before = signature.read_bytes(), signature.stat().st_mtime_ns
    assert sign(config, keyring) == []
    assert (signature.read_bytes(), signature.stat().st_mtime_ns) == before


def test_a_wrong_checksum_is_refused_not_replaced(candidate: Candidate, keyring: Keyring) -> None:
    root, config = candidate
    sign(config, keyring)
    checksum = root / "dist" / RC / "svn" / "sample_app-1.10.6.tar.gz.sha512"
    checksum.write_text("0" * 128 + "  sample_app-1.10.6.tar.gz\n")
    with pytest.raises(RefusedError, match=r"1.10.6.tar.gz.sha512 exists and does not match.*remove it"):
        sign(config, keyring)
    assert checksum.read_text().startswith("0" * 128)


def test_a_wrong_signature_is_refused_not_replaced(candidate: Candidate, keyring: Keyring) -> None:
    root, config = candidate
    sign(config, keyring)
    svn = root / "dist" / RC / "svn"
    wheel_signature = (svn / "sample_app-1.10.6-py3-none-any.whl.asc").read_text()
    (svn / "sample_app-1.10.6.tar.gz.asc").write_text(wheel_signature)  # a good signature of another file
    with pytest.raises(RefusedError, match=r"1.10.6.tar.gz.asc exists but is not a good signature"):
        sign(config, keyring)
    assert (svn / "sample_app-1.10.6.tar.gz.asc").read_text() == wheel_signature


def test_files_changed_since_the_build_are_refused(candidate: Candidate, keyring: Keyring) -> None:
    root, config = candidate
    (root / "dist" / RC / "svn" / "sample_app-1.10.6.tar.gz").write_bytes(b"not what was built")
    with pytest.raises(RefusedError, match="changed since the build"):
        sign(config, keyring)


def test_a_key_missing_from_the_keyring_is_refused(candidate: Candidate, keyring: Keyring) -> None:
    _, config = candidate
    with pytest.raises(RefusedError, match="no secret key 'DEADBEEF"):
        sign_release(config, V_RC, key="DEADBEEFDEADBEEF", gnupghome=keyring.home,
                     keys_file=keyring.keys_file)
    with pytest.raises(ConfigError, match="signing-key = 'sandbox'"):
        sign_release(config, V_RC, gnupghome=keyring.home, keys_file=keyring.keys_file)


def test_an_expired_key_is_refused(candidate: Candidate, tmp_path: Path) -> None:
    _, config = candidate
    home = new_gnupghome()
    fingerprint = generate_key(home, "Old RM <old@sample.invalid>", expire="1y", faked_time="20200101T000000")
    keys = tmp_path / "KEYS"
    keys.write_text(keys_text(home, fingerprint))
    with pytest.raises(RefusedError, match=rf"key {fingerprint} expired on 2020-12-3"):
        sign_release(config, V_RC, key=fingerprint, gnupghome=home, keys_file=keys)


def test_a_key_not_in_keys_is_refused(candidate: Candidate, keyring: Keyring, tmp_path: Path) -> None:
    root, config = candidate
    home = new_gnupghome()
    other = generate_key(home, "Someone Else <else@sample.invalid>")
    keys = tmp_path / "KEYS"
    keys.write_text(keys_text(home, other))
    with pytest.raises(RefusedError, match=rf"key {keyring.fingerprint} is not in .*KEYS"):
        sign_release(config, V_RC, key=keyring.fingerprint, gnupghome=keyring.home, keys_file=keys)
    assert not list((root / "dist" / RC / "svn").glob("*.asc"))


def test_a_final_release_signs_pypi_files_only_through_svn(tmp_path_factory: pytest.TempPathFactory,
                                                           tmp_path: Path, keyring: Keyring) -> None:
    root, _ = built_sample(tmp_path_factory, "1.10.6")
    root, config = copy_tree(root, tmp_path / "final")
    written = sign(config, keyring, "1.10.6")
    assert len(written) == 6
    assert not list((root / "dist" / "1.10.6" / "pypi").glob("*.asc"))
