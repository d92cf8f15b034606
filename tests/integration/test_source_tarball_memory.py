# SPDX-License-Identifier: Apache-2.0
"""The source tarball is made from the commit without holding a file in memory: `git archive` is
streamed to a file and unpacked from it, and the normalised tarball reads each file in pieces.
Measured with tracemalloc around the two calls the build makes, with a 64 MiB file committed."""

from __future__ import annotations

import hashlib
import tarfile
import tracemalloc
from pathlib import Path

from conftest import git as git_cli

from release.adapters import git
from release.steps.build import write_tarball

BIG = 64 << 20
BOUND = 8 << 20  # what the two calls may hold at once: well under the file's size


def test_a_large_file_is_never_held_in_memory(sample_repo: Path, tmp_path: Path) -> None:
    with open(sample_repo / "data.bin", "wb") as out:
        for index in range(BIG >> 20):
            out.write(bytes([index]) * (1 << 20))
    git_cli(sample_repo, "add", "data.bin")
    git_cli(sample_repo, "commit", "-qm", "A large data file")
    tracemalloc.start()
    try:
        tree = git.export_commit(sample_repo, "HEAD", tmp_path / "export")
        tarball = write_tarball(tree, tmp_path / "sample-app-1.0.0-source.tar.gz", top="sample-app-1.0.0",
                                epoch=1_700_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"peak traced memory: {peak / (1 << 20):.1f} MiB for a {BIG >> 20} MiB file")
    assert peak < BOUND, f"peak {peak >> 20} MiB for a {BIG >> 20} MiB file"
    with tarfile.open(tarball) as archive:
        member = archive.getmember("sample-app-1.0.0/data.bin")
        assert member.size == BIG
        handle = archive.extractfile(member)
        assert handle is not None
        digest = hashlib.sha256()
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    expected = hashlib.sha256()
    for index in range(BIG >> 20):
        expected.update(bytes([index]) * (1 << 20))
    assert digest.hexdigest() == expected.hexdigest()
