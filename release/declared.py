"""Where a project declares its version, and what it says. Reads files; never imports the project."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_ASSIGN = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.MULTILINE)
_SETUP_KW = re.compile(r"""\bversion\s*=\s*["']([^"']+)["']""")


def _from_pyproject(root: Path) -> str | None:
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    version = data.get("project", {}).get("version")
    return version if isinstance(version, str) else None


def _candidates(root: Path) -> list[Path]:
    found = []
    for package in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()):
        found += [package / "__init__.py", package / "version.py", package / "_version.py"]
    src = root / "src"
    if src.is_dir():
        for package in sorted(p for p in src.iterdir() if (p / "__init__.py").is_file()):
            found += [package / "__init__.py", package / "version.py", package / "_version.py"]
    return [p for p in found if p.is_file()]


def find_declared_version(root: Path) -> tuple[str, str] | None:
    """(version, file relative to root) from pyproject, `__version__ = "..."`, or setup.py."""
    version = _from_pyproject(root)
    if version is not None:
        return version, "pyproject.toml"
    for path in _candidates(root):
        match = _ASSIGN.search(path.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1), path.relative_to(root).as_posix()
    setup = root / "setup.py"
    if setup.is_file():
        match = _SETUP_KW.search(setup.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1), "setup.py"
    return None


def rewrite_declared_version(root: Path, relative: str, old: str, new: str) -> None:
    """Change the declared version in an exported tree (used to build an RC's index packages)."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    for quote in ('"', "'"):
        if f"{quote}{old}{quote}" in text:
            path.write_text(text.replace(f"{quote}{old}{quote}", f"{quote}{new}{quote}", 1), encoding="utf-8")
            return
    raise ValueError(f"{relative} does not contain the version string {old!r}")
