# SPDX-License-Identifier: Apache-2.0
"""GitHub Actions workflows for a target, built from its `[tool.release]` as plain data. Pure.

`invoke ci` writes them to `.github/workflows/`; `invoke ci --check` compares. The jobs run the
same commands a release manager runs by hand, split where they can run on separate machines:

- master-images.yml: after a merge to main, one `images` job per flavour (x platform) builds,
  smokes and pushes `master-pythonP` (with several platforms `master-pythonP-ARCH`, by its
  `--platform`); the `publish` job joins them (putting each flavour's index) and moves `master`.
- release.yml: by hand with a version: `build` (build and sign), one `images` job per flavour
  (x platform) pushing `V-pythonP` (or `V-pythonP-ARCH`), then `publish` (indexes, uploads,
  aliases, the signed record). With `vote = "asf"` it ships candidates only: for a final the images
  job and publish refuse (a rebuild is not what the PMC voted on); a final ships the voted files with
  `invoke promote` and `invoke publish`.
- publish-promoted.yml (`vote = "asf"` with svn staging): by hand on the final's git tag, after the
  release manager promoted it: `publish` takes the voted files from svn release/ (signatures checked
  against KEYS, checksums, the tag on the candidate's commit), builds the images from the voted
  wheels and ships them; nothing voted on is built or signed again.
- refresh.yml: on a schedule and by hand, `refresh` rebuilds the images whose base moved.
- release-train-NAME.yml, one per `[tool.release.trains.NAME]`: by hand with the wave's date, one
  `wave` job (the wave's executor runs build, sign, checks, stage, tags, images, index and the vote
  email in one process, so its images are not split into jobs of their own) running `release
  --train NAME --date D`, the wave's folder `dist/NAME-D/` kept as an artifact for the release
  manager's vote-result and promote. svn dev commits are the release manager's own (no svn
  credentials are given to CI): a train staging in a real svn dev gets `build --train` only, and
  the manager resumes the run from the artifact.
- publish-promoted-train-NAME.yml, after a train's release workflow when a runner can publish its
  promoted waves (a real svn release, not staged in ATR): by hand with the wave's date (a
  versioned train: its final version), `publish --train NAME --date D` (`--version V`) on a runner
  without the wave's record: what the final tags on the wave's commit say was promoted, read from svn
  release and checked against KEYS and the checksums, uploaded as it is, a versioned train's checked
  candidate images given their final tags; nothing built or signed.
- tests.yml: the README's test command, for this tool's own repository.

The jobs meet through the registry and the index, which the secrets open. With a `sandbox` value
each job brings the sandbox up on its runner instead (as root, in a Debian container); what a join
needs from an image job's sandbox registry travels as an artifact.

What protects the secrets (docs/ci.md, "Protections"): every job that holds one runs in the
protected environment `ci-environment` names (its secrets live there, not in the repository), and
installs this tool by hash (`pip install --require-hashes -r .github/release-requirements.txt`), as
does a train's wave built for the release manager to sign; release jobs (a train's too) run only
from tags or `release-branch`, master and refresh jobs only from main (an `if:` on the ref, besides
the environment's own branch rules); no workflow holding secrets is started by
a pull request; every action is pinned by its full commit (ACTIONS); `permissions:` is empty at the
top and each job gets what it uses (contents: read; packages: write where it pushes to GHCR).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from release.config import SANDBOX, ReleaseConfig
from release.trains import SvnLayout, Train

TOOL = "release-pipeline"  # this tool's distribution name and its command
REGENERATE = "invoke ci"
HEADER = "# Generated from [tool.release] by `{command}`; do not edit. Check: `{command} --check`.\n"
MAIN_BRANCH = "main"
REFRESH_CRON = "23 4 * * *"  # daily, off the hour
HOST_PLATFORM = "linux/amd64"
RUNNERS = {"linux/amd64": "ubuntu-latest", "linux/arm64": "ubuntu-24.04-arm"}
RUNNER_PYTHON = "3.11"
# A sandbox needs root on Debian (dockerd, debootstrap): a privileged Debian container with Python,
# /var/lib/docker on a volume so the engine it starts can use overlayfs.
SANDBOX_CONTAINER = {"image": "python:3.11-bookworm", "options": "--privileged",
                     "volumes": ["/var/lib/docker"]}

# Every action by the full commit its release tag named when it was pinned (a tag can be moved to
# other code, a commit cannot); the files show the release beside it as a comment. To update one, take
# the commit of the new release's tag: `git ls-remote https://github.com/actions/checkout
# 'refs/tags/v6.1.0^{}'` (the `^{}` line of an annotated tag), and check the release notes.
ACTIONS: dict[str, tuple[str, str]] = {  # action -> (commit, release)
    "actions/checkout": ("d23441a48e516b6c34aea4fa41551a30e30af803", "v6.1.0"),
    "actions/setup-python": ("ece7cb06caefa5fff74198d8649806c4678c61a1", "v6.3.0"),
    "actions/upload-artifact": ("b7c566a772e6b6bfb58ed0dc250532a479d7789f", "v6.0.0"),
    "actions/download-artifact": ("37930b1c2abaa49bbe596cd826c3c89aef350131", "v7.0.0"),
}


def pinned(action: str) -> str:
    """`owner/name@<full commit>` of an action in ACTIONS."""
    return f"{action}@{ACTIONS[action][0]}"


CHECKOUT = pinned("actions/checkout")  # the first majors on the node24 runtime
SETUP_PYTHON = pinned("actions/setup-python")
UPLOAD = pinned("actions/upload-artifact")
DOWNLOAD = pinned("actions/download-artifact")
# The tool and every requirement of it, pinned with their hashes: what the jobs that hold secrets
# install (the repository keeps it; docs/ci.md says how to make it).
REQUIREMENTS_FILE = ".github/release-requirements.txt"
NO_PERMISSIONS: dict[str, str] = {}  # the workflows' own default: each job says what it needs

# Repository secrets the workflows read (names only: the values stay in the repository's settings)
REGISTRY_USERNAME = "REGISTRY_USERNAME"
REGISTRY_PASSWORD = "REGISTRY_PASSWORD"
TWINE_USERNAME = "TWINE_USERNAME"
TWINE_PASSWORD = "TWINE_PASSWORD"
SIGNING_KEY = "RELEASE_SIGNING_KEY"
ATR_UID = "RELEASE_ATR_UID"  # what the ATR client reads (release/adapters/atr.py: UID_ENV, TOKEN_ENV)
ATR_TOKEN = "RELEASE_ATR_TOKEN"
GHCR = "ghcr.io"

SANDBOX_REGISTRY = ".release/registry"  # the sandbox registry's storage, relative to the checkout
VERSION_ENV = "VERSION"


def expression(text: str) -> str:
    """`${{ text }}`: a GitHub Actions expression."""
    return "${{ " + text + " }}"


def secret(name: str) -> str:
    return expression(f"secrets.{name}")


def matrix(name: str) -> str:
    return expression(f"matrix.{name}")


@dataclass(frozen=True)
class Workflow:
    file: str  # name in .github/workflows/
    data: dict[str, Any]

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        jobs: dict[str, dict[str, Any]] = self.data["jobs"]
        return jobs


@dataclass(frozen=True)
class Settings:
    """What the workflows are made from besides `[tool.release]`."""

    tool_version: str  # the release-pipeline the jobs install (this one)
    platforms: tuple[str, ...] = (HOST_PLATFORM,)
    profile: str = ""  # the profile file the config came from, relative to the repository root
    from_checkout: bool = False  # the repository is this tool: jobs install it from the checkout
    # the project's licence as an SPDX id, when its LICENSE file says (`licence_of`): the files carry
    # it, so a source release of the repository passes its own licence header check
    licence: str = ""

    @property
    def command(self) -> str:
        """The command that regenerates the workflows."""
        return REGENERATE + (f" --profile {shlex.quote(self.profile)}" if self.profile else "")


def platforms_of(config: ReleaseConfig) -> tuple[str, ...]:
    """The configured image platforms (`platforms`); without the key, the runner's own single one
    (not the platform of the machine that writes the workflows)."""
    return config.platforms or (HOST_PLATFORM,)


def _platform_option(settings: Settings) -> tuple[str, ...]:
    """Each image job builds its own platform when there are several."""
    return ("--platform", matrix("platform")) if len(settings.platforms) > 1 else ()


# --- steps ------------------------------------------------------------------------------------------


def _run(name: str, command: str, env: Mapping[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"name": name}
    if env:
        step["env"] = dict(env)
    step.update(extra)
    step["run"] = command
    return step


def _install(settings: Settings, *, by_hash: bool) -> dict[str, Any]:
    """The tool: by hash from REQUIREMENTS_FILE in a job that holds secrets (nothing else it runs
    may come from an index unchecked), else this release of it from the index."""
    if settings.from_checkout:  # this repository: the tool under test is the checkout
        if by_hash:
            return _run(f"Install {TOOL}'s requirements by hash, then the checkout",
                        f"pip install --require-hashes -r {REQUIREMENTS_FILE}\n"
                        "pip install --no-deps --no-build-isolation -e .\n")
        return _run(f"Install {TOOL} from the checkout", "pip install -e .")
    if by_hash:
        return _run(f"Install {TOOL} by hash", f"pip install --require-hashes -r {REQUIREMENTS_FILE}")
    return _run(f"Install {TOOL}", f"pip install {TOOL}=={settings.tool_version}")


def _setup(config: ReleaseConfig, settings: Settings, *, by_hash: bool,
           full_history: bool = False) -> list[dict[str, Any]]:
    checkout: dict[str, Any] = {"persist-credentials": False}
    # refresh reads an image's commit; publish-promoted, the candidate's tag; a wave, every last tag
    if full_history:
        checkout["fetch-depth"] = 0
    steps: list[dict[str, Any]] = [{"name": "Check out", "uses": CHECKOUT, "with": checkout}]
    if not config.uses_sandbox:  # the sandbox's container has its Python
        steps.append({"name": "Set up Python", "uses": SETUP_PYTHON,
                      "with": {"python-version": RUNNER_PYTHON}})
    steps.append(_install(settings, by_hash=by_hash))
    return steps


def holds_secrets(steps: Sequence[dict[str, Any]]) -> bool:
    """Whether a job's steps read a secret (the registry's, twine's, the signing key, GITHUB_TOKEN)."""
    return any("secrets." in str(value) for step in steps for value in step.get("env", {}).values())


