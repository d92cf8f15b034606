# SPDX-License-Identifier: Apache-2.0
"""What a PMC member checks by hand in a source release, as pure functions over names and bytes.

- LICENSE and NOTICE at the top of the source tarball and of every sdist;
- a license header in every file of the source release, except those excluded (like Apache
  RAT's exclude list: `[tool.release] license-excludes`, glob patterns) and empty files;
- no binary files in the source release (an excluded one is allowed, unless it is compiled code,
  which never is);
- every file of a wheel is one of its sdist's files, byte for byte (metadata aside).
"""

from __future__ import annotations

import codecs
import fnmatch
from collections.abc import Collection, Iterable, Mapping, Sequence

REQUIRED = ("LICENSE", "NOTICE")
# Files no source release is expected to carry a header in (RAT leaves SCM files alone too).
DEFAULT_EXCLUDES = ("LICENSE", "LICENSE.*", "LICENSE-*", "NOTICE", "NOTICE.*", ".gitignore",
                    ".gitattributes", ".gitmodules", ".rat-excludes")
HEADER_MARKERS = (
    "Licensed to the Apache Software Foundation",
    "Licensed under the Apache License",
    "SPDX-License-Identifier:",
)
HEADER_WINDOW = 4096  # a header must start within the file's first 4 KiB
COMPILED = (".pyc", ".pyo", ".pyd", ".so", ".dll", ".dylib", ".exe", ".class", ".jar", ".o", ".a",
            ".whl", ".egg")


def excluded(path: str, patterns: Iterable[str]) -> bool:
    """True when a pattern matches `path` (relative, `/`-separated): a glob against the whole path,
    a pattern without `/` against any file name, `/x` only at the top, and `dir/` or `dir/**`
    against everything under dir."""
    name = path.rsplit("/", 1)[-1]
    for given in (*DEFAULT_EXCLUDES, *patterns):
        anchored = given.startswith("/")
        pattern = given.lstrip("/")
        if anchored and "/" not in pattern:
            if fnmatch.fnmatchcase(path, pattern):
                return True
            continue
        folder = pattern[:-3] if pattern.endswith("/**") else pattern[:-1] if pattern.endswith("/") else ""
        if folder and (path == folder or path.startswith(folder + "/")):
            return True
        if fnmatch.fnmatchcase(path, pattern) or ("/" not in pattern and fnmatch.fnmatchcase(name, pattern)):
            return True
    return False


def is_binary(data: bytes) -> bool:
    """A NUL byte, or bytes that are not UTF-8, in the first 8 KiB."""
    head = data[:8192]
    if b"\0" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


def has_header(data: bytes) -> bool:
    head = data[:HEADER_WINDOW].decode("utf-8", "replace")
    return any(marker in head for marker in HEADER_MARKERS)


def check_source_file(path: str, data: bytes, excludes: Sequence[str]) -> str:
    """What is wrong with one file of a source release; "" when nothing is."""
    if path.lower().endswith(COMPILED):
        return "compiled code may not be in a source release"
    if excluded(path, excludes) or not data.strip():
        return ""
    if is_binary(data):
        return "a binary file (list it in license-excludes if it is not compiled code)"
    return "" if has_header(data) else "no license header"


def missing_notices(names: Collection[str]) -> list[str]:
    """LICENSE / NOTICE missing from the top folder; `names` are paths inside the top folder."""
    return [f"{required} is missing" for required in REQUIRED if required not in names]


def summarise(problems: Mapping[str, str], limit: int = 5) -> list[str]:
    """`problem: a, b, c (and 4 more)` lines, one per kind of problem."""
    by_problem: dict[str, list[str]] = {}
    for path, problem in sorted(problems.items()):
        by_problem.setdefault(problem, []).append(path)
    lines = []
    for problem, paths in by_problem.items():
        more = f" (and {len(paths) - limit} more)" if len(paths) > limit else ""
        lines.append(f"{problem}: {', '.join(paths[:limit])}{more}")
    return lines


def wheel_outside_sdist(wheel: Mapping[str, str], sdist: Mapping[str, str]) -> list[str]:
    """Files of the wheel (path -> sha256) that are no file of the sdist (path inside its top folder
    -> sha256) with the same bytes: the wheel must be built from the sdist's files only. The
    wheel's own metadata (`*.dist-info/`) and generated scripts (`*.data/scripts/`) are left out."""
    by_digest: dict[str, list[str]] = {}
    for path, digest in sdist.items():
        by_digest.setdefault(digest, []).append(path)
    outside = []
    for path, digest in sorted(wheel.items()):
        top = path.split("/", 1)[0]
        if top.endswith(".dist-info") or (top.endswith(".data") and "/scripts/" in f"/{path}"):
            continue
        if not any(p == path or p.endswith("/" + path) for p in by_digest.get(digest, [])):
            outside.append(path)
    return outside
