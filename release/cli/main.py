# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline`: the invoke collection as a stand-alone command."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from release import __version__

NAME = "release-pipeline"


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        # What invoke prints for --version, without loading invoke: the smoke check asks every image
        # for it, and under emulation each import costs ten times as much.
        sys.stdout.write(f"{NAME} {__version__}\n")
        return
    from invoke.program import Program

    from release.cli.collection import ns

    Program(namespace=ns, version=__version__, name=NAME, binary=NAME).run([NAME, *args])


if __name__ == "__main__":
    main()
