# SPDX-License-Identifier: Apache-2.0
"""The constraints each image ships: what the image lists, and the file written from it. Pure."""

from __future__ import annotations

import pytest

from release.errors import VerificationError
from release.identity import ImageId
from release.plan.release import PlannedImage
from release.steps.constraints import ImageToRead, constraints_text, parse_installed

SLIM = PlannedImage(ImageId("3.11", "slim"), "slim-3.3.2-python3.11",
                    "127.0.0.1:5000/apache/airflow:slim-3.3.2-python3.11", "base",
                    constraints="constraints/constraints-slim-3.11.txt")
DIGEST = "sha256:" + "d" * 64


def test_the_image_read_is_the_pushed_digest_in_the_images_repository() -> None:
    assert ImageToRead(SLIM, DIGEST).image == f"127.0.0.1:5000/apache/airflow@{DIGEST}"


def test_installed_pins_are_kept_in_order() -> None:
    assert parse_installed("a-b==1.0\napache-airflow==3.3.2\n\nzope-interface==7.1\n") == [
        "a-b==1.0", "apache-airflow==3.3.2", "zope-interface==7.1"]


@pytest.mark.parametrize("output", ["", "\n\n", "a==1\nTraceback (most recent call last):\n", "A==1", "a>=1"])
def test_anything_but_pins_is_refused(output: str) -> None:
    with pytest.raises(VerificationError):
        parse_installed(output)


def test_the_file_names_its_image_then_pins_one_a_line() -> None:
    text = constraints_text(["a==1", "b==2"], project="Apache Airflow", version="3.3.2",
                            image=ImageToRead(SLIM, DIGEST))
    lines = text.splitlines()
    assert lines[0] == "# Apache Airflow 3.3.2: every distribution the slim image for Python 3.11 holds,"
    assert lines[1] == f"# slim-3.3.2-python3.11 ({DIGEST}). Install the same with"
    assert lines[2] == "#   pip install ... --constraint constraints-slim-3.11.txt"
    assert lines[3:] == ["a==1", "b==2"] and text.endswith("\n")
    default = PlannedImage(ImageId("3.13"), "3.3.2-python3.13", "r/a:3.3.2-python3.13", "base",
                           constraints="constraints/constraints-3.13.txt")
    text = constraints_text(["a==1"], project="P", version="1", image=ImageToRead(default, DIGEST))
    assert text.startswith("# P 1: every distribution the image for Python 3.13 holds,")
