# SPDX-License-Identifier: Apache-2.0
"""`release-pipeline`: the invoke collection as a stand-alone command."""

from __future__ import annotations

from invoke.program import Program

from release import __version__


def main() -> None:
    from release.cli import ns

    Program(namespace=ns, version=__version__, name="release-pipeline", binary="release-pipeline").run()


if __name__ == "__main__":
    main()
