# SPDX-License-Identifier: Apache-2.0
"""The pins between a versioned train's distributions in its rc-numbered packages (plan/rc_pins.py):
each requirement on a sibling at its final version names its candidate, nothing else changes."""

from __future__ import annotations

import pytest

from release.errors import RefusedError
from release.plan.rc_pins import pins_of, rc_requirement, rewrite_pins, unmet_pins

PINS = pins_of([("apache-airflow", "3.3.3", "3.3.3rc1"), ("apache-airflow-core", "3.3.3", "3.3.3rc1"),
                ("Apache_Airflow.Task-SDK", "1.3.3", "1.3.3rc1")])


@pytest.mark.parametrize(("requirement", "expected"), [
    ("apache-airflow-core==3.3.3", "apache-airflow-core==3.3.3rc1"),
    ("apache-airflow-task-sdk>=1.3.3,<1.4", "apache-airflow-task-sdk>=1.3.3rc1,<1.4"),
    ("apache-airflow-core ~= 3.3.3", "apache-airflow-core ~= 3.3.3rc1"),
    ("apache-airflow-core===3.3.3", "apache-airflow-core===3.3.3rc1"),
    ("apache_airflow_task_sdk[all]==1.3.3 ; python_version < '3.14'",
     "apache_airflow_task_sdk[all]==1.3.3rc1 ; python_version < '3.14'"),  # extras and marker as written
    ("apache-airflow-core (==3.3.3)", "apache-airflow-core (==3.3.3rc1)"),
    # admitting the candidate already, or no version at all: as written
    ("apache-airflow-core<3.4.0,>=3.3.0", "apache-airflow-core<3.4.0,>=3.3.0"),
    ("apache-airflow-core[all]", "apache-airflow-core[all]"),
    ("apache-airflow-core!=3.3.2", "apache-airflow-core!=3.3.2"),
    ("apache-airflow-core<=3.3.3", "apache-airflow-core<=3.3.3"),
    # not a distribution of the train, or not a requirement
    ("apache-airflow-providers-http==3.3.3", "apache-airflow-providers-http==3.3.3"),
    ("requests>=1.3.3", "requests>=1.3.3"),
    ("not a requirement ===", "not a requirement ==="),
])
def test_a_pin_on_a_sibling_at_its_final_names_its_candidate_and_nothing_else_changes(
        requirement: str, expected: str) -> None:
    assert rc_requirement(requirement, PINS) == expected


@pytest.mark.parametrize("requirement", ["apache-airflow-core>3.3.3", "apache-airflow-task-sdk>=1.4.0",
                                         "apache-airflow-core==3.3.2"])
def test_a_pin_the_candidate_cannot_meet_is_refused_naming_it(requirement: str) -> None:
    with pytest.raises(RefusedError, match=rf"^'{requirement}' refuses apache-airflow-\S+ \S+rc1, released "
                                           "together with it: pin "):
        rc_requirement(requirement, PINS)


META = '''[build-system]
requires = ["hatchling==1.32.0"]

[project]
name = "apache-airflow"
version = "3.3.3rc1"  # the candidate's version, rewritten before
dependencies = [
    "apache-airflow-task-sdk==1.3.3",
    "apache-airflow-core==3.3.3",  # with a comment
]

[project.optional-dependencies]
"all" = [
    "apache-airflow-core[all]"
]
"core" = ['apache-airflow-core==3.3.3']

[dependency-groups]
dev = ["apache-airflow-core==3.3.3"]

[tool.uv.sources]
apache-airflow-core = {workspace = true}
'''


def test_a_pyprojects_project_tables_pin_the_candidates_the_rest_byte_for_byte() -> None:
    text, changed = rewrite_pins(META, PINS)
    assert changed == (("apache-airflow-task-sdk==1.3.3", "apache-airflow-task-sdk==1.3.3rc1"),
                       ("apache-airflow-core==3.3.3", "apache-airflow-core==3.3.3rc1"))
    assert text == (META.replace('"apache-airflow-task-sdk==1.3.3"', '"apache-airflow-task-sdk==1.3.3rc1"')
                    .replace('"apache-airflow-core==3.3.3",', '"apache-airflow-core==3.3.3rc1",')
                    .replace("'apache-airflow-core==3.3.3'", "'apache-airflow-core==3.3.3rc1'"))
    assert 'dev = ["apache-airflow-core==3.3.3"]' in text  # not the package's metadata: stays
    assert rewrite_pins(text, PINS) == (text, ())  # again: nothing left to pin


def test_a_pyproject_without_pins_on_the_train_is_left_as_it_is() -> None:
    text = '[project]\nname = "x"\ndependencies = ["apache-airflow-core>=3.3.0,<3.4"]\n'
    assert rewrite_pins(text, PINS) == (text, ())
    assert rewrite_pins('[project]\nname = "x"\ndynamic = ["dependencies"]\n', PINS)[1] == ()


def test_a_pin_it_cannot_place_in_the_text_or_a_broken_file_is_refused_naming_the_file() -> None:
    escaped = '[project]\nname = "x"\ndependencies = ["apache-airflow-core\\u003d=3.3.3"]\n'
    with pytest.raises(RefusedError, match=r"^airflow-core/pyproject\.toml: cannot find "
                                           r"'apache-airflow-core==3\.3\.3' in its \[project\] tables"):
        rewrite_pins(escaped, PINS, file="airflow-core/pyproject.toml")
    with pytest.raises(RefusedError, match=r"^pyproject\.toml: "):
        rewrite_pins("[project\n", PINS)


def test_the_built_metadata_names_the_requirements_that_refuse_a_candidate() -> None:
    requires = ["apache-airflow-core==3.3.3rc1", "apache-airflow-task-sdk==1.3.3", "requests==2.0",
                "apache-airflow-core[all]; extra == 'all'", "apache-airflow-core<3.4.0,>=3.3.0"]
    assert unmet_pins(requires, PINS) == ("apache-airflow-task-sdk==1.3.3",)
    assert unmet_pins(requires, {}) == ()
