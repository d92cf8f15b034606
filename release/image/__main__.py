# SPDX-License-Identifier: Apache-2.0
"""`python -m release.image DIR`: write the shipped Dockerfile and its helper folder into DIR (a
checkout), so that `DOCKER_BUILDKIT=1 docker build DIR` builds the production image by hand."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from release.image import DOCKERFILE, helper_files, helper_modes, read


def write(directory: Path, *, force: bool = False) -> list[Path]:
    """The Dockerfile and the helper files under `directory`; an existing Dockerfile that differs is
    kept unless `force`. Returns what was written."""
    target = directory / DOCKERFILE
    if target.exists() and target.read_bytes() != read(DOCKERFILE) and not force:
        raise SystemExit(f"{target} exists and differs from the shipped one; --force replaces it")
    files = {DOCKERFILE: read(DOCKERFILE), **helper_files()}
    modes = helper_modes()
    written = []
    for name, data in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(modes.get(name, 0o644))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m release.image", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where to write Dockerfile and .release-pipeline/")
    parser.add_argument("--force", action="store_true", help="replace a Dockerfile that differs")
    args = parser.parse_args(argv)
    for path in write(args.directory, force=args.force):
        print(path)


if __name__ == "__main__":
    main()
