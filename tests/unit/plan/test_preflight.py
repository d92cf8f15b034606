# SPDX-License-Identifier: Apache-2.0
"""The preflight's decision, one problem at a time: from facts to the one line a dry run prints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from release.config import ReleaseConfig, parse_config
from release.plan.preflight import (
    Check,
    Facts,
    Options,
    Problem,
    one_commit,
    preflight,
    read_from_tree,
    serves,
)
from release.versions import parse_version

HEAD, OLD = "a" * 40, "b" * 40
HEADER = b"# SPDX-License-Identifier: Apache-2.0\nprint(1)\n"
CLEAN = Facts(head=HEAD, declared=("1.2.0", "app.py"), files=frozenset({"LICENSE", "NOTICE", "app.py"}),
              heads={"LICENSE": b"Apache License", "NOTICE": b"Apache app", "app.py": HEADER},
              requires_python=">=3.9", signing_key="F" * 40, keys=frozenset({"F" * 40}),
              sandbox_pythons=("3.9", "3.11", "3.13", "3.14"))


def config(**table: Any) -> ReleaseConfig:
    """Finals ship in one command here (`vote = "none"`, the PMC's checks kept) unless `vote` is given."""
    values = {"name": "app", "python": ["3.11", "3.13"], "base-image": "{registry}/sandbox/python:{python}",
              "vote": "none", "source-checks": True, **table}
    return parse_config(Path("/src"), values)


def problems(facts: Facts, version: str = "1.2.0", conf: ReleaseConfig | None = None,
             options: Options | None = None) -> tuple[Problem, ...]:
    return preflight(conf or config(), parse_version(version), facts, options or Options())


def only(found: tuple[Problem, ...], check: Check) -> Problem:
    assert [p.check for p in found] == [check], [p.line for p in found]
    assert "\n" not in found[0].line and found[0].fix
    return found[0]


def test_clean_facts_are_no_problem() -> None:
    assert problems(CLEAN) == ()
    assert problems(CLEAN, "1.2.0rc1", config(vote="asf")) == ()


def test_a_final_of_a_voting_project_is_refused_unless_it_was_promoted() -> None:
    found = only(problems(CLEAN, "1.2.0", config(vote="asf")), Check.VOTE)
    assert found.what == '1.2.0 is a final and this project\'s releases are voted on (vote = "asf")'
    assert "invoke promote --version 1.2.0 --from-rc" in found.fix
    assert problems(replace(CLEAN, promoted=True), "1.2.0", config(vote="asf")) == ()
    assert problems(CLEAN, "1.2.0", config(vote="none")) == ()


def test_a_dirty_tree_names_the_files_and_says_commit() -> None:
    found = only(problems(replace(CLEAN, changed=("app.py", "README.md"))), Check.DIRTY)
    assert "app.py, README.md" in found.what and "commit or stash" in found.fix
    assert problems(replace(CLEAN, changed=("app.py",)), options=Options(allow_dirty=True)) == ()


@pytest.mark.parametrize("published", [False, True])
def test_head_moved_since_the_build_says_which_commit_and_what_to_do(published: bool) -> None:
    facts = replace(CLEAN, recorded=OLD, published=published)
    found = only(problems(facts), Check.MOVED)
    assert OLD[:12] in found.what and HEAD[:12] in found.what
    assert f"git checkout {OLD[:12]}" in found.fix
    assert ("--restart" in found.fix) is not published


def test_a_declared_version_that_is_not_the_release() -> None:
    found = only(problems(replace(CLEAN, declared=("1.1.0", "app/__init__.py"))), Check.VERSION)
    assert "1.1.0 in app/__init__.py, not 1.2.0" in found.what and "set it to 1.2.0" in found.fix
    assert problems(replace(CLEAN, declared=("1.2.0", "app/__init__.py")), "1.2.0rc1") == ()
    from_tags = only(problems(replace(CLEAN, declared=None)), Check.VERSION)
    assert "declares no version" in from_tags.what and "git tags" in from_tags.fix
    assert problems(replace(CLEAN, declared=None, files=frozenset())) == ()  # the commit was not read


def test_an_unreadable_changelog_section_is_named() -> None:
    error = "CHANGELOG.md has no section for 1.2.0; add one"
    found = only(problems(replace(CLEAN, changelog_error=error)), Check.CHANGELOG)
    assert error in found.fix


def test_a_named_dockerfile_missing_from_the_commit() -> None:
    found = only(problems(CLEAN, conf=config(dockerfile="docker/Dockerfile")), Check.DOCKERFILE)
    assert "docker/Dockerfile" in found.what
    with_it = replace(CLEAN, files=CLEAN.files | {"docker/Dockerfile"})
    assert problems(with_it, conf=config(dockerfile="docker/Dockerfile")) == ()
    assert problems(CLEAN, conf=config()) == ()  # the shipped Dockerfile: nothing to find


def test_the_sandbox_cannot_serve_an_official_base_image() -> None:
    found = only(problems(CLEAN, conf=config(**{"base-image": "python:{python}-slim-bookworm"})),
                 Check.BASE_IMAGE)
    assert "{registry}/sandbox/python:{python}" in found.fix


def test_the_sandbox_builds_only_its_suites_pythons() -> None:
    found = only(problems(CLEAN, conf=config(python=["3.11", "3.12"])), Check.BASE_IMAGE)
    assert "3.12" in found.what and "3.11" not in found.what.split(":")[0]


def test_a_real_registry_does_not_hold_the_sandboxs_base_images() -> None:
    real = config(registry="ghcr.io", image="owner/app")
    found = only(problems(CLEAN, conf=real), Check.BASE_IMAGE)
    assert "ghcr.io" in found.what and "python:{python}-slim-bookworm" in found.fix
    assert problems(CLEAN, conf=config(registry="ghcr.io", image="owner/app",
                                       **{"base-image": "python:{python}-slim-bookworm"})) == ()


def test_serves_only_the_sandbox_repository() -> None:
    assert serves("{registry}/sandbox/python:{python}", "127.0.0.1:5000")
    assert not serves("python:{python}-slim", "127.0.0.1:5000")
    assert not serves("{registry}/sandbox/python:{python}-extra", "127.0.0.1:5000")


def test_a_flavour_requires_python_excludes() -> None:
    found = only(problems(replace(CLEAN, requires_python=">=3.12")), Check.REQUIRES_PYTHON)
    assert "python 3.11:" in found.what and ">=3.12" in found.what
    # only the flavours the run builds
    assert problems(replace(CLEAN, requires_python=">=3.12"),
                    options=Options(flavours=("3.13",))) == ()


def test_a_candidates_pmc_checks() -> None:
    heads = {"LICENSE": b"Apache", "app.py": b"print(1)\n", "logo.png": b"\x89PNG\0\0", "x.pyc": b"\0"}
    facts = replace(CLEAN, files=frozenset(heads), heads=heads)
    found = problems(facts, "1.2.0rc1", config(vote="asf"))
    assert {p.check for p in found} == {Check.SOURCES}
    lines = [p.what for p in found]
    assert "NOTICE is missing at the top of the repository" in lines
    assert any(line.startswith("no license header: app.py") for line in lines)
    assert any("logo.png" in line and "binary" in line for line in lines)
    assert any("x.pyc" in line and "compiled" in line for line in lines)
    # excludes count; a final is not a candidate (a voting project's is refused as such); vote = none
    # checks nothing unless asked
    assert {p.check for p in problems(facts, "1.2.0", config(vote="asf"))} == {Check.VOTE}
    assert problems(facts, "1.2.0rc1", config(vote="none", **{"source-checks": False})) == ()
    assert problems(facts, "1.2.0rc1", config(vote="none", **{"source-checks": True}))


def test_the_signing_key_missing_from_keys() -> None:
    facts = replace(CLEAN, keys=frozenset({"E" * 40}), keys_url="https://x/KEYS")
    found = only(problems(facts), Check.KEYS)
    assert "F" * 40 in found.what and "https://x/KEYS" in found.what and "gpg --armor --export" in found.fix
    assert problems(replace(CLEAN, keys=None)) == ()  # KEYS unread: nothing decided


def test_a_key_that_cannot_sign() -> None:
    facts = replace(CLEAN, signing_key_error="no secret key 'rm@example.org' in ~/.gnupg")
    assert "rm@example.org" in only(problems(facts), Check.KEYS).what


def test_missing_credentials_for_a_real_registry_and_index() -> None:
    real = config(registry="ghcr.io", image="owner/app", index="https://upload.pypi.org/legacy/",
                  **{"base-image": "python:{python}-slim-bookworm"})
    facts = replace(CLEAN, registry_credentials=False, index_credentials=False)
    found = problems(facts, conf=real)
    assert [p.check for p in found] == [Check.CREDENTIALS, Check.CREDENTIALS]
    assert "docker login ghcr.io" in found[0].fix and "TWINE_PASSWORD" in found[1].fix
    assert problems(facts) == ()  # the sandbox brings its own


@pytest.mark.parametrize("how", ["registry", "git tag"])
def test_a_candidate_of_an_already_released_final(how: str) -> None:
    facts = replace(CLEAN, **{"released": (parse_version("1.2.0"),)} if how == "registry"
                                          else {"tags": {"1.2.0": OLD}})
    found = only(problems(facts, "1.2.0rc2"), Check.RELEASED)
    assert "1.2.0 is already released" in found.what
    assert problems(replace(CLEAN, released=(parse_version("1.1.0"),)), "1.2.0rc2") == ()


def test_a_version_tagged_at_another_commit() -> None:
    found = only(problems(replace(CLEAN, tags={"1.2.0": OLD})), Check.TAGGED)
    assert OLD[:12] in found.what and HEAD[:12] in found.what and "never moved" in found.fix
    assert problems(replace(CLEAN, tags={"1.2.0": HEAD})) == ()  # a rerun


def test_every_problem_is_found_at_once() -> None:
    facts = replace(CLEAN, changed=("a",), changelog_error="no section", requires_python=">=3.13",
                    tags={"1.2.0": OLD})
    assert [p.check for p in problems(facts)] == [Check.DIRTY, Check.CHANGELOG, Check.REQUIRES_PYTHON,
                                                  Check.TAGGED]


# --- one commit: what a real run refuses before any step ------------------------------------------


def test_a_rerun_after_head_moved_is_refused_in_one_line() -> None:
    found = one_commit(config(), parse_version("1.2.0"), replace(CLEAN, recorded=OLD))
    assert [p.check for p in found] == [Check.MOVED] and "--restart" in found[0].fix
    published = one_commit(config(), parse_version("1.2.0"), replace(CLEAN, recorded=OLD, published=True))
    assert "--restart" not in published[0].fix and "release a new version" in published[0].fix
    assert one_commit(config(), parse_version("1.2.0"), replace(CLEAN, recorded=HEAD)) == ()


def test_publishing_a_promoted_final_after_head_moved_names_the_candidate_s_commit_never_restart() -> None:
    """A promoted final holds the voted files: its images come from the commit the candidate was built
    from, so a HEAD that moved is refused, and starting over is no way out."""
    facts = replace(CLEAN, recorded=OLD, published=False, promoted=True)
    found = one_commit(config(vote="asf"), parse_version("1.2.0"), facts)
    assert [p.check for p in found] == [Check.MOVED]
    assert found[0].what == (f"dist/1.2.0/ holds the voted files of its candidate, built from {OLD[:12]}; "
                             f"HEAD is now {HEAD[:12]}")
    assert f"git checkout {OLD[:12]}" in found[0].fix and "--restart" not in found[0].fix
    assert one_commit(config(vote="asf"), parse_version("1.2.0"), replace(facts, head=OLD)) == ()


def test_the_files_read_from_the_tree_must_be_the_commits() -> None:
    conf = config(dockerfile="Dockerfile", entrypoint="docker/entry.sh")
    assert read_from_tree(conf) == ("pyproject.toml", "Dockerfile", "docker/entry.sh")
    committed = replace(CLEAN, files=frozenset(read_from_tree(conf)))
    assert one_commit(conf, parse_version("1.2.0"), committed) == ()
    edited = one_commit(conf, parse_version("1.2.0"), replace(committed, changed=("Dockerfile", "app.py")))
    assert [p.check for p in edited] == [Check.DIRTY]
    assert edited[0].what.startswith("Dockerfile changed since") and "app.py" not in edited[0].what
    assert one_commit(conf, parse_version("1.2.0"), replace(committed, changed=("Dockerfile",)),
                      allow_dirty=True) == ()
    untracked = one_commit(conf, parse_version("1.2.0"), replace(CLEAN, files=frozenset({"pyproject.toml"})))
    assert [p.check for p in untracked] == [Check.DOCKERFILE, Check.NOT_COMMITTED]
    assert "docker/entry.sh" in untracked[1].what
