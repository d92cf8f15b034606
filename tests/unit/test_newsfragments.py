# SPDX-License-Identifier: Apache-2.0
"""towncrier news fragments rendered as the notes of the version being released, by towncrier's own
rules. The settings have the shapes of real projects' (Airflow's types and underlines, pip's issue
links and `news/` folder, Twisted's fragments inside the package); the texts are made up.
tests/integration/test_changelog_towncrier.py compares the result with towncrier's own output."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.errors import ConfigError, RefusedError
from release.newsfragments import (
    DEFAULT_TYPES,
    FragmentType,
    Towncrier,
    parse_name,
    render_fragments,
    towncrier_settings,
)

# The shape of Airflow's [tool.towncrier]: its own types in order, `-` and `^` underlines.
AIRFLOW_LIKE = {
    "name": "Airflow",
    "filename": "RELEASE_NOTES.rst",
    "underlines": ["-", "^"],
    "directory": "newsfragments",
    "type": [
        {"directory": "significant", "name": "Significant Changes", "showcontent": True},
        {"directory": "feature", "name": "Features", "showcontent": True},
        {"directory": "improvement", "name": "Improvements", "showcontent": True},
        {"directory": "bugfix", "name": "Bug Fixes", "showcontent": True},
        {"directory": "doc", "name": "Doc only changes", "showcontent": True},
        {"directory": "misc", "name": "Misc/Internal", "showcontent": True},
    ],
}

AIRFLOW_FRAGMENTS = {
    "newsfragments/41120.significant.rst": (
        "The default value of ``[core] parallelism`` changes to 64\n\n"
        "Deployments relying on the old default should set it explicitly.\n"
    ),
    "newsfragments/41345.feature.rst": "Add a ``--dry-run`` flag to the ``dags trigger`` command\n",
    "newsfragments/41022.bugfix.rst": "Fix the scheduler losing a heartbeat on restart\n",
    "newsfragments/41311.bugfix.rst": "Stop the web server from logging tokens\n",
    "newsfragments/41400.misc.rst": "Bump an internal dependency\n",
    "newsfragments/README.rst": "How to write a news fragment (not a fragment itself).\n",
    "newsfragments/config.toml": "not a fragment: skipped, as towncrier skips it\n",
}


def test_airflow_like_settings() -> None:
    settings = towncrier_settings(AIRFLOW_LIKE, project_name="apache-airflow-core", base="airflow-core")
    assert settings.filename == "airflow-core/RELEASE_NOTES.rst"
    assert settings.directory == "airflow-core/newsfragments"
    assert [t.key for t in settings.types] == ["significant", "feature", "improvement", "bugfix", "doc",
                                               "misc"]
    assert settings.underlines == ("-", "^")
    assert not settings.markdown


def test_airflow_like_fragments_render_in_the_types_order() -> None:
    settings = towncrier_settings(AIRFLOW_LIKE, project_name="apache-airflow")
    assert render_fragments(settings, AIRFLOW_FRAGMENTS, "3.1.0") == """Significant Changes
^^^^^^^^^^^^^^^^^^^

