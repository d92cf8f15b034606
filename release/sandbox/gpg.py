# SPDX-License-Identifier: Apache-2.0
"""A throwaway signing key in its own GNUPGHOME, and the Apache-style KEYS text for it."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from release.adapters import gpg
from release.errors import ServiceError
from release.progress import Progress
from release.sandbox.tools import ensure_program

USER_ID = "Release Sandbox <sandbox@release.invalid>"
SOCKET_PATH_MAX = 107
_LONGEST_SOCKET = "/S.gpg-agent.browser"


def env(home: Path) -> dict[str, str]:
    """The environment that points gpg at `home`, for people and tests running gpg themselves."""
    return {"GNUPGHOME": str(home)}


def usable_home(real: Path) -> Path:
    """`real`, or a short symlink to it when gpg-agent's socket path would exceed the unix limit."""
    if len(gpg.socket_dir(real) + _LONGEST_SOCKET) <= SOCKET_PATH_MAX:
        return real
    digest = hashlib.sha256(str(real).encode()).hexdigest()[:12]
    link = Path(tempfile.gettempdir()) / f"release-gnupg-{digest}"
    if link.is_symlink() and link.readlink() == real:
        return link
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(real, target_is_directory=True)
    if len(gpg.socket_dir(link) + _LONGEST_SOCKET) > SOCKET_PATH_MAX:
        raise ServiceError(
            f"GNUPGHOME {real} is too long for gpg-agent's socket and so is {link}; "
            "set TMPDIR to a short path"
        )
    return link


def prepare_home(real: Path) -> Path:
    real.mkdir(parents=True, exist_ok=True)
    real.chmod(0o700)
    return usable_home(real)


def ensure_key(real_home: Path, previous: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Reuse the recorded key when it is still there, otherwise generate one; return the gpg record."""
    ensure_program("gpg", "gnupg", progress)
    home = prepare_home(real_home)
    record = {"gnupghome": str(home), "gnupghome_dir": str(real_home)}
    keys = gpg.list_keys(None, gnupghome=home, secret=True)
    fingerprints = [key.fingerprint for key in keys if USER_ID in key.user_ids]
    recorded = previous.get("signing_key")
    if fingerprints:
        chosen = recorded if recorded in fingerprints else fingerprints[0]
        progress(f"gpg: reusing key {chosen} in {home}")
        return {**record, "signing_key": chosen}
    progress(f"gpg: generating a throwaway rsa3072 key in {home}")
    fingerprint = gpg.generate_key(USER_ID, gnupghome=home, algorithm="rsa3072", usage="sign", expire="2y")
    return {**record, "signing_key": fingerprint}


KEYS_HEADER = ("This file contains the PGP keys of the release sandbox's signer.\n\n"
               "Users: gpg --import KEYS\n\n")


def keys_text(home: Path, fingerprint: str) -> str:
    """An Apache KEYS file body: the key's signatures listing, then its armored export."""
    return KEYS_HEADER + gpg.keys_entry(fingerprint, gnupghome=home)


def with_key(current: str, home: Path, fingerprint: str) -> str | None:
    """KEYS text `current` with the key appended when it lacks it (None: it holds it already).
    KEYS is append-only (ASF): keys others added are never dropped."""
    if not current.strip():
        return keys_text(home, fingerprint)
    with tempfile.TemporaryDirectory(prefix="release-keys-") as tmp:
        keys = Path(tmp) / "KEYS"
        keys.write_text(current, encoding="utf-8")
        if fingerprint in gpg.fingerprints_in(keys):
            return None
    return current.rstrip("\n") + "\n\n" + gpg.keys_entry(fingerprint, gnupghome=home)


def key_present(home: Path, fingerprint: str) -> bool:
    """True when `home` holds the secret part of `fingerprint`; asks no gpg-agent (starts none)."""
    return gpg.has_secret_key(fingerprint, gnupghome=home)


def stop_agent(home: Path) -> None:
    if home.exists():
        gpg.kill_agent(home)
