# SPDX-License-Identifier: Apache-2.0
"""Release notes come from the version's own section of whichever changelog the project keeps:
Markdown, reStructuredText, towncrier news fragments, or none. The files below have the shapes of
real projects' changelogs (Keep a Changelog, pip's NEWS.rst, Flask's CHANGES.rst, ...), not their text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.changelog import (
    AUTO,
    MARKDOWN,
    NONE,
    RST,
    TOWNCRIER,
    Changelog,
    find_section,
    format_of,
    locate,
    release_notes,
    versions_in,
)
from release.errors import ConfigError, RefusedError
from release.newsfragments import Towncrier

# --------------------------------------------------------------------------- Markdown

KEEP_A_CHANGELOG = """# Changelog

All notable changes to this project are documented here.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).

## [Unreleased]

### Added
- Something nobody released yet.

## [1.10.60] - 2027-01-01

### Fixed
- Not the version you are looking for.

## [1.10.6] - 2026-11-20

### Fixed
- The scheduler no longer loses a heartbeat on restart.

### Security
- Tokens are compared in constant time.

## [1.10.5] - 2026-10-01

### Added
- First packaged release.

[Unreleased]: https://example.invalid/compare/1.10.6...HEAD
[1.10.6]: https://example.invalid/compare/1.10.5...1.10.6
"""


def test_finds_exactly_the_versions_section() -> None:
    section = find_section(KEEP_A_CHANGELOG, "1.10.6")
    assert section is not None
    assert section.date == "2026-11-20"
    assert section.body == (
        "### Fixed\n- The scheduler no longer loses a heartbeat on restart.\n\n"
        "### Security\n- Tokens are compared in constant time."
    )


def test_a_prefix_is_not_a_match() -> None:
    section = find_section(KEEP_A_CHANGELOG, "1.10.60")
    assert section is not None and "Not the version" in section.body
    assert find_section(KEEP_A_CHANGELOG, "1.10") is None
    assert find_section(KEEP_A_CHANGELOG, "1.10.7") is None
    assert find_section(KEEP_A_CHANGELOG, "0.6") is None


def test_link_definitions_at_the_end_are_not_notes() -> None:
    section = find_section(KEEP_A_CHANGELOG, "1.10.5")
    assert section is not None
    assert section.body == "### Added\n- First packaged release."


def test_versions_in_file_order() -> None:
    assert versions_in(KEEP_A_CHANGELOG) == ["Unreleased", "1.10.60", "1.10.6", "1.10.5"]


@pytest.mark.parametrize("heading", [
    "## [1.10.6] - 2026-11-20",
    "## [1.10.6] – 2026-11-20",  # noqa: RUF001 - an en dash, as some editors write it
    "## 1.10.6 (2026-11-20)",
    "## v1.10.6 - 2026-11-20",
    "## [1.10.6](https://example.invalid/1.10.6) - 2026-11-20",
    "## Version 1.10.6 (2026-11-20)",
    "## sample-app 1.10.6 - 2026-11-20",
    "## 1.10.6 ##  2026-11-20",
])
def test_heading_styles(heading: str) -> None:
    section = find_section(f"# Changelog\n\n{heading}\n\n- A fix.\n\n## 1.10.5\n\n- Old.\n", "1.10.6")
    assert section is not None
    assert (section.date, section.body) == ("2026-11-20", "- A fix.")


def test_a_heading_without_a_date() -> None:
    section = find_section("## 1.10.6\n- A fix.\n## 1.10.5\n- Older.\n", "1.10.6")
    assert section is not None and (section.date, section.body) == ("", "- A fix.")


LEVEL_ONE = """# 3.0.0 (2026-05-01)

## Breaking changes

- The old API is gone.

## Features

- A new API.

# 2.9.1 (2026-04-01)

## Fixes

- A fix.
"""


def test_versions_as_top_level_headings_with_subsections() -> None:
    section = find_section(LEVEL_ONE, "3.0.0")
    assert section is not None
    assert section.body == "## Breaking changes\n\n- The old API is gone.\n\n## Features\n\n- A new API."
    assert versions_in(LEVEL_ONE) == ["3.0.0", "2.9.1"]


LEVEL_THREE = """# sample

Some introduction.

## Release history

### v0.4.0

* Faster.

### v0.3.2

* Fixed.
"""


def test_versions_as_third_level_headings_under_a_history_heading() -> None:
    section = find_section(LEVEL_THREE, "0.4.0")
    assert section is not None and section.body == "* Faster."
    assert find_section(LEVEL_THREE, "0.3.2") == find_section(LEVEL_THREE, "v0.3.2".lstrip("v"))


SETEXT = """Changes
=======