def on_ref(*refs: str) -> str:
    """An `if:` true only on these refs: `refs/heads/main` exactly, or `refs/tags/` for any tag."""
    return " || ".join(f"startsWith(github.ref, '{ref}')" if ref.endswith("/") else f"github.ref == '{ref}'"
                       for ref in refs)


def main_only() -> str:
    return on_ref(f"refs/heads/{MAIN_BRANCH}")


def release_refs(config: ReleaseConfig) -> str:
    return on_ref(f"refs/heads/{config.release_branch}", "refs/tags/")


def _login(config: ReleaseConfig) -> list[dict[str, Any]]:
    """docker login from secrets (GHCR: the workflow's own token); docker and the registry client
    both read the credentials docker stores."""
    if config.registry == SANDBOX:
        return []
    if config.registry == GHCR:
        env = {REGISTRY_USERNAME: "${{ github.actor }}", REGISTRY_PASSWORD: secret("GITHUB_TOKEN")}
    else:
        env = {REGISTRY_USERNAME: secret(REGISTRY_USERNAME), REGISTRY_PASSWORD: secret(REGISTRY_PASSWORD)}
    command = (f'printf \'%s\' "${REGISTRY_PASSWORD}" | docker login {shlex.quote(config.registry)} '
               f'--username "${REGISTRY_USERNAME}" --password-stdin')
    return [_run(f"Log in to {config.registry}", command, env)]


