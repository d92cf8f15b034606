# SPDX-License-Identifier: Apache-2.0
"""skopeo: "simple signing" signatures of image manifests, made and checked with gpg keys.

`standalone-sign` and `standalone-verify` work on local files (a manifest, a signature), so the
registry is read through the registry adapter and skopeo never talks to it. Both use the gpg
keyring named by GNUPGHOME.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from release.adapters.cmd import run

_HINT = "install skopeo (Debian: apt-get install skopeo)"


@dataclass(frozen=True)
class SignatureCheck:
    good: bool
    detail: str  # the digest it verified, or why it did not


def _env(gnupghome: Path | None) -> dict[str, str] | None:
    return {"GNUPGHOME": str(gnupghome)} if gnupghome is not None else None


def standalone_sign(manifest: Path, reference: str, fingerprint: str, output: Path, *,
                    gnupghome: Path | None = None) -> Path:
    """Sign `manifest` (its exact bytes) as `reference` (registry/image:tag) with key `fingerprint`;
    write the signature to `output`, never leaving a partial file."""
    partial = output.with_name(f".{output.name}.partial")
    partial.unlink(missing_ok=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    run(["skopeo", "standalone-sign", str(manifest), reference, fingerprint, "--output", str(partial)],
        env=_env(gnupghome), hint=_HINT)
    partial.replace(output)
    return output


def standalone_verify(manifest: Path, reference: str, fingerprint: str, signature: Path, *,
                      gnupghome: Path | None = None) -> SignatureCheck:
    """Whether `signature` is `fingerprint`'s signature of `manifest` as `reference`."""
    result = run(["skopeo", "standalone-verify", str(manifest), reference, fingerprint, str(signature)],
                 env=_env(gnupghome), check=False, hint=_HINT)
    if result.returncode == 0:
        return SignatureCheck(True, result.stdout.strip())
    lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if "msg=" in line]
    detail = lines[-1].split("msg=", 1)[1].strip('"') if lines else (result.stderr.strip() or "no output")
    return SignatureCheck(False, detail)