- The default value of ``[core] parallelism`` changes to 64

  Deployments relying on the old default should set it explicitly. (#41120)

Features
^^^^^^^^

- Add a ``--dry-run`` flag to the ``dags trigger`` command (#41345)

Bug Fixes
^^^^^^^^^

- Fix the scheduler losing a heartbeat on restart (#41022)
- Stop the web server from logging tokens (#41311)

Misc/Internal
^^^^^^^^^^^^^

- Bump an internal dependency (#41400)"""


# The shape of pip's: fragments in news/, issue links, `trivial` and `vendor` types of its own.
PIP_LIKE = {
    "package": "pip",
    "filename": "NEWS.rst",
    "directory": "news/",
    "issue_format": "`#{issue} <https://example.invalid/issues/{issue}>`_",
    "type": [
        {"name": "Process", "directory": "process", "showcontent": True},
        {"name": "Features", "directory": "feature", "showcontent": True},
        {"name": "Bug Fixes", "directory": "bugfix", "showcontent": True},
        {"name": "Vendored Libraries", "directory": "vendor", "showcontent": True},
        {"name": "Trivial Changes", "directory": "trivial", "showcontent": False},
    ],
}


def test_pip_like_issue_links_orphans_and_hidden_types() -> None:
    settings = towncrier_settings(PIP_LIKE)
    assert settings.directory == "news"
    fragments = {
        "news/12001.feature.rst": "Resolve faster.\n",
        "news/12003.feature.rst": "Resolve faster.\n",  # the same text: one entry, both issues
        "news/+4a1b.bugfix.rst": "A fix without an issue.\n",
        "news/11999.bugfix.rst": "An older fix.\n",
        "news/somelib.vendor.rst": "Upgrade somelib to 2.0\n",
        "news/12010.trivial.rst": "Hidden: only the issue is listed.\n",
        "news/+e9f0.trivial.rst": "",
    }
    assert render_fragments(settings, fragments, "26.0") == """Features
--------

- Resolve faster. (`#12001 <https://example.invalid/issues/12001>`_, `#12003 <https://example.invalid/issues/12003>`_)

Bug Fixes
---------

- An older fix. (`#11999 <https://example.invalid/issues/11999>`_)
- A fix without an issue.

Vendored Libraries
------------------

- Upgrade somelib to 2.0 (`#somelib <https://example.invalid/issues/somelib>`_)

Trivial Changes
---------------

- `#12010 <https://example.invalid/issues/12010>`_"""


def test_the_default_types_and_the_default_folder_inside_the_package() -> None:
    settings = towncrier_settings({"package": "twisted", "package_dir": "src", "filename": "NEWS.rst"})
    assert settings.types == DEFAULT_TYPES
    assert settings.directory == "src/twisted/newsfragments"
    fragments = {
        "src/twisted/newsfragments/9001.misc": "",
        "src/twisted/newsfragments/9002.misc": "",
        "src/twisted/newsfragments/8999.removal": "An old module is deprecated.",
        "src/twisted/newsfragments/9003.doc": "The howto explains more.",
        "src/twisted/newsfragments/9004.feature": "A new protocol.",
        "src/twisted/newsfragments/9005.bugfix": "A race is fixed.",
    }
    assert render_fragments(settings, fragments, "26.1.0") == """Features
--------

- A new protocol. (#9004)

Bugfixes
--------

- A race is fixed. (#9005)

Improved Documentation
----------------------

- The howto explains more. (#9003)

Deprecations and Removals
-------------------------

- An old module is deprecated. (#8999)

Misc
----

- #9001, #9002"""


def test_the_project_name_is_the_default_package() -> None:
    assert towncrier_settings({}, project_name="sample").directory == "sample/newsfragments"
    with pytest.raises(ConfigError, match=r"^\[tool.towncrier\]: neither directory nor package is set"):
        towncrier_settings({})


def test_fragment_tables_sorted_by_type_with_default_names() -> None:
    settings = towncrier_settings({"directory": "changes", "fragment": {
        "feature": {}, "bugfix": {"name": "Fixed"}, "chore": {"showcontent": False}}})
    assert settings.types == (FragmentType("bugfix", "Fixed"), FragmentType("chore", "Chore", False),
                              FragmentType("feature", "Feature"))


def test_sections_each_have_their_folder_and_title() -> None:
    settings = towncrier_settings({"directory": "changes", "section": [
        {"name": "", "path": ""}, {"name": "Providers", "path": "providers"}]})
    assert settings.folders == (("", "changes"), ("Providers", "changes/providers"))
    text = render_fragments(settings, {"changes/1.feature": "Core feature.",
                                       "changes/providers/2.bugfix": "Provider fix."}, "2.0.0")
    assert text == ("Features\n--------\n\n- Core feature. (#1)\n\n"
                    "Providers\n---------\n\nBugfixes\n~~~~~~~~\n\n- Provider fix. (#2)")
    only_core = render_fragments(settings, {"changes/1.feature": "Core feature."}, "2.0.0")
    assert only_core.endswith("Providers\n---------\n\nNo significant changes.")


def test_sections_without_a_directory_are_inside_the_package() -> None:
    settings = towncrier_settings({"package": "app", "section": [{"name": "Web", "path": "web"}]})
    assert settings.folders == (("Web", "app/web/newsfragments"),)


def test_markdown_news_files_get_markdown_headings() -> None:
    settings = towncrier_settings({"directory": "changelog.d", "filename": "CHANGELOG.md"})
    assert settings.markdown
    text = render_fragments(settings, {"changelog.d/7.feature.md": "Markdown *notes*.",
                                       "changelog.d/8.bugfix.md": "A fix."}, "1.0.0")
    assert text == "## Features\n\n- Markdown *notes*. (#7)\n\n## Bugfixes\n\n- A fix. (#8)"


def test_counters_issue_names_and_leading_zeros() -> None:
    settings = Towncrier(base="news")
    fragments = {"news/0042.bugfix.rst": "First.", "news/42.bugfix.1.rst": "Second.",
                 "news/gh-7.feature": "Named.", "news/fix-1.2.3.feature.md": "Dotted name."}
    text = render_fragments(settings, fragments, "1.0")
    assert "- First. (#42)\n- Second. (#42)" in text
    assert "- Dotted name. (fix-1.2.3)\n- Named. (gh-7)" in text


@pytest.mark.parametrize(("name", "parsed"), [
    ("123.feature.rst", ("123", "feature", 0)),
    ("123.feature", ("123", "feature", 0)),
    ("123.feature.2.rst", ("123", "feature", 2)),
    ("007.bugfix.md", ("7", "bugfix", 0)),
    ("+orphan.misc.rst", ("+orphan", "misc", 0)),
    ("my.feature.feature.rst", ("my.feature", "feature", 0)),
    ("123.unknown.rst", None),
    ("feature", None),
    ("README", None),
])
def test_fragment_names_are_read_as_towncrier_reads_them(name: str,
                                                         parsed: tuple[str, str, int] | None) -> None:
    assert parse_name(name, [t.key for t in DEFAULT_TYPES]) == parsed


def test_unknown_files_are_skipped_unless_an_ignore_list_is_configured() -> None:
    fragments = {"news/1.feature": "Kept.", "news/notes.txt": "Not a fragment."}
    assert render_fragments(Towncrier(base="news"), fragments, "1.0") == "Features\n--------\n\n- Kept. (#1)"
    strict = Towncrier(base="news", ignore=("template.jinja",))
    with pytest.raises(RefusedError) as caught:
        render_fragments(strict, fragments, "1.0")
    assert str(caught.value) == ("news/notes.txt: not a news fragment of 1.0 (name it <issue>.<type>.rst "
                                 "with a type among feature, bugfix, doc, removal, misc, or list it in "
                                 "[tool.towncrier] ignore)")
    assert render_fragments(Towncrier(base="news", ignore=("notes.*",)), fragments, "1.0").endswith("(#1)")


def test_two_fragments_for_one_issue_and_type_are_refused() -> None:
    with pytest.raises(RefusedError, match=r"^news/1.feature.rst: a second fragment for 1.feature in news/"):
        render_fragments(Towncrier(base="news"), {"news/1.feature": "a", "news/1.feature.rst": "b"}, "1.0")


def test_an_issue_outside_the_pattern_is_refused() -> None:
    settings = Towncrier(base="news", issue_pattern=r"\d+")
    assert render_fragments(settings, {"news/+x.feature": "Orphans need no issue."}, "1.0").endswith("issue.")
    with pytest.raises(RefusedError, match=r"^news/gh-1.feature: the issue 'gh-1' does not match"):
        render_fragments(settings, {"news/gh-1.feature": "x"}, "1.0")


def test_fragments_elsewhere_are_not_this_folders() -> None:
    settings = Towncrier(base="news")
    assert render_fragments(settings, {"news/old/1.feature": "Not directly in news/.",
                                       "other/2.feature": "Elsewhere."}, "1.0") == ""


def test_without_all_bullets_the_text_is_kept_as_written_and_bullets_go_first() -> None:
    settings = Towncrier(base="news", all_bullets=False)
    text = render_fragments(settings, {"news/1.feature": "Plain text.\n", "news/2.feature": "- A bullet.\n"},
                            "1.0")
    assert text == "Features\n--------\n\n- - A bullet. (#2)\n- Plain text. (#1)"


@pytest.mark.parametrize(("table", "key"), [
    ({"directory": 3}, "directory"),
    ({"directory": "n", "type": {"name": "x"}}, "type"),
    ({"directory": "n", "type": [{"directory": "x"}]}, "type: name"),
    ({"directory": "n", "fragment": ["feature"]}, "fragment"),
    ({"directory": "n", "section": [{"name": "x"}]}, "section: path"),
    ({"directory": "n", "underlines": "=-"}, "underlines"),
    ({"directory": "n", "filename": ""}, "filename"),
])
def test_a_malformed_towncrier_table_is_one_line_naming_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        towncrier_settings(table)
    assert str(caught.value).startswith(f"[tool.towncrier] {key}:")


_ISSUE = st.integers(1, 99999).map(str)
_TEXT = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters=" ."),
                min_size=1, max_size=30).map(str.strip).filter(bool)


@given(st.dictionaries(_ISSUE, st.tuples(st.sampled_from(["feature", "bugfix", "doc", "removal"]), _TEXT),
                       min_size=1, max_size=12))
def test_every_fragment_appears_once_under_its_type(fragments: dict[str, tuple[str, str]]) -> None:
    files = {f"news/{issue}.{kind}.rst": text for issue, (kind, text) in fragments.items()}
    rendered = render_fragments(Towncrier(base="news"), files, "1.0")
    headings = {t.key: t.name for t in DEFAULT_TYPES}
    blocks = {block.split("\n", 1)[0]: block for block in rendered.split("\n\n") if "\n" in block}
    for issue, (kind, text) in fragments.items():
        assert headings[kind] in blocks
        mark = f"#{issue}"
        assert sum(line.count(f"{mark},") + line.endswith(f"{mark})") for line in rendered.splitlines()) == 1
        assert text in rendered
