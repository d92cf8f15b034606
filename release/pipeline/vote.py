# SPDX-License-Identifier: Apache-2.0
"""The vote workflow, planned and carried out: build, sign, stage, verify, vote-result, promote,
announce, and the constraints a CI publish job left for the release manager to commit.

Each command has a plan (`plan/commands.py`) made from the configuration, the release record and
the target, reading only: `--dry-run` shows it. Carrying a command out holds `dist/<V>/` (one run
per version) and runs its step with the plan's own files (the build makes exactly the plan's
artefacts, sign signs exactly its signed ones); what stage, vote-result and promote produce is
recorded by `pipeline/recording.py`. The commands share one rule for what files a
version carries with `invoke release` (`plan_distributions`, `artefacts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from release import locks
from release.adapters import atr, svn
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError, ReleaseError, VerificationError
from release.pipeline.connect import Target, clients_for
from release.pipeline.recording import (
    count_vote,
    promote_in_svn,
    record_build,
    record_promotion,
    record_signed,
    record_stage,
)
from release.pipeline.release import constraints_url, fetch_keys, own_versions, publish_recorded_constraints
from release.pipeline.stage import stage_in_svn, upload_candidate
from release.pipeline.verify import verify_candidate
from release.plan.atr import AtrPlan, constraints_attached, plan_atr
from release.plan.cleanup import candidates_of
from release.plan.commands import (
    CommandPlan,
    plan_announce,
    plan_build,
    plan_constraints,
    plan_promote,
    plan_promote_atr,
    plan_sign,
    plan_stage,
    plan_stage_atr,
    plan_vote_result,
)
from release.plan.release import Artefact, artefacts, constraints_folder, plan_distributions
from release.plan.verify_report import FileCheck, VerifyReport
from release.progress import Progress
from release.record import record_of, release_dir, sha512_of
from release.steps.announce import announce_release, check_published
from release.steps.build import BuildResult, build_release
from release.steps.check_provenance import check_candidate_images, verify_published
from release.steps.promote import PromoteResult, check_vote_result, promote_from_atr
from release.steps.result import VoteResult, resolve_in_atr
from release.steps.sign import SignResult, sign_record, sign_release
from release.steps.verify import ImageCheck, from_atr, verify_images
from release.steps.vote import StageResult, check_in_atr, vote_in_atr
from release.versions import ReleaseVersion
from release.votes import parse_time


def planned_artefacts(config: ReleaseConfig, version: ReleaseVersion) -> tuple[Artefact, ...]:
    """The files `version` is built as: the release plan's own rule, with the versions the record
    (or else the tree) declares for the distributions with versions of their own."""
    return artefacts(config.name, version, plan_distributions(config, version, own_versions(config, version)))


# --- build and sign -------------------------------------------------------------------------------


def build_plan(config: ReleaseConfig, version: ReleaseVersion) -> CommandPlan:
    record = record_of(config.root, version)
    built = record.build.commit if record.build else ""
    return plan_build(version, planned_artefacts(config, version), built_from=built)


def build(config: ReleaseConfig, version: ReleaseVersion, *, allow_dirty: bool, allow_version_mismatch: bool,
          say: Progress) -> BuildResult:
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        built = build_release(config, version, allow_dirty=allow_dirty,
                              allow_version_mismatch=allow_version_mismatch,
                              planned=planned_artefacts(config, version), progress=say)
        record_build(record_of(config.root, version), built)
    return built


def built_files(result: BuildResult) -> list[tuple[str, str]]:
    """Each built file relative to dist/<V>/, with its sha512."""
    return [(path.relative_to(result.directory).as_posix(), sha512_of(path))
            for path in (*result.svn_files, *result.pypi_files)]


def sign_plan(config: ReleaseConfig, version: ReleaseVersion, *, key: str) -> CommandPlan:
    record = record_of(config.root, version)
    refusals = () if record.is_done("build") else (f"dist/{version} holds no build of {version}: build it",)
    return plan_sign(version, planned_artefacts(config, version), key=key or config.signing_key,
                     refusals=refusals)


def sign(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, key: str, say: Progress
         ) -> SignResult:
    keys = fetch_keys(target, config.root / "dist" / ".keys" / str(version))
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        signed = sign_release(config, version, keys_file=keys, key=key or target.signing_key,
                              gnupghome=target.gnupghome, planned=planned_artefacts(config, version),
                              progress=say)
        record_signed(record_of(config.root, version), signed)
    return signed


# --- the vote --------------------------------------------------------------------------------------


def stage_plan(config: ReleaseConfig, version: ReleaseVersion, target: Target) -> CommandPlan:
    record = record_of(config.root, version)
    refusals = []
    if not version.is_rc:
        refusals.append(f"{version} is not a release candidate; stage one like {version.final}rc1")
    if not (record.is_done("build") and record.is_done("sign")):
        refusals.append(f"dist/{version}: build and sign {version} before staging it")
    files = [Path(e.path).name for e in record.files_in("svn")]
    atr_plan = plan_atr(config, version, voted=files)
    if atr_plan is not None:
        return plan_stage_atr(version, config.name, atr_plan,
                              commit=record.build.commit if record.build else "", refusals=refusals)
    files += [f"{name}{suffix}" for name in list(files) for suffix in (".asc", ".sha512")]
    return plan_stage(version, config.name, url=svn.join(target.svn_dev, config.name, str(version)),
                      files=sorted(files), commit=record.build.commit if record.build else "",
                      refusals=refusals)


def stage(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, say: Progress,
          clients: Clients | None = None) -> StageResult:
    if config.uses_atr:
        return stage_in_atr(config, version, target, say=say,
                            clients=clients or clients_for(target, progress=say))
    with locks.release_run(release_dir(config.root, str(version)), str(version)):
        return stage_in_svn(config, version, svn_dev_url=target.svn_dev, keys_url=target.keys_url,
                            progress=say)


def atr_plan_of(config: ReleaseConfig, version: ReleaseVersion) -> AtrPlan:
    """ATR's part for `version`, with the voted files the plan's own rule names."""
    voted = [a.path for a in planned_artefacts(config, version) if a.path.startswith("svn/")]
    found = plan_atr(config, version, voted=voted)
    if found is None:
        raise ConfigError("this project stages in svn: set [tool.release] staging = \"atr\" and atr to use "
                          "ATR")
    return found


def stage_in_atr(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, say: Progress,
                 clients: Clients) -> StageResult:
    """`invoke stage` with staging = "atr": the release plan's three ATR steps, one after another."""
    plan = atr_plan_of(config, version)
    if target.atr is None:
        raise ConfigError("staging = \"atr\", but the target has no ATR")
    directory = release_dir(config.root, str(version))
    with locks.release_run(directory, str(version)):
        keys = fetch_keys(target, config.root / "dist" / ".keys" / str(version))
        uploaded = upload_candidate(config, version, plan, clients.atr,
                                    keys_text=keys.read_text(encoding="utf-8"), progress=say)
        check_in_atr(plan, clients.atr, uploaded.revision, progress=say)
        url = atr.vote_url(target.atr.url, plan.project, plan.release)
        vote = vote_in_atr(config, version, plan, clients.atr, uploaded, url=url, keys_url=target.keys_url,
                           progress=say)
        record_stage(record_of(config.root, version), vote.stage)
    return StageResult(str(version), url, int(uploaded.revision) if uploaded.uploaded else None, uploaded.tag,
                       uploaded.commit, vote.email, vote.stage)


