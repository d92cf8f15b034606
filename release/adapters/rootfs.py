# SPDX-License-Identifier: Apache-2.0
"""Root filesystems for base images: debootstrap a Debian suite, pack it as a tar, clear its mounts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from release.adapters.cmd import run
from release.errors import CommandError


def debootstrap(suite: str, target: Path, *, packages: Sequence[str], mirror: str, log_file: Path,
                arch: str | None = None, cache_dir: Path | None = None, script: str = "") -> Path:
    """A minimal Debian `suite` with `packages` in `target`; the tool's output goes to `log_file`.
    `arch` (a Debian architecture such as arm64) makes another architecture's tree: its second
    stage then runs under qemu, through binfmt_misc. `cache_dir` keeps the downloaded packages for
    the next run (one directory per suite and architecture: two debootstraps must not write the
    same one at once). `script` names the debootstrap script for a suite the host's debootstrap
    does not know yet."""
    options = ["--variant=minbase", *([f"--arch={arch}"] if arch else []), f"--include={','.join(packages)}"]
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        options.append(f"--cache-dir={cache_dir.resolve()}")
    script_path = [f"/usr/share/debootstrap/scripts/{script}"] if script else []
    result = run(["debootstrap", *options, suite, target, mirror, *script_path], check=False)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CommandError(
            f"debootstrap {suite} failed (exit {result.returncode}): {last[0]}; see {log_file}"
        )
    return target


def pack(rootfs: Path, tarball: Path) -> Path:
    """`rootfs` as an uncompressed tar with numeric owners, as an image import wants it."""
    run(["tar", "-C", rootfs, "--numeric-owner", "-cf", tarball, "."])
    return tarball


def unmount_under(directory: Path) -> None:
    """Lazily unmount whatever is mounted inside `directory` (a failed debootstrap leaves /proc)."""
    prefix = str(directory.resolve()) + "/"
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    points = [fields[1] for fields in (line.split() for line in mounts) if len(fields) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        run(["umount", "-l", point], check=False)
