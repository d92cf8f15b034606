# SPDX-License-Identifier: Apache-2.0
"""The plans of the commands around a release: the vote workflow (build, sign, stage, vote-result,
promote, announce, constraints), image jobs and housekeeping. Pure.

Each is what the command will change, where, in its order, and why a real run would refuse, read
from the release record and the configuration; `--dry-run` prints it (`--json` for the machine
form) and the pipeline (`pipeline/vote.py`, `pipeline/images.py`) carries the same plan out.
`invoke release` and `invoke publish` have the fuller `ReleasePlan` (plan/release.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from release.plan.atr import AtrPlan
from release.plan.release import Artefact, PlannedImage, source_tarball
from release.plan.wave import WavePromotion
from release.versions import ReleaseVersion


class Where(str, Enum):
    DIST = "dist"  # files under dist/<V>/ and the release record
    GIT = "git"  # tags in the checkout
    SVN = "svn"  # the ASF dist repository
    REGISTRY = "registry"
    INDEX = "index"
    ATR = "atr"  # Apache Trusted Releases (staging = "atr")


@dataclass(frozen=True)
class Action:
    where: Where
    does: str  # one line, in the release manager's words


@dataclass(frozen=True)
class CommandPlan:
    command: str
    version: str
    actions: tuple[Action, ...]
    refusals: tuple[str, ...] = ()  # why a run would refuse now; a dry run only says so
    options: str = ""  # how the command names what it acts on ("": --version VERSION)

    @property
    def invocation(self) -> str:
        return f"invoke {self.command} {self.options or f'--version {self.version}'}"

    def to_json(self) -> dict[str, Any]:
        return {"command": self.command, "version": self.version,
                "actions": [{"where": a.where.value, "does": a.does} for a in self.actions],
                "refusals": list(self.refusals)}


def plan_build(version: ReleaseVersion, artefacts: Sequence[Artefact], *, built_from: str = "",
               refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke build`: every file of the plan's svn/ and pypi/ sets, from a clean export of the
    commit (`built_from`, the one a rerun must build again), checked, recorded."""
    files = [a.path for a in artefacts if a.path.startswith(("svn/", "pypi/"))]
    commit = f"commit {built_from[:12]} (as recorded)" if built_from else "HEAD"
    return CommandPlan("build", str(version), (
        *(Action(Where.DIST, f"build dist/{version}/{path} from {commit}") for path in files),
        Action(Where.DIST, "twine check --strict the packages; record every file's sha512"),
    ), tuple(refusals))


