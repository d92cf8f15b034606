# SPDX-License-Identifier: Apache-2.0
"""A train's wave: the git facts read through the git adapter, the wave planned from them (pure,
`plan/wave.py`), and the commands after its run: vote-result, promote, publish, announce, verify and
cleanup of a wave. A versioned train's wave (a folder per release) is voted on, promoted, published
and announced as a flat one's, its folders cleaned as a single release's are; its vote excludes
nothing (its distributions move together), and a voter's clone finds its commit by the candidate the
vote names (`find_staged_wave`: where the candidate tags of `3.3.3rc1` point), as it tags no wave.

`plan_train` is what `invoke release --train NAME --dry-run` prints and what a run executes: the
tree's distributions, their declared versions and states, their tags and the commits since each
one's last release, read at one commit in a handful of git commands (`Wave.git_calls`). The run
itself (build, sign, PMC checks, stage, tags, vote email) is executed from the plan's steps in
`pipeline/wave_run.py`; its names are imported here too, where the commands find them.

A train staging in ATR (`config.stages_in_atr`): `vote-result` resolves ATR's vote (and refuses
exclusions: ATR cannot remove a file from a revision), `promote` reads the files back from ATR
(`promote_in_atr`) instead of copying in svn, and `publish` finishes the release in ATR
(`finish_wave_in_atr`) after the index.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from release import locks
from release.adapters import svn
from release.adapters.atr import PREVIEW, RELEASED, downloads_url
from release.adapters.clients import Atr, Clients, Index
from release.adapters.git import GitReader, commit_time, ensure_tag, move_tag, tag_commit
from release.config import ReleaseConfig
from release.emails import (
    WaveAnnouncement,
    missing_recipient,
    render_wave_announce_email,
    render_wave_result_email,
    review_line,
    wave_candidate,
)
from release.errors import RefusedError, ReleaseError
from release.pipeline.connect import Target
from release.pipeline.housekeeping import printed_listing, write_listing

# a wave's record and its run, where the commands of a wave (and their callers) find them
from release.pipeline.wave_images import check_wave_images, planned, publish_images, wave_images
from release.pipeline.wave_record import ANNOUNCE_EMAIL as ANNOUNCE_EMAIL
from release.pipeline.wave_record import RESULT_EMAIL as RESULT_EMAIL
from release.pipeline.wave_record import VOTE_EMAIL as VOTE_EMAIL
from release.pipeline.wave_record import WAVE_RECORD as WAVE_RECORD
from release.pipeline.wave_record import Wave as Wave
from release.pipeline.wave_record import read_record, record_path, train_records, update_record, wave_lock
from release.pipeline.wave_record import wave_directory as wave_directory
from release.pipeline.wave_run import WaveBuild as WaveBuild
from release.pipeline.wave_run import WaveRun as WaveRun
from release.pipeline.wave_run import build_wave as build_wave
from release.pipeline.wave_run import built_files, staged_files
from release.pipeline.wave_run import check_can_run as check_can_run
from release.pipeline.wave_run import check_wave_contents as check_wave_contents
from release.pipeline.wave_run import run_to_json as run_to_json
from release.pipeline.wave_run import run_wave as run_wave
from release.plan.atr import AtrPlan, plan_wave_atr
from release.plan.cleanup import Removal, kept_in_atr, listing_digest, listing_refusal
from release.plan.commands import (
    CommandPlan,
    plan_announce_wave,
    plan_promote_wave,
    plan_publish_wave,
    plan_vote_result_wave,
)
from release.plan.provenance import lookaside_url
from release.plan.verify_report import FileCheck, VerifyReport
from release.plan.wave import (
    SIGNATURES,
    WAVE_PROVENANCE_RECORD,
    ConstraintsRef,
    Skipped,
    WavePlan,
    WavePromotion,
    candidate_tags,
    candidate_tags_refusal,
    dev_folders,
    exclude,
    final_constraints,
    flat_cleanup,
    packages_of,
    plan_wave,
    released,
    versioned_cleanup,
    wave_atr_folder,
    wave_promotion,
    with_images,
)
from release.plan.wave_facts import (
    candidate_number,
    constraints_glob,
    constraints_versions,
    earlier_candidates,
    facts_from,
    files_to_read,
    latest_ahead,
    lead_tag,
    members,
    since,
    tag_globs,
    with_commits,
)
from release.plan.wave_withdraw import announced, withdrawn_folders, withdrawn_lines
from release.progress import Progress
from release.record import sha512_of, write_atomic
from release.steps.announce import record_distributions
from release.steps.build import build_wave as build_files
from release.steps.build import package_builder
from release.steps.check_provenance import check_train_provenance
from release.steps.publish import upload_packages
from release.steps.result import binding_voters, resolve_in_atr
from release.steps.verify import (
    check_contents,
    check_signed,
    compare_rebuild,
    finish_report,
    from_atr,
    keys_keyring,
)
from release.steps.vote import split_email
from release.trains import SvnLayout, Train
from release.vote_thread import parse_votes
from release.votes import Tally, count_votes, earliest_close, utc, when


class GitFacts(Protocol):
    """What a wave reads from git (`GitReader`; an in-memory one in the unit tests)."""

    calls: int

    def resolve(self, ref: str) -> str: ...

    def tree_files(self, commit: str) -> tuple[str, ...]: ...

    def read_files(self, commit: str, paths: list[str]) -> dict[str, str | None]: ...

    def tags_matching(self, patterns: list[str]) -> dict[str, str]: ...

    def commits_since(self, head: str, since: dict[str, str | None]
                      ) -> dict[str, tuple[tuple[str, str], ...]]: ...


def configured_train(config: ReleaseConfig, name: str) -> Train | None:
    """The configured train `name`, or None for the release's own train (a configuration without
    trains is one train: `--train` with its name runs the release as before). Unknown names: ConfigError."""
    train = config.train(name)
    return train if train in config.trains else None


def plan_train(config: ReleaseConfig, train: Train, *, date: str, reader: GitFacts | None = None,
               ref: str = "HEAD", only: Collection[str] = (), retry: Mapping[str, str] | None = None,
               rc: int = 0) -> Wave:
    """The wave of `train` at `ref` on `date` (YYYY-MM-DD): read from git, decided by the planner.
    `rc`: the wave is that candidate (a voter's clone), the tags of that rc and later are not earlier
    candidates."""
    git = reader if reader is not None else GitReader(config.root)
    head = git.resolve(ref)
    found = members(train, git.tree_files(head) if train.is_pattern else ())
    texts = git.read_files(head, files_to_read(train, found))
    globs = tag_globs(found)
    if train.constraints is not None:
        globs.append(constraints_glob(train))
    tags = git.tags_matching(globs)
    # the candidate tags a run of this very wave set (recorded, at this commit) are its own, not earlier
    # candidates: a rerun resumes the wave at the same rc numbers
    recorded = read_record(record_path(config, train.name, date))
    if recorded.get("commit") == head and isinstance(recorded.get("tags"), list):
        tags = {tag: sha for tag, sha in tags.items() if tag not in recorded["tags"] or sha != head}
    if rc:
        tags = earlier_candidates(found, tags, rc)
    facts = facts_from(train, found, texts, tags)
    facts = with_commits(facts, git.commits_since(head, since(facts, tags)))
    plan = plan_wave(train, facts, date=date, project=config.name, only=only, retry=retry,
                     constraints_tagged=constraints_versions(train, tags),
                     checks_sources=config.checks_sources, atr=config.stages_in_atr(train))
    # the images' tags and constraints files name no registry: the target's is the run's business
    plan = with_images(plan, planned(wave_images(config, plan, config.registry)), train.images,
                       project=config.name)
    return Wave(plan, head, git.calls)


@dataclass(frozen=True)
class WaveVote:
    tally: Tally
    plan: WavePlan  # the wave as promoted: without the excluded distributions
    excluded: tuple[Skipped, ...]
    record: Path
    email: Path  # the [RESULT][VOTE] email


def vote_result_wave(config: ReleaseConfig, train: Train, *, date: str, votes: Path,
                     closed_at: datetime | None, excluded: Mapping[str, str], say: Progress,
                     decisions: Mapping[str, int | None] | None = None, decided_by: str = "",
                     now: datetime | None = None, reader: GitFacts | None = None,
                     atr: Atr | None = None) -> WaveVote:
    """Count the votes on a staged wave by the ASF rules (open 72 hours from the staging, three binding
    +1, more binding +1 than -1) and record the result with the distributions the PMC excluded, each
    with its reason: the rest is what promotion ships, the excluded ones go to a later rc.
    `decisions` (address -> +1, 0, -1 or None) is how the release manager counts a voter after reading
    the replies listed for reading, recorded with `decided_by`, as for a single release. A train
    staging in ATR has its vote there resolved (`atr`, its client) as passed or failed once decided."""
    path = record_path(config, train.name, date)
    recorded = read_record(path)
    refusal = _uncountable(config, train, date, recorded, excluded)
    if refusal:
        raise RefusedError(refusal)
    if decisions and not decided_by.strip():
        raise RefusedError("--count needs --decided-by NAME: who read the replies is recorded with the "
                           "result")
    staged = recorded["staged"]
    wave = plan_train(config, train, date=date, ref=str(recorded["commit"]), reader=reader)
    kept = exclude(wave.plan, excluded) if excluded else wave.plan
    try:
        text = votes.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedError(f"cannot read the votes from {votes} ({exc}); give a plain-text file or an "
                           "mbox export of the vote thread") from None
    thread = parse_votes(text, candidate=wave_candidate(train.name, date), source=votes.name)
    moment = utc(now or datetime.now(timezone.utc))
    opened = utc(datetime.fromisoformat(str(staged["at"])))
    opened = max(opened, utc(thread.opened)) if thread.opened else opened
    tally = count_votes(thread.votes, binding_voters(config), opened=opened, closed_at=closed_at, now=moment,
                        unread=thread.unread, decisions=decisions, hours=train.vote.hours,
                        needed=train.vote.binding)
    if tally.too_early:
        raise RefusedError(f"the vote on the {train.name} wave of {date} was open {tally.hours_open:.1f} "
                           f"hours (from {when(opened)} to {when(tally.closed)}); its votes stay open at "
                           f"least {train.vote.hours} hours: wait until "
                           f"{when(earliest_close(opened, train.vote.hours))} or pass --closed-at")
    with wave_lock(config, wave.plan):
        _record_vote(path, tally, kept, votes, decided_by.strip() if tally.decided else "")
        email = path.parent / RESULT_EMAIL
        write_atomic(email, render_wave_result_email(
            project=config.project, train=train.name, date=date, mailing_list=config.mailing_list,
            tally=tally, promoted=kept.vote_lines, excluded={s.name: s.reason for s in kept.excluded},
            thread_subject=thread.subject, decided_by=decided_by.strip()))
    say(f"{len(tally.binding)} binding and {len(tally.non_binding)} non-binding votes counted; "
        + (f"excluded: {', '.join(s.name for s in kept.excluded)}" if kept.excluded else "nothing excluded"))
    say(f"the result email is {email}; send it to {config.mailing_list or 'the dev list'}")
    if config.stages_in_atr(train):
        resolve_in_atr(wave_atr_plan(config, train, date, recorded), _client(atr), tally, progress=say)
    return WaveVote(tally, kept, kept.excluded, path, email)


def wave_atr_plan(config: ReleaseConfig, train: Train, date: str, recorded: Mapping[str, Any],
                  packages: tuple[tuple[str, str], ...] = ()) -> AtrPlan:
    """ATR's part of a wave staged there, from wave.json (its release, the files staged); `packages`
    (name, final version) are recorded once it is finished. Refused when it was not staged in ATR."""
    found = recorded.get("atr")
    staged = recorded.get("staged")
    if not isinstance(found, dict) or not found.get("release") or not isinstance(staged, dict):
        raise RefusedError(f"the {train.name} wave of {date} was never staged in ATR: invoke release --train "
                           f"{train.name} --date {date}")
    voted = [str(name) for name in staged.get("files") or () if not str(name).endswith(SIGNATURES)]
    return plan_wave_atr(config, str(found["release"]), voted, packages)


def _client(atr: Atr | None) -> Atr:
    if atr is None:
        raise ReleaseError("this train stages in ATR: its commands run with ATR's client")
    return atr


def vote_result_wave_plan(config: ReleaseConfig, train: Train, *, date: str, votes: str,
                          excluded: Mapping[str, str]) -> CommandPlan:
    """`invoke vote-result --train --dry-run`: what counting would read, record and write, or why it
    would refuse (reading only)."""
    path = record_path(config, train.name, date)
    refusal = _uncountable(config, train, date, read_record(path), excluded)
    return plan_vote_result_wave(train.name, date, votes=votes, record=str(path), excluded=excluded,
                                 refusals=[refusal] if refusal else [])


def _uncountable(config: ReleaseConfig, train: Train, date: str, recorded: Mapping[str, Any],
                 excluded: Mapping[str, str]) -> str:
    """Why the votes on the wave whose record is `recorded` cannot be counted with the `excluded`
    distributions ("" when they can)."""
    if excluded and train.svn is SvnLayout.VERSIONED:
        return (f"train {train.name} releases its distributions together: none can be excluded at its vote "
                "(a vote that fails is followed by a new candidate of all of them)")
    if excluded and config.stages_in_atr(train):
        return (f"train {train.name} stages in ATR, which cannot remove a file from the voted revision: "
                "nothing can be excluded at its vote (fail the vote; a later wave takes the rest)")
    if not config.votes:
        return (f"[tool.release] vote = \"{config.vote}\": this project's releases are not voted on, so "
                "there are no votes to count")
    staged = recorded.get("staged")
    if not isinstance(staged, dict) or not staged.get("at"):
        return (f"{config.root / 'dist' / f'{train.name}-{date}'}: the {train.name} wave of {date} was never "
                f"staged for a vote; stage it first (invoke release --train {train.name} --date {date})")
    return ""


def _record_vote(path: Path, tally: Tally, kept: WavePlan, votes: Path, decided_by: str) -> None:
    update_record(path, vote={
        "review": [review_line(r) for r in tally.review], "decided": dict(tally.decided),
        "decided_by": decided_by,
        "passed": tally.passed, "opened": tally.opened.isoformat(), "closed": tally.closed.isoformat(),
        "binding": {v.voter: f"{v.value:+d}" if v.value else "0" for v in tally.binding},
        "non_binding": {v.voter: f"{v.value:+d}" if v.value else "0" for v in tally.non_binding},
        "reasons": list(tally.reasons), "source": str(votes), "source_sha512": sha512_of(votes),
        "excluded": {s.name: s.reason for s in kept.excluded},
        "promoted": [f"{e.name} {e.candidate}" for e in kept.entries]})


@dataclass(frozen=True)
class WavePromoted:
    url: str  # the release folder the voted files are in
    revision: int | None  # the copy's commit (None: the release folder held them already)
    promotion: WavePromotion
    promoted: tuple[str, ...]  # "name version" of each distribution released
    excluded: Mapping[str, str]  # name -> why the vote left it out
    tags: tuple[str, ...]  # final tags created now


def check_can_promote(config: ReleaseConfig, train: Train, date: str
                      ) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Refuse, before any service is reached, a wave whose record holds no passed vote. (wave.json's
    path, what it records, its vote.)"""
    path = record_path(config, train.name, date)
    recorded = read_record(path)
    vote = recorded.get("vote")
    if not isinstance(vote, dict) or not vote.get("passed"):
        raise RefusedError(f"{path} records no passed vote on the {train.name} wave of {date}: count it "
                           f"first (invoke vote-result --train {train.name} --date {date} --votes FILE)")
    return path, recorded, vote


def promote_wave(config: ReleaseConfig, train: Train, *, date: str, target: Target, say: Progress,
                 reader: GitFacts | None = None, atr: Atr | None = None) -> WavePromoted:
    """After a passed vote on a wave: the voted files of the distributions not excluded, checked byte
    for byte against what was built and signed, copied server side from svn dev (pinned to the
    revision read) to release, and each distribution's final tag on the wave's commit. A flat wave's
    files go into the flat release folder in one commit, the older files of the same distributions
    are removed from it and the voted files from dev; a versioned wave's candidate folders are each
    copied whole to their release folder (`3.3.3rc1` -> `3.3.3`) and removed from dev. What it does
    is decided once and recorded in wave.json first; a rerun carries out what is left of that. A
    train staging in ATR is promoted from there (`promote_in_atr`): nothing is copied in svn."""
    path, recorded, vote = check_can_promote(config, train, date)
    if config.stages_in_atr(train):
        return promote_in_atr(config, train, date=date, target=target, atr=_client(atr), say=say,
                              reader=reader)
    commit = str(recorded["commit"])
    made = {**recorded.get("files", {}), **recorded.get("signed", {})}  # svn/NAME -> sha512, built and signed
    expected = {p.rsplit("/", 1)[-1]: h for p, h in made.items()}
    dev = svn.join(target.svn_dev, config.name)
    release = svn.join(target.svn_release, config.name)
    folder = svn.join(release, train.svn_folder)
    with locks.release_run(path.parent, f"{train.name}-{date}"):  # as wave_lock holds a wave's folder
        promotion = _recorded_promotion(read_record(path))
        decided = promotion is None
        if promotion is None:
            promotion = _decide_promotion(config, train, date, commit, vote, folder, reader)
        constraints_at = constraints_source(config, train, date, promotion)  # before anything is recorded
        if decided:
            update_record(path, promoted={"url": folder, "files": list(promotion.files),
                                    "superseded": list(promotion.superseded), "tags": list(promotion.tags),
                                    "folders": [list(pair) for pair in promotion.folders],
                                    "constraints": _constraints_recorded(promotion)})
        what = f"{config.project} {train.name} wave of {date}"
        revision = (_copy_folders if promotion.folders else _copy_voted)(promotion, dev, release, expected,
                                                                         what, say)
        gone = [svn.join(release, p) for p in promotion.superseded if svn.exists(svn.join(release, p))]
        if gone:
            removed = svn.remove(gone, f"Remove what the {train.name} wave of {date} replaces")
            say(f"removed {len(gone)} older files from {folder} (revision {removed})")
        released_from = [source for source, _ in promotion.folders] or promotion.files
        left = [svn.join(dev, p) for p in released_from if svn.exists(svn.join(dev, p))]
        if left:
            svn.remove(left, f"Remove the released files of the {train.name} wave of {date} from dev")
            say(f"removed the candidate folders {', '.join(left)} from dev" if promotion.folders else
                f"removed the {len(left)} released files from {svn.join(dev, train.svn_folder)}")
        created = [tag for tag in promotion.tags
                   if ensure_tag(config.root, tag, commit, f"{config.project}: {tag}")]
        say(f"tagged {commit[:12]}: {', '.join(promotion.tags)}")
        created += tag_constraints(config, train, promotion, constraints_at, say)
        if revision is not None:
            update_record(path, promoted={**read_record(path)["promoted"], "revision": revision})
    return WavePromoted(folder, revision, promotion, tuple(vote.get("promoted") or ()),
                        dict(vote.get("excluded") or {}), tuple(created))


def promote_in_atr(config: ReleaseConfig, train: Train, *, date: str, target: Target, atr: Atr, say: Progress,
                   reader: GitFacts | None = None) -> WavePromoted:
    """After a passed vote on a wave staged in ATR: its release there resolved as passed, holding
    exactly the files staged, each read back and checked against the sha512 built and signed
    (wave.json); then each distribution's final tag on the wave's commit. Nothing moves in ATR or
    svn: `publish --train` finishes the release in ATR. Resolving a vote makes a revision of ATR's
    own, so what is checked is the files and their bytes, not the revision's number."""
    path, recorded, vote = check_can_promote(config, train, date)
    plan = wave_atr_plan(config, train, date, recorded)
    commit = str(recorded["commit"])
    made = {**recorded.get("files", {}), **recorded.get("signed", {})}
    expected = {p.rsplit("/", 1)[-1]: h for p, h in made.items()}
    with locks.release_run(path.parent, f"{train.name}-{date}"):
        found = atr.release(plan.release)
        if found is None or found.phase not in (PREVIEW, RELEASED):
            phase = "missing" if found is None else f"phase {found.phase}"
            raise RefusedError(f"the vote on {plan.where} is not resolved as passed in ATR ({phase}): invoke "
                               f"vote-result --train {train.name} --date {date} resolves it")
        _check_in_atr(plan, atr, expected, say)
        promotion = _recorded_promotion(read_record(path))
        if promotion is None:
            promotion = _decide_promotion(config, train, date, commit, vote, None, reader)
            url = downloads_url(target.atr.url if target.atr else plan.server, plan.committee,
                                wave_atr_folder(train, plan.release))
            update_record(path, promoted={
                "url": url, "files": list(promotion.files), "superseded": [], "tags": list(promotion.tags),
                "folders": [], "atr": {"release": plan.release, "revision": found.latest_revision},
                "constraints": _constraints_recorded(promotion)})
        constraints_at = constraints_source(config, train, date, promotion)
        created = [tag for tag in promotion.tags
                   if ensure_tag(config.root, tag, commit, f"{config.project}: {tag}")]
        say(f"tagged {commit[:12]}: {', '.join(promotion.tags)}")
        created += tag_constraints(config, train, promotion, constraints_at, say)
    return WavePromoted(str(read_record(path)["promoted"]["url"]), None, promotion,
                        tuple(vote.get("promoted") or ()), dict(vote.get("excluded") or {}), tuple(created))


def _check_in_atr(plan: AtrPlan, atr: Atr, expected: Mapping[str, str], say: Progress) -> None:
    """Refuse an ATR release that does not hold exactly the plan's files with the bytes built and
    signed (`expected`: name -> sha512), naming the first that differs."""
    held = sorted(atr.paths(plan.release))
    if held != sorted(plan.files):
        extra = sorted(set(held) - set(plan.files)) or sorted(set(plan.files) - set(held))
        raise RefusedError(f"{plan.where} holds other files than were staged for the vote ({extra[0]}); only "
                           "the files voted on can be released")
    say(f"reading {plan.where} back and checking its {len(held)} files against those built and signed")
    with tempfile.TemporaryDirectory(prefix="release-promote-wave-") as work:
        for name in held:
            if sha512_of(atr.download(plan.release, name, Path(work) / name)) != expected.get(name):
                raise RefusedError(f"{name} in {plan.where} is not what was built and signed; only the files "
                                   "voted on can be released")


def _recorded_promotion(recorded: Mapping[str, Any]) -> WavePromotion | None:
    """The promotion wave.json records as decided, if any: a rerun carries out that one."""
    earlier = recorded.get("promoted")
    if not isinstance(earlier, dict) or not earlier.get("files"):
        return None
    refs = earlier.get("constraints")
    constraints = (ConstraintsRef(str(refs["branch"]), str(refs["tag"]), str(refs.get("latest") or ""))
                   if isinstance(refs, dict) else None)
    return WavePromotion(tuple(earlier["files"]), tuple(earlier.get("superseded", [])),
                         tuple(earlier.get("tags", [])),
                         tuple((str(dev), str(release)) for dev, release in earlier.get("folders", [])),
                         constraints, str(refs["from"]) if isinstance(refs, dict) else "")


def _constraints_recorded(promotion: WavePromotion) -> dict[str, str] | None:
    """What wave.json records of the constraints tags promotion sets (None without them)."""
    refs = promotion.constraints
    if refs is None:
        return None
    return {"branch": refs.branch, "tag": refs.tag, "from": promotion.constraints_from, "latest": refs.latest}


def constraints_source(config: ReleaseConfig, train: Train, date: str, promotion: WavePromotion) -> str:
    """The commit the candidate's constraints tag names, which the final's constraints tag goes on
    ("" without constraints tags); refused, before anything is copied or tagged, when it is missing."""
    if promotion.constraints is None:
        return ""
    found = tag_commit(config.root, promotion.constraints_from)
    if found is None:
        raise RefusedError(f"no git tag {promotion.constraints_from}: the run of the {train.name} wave of "
                           f"{date} tags its constraints (its constraints tags step); promote from the tree "
                           "that ran it, or fetch its tags")
    return found


def tag_constraints(config: ReleaseConfig, train: Train, promotion: WavePromotion, at: str, say: Progress
                    ) -> list[str]:
    """The final's constraints tag on `at` (the commit of the candidate's), and `constraints-latest`
    moved there when promotion decided so, only forward: never back from a higher final promoted
    since (`latest_ahead`). The tags created or moved now."""
    refs = promotion.constraints
    if refs is None:
        return []
    message = f"{config.project}: constraints of {refs.tag}"
    done = [refs.tag] if ensure_tag(config.root, refs.tag, at, message) else []
    if refs.latest:
        [final] = constraints_versions(train, [refs.tag])
        tags = GitReader(config.root).tags_matching([constraints_glob(train)])
        ahead = latest_ahead(train, final, tag_commit(config.root, refs.latest), tags)
        if ahead is not None:
            say(f"{refs.latest} names {ahead}, a higher final promoted since: left where it is")
        elif move_tag(config.root, refs.latest, at, message):
            done.append(refs.latest)
    say(f"tagged {at[:12]} on {refs.branch}: {refs.tag}" + (f", {refs.latest}" if refs.latest else ""))
    return done


def _promoted_files(train: Train, date: str, recorded: Mapping[str, Any]) -> tuple[str, ...]:
    """The files a promoted wave released; refused when it is not promoted yet."""
    promotion = _recorded_promotion(recorded)
    if promotion is None or not promotion.tags:
        raise RefusedError(f"the {train.name} wave of {date} is not promoted yet: invoke promote --train "
                           f"{train.name} --date {date}")
    return promotion.files


def _decide_promotion(config: ReleaseConfig, train: Train, date: str, commit: str, vote: Mapping[str, Any],
                      folder: str | None, reader: GitFacts | None) -> WavePromotion:
    """The wave as voted on (its exclusions taken out) at its commit, and what promoting it does
    (`folder`: the flat release folder in svn, whose older files it replaces; None with ATR)."""
    git = reader if reader is not None else GitReader(config.root)
    wave = plan_train(config, train, date=date, ref=commit, reader=git)
    excluded = dict(vote.get("excluded") or {})
    kept = exclude(wave.plan, excluded) if excluded else wave.plan
    if [f"{e.name} {e.candidate}" for e in kept.entries] != list(vote.get("promoted") or []):
        raise RefusedError(f"the {train.name} wave of {date} at {commit[:12]} is not the one voted on "
                           f"({', '.join(vote.get('promoted') or [])}); promote from the tree that staged it")
    flat = train.svn is SvnLayout.FLAT and folder is not None
    final = None
    if kept.constraints is not None:  # the finals its constraints tags name: constraints-latest's rule
        tagged = constraints_versions(train, git.tags_matching([constraints_glob(train)]))
        final = final_constraints(kept, tagged, train)
    return wave_promotion(kept, svn.list_folder(folder) if flat and folder else (), train.svn, final)


def _holds_voted(url: str, expected: Mapping[str, str]) -> bool:
    """Whether release's `url` holds its voted file already: False when it is not there, refused when it
    holds other bytes than were voted on (`expected`: file name -> sha512 built and signed)."""
    there = svn.cat_bytes(url)
    if there is None:
        return False
    if hashlib.sha512(there).hexdigest() != expected.get(url.rsplit("/", 1)[-1]):
        raise RefusedError(f"{url} exists with other bytes than were voted on; a release is never replaced")
    return True


def _check_voted(url: str, expected: Mapping[str, str]) -> None:
    """Refuse dev's `url` unless it holds the bytes that were built and signed."""
    found = svn.cat_bytes(url)
    if found is None or hashlib.sha512(found).hexdigest() != expected.get(url.rsplit("/", 1)[-1]):
        said = "missing" if found is None else "not what was voted on"
        raise RefusedError(f"{url} is {said}; only the files voted on can be released")


def _copy_voted(promotion: WavePromotion, dev: str, release: str, expected: Mapping[str, str], what: str,
                say: Progress) -> int | None:
    """Copy the voted files that the flat release folder lacks, each checked against its recorded
    sha512 at the dev revision copied; the release folder's own copies must hold those bytes too."""
    missing = [p for p in promotion.files if not _holds_voted(svn.join(release, p), expected)]
    if not missing:
        say(f"the release folder holds the {len(promotion.files)} voted files already")
        return None
    head = svn.head_revision(dev)  # copied as of this revision; read after it, so a later change is refused
    for relative in missing:
        _check_voted(svn.join(dev, relative), expected)
    sources = [svn.pinned(svn.join(dev, relative), head) for relative in missing]
    folder = svn.join(release, missing[0].rsplit("/", 1)[0])
    revision = svn.copy_files(sources, folder, f"Release the {what} (vote passed)")
    say(f"copied {len(sources)} voted files to {folder} (revision {revision})")
    return revision


def _copy_folders(promotion: WavePromotion, dev: str, release: str, expected: Mapping[str, str], what: str,
                  say: Progress) -> int | None:
    """A versioned wave's candidate folders, each copied whole, server side, to its release folder,
    pinned to the dev revision read before its files were checked against their recorded sha512; it
    must hold the voted files and nothing else. A release folder there already must hold the voted
    bytes and is left as it is. The last copy's revision (None: every release folder was there)."""
    revision = None
    for source, target in promotion.folders:
        files = [p for p in promotion.files if p.rpartition("/")[0] == target]
        if svn.exists(svn.join(release, target)):
            if not all(_holds_voted(svn.join(release, p), expected) for p in files):
                raise RefusedError(f"{svn.join(release, target)} exists without every voted file; a release "
                                   "is never replaced")
            say(f"{svn.join(release, target)} holds the {len(files)} voted files already")
            continue
        head = svn.head_revision(dev)  # copied as of this revision: a later change is refused below
        url = svn.join(dev, source)
        extra = sorted(set(svn.list_folder(url)) - {p.rsplit("/", 1)[-1] for p in files})
        if extra:
            raise RefusedError(f"{url} holds {', '.join(extra)}, which was not voted on; only the files "
                               "voted on can be released")
        for relative in files:
            _check_voted(svn.join(dev, promotion.source_of(relative)), expected)
        revision = svn.copy(svn.pinned(url, head), svn.join(release, target),
                            f"Release the {what} (vote passed)")
        say(f"copied {url} to {svn.join(release, target)} (revision {revision})")
    return revision


@dataclass(frozen=True)
class WavePublished:
    uploaded: tuple[str, ...]  # files uploaded now
    kept: tuple[str, ...]  # files the index held already, with the same bytes
    index: str
    images: tuple[str, ...] = ()  # a versioned train's final image tags and aliases, set or there


def publish_wave(config: ReleaseConfig, train: Train, *, date: str, target: Target, index: Index,
                 say: Progress, atr: Atr | None = None, clients: Clients | None = None) -> WavePublished:
    """After promotion: each promoted distribution's sdist and wheel, the voted bytes (checked against
    what was built and signed), to the package index; what the index holds with the same bytes is
    skipped, a file it holds with other bytes refused. A versioned train's images then get their
    final tags and aliases on the very images voted on (`publish_images`, with `clients`). Recorded
    in wave.json. A train staging in ATR
    then has its release finished there (`finish_wave_in_atr`)."""
    in_atr = config.stages_in_atr(train)
    if in_atr:
        check_can_finish_in_atr(train)
    path, recorded, _ = check_can_promote(config, train, date)
    promoted = _promoted_files(train, date, recorded)
    built = dict(recorded.get("files") or {})
    uploaded: list[str] = []
    kept: list[str] = []
    with locks.release_run(path.parent, f"{train.name}-{date}"):
        for name, files in packages_of(promoted).items():
            paths = built_files(path.parent, "svn", [f.rsplit("/", 1)[-1] for f in files], built,
                                fix="promote the wave from the tree that built it (what was voted on)")
            for result in upload_packages(index, name, paths, twine_env=target.twine_env, progress=say):
                (uploaded if result.uploaded else kept).append(result.filename)
        published: dict[str, Any] = {"index": index.shown_upload, "files": sorted([*uploaded, *kept])}
        images = recorded.get("images")
        if isinstance(images, dict) and images.get("pushed"):  # a versioned train's, voted on with it
            if clients is None:
                raise ReleaseError("the final image tags are set with the target's clients")
            tags = publish_images(config, images, clients, say=say)
            published["images"] = {e.tag: e.digest for e in tags.tags if e.digest}
            published["owns_latest"] = tags.owns_latest
        update_record(path, published=published)
        if in_atr:
            finish_wave_in_atr(config, train, date=date, target=target, atr=_client(atr), say=say)
    return WavePublished(tuple(uploaded), tuple(kept), index.shown_upload,
                         tuple(published.get("images") or ()))


def finish_wave_in_atr(config: ReleaseConfig, train: Train, *, date: str, target: Target, atr: Atr,
                  say: Progress) -> bool:
    """A published wave's release finished in ATR: its voted files moved to ATR's downloads (the
    train's folder there) and the wave's [ANNOUNCE] (also written beside wave.json) sent by ATR,
    then each promoted package recorded as distributed on PyPI (a refusal because ATR cannot reach
    PyPI is a warning naming it). Recorded in wave.json; a finished release is left alone."""
    path, recorded, _ = check_can_promote(config, train, date)
    email, news = _announced(config, train, date, target)
    packages = tuple((name, final) for name, final in news.distributions)
    plan = wave_atr_plan(config, train, date, recorded, packages)
    text = render_wave_announce_email(replace(news, to=plan.announce_to))
    write_atomic(email, text)
    subject, body = split_email(text)
    finished = atr.announce(plan.release, email_to=plan.announce_to, subject=subject, body=body,
                            path_suffix=wave_atr_folder(train, plan.release))
    say(f"{plan.where} {'finished and announced' if finished else 'was finished already'}")
    found = record_distributions(plan, atr, progress=say)
    update_record(path, atr={**recorded["atr"], "finished": True, "distributions": [
        {"platform": r.distribution.platform, "package": r.distribution.package,
         "version": r.distribution.version, "recorded": r.recorded, "warning": r.warning} for r in found]})
    return finished


def promote_wave_plan(config: ReleaseConfig, train: Train, *, date: str, target: Target,
                      reader: GitFacts | None = None) -> CommandPlan:
    """`invoke promote --train --dry-run`: what promote_wave would do now (the recorded decision, or
    the one it would make), reading only; why it would refuse instead."""
    dev = svn.join(target.svn_dev, config.name)
    release = svn.join(target.svn_release, config.name)
    try:
        _, recorded, vote = check_can_promote(config, train, date)
        commit = str(recorded["commit"])
        in_atr = wave_atr_plan(config, train, date, recorded).where if config.stages_in_atr(train) else ""
        folder = None if in_atr else svn.join(release, train.svn_folder)
        promotion = _recorded_promotion(recorded) or _decide_promotion(config, train, date, commit, vote,
                                                                       folder, reader)
        constraints_source(config, train, date, promotion)
    except RefusedError as exc:
        return plan_promote_wave(train.name, date, WavePromotion((), (), ()), dev_url=dev,
                                 release_url=release, commit="", refusals=(str(exc),))
    return plan_promote_wave(train.name, date, promotion, dev_url=dev, release_url=release, commit=commit,
                             atr=in_atr)


def publish_wave_plan(config: ReleaseConfig, train: Train, *, date: str, index: str) -> CommandPlan:
    """`invoke publish --train --dry-run`: the promoted packages that would go to `index`."""
    try:
        _, recorded, _ = check_can_promote(config, train, date)
        promoted = _promoted_files(train, date, recorded)
        in_atr = ""
        if config.stages_in_atr(train):
            check_can_finish_in_atr(train)
            in_atr = wave_atr_plan(config, train, date, recorded).where
    except RefusedError as exc:
        return plan_publish_wave(train.name, date, {}, index=index, refusals=(str(exc),))
    images = recorded.get("images")
    pushed = images.get("pushed") if isinstance(images, dict) else None
    voted = {str(e["ref"]).rpartition(":")[2]: str(e["digest"]) for e in pushed.values()} if pushed else {}
    return plan_publish_wave(train.name, date, packages_of(promoted), index=index, atr=in_atr, images=voted,
                             final=str(images.get("version")) if isinstance(images, dict) else "")


def check_can_finish_in_atr(train: Train) -> None:
    """Refuse, before any service is reached, finishing a train with a folder per release in ATR:
    ATR's finishing sends the announcement, rendered as a flat train's only."""
    if train.svn is not SvnLayout.FLAT:
        raise RefusedError(f"train {train.name} has a folder per release in svn: finishing it in ATR (which "
                           "sends its announcement) is not carried out yet (a flat train's is)")


def check_can_announce(config: ReleaseConfig, train: Train, date: str
                       ) -> tuple[Path, dict[str, Any], dict[str, Any], tuple[str, ...]]:
    """Refuse, before any service is reached, a wave whose record says it is not published. (wave.json's
    path, what it records, its vote, the files promotion released.)"""
    path, recorded, vote = check_can_promote(config, train, date)
    promoted = _promoted_files(train, date, recorded)
    if not isinstance(recorded.get("published"), dict):
        raise RefusedError(f"the {train.name} wave of {date} is not published yet: invoke publish --train "
                           f"{train.name} --date {date}")
    return path, recorded, vote, promoted


def _announced(config: ReleaseConfig, train: Train, date: str, target: Target
               ) -> tuple[Path, WaveAnnouncement]:
    """(the email's path, what it says) of a published wave; refused before that. A flat train's files
    are listed in its one release folder, a versioned train's each in its release folder under the
    train's (`3.3.3/`, `task-sdk/1.3.3/`)."""
    path, recorded, vote, promoted = check_can_announce(config, train, date)
    sums = {p.rsplit("/", 1)[-1]: h for p, h in dict(recorded.get("files") or {}).items()}
    distributions, files = announced(recorded, *released(vote.get("promoted") or (), promoted, sums,
                                                         train.svn_folder))
    url = str(recorded["promoted"]["url"]).rstrip("/")
    return path.parent / ANNOUNCE_EMAIL, WaveAnnouncement(
        config.project, train.name, date, config.announce_to, distributions, url, files, target.keys_url,
        target.index_simple)


def announce_wave_plan(config: ReleaseConfig, train: Train, *, date: str, target: Target) -> CommandPlan:
    """`invoke announce --train --dry-run`: the email it would write, or why it would refuse."""
    email = config.root / "dist" / f"{train.name}-{date}" / ANNOUNCE_EMAIL
    try:
        _announced(config, train, date, target)
    except RefusedError as exc:
        return plan_announce_wave(train.name, date, str(email), refusals=(str(exc),))
    return plan_announce_wave(train.name, date, str(email))


def announce_wave(config: ReleaseConfig, train: Train, *, date: str, target: Target, say: Progress) -> Path:
    """The [ANNOUNCE] email of a published wave, written beside wave.json; its path."""
    email, news = _announced(config, train, date, target)
    write_atomic(email, render_wave_announce_email(news))
    if line := missing_recipient(config.announce_to, "announce-list", email):
        say(line)
    return email


def wave_commit(config: ReleaseConfig, train: Train, date: str) -> str:
    """The commit a staged wave was built from: as the tree that built it recorded it, else where the
    wave's tag is (a voter's clone); refused when neither is there."""
    recorded = read_record(record_path(config, train.name, date))
    if isinstance(recorded.get("commit"), str):
        return str(recorded["commit"])
    tag = train.wave_tag.format(date=date, train=train.name) if train.wave_tag else ""
    commit = tag_commit(config.root, tag) if tag else None
    if commit is None:
        where = f"no git tag {tag}" if tag else f"train {train.name} tags no wave"
        fix = ("give the candidate the vote is on, e.g. --version 3.3.3rc1, and fetch the tags the vote "
               "email names" if train.svn is SvnLayout.VERSIONED else "fetch the tags the vote email names")
        raise RefusedError(f"the {train.name} wave of {date} is not known here ({where}, no "
                           f"dist/{train.name}-{date}/{WAVE_RECORD}): {fix}")
    return commit


def check_candidate(train: Train, candidate: str) -> int:
    """The rc number of `candidate`, the one a versioned train's vote is on; refused, before any service
    is reached, for a flat train (its waves are found by their date) and for a version that is not a
    candidate."""
    if train.svn is not SvnLayout.VERSIONED:
        raise RefusedError(f"--version {candidate}: train {train.name}'s waves are found by their date "
                           "(--date); a candidate version names a wave of a train with a folder per release")
    return candidate_number(candidate)


def find_staged_wave(config: ReleaseConfig, train: Train, *, date: str, candidate: str = "",
                     reader: GitFacts | None = None) -> tuple[str, WavePlan]:
    """(the commit, the wave planned at it) of a staged wave: by its date (`wave_commit`), or, given
    `candidate` (a versioned train's, `3.3.3rc1`), where the candidate tags of that wave point."""
    if not candidate:
        commit = wave_commit(config, train, date)
        return commit, plan_train(config, train, date=date, ref=commit, reader=reader).plan
    rc = check_candidate(train, candidate)
    git = reader if reader is not None else GitReader(config.root)
    tag = lead_tag(members(train, git.tree_files(git.resolve("HEAD")) if train.is_pattern else ()), candidate)
    commit = git.tags_matching([tag]).get(tag, "")
    if not commit:
        raise RefusedError(f"no git tag {tag}: the {train.name} candidate {candidate} is not known here; "
                           "fetch the tags the vote email names")
    plan = plan_train(config, train, date=date, ref=commit, reader=git, rc=rc).plan
    named = [tag for tag, _ in candidate_tags(plan)]
    refusal = candidate_tags_refusal(plan, git.tags_matching(named) if named else {}, commit, candidate)
    if refusal:
        raise RefusedError(refusal)
    return commit, plan


def verify_wave(config: ReleaseConfig, train: Train, *, date: str, target: Target, rebuild: bool,
                say: Progress, reader: GitFacts | None = None, candidate: str = "",
                atr: Atr | None = None, clients: Clients | None = None) -> VerifyReport:
    """For voters: the staged wave, as planned at its commit (`find_staged_wave`: by its date, or by a
    versioned train's `candidate`), read from svn dev or, for a train staging in ATR, from the latest
    revision of its ATR release (what the vote runs on); every file with a good signature by a key in
    KEYS and its checksum, the PMC checks of its sources, (`rebuild`) the same bytes built again
    from that commit, and a versioned train's images (with `clients`): each candidate tag's image
    installs exactly the staged wheels and names the wave's commit, and its provenance holds (its
    signature, and its SBOM and the wave's signed record attached to its digest:
    `check_train_provenance`). The report when all holds, else CandidateRejected (7)."""
    commit, plan = find_staged_wave(config, train, date=date, candidate=candidate, reader=reader)
    for line in withdrawn_lines(read_record(record_path(config, train.name, date))):
        say(line)
    if not plan.entries:
        raise RefusedError(f"the {train.name} wave of {date} at {commit[:12]} has nothing in it")
    checks: dict[str, FileCheck] = {}
    with tempfile.TemporaryDirectory(prefix="release-verify-wave-") as work:
        files = staged_files(plan, Path(work))  # into <work>/svn/, as a wave's directory holds them
        folder = Path(work) / "svn"
        folder.mkdir()
        if config.stages_in_atr(train):
            url, found = read_staged_in_atr(config, plan, _client(atr), Path(work) / "atr", say)
        else:
            url, found = read_staged_in_svn(config, plan, target, say)
        names = []
        for relative, local in files.items():
            data = found(relative)
            if data is None:
                checks.setdefault(local.name, FileCheck(local.name)).problems.append(f"not in {url}")
                continue
            local.write_bytes(data)
            names.append(local.name)
        artefacts = sorted(n for n in names if not n.endswith((".asc", ".sha512")))
        say(f"checking signatures against {target.keys_url} and the checksums")
        with keys_keyring(svn.read_text(target.keys_url), Path(work), target.keys_url) as home:
            check_signed(folder, sorted(names), artefacts, home, checks)
        if config.checks_sources:
            say("checking LICENSE and NOTICE, license headers, binaries, and the wheels against the sdists")
            check_contents(folder, artefacts, config, checks)
        if rebuild:
            say(f"building the wave again from {commit[:12]} to compare bytes")
            with package_builder(commit_time(config.root, commit)) as builder:
                again = build_files(config.root, commit, plan, out=Path(work) / "rebuilt", builder=builder,
                                    progress=say)
            compare_rebuild(folder, again, checks)
        if plan.images:
            if clients is None:
                raise ReleaseError("a train's images are checked with the target's clients")
            pulled = check_wave_images(config, plan, clients, folder, commit, checks, say)
            lookaside = "" if config.stages_in_atr(train) else lookaside_url(target.svn_dev, config.name)
            check_train_provenance(config, pulled, clients, keys_file=Path(work) / "KEYS",  # keys_keyring's
                                   lookaside=lookaside, record=WAVE_PROVENANCE_RECORD, checks=checks,
                                   progress=say)
    return finish_report(VerifyReport(f"{train.name} {candidate or date}", url, commit if rebuild else "",
                                      tuple(checks[name] for name in sorted(checks))), say)


def read_staged_in_svn(config: ReleaseConfig, plan: WavePlan, target: Target, say: Progress
                   ) -> tuple[str, Callable[[str], bytes | None]]:
    """(where, each staged file's bytes by its path under the project's dev folder) in svn dev."""
    dev = svn.join(target.svn_dev, config.name)
    url = ", ".join(svn.join(dev, folder) for folder in dev_folders(plan))
    say(f"reading the wave's files from {url}")
    return url, lambda relative: svn.cat_bytes(svn.join(dev, relative))


def read_staged_in_atr(config: ReleaseConfig, plan: WavePlan, atr: Atr, work: Path, say: Progress
                   ) -> tuple[str, Callable[[str], bytes | None]]:
    """(where, each staged file's bytes) in the latest revision of the wave's ATR release, where its
    files are uploaded by name (`from_atr`: the revision the vote runs on)."""
    fetch = from_atr(plan_wave_atr(config, plan.atr_release, ()), atr)
    say(f"reading the wave's files from {fetch.where}")
    folder = fetch.into(work)

    def found(relative: str) -> bytes | None:
        path = folder / relative.rsplit("/", 1)[-1]
        return path.read_bytes() if path.is_file() else None

    return fetch.where, found


@dataclass(frozen=True)
class TrainCleanup:
    removals: tuple[Removal, ...]
    urls: tuple[str, ...]  # one per removal, in the same order
    revision: int | None  # the commit that removed them; None for a listing or when nothing goes
    digest: str  # the listing's digest: what --remove must find again
    listing: Path  # where the listing was written (dist/.cleanup-plan-<train>.json)
    kind: str = "files"  # what the removals are: a flat train's files, a versioned train's folders
    nothing: str = ""  # why there is nothing to clean at all (a train staging in ATR)


def cleanup_train(config: ReleaseConfig, train: Train, *, target: Target, remove: bool,
                  say: Progress) -> TrainCleanup:
    """A train's folders in svn. Flat: the files a newer version of the same distribution replaces in
    release/, and in dev/ the candidates released (or older) and the source releases of waves a later
    one replaces (plan/wave.py: flat_cleanup). Versioned: in each of its folders (`task-sdk/` too) the
    release folders older than the newest of their X.Y line and the candidate folders released or
    superseded (versioned_cleanup), and the release folders the train's waves withdrew (their
    wave.json in dist/). Listed and written to dist/.cleanup-plan-<train>.json; `remove` removes, in
    one commit, only a fresh listing that is the one written, then drops it. A train staging in ATR
    has nothing in svn: said, and no service is reached."""
    dev = svn.join(target.svn_dev, config.name)
    release = svn.join(target.svn_release, config.name)
    listing = config.root / "dist" / f".cleanup-plan-{train.name}.json"
    if config.stages_in_atr(train):
        return TrainCleanup((), (), None, "", listing, nothing=kept_in_atr(train.name))

    def names(area: str, folder: str) -> list[str]:
        url = svn.join(area, folder)
        return svn.list_folder(url) if svn.exists(url) else []

    kind = "files" if train.svn is SvnLayout.FLAT else "folders"
    if train.svn is SvnLayout.FLAT:
        folder = train.svn_folder
        removals = flat_cleanup(folder, names(release, folder), names(dev, folder))
    else:
        folders = {train.svn_folder, *(m.svn_folder for m in members(train))}
        withdrawn = withdrawn_folders(train_records(config, train.name))
        removals = versioned_cleanup({f: (names(release, f), names(dev, f)) for f in folders}, withdrawn)
    urls = tuple(svn.join(dev if r.area == "dev" else release, r.name) for r in removals)
    digest = listing_digest(removals, urls)
    if not remove:
        if removals:
            write_listing(listing, removals, urls, digest)
        return TrainCleanup(removals, urls, None, digest, listing, kind)
    if not removals:
        return TrainCleanup(removals, urls, None, digest, listing, kind)
    refusal = listing_refusal(printed_listing(listing), digest, f"invoke cleanup --train {train.name}")
    if refusal:
        raise RefusedError(refusal)
    revision = svn.remove(urls, f"Remove old files of the {train.name} train of {config.project}")
    say(f"removed {len(urls)} files (r{revision})")
    listing.unlink(missing_ok=True)
    return TrainCleanup(removals, urls, revision, digest, listing, kind)
