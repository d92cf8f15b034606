"""A throwaway signing key in its own GNUPGHOME, and the Apache-style KEYS text for it."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from release.adapters.cmd import run
from release.errors import CommandError, ServiceError
from release.sandbox.state import Progress
from release.sandbox.tools import ensure_program

USER_ID = "Release Sandbox <sandbox@release.invalid>"
SOCKET_PATH_MAX = 107
_LONGEST_SOCKET = "/S.gpg-agent.browser"


def env(home: Path) -> dict[str, str]:
    return {"GNUPGHOME": str(home)}


def _socketdir(home: Path) -> str:
    result = run(["gpgconf", "--list-dirs", "socketdir"], env=env(home))
    return result.stdout.strip()


def usable_home(real: Path) -> Path:
    """`real`, or a short symlink to it when gpg-agent's socket path would exceed the unix limit."""
    if len(_socketdir(real) + _LONGEST_SOCKET) <= SOCKET_PATH_MAX:
        return real
    digest = hashlib.sha256(str(real).encode()).hexdigest()[:12]
    link = Path(tempfile.gettempdir()) / f"release-gnupg-{digest}"
    if link.is_symlink() and link.readlink() == real:
        return link
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(real, target_is_directory=True)
    if len(_socketdir(link) + _LONGEST_SOCKET) > SOCKET_PATH_MAX:
        raise ServiceError(
            f"GNUPGHOME {real} is too long for gpg-agent's socket and so is {link}; "
            "set TMPDIR to a short path"
        )
    return link


def prepare_home(real: Path) -> Path:
    real.mkdir(parents=True, exist_ok=True)
    real.chmod(0o700)
    return usable_home(real)


def secret_fingerprints(home: Path) -> list[tuple[str, str]]:
    """(fingerprint, user id) of each secret key in `home`."""
    result = run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=env(home), check=False)
    keys: list[tuple[str, str]] = []
    fpr = ""
    want_fpr = False
    for line in result.stdout.splitlines():
        fields = line.split(":")
        if fields[0] == "sec":
            want_fpr = True
        elif fields[0] == "fpr" and want_fpr:
            fpr, want_fpr = fields[9], False
        elif fields[0] == "uid" and fpr:
            keys.append((fpr, fields[9]))
            fpr = ""
    return keys


def ensure_key(real_home: Path, previous: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Reuse the recorded key when it is still there, otherwise generate one; return the gpg record."""
    ensure_program("gpg", "gnupg", progress)
    home = prepare_home(real_home)
    keys = secret_fingerprints(home)
    recorded = previous.get("signing_key")
    fingerprints = [fpr for fpr, uid in keys if uid == USER_ID]
    if recorded in fingerprints:
        progress(f"gpg: reusing key {recorded} in {home}")
        return {"gnupghome": str(home), "gnupghome_dir": str(real_home), "signing_key": recorded}
    if fingerprints:
        progress(f"gpg: reusing key {fingerprints[0]} in {home}")
        return {"gnupghome": str(home), "gnupghome_dir": str(real_home), "signing_key": fingerprints[0]}
    progress(f"gpg: generating a throwaway rsa3072 key in {home}")
    run(
        [
            "gpg",
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            USER_ID,
            "rsa3072",
            "sign",
            "2y",
        ],
        env=env(home),
    )
    fingerprints = [fpr for fpr, uid in secret_fingerprints(home) if uid == USER_ID]
    if not fingerprints:
        raise CommandError(f"gpg generated no key in {home}; run `GNUPGHOME={home} gpg -K` to see why")
    return {"gnupghome": str(home), "gnupghome_dir": str(real_home), "signing_key": fingerprints[0]}


def keys_text(home: Path, fingerprint: str) -> str:
    """An Apache KEYS file body: the key's signatures listing, then its armored export."""
    listing = run(["gpg", "--batch", "--list-sigs", fingerprint], env=env(home)).stdout
    armored = run(["gpg", "--batch", "--armor", "--export", fingerprint], env=env(home)).stdout
    return (
        "This file contains the PGP keys of the release sandbox's signer.\n\n"
        "Users: gpg --import KEYS\n\n"
        f"{listing.strip()}\n\n{armored.strip()}\n"
    )


def key_present(home: Path, fingerprint: str) -> bool:
    """True when `home` holds the secret part of `fingerprint`; asks no gpg-agent (starts none)."""
    if not home.exists():
        return False
    result = run(
        ["gpg", "--batch", "--with-colons", "--with-keygrip", "--list-keys", fingerprint],
        env=env(home),
        check=False,
    )
    grips = [line.split(":")[9] for line in result.stdout.splitlines() if line.startswith("grp:")]
    return bool(grips) and (home / "private-keys-v1.d" / f"{grips[0]}.key").exists()


def stop_agent(home: Path) -> None:
    if home.exists():
        run(["gpgconf", "--kill", "all"], env=env(home), check=False)