def plan_sign(version: ReleaseVersion, artefacts: Sequence[Artefact], *, key: str,
              refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke sign`: `.asc` and `.sha512` for exactly the plan's signed files."""
    signed = [a for a in artefacts if a.signed and a.path.startswith(("svn/", "pypi/"))]
    return CommandPlan("sign", str(version), tuple(
        Action(Where.DIST, f"sign dist/{version}/{a.path} with {key or 'the configured key'}: "
                           f"{', '.join(c.rsplit('/', 1)[-1] for c in a.companions)}")
        for a in signed), tuple(refusals))


def plan_stage(version: ReleaseVersion, name: str, *, url: str, files: Sequence[str], commit: str,
               refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke stage`: check the files as a PMC member would, tag git, commit the candidate to
    svn dev/, verify what was committed, and write the [VOTE] email."""
    return CommandPlan("stage", str(version), (
        Action(Where.DIST, "check LICENSE, NOTICE, headers, binaries and wheels of "
                           f"{source_tarball(name, version)} and the packages"),
        Action(Where.GIT, f"tag {commit[:12] or 'the built commit'} as {version}"),
        Action(Where.SVN, f"commit {len(files)} files to {url}: {', '.join(files)}"),
        Action(Where.SVN, f"verify {url} as `invoke verify` does"),
        Action(Where.DIST, f"write dist/{version}/vote-email.txt; record the staging"),
    ), tuple(refusals))


def plan_vote_result(version: ReleaseVersion, *, votes: str, refusals: Sequence[str] = (),
                     atr: AtrPlan | None = None) -> CommandPlan:
    """`invoke vote-result`: count `votes` by the ASF rules, record the result, write the email; a
    vote in ATR is then resolved there as counted."""
    resolve = (Action(Where.ATR, f"resolve the vote on {atr.where} as passed or failed, as counted "
                                 "(a result recorded already is left alone)"),) if atr is not None else ()
    return CommandPlan("vote-result", str(version), (
        Action(Where.DIST, f"count the votes in {votes}: open 72 hours, three binding +1, more binding +1 "
                           "than -1"),
        Action(Where.DIST, f"record the result in dist/{version}/release.json (signed again if it was "
                           f"signed); write dist/{version}/vote-result-email.txt"),
        *resolve,
    ), tuple(refusals))


def plan_stage_atr(version: ReleaseVersion, name: str, atr: AtrPlan, *, commit: str,
                   refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke stage` with staging = "atr": the PMC checks first, the tag, then the candidate as a
    revision of its release in ATR, ATR's checks of it, and the vote started on it."""
    return CommandPlan("stage", str(version), (
        Action(Where.DIST, "check LICENSE, NOTICE, headers, binaries and wheels of "
                           f"{source_tarball(name, version)} and the packages"),
        Action(Where.GIT, f"tag {commit[:12] or 'the built commit'} as {version}"),
        Action(Where.ATR, f"make sure committee {atr.committee} holds the signing key (from KEYS)"),
        *(Action(Where.ATR, f"keep the check ignore {ignore} for committee {atr.committee}")
          for ignore in atr.ignores),
        Action(Where.ATR, f"upload {len(atr.files)} files to {atr.where} as a revision (those already there "
                          f"with the same bytes are not uploaded again): {', '.join(atr.files)}"),
        Action(Where.ATR, "wait for ATR's checks of that revision; stop on a blocking result"),
        Action(Where.DIST, f"write dist/{version}/vote-email.txt; record the staging"),
        Action(Where.ATR, f"start the vote on that revision, its email to {atr.email_to or 'the list'} "
                          "(not when a vote runs or ran)"),
    ), tuple(refusals))


def plan_promote_atr(final: ReleaseVersion, rc: ReleaseVersion, atr: AtrPlan, *, revision: str,
                     files: Sequence[str], refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke promote` with staging = "atr": the voted revision read back from ATR and checked, the
    final tagged, dist/ filled; `invoke publish` finishes the release in ATR."""
    return CommandPlan("promote", str(final), (
        Action(Where.ATR, f"check the vote on {atr.where} passed and it holds the {len(files)} files staged "
                          f"for the vote as revision {revision or '?'} (read back, sha512)"),
        Action(Where.GIT, f"tag the commit of {rc} as {final}"),
        Action(Where.DIST, f"put the voted files in dist/{final}/svn/, their packages in dist/{final}/pypi/"),
    ), tuple(refusals))


def plan_promote(final: ReleaseVersion, rc: ReleaseVersion, *, dev_url: str, release_url: str,
                 files: Sequence[str], candidates: Sequence[str], refusals: Sequence[str] = ()
                 ) -> CommandPlan:
    """`invoke promote`: the voted files copied as they are, the final tagged, dist/ filled."""
    return CommandPlan("promote", str(final), (
        Action(Where.SVN, f"check {dev_url} holds the {len(files)} files staged for the vote"),
        Action(Where.SVN, f"svn copy {dev_url} to {release_url}"),
        Action(Where.GIT, f"tag the commit of {rc} as {final}"),
        Action(Where.DIST, f"put the voted files in dist/{final}/svn/, their packages in dist/{final}/pypi/"),
        *(Action(Where.SVN, f"remove the candidate dev/{c}") for c in candidates),
    ), tuple(refusals))


def plan_promote_wave(train: str, date: str, promotion: WavePromotion, *, dev_url: str, release_url: str,
                      commit: str, refusals: Sequence[str] = (), atr: str = "") -> CommandPlan:
    """`invoke promote --train`: the voted files of a flat wave checked and copied to the release
    folder in one commit, the older versions they replace removed from it, the released files
    removed from dev; a versioned wave's candidate folders checked and each copied whole to its
    release folder, then removed from dev; each promoted distribution's final tag on the wave's commit,
    and with constraints refs the final's constraints tag on the commit of the candidate's (and
    `constraints-latest` there when the final is the highest). With ATR (`atr`: where the wave is,
    `AtrPlan.where`): its vote checked and its files read back instead, nothing copied."""
    files = promotion.files
    wave_commit = commit[:12] or "the wave commit"
    tagging = [Action(Where.GIT, f"tag {wave_commit} as {tag}") for tag in promotion.tags]
    refs = promotion.constraints
    if refs is not None:
        tagging.append(Action(Where.GIT, f"tag the commit of {promotion.constraints_from} (branch "
                                         f"{refs.branch}) as {refs.tag}"))
        if refs.latest:
            tagging.append(Action(Where.GIT, f"move {refs.latest} there: the highest final (never back from "
                                             "a higher one)"))
    if atr:
        return CommandPlan("promote", f"{train} {date}", (
            Action(Where.ATR, f"check that the vote on {atr} was resolved as passed and that it holds the "
                              "files staged"),
            Action(Where.ATR, f"read the {len(files)} files back and check them against the sha512 recorded "
                              "when they were built and signed; nothing is copied in svn or moved in ATR"),
            *tagging,
        ) if files else (), tuple(refusals), options=f"--train {train} --date {date}")
    if promotion.folders:
        copies = [Action(Where.SVN, f"copy {dev_url}/{source} to {release_url}/{target} (the whole folder, "
                                    "server side, as of the revision checked)")
                  for source, target in promotion.folders]
        removals = [Action(Where.SVN, f"remove {dev_url}/{source} (released)")
                    for source, _ in promotion.folders]
    else:
        copies = [Action(Where.SVN, f"copy {path} to {release_url}/{path}") for path in files]
        removals = [Action(Where.SVN, f"remove {dev_url}/{path} (released)") for path in files]
    return CommandPlan("promote", f"{train} {date}", (
        Action(Where.SVN, f"check the {len(files)} voted files in {dev_url} against the sha512 recorded when "
                          "they were built and signed"),
        *copies,
        *(Action(Where.SVN, f"remove {release_url}/{path} (a newer version replaces it)")
          for path in promotion.superseded),
        *removals,
        *tagging,
    ) if files else (), tuple(refusals), options=f"--train {train} --date {date}")


def plan_publish_wave(train: str, date: str, packages: Mapping[str, Sequence[str]], *, index: str,
                      refusals: Sequence[str] = (), atr: str = "", images: Mapping[str, str] | None = None,
                      final: str = "", released: str = "", commit: str = "", by_version: str = ""
                      ) -> CommandPlan:
    """`invoke publish --train`: each promoted distribution's sdist and wheel to the index; a versioned
    train's voted images (`images`: candidate tag -> digest, "" when not read yet) then get the tags
    of `final`; with ATR
    (`atr`: where the wave is), then the release finished there and its packages recorded. Where the
    wave was not promoted (`released`: the project's svn release folder; a runner without wave.json),
    its files are read from there first, each checked, its final tags on the wave's `commit` (found by
    a versioned train's final, `by_version`, or by the wave's date); its images checked too."""
    read: tuple[Action, ...] = (
        Action(Where.SVN, f"read the wave's promoted files from {released} and check each: signed by a key "
                          "in KEYS, its .sha512; nothing is uploaded unless all hold"
                          + (" and each candidate image names the wave's commit and installed exactly the "
                             "promoted wheels" if images else "")),
    ) if released and not refusals else ()
    if read and commit:
        read = (Action(Where.GIT, f"find the wave at {commit[:12]}, planned again there: its final tags on "
                                  "that commit say what was promoted"), *read)
    tagged = (
        Action(Where.REGISTRY, f"the tags of {final} ({final}-pythonP, {final}, and the aliases the single "
                               "release's rule gives it: latest only for the highest final) by manifest copy "
                               "onto the voted images "
                               + ", ".join(f"{t}@{d[:19]}" if d else t for t, d in images.items())),
    ) if images else ()
    finish = (
        Action(Where.ATR, f"finish {atr}: ATR moves its files to its downloads and sends the wave's "
                          "[ANNOUNCE] (written to announce-email.txt too); left alone when finished"),
        Action(Where.ATR, f"record each of the {len(packages)} packages as distributed on PyPI (ATR unable "
                          "to reach PyPI: a warning naming it)"),
    ) if atr and packages else ()
    return CommandPlan("publish", f"{train} {date}", (*read, *(
        Action(Where.INDEX, f"upload {', '.join(f.rsplit('/', 1)[-1] for f in files)} to {index} "
                            "(a file it holds with the same sha256 is skipped, other bytes refused)")
        for files in packages.values()), *tagged, *finish), tuple(refusals),
        options=f"--train {train} " + (f"--version {by_version}" if by_version else f"--date {date}"))


def plan_announce(version: ReleaseVersion, refusals: Sequence[str] = ()) -> CommandPlan:
    return CommandPlan("announce", str(version), (
        Action(Where.DIST, f"write dist/{version}/announce-email.txt: the release notes, the svn folder and "
                           "its files, KEYS, sha512 checksums, pip install lines, image tags"),
    ), tuple(refusals))


def plan_vote_result_wave(train: str, date: str, *, votes: str, record: str, excluded: Mapping[str, str],
                          refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke vote-result --train`: count the votes on a staged wave and record them, exclusions too."""
    left = (Action(Where.DIST, "record as excluded, for a later wave: " + "; ".join(
        f"{name} ({why})" for name, why in sorted(excluded.items()))),) if excluded else ()
    return CommandPlan("vote-result", f"{train} {date}", (
        Action(Where.DIST, f"count the votes in {votes}: open 72 hours from the staging, three binding +1, "
                           "more binding +1 than -1; a binding voter's unread reply needs --count"),
        *left,
        Action(Where.DIST, f"record the result in {record}; write the [RESULT][VOTE] email beside it"),
    ), tuple(refusals), options=f"--train {train} --date {date}")


def plan_announce_wave(train: str, date: str, email: str, refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke announce --train`: the [ANNOUNCE] email of a published wave."""
    return CommandPlan("announce", f"{train} {date}", (
        Action(Where.DIST, f"write {email}: each released distribution with its version, the svn release "
                           "folder and its files, KEYS, sha512 checksums, pip install lines"),
    ), tuple(refusals), options=f"--train {train} --date {date}")


def plan_constraints(version: ReleaseVersion, *, url: str, files: Sequence[str],
                     refusals: Sequence[str] = ()) -> CommandPlan:
    return CommandPlan("constraints", str(version), tuple(
        Action(Where.SVN, f"commit {name} (.asc, .sha512) to {url}") for name in files), tuple(refusals))


def plan_image_job(version: str, images: Sequence[PlannedImage], *, push: bool,
                   refusals: Sequence[str] = ()) -> CommandPlan:
    """`invoke images`/`invoke smoke`: each planned image built (or reused), smoked, and pushed."""
    return CommandPlan("images", version, tuple(
        Action(Where.REGISTRY, f"build {image.name} FROM {image.base_image}, smoke it"
                               + (f", push {image.ref}" if push else ""))
        for image in images), tuple(refusals))
