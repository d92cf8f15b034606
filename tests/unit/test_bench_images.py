# SPDX-License-Identifier: Apache-2.0
"""The image figures' parts that need no engine: the two applications they measure, the plain
image each is compared with, the edits between builds, and where the time goes."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from conftest import REPO_ROOT

from benchmarks.bench import FLAVOURS, Bench
from benchmarks.bench_images import (
    HEAVY_FLAVOURS,
    PLAIN_DOCKERFILE,
    add_dependency,
    edit_source,
    plain_dockerfile,
    plain_what,
    sample_app,
    shorten,
    this_application,
    time_goes,
)
from release.adapters.engine import StepTime

SAMPLE = REPO_ROOT / "tests" / "fixtures" / "sample"
APT_STEP = ("RUN --mount=type=cache,id=release-pipeline-apt-amd64,target=/var/cache/apt,sharing=shared "
            "set -eu; apt-get update")


def install_requires(setup: Path) -> list[str]:
    for node in ast.walk(ast.parse(setup.read_text())):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            return [ast.literal_eval(element) for element in node.value.elts]  # type: ignore[attr-defined]
    raise AssertionError(f"{setup} has no install_requires")


def test_the_sample_keeps_its_figures_names_and_flavours() -> None:
    app = sample_app(Bench(SAMPLE, []))
    assert (app.prefix, app.what, app.flavours) == ("", "sample app", FLAVOURS)
    assert app.flavours_text == "3 flavours"
    assert app.runtime_apt == ""
    assert (SAMPLE / app.source).is_file()


def test_this_repository_is_the_heavy_sample_with_its_own_configuration() -> None:
    app = this_application(REPO_ROOT)
    assert app.config.name == "release-pipeline"
    assert app.runtime_apt == "git gnupg subversion"  # its [tool.release] build-args
    assert app.flavours == HEAVY_FLAVOURS and set(HEAVY_FLAVOURS) <= set(app.config.python)
    assert app.flavours_text == "python3.11 only"
    assert app.prefix and app.what != sample_app(Bench(SAMPLE, [])).what
    assert (REPO_ROOT / app.source).is_file()


def test_the_plain_image_of_an_app_without_system_packages_is_unchanged() -> None:
    assert plain_dockerfile("") == PLAIN_DOCKERFILE
    assert plain_what("") == "plain single-stage pip install image"


def test_the_plain_image_installs_the_apps_system_packages_before_the_wheel() -> None:
    lines = plain_dockerfile("git gnupg").splitlines()
    apt = next(i for i, line in enumerate(lines) if "apt-get install" in line)
    assert lines.index("ARG RUNTIME_APT_DEPS") < apt < lines.index("COPY *.whl /tmp/")
    assert "${RUNTIME_APT_DEPS}" in lines[apt] and "--no-install-recommends" in lines[apt]
    assert "rm -rf /var/lib/apt/lists/*" in plain_dockerfile("git gnupg")  # no lists left in the layer
    assert [line for line in lines if "pip install" in line] == [
        line for line in PLAIN_DOCKERFILE.splitlines() if "pip install" in line]
    assert "apt-get install git gnupg" in plain_what("git gnupg")


def test_one_dependency_is_added_to_either_applications_setup(tmp_path: Path) -> None:
    for source in (SAMPLE / "setup.py", REPO_ROOT / "setup.py"):
        root = tmp_path / source.parent.name
        root.mkdir()
        shutil.copy(source, root / "setup.py")
        before = install_requires(root / "setup.py")
        add_dependency(root, "six>=1.16")
        assert install_requires(root / "setup.py") == ["six>=1.16", *before]


def test_a_source_only_change_is_a_comment_at_the_end_of_the_module(tmp_path: Path) -> None:
    app = this_application(tmp_path)
    (tmp_path / "release").mkdir()
    (tmp_path / app.source).write_text('__version__ = "1.0"\n')
    edit_source(app, "another")
    text = (tmp_path / app.source).read_text()
    assert text == '__version__ = "1.0"\n\n# another\n'
    ast.parse(text)


def test_where_the_time_goes_names_the_slowest_steps_run_and_leaves_cached_ones_out() -> None:
    timings = [StepTime(1, APT_STEP, 14.4, stage="runtime"),
               StepTime(2, "COPY . /context", 0.1, stage="wheels"),
               StepTime(3, "RUN uv pip install -r deps", 3.0, stage="deps"),
               StepTime(4, "RUN useradd app", 9.0, cached=True, stage="runtime")]
    assert time_goes(timings, 22.4) == ("14.4s [runtime] RUN set -eu; apt-get update, "
                                        "3.0s [deps] RUN uv pip install -r deps (3 steps run, 17.5s summed, "
                                        "in 22.4s)")
    cached = [StepTime(1, "RUN true", 1.0, cached=True)]
    assert time_goes(cached, 0.4) == "no step run (0 steps run, 0.0s summed, in 0.4s)"


def test_a_step_is_named_by_its_stage_and_command_not_its_cache_mounts() -> None:
    assert shorten(StepTime(1, APT_STEP, 1.0, stage="runtime")) == "[runtime] RUN set -eu; apt-get update"
    long = StepTime(1, "RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install /tmp/*.whl", 1.0)
    assert shorten(long) == "RUN python3 -m venv /opt/venv && /opt..."  # the classic builder names no stage
    assert len(shorten(long)) == 40


def test_a_missed_goal_says_where_the_time_goes_and_a_met_one_does_not() -> None:
    bench = Bench(SAMPLE, [])
    bench.goal("missed", "0.5x", 0.5, 0.1, "x", "<= 0.10x", "time in: 1.0s RUN")
    bench.goal("met", "0.05x", 0.05, 0.1, "x", "<= 0.10x", "time in: 1.0s RUN")
    missed, met = bench.figures
    assert (missed.met, missed.off) == (False, "0.40x over, 5.00 times the goal; time in: 1.0s RUN")
    assert (met.met, met.off) == (True, "")