def _import_key(config: ReleaseConfig, instead: str = f"sign dist/${VERSION_ENV}/ locally"
                ) -> list[dict[str, Any]]:
    """The release manager's key from a secret into the runner's gpg; without the secret the job
    stops here, before signing, saying what the manager does `instead` (docs/ci.md)."""
    if config.signing_key == SANDBOX:
        return []
    command = (
        f'if [ -z "${SIGNING_KEY}" ]; then\n'
        f'  echo "::error::no {SIGNING_KEY} secret: stopping before signing; {instead} '
        '(docs/ci.md)"\n'
        "  exit 1\n"
        "fi\n"
        f'printf \'%s\\n\' "${SIGNING_KEY}" | gpg --batch --import\n'
    )
    return [_run("Import the signing key", command, {SIGNING_KEY: secret(SIGNING_KEY)})]


def _twine_env(config: ReleaseConfig) -> dict[str, str]:
    if config.index == SANDBOX:
        return {}
    return {TWINE_USERNAME: secret(TWINE_USERNAME), TWINE_PASSWORD: secret(TWINE_PASSWORD)}


def _tool(settings: Settings, task: str, *args: str) -> str:
    profile = ("--profile", shlex.quote(settings.profile)) if settings.profile else ()
    return " ".join([TOOL, task, *args, *profile])


