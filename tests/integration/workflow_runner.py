# SPDX-License-Identifier: Apache-2.0
"""Run a generated GitHub Actions workflow here, job by job, each job in a fresh clone of its own.

What GitHub does and this does instead:
- jobs run in the order the `needs:` graph gives; a matrix job runs once per combination;
- `actions/checkout` is a fresh `git clone` of the origin repository, one per job run;
- `actions/setup-python` is skipped: every job uses the Python this runner is given;
- `actions/upload-artifact` / `download-artifact` copy the paths into and out of a folder per
  artifact (`pattern` + `merge-multiple` merge every matching one);
- `${{ secrets.X }}`, `${{ inputs.X }}`, `${{ matrix.X }}`, `${{ env.X }}`, `${{ github.actor }}` and
  `${{ github.ref }}` come from the mappings the test gives (the ref: `ref`, a branch by default);
  any other expression, `uses:` or `if:` stops the run, so nothing in a workflow is silently left out;
- a job's `if:` on the ref (`github.ref == '...'`, `startsWith(github.ref, '...')`, joined by `||`)
  is evaluated: a job whose condition is false is skipped, and so are the jobs that need it;
- each `run:` goes to `bash --noprofile --norc -eo pipefail`, as on GitHub, in the job's clone
  with the job's env; every job has its own GNUPGHOME and DOCKER_CONFIG, as on a fresh runner.
`runs-on` and `container` are not emulated: this machine is the runner. Neither are `permissions`
(no job here has a GITHUB_TOKEN) nor `environment` (the test gives the secrets a protected
environment would hold).
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


class WorkflowFailed(AssertionError):
    pass


_REF_TEST = re.compile(r"github\.ref == '([^']*)'|startsWith\(github\.ref, '([^']*)'\)")


def ref_condition(condition: str, ref: str) -> bool:
    """A job's `if:` on the ref, as GitHub evaluates it; any other expression is not emulated."""
    results = []
    for part in condition.split(" || "):
        found = _REF_TEST.fullmatch(part.strip())
        if found is None:
            raise WorkflowFailed(f"if: {condition} is not emulated")
        exact, prefix = found.groups()
        results.append(ref == exact if exact is not None else ref.startswith(prefix))
    return any(results)


@dataclass
class JobRun:
    job: str
    matrix: dict[str, str]
    clone: Path
    output: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return self.job + "".join(f" {k}={v}" for k, v in self.matrix.items())

    @property
    def text(self) -> str:
        return "\n".join(self.output)


def job_order(jobs: Mapping[str, Any]) -> list[str]:
    order: list[str] = []
    while len(order) < len(jobs):
        ready = [n for n, j in jobs.items() if n not in order and set(j.get("needs", ())) <= set(order)]
        if not ready:
            left = sorted(set(jobs) - set(order))
            raise WorkflowFailed(f"needs: has a cycle or names a missing job among {left}")
        order += ready
    return order


