# SPDX-License-Identifier: Apache-2.0
"""A promoted wave published where it was not promoted: a CI runner, a fresh clone with the tags and
no `dist/NAME-D/wave.json`. No record of the vote is there, so what is trusted is what only the PMC
and the release manager write: svn release (every file signed by a key in KEYS and matching its
checksum) and git's final tags, each on the commit the wave is planned at again, whose plan names
the files (their versions read at that commit). The wave's commit is where its wave tag is (`--date`)
or, for a versioned train, where the final's tag is (`--version 3.3.3`). Nothing is rebuilt or signed;
the index gets exactly the files read from svn release, and a versioned train's images, found under
the tags of the candidate whose lead tag is on the commit (`3.3.3rc1-python3.11`), get their final tags
once each names the commit and installed exactly the promoted wheels. Nothing is recorded: there is
no wave.json. A train staged in ATR is refused (its release is finished from the wave's record).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from release.adapters import svn
from release.adapters.clients import Clients, Index
from release.adapters.git import GitReader
from release.config import ReleaseConfig
from release.errors import RefusedError, ReleaseError
from release.pipeline.connect import Target
from release.pipeline.trains import GitFacts, plan_train, wave_commit
from release.pipeline.wave_images import candidate_images, check_wave_images, final_tags
from release.pipeline.wave_record import record_path
from release.plan.commands import CommandPlan, plan_publish_wave
from release.plan.verify_report import FileCheck, failed_checks
from release.plan.wave import WavePlan, WavePromotion, packages_of, promoted_by_tags, without_finals_at
from release.plan.wave_facts import lead_tag, members
from release.progress import Progress
from release.steps.publish import upload_packages
from release.steps.verify import check_signed, keys_keyring
from release.trains import SvnLayout, Train
from release.versions import parse_version


def is_promoted_elsewhere(config: ReleaseConfig, train: Train, date: str, final: str) -> bool:
    """Whether `publish --train` takes the wave from svn release: a final version named (a versioned
    train's), or no wave.json of the wave in this tree."""
    return bool(final) or not record_path(config, train.name, date).is_file()


class _WithoutFinals:
    """The git facts of the tree as they were before promotion tagged `commit`'s finals."""

    def __init__(self, git: GitFacts, commit: str) -> None:
        self.git, self.commit = git, commit

    @property
    def calls(self) -> int:
        return self.git.calls

    @calls.setter
    def calls(self, value: int) -> None:
        self.git.calls = value

    def resolve(self, ref: str) -> str:
        return self.git.resolve(ref)

    def tree_files(self, commit: str) -> tuple[str, ...]:
        return self.git.tree_files(commit)

    def read_files(self, commit: str, paths: list[str]) -> dict[str, str | None]:
        return self.git.read_files(commit, paths)

    def tags_matching(self, patterns: list[str]) -> dict[str, str]:
        return without_finals_at(self.git.tags_matching(patterns), self.commit)

    def commits_since(self, head: str, since: dict[str, str | None]
                      ) -> dict[str, tuple[tuple[str, str], ...]]:
        return self.git.commits_since(head, since)


@dataclass(frozen=True)
class ReleasedWave:
    name: str  # how the wave is named: its date, or a versioned train's final
    commit: str
    promotion: WavePromotion
    plan: WavePlan  # the wave planned again at its commit (its images named by the candidate voted on)


def released_wave(config: ReleaseConfig, train: Train, *, date: str, final: str = "",
                  reader: GitFacts | None = None) -> ReleasedWave:
    """The promoted wave as git says: its commit (by its wave tag, or by `final`'s tag), the wave
    planned again there, and what its final tags say was promoted (`promoted_by_tags`)."""
    if config.stages_in_atr(train):
        raise RefusedError(f"train {train.name} stages in ATR: its release is finished there from the wave's "
                           "record; publish it from the tree that promoted it")
    git = reader if reader is not None else GitReader(config.root)
    if final:
        if train.svn is not SvnLayout.VERSIONED:
            raise RefusedError(f"--version {final}: train {train.name}'s waves are found by their date "
                               "(--date); a final version names a wave of a train with a folder per release")
        if parse_version(final).is_prerelease:
            raise RefusedError(f"--version {final}: give the final the vote promoted, e.g. 3.3.3")
        tag = lead_tag(members(train, git.tree_files(git.resolve("HEAD")) if train.is_pattern else ()), final)
        commit = git.tags_matching([tag]).get(tag, "")
        if not commit:
            raise RefusedError(f"no git tag {tag}: the {train.name} wave of {final} is not promoted, or its "
                               "tags are not fetched (git fetch --tags)")
    else:
        commit = wave_commit(config, train, date)
    reader = _WithoutFinals(git, commit)
    plan = plan_train(config, train, date=date, ref=commit, reader=reader).plan
    if plan.images:  # named by the candidate voted on: the rc its lead's tag on the commit says
        plan = plan_train(config, train, date=date, ref=commit, reader=reader,
                          rc=_voted_rc(git, train, commit, str(plan.entries[0].version))).plan
    finals = [e.final_tag for e in plan.entries]
    promotion = promoted_by_tags(plan, git.tags_matching(finals) if finals else {}, commit, train.svn)
    return ReleasedWave(final or date, commit, promotion, plan)


def _voted_rc(git: GitFacts, train: Train, commit: str, final: str) -> int:
    """The rc of `final` whose lead tag (`3.3.3rc1`) is on the wave's `commit`; refused without one."""
    tag = lead_tag(members(train, git.tree_files(commit) if train.is_pattern else ()), f"{final}rc*")
    rcs = [found.value.pre[1] for name, sha in git.tags_matching([tag]).items() if sha == commit
           if (found := parse_version(name.rsplit("/", 1)[-1])).value.pre is not None]
    if not rcs:
        raise RefusedError(f"no candidate tag {tag} on {commit[:12]}: the images voted on are named by it; "
                           "fetch the tags the vote email names")
    return max(rcs)


def publish_released_plan(config: ReleaseConfig, train: Train, *, date: str, final: str, target: Target
                          ) -> CommandPlan:
    """`publish --train --dry-run` where the wave was not promoted: what would be read and uploaded."""
    release = svn.join(target.svn_release, config.name)
    try:
        wave = released_wave(config, train, date=date, final=final)
    except RefusedError as exc:
        return plan_publish_wave(train.name, final or date, {}, index=target.index_upload,
                                 refusals=(str(exc),), released=release, by_version=final)
    lead = wave.plan.entries[0]  # the images' digests are read and checked by the run
    return plan_publish_wave(train.name, wave.name, packages_of(wave.promotion.files),
                             index=target.index_upload, released=release, commit=wave.commit,
                             images={image.tag: "" for image in wave.plan.images},
                             final=str(lead.version), by_version=final)


@dataclass(frozen=True)
class ReleasedPublished:
    commit: str
    files: int  # the files read from svn release and checked
    uploaded: tuple[str, ...]
    kept: tuple[str, ...]
    index: str
    images: tuple[str, ...] = ()  # a versioned train's final image tags and aliases, set or there


def publish_released(config: ReleaseConfig, train: Train, *, date: str, final: str, target: Target,
                     index: Index, say: Progress, clients: Clients | None = None) -> ReleasedPublished:
    """The promoted wave's files read from svn release, every one checked (a signature by a key in
    KEYS, its checksum) and a versioned train's candidate images too (`check_wave_images`: each names
    the wave's commit and installed exactly the promoted wheels), before anything is uploaded; then
    its sdists and wheels to the index, as `publish_wave` uploads them (the same bytes there are
    skipped, other bytes refused), and the final tags and aliases on those very images (`final_tags`,
    by `clients`)."""
    wave = released_wave(config, train, date=date, final=final)
    plan = wave.plan
    if plan.images and clients is None:
        raise ReleaseError("a train's images are checked and tagged with the target's clients")
    release = svn.join(target.svn_release, config.name)
    say(f"the {train.name} wave of {wave.name} at {wave.commit[:12]}: reading its "
        f"{len(wave.promotion.files)} promoted files from {release}")
    uploaded: list[str] = []
    kept: list[str] = []
    with tempfile.TemporaryDirectory(prefix="release-publish-wave-") as work:
        folder = Path(work) / "svn"
        folder.mkdir()
        checks: dict[str, FileCheck] = {}
        names = []
        for relative in wave.promotion.files:
            name = relative.rsplit("/", 1)[-1]
            data = svn.cat_bytes(svn.join(release, relative))
            if data is None:
                checks.setdefault(name, FileCheck(name)).problems.append(f"not in {release}")
                continue
            (folder / name).write_bytes(data)
            names.append(name)
        artefacts = sorted(n for n in names if not n.endswith((".asc", ".sha512")))
        say(f"checking signatures against {target.keys_url} and the checksums")
        with keys_keyring(svn.read_text(target.keys_url), Path(work), target.keys_url) as home:
            check_signed(folder, sorted(names), artefacts, home, checks)
        voted = []
        if plan.images and clients is not None:
            voted = candidate_images(config, plan, clients)
            check_wave_images(config, plan, clients, folder, wave.commit, checks, say)
        failed = failed_checks(checks)
        if failed:
            raise RefusedError(f"the promoted files of the {train.name} wave of {wave.name} in {release} are "
                               f"not what was signed: {'; '.join(failed)}")
        for name, files in packages_of(wave.promotion.files).items():
            paths = [folder / f.rsplit("/", 1)[-1] for f in files]
            for result in upload_packages(index, name, paths, twine_env=target.twine_env, progress=say):
                (uploaded if result.uploaded else kept).append(result.filename)
    images: tuple[str, ...] = ()
    if voted and clients is not None:
        lead = plan.entries[0]
        tags = final_tags(config, str(lead.version), str(lead.candidate), voted, clients, say=say)
        images = tuple(e.tag for e in tags.tags if e.digest)
    return ReleasedPublished(wave.commit, len(wave.promotion.files), tuple(uploaded), tuple(kept),
                             index.shown_upload, images)