def _sandbox_down(config: ReleaseConfig) -> list[dict[str, Any]]:
    if not config.uses_sandbox:
        return []
    return [{"name": "Stop the sandbox", "if": "always()", "run": f"{TOOL} sandbox.down"}]


def _carry_registry_up(config: ReleaseConfig, suffix: str) -> list[dict[str, Any]]:
    """An image job's sandbox registry, handed to the join (a sandbox lives on one runner)."""
    if config.registry != SANDBOX:
        return []
    return [{"name": "Hand the sandbox registry to the join", "uses": UPLOAD,
             "with": {"name": f"sandbox-registry-{suffix}", "path": SANDBOX_REGISTRY,
                      "include-hidden-files": True, "retention-days": 1}}]


def _carry_registry_down(config: ReleaseConfig) -> list[dict[str, Any]]:
    if config.registry != SANDBOX:
        return []
    return [{"name": "Take over the image jobs' sandbox registries", "uses": DOWNLOAD,
             "with": {"pattern": "sandbox-registry-*", "merge-multiple": True, "path": SANDBOX_REGISTRY}}]


# --- jobs -------------------------------------------------------------------------------------------


def _job(config: ReleaseConfig, settings: Settings, steps: list[dict[str, Any]], *, when: str,
         needs: Sequence[str] = (), timeout: int = 30, name: str = "", runs_on: str = RUNNERS[HOST_PLATFORM],
         strategy: dict[str, Any] | None = None, full_history: bool = False,
         builds_release: bool = False) -> dict[str, Any]:
    """A job running `steps` after checking out and installing the tool, only when `when` holds
    (an `if:` on the ref); one that holds secrets runs in the protected environment and installs by
    hash, and so does one that `builds_release` files to be signed elsewhere without a rebuild."""
    secret = holds_secrets(steps)
    job: dict[str, Any] = {}
    if name:
        job["name"] = name
    if needs:
        job["needs"] = list(needs)
    job["if"] = when
    job["runs-on"] = runs_on
    if secret:
        job["environment"] = config.ci_environment
    logs_in_to_ghcr = any(s.get("name") == f"Log in to {GHCR}" for s in steps)
    job["permissions"] = {"contents": "read", **({"packages": "write"} if logs_in_to_ghcr else {})}
    if config.uses_sandbox:
        job["container"] = dict(SANDBOX_CONTAINER)
    job["timeout-minutes"] = timeout
    if strategy:
        job["strategy"] = strategy
    job["steps"] = [*_setup(config, settings, by_hash=secret or builds_release, full_history=full_history),
                    *steps]
    return job


def image_matrix(config: ReleaseConfig, platforms: Sequence[str]) -> tuple[dict[str, Any], str, str, str]:
    """(strategy, runs-on, job name, artifact suffix) for one job per flavour, and per platform
    when there are several (a native runner each)."""
    axes: dict[str, Any] = {"python": list(config.python)}
    name = f"images python{matrix('python')}"
    suffix = f"python{matrix('python')}"
    runs_on = RUNNERS.get(platforms[0], RUNNERS[HOST_PLATFORM]) if len(platforms) == 1 else matrix("runner")
    if len(platforms) > 1:
        axes["platform"] = list(platforms)
        axes["include"] = [{"platform": p, "runner": RUNNERS.get(p, RUNNERS[HOST_PLATFORM]),
                            "arch": p.rpartition("/")[2]} for p in platforms]
        name += f" {matrix('platform')}"
        suffix += f"-{matrix('arch')}"
    return {"fail-fast": False, "matrix": axes}, runs_on, name, suffix


