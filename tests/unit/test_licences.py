# SPDX-License-Identifier: Apache-2.0
"""A PMC member's checks of a source release: notices, headers, binaries, wheels from sdists. Pure."""

from __future__ import annotations

import pytest

from release.licences import (
    check_source_file,
    excluded,
    has_header,
    is_binary,
    missing_notices,
    summarise,
    wheel_outside_sdist,
)

HEADER = b"# SPDX-License-Identifier: Apache-2.0\n"
ASF = b"""#
# Licensed to the Apache Software Foundation (ASF) under one
# or more contributor license agreements.
"""


@pytest.mark.parametrize(("path", "patterns", "expected"), [
    ("README.md", ["*.md"], True),
    ("docs/guide.md", ["*.md"], True),  # no `/` in the pattern: any file name
    ("docs/guide.md", ["docs/*.md"], True),
    ("src/guide.md", ["docs/*.md"], False),
    ("docs/img/logo.png", ["docs/"], True),
    ("docs/img/logo.png", ["docs/**"], True),
    ("docs", ["docs/**"], True),
    ("documents/a.txt", ["docs/"], False),
    ("Dockerfile", ["Dockerfile"], True),
    ("sub/Dockerfile", ["Dockerfile"], True),
    ("sub/Dockerfile", ["/Dockerfile"], False),  # a leading `/`: only at the top
    ("Dockerfile", ["/Dockerfile"], True),
    ("docs/a.svg", ["/docs/*.svg"], True),
    ("LICENSE", [], True),
    ("sdk/NOTICE", [], True),
    ("LICENSE.txt", [], True),
    (".gitignore", [], True),
    ("setup.py", [], False),
    ("setup.py", ["*.PY"], False),  # case matters, as in RAT
])
def test_excluded(path: str, patterns: list[str], expected: bool) -> None:
    assert excluded(path, patterns) is expected


@pytest.mark.parametrize(("data", "expected"), [
    (b"plain text\n", False),
    ("un été à Paris\n".encode(), False),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", True),
    (b"caf\xe9\n", True),  # latin-1, not UTF-8
    ("é".encode() * 5000, False),  # a character cut at 8 KiB is still UTF-8
    (b"", False),
])
def test_is_binary(data: bytes, expected: bool) -> None:
    assert is_binary(data) is expected


@pytest.mark.parametrize(("data", "expected"), [
    (HEADER + b"print(1)\n", True),
    (ASF + b"import os\n", True),
    (b"#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n" + HEADER, True),
    (b"<!-- Licensed under the Apache License, Version 2.0 -->\n# Title\n", True),
    (b"print(1)\n", False),
    (b"x = 1\n" * 1000 + HEADER, False),  # past the first 4 KiB
])
def test_has_header(data: bytes, expected: bool) -> None:
    assert has_header(data) is expected


@pytest.mark.parametrize(("path", "data", "excludes", "problem"), [
    ("a.py", HEADER + b"x = 1\n", [], ""),
    ("a.py", b"x = 1\n", [], "no license header"),
    ("a.py", b"x = 1\n", ["*.py"], ""),
    ("pkg/__init__.py", b"", [], ""),  # empty files need no header
    ("pkg/py.typed", b"\n", [], ""),
    ("logo.png", b"\x89PNG\0", [], "a binary file (list it in license-excludes if it is not compiled code)"),
    ("logo.png", b"\x89PNG\0", ["*.png"], ""),
    ("pkg/mod.pyc", b"\0\0", ["*.pyc"], "compiled code may not be in a source release"),
    ("lib/x.so", b"\x7fELF", [], "compiled code may not be in a source release"),
    ("LICENSE", b"Apache License\n", [], ""),
])
def test_check_source_file(path: str, data: bytes, excludes: list[str], problem: str) -> None:
    assert check_source_file(path, data, excludes) == problem


def test_missing_notices() -> None:
    assert missing_notices(["LICENSE", "NOTICE", "a.py"]) == []
    assert missing_notices(["a.py", "sub/LICENSE"]) == ["LICENSE is missing", "NOTICE is missing"]
    assert missing_notices(["LICENSE"]) == ["NOTICE is missing"]


def test_summarise_groups_by_problem_and_shortens() -> None:
    problems = {f"m{i}.py": "no license header" for i in range(7)} | {"logo.png": "a binary file"}
    assert summarise(problems) == [
        "a binary file: logo.png",
        "no license header: m0.py, m1.py, m2.py, m3.py, m4.py (and 2 more)",
    ]
    assert summarise({}) == []


def test_a_wheel_built_from_its_sdist() -> None:
    sdist = {"PKG-INFO": "0", "setup.py": "1", "pkg/__init__.py": "2", "pkg/data.json": "3"}
    wheel = {"pkg/__init__.py": "2", "pkg/data.json": "3", "pkg-1.0.dist-info/METADATA": "9",
             "pkg-1.0.dist-info/RECORD": "8", "pkg-1.0.data/scripts/tool": "7"}
    assert wheel_outside_sdist(wheel, sdist) == []


def test_a_src_layout_wheel_matches_by_the_end_of_the_path() -> None:
    assert wheel_outside_sdist({"pkg/a.py": "1"}, {"src/pkg/a.py": "1"}) == []
    assert wheel_outside_sdist({"pkg/a.py": "1"}, {"src/otherpkg/a.py": "1"}) == ["pkg/a.py"]


def test_wheel_files_not_in_the_sdist_or_with_other_bytes() -> None:
    sdist = {"pkg/__init__.py": "2"}
    wheel = {"pkg/__init__.py": "changed", "pkg/extra.py": "5", "pkg/_build.so": "6"}
    assert wheel_outside_sdist(wheel, sdist) == ["pkg/__init__.py", "pkg/_build.so", "pkg/extra.py"]