@dataclass(frozen=True)
class Verified:
    report: VerifyReport
    images: tuple[ImageCheck, ...] = ()  # each flavour's version tag and its platforms' images


def verify(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, rebuild: bool, images: bool,
           say: Progress, clients: Clients | None = None, revision: str = "") -> Verified:
    """What a voter runs on a candidate: the files, a rebuild, the PMC checks, and its images. Reads
    only (it changes nothing, so it has no dry run). Staged in ATR, the candidate is read from there:
    `revision` of its release (default: the latest, which the vote runs on)."""
    clients = clients or clients_for(target, progress=say)
    fetch = None
    if config.uses_atr:
        plan = atr_plan_of(config, version)
        page = atr.vote_url(target.atr.url, plan.project, plan.release) if target.atr is not None else ""
        fetch = from_atr(plan, clients.atr, revision, page=page)
    elif revision:
        raise ConfigError("--revision names a revision in ATR; this project stages in svn")

    def image_checks(checks: dict[str, FileCheck], commit: str, keys: Path,
                     wheels: Mapping[str, str] | None) -> None:
        check_candidate_images(config, version, clients, svn_dev_url=target.svn_dev, keys_file=keys,
                               commit=commit, wheels=wheels, checks=checks, progress=say)

    report = verify_candidate(config, version, svn_dev_url=target.svn_dev, keys_url=target.keys_url,
                              repo_root=config.root, rebuild=rebuild,
                              image_checks=image_checks if images else None, progress=say, fetch=fetch)
    found = tuple(verify_images(config, version, clients.registry)) if images else ()
    return Verified(report, found)


def verify_release(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, say: Progress,
                   clients: Clients | None = None) -> VerifyReport:
    """`invoke verify --published`: what a release published, its signed record, SBOMs and signatures."""
    return verify_published(config, version, clients or clients_for(target), svn_dev_url=target.svn_dev,
                            svn_release_url=target.svn_release, keys_url=target.keys_url, progress=say)


def image_problems(checks: tuple[ImageCheck, ...]) -> None:
    problems = [f"{check.tag}: {check.problem}" for check in checks if check.problem]
    if problems:
        raise VerificationError("; ".join(problems))


def vote_result_plan(config: ReleaseConfig, version: ReleaseVersion, *, votes: str) -> CommandPlan:
    record = record_of(config.root, version)
    refusals = [] if version.is_rc else [f"{version} is not a release candidate"]
    if record.stage is None:
        refusals.append(f"dist/{version} records no staging: stage {version} first")
    return plan_vote_result(version, votes=votes, refusals=refusals,
                            atr=atr_plan_of(config, version) if config.uses_atr else None)