def _tests(config: ReleaseConfig, settings: Settings) -> Workflow:
    """The README's test command; its integration tests start the sandbox, so as root in Debian."""
    steps = [
        {"name": "Check out", "uses": CHECKOUT, "with": {"persist-credentials": False}},
        _run("Install nox", "pip install nox"),
        _run("Lint and test", "nox -s lint tests"),
    ]
    job = {"runs-on": RUNNERS[HOST_PLATFORM], "permissions": {"contents": "read"},
           "container": dict(SANDBOX_CONTAINER), "timeout-minutes": 90, "steps": steps}
    return Workflow("tests.yml", {
        "name": "Tests",
        "on": {"push": {"branches": [MAIN_BRANCH]}, "pull_request": {}},
        "permissions": NO_PERMISSIONS,
        "concurrency": {"group": "tests-${{ github.ref }}", "cancel-in-progress": True},
        "jobs": {"tests": job},
    })


def _master_images(config: ReleaseConfig, settings: Settings) -> Workflow:
    strategy, runs_on, name, suffix = image_matrix(config, settings.platforms)
    images = [
        *_login(config),
        _run("Build, smoke and push master-python" + matrix("python"),
             _tool(settings, "images", "--master", "--python", matrix("python"), *_platform_option(settings),
                   "--push")),
        *_carry_registry_up(config, suffix),
        *_sandbox_down(config),
    ]
    join = [
        *_login(config),
        *_carry_registry_down(config),
        _run("Move master", _tool(settings, "publish", "--master")),
        *_sandbox_down(config),
    ]
    when = main_only()
    return Workflow("master-images.yml", {
        "name": "Master images",
        "on": {"push": {"branches": [MAIN_BRANCH]}, "workflow_dispatch": {}},
        "permissions": NO_PERMISSIONS,
        "concurrency": {"group": "master-images", "cancel-in-progress": False},
        "jobs": {
            "images": _job(config, settings, images, when=when, name=name, runs_on=runs_on, strategy=strategy,
                           timeout=90),
            "publish": _job(config, settings, join, when=when, needs=["images"]),
        },
    })


RELEASE_INPUT = "the PEP 440 version to release, e.g. 1.10.6 or 1.10.6rc1"
# vote = "asf": this workflow builds candidates; a final's images and uploads are refused here (a rebuild
# is not what was voted on): it ships from its voted candidate with invoke promote, then invoke publish.
RELEASE_INPUT_VOTED = ("the release candidate to build and publish, e.g. 1.10.6rc1 (a final ships only "
                       "from its voted candidate: invoke promote, then invoke publish)")


def _release(config: ReleaseConfig, settings: Settings) -> Workflow:
    strategy, runs_on, name, suffix = image_matrix(config, settings.platforms)
    when = release_refs(config)
    version = f'--version "${VERSION_ENV}"'
    dist = "dist/${{ inputs.version }}/"
    download_dist = {"name": "Take the signed packages", "uses": DOWNLOAD,
                     "with": {"name": "dist", "path": dist}}
    build = [
        _run("Build", _tool(settings, "build", version)),
        *_import_key(config),
        _run("Sign", _tool(settings, "sign", version)),
        {"name": "Keep dist/ (signed, or unsigned when signing stopped)", "uses": UPLOAD, "if": "always()",
         "with": {"name": "dist", "path": dist, "if-no-files-found": "error"}},
        *_sandbox_down(config),
    ]
    images = [
        download_dist,
        *_login(config),
        _run("Build, smoke and push ${{ inputs.version }}-python" + matrix("python"),
             _tool(settings, "images", version, "--python", matrix("python"), *_platform_option(settings),
                   "--push")),
        *_carry_registry_up(config, suffix),
        *_sandbox_down(config),
    ]
    publish = [
        download_dist,
        *_login(config),
        *_import_key(config),
        *_carry_registry_down(config),
        _run("Publish: version tags, uploads, aliases, signed record", _tool(settings, "publish", version),
             _twine_env(config)),
        {"name": "Keep the release record", "uses": UPLOAD,
         "with": {"name": "release-${{ inputs.version }}", "path": dist}},
        *_sandbox_down(config),
    ]
    return Workflow("release.yml", {
        "name": "Release",
        "on": {"workflow_dispatch": {"inputs": {"version": {
            "description": RELEASE_INPUT_VOTED if config.votes else RELEASE_INPUT,
            "required": True, "type": "string"}}}},
        "permissions": NO_PERMISSIONS,
        "concurrency": {"group": "release-${{ inputs.version }}", "cancel-in-progress": False},
        "env": {VERSION_ENV: "${{ inputs.version }}"},
        "jobs": {
            "build": _job(config, settings, build, when=when),
            "images": _job(config, settings, images, when=when, needs=["build"], name=name, runs_on=runs_on,
                           strategy=strategy, timeout=90),
            "publish": _job(config, settings, publish, when=when, needs=["build", "images"]),
        },
    })


