# SPDX-License-Identifier: Apache-2.0
"""Runs in the image's build stage with the venv's interpreter (3.9+):

    python3 requirements_from_wheels.py EXTRAS WHEEL_DIR OUT_DIR

Turns the Requires-Dist of the wheels in WHEEL_DIR (with EXTRAS, comma-separated, evaluated for
this interpreter) into OUT_DIR/requirements.txt, so the dependency layer depends on the
dependency list only, not on the wheels' bytes. Requirements naming one of the local wheels are
left to the wheel install (and their extras followed); the names of the local wheels go to
OUT_DIR/local.txt.
"""

from __future__ import annotations

import email
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

PIP_WHEELS = Path("/opt/build/wheels")  # pip-*.whl: `packaging` comes from it


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_requires(path: Path) -> tuple[str, list[str]]:
    """(normalised project name, its Requires-Dist lines) from a wheel's METADATA."""
    with zipfile.ZipFile(path) as wheel:
        meta = [n for n in wheel.namelist() if re.match(r"[^/]+\.dist-info/METADATA$", n)]
        message = email.message_from_bytes(wheel.read(meta[0]))
    return norm(message["Name"]), list(message.get_all("Requires-Dist") or [])


def requirements(requires: Mapping[str, Iterable[str]], extras: str) -> list[str]:
    """The sorted requirement lines of every local wheel (`requires`: name -> Requires-Dist) with
    `extras`, markers evaluated here and dropped; local wheels followed, never listed."""
    from pip._vendor.packaging.requirements import Requirement

    wanted = ["", *(e.strip() for e in extras.split(",") if e.strip())]
    todo = [(name, extra) for name in requires for extra in wanted]
    seen, lines = set(), set()
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        name, extra = item
        for text in requires[name]:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            if norm(req.name) in requires:
                todo += [(norm(req.name), e) for e in req.extras]
                continue
            req.marker = None
            lines.add(str(req))
    return sorted(lines)


def main(argv: list[str]) -> None:
    extras, wheel_dir, out_dir = argv[0], Path(argv[1]), Path(argv[2])
    sys.path[:0] = [str(path) for path in sorted(PIP_WHEELS.glob("pip-*.whl"))]
    requires = dict(wheel_requires(path) for path in sorted(wheel_dir.glob("*.whl")))
    if not requires:
        sys.exit(f"no wheel to install in {wheel_dir}")
    (out_dir / "requirements.txt").write_text("".join(f"{line}\n" for line in requirements(requires, extras)))
    (out_dir / "local.txt").write_text("".join(f"{name}\n" for name in sorted(requires)))


if __name__ == "__main__":
    main(sys.argv[1:])