def vote_result(config: ReleaseConfig, version: ReleaseVersion, *, votes: Path, closed_at: str,
                decisions: Mapping[str, int | None], decided_by: str, target: Callable[[], Target],
                say: Progress, clients: Clients | None = None) -> VoteResult:
    """Count the votes and record the result; a record that was signed (the candidate was published)
    is signed again, with the key of the `target`, connected to only then."""

    def resign(record: Path) -> None:
        found = target()
        sign_record(record, key=found.signing_key, gnupghome=found.gnupghome)

    result = count_vote(config, version, votes_file=votes,
                        closed_at=parse_time(closed_at) if closed_at else None, decisions=decisions,
                        decided_by=decided_by, resign=resign, progress=say)
    if config.uses_atr:
        resolve_in_atr(atr_plan_of(config, version), (clients or clients_for(target(), progress=say)).atr,
                       result.tally, progress=say)
    return result


# --- after the vote ---------------------------------------------------------------------------------


def promote_plan(config: ReleaseConfig, final: ReleaseVersion, rc: ReleaseVersion, target: Target, *,
                 without_vote_result: str) -> CommandPlan:
    rc_record = record_of(config.root, rc)
    refusals = []
    if not rc.is_rc or final.is_prerelease or rc.final != final:
        refusals.append(f"{final} cannot be promoted from {rc}: give a final version and one of its rcs")
    staged = rc_record.stage
    if staged is None:
        refusals.append(f"dist/{rc}/release.json records no staged files; promote from the tree that "
                        f"staged {rc}")
    try:
        check_vote_result(rc_record, without_vote_result)
    except RefusedError as exc:
        refusals.append(str(exc))
    if config.uses_atr:
        revision = f"{staged.revision:05d}" if staged is not None and staged.revision is not None else ""
        return plan_promote_atr(final, rc, atr_plan_of(config, rc), revision=revision,
                                files=sorted(staged.files) if staged else [], refusals=refusals)
    dev_url = svn.join(target.svn_dev, config.name, str(rc))
    others = [str(rc)] + [c for c in _candidates(target, config, final) if c != str(rc)]
    release_url = svn.join(target.svn_release, config.name, str(final))
    return plan_promote(final, rc, dev_url=dev_url, release_url=release_url,
                        files=sorted(staged.files) if staged else [],
                        candidates=[f"{config.name}/{c}" for c in others], refusals=refusals)


def _candidates(target: Target, config: ReleaseConfig, final: ReleaseVersion) -> tuple[str, ...]:
    """The candidates of `final` in svn dev/ (reading svn; none when it cannot be read)."""
    try:
        return candidates_of(final, svn.list_folder(svn.join(target.svn_dev, config.name)))
    except ReleaseError:
        return ()


def promote(config: ReleaseConfig, final: ReleaseVersion, rc: ReleaseVersion, target: Target, *,
            without_vote_result: str, say: Progress, clients: Clients | None = None) -> PromoteResult:
    if config.uses_atr:
        plan = atr_plan_of(config, rc)
        url = (atr.vote_url(target.atr.url, plan.project, plan.release) if target.atr is not None
               else plan.where)
        with locks.release_run(release_dir(config.root, str(final)), str(final)):
            promoted = promote_from_atr(config, final, from_rc=rc, plan=plan,
                                        client=(clients or clients_for(target, progress=say)).atr, url=url,
                                        without_vote_result=without_vote_result, progress=say)
            record_promotion(record_of(config.root, final), promoted)
            return promoted
    with locks.release_run(release_dir(config.root, str(final)), str(final)):
        return promote_in_svn(config, final, from_rc=rc, svn_dev_url=target.svn_dev,
                              svn_release_url=target.svn_release, without_vote_result=without_vote_result,
                              progress=say)


def announce_plan(config: ReleaseConfig, version: ReleaseVersion) -> CommandPlan:
    try:
        check_published(record_of(config.root, version), version)
        refusals: tuple[str, ...] = ()
    except RefusedError as exc:
        refusals = (str(exc),)
    return plan_announce(version, refusals)


def announce(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, say: Progress) -> Path:
    return announce_release(config, version, keys_url=target.keys_url, index_url=target.index_simple,
                            repository=target.repository(config.image), progress=say)


def constraints_plan(config: ReleaseConfig, version: ReleaseVersion, target: Target) -> CommandPlan:
    record = record_of(config.root, version)
    refusals = () if record.constraints else (f"dist/{version}: the release records no constraints",)
    url = svn.join(constraints_url(target, version), constraints_folder(config.name, version))
    if config.uses_atr:  # nothing to commit anywhere
        return plan_constraints(version, url=url, files=(), refusals=(constraints_attached(version),))
    return plan_constraints(version, url=url, files=sorted(Path(p).name for p in record.constraints),
                            refusals=refusals)


def constraints(config: ReleaseConfig, version: ReleaseVersion, target: Target, *, say: Progress) -> str:
    with locks.release_run(release_dir(config.root, str(version)), str(version)):  # it writes the record
        return publish_recorded_constraints(config, version, target, say=say)