PROMOTED_INPUT = ("the final version invoke promote released, e.g. 1.10.6; run this on its tag "
                  "(refs/tags/1.10.6)")


def _publish_promoted(config: ReleaseConfig, settings: Settings) -> Workflow:
    """A promoted final from svn release/ on a runner that has no dist/: only on tags, and the
    pipeline refuses unless the checked-out tag is the final's (the images come from its commit)."""
    publish = [
        *_login(config),
        *_import_key(config),  # the files were signed before the vote; the images, SBOMs and record are new
        _run("Publish the promoted files: images from the voted wheels, uploads, aliases, signed record",
             _tool(settings, "publish", f'--version "${VERSION_ENV}"'), _twine_env(config)),
        {"name": "Keep the release record", "uses": UPLOAD,
         "with": {"name": "release-${{ inputs.version }}", "path": "dist/${{ inputs.version }}/"}},
        *_sandbox_down(config),
    ]
    return Workflow("publish-promoted.yml", {
        "name": "Publish a promoted release",
        "on": {"workflow_dispatch": {"inputs": {"version": {
            "description": PROMOTED_INPUT, "required": True, "type": "string"}}}},
        "permissions": NO_PERMISSIONS,
        "concurrency": {"group": "release-${{ inputs.version }}", "cancel-in-progress": False},
        "env": {VERSION_ENV: "${{ inputs.version }}"},
        "jobs": {"publish": _job(config, settings, publish, when=on_ref("refs/tags/"), timeout=90,
                                 full_history=True)},
    })


def _refresh(config: ReleaseConfig, settings: Settings) -> Workflow:
    steps = [
        *_login(config),
        _run("Rebuild the images whose base image moved", _tool(settings, "refresh")),
        {"name": "Keep the refresh log", "uses": UPLOAD,
         "with": {"name": "base-image-refresh", "path": "docs/base-image-refresh.log",
                  "if-no-files-found": "ignore"}},
    ]
    return Workflow("refresh.yml", {
        "name": "Refresh images",
        "on": {"schedule": [{"cron": REFRESH_CRON}], "workflow_dispatch": {}},
        "permissions": NO_PERMISSIONS,
        "concurrency": {"group": "refresh", "cancel-in-progress": False},
        "jobs": {"refresh": _job(config, settings, steps, when=main_only(), timeout=120, full_history=True)},
    })


DATE_ENV = "DATE"
TRAIN_DATE_INPUT = ("the wave's date, YYYY-MM-DD: its folder dist/{train}-<date>/, its source tarball and "
                    "tags are named by it; the same date in every later command of the wave")


def train_file(train: Train) -> str:
    """The file of the train's release workflow."""
    return f"release-train-{train.name}.yml"


def wave_folder(train: Train) -> str:
    """The wave's folder on the runner, `dist/<train>-<date>/` (release/pipeline/wave_record.py)."""
    return f"dist/{train.name}-" + expression("inputs.date") + "/"


def stages_in_ci(config: ReleaseConfig, train: Train) -> bool:
    """Whether a runner can stage the train's wave: in ATR (its token is a secret) or in the
    sandbox's svn; a real svn dev takes the release manager's own Apache credentials, never CI's."""
    return config.stages_in_atr(train) or config.svn_dev == SANDBOX


