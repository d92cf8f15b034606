# SPDX-License-Identifier: Apache-2.0
"""The GitHub Actions workflows as data: jobs, the needs graph, matrices, triggers, secrets, commands.

Pure: configs are parsed from tables, the workflows are dicts, files are only read and written.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from invoke.context import Context
from invoke.exceptions import Exit

from release import __version__
from release.adapters import atr
from release.cli import ns
from release.cli.ci import ci as ci_task
from release.config import ReleaseConfig, load_config, parse_config
from release.errors import ConfigError
from release.licences import check_source_file
from release.pipeline import ci as ci_files
from release.plan.images import master_join_problems
from release.plan.workflows import (
    ACTIONS,
    ATR_TOKEN,
    ATR_UID,
    HOST_PLATFORM,
    MAIN_BRANCH,
    REQUIREMENTS_FILE,
    SANDBOX_CONTAINER,
    SANDBOX_REGISTRY,
    TOOL,
    Settings,
    Workflow,
    holds_secrets,
    image_matrix,
    is_generated,
    job_graph,
    licence_of,
    platforms_of,
    render,
    workflows,
)
from tests.unit.test_trains import airflow_table

REPO_ROOT = Path(__file__).resolve().parents[3]
FINGERPRINT = "0123456789ABCDEF0123456789ABCDEF01234567"
REAL = {
    "name": "sample-app", "image": "sample/app", "python": ["3.9", "3.11", "3.13"], "default-python": "3.11",
    "registry": "docker.io", "index": "https://test.pypi.org/legacy/",
    "svn-dev": "https://dist.apache.org/repos/dist/dev", "svn-release": "https://dist.apache.org/repos/dist/release",
    "signing-key": FINGERPRINT,
}
SANDBOX = {"name": "sample-app", "image": "sample/app", "python": ["3.11", "3.13"]}
SETTINGS = Settings(tool_version="0.1.0")
# docs/trains.md's two trains on the sample, and a third staging in ATR
TRAINS = {
    "core": {"images": ["sample-app", "sample-app-core"], "constraints": {},
             "distributions": [{"name": "sample-app", "version": "pyproject"},
                               {"name": "sample-app-core", "path": "core", "version": "pyproject"}]},
    "providers": {"distributions": "providers/**", "tag": "providers-{id}/{version}", "svn": "flat",
                  "svn-folder": "providers", "wave-tag": "providers/{date}"},
    "clients": {"distributions": [{"name": "sample-client", "path": "clients/python",
                                   "tag": "client/{version}"}], "staging": "atr"},
}
ATR = {"atr": "https://atr.example", "atr-project": "sample"}
WITH_TRAINS = {**REAL, **ATR, "trains": TRAINS}
SANDBOX_TRAINS = {**SANDBOX, "atr": "sandbox", "trains": TRAINS}


def config(table: dict[str, Any], root: Path = Path("/target")) -> ReleaseConfig:
    return parse_config(root, table)


def by_file(cfg: ReleaseConfig, settings: Settings = SETTINGS) -> dict[str, Workflow]:
    return {w.file: w for w in workflows(cfg, settings)}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = job["steps"]
    return found


def runs(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in steps(job) if "run" in s]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").startswith(action + "@")]


def every_config() -> Iterator[tuple[str, ReleaseConfig, Settings]]:
    yield "real", config(REAL), SETTINGS
    yield "sandbox", config(SANDBOX), SETTINGS
    yield "ghcr", config({**REAL, "registry": "ghcr.io"}), SETTINGS
    yield "trains", config(WITH_TRAINS), SETTINGS
    yield "trains on ghcr", config({**WITH_TRAINS, "registry": "ghcr.io"}), SETTINGS
    yield "trains in the sandbox", config(SANDBOX_TRAINS), SETTINGS
    yield "airflow's trains (docs/trains.md)", config(airflow_table()), SETTINGS
    yield "this repository", load_config(REPO_ROOT), ci_files.settings_for(load_config(REPO_ROOT))
    airflow = REPO_ROOT / "examples" / "airflow" / "pyproject.toml"
    cfg = load_config(REPO_ROOT, profile=airflow)
    yield "airflow profile", cfg, ci_files.settings_for(cfg, profile=airflow)


ALL = list(every_config())
IDS = [name for name, _, _ in ALL]


def topological(jobs: dict[str, dict[str, Any]]) -> list[str]:
    order: list[str] = []
    pending = dict(jobs)
    while pending:
        ready = [n for n, j in pending.items() if set(j.get("needs", ())) <= set(order)]
        assert ready, f"the needs graph has a cycle among {sorted(pending)}"
        order += ready
        pending = {n: j for n, j in pending.items() if n not in ready}
    return order


# --- which workflows -------------------------------------------------------------------------------


def test_a_target_with_real_services_gets_master_images_refresh_and_release() -> None:
    assert list(by_file(config(REAL))) == ["master-images.yml", "refresh.yml", "release.yml",
                                           "publish-promoted.yml"]
    no_vote = config({**REAL, "vote": "none"})
    assert list(by_file(no_vote)) == ["master-images.yml", "refresh.yml", "release.yml"]


def test_a_voting_project_publishes_a_promoted_final_on_its_tag_and_never_builds_it() -> None:
    """After `invoke promote` on the release manager's machine, the final ships from a runner with no
    dist/: by hand, only on a tag (the pipeline checks it is the final's), one job that logs in and
    publishes; it never builds nor signs the voted files (the key signs the images, SBOMs and record)."""
    flow = by_file(config(REAL))["publish-promoted.yml"]
    assert list(flow.data["on"]) == ["workflow_dispatch"]
    assert flow.data["on"]["workflow_dispatch"]["inputs"]["version"]["required"] is True
    (job,) = flow.jobs.values()
    assert job["if"] == "startsWith(github.ref, 'refs/tags/')"
    assert job["environment"] == "release"
    assert uses(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0  # the candidate's tag, too
    commands = runs(job)
    assert 'release-pipeline publish --version "$VERSION"' in commands, commands
    assert not any(c.startswith(("release-pipeline build", "release-pipeline sign")) for c in commands)
    assert [s["name"] for s in steps(job)].index("Import the signing key") < len(steps(job)) - 2
    assert set(steps(job)[-1]["with"]) == {"name", "path"}  # the record is kept


ATR_REAL = {**REAL, "staging": "atr", "atr": "https://atr.example", "atr-project": "sample"}


@pytest.mark.parametrize("table", [{**REAL, "vote": "none"}, ATR_REAL, SANDBOX],
                         ids=["no-vote", "atr", "sandbox"])
def test_no_promoted_publish_without_a_vote_with_atr_or_on_a_runners_empty_svn(table: dict[str, Any]) -> None:
    assert "publish-promoted.yml" not in by_file(config(table))


def test_a_sandbox_registry_gets_no_refresh_since_a_runners_sandbox_starts_empty() -> None:
    assert list(by_file(config(SANDBOX))) == ["master-images.yml", "release.yml"]


def test_this_repository_also_gets_the_readmes_test_command() -> None:
    cfg = load_config(REPO_ROOT)
    settings = ci_files.settings_for(cfg)
    assert settings.from_checkout and settings.tool_version == __version__
    found = by_file(cfg, settings)
    assert list(found) == ["tests.yml", "master-images.yml", "release.yml"]
    tests = found["tests.yml"]
    assert tests.data["on"] == {"push": {"branches": [MAIN_BRANCH]}, "pull_request": {}}
    job = tests.jobs["tests"]
    assert runs(job) == ["pip install nox", "nox -s lint tests"]  # the README's, one step each
    assert job["container"] == SANDBOX_CONTAINER  # the integration tests start the sandbox as root


# --- release trains --------------------------------------------------------------------------------


def test_without_trains_nothing_changes_and_each_train_adds_its_own_release_workflow() -> None:
    """A configuration without trains gets what it got before trains; with them, the same files
    byte for byte and one release-train-NAME.yml per configured train, in the configured order."""
    for table, trains in [(REAL, {**REAL, **ATR, "trains": TRAINS}), (SANDBOX, SANDBOX_TRAINS)]:
        before = {f: render(w, "invoke ci") for f, w in by_file(config(table)).items()}
        after = {f: render(w, "invoke ci") for f, w in by_file(config(trains)).items()}
        real = table is REAL  # a runner publishes a promoted wave only from a real svn release
        assert list(after) == [*before, "release-train-core.yml",
                               *(["publish-promoted-train-core.yml"] if real else []),
                               "release-train-providers.yml",
                               *(["publish-promoted-train-providers.yml"] if real else []),
                               "release-train-clients.yml"]
        assert {f: after[f] for f in before} == before
    assert not any(f.startswith("release-train") for f in by_file(load_config(REPO_ROOT)))


def wave_job(table: dict[str, Any], train: str) -> dict[str, Any]:
    flow = by_file(config(table))[f"release-train-{train}.yml"]
    assert list(flow.jobs) == ["wave"]  # the wave's executor runs its images in the same process
    return flow.jobs["wave"]


@pytest.mark.parametrize("table", [WITH_TRAINS, SANDBOX_TRAINS], ids=["real", "sandbox"])
def test_a_train_is_released_by_hand_with_the_waves_date(table: dict[str, Any]) -> None:
    cfg = config(table)
    for train in cfg.trains:
        flow = by_file(cfg)[f"release-train-{train.name}.yml"]
        assert list(flow.data["on"]) == ["workflow_dispatch"]  # never by a push or a pull request
        inputs = flow.data["on"]["workflow_dispatch"]["inputs"]
        assert list(inputs) == ["date"] and inputs["date"]["required"] is True
        assert flow.data["env"] == {"DATE": "${{ inputs.date }}"}  # the script reads it from env
        assert flow.data["concurrency"] == {"group": f"train-{train.name}-${{{{ inputs.date }}}}",
                                            "cancel-in-progress": False}
        job = flow.jobs["wave"]
        assert job["if"] == "github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/')"
        assert uses(job, "actions/checkout")[0]["with"] == {"persist-credentials": False, "fetch-depth": 0}
        (kept,) = uses(job, "actions/upload-artifact")
        assert kept["if"] == "always()"  # a run stopped half-way is resumed from its record
        assert kept["with"]["name"] == f"wave-{train.name}-${{{{ inputs.date }}}}"
        assert kept["with"]["path"] == f"dist/{train.name}-${{{{ inputs.date }}}}/"


def test_a_train_staging_in_a_real_svn_dev_is_built_in_ci_and_staged_by_the_release_manager() -> None:
    """svn dev commits take the release manager's own Apache credentials, which CI never holds: the
    job builds the wave only, holds no secret, and the manager resumes the run from the artifact."""
    for train in ("core", "providers"):
        job = wave_job(WITH_TRAINS, train)
        assert runs(job) == [" ".join(BY_HASH), f'release-pipeline build --train {train} --date "$DATE"']
        assert not holds_secrets(steps(job)) and "environment" not in job


def test_a_train_the_runner_can_stage_runs_its_whole_wave_with_what_it_needs() -> None:
    """In ATR (its token a secret) or the sandbox's svn, the job runs the wave; it logs in to the
    registry only for a train with images, and reads the ATR token only for a train staging in ATR."""
    clients = wave_job(WITH_TRAINS, "clients")
    assert clients["environment"] == "release"
    assert runs(clients)[-1] == 'release-pipeline release --train clients --date "$DATE"'
    assert steps(clients)[-2]["env"] == {
        "TWINE_USERNAME": "${{ secrets.TWINE_USERNAME }}", "TWINE_PASSWORD": "${{ secrets.TWINE_PASSWORD }}",
        "RELEASE_ATR_UID": "${{ secrets.RELEASE_ATR_UID }}",
        "RELEASE_ATR_TOKEN": "${{ secrets.RELEASE_ATR_TOKEN }}"}
    assert "Import the signing key" in [s["name"] for s in steps(clients)]
    assert not any(s["name"].startswith("Log in") for s in steps(clients))  # no images
    assert clients["timeout-minutes"] == 60
    staged_here = {**WITH_TRAINS, "svn-dev": "sandbox"}
    core = wave_job(staged_here, "core")
    names = [s["name"] for s in steps(core)]
    assert names.index("Log in to docker.io") < names.index("Import the signing key") < len(names) - 3
    assert runs(core)[-2] == 'release-pipeline release --train core --date "$DATE"'
    assert core["timeout-minutes"] == 120  # its images are built in the job
    assert steps(core)[-3]["env"] == {"TWINE_USERNAME": "${{ secrets.TWINE_USERNAME }}",
                                      "TWINE_PASSWORD": "${{ secrets.TWINE_PASSWORD }}"}
    assert not any(s["name"].startswith("Log in") for s in steps(wave_job(staged_here, "providers")))
    ghcr = wave_job({**staged_here, "registry": "ghcr.io"}, "core")
    assert ghcr["permissions"] == {"contents": "read", "packages": "write"}
    providers = wave_job({**staged_here, "registry": "ghcr.io"}, "providers")
    assert providers["permissions"] == {"contents": "read"}


def test_the_atr_secrets_are_the_names_the_atr_client_reads() -> None:
    assert (ATR_UID, ATR_TOKEN) == (atr.UID_ENV, atr.TOKEN_ENV)


def test_without_the_signing_key_a_train_job_stops_before_the_wave_and_says_how_to_run_it_locally() -> None:
    job = wave_job({**WITH_TRAINS, "svn-dev": "sandbox"}, "providers")
    script = next(s["run"] for s in steps(job) if s["name"] == "Import the signing key")
    assert "run it locally: invoke release --train providers --date $DATE" in script and "exit 1" in script


def test_in_the_sandbox_a_train_job_holds_no_secret_and_stops_the_sandbox() -> None:
    for train in ("core", "providers", "clients"):
        job = wave_job(SANDBOX_TRAINS, train)
        assert not holds_secrets(steps(job)) and job["container"] == SANDBOX_CONTAINER
        assert runs(job)[-2] == f'release-pipeline release --train {train} --date "$DATE"'
        assert steps(job)[-1] == {"name": "Stop the sandbox", "if": "always()",
                                  "run": "release-pipeline sandbox.down"}


def test_a_runner_publishes_only_a_train_it_can_read_from_a_real_svn_release() -> None:
    """Without wave.json a runner reads the promoted files from svn release: not for a train finished
    in ATR (from the wave's record), nor with a sandbox svn release (empty on a runner); a versioned
    train by its final."""
    unread = {**WITH_TRAINS, "svn-release": "sandbox"}
    for cfg in (config(WITH_TRAINS), config(SANDBOX_TRAINS), config(unread)):
        published = {r for flow in workflows(cfg, SETTINGS) for job in flow.jobs.values() for r in runs(job)
                     if r.startswith("release-pipeline publish --train")}
        assert published == ({'release-pipeline publish --train providers --date "$DATE"',
                              'release-pipeline publish --train core --version "$VERSION"'}
                             if cfg.svn_release != "sandbox" else set())


def promoted_train(table: dict[str, Any], train: str) -> Workflow:
    return by_file(config(table))[f"publish-promoted-train-{train}.yml"]


def test_a_promoted_wave_is_published_by_hand_from_a_tag_or_the_release_branch_with_twine_only() -> None:
    flow = promoted_train(WITH_TRAINS, "providers")
    assert list(flow.data["on"]) == ["workflow_dispatch"]
    inputs = flow.data["on"]["workflow_dispatch"]["inputs"]
    assert list(inputs) == ["date"] and inputs["date"]["required"] is True
    assert flow.data["env"] == {"DATE": "${{ inputs.date }}"}
    assert flow.data["concurrency"] == {"group": "train-providers-${{ inputs.date }}",
                                        "cancel-in-progress": False}
    assert flow.data["permissions"] == {}
    (job,) = flow.jobs.values()
    assert job["if"] == "github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/')"
    assert job["environment"] == "release" and job["permissions"] == {"contents": "read"}
    assert uses(job, "actions/checkout")[0]["with"] == {"persist-credentials": False, "fetch-depth": 0}
    assert runs(job) == [" ".join(BY_HASH), 'release-pipeline publish --train providers --date "$DATE"']
    assert steps(job)[-1]["env"] == {"TWINE_USERNAME": "${{ secrets.TWINE_USERNAME }}",
                                     "TWINE_PASSWORD": "${{ secrets.TWINE_PASSWORD }}"}
    assert not any(s["name"].startswith(("Log in", "Import")) for s in steps(job))  # nothing built or signed


def test_a_versioned_train_is_published_by_its_final_logging_in_to_the_registry_for_its_images() -> None:
    flow = promoted_train(WITH_TRAINS, "core")
    inputs = flow.data["on"]["workflow_dispatch"]["inputs"]
    assert list(inputs) == ["version"] and inputs["version"]["description"].startswith(
        "the final invoke promote --train core released, e.g. 3.3.3")
    assert flow.data["env"] == {"VERSION": "${{ inputs.version }}"}
    job = flow.jobs["publish"]
    assert runs(job)[-1] == 'release-pipeline publish --train core --version "$VERSION"'
    assert [s["name"] for s in steps(job)][-2] == "Log in to docker.io"  # its images' final tags
    assert not any(s["name"] == "Import the signing key" for s in steps(job))
    ghcr = promoted_train({**WITH_TRAINS, "registry": "ghcr.io"}, "core").jobs["publish"]
    assert ghcr["permissions"] == {"contents": "read", "packages": "write"}
    plain = {**TRAINS, "core": {k: v for k, v in TRAINS["core"].items()
                                if k not in ("images", "constraints")}}
    without = promoted_train({**WITH_TRAINS, "registry": "ghcr.io", "trains": plain}, "core").jobs["publish"]
    assert without["permissions"] == {"contents": "read"}
    assert not any(s["name"].startswith("Log in") for s in steps(without))


def test_the_job_graph_shows_each_trains_wave() -> None:
    found = workflows(config(SANDBOX_TRAINS), SETTINGS)
    lines = {(line.workflow, line.job): line for line in job_graph(found)}
    assert lines[("release-train-core.yml", "wave")].commands == (
        'release-pipeline release --train core --date "$DATE"',)


# --- master images ---------------------------------------------------------------------------------


def test_master_images_one_job_per_flavour_then_a_join_that_moves_master() -> None:
    flow = by_file(config(REAL))["master-images.yml"]
    assert flow.data["on"] == {"push": {"branches": [MAIN_BRANCH]}, "workflow_dispatch": {}}
    assert flow.data["concurrency"] == {"group": "master-images", "cancel-in-progress": False}
    assert list(flow.jobs) == ["images", "publish"]
    images, join = flow.jobs["images"], flow.jobs["publish"]
    assert images["strategy"] == {"fail-fast": False, "matrix": {"python": ["3.9", "3.11", "3.13"]}}
    assert "needs" not in images and join["needs"] == ["images"]
    assert runs(images)[-1] == "release-pipeline images --master --python ${{ matrix.python }} --push"
    assert runs(join)[-1] == "release-pipeline publish --master"
    assert "strategy" not in join


# --- release ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("vote", "description"), [
    ("none", "the PEP 440 version to release, e.g. 1.10.6 or 1.10.6rc1"),
    ("asf", "the release candidate to build and publish, e.g. 1.10.6rc1 (a final ships only from its voted "
            "candidate: invoke promote, then invoke publish)"),
])
def test_release_is_started_by_hand_with_a_version(vote: str, description: str) -> None:
    flow = by_file(config({**REAL, "vote": vote}))["release.yml"]
    assert flow.data["on"] == {"workflow_dispatch": {"inputs": {"version": {
        "description": description, "required": True, "type": "string"}}}}
    assert flow.data["env"] == {"VERSION": "${{ inputs.version }}"}
    assert flow.data["concurrency"]["group"] == "release-${{ inputs.version }}"


def test_release_builds_and_signs_then_the_image_matrix_then_publish() -> None:
    flow = by_file(config(REAL))["release.yml"]
    build, images, publish = flow.jobs["build"], flow.jobs["images"], flow.jobs["publish"]
    assert topological(flow.jobs) == ["build", "images", "publish"]
    assert images["needs"] == ["build"] and publish["needs"] == ["build", "images"]
    assert images["strategy"]["matrix"] == {"python": ["3.9", "3.11", "3.13"]}
    assert [r for r in runs(build) if r.startswith(TOOL)] == [
        'release-pipeline build --version "$VERSION"', 'release-pipeline sign --version "$VERSION"']
    assert runs(images)[-1] == (
        'release-pipeline images --version "$VERSION" --python ${{ matrix.python }} --push')
    assert runs(publish)[-1] == 'release-pipeline publish --version "$VERSION"'


def test_dist_travels_from_the_build_job_to_the_images_and_publish_jobs() -> None:
    flow = by_file(config(REAL))["release.yml"]
    (upload,) = uses(flow.jobs["build"], "actions/upload-artifact")
    assert upload["with"]["name"] == "dist" and upload["if"] == "always()"  # unsigned too, to sign by hand
    for job in ("images", "publish"):
        (download,) = uses(flow.jobs[job], "actions/download-artifact")
        assert download["with"] == {"name": "dist", "path": upload["with"]["path"]}
    assert upload["with"]["path"] == "dist/${{ inputs.version }}/"
    names = [s.get("name") for s in steps(flow.jobs["build"])]
    assert names.index("Import the signing key") < names.index("Sign") < names.index(upload["name"])


def test_without_the_signing_key_secret_the_build_job_stops_before_signing() -> None:
    flow = by_file(config(REAL))["release.yml"]
    (step,) = [s for s in steps(flow.jobs["build"]) if s.get("name") == "Import the signing key"]
    script = step["run"]
    assert script.startswith('if [ -z "$RELEASE_SIGNING_KEY" ]; then\n')
    assert "exit 1" in script and "docs/ci.md" in script
    assert script.rstrip().endswith('printf \'%s\\n\' "$RELEASE_SIGNING_KEY" | gpg --batch --import')
    assert step["env"] == {"RELEASE_SIGNING_KEY": "${{ secrets.RELEASE_SIGNING_KEY }}"}
    # publish signs the release record: it imports the key too
    assert any(s.get("name") == "Import the signing key" for s in steps(flow.jobs["publish"]))


def test_publish_reads_twine_credentials_from_secrets_the_way_twine_does() -> None:
    flow = by_file(config(REAL))["release.yml"]
    (step,) = [s for s in steps(flow.jobs["publish"])
               if s.get("run", "").startswith("release-pipeline publish")]
    assert step["env"] == {"TWINE_USERNAME": "${{ secrets.TWINE_USERNAME }}",
                           "TWINE_PASSWORD": "${{ secrets.TWINE_PASSWORD }}"}


# --- refresh ---------------------------------------------------------------------------------------


def test_refresh_runs_on_a_schedule_and_by_hand_with_the_history_it_reads() -> None:
    flow = by_file(config(REAL))["refresh.yml"]
    assert flow.data["on"] == {"schedule": [{"cron": "23 4 * * *"}], "workflow_dispatch": {}}
    job = flow.jobs["refresh"]
    (checkout,) = uses(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0  # the Dockerfile of the commit an image was built from
    assert [r for r in runs(job) if r.startswith(TOOL)] == ["release-pipeline refresh"]
    (log,) = uses(job, "actions/upload-artifact")
    assert log["with"]["path"] == "docs/base-image-refresh.log"


# --- registry login and secrets --------------------------------------------------------------------


@pytest.mark.parametrize("workflow", ["master-images.yml", "refresh.yml", "release.yml"])
def test_every_job_that_pushes_logs_in_with_secrets_through_stdin(workflow: str) -> None:
    flow = by_file(config(REAL))[workflow]
    for name, job in flow.jobs.items():
        logins = [s for s in steps(job) if s.get("name") == "Log in to docker.io"]
        if name == "build":
            assert not logins
            continue
        (login,) = logins
        assert login["run"] == ('printf \'%s\' "$REGISTRY_PASSWORD" | docker login docker.io '
                                '--username "$REGISTRY_USERNAME" --password-stdin')
        assert login["env"] == {"REGISTRY_USERNAME": "${{ secrets.REGISTRY_USERNAME }}",
                                "REGISTRY_PASSWORD": "${{ secrets.REGISTRY_PASSWORD }}"}


def test_ghcr_logs_in_with_the_workflows_own_token_and_may_write_packages() -> None:
    flow = by_file(config({**REAL, "registry": "ghcr.io"}))["master-images.yml"]
    for job in flow.jobs.values():
        (login,) = [s for s in steps(job) if s.get("name") == "Log in to ghcr.io"]
        assert login["env"] == {"REGISTRY_USERNAME": "${{ github.actor }}",
                                "REGISTRY_PASSWORD": "${{ secrets.GITHUB_TOKEN }}"}
        assert job["permissions"] == {"contents": "read", "packages": "write"}
    release = by_file(config({**REAL, "registry": "ghcr.io"}))["release.yml"]
    assert release.jobs["build"]["permissions"] == {"contents": "read"}  # it pushes nothing


@pytest.mark.parametrize(("name", "cfg", "settings"), ALL, ids=IDS)
def test_no_secret_value_in_any_file_and_none_spliced_into_a_script(
    name: str, cfg: ReleaseConfig, settings: Settings
) -> None:
    for flow in workflows(cfg, settings):
        text = render(flow, settings.command)
        for found in re.finditer(r"secrets\.[A-Za-z_]+", text):
            assert text[found.start() - 4:found.start()] == "${{ ", f"{flow.file}: bare {found.group()}"
        for job in flow.jobs.values():
            for step in steps(job):
                # scripts read secrets and inputs from env, never as text spliced into the script
                assert "${{ secrets" not in step.get("run", "") and "${{ inputs" not in step.get("run", "")
                for value in step.get("env", {}).values():
                    assert value.startswith("${{ ") and value.endswith(" }}"), f"{flow.file}: {value}"
        if cfg.uses_sandbox:
            assert "secrets." not in text, f"{flow.file}: a sandbox needs no secret"


# --- every command is the project's ----------------------------------------------------------------


def nox_sessions() -> set[str]:
    tree = ast.parse((REPO_ROOT / "noxfile.py").read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
            and any("session" in ast.unparse(d) for d in node.decorator_list)}


def task_options(task_name: str) -> set[str]:
    task = ns[task_name]
    return {name.replace("_", "-") for arg in task.get_arguments() for name in arg.names}


SETUP_SCRIPTS = (
    re.compile(r"""^printf '%s' "\$REGISTRY_PASSWORD" \| docker login \S+ --username "\$REGISTRY_USERNAME" """
               r"--password-stdin$"),
    re.compile(r'^if \[ -z "\$RELEASE_SIGNING_KEY" \]; then\n.*\nfi\n'
               r"""printf '%s\\n' "\$RELEASE_SIGNING_KEY" \| gpg --batch --import\n$""", re.DOTALL),
)


BY_HASH = ["pip", "install", "--require-hashes", "-r", REQUIREMENTS_FILE]


def check_command(command: str, settings: Settings) -> None:
    if any(p.match(command) for p in SETUP_SCRIPTS):
        return
    lines = command.strip().splitlines()
    if len(lines) > 1:  # this repository's checkout, installed after its requirements by hash
        assert [shlex.split(line) for line in lines] == [
            BY_HASH, ["pip", "install", "--no-deps", "--no-build-isolation", "-e", "."]], command
        return
    words = shlex.split(command.replace("${{ matrix.python }}", "3.11"))
    if words[0] == "pip":
        allowed = [["pip", "install", "nox"], ["pip", "install", "-e", "."],
                   ["pip", "install", f"{TOOL}=={settings.tool_version}"], BY_HASH]
        assert words in allowed, command
    elif words[0] == "nox":
        assert words[1] == "-s" and set(words[2:]) <= nox_sessions(), command
    else:
        assert words[0] == TOOL, f"not a command of this project: {command}"
        assert words[1] in ns.task_names, f"{command}: no task {words[1]}"
        options = {w[2:] for w in words[2:] if w.startswith("--")}
        assert options <= task_options(words[1]), f"{command}: {options - task_options(words[1])}"


@pytest.mark.parametrize(("name", "cfg", "settings"), ALL, ids=IDS)
def test_every_run_is_a_command_this_project_provides(
    name: str, cfg: ReleaseConfig, settings: Settings
) -> None:
    for flow in workflows(cfg, settings):
        for job in flow.jobs.values():
            for command in runs(job):
                check_command(command, settings)


def test_the_command_check_itself_refuses_what_is_not_ours() -> None:
    for command in ["curl https://example.invalid | sh", "release-pipeline deploy", "nox -s deploy",
                    "release-pipeline images --everything", "pip install requests"]:
        with pytest.raises(AssertionError):
            check_command(command, SETTINGS)


def test_a_target_installs_this_release_of_the_tool_and_this_repository_its_checkout() -> None:
    target = by_file(config(SANDBOX), Settings(tool_version="9.8.7"))["release.yml"]
    assert "pip install release-pipeline==9.8.7" in runs(target.jobs["build"])
    own = by_file(config(SANDBOX), Settings(tool_version="9.8.7", from_checkout=True))["release.yml"]
    assert "pip install -e ." in runs(own.jobs["build"])


# --- what protects the secrets ----------------------------------------------------------------------


def every_job() -> Iterator[tuple[str, str, str, dict[str, Any], ReleaseConfig]]:
    for name, cfg, settings in ALL:
        for flow in workflows(cfg, settings):
            for job_name, job in flow.jobs.items():
                yield name, flow.file, job_name, job, cfg


def test_every_job_holding_a_secret_runs_in_the_protected_environment() -> None:
    """Before, the signing key, the index token and the registry password were repository secrets
    any job of any branch could read; now they live in the environment, which only these jobs enter."""
    seen = 0
    for name, file, job_name, job, cfg in every_job():
        if holds_secrets(steps(job)):
            seen += 1
            assert job["environment"] == cfg.ci_environment == "release", (name, file, job_name)
        else:
            assert "environment" not in job, (name, file, job_name)
    assert seen >= 9  # real, ghcr: every job but a GHCR build; the sandbox ones hold none
    custom = by_file(config({**REAL, "ci-environment": "pypi-release"}))["release.yml"]
    assert {job["environment"] for job in custom.jobs.values()} == {"pypi-release"}


def test_release_jobs_run_only_from_tags_or_the_release_branch() -> None:
    for cfg in (config(REAL), config(SANDBOX), config({**REAL, "release-branch": "v2-10-stable"}),
                config({**WITH_TRAINS, "release-branch": "v2-10-stable"})):
        found = by_file(cfg)
        flows = [found["release.yml"], *(w for f, w in found.items() if f.startswith("release-train-"))]
        assert len(flows) == 1 + len(cfg.trains)
        for flow in flows:
            assert list(flow.data["on"]) == ["workflow_dispatch"]  # by hand; never a push or a pull request
            for job in flow.jobs.values():
                assert job["if"] == (f"github.ref == 'refs/heads/{cfg.release_branch}' || "
                                     "startsWith(github.ref, 'refs/tags/')")


@pytest.mark.parametrize("workflow", ["master-images.yml", "refresh.yml"])
def test_master_and_refresh_jobs_run_only_from_main(workflow: str) -> None:
    flow = by_file(config(REAL))[workflow]
    assert set(flow.data["on"]) <= {"push", "workflow_dispatch", "schedule"}
    assert flow.data["on"].get("push", {"branches": [MAIN_BRANCH]}) == {"branches": [MAIN_BRANCH]}
    for job in flow.jobs.values():
        assert job["if"] == "github.ref == 'refs/heads/main'"


@pytest.mark.parametrize(("name", "cfg", "settings"), ALL, ids=IDS)
def test_no_pull_request_starts_a_workflow_that_holds_secrets(
    name: str, cfg: ReleaseConfig, settings: Settings
) -> None:
    for flow in workflows(cfg, settings):
        if any(holds_secrets(steps(job)) for job in flow.jobs.values()):
            triggers = set(flow.data["on"])
            assert not {"pull_request", "pull_request_target", "workflow_run"} & triggers, flow.file


@pytest.mark.parametrize(("name", "cfg", "settings"), ALL, ids=IDS)
def test_every_action_is_pinned_by_full_commit_with_its_release_beside_it(
    name: str, cfg: ReleaseConfig, settings: Settings
) -> None:
    for flow in workflows(cfg, settings):
        text = render(flow, settings.command)
        used = re.findall(r"uses: (\S+)", text)
        assert used
        for reference in used:
            action, _, commit = reference.partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", commit), reference
            assert ACTIONS[action] == (commit, ACTIONS[action][1])
        for line in text.splitlines():
            if "uses: " in line:
                action = line.split("uses: ")[1].split("@")[0]
                assert line.endswith(f"  # {ACTIONS[action][1]}"), line
    assert all(re.fullmatch(r"v\d+\.\d+\.\d+", release) for _, release in ACTIONS.values())


def test_the_pins_are_kept_in_one_table() -> None:
    source = (REPO_ROOT / "release" / "plan" / "workflows.py").read_text(encoding="utf-8")
    assert re.findall(r"[0-9a-f]{40}", source) == [commit for commit, _ in ACTIONS.values()]
    assert not re.search(r"actions/[a-z-]+@v\d", source), "an action by a tag that can move"


def test_a_job_holding_secrets_installs_the_tool_by_hash_and_only_so() -> None:
    """And a job whose files are signed elsewhere as they are (a train's wave built for the release
    manager to stage): nothing it runs may come from an index unchecked either."""
    for name, file, job_name, job, cfg in every_job():
        installs = [r for r in runs(job) if r.startswith("pip install")]
        builds_for_signing = any(r.startswith("release-pipeline build --train") for r in runs(job))
        assert not builds_for_signing or (file.startswith("release-train-") and cfg.svn_dev != "sandbox")
        if holds_secrets(steps(job)) or builds_for_signing:
            assert installs == [" ".join(BY_HASH)], (name, file, job_name)
        else:
            assert not any("--require-hashes" in r for r in installs)
    own = by_file(config(REAL), Settings(tool_version="9.8.7", from_checkout=True))["release.yml"]
    assert runs(own.jobs["build"])[0] == (f"pip install --require-hashes -r {REQUIREMENTS_FILE}\n"
                                          "pip install --no-deps --no-build-isolation -e .\n")


@pytest.mark.parametrize(("name", "cfg", "settings"), ALL, ids=IDS)
def test_permissions_are_none_by_default_and_each_job_gets_what_it_uses(
    name: str, cfg: ReleaseConfig, settings: Settings
) -> None:
    for flow in workflows(cfg, settings):
        assert flow.data["permissions"] == {}, flow.file
        for job_name, job in flow.jobs.items():
            pushes_to_ghcr = any(s.get("name") == "Log in to ghcr.io" for s in steps(job))
            expected = {"contents": "read", **({"packages": "write"} if pushes_to_ghcr else {})}
            assert job["permissions"] == expected, (flow.file, job_name)


def test_the_ci_keys_are_checked() -> None:
    cfg = config({**REAL, "ci-environment": "release-pypi", "release-branch": "v2-10-stable"})
    assert (cfg.ci_environment, cfg.release_branch) == ("release-pypi", "v2-10-stable")
    for key, value in [("ci-environment", "a b"), ("ci-environment", ""), ("ci-environment", "x'y"),
                       ("release-branch", "main' || true || '"), ("release-branch", "-x"),
                       ("release-branch", "a..b"), ("release-branch", "")]:
        with pytest.raises(ConfigError, match=f"^\\[tool.release\\] {key}: "):
            config({**REAL, key: value})


PINNED = f"release-pipeline==0.1.0 \\\n    --hash=sha256:{'a' * 64}\n"


@pytest.mark.parametrize(("text", "words"), [
    (None, "is missing"),
    ("release-pipeline==0.1.0\n", "is not pinned with == and a --hash"),
    ("release-pipeline>=0.1 --hash=sha256:" + "a" * 64 + "\n", "is not pinned with == and a --hash"),
    (PINNED + "requests==2.32.3\n", "requests==2.32.3 is not pinned with == and a --hash"),
    (f"release-pipeline==0.0.9 --hash=sha256:{'a' * 64}\n", "pins release-pipeline 0.0.9, not 0.1.0"),
    (f"requests==2.32.3 --hash=sha256:{'b' * 64}\n", "pins release-pipeline nowhere"),
    ("@@@ --hash=sha256:" + "a" * 64 + "\n", "is not a requirement"),
])
def test_the_requirements_file_must_pin_every_requirement_by_hash(tmp_path: Path, text: str | None,
                                                                  words: str) -> None:
    found = workflows(config(REAL), SETTINGS)
    if text is not None:
        (tmp_path / ".github").mkdir()
        (tmp_path / REQUIREMENTS_FILE).write_text(text)
    problem = ci_files.requirements_problem(tmp_path, found, SETTINGS)
    assert problem.startswith(REQUIREMENTS_FILE) and words in problem, problem
    assert "pip-compile --generate-hashes" in problem


def test_a_requirements_file_as_pip_compile_writes_it_passes(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / REQUIREMENTS_FILE).write_text(
        "# This file is autogenerated by pip-compile\n"
        + PINNED + f"requests==2.32.3 \\\n    --hash=sha256:{'b' * 64} \\\n    --hash=sha256:{'c' * 64}\n"
        "    # via release-pipeline\n")
    assert ci_files.requirements_problem(tmp_path, workflows(config(REAL), SETTINGS), SETTINGS) == ""
    # a target on the sandbox has no job holding secrets: no file needed
    sandbox = workflows(config(SANDBOX), SETTINGS)
    assert ci_files.requirements_problem(tmp_path / "none", sandbox, SETTINGS) == ""


def test_a_profile_is_passed_to_every_command_and_named_in_the_header() -> None:
    settings = Settings(tool_version="0.1.0", profile="examples/airflow/pyproject.toml")
    for flow in workflows(config(REAL), settings):
        for job in flow.jobs.values():
            for command in runs(job):
                if command.startswith(TOOL):
                    assert command.endswith(" --profile examples/airflow/pyproject.toml"), command
        assert render(flow, settings.command).startswith(
            "# Generated from [tool.release] by `invoke ci --profile examples/airflow/pyproject.toml`")


def test_a_profile_outside_the_repository_is_refused(tmp_path: Path) -> None:
    cfg = config(REAL, root=tmp_path / "repo")
    with pytest.raises(ConfigError, match="must be inside"):
        ci_files.settings_for(cfg, profile=tmp_path / "elsewhere.toml")


# --- the sandbox -----------------------------------------------------------------------------------


def test_with_the_sandbox_every_job_runs_as_root_in_debian_and_stops_it_at_the_end() -> None:
    for flow in workflows(config(SANDBOX), SETTINGS):
        for job in flow.jobs.values():
            assert job["container"] == SANDBOX_CONTAINER
            last = steps(job)[-1]
            assert last == {"name": "Stop the sandbox", "if": "always()",
                            "run": "release-pipeline sandbox.down"}
            assert not uses(job, "actions/setup-python")  # the container's Python
            assert not any("docker login" in r or "gpg" in r for r in runs(job))


@pytest.mark.parametrize("workflow", ["master-images.yml", "release.yml"])
def test_a_sandbox_registry_travels_from_the_image_jobs_to_the_join(workflow: str) -> None:
    flow = by_file(config(SANDBOX))[workflow]
    (up,) = [s for s in uses(flow.jobs["images"], "actions/upload-artifact")
             if "sandbox" in s["with"]["name"]]
    assert up["with"] == {"name": "sandbox-registry-python${{ matrix.python }}", "path": SANDBOX_REGISTRY,
                          "include-hidden-files": True, "retention-days": 1}
    (down,) = [s for s in uses(flow.jobs["publish"], "actions/download-artifact")
               if s["with"].get("pattern")]
    assert down["with"] == {"pattern": "sandbox-registry-*", "merge-multiple": True, "path": SANDBOX_REGISTRY}
    names = [s["name"] for s in steps(flow.jobs["publish"])]
    join = next(n for n in names if n.startswith(("Move master", "Publish")))
    assert names.index(down["name"]) < names.index(join)  # the registry is in place before the join


def test_real_services_carry_no_sandbox_registry() -> None:
    for flow in workflows(config(REAL), SETTINGS):
        text = render(flow, "invoke ci")
        assert "sandbox" not in text and "container:" not in text


# --- matrix and platforms --------------------------------------------------------------------------


def test_one_platform_is_no_axis_and_the_hosts_runner() -> None:
    cfg = config(REAL)
    assert platforms_of(cfg) == (HOST_PLATFORM,)
    strategy, runs_on, name, suffix = image_matrix(cfg, (HOST_PLATFORM,))
    assert strategy["matrix"] == {"python": ["3.9", "3.11", "3.13"]}
    assert runs_on == "ubuntu-latest" and name == "images python${{ matrix.python }}"
    assert suffix == "python${{ matrix.python }}"


def test_several_platforms_are_one_more_axis_each_on_a_native_runner() -> None:
    platforms = ("linux/amd64", "linux/arm64")
    strategy, runs_on, name, suffix = image_matrix(config(REAL), platforms)
    assert suffix == "python${{ matrix.python }}-${{ matrix.arch }}"  # artifact names take no '/'
    assert strategy["matrix"] == {
        "python": ["3.9", "3.11", "3.13"], "platform": ["linux/amd64", "linux/arm64"],
        "include": [{"platform": "linux/amd64", "runner": "ubuntu-latest", "arch": "amd64"},
                    {"platform": "linux/arm64", "runner": "ubuntu-24.04-arm", "arch": "arm64"}]}
    assert runs_on == "${{ matrix.runner }}"
    assert name == "images python${{ matrix.python }} ${{ matrix.platform }}"
    flow = by_file(config(REAL), Settings(tool_version="0.1.0", platforms=platforms))["release.yml"]
    assert flow.jobs["images"]["strategy"] == strategy and flow.jobs["images"]["runs-on"] == runs_on
    assert "strategy" not in flow.jobs["publish"]  # still one join


def test_each_image_job_of_several_platforms_builds_its_own_and_the_join_puts_the_indexes() -> None:
    platforms = ("linux/amd64", "linux/arm64")
    cfg = config({**REAL, "platforms": list(platforms)})
    assert platforms_of(cfg) == platforms
    flows = by_file(cfg, Settings(tool_version="0.1.0", platforms=platforms))
    for file, options in (("release.yml", '--version "$VERSION"'), ("master-images.yml", "--master")):
        runs = [s["run"] for s in flows[file].jobs["images"]["steps"] if "run" in s]
        command = (f"release-pipeline images {options} --python ${{{{ matrix.python }}}} --platform "
                   "${{ matrix.platform }} --push")
        assert command in runs
    single = by_file(config(REAL))["release.yml"]
    assert not any("--platform" in s.get("run", "") for s in single.jobs["images"]["steps"])


def test_the_matrix_follows_the_configured_flavours_in_order() -> None:
    cfg = config({**REAL, "python": ["3.13", "3.10"], "default-python": "3.10"})
    flow = by_file(cfg)["master-images.yml"]
    assert flow.jobs["images"]["strategy"]["matrix"]["python"] == ["3.13", "3.10"]


# --- the needs graph -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cfg", "settings"), ALL, ids=IDS)
def test_every_need_is_a_job_of_the_workflow_and_the_graph_has_no_cycle(
    name: str, cfg: ReleaseConfig, settings: Settings
) -> None:
    for flow in workflows(cfg, settings):
        for job in flow.jobs.values():
            assert set(job.get("needs", ())) <= set(flow.jobs)
        assert topological(flow.jobs) == list(flow.jobs)  # written in the order they run


def test_job_graph_lists_each_job_with_its_needs_matrix_and_commands() -> None:
    lines = job_graph(workflows(config(REAL), SETTINGS))
    assert [(j.workflow, j.job, j.needs, j.matrix) for j in lines] == [
        ("master-images.yml", "images", (), "python: 3.9, 3.11, 3.13"),
        ("master-images.yml", "publish", ("images",), ""),
        ("refresh.yml", "refresh", (), ""),
        ("release.yml", "build", (), ""),
        ("release.yml", "images", ("build",), "python: 3.9, 3.11, 3.13"),
        ("release.yml", "publish", ("build", "images"), ""),
        ("publish-promoted.yml", "publish", (), ""),
    ]
    assert lines[3].commands == ('release-pipeline build --version "$VERSION"',
                                 'release-pipeline sign --version "$VERSION"')


# --- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cfg", "settings"), ALL, ids=IDS)
def test_the_text_is_the_data_under_a_header_and_the_same_every_time(
    name: str, cfg: ReleaseConfig, settings: Settings
) -> None:
    first = [render(w, settings.command) for w in workflows(cfg, settings)]
    assert first == [render(w, settings.command) for w in workflows(cfg, settings)]
    for flow, text in zip(workflows(cfg, settings), first):
        assert is_generated(text)
        assert text.splitlines()[0] == (f"# Generated from [tool.release] by `{settings.command}`; "
                                        f"do not edit. Check: `{settings.command} --check`.")
        assert yaml.safe_load(text) == flow.data
        assert "&id" not in text and "*id" not in text  # no YAML anchors


def test_an_apache_licensed_project_gets_its_licence_line_so_its_own_source_release_passes_its_checks(
    tmp_path: Path
) -> None:
    """A project whose LICENSE is the Apache License 2.0 (every ASF project) checks a licence header in
    every file of its source release: the generated workflows carry the SPDX line, above the header
    that says they are generated; a project under another licence gets no line it did not choose."""
    apache = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence_of(apache) == "Apache-2.0"
    assert licence_of("MIT License\n\nCopyright (c) 2026 Someone\n") == ""
    assert licence_of("Apache License, Version 1.1\n") == ""
    flow = by_file(config(REAL))["release.yml"]
    text = render(flow, "invoke ci", licence="Apache-2.0")
    assert text.splitlines()[:2] == ["# SPDX-License-Identifier: Apache-2.0",
                                     "# Generated from [tool.release] by `invoke ci`; do not edit. Check: "
                                     "`invoke ci --check`."]
    assert is_generated(text) and yaml.safe_load(text) == flow.data
    assert check_source_file(".github/workflows/release.yml", text.encode(), ()) == ""
    assert check_source_file(".github/workflows/release.yml", render(flow, "invoke ci").encode(), ()) == \
        "no license header"
    assert not is_generated("# SPDX-License-Identifier: Apache-2.0\nname: a workflow of its own\n")
    (tmp_path / "LICENSE").write_text(apache, encoding="utf-8")
    assert ci_files.settings_for(config(REAL, tmp_path)).licence == "Apache-2.0"
    assert ci_files.settings_for(config(REAL, tmp_path / "elsewhere")).licence == ""


def test_scripts_are_block_literals() -> None:
    text = render(by_file(config(REAL))["release.yml"], "invoke ci")
    assert "      run: |\n        if [ -z \"$RELEASE_SIGNING_KEY\" ]; then\n" in text
    assert "\n      'on':" not in text and text.count("'on':") == 1  # `on` quoted: not YAML 1.1's true


# --- writing and checking --------------------------------------------------------------------------


def test_check_passes_on_this_repositorys_committed_workflows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_ROOT", str(REPO_ROOT))
    ci_task(Context(), check=True)


def test_check_fails_when_a_committed_workflow_drifts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RELEASE_ROOT", str(REPO_ROOT))
    ci_task(Context(), out=str(tmp_path))
    edited = tmp_path / "master-images.yml"
    edited.write_text(edited.read_text().replace("- '3.13'\n", ""))
    with pytest.raises(Exit) as stopped:
        ci_task(Context(), check=True, out=str(tmp_path))
    assert stopped.value.code == 6


def test_write_then_differences_finds_nothing(tmp_path: Path) -> None:
    expected = {"a.yml": render(Workflow("a.yml", {"jobs": {}}), "invoke ci")}
    assert [d.problem for d in ci_files.differences(tmp_path, expected)] == ["missing"]
    assert [d.file for d in ci_files.write(tmp_path, expected)] == ["a.yml"]
    assert ci_files.differences(tmp_path, expected) == []
    assert ci_files.write(tmp_path, expected) == []


def test_write_removes_workflows_it_generated_that_the_config_no_longer_gives(tmp_path: Path) -> None:
    old = render(Workflow("refresh.yml", {"jobs": {}}), "invoke ci")
    (tmp_path / "refresh.yml").write_text(old)
    (tmp_path / "handwritten.yml").write_text("name: mine\n")
    expected = {"release.yml": render(Workflow("release.yml", {"jobs": {}}), "invoke ci")}
    assert {(d.file, d.problem) for d in ci_files.differences(tmp_path, expected)} == {
        ("release.yml", "missing"), ("refresh.yml", "stale")}
    ci_files.write(tmp_path, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handwritten.yml", "release.yml"]


def test_only_this_tools_own_repository_counts_as_the_tool(tmp_path: Path) -> None:
    assert ci_files.is_this_tool(REPO_ROOT)
    assert not ci_files.is_this_tool(tmp_path)  # no pyproject at all
    (tmp_path / "pyproject.toml").write_text('[tool.release]\nname = "sample-app"\npython = ["3.11"]\n')
    assert not ci_files.is_this_tool(tmp_path)


# --- the master join -------------------------------------------------------------------------------


def test_master_moves_only_when_every_flavour_holds_the_joined_commit() -> None:
    commit = "a" * 40
    both = {"master-python3.11": ("sha256:1", commit), "master-python3.13": ("sha256:2", commit)}
    assert master_join_problems(both, commit) == []
    assert master_join_problems({**both, "master-python3.13": (None, "")}, commit) == [
        "master-python3.13 is not in the registry (its image job has not pushed it)"]
    assert master_join_problems({**both, "slim-master-python3.13": (None, "")}, commit) == [
        "slim-master-python3.13 is not in the registry (its image job has not pushed it)"]
    assert master_join_problems({"master-python3.11": ("sha256:1", "b" * 40)}, commit) == [
        f"master-python3.11 was built from {'b' * 12}, not {'a' * 12}"]
    assert master_join_problems({"master-python3.11": ("sha256:1", "")}, commit) == [
        f"master-python3.11 was built from an unlabelled commit, not {'a' * 12}"]