1.2.0 (2026-02-02)
------------------

- Setext headings, as Markdown allows.

1.1.0 (2026-01-01)
------------------

- Earlier.
"""


def test_setext_headings() -> None:
    section = find_section(SETEXT, "1.2.0")
    assert section is not None and (section.date, section.body) == ("2026-02-02", "- Setext headings, as "
                                                                                  "Markdown allows.")


FENCED = """# Changelog

## 2.0.0

Upgrade with:

```sh
# not a heading: a shell comment
pip install -U sample==2.0.0
```

## 1.0.0

- First.
"""


def test_a_hash_line_in_a_code_block_is_no_heading() -> None:
    section = find_section(FENCED, "2.0.0")
    assert section is not None
    assert section.body.endswith("pip install -U sample==2.0.0\n```")
    assert versions_in(FENCED) == ["2.0.0", "1.0.0"]


def test_a_subsection_naming_an_older_version_is_not_that_versions_section() -> None:
    text = ("# Changes\n\n## 2.0.0\n\n### Upgrading from 1.9.0\n\n- Read this.\n\n"
            "## 1.9.0\n\n- The real 1.9.0 notes.\n")
    section = find_section(text, "1.9.0")
    assert section is not None and section.body == "- The real 1.9.0 notes."
    two = find_section(text, "2.0.0")
    assert two is not None and "Upgrading from 1.9.0" in two.body


def test_pre_release_versions_are_their_own_sections() -> None:
    text = "## 2.0.0rc1\n\n- Candidate.\n\n## 2.0.0\n\n- Final.\n"
    final = find_section(text, "2.0.0")
    assert final is not None and final.body == "- Final."
    candidate = find_section(text, "2.0.0rc1")
    assert candidate is not None and candidate.body == "- Candidate."


# --------------------------------------------------------------------------- reStructuredText

PIP_LIKE_NEWS = """.. note

    Entries are written by towncrier from the news/ folder: do not edit this file by hand.

.. towncrier release notes start

25.1.1 (2026-05-10)
===================

Bug Fixes
---------

- Do not crash when a requirements file includes itself twice. (`#13001 <https://example.invalid/13001>`_)
- Accept an empty ``--constraint`` value again. (`#13010 <https://example.invalid/13010>`_)

25.1 (2026-04-26)
=================

Deprecations and Removals
-------------------------

- Drop support for an old option. (`#12900 <https://example.invalid/12900>`_)

Features
--------

- Resolve faster on large graphs. (`#12905 <https://example.invalid/12905>`_)

Vendored Libraries
------------------

- Upgrade a vendored library to 3.0.1

25.0.1 (2026-02-01)
===================

No significant changes.
"""


def test_pip_like_news_file() -> None:
    assert format_of("NEWS.rst", PIP_LIKE_NEWS) == RST
    assert versions_in(PIP_LIKE_NEWS, RST) == ["25.1.1", "25.1", "25.0.1"]
    section = find_section(PIP_LIKE_NEWS, "25.1", RST)
    assert section is not None and section.date == "2026-04-26"
    assert section.body.startswith("Deprecations and Removals\n-------------------------\n\n- Drop support")
    assert section.body.endswith("- Upgrade a vendored library to 3.0.1")
    assert "25.0.1" not in section.body and "Do not crash" not in section.body
    last = find_section(PIP_LIKE_NEWS, "25.0.1", RST)
    assert last is not None and last.body == "No significant changes."


FLASK_LIKE_CHANGES = """Version 3.2.0
-------------

Unreleased

-   Something in progress. :issue:`5600`


Version 3.1.1
-------------

Released 2026-05-13

-   Fix signing key selection order when key rotation is enabled. :ghsa:`4grg`
-   Fix type hint for ``cli_runner.invoke``. :issue:`5645`
    It now accepts the same arguments as the original.


Version 3.1.0
-------------

Released 2026-11-13

-   Drop support for an old Python. :pr:`5586`
"""


def test_flask_like_changes_file() -> None:
    assert versions_in(FLASK_LIKE_CHANGES, RST) == ["3.2.0", "3.1.1", "3.1.0"]
    section = find_section(FLASK_LIKE_CHANGES, "3.1.1", RST)
    assert section is not None and section.date == ""
    assert section.body == (
        "Released 2026-05-13\n\n"
        "-   Fix signing key selection order when key rotation is enabled. :ghsa:`4grg`\n"
        "-   Fix type hint for ``cli_runner.invoke``. :issue:`5645`\n"
        "    It now accepts the same arguments as the original."
    )


OVERLINED = """=========
Changelog
=========