def _atr_env(config: ReleaseConfig, train: Train) -> dict[str, str]:
    if not config.stages_in_atr(train) or config.atr_in_sandbox:
        return {}
    return {ATR_UID: secret(ATR_UID), ATR_TOKEN: secret(ATR_TOKEN)}


def _release_train(config: ReleaseConfig, settings: Settings, train: Train) -> Workflow:
    """One by-hand run of the train's wave on one runner. With a real svn dev the job builds the
    wave only (no secret, so no environment; the tool still by hash, as what it builds is signed and
    voted on as it is); the release manager takes the artifact and resumes with `invoke release
    --train NAME --date D`, which keeps the built files."""
    folder = wave_folder(train)
    date = f'--date "${DATE_ENV}"'
    keep = {"name": "Keep the wave's folder (its record, files and emails)", "uses": UPLOAD, "if": "always()",
            "with": {"name": f"wave-{train.name}-" + expression("inputs.date"), "path": folder,
                     "if-no-files-found": "warn"}}
    if stages_in_ci(config, train):
        run = [
            *(_login(config) if train.images else []),
            *_import_key(config, f"run it locally: invoke release --train {train.name} --date ${DATE_ENV}"),
            _run(f"Release the {train.name} wave: build, sign, checks, stage, tags"
                 + (", images" if train.images else "") + ", index, vote email",
                 _tool(settings, "release", "--train", train.name, date),
                 {**_twine_env(config), **_atr_env(config, train)}),
        ]
    else:
        run = [_run(f"Build the {train.name} wave (svn dev is staged by the release manager)",
                    _tool(settings, "build", "--train", train.name, date))]
    steps = [*run, keep, *_sandbox_down(config)]
    return Workflow(train_file(train), {
        "name": f"Release train {train.name}",
        "on": {"workflow_dispatch": {"inputs": {"date": {
            "description": TRAIN_DATE_INPUT.format(train=train.name), "required": True, "type": "string"}}}},
        "permissions": NO_PERMISSIONS,
        "concurrency": {"group": f"train-{train.name}-" + expression("inputs.date"),
                        "cancel-in-progress": False},
        "env": {DATE_ENV: expression("inputs.date")},
        "jobs": {"wave": _job(config, settings, steps, when=release_refs(config), name=f"{train.name} wave",
                              timeout=120 if train.images else 60, full_history=True,
                              builds_release=not stages_in_ci(config, train))},
    })


PROMOTED_TRAIN_FILE = "publish-promoted-train-{name}.yml"
PROMOTED_TRAIN_VERSION = ("the final invoke promote --train {train} released, e.g. 3.3.3: its final tag "
                          "names the wave's commit")
PROMOTED_TRAIN_DATE = ("the promoted wave's date, YYYY-MM-DD: its wave tag names the wave's commit, its "
                       "final tags there what was promoted")


def publishes_promoted_train(config: ReleaseConfig, train: Train) -> bool:
    """Whether a runner can publish the train's promoted waves: from a real svn release (a runner's
    sandbox svn starts empty), not staged in ATR (finished from the promoting tree's record)."""
    return config.svn_release != SANDBOX and not config.stages_in_atr(train)


def _publish_promoted_train(config: ReleaseConfig, settings: Settings, train: Train) -> Workflow:
    """A promoted wave from svn release on a runner without its wave.json: the wave found by the final's
    tag (a versioned train) or its wave tag (by date), its promoted files checked against KEYS and
    their checksums (a versioned train's candidate images too), then uploaded and the images' final
    tags set; nothing is built or signed, so no key, and the registry only for a train with images."""
    versioned = train.svn is SvnLayout.VERSIONED
    key, env = ("version", VERSION_ENV) if versioned else ("date", DATE_ENV)
    described = (PROMOTED_TRAIN_VERSION if versioned else PROMOTED_TRAIN_DATE).format(train=train.name)
    steps = [
        *(_login(config) if train.images else []),
        _run(f"Publish the promoted {train.name} wave: its files from svn release, checked, to the index"
             + (", its images' final tags" if train.images else ""),
             _tool(settings, "publish", "--train", train.name, f'--{key} "${env}"'), _twine_env(config)),
        *_sandbox_down(config),
    ]
    return Workflow(PROMOTED_TRAIN_FILE.format(name=train.name), {
        "name": f"Publish a promoted {train.name} wave",
        "on": {"workflow_dispatch": {"inputs": {key: {"description": described, "required": True,
                                                      "type": "string"}}}},
        "permissions": NO_PERMISSIONS,
        "concurrency": {"group": f"train-{train.name}-" + expression(f"inputs.{key}"),
                        "cancel-in-progress": False},
        "env": {env: expression(f"inputs.{key}")},
        "jobs": {"publish": _job(config, settings, steps, when=release_refs(config),
                                 name=f"publish {train.name}", full_history=True, builds_release=True)},
    })