def combinations(job: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    axes = dict(job.get("strategy", {}).get("matrix", {}))
    include = axes.pop("include", [])
    if axes.pop("exclude", None):
        raise WorkflowFailed("matrix exclude is not emulated")
    names = list(axes)
    for values in itertools.product(*(axes[n] for n in names)) if names else [()]:
        combo = {n: str(v) for n, v in zip(names, values)}
        for extra in include:  # an include entry extends the combinations it matches
            if all(combo.get(k) == str(v) for k, v in extra.items() if k in names):
                combo.update({k: str(v) for k, v in extra.items() if k not in names})
        yield combo


@dataclass
class WorkflowRunner:
    origin: Path  # the repository the workflow belongs to
    work: Path  # where clones, artifacts and per-job homes go
    env: Mapping[str, str]  # the runner machine's environment
    secrets: Mapping[str, str] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    after_job: Callable[[JobRun], None] = lambda run: None
    timeout: float = 1800
    ref: str = "refs/heads/main"  # what the run was started on
    skipped: list[str] = field(default_factory=list)  # jobs whose `if:` (or a needed job's) was false

    def run(self, workflow: Path) -> list[JobRun]:
        data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        done: list[JobRun] = []
        artifacts = self.work / f"artifacts-{workflow.stem}"
        for name in job_order(data["jobs"]):
            job = data["jobs"][name]
            condition = job.get("if")
            needed_skipped = set(job.get("needs", ())) & set(self.skipped)
            if needed_skipped or (condition is not None and not ref_condition(str(condition), self.ref)):
                self.skipped.append(name)
                continue
            for combo in combinations(job):
                run = self._job(name, job, combo, data.get("env", {}), artifacts)
                done.append(run)
                self.after_job(run)
        return done

    def _substitute(self, text: str, run: JobRun, env: Mapping[str, str]) -> str:
        def value(found: re.Match[str]) -> str:
            expr = found.group(1)
            context, _, key = expr.partition(".")
            sources: dict[str, Mapping[str, str]] = {
                "secrets": self.secrets, "inputs": self.inputs, "matrix": run.matrix, "env": env,
                "github": {"actor": "workflow-runner", "ref": self.ref},
            }
            if context not in sources or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
                raise WorkflowFailed(f"{run.label}: expression not emulated: {found.group(0)}")
            return sources[context].get(key, "")  # an unset secret is empty, as on GitHub

        return EXPRESSION.sub(value, str(text))

    def _job(self, name: str, job: Mapping[str, Any], combo: dict[str, str], workflow_env: Mapping[str, str],
             artifacts: Path) -> JobRun:
        slug = re.sub(r"[^A-Za-z0-9.]+", "-", "-".join([name, *combo.values()])).strip("-")
        home = self.work / f"job-{slug}"
        run = JobRun(name, combo, home / "checkout")
        (home / "docker").mkdir(parents=True)
        # gpg-agent's socket lives in GNUPGHOME, whose path must stay short (a runner's ~/.gnupg)
        gnupg = Path(tempfile.mkdtemp(prefix="gnupg-job-"))
        env = {**self.env, "GNUPGHOME": str(gnupg), "DOCKER_CONFIG": str(home / "docker")}
        for scope in (workflow_env, job.get("env", {})):
            env.update({k: self._substitute(v, run, env) for k, v in scope.items()})
        started = time.monotonic()
        failed: str | None = None
        try:
            for index, step in enumerate(job["steps"]):
                condition = step.get("if")
                if condition not in (None, "always()"):
                    raise WorkflowFailed(f"{run.label}: if: {condition} is not emulated")
                if failed is not None and condition != "always()":
                    continue
                title = step.get("name") or step.get("uses") or f"step {index + 1}"
                run.output.append(f"::group::{title}")
                try:
                    self._step(step, run, env, artifacts)
                except WorkflowFailed as exc:
                    failed = failed or f"{run.label}: step {title!r} failed: {exc}"
                run.output.append("::endgroup::")
        finally:
            run.seconds = time.monotonic() - started
            subprocess.run(["gpgconf", "--kill", "all"], env={**env}, capture_output=True, check=False)
            shutil.rmtree(gnupg, ignore_errors=True)
        if failed is not None:
            raise WorkflowFailed(f"{failed}\n{run.text[-6000:]}")
        return run

    def _step(self, step: Mapping[str, Any], run: JobRun, job_env: Mapping[str, str],
              artifacts: Path) -> None:
        env = {**job_env, **{k: self._substitute(v, run, job_env) for k, v in step.get("env", {}).items()}}
        with_ = {k: self._substitute(v, run, env) if isinstance(v, str) else v
                 for k, v in step.get("with", {}).items()}
        action = step.get("uses", "").split("@")[0]
        if action == "actions/checkout":  # the ref the run was started on: a branch's head, or a tag
            ref = self.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
            subprocess.run(["git", "-c", "advice.detachedHead=false", "clone", "-q", "--branch", ref,
                            str(self.origin), str(run.clone)], check=True)
        elif action == "actions/setup-python":
            run.output.append("setup-python: the runner's Python")
        elif action == "actions/upload-artifact":
            self._upload(run, with_, artifacts)
        elif action == "actions/download-artifact":
            self._download(run, with_, artifacts)
        elif action:
            raise WorkflowFailed(f"uses: {step['uses']} is not emulated")
        else:
            self._shell(self._substitute(step["run"], run, env), run, env)

    def _shell(self, script: str, run: JobRun, env: Mapping[str, str]) -> None:
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                                cwd=run.clone, env=dict(env), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=self.timeout,
                                stdin=subprocess.DEVNULL)
        run.output.append(f"+ {script.strip()}")
        run.output.append(result.stdout.rstrip())
        if result.returncode != 0:
            raise WorkflowFailed(f"exit {result.returncode}")

    def _upload(self, run: JobRun, with_: Mapping[str, Any], artifacts: Path) -> None:
        source = run.clone / str(with_["path"])
        target = artifacts / str(with_["name"])
        if target.exists():
            raise WorkflowFailed(f"artifact {with_['name']} already exists (names are unique per run)")
        if not source.exists():
            if with_.get("if-no-files-found", "warn") == "error":
                raise WorkflowFailed(f"no files at {with_['path']} for artifact {with_['name']}")
            run.output.append(f"upload-artifact: nothing at {with_['path']}")
            return
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            target.mkdir(parents=True)
            shutil.copy2(source, target / source.name)
        run.output.append(f"upload-artifact: {with_['name']} <- {with_['path']}")

    def _download(self, run: JobRun, with_: Mapping[str, Any], artifacts: Path) -> None:
        dest = run.clone / str(with_.get("path", "."))
        if "name" in with_:
            chosen = [artifacts / str(with_["name"])]
            if not chosen[0].exists():
                raise WorkflowFailed(f"no artifact named {with_['name']}")
        else:
            if not with_.get("merge-multiple"):
                raise WorkflowFailed("download by pattern without merge-multiple is not emulated")
            pattern = str(with_.get("pattern", "*"))
            chosen = sorted(p for p in artifacts.iterdir() if fnmatch.fnmatch(p.name, pattern)) \
                if artifacts.exists() else []
        for artifact in chosen:
            shutil.copytree(artifact, dest, symlinks=True, dirs_exist_ok=True)
            run.output.append(f"download-artifact: {artifact.name} -> {with_.get('path', '.')}")


def runner_env(bins: Sequence[Path], pythonpath: Path) -> dict[str, str]:
    """The runner machine's environment: this process's, less what belongs to one machine or job,
    with `bins` first on PATH and the tool's sources on PYTHONPATH."""
    dropped = ("RELEASE_ROOT", "GNUPGHOME", "DOCKER_CONFIG", "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items()
           if k not in dropped and not k.startswith(("TWINE_", "PYTEST_"))}
    path = os.pathsep.join([*map(str, bins), os.environ["PATH"]])
    env.update({"PATH": path, "PYTHONPATH": str(pythonpath),
                "NO_COLOR": "1", "COLUMNS": "200", "CI": "true"})
    return env