This project uses calendar versions.

2026.3.1 - 2026-03-09
---------------------

Fixed
~~~~~

* A crash.

2026.3.0 - 2026-03-01
---------------------

Added
~~~~~

* Everything.
"""


def test_a_document_title_with_an_overline_and_subsections() -> None:
    assert versions_in(OVERLINED, RST) == ["2026.3.1", "2026.3.0"]
    section = find_section(OVERLINED, "2026.3.1", RST)
    assert section is not None
    assert (section.date, section.body) == ("2026-03-09", "Fixed\n~~~~~\n\n* A crash.")


OVERLINED_VERSIONS = """#######
History
#######

*****
0.9.0
*****

- Overlined versions.

*****
0.8.0
*****

- Older.
"""


def test_overlined_version_titles() -> None:
    section = find_section(OVERLINED_VERSIONS, "0.9.0", RST)
    assert section is not None and section.body == "- Overlined versions."
    assert versions_in(OVERLINED_VERSIONS, RST) == ["0.9.0", "0.8.0"]


def test_rst_tables_and_transitions_are_not_titles() -> None:
    text = """1.1.0
=====

=====  ==========
name   meaning
=====  ==========
a      first
=====  ==========

----------

More of 1.1.0.

1.0.0
=====

- Old.
"""
    section = find_section(text, "1.1.0", RST)
    assert section is not None and section.body.endswith("More of 1.1.0.")
    assert versions_in(text, RST) == ["1.1.0", "1.0.0"]


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("CHANGES", FLASK_LIKE_CHANGES, RST),
    ("NEWS", PIP_LIKE_NEWS, RST),
    ("HISTORY.txt", OVERLINED, RST),
    ("CHANGELOG", KEEP_A_CHANGELOG, MARKDOWN),
    ("CHANGES.txt", LEVEL_ONE, MARKDOWN),
    ("CHANGES.md", FLASK_LIKE_CHANGES, MARKDOWN),  # the name decides first
    ("NEWS.rst", KEEP_A_CHANGELOG, RST),
    ("CHANGES", "nothing here\n", MARKDOWN),
])
def test_the_format_comes_from_the_name_then_the_contents(name: str, text: str, expected: str) -> None:
    assert format_of(name, text) == expected


# --------------------------------------------------------------------------- release_notes: every format


def test_release_notes_of_each_file_format() -> None:
    assert release_notes(Changelog(MARKDOWN, "CHANGELOG.md"), "1.10.6", text=KEEP_A_CHANGELOG).startswith(
        "### Fixed")
    assert release_notes(Changelog(RST, "NEWS.rst"), "25.1.1", text=PIP_LIKE_NEWS).startswith("Bug Fixes")
    assert release_notes(Changelog(AUTO, "CHANGES"), "3.1.0", text=FLASK_LIKE_CHANGES).endswith(":pr:`5586`")


def test_a_missing_section_is_one_line_naming_the_file_the_version_and_what_is_there() -> None:
    with pytest.raises(RefusedError) as caught:
        release_notes(Changelog(MARKDOWN, "CHANGES.md"), "1.10.7", text=KEEP_A_CHANGELOG)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("CHANGES.md has no section for 1.10.7 (sections: Unreleased, 1.10.60, 1.10.6, "
                              "1.10.5)")
    assert "## [1.10.7] - YYYY-MM-DD" in message


def test_a_long_history_is_not_listed_whole() -> None:
    text = "# Changes\n\n" + "".join(f"## 1.{minor}.0\n\n- Change.\n\n" for minor in range(40, 0, -1))
    with pytest.raises(RefusedError) as caught:
        release_notes(Changelog(MARKDOWN, "CHANGELOG.md"), "2.0.0", text=text)
    assert "(sections: 1.40.0, 1.39.0, 1.38.0, 1.37.0, 1.36.0, 1.35.0 and 34 more)" in str(caught.value)


def test_a_missing_rst_section_suggests_an_rst_title() -> None:
    with pytest.raises(RefusedError, match=r"^NEWS.rst has no section for 26.0 \(sections: 25.1.1, 25.1, "
                                           r"25.0.1\); add `26.0 \(YYYY-MM-DD\) underlined`"):
        release_notes(Changelog(RST, "NEWS.rst"), "26.0", text=PIP_LIKE_NEWS)


@pytest.mark.parametrize(("fmt", "text"), [
    (MARKDOWN, "# Changelog\n\n## 2.0.0\n\n## 1.0.0\n\n- First.\n"),
    (RST, "2.0.0\n=====\n\n1.0.0\n=====\n\n- First.\n"),
    (MARKDOWN, "## [2.0.0] - 2026-01-01\n\n[2.0.0]: https://example.invalid/2.0.0\n"),
])
def test_an_empty_section_is_refused(fmt: str, text: str) -> None:
    with pytest.raises(RefusedError, match=r"^CHANGES: the section for 2.0.0 is empty; write its release"):
        release_notes(Changelog(fmt, "CHANGES"), "2.0.0", text=text)


@pytest.mark.parametrize(("fmt", "kind"), [(MARKDOWN, "Markdown headings"), (RST, "reStructuredText titles"),
                                           (AUTO, "Markdown headings")])
def test_a_file_with_no_titled_versions_cannot_be_read(fmt: str, kind: str) -> None:
    text = "Changes\n\nWe fixed many things over the years; see the website.\n"
    with pytest.raises(RefusedError) as caught:
        release_notes(Changelog(fmt, "CHANGES"), "1.0.0", text=text)
    assert str(caught.value) == (f"CHANGES: no section for 1.0.0: found no {kind} naming a version; give "
                                 "each release its own titled section (or set [tool.release] "
                                 "changelog-format)")


def test_a_changelog_file_missing_from_the_commit() -> None:
    with pytest.raises(RefusedError, match=r"^CHANGES.rst is not in the commit"):
        release_notes(Changelog(RST, "CHANGES.rst"), "1.0.0", text=None)


def test_no_changelog_means_no_notes() -> None:
    assert release_notes(Changelog(NONE), "1.0.0") == ""
    assert release_notes(Changelog(NONE), "1.0.0", text="## 1.0.0\n- ignored\n") == ""


# --------------------------------------------------------------------------- which changelog


def test_the_common_names_are_looked_for_in_order() -> None:
    assert locate({"README.md", "NEWS.md", "CHANGES.rst"}, configured=None) == Changelog(AUTO, "CHANGES.rst")
    assert locate({"CHANGELOG.md", "CHANGES.rst"}, configured=None) == Changelog(AUTO, "CHANGELOG.md")
    assert locate({"setup.py", "CHANGES.rst"}, configured=None) == Changelog(AUTO, "CHANGES.rst")
    assert locate({"HISTORY.rst"}, configured=None) == Changelog(AUTO, "HISTORY.rst")
    assert locate({"CHANGES"}, configured=None) == Changelog(AUTO, "CHANGES")


def test_names_are_found_whatever_their_case_and_in_docs() -> None:
    assert locate({"changelog.md"}, configured=None) == Changelog(AUTO, "changelog.md")
    assert locate({"docs/changelog.rst", "docs/index.rst"}, configured=None) == Changelog(AUTO,
                                                                                        "docs/changelog.rst")
    assert locate({"News.rst"}, configured=None, fmt=RST) == Changelog(RST, "News.rst")


def test_a_project_without_any_changelog_keeps_none() -> None:
    assert locate({"README.md", "setup.py", "src/app/__init__.py"}, configured=None) == Changelog(NONE)


def test_an_empty_changelog_key_or_the_none_format_means_none() -> None:
    assert locate({"CHANGELOG.md"}, configured="") == Changelog(NONE)
    assert locate({"CHANGELOG.md"}, configured=None, fmt=NONE) == Changelog(NONE)
    assert locate({"CHANGELOG.md"}, configured="CHANGELOG.md", fmt=NONE) == Changelog(NONE)


def test_a_configured_changelog_must_be_in_the_commit() -> None:
    assert locate({"docs/release-notes.md"}, configured="docs/release-notes.md") == Changelog(
        AUTO, "docs/release-notes.md")
    with pytest.raises(ConfigError, match=r"^\[tool.release\] changelog: CHANGELOG.md is not in the commit"):
        locate({"CHANGES.rst"}, configured="CHANGELOG.md")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ConfigError, match="changelog-format: 'md' is not one of"):
        locate(set(), configured=None, fmt="md")


def test_a_towncrier_project_gets_its_fragments_and_news_file() -> None:
    settings = Towncrier(base="news", filename="NEWS.rst")
    found = locate({"NEWS.rst", "CHANGELOG.md"}, configured=None, towncrier=settings)
    assert found == Changelog(TOWNCRIER, "NEWS.rst", settings)
    assert found.describe() == "towncrier: news/ news fragments, else NEWS.rst"
    # naming its news file or its fragments folder is the same
    assert locate(set(), configured="NEWS.rst", towncrier=settings) == found
    assert locate(set(), configured="news", towncrier=settings) == found


def test_another_changelog_named_beside_a_towncrier_config_is_that_file() -> None:
    settings = Towncrier(base="news")
    found = locate({"CHANGES.md"}, configured="CHANGES.md", towncrier=settings)
    assert found == Changelog(AUTO, "CHANGES.md")


def test_the_towncrier_format_without_a_config_uses_towncriers_defaults() -> None:
    found = locate(set(), configured=None, fmt=TOWNCRIER)
    assert found == Changelog(TOWNCRIER, "NEWS.rst", Towncrier())
    assert found.towncrier is not None and found.towncrier.directory == "newsfragments"
    elsewhere = locate(set(), configured="changes", fmt=TOWNCRIER)
    assert elsewhere.towncrier is not None and elsewhere.towncrier.directory == "changes"


def test_a_towncrier_release_uses_the_news_file_once_built_else_the_fragments() -> None:
    changelog = locate(set(), configured=None, towncrier=Towncrier(base="news"))
    built = "26.0 (2026-06-01)\n=================\n\nFeatures\n--------\n\n- Built already. (#1)\n"
    fragments = {"news/2.feature.rst": "Not built yet.\n"}
    assert release_notes(changelog, "26.0", text=built, fragments=fragments) == (
        "Features\n--------\n\n- Built already. (#1)")
    assert release_notes(changelog, "26.1", text=built, fragments=fragments) == (
        "Features\n--------\n\n- Not built yet. (#2)")
    assert release_notes(changelog, "26.1", text=None, fragments=fragments) == (
        "Features\n--------\n\n- Not built yet. (#2)")


def test_a_towncrier_release_with_neither_is_one_line() -> None:
    changelog = locate(set(), configured=None, towncrier=Towncrier(base="news"))
    with pytest.raises(RefusedError) as caught:
        release_notes(changelog, "26.1", text="26.0\n====\n\n- Old.\n", fragments={"news/.gitignore": ""})
    assert str(caught.value) == (
        "NEWS.rst has no section for 26.1 and news/ holds no news fragments; add fragments like "
        "news/123.feature.rst (types: feature, bugfix, doc, removal, misc) or run towncrier build --version "
        "26.1, and commit")


# --------------------------------------------------------------------------- properties

_VERSION = st.tuples(*[st.integers(0, 30)] * 3).map(lambda parts: ".".join(map(str, parts)))
_LINE = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters=" .,"),
                min_size=1, max_size=40).map(str.strip).filter(bool)


@given(st.lists(_VERSION, min_size=1, max_size=8, unique=True), st.data())
def test_every_markdown_section_is_found_with_its_own_body(versions: list[str], data: st.DataObject) -> None:
    text = "# Changelog\n\n" + "".join(f"## [{v}] - 2026-01-01\n\n- Change in {v}.\n\n" for v in versions)
    wanted = data.draw(st.sampled_from(versions))
    section = find_section(text, wanted)
    assert section is not None
    assert section.body == f"- Change in {wanted}."


@given(st.lists(_VERSION, min_size=1, max_size=8, unique=True), st.sampled_from("=-~^*#"), st.data())
def test_every_rst_section_is_found_with_its_own_body(versions: list[str], mark: str,
                                                      data: st.DataObject) -> None:
    lines = []
    for version in versions:
        title = f"{version} (2026-01-01)"
        lines += [title, mark * len(title), "", f"- Change in {version}.", ""]
    text = "\n".join(lines)
    assert versions_in(text, RST) == versions
    wanted = data.draw(st.sampled_from(versions))
    section = find_section(text, wanted, RST)
    assert section is not None and section.body == f"- Change in {wanted}."


@given(_VERSION, st.lists(_LINE, min_size=1, max_size=5))
def test_a_longer_version_never_answers_for_a_shorter_one(version: str, body: list[str]) -> None:
    text = f"## {version}0\n\n" + "\n".join(f"- {line}" for line in body) + f"\n\n## 1{version}\n\n- x\n"
    assert find_section(text, version) is None
    assert find_section(text.replace("## ", "").replace("\n\n-", "\n=====\n\n-", 1), version, RST) is None
