# SPDX-License-Identifier: Apache-2.0
"""GnuPG, non-interactively: keys, detached signatures, KEYS files. Every call names its keyring."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from release.adapters.cmd import run
from release.errors import CommandError, ConfigError

_HINT = "install GnuPG 2 (Debian: apt-get install gnupg)"


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str  # of the primary key
    user_ids: tuple[str, ...]
    validity: str  # the --with-colons validity letter: e expired, r revoked, ...
    expires: int | None  # epoch seconds
    can_sign: bool  # the key as a whole has a usable signing (sub)key

    def is_expired(self, now: float | None = None) -> bool:
        at = time.time() if now is None else now
        return self.validity == "e" or (self.expires is not None and self.expires <= at)

    @property
    def is_revoked(self) -> bool:
        return self.validity == "r"


@dataclass(frozen=True)
class SignatureCheck:
    good: bool
    signer: str  # fingerprint of the primary key that made it, "" when unknown
    detail: str


def _gpg(gnupghome: Path | None) -> list[str]:
    home = ["--homedir", str(gnupghome)] if gnupghome is not None else []
    return ["gpg", *home, "--batch", "--no-tty"]


def parse_keys(colons: str) -> list[KeyInfo]:
    """Primary keys in `gpg --with-colons` output: one block per pub/sec record and what follows it."""
    blocks: list[list[list[str]]] = []
    for line in colons.splitlines():
        fields = [*line.split(":"), *[""] * 20]
        if fields[0] in {"pub", "sec"}:
            blocks.append([fields])
        elif blocks:
            blocks[-1].append(fields)
    keys = []
    for head, *rest in blocks:
        if not rest or rest[0][0] != "fpr":
            continue  # the primary's fingerprint record follows it directly; anything else is malformed
        uids = tuple(fields[9] for fields in rest if fields[0] == "uid")
        expires = int(head[6]) if head[6].isdigit() else None
        keys.append(KeyInfo(rest[0][9], uids, head[1], expires, "S" in head[11]))
    return keys


def list_keys(key: str | None, *, gnupghome: Path | None = None, secret: bool = False) -> list[KeyInfo]:
    """Keys matching `key` (fingerprint, id or user id), or all keys; [] when none match."""
    which = "--list-secret-keys" if secret else "--list-keys"
    args = [*_gpg(gnupghome), "--with-colons", "--fixed-list-mode", which]
    result = run([*args, *([key] if key else [])], check=False, hint=_HINT)
    return parse_keys(result.stdout)


def fingerprints_in(keys_file: Path) -> set[str]:
    """Primary fingerprints of the keys in a KEYS file, without importing them anywhere."""
    with temporary_home() as home:
        result = run([*_gpg(home), "--with-colons", "--show-keys", str(keys_file)], check=False, hint=_HINT)
    return {key.fingerprint for key in parse_keys(result.stdout)}


def import_keys(keys_file: Path, *, gnupghome: Path) -> set[str]:
    """Import a KEYS file into `gnupghome`; the primary fingerprints it held."""
    run([*_gpg(gnupghome), "--import", str(keys_file)], hint=_HINT)
    return fingerprints_in(keys_file)


def export_public(key: str, *, gnupghome: Path | None = None) -> str:
    """The armored public key, as it is appended to a KEYS file."""
    result = run([*_gpg(gnupghome), "--armor", "--export", key], hint=_HINT)
    if "BEGIN PGP PUBLIC KEY BLOCK" not in result.stdout:
        raise ConfigError(f"gpg has no public key {key!r} to export")
    return result.stdout


def keys_entry(key: str, *, gnupghome: Path | None = None) -> str:
    """What an Apache KEYS file holds for `key`: its `--list-sigs` listing, then its armored export."""
    listing = run([*_gpg(gnupghome), "--list-sigs", key], hint=_HINT).stdout
    return f"{listing.strip()}\n\n{export_public(key, gnupghome=gnupghome).strip()}\n"


def generate_key(
    user_id: str, *, gnupghome: Path, algorithm: str = "rsa3072", usage: str = "sign", expire: str = "2y"
) -> str:
    """A new key without a passphrase for `user_id` in `gnupghome`; its fingerprint."""
    result = run([*_gpg(gnupghome), "--status-fd", "1", "--pinentry-mode", "loopback", "--passphrase", "",
                  "--quick-gen-key", user_id, algorithm, usage, expire], hint=_HINT)
    for line in result.stdout.splitlines():
        fields = line.split()
        if fields[:2] == ["[GNUPG:]", "KEY_CREATED"] and len(fields) > 3:
            return fields[3]
    raise CommandError(f"gpg generated no key in {gnupghome}; run `gpg --homedir {gnupghome} -K` to see why")


def add_user_id(key: str, user_id: str, *, gnupghome: Path) -> None:
    """Give the passphrase-less `key` another user id (its fingerprint stays the same)."""
    run([*_gpg(gnupghome), "--pinentry-mode", "loopback", "--passphrase", "", "--quick-add-uid", key,
         user_id], hint=_HINT)


def has_secret_key(key: str, *, gnupghome: Path) -> bool:
    """True when `gnupghome` holds the secret part of `key`, told from its files: unlike
    `--list-secret-keys` this asks no gpg-agent, and so starts none."""
    if not gnupghome.exists():
        return False
    result = run([*_gpg(gnupghome), "--with-colons", "--with-keygrip", "--list-keys", key], check=False,
                 hint=_HINT)
    grips = [line.split(":")[9] for line in result.stdout.splitlines() if line.startswith("grp:")]
    return bool(grips) and (gnupghome / "private-keys-v1.d" / f"{grips[0]}.key").exists()


def sign_detached(path: Path, *, key: str, gnupghome: Path | None = None) -> Path:
    """Write `<path>.asc`, an armored detached signature by `key`. Never leaves a partial file."""
    target = path.with_name(path.name + ".asc")
    partial = path.with_name(f".{path.name}.asc.partial")
    partial.unlink(missing_ok=True)
    run([*_gpg(gnupghome), "--yes", "--armor", "--local-user", key, "--output", str(partial),
         "--detach-sign", str(path)], hint=_HINT)
    partial.replace(target)
    return target


# Status keywords that make a signature not good, whatever else gpg says: for a signature by a
# revoked or expired key gpg exits 0 and prints VALIDSIG too. Not KEYEXPIRED: gpg prints it for
# every expired subkey of the signer's key, used or not (an old rotated-out signing subkey);
# EXPKEYSIG is the one about the key that made the signature.
_NOT_GOOD = {
    "BADSIG": "bad signature (the file or the signature was changed) by",
    "ERRSIG": "the signature could not be checked; made by",
    "NO_PUBKEY": "signed by a key that is not in the keyring:",
    "EXPKEYSIG": "signed by an expired key",
    "REVKEYSIG": "signed by a revoked key",
    "KEYREVOKED": "signed by a revoked key",
    "EXPSIG": "the signature has expired; made by",
    "NODATA": "no signature in the file",
}


def judge_signature(status_lines: str, returncode: int) -> SignatureCheck:
    """Pure: read `gpg --status-fd` output. Good only with a GOODSIG and a VALIDSIG for each signature
    (NEWSIG), one signer, none of the `_NOT_GOOD` keywords, and exit 0."""
    status = [line.split()[1:] for line in status_lines.splitlines() if line.startswith("[GNUPG:] ")]
    status = [fields for fields in status if fields]
    valid = [fields for fields in status if fields[0] == "VALIDSIG" and len(fields) > 10]
    signers = sorted({fields[10] for fields in valid})
    for fields in status:
        if fields[0] in _NOT_GOOD:
            key = signers[0] if len(signers) == 1 else (fields[1] if len(fields) > 1 else "")
            key = "" if fields[0] == "NODATA" else key  # its argument is a reason code, not a key
            return SignatureCheck(False, "", f"{fields[0]}: {_NOT_GOOD[fields[0]]} {key}".rstrip(" :;"))
    keywords = [fields[0] for fields in status]
    if len(signers) > 1:
        return SignatureCheck(False, "", f"signatures by several keys ({', '.join(signers)}); expected one")
    if returncode == 0 and valid and len(valid) == keywords.count("GOODSIG") == keywords.count("NEWSIG"):
        return SignatureCheck(True, signers[0], "good signature")
    return SignatureCheck(False, "", "")


def verify_detached(signature: Path, data: Path, *, gnupghome: Path | None = None) -> SignatureCheck:
    """Check a detached signature (see `judge_signature`; trust levels don't matter)."""
    result = run([*_gpg(gnupghome), "--status-fd", "1", "--verify", str(signature), str(data)],
                 check=False, hint=_HINT)
    check = judge_signature(result.stdout, result.returncode)
    if check.good or check.detail:
        return check
    lines = (result.stderr or "no output").strip().splitlines()
    return SignatureCheck(False, "", lines[-1] if lines else "no output")


def socket_dir(gnupghome: Path) -> str:
    """Where gpg-agent puts its sockets for `gnupghome`: a unix socket path must fit in 108 bytes."""
    result = run(["gpgconf", "--list-dirs", "socketdir"], env={"GNUPGHOME": str(gnupghome)}, hint=_HINT)
    return result.stdout.strip()


def kill_agent(gnupghome: Path) -> None:
    """Stop the gpg-agent (and dirmngr) serving `gnupghome`."""
    run(["gpgconf", "--kill", "all"], env={"GNUPGHOME": str(gnupghome)}, check=False, hint=_HINT)


@contextmanager
def temporary_home() -> Iterator[Path]:
    """A throwaway keyring. Short path under /tmp: gpg-agent's socket path must fit in 108 bytes."""
    home = Path(tempfile.mkdtemp(prefix="gpg.", dir="/tmp"))
    home.chmod(0o700)
    try:
        yield home
    finally:
        kill_agent(home)
        shutil.rmtree(home, ignore_errors=True)
