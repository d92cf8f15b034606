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


def sign_detached(path: Path, *, key: str, gnupghome: Path | None = None) -> Path:
    """Write `<path>.asc`, an armored detached signature by `key`. Never leaves a partial file."""
    target = path.with_name(path.name + ".asc")
    partial = path.with_name(f".{path.name}.asc.partial")
    partial.unlink(missing_ok=True)
    run([*_gpg(gnupghome), "--yes", "--armor", "--local-user", key, "--output", str(partial),
         "--detach-sign", str(path)], hint=_HINT)
    partial.replace(target)
    return target


def verify_detached(signature: Path, data: Path, *, gnupghome: Path | None = None) -> SignatureCheck:
    """Check a detached signature; good only when gpg reports VALIDSIG (trust levels don't matter)."""
    result = run([*_gpg(gnupghome), "--status-fd", "1", "--verify", str(signature), str(data)],
                 check=False, hint=_HINT)
    status = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("[GNUPG:] ")]
    for fields in status:
        if fields and fields[0] == "VALIDSIG" and len(fields) > 10:
            return SignatureCheck(result.returncode == 0, fields[10], "good signature")
    for fields in status:
        if fields and fields[0] in {"BADSIG", "ERRSIG", "NO_PUBKEY", "EXPKEYSIG", "REVKEYSIG", "NODATA"}:
            return SignatureCheck(False, "", " ".join(fields[:2]))
    lines = (result.stderr or "no output").strip().splitlines()
    return SignatureCheck(False, "", lines[-1] if lines else "no output")


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
