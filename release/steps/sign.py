# SPDX-License-Identifier: Apache-2.0
"""Sign the built files: `X.asc` (detached, armored) and `X.sha512` (`sha512sum -c` format) next to each.

The step reads the release record (what the build made) and returns the signature entries it left;
the pipeline records them."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters import gpg
from release.config import SANDBOX, ReleaseConfig
from release.errors import ConfigError, RefusedError
from release.plan.release import Artefact
from release.progress import Progress, to_log
from release.record import (
    ReleaseRecord,
    SignatureEntry,
    checksum_text,
    load_record,
    release_dir,
    sha512_of,
    signature_entries,
    write_atomic,
)
from release.versions import ReleaseVersion

log = logging.getLogger("release.sign")


@dataclass(frozen=True)
class SignResult:
    version: str
    fingerprint: str
    signed: tuple[Path, ...]  # every file that now has a good .asc and .sha512
    written: tuple[Path, ...]  # the .asc and .sha512 files this run created
    signatures: tuple[SignatureEntry, ...]  # the .asc and .sha512 of every signed file, to record


def sign_record(path: Path, *, key: str, gnupghome: Path | None = None) -> None:
    """Sign the release record (again: it changes on every rerun, a vote result or a withdrawal):
    `release.json.asc` replaced, and `release.json.sha512`."""
    signature = path.with_name(path.name + ".asc")
    signature.unlink(missing_ok=True)
    gpg.sign_detached(path, key=key, gnupghome=gnupghome)
    write_atomic(path.with_name(path.name + ".sha512"), checksum_text(path))


def signing_key(key: str, *, keys_file: Path, gnupghome: Path | None = None) -> gpg.KeyInfo:
    """The key to sign with, refused unless it can sign now and the project's KEYS file holds it."""
    keyring = gnupghome or "~/.gnupg"
    if key == SANDBOX:
        raise ConfigError("signing-key = 'sandbox': pass the sandbox key's fingerprint and its GNUPGHOME")
    secret = gpg.list_keys(key, gnupghome=gnupghome, secret=True)
    if not secret:
        raise RefusedError(f"no secret key {key!r} in {keyring}; import it there or pass another key")
    if len(secret) > 1:
        found = ", ".join(k.fingerprint for k in secret)
        raise ConfigError(f"{key!r} matches several keys in {keyring} ({found}); give the full fingerprint")
    public = gpg.list_keys(secret[0].fingerprint, gnupghome=gnupghome)
    info = public[0] if public else secret[0]
    if info.is_revoked:
        raise RefusedError(f"key {info.fingerprint} is revoked; sign with another key")
    if info.is_expired():
        when = time.strftime("%Y-%m-%d", time.gmtime(info.expires)) if info.expires else "an unknown date"
        raise RefusedError(f"key {info.fingerprint} expired on {when}; extend it "
                           f"(gpg --quick-set-expire) and publish the new public key in KEYS")
    if not info.can_sign:
        raise RefusedError(f"key {info.fingerprint} has no usable signing key")
    if not keys_file.is_file():
        raise ConfigError(f"KEYS file {keys_file} not found; check out the project's KEYS from svn")
    if info.fingerprint not in gpg.fingerprints_in(keys_file):
        raise RefusedError(f"key {info.fingerprint} is not in {keys_file}; voters could not check the "
                           f"signatures: append `gpg --armor --export {info.fingerprint}` to KEYS and "
                           f"commit KEYS to svn first")
    return info


def files_to_sign(record: ReleaseRecord, directory: Path, planned: Sequence[Artefact] | None = None
                  ) -> list[Path]:
    """Every svn file, and the pypi files that are not one of them under the same name (the plan's
    rule: a file for the index with the voted version is a copy of the voted one); unchanged since
    the build. With `planned` (the plan's artefacts), refuse unless these are exactly its signed ones."""
    files = record.files
    svn_names = {Path(entry.path).name for entry in record.files_in("svn")}
    wanted = [name for name, entry in sorted(files.items())
              if entry.set == "svn" or Path(name).name not in svn_names]
    if planned is not None:
        signed = {a.path for a in planned if a.signed and a.path.startswith(("svn/", "pypi/"))}
        if set(wanted) != signed:
            raise RefusedError(f"{directory} holds other files to sign than the plan names "
                               f"({', '.join(sorted(set(wanted) ^ signed))}); build {record.version} again")
    for name in wanted:
        path = directory / name
        if not path.is_file() or sha512_of(path) != files[name].sha512:
            raise RefusedError(f"{path} is missing or changed since the build; build {record.version} again")
    return [directory / name for name in wanted]


def _ensure_checksum(path: Path) -> bool:
    target = path.with_name(path.name + ".sha512")
    expected = checksum_text(path)
    if target.exists():
        if target.read_text(encoding="utf-8") != expected:
            raise RefusedError(f"{target} exists and does not match {path.name}; remove it and sign again")
        return False
    write_atomic(target, expected)
    return True


def _ensure_signature(path: Path, key: gpg.KeyInfo, gnupghome: Path | None) -> bool:
    target = path.with_name(path.name + ".asc")
    if target.exists():
        check = gpg.verify_detached(target, path, gnupghome=gnupghome)
        if check.good and check.signer == key.fingerprint:
            return False
        why = f"signed by {check.signer}" if check.good else check.detail
        raise RefusedError(f"{target} exists but is not a good signature of {path.name} by {key.fingerprint} "
                           f"({why}); remove it and sign again")
    gpg.sign_detached(path, key=key.fingerprint, gnupghome=gnupghome)
    return True


def sign_files(paths: Sequence[Path], directory: Path, *, key: str, gnupghome: Path | None = None
               ) -> list[SignatureEntry]:
    """`.asc` and `.sha512` for files a release writes after its sign step (the images'
    constraints), keeping correct ones; the entries to record, paths relative to `directory`."""
    if not paths:
        return []
    found = gpg.list_keys(key, gnupghome=gnupghome, secret=True)
    if len(found) != 1:
        raise RefusedError(f"no single secret key {key!r} to sign with in {gnupghome or '~/.gnupg'}")
    for path in paths:
        _ensure_checksum(path)
        _ensure_signature(path, found[0], gnupghome)
    return signature_entries(paths, directory)


def sign_release(config: ReleaseConfig, version: ReleaseVersion, *, keys_file: Path,
                 key: str | None = None, gnupghome: Path | None = None,
                 planned: Sequence[Artefact] | None = None, progress: Progress = to_log) -> SignResult:
    """Sign and checksum the files of `dist/<V>/` (exactly `planned`'s signed ones, when given); a
    rerun keeps correct ones and refuses wrong ones. Returns the signature entries for the record."""
    target = version
    directory = release_dir(config.root, str(target))
    record = load_record(directory, str(target))
    if not record.is_done("build"):
        raise RefusedError(f"{directory} holds no build of {target}; build it first")
    info = signing_key(key or config.signing_key, keys_file=keys_file, gnupghome=gnupghome)
    progress(f"signing {target} with {info.fingerprint} ({', '.join(info.user_ids[:1])})")
    written: list[Path] = []
    signed = files_to_sign(record, directory, planned)
    for path in signed:
        if _ensure_checksum(path):
            written.append(path.with_name(path.name + ".sha512"))
        if _ensure_signature(path, info, gnupghome):
            written.append(path.with_name(path.name + ".asc"))
        progress(f"signed {path.relative_to(directory)}")
    return SignResult(str(target), info.fingerprint, tuple(signed), tuple(written),
                      tuple(signature_entries(signed, directory)))