def workflows(config: ReleaseConfig, settings: Settings) -> tuple[Workflow, ...]:
    """Every workflow the target gets, in a fixed order.

    tests.yml only in this tool's own repository (a target keeps its own test CI); refresh.yml only with a
    real registry: a runner's sandbox registry starts empty, so it would never find anything;
    publish-promoted.yml only for a project that votes, stages in svn and has a real svn release/;
    a release-train-NAME.yml for each configured train (none without trains), followed by its
    publish-promoted-train-NAME.yml where a runner can publish its promoted waves
    (`publishes_promoted_train`).
    """
    found = []
    if settings.from_checkout:
        found.append(_tests(config, settings))
    found.append(_master_images(config, settings))
    if config.registry != SANDBOX:
        found.append(_refresh(config, settings))
    found.append(_release(config, settings))
    if config.votes and not config.uses_atr and config.svn_release != SANDBOX:
        found.append(_publish_promoted(config, settings))
    for train in config.trains:
        found.append(_release_train(config, settings, train))
        if publishes_promoted_train(config, train):
            found.append(_publish_promoted_train(config, settings, train))
    return tuple(found)


# --- text -------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line scripts; no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


_PINNED_LINE = re.compile(r"^(\s*(?:- )?uses: )([\w.-]+/[\w./-]+)@([0-9a-f]{40})$", re.M)


def _release_comment(found: re.Match[str]) -> str:
    action, commit = found.group(2), found.group(3)
    known = ACTIONS.get(action)
    release = known[1] if known and known[0] == commit else "unknown release"
    return f"{found.group(0)}  # {release}"


def render(workflow: Workflow, command: str, *, licence: str = "") -> str:
    """The file's text: the project's licence line (when `licence` is given), a header naming the
    command that regenerates it, then the YAML, each pinned action followed by its release as a
    comment."""
    body = yaml.dump(workflow.data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=110)
    spdx = f"# SPDX-License-Identifier: {licence}\n" if licence else ""
    return spdx + HEADER.format(command=command) + _PINNED_LINE.sub(_release_comment, body)


def is_generated(text: str) -> bool:
    """True for a file this module wrote (the header is its first line, or its second after the
    licence line)."""
    first, _, rest = text.partition("\n")
    marker = HEADER.split("`", 1)[0]
    licensed = first.startswith("# SPDX-License-Identifier:")
    return text.startswith(marker) or (licensed and rest.startswith(marker))


def licence_of(text: str) -> str:
    """The SPDX id of a LICENSE file's licence, for the ones this tool names (the Apache License 2.0,
    which every ASF project's is); "" for any other."""
    head = " ".join(text[:2000].split())
    return "Apache-2.0" if "Apache License" in head and "Version 2.0" in head else ""


# --- the job graph, for people ---------------------------------------------------------------------


@dataclass(frozen=True)
class JobLine:
    workflow: str
    job: str
    needs: tuple[str, ...]
    matrix: str  # e.g. "python: 3.11, 3.13" or ""
    commands: tuple[str, ...]  # the run: lines that are this tool's commands


def job_graph(found: Sequence[Workflow]) -> list[JobLine]:
    lines = []
    for workflow in found:
        for name, job in workflow.jobs.items():
            axes = job.get("strategy", {}).get("matrix", {})
            shown = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in axes.items() if k != "include")
            commands = tuple(s["run"] for s in job["steps"] if "run" in s
                             and s["run"].startswith((TOOL + " ", "nox ")) and " sandbox." not in s["run"])
            lines.append(JobLine(workflow.file, name, tuple(job.get("needs", ())), shown, commands))
    return lines
