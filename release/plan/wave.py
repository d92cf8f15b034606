# SPDX-License-Identifier: Apache-2.0
"""The wave planner: which distributions of a train a release takes, and everything about each. Pure.

From facts the pipeline observes (each distribution's declared version and state read from the
tree, the versions its existing tags name, the commits touching its folder since its last final
tag) `plan_wave` decides the wave:

- which distributions go: those changed since their own last release (or first released), or an
  explicit list, or, for a later rc, exactly the ones an earlier vote excluded;
- by state: `ready` ones go, `not-ready` ones only when listed, `suspended` ones never, `removed`
  ones get their one last release;
- each one's previous version, the commits since, its new version (what the tree declares) and its
  rc number, one more than the candidates its tags already name: in a flat train each distribution
  counts its own (one provider at rc3 beside others at rc1); a versioned train (one folder per
  release, like Airflow's core) moves all of its distributions together, at one rc;
- each one's tags, its svn paths (a folder per release, or flat), the wave's source tarball (named
  by its date, or by the lead's version in a folder per release), and the lines of the one vote email
  listing every distribution with its version;
- each one's rc-numbered sdist and wheel for the package index (`index_files`:
  `apache_airflow_providers_http-6.3.1rc1.tar.gz`), what users `pip install` to test the candidate;
  the vote is on the svn files, which carry the final version; a versioned train's distributions pin
  each other, and their rc-numbered packages pin the candidates instead (`index_pins`, plan/rc_pins.py);
- with constraints refs, the `constraints-<V>` tag on its branch (`constraints-latest` moves only
  for the highest final: `owns_latest`, the rule `latest` follows): a versioned train's run commits
  the constraints files its images installed onto the branch, at its root as Airflow's constraints
  branches hold them (`constraints_on_branch`), and tags that commit `constraints-3.3.3rc1`; its
  promotion tags the same commit `constraints-3.3.3` (`final_constraints`).

The wave's run is data too: `WavePlan.steps` names its steps in order (build, sign, the PMC checks
when the project checks its sources, stage, tags, index, constraints tags for a versioned train with
constraints refs, vote email), each with what it does; the dry run prints them and the pipeline's
wave executor (`pipeline/wave_run.py`) runs exactly these. The rc-numbered packages go to the index
only once the candidate passed the PMC checks, is staged and tagged (an index never takes a version
back), and before the vote email, so that everything the email points voters at is there when it is
sent. A train staging in ATR (`atr`) runs ATR's steps
in place of svn's stage (`atr-upload`, `atr-checks`, and `atr-vote` after the vote email) and is
one release in ATR, `atr_release` (`wave_atr_release`).

`exclude` takes the vote's exclusions (distribution -> reason): what is promoted is the rest.
`wave_promotion` decides what promoting the voted wave does in svn: a flat wave's files copied into
the flat release folder (the older versions they replace removed), a versioned wave's candidate
folders copied whole to their release folders. `released` is what the announcement lists; cleanup is
`flat_cleanup` for a flat train's folder and `versioned_cleanup` (a single release's `plan_cleanup`
in each folder) for a versioned train's; `candidate_tags_refusal` says whether the tags of a
versioned wave's candidate make one wave, which is how a voter's clone finds its commit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from release.errors import RefusedError, VersionError
from release.plan.cleanup import Removal, plan_cleanup
from release.plan.declared import State, tag_for
from release.plan.provenance import IMAGE_SIGNATURE_DIR, LOOKASIDE_DIR, SBOM_DIR
from release.plan.release import CONSTRAINTS_DIR, distribution_files
from release.plan.tags import owns_latest
from release.trains import SvnLayout, Train
from release.versions import ReleaseVersion, parse_version

SIGNATURES = (".asc", ".sha512")
# a versioned train's images' provenance, under dist/<train>-<date>/: sbom/, image-signatures/ and the
# signed copy of wave.json attached to each image digest (pipeline/wave_images.py: wave_provenance)
PROVENANCE_DIR = "provenance"
WAVE_PROVENANCE_RECORD = "wave.json"


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str


@dataclass(frozen=True)
class DistributionFacts:
    """One distribution as the pipeline observed it."""

    name: str
    id: str
    path: str
    declared: str  # the final version its tree declares
    tag: str  # its tag template
    svn_folder: str = ""
    state: State = State.READY
    source_date_epoch: int | None = None
    tagged: tuple[ReleaseVersion, ...] = ()  # the versions its existing tags name
    commits: tuple[Commit, ...] = ()  # touching its folder since its last final tag (all, without one)

    @property
    def previous(self) -> ReleaseVersion | None:
        """Its last release: the highest final its tags name."""
        finals = [v for v in self.tagged if not v.is_prerelease]
        return max(finals) if finals else None

    def tag_of(self, version: ReleaseVersion | str) -> str:
        return tag_for(self.tag, version, ident=self.id, name=self.name)


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


@dataclass(frozen=True)
class WaveEntry:
    """One distribution in the wave."""

    name: str
    id: str
    path: str
    state: State
    previous: ReleaseVersion | None
    since: str  # the tag the commits are counted from ("" for a first release)
    commits: tuple[Commit, ...]
    version: ReleaseVersion  # the final version its files carry: what is voted on
    rc: int
    why: str
    tag: str  # the candidate's tag, e.g. providers-http/6.3.1rc2
    final_tag: str  # the tag promotion sets, e.g. providers-http/6.3.1
    files: tuple[str, ...]  # its sdist and wheel (final version), each with .asc and .sha512
    svn_dev: tuple[str, ...]  # where the files go for the vote, relative to the project's dev folder
    svn_release: tuple[str, ...]  # where promotion puts them, relative to the project's release folder
    source_date_epoch: int | None = None
    index_files: tuple[str, ...] = ()  # its sdist and wheel with the candidate's version, for the index

    @property
    def candidate(self) -> ReleaseVersion:
        return parse_version(f"{self.version}rc{self.rc}")


class WaveStepName(str, Enum):
    BUILD = "build"
    SIGN = "sign"
    PMC_CHECKS = "PMC checks"
    STAGE = "stage"
    TAGS = "tags"
    INDEX = "index"
    CONSTRAINTS_TAGS = "constraints tags"  # a versioned train with constraints refs
    VOTE_EMAIL = "vote email"
    ATR_UPLOAD = "atr-upload"  # with ATR: in place of stage
    ATR_CHECKS = "atr-checks"
    ATR_VOTE = "atr-vote"  # with ATR: the vote started there with the vote email
    IMAGES = "images"  # a versioned train with images: built from the wave's wheels, smoked, pushed
    CONSTRAINTS = "constraints"  # what each image installed, written, checksummed and signed
    SBOM = "sbom"  # a versioned train's images: a signed CycloneDX SBOM of each
    ATTEST = "attest"  # each image digest signed (simple signing)
    PROVENANCE = "provenance"  # the signed wave.json, SBOM and signature attached to each image digest


@dataclass(frozen=True)
class WaveStep:
    name: WaveStepName
    does: str


@dataclass(frozen=True)
class ConstraintsRef:
    """A constraints tag: `constraints-<V>` on `branch`; `latest` moves with the highest final."""

    branch: str
    tag: str
    latest: str  # "" when the moving tag stays where it is


# a constraints file of a wave's images, as steps/constraints.py names it: `constraints-3.11.txt`, a
# variant's `constraints-slim-3.11.txt` (plan/release.py: constraints_name)
_CONSTRAINTS_FILE = re.compile(r"constraints-(?:[a-z][a-z0-9]*-)?\d+(?:\.\d+)*\.txt")


def constraints_on_branch(names: Iterable[str]) -> tuple[str, ...]:
    """Of the names in a wave's constraints folder (dist/<train>-<date>/constraints/), those that go
    onto its constraints branch, each at the branch's root under the same name, as Airflow's
    constraints branches hold `constraints-3.11.txt` beside `constraints-no-providers-3.11.txt` (what
    its install instructions read at the tag: `.../constraints-3.3.3/constraints-3.11.txt`); their
    `.asc` and `.sha512` stay in svn and dist/."""
    return tuple(sorted(n for n in names if _CONSTRAINTS_FILE.fullmatch(n)))


@dataclass(frozen=True)
class WaveImage:
    """One image a versioned train's run pushes: its candidate's tag (`3.3.3rc1-python3.11`) and
    the constraints file its installed set is written as (`constraints/constraints-3.11.txt`)."""

    tag: str
    constraints: str


@dataclass(frozen=True)
class WavePlan:
    train: str
    date: str  # YYYY-MM-DD, the wave's name
    entries: tuple[WaveEntry, ...]
    skipped: tuple[Skipped, ...]
    unchanged: tuple[str, ...]  # ready, released, and untouched since
    source_tarball: str  # the wave's source release, with its .asc and .sha512 beside it
    source_dev: str  # its svn path in the dev folder
    wave_tag: str  # a tag on the wave's commit ("" = none)
    vote_lines: tuple[str, ...]  # one line per distribution for the vote email
    constraints: ConstraintsRef | None = None
    excluded: tuple[Skipped, ...] = field(default=())  # taken out at the vote, with the reason
    steps: tuple[WaveStep, ...] = field(default=())  # what a run of the wave does, in order (none: empty)
    source_release: str = ""  # the source tarball's svn path in the release folder
    atr_release: str = ""  # with ATR: the release in ATR the wave is staged as ("" = svn)
    # a versioned train's (name, final, candidate) of each distribution: its rc-numbered packages pin
    # each other at the candidates where the tree pins the finals (plan/rc_pins.py); a flat one's none
    index_pins: tuple[tuple[str, str, str], ...] = ()
    images: tuple[WaveImage, ...] = ()  # a versioned train's images, by the lead candidate's tags

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)


def _canonical(name: str) -> str:
    return str(canonicalize_name(name))


def _signed(files: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{f}{suffix}" for f in files for suffix in ("", *SIGNATURES))


def _folder(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _next_rc(facts: DistributionFacts, version: ReleaseVersion) -> int:
    taken = [v.value.pre[1] for v in facts.tagged
             if v.value.pre is not None and v.value.pre[0] == "rc" and v.final == version]
    return max(taken, default=0) + 1


def _decide(facts: DistributionFacts, listed: bool, retry: str | None, together: bool) -> tuple[str, str]:
    """("go", why) or ("skip", reason) or ("same", "") for one distribution. In a train that moves
    together a released version is "same" however much changed: the release manager declares the
    next versions of all of them, and the train goes."""
    version = parse_version(facts.declared)
    previous = facts.previous
    if facts.state is State.SUSPENDED:
        return "skip", "suspended: a suspended distribution is never released (resume it: state ready)"
    if facts.state is State.NOT_READY and not listed:
        return "skip", "not-ready: released only when listed by name"
    if version in facts.tagged:
        if facts.state is State.REMOVED:
            return "skip", f"removed, and its last release {version} is out: its sources can go"
        if facts.commits and (listed or facts.state is State.READY) and not together:
            return "skip", (f"changed since {facts.tag_of(version)} ({len(facts.commits)} commits) but still "
                            f"declares {version}: declare its next version")
        return ("skip", f"{version} is released already and nothing changed") if listed else ("same", "")
    if previous is not None and version < previous:
        return "skip", f"declares {version}, lower than its last release {previous}"
    if retry is not None:
        return "go", f"excluded at the last vote ({retry}): its next candidate"
    if facts.state is State.REMOVED:
        return "go", "removed: its one last release"
    if previous is None:
        return "go", "its first release"
    if listed:
        return "go", "listed"
    if facts.commits:
        return "go", f"{len(facts.commits)} commits since {facts.tag_of(previous)}"
    return "go", f"declares {version}, not released yet"


def _entry(train: Train, facts: DistributionFacts, why: str, rc: int) -> WaveEntry:
    version = parse_version(facts.declared)
    candidate = parse_version(f"{version}rc{rc}")
    files = _signed(distribution_files(facts.name, version))
    if train.svn is SvnLayout.FLAT:
        dev = tuple(_folder(facts.svn_folder, f) for f in files)
        release = dev
    else:
        dev = tuple(_folder(facts.svn_folder, str(candidate), f) for f in files)
        release = tuple(_folder(facts.svn_folder, str(version), f) for f in files)
    previous = facts.previous
    return WaveEntry(
        name=facts.name, id=facts.id, path=facts.path, state=facts.state, previous=previous,
        since=facts.tag_of(previous) if previous is not None else "", commits=facts.commits,
        version=version, rc=rc, why=why, tag=facts.tag_of(candidate), final_tag=facts.tag_of(version),
        files=files, svn_dev=dev, svn_release=release, source_date_epoch=facts.source_date_epoch,
        index_files=distribution_files(facts.name, candidate),
    )


def _pick(facts: Sequence[DistributionFacts], only: Collection[str], retry: Mapping[str, str],
          together: bool) -> tuple[list[tuple[DistributionFacts, str]], list[Skipped], list[str]]:
    wanted = {_canonical(n) for n in (*only, *retry)}
    known = {_canonical(f.name) for f in facts} | {_canonical(f.id) for f in facts}
    unknown = sorted(n for n in (*only, *retry) if _canonical(n) not in known)
    if unknown:
        raise RefusedError(f"{unknown[0]} is not a distribution of this train")
    reasons = {_canonical(n): r for n, r in retry.items()}
    going, skipped, same = [], [], []
    for dist in facts:
        keys = {_canonical(dist.name), _canonical(dist.id)}
        listed = bool(keys & wanted)
        if wanted and not listed:
            continue
        retry_reason = next((reasons[k] for k in keys if k in reasons), None)
        verdict, why = _decide(dist, listed, retry_reason, together)
        if verdict == "go":
            going.append((dist, why))
        elif verdict == "skip":
            skipped.append(Skipped(dist.name, why))
        else:
            same.append(dist.name)
    return going, skipped, same


def plan_wave(train: Train, facts: Sequence[DistributionFacts], *, date: str, project: str,
              only: Collection[str] = (), retry: Mapping[str, str] | None = None,
              constraints_tagged: Iterable[ReleaseVersion] = (), checks_sources: bool = False,
              atr: bool = False) -> WavePlan:
    """The wave of `train` on `date` (YYYY-MM-DD). `only` lists distributions by name or id; `retry`
    is an earlier vote's exclusions (name -> reason): the wave is then exactly those, each at its next
    rc. `project` names the release (`{name}` in the tarball template, its svn folders);
    `constraints_tagged` are the versions the existing `constraints-<V>` tags name; `checks_sources`
    (the project's releases are voted on, or `source-checks`) puts the PMC checks among its steps;
    `atr` (the train stages in ATR) stages it as the ATR release `atr_release` instead of in svn."""
    if only and retry:
        raise RefusedError("a later rc of the excluded distributions takes no other list: "
                           "give one or the other")
    names = [_canonical(f.name) for f in facts]
    if len(set(names)) != len(names):
        raise RefusedError(f"{train.name}: a distribution appears twice in the facts")
    together = train.svn is SvnLayout.VERSIONED
    going, skipped, same = _pick(facts, only, retry or {}, together)
    if together and going and (skipped or same):
        blocked = [s.name for s in skipped] + same
        reason = next((s.reason for s in skipped), "it declares a released version: declare its next one "
                                                   "with the others")
        raise RefusedError(f"train {train.name} releases its distributions together, but {blocked[0]} "
                           f"cannot go ({reason})")
    rcs = [_next_rc(dist, parse_version(dist.declared)) for dist, _ in going]
    if together and rcs:
        rcs = [max(rcs)] * len(rcs)
    lead = going[0][0] if going else None
    lead_version = parse_version(f"{lead.declared}rc{rcs[0]}") if lead is not None else None
    tarball = train.tarball_template().format(name=project, train=train.name, date=date,
                                              version=lead.declared if lead else "")
    # a versioned train's tarball goes in its lead's release folder, a flat one's beside the files
    tarball_folder = lead.svn_folder if together and lead is not None else train.svn_folder
    entries = tuple(_entry(train, dist, why, rc) for (dist, why), rc in zip(going, rcs))
    source_dev = _folder(tarball_folder, "" if not together or lead_version is None else str(lead_version),
                         tarball)
    source_release = _folder(tarball_folder, "" if not together or lead is None else lead.declared, tarball)
    wave_tag = train.wave_tag.format(date=date, train=train.name) if train.wave_tag and entries else ""
    constraints = _constraints(train, lead_version, constraints_tagged) if entries and together else None
    return WavePlan(
        train=train.name, date=date, entries=entries, skipped=tuple(skipped), unchanged=tuple(same),
        source_tarball=tarball if entries else "", source_dev=source_dev if entries else "",
        wave_tag=wave_tag,
        vote_lines=tuple(f"{e.name} {e.candidate} (voted as {e.version})" for e in entries),
        constraints=constraints,
        steps=_steps(train, entries, tarball, source_dev, wave_tag, project=project, date=date,
                     checks_sources=checks_sources, atr=atr, constraints=constraints),
        source_release=source_release if entries else "",
        atr_release=wave_atr_release(train, date, lead.declared if lead else "") if atr and entries else "",
        index_pins=tuple((e.name, str(e.version), str(e.candidate)) for e in entries) if together else (),
    )


def with_images(plan: WavePlan, images: Sequence[WaveImage], installs: Sequence[str], *, project: str
                ) -> WavePlan:
    """A versioned wave with its images: `images` (the project's image settings planned at the lead
    candidate's version, as a single release plans its own) built from the wave's wheels of
    `installs` (the train's `images`), then what each installed written as its constraints file, then
    the provenance a single release gives its images: a signed SBOM of each (`sbom`), each digest
    signed (`attest`; to the lookaside tree in svn dev/`project`/ unless the train stages in ATR), and
    the signed wave.json attached with them to each digest (`provenance`). These steps come after the
    tags (nothing is pushed for a candidate that is not staged and tagged) and before the index and
    the vote email. A wave with nothing in it, or no images, is unchanged."""
    if not plan.entries or not images:
        return plan
    lead = plan.entries[0]
    folder = f"dist/{plan.train}-{plan.date}/{PROVENANCE_DIR}"
    tags = ", ".join(i.tag for i in images)
    wheels = [f for e in plan.entries if _canonical(e.name) in {_canonical(n) for n in installs}
              for f in e.files if f.endswith(".whl")]
    does = {
        WaveStepName.IMAGES: f"{tags} built from the wave's wheels in dist/{plan.train}-{plan.date}/svn/ "
                             f"({', '.join(wheels)}; the voted {lead.version}), smoke-tested, then pushed; "
                             "nothing is pushed if one fails, an image pushed before is kept",
        WaveStepName.CONSTRAINTS: "what each image installed, as the single release writes it, into "
                                  f"dist/{plan.train}-{plan.date}/"
                                  f"{', '.join(i.constraints for i in images)}, each with X.asc and X.sha512",
        WaveStepName.SBOM: f"a CycloneDX SBOM of each image, read inside it (pulled by its digest), into "
                           f"{folder}/{SBOM_DIR}/, each with X.asc and X.sha512; one written before for the "
                           "same digest is kept",
        WaveStepName.ATTEST: "each image digest signed with the wave's key (simple signing, binding its "
                             "candidate tag) into "
                             f"{folder}/{IMAGE_SIGNATURE_DIR}/"
                             + (", nothing in svn (staging in ATR: the signature goes out attached to the "
                                "digest)" if plan.atr_release else
                                f", and committed to the lookaside tree svn dev/{project}/{LOOKASIDE_DIR}/"),
        WaveStepName.PROVENANCE: ("wave.json as the steps before it recorded it, copied to "
                                  f"{folder}/{WAVE_PROVENANCE_RECORD}, signed (X.asc, X.sha512), and "
                                  "attached with each image's SBOM and signature to its digest as an OCI "
                                  "artifact (tag sha256-<hex>.att); one attached before with the same "
                                  "content is kept"),
    }
    steps = list(plan.steps)
    at = next(i for i, s in enumerate(steps) if s.name is WaveStepName.TAGS) + 1
    steps[at:at] = [WaveStep(name, text) for name, text in does.items()]
    return replace(plan, images=tuple(images), steps=tuple(steps))


def wave_atr_release(train: Train, date: str, lead: str) -> str:
    """The release in ATR a wave is staged as: a flat train's wave by its train and date
    (`providers-2026-12-07`), a versioned train's by its lead's final version (`3.3.3`), each of
    its candidates a revision of it. ATR's version names take letters, digits, `.`, `+` and `-`."""
    return f"{train.name}-{date}" if train.svn is SvnLayout.FLAT else lead


def wave_atr_folder(train: Train, release: str) -> str:
    """Where finishing a wave's ATR release puts its files in ATR's downloads (the announcement's
    path suffix): a flat train's one folder, as in svn (`providers`), a versioned train's release's."""
    return (train.svn_folder or train.name) if train.svn is SvnLayout.FLAT else release


def _steps(train: Train, entries: Sequence[WaveEntry], tarball: str, source_dev: str, wave_tag: str, *,
           project: str, date: str, checks_sources: bool, atr: bool, constraints: ConstraintsRef | None = None
           ) -> tuple[WaveStep, ...]:
    """The run of a wave, step by step: what each step does with this wave's files, folders and tags.
    A versioned train with constraints refs tags its constraints once its candidate is staged and
    tagged, before the vote email (after the images and the constraints files they installed). With
    ATR the files go to ATR as a revision (`atr-upload`), ATR's checks are waited for (`atr-checks`)
    and the vote is started there with the vote email (`atr-vote`): nothing goes to svn."""
    if not entries:
        return ()
    built = 1 + sum(1 for e in entries for f in e.files if not f.endswith(SIGNATURES))
    folders = _folders_of((source_dev, *(p for e in entries for p in e.svn_dev)))
    tags = [tag for tag, _ in _tags_naming([(e.tag, e.name) for e in entries], wave_tag, "")]
    where = ", ".join(_svn("dev", project, f) for f in folders)
    does = {
        WaveStepName.BUILD: f"an sdist and a wheel of each of the {len(entries)} distributions and the "
                            f"source tarball {tarball}, from the wave's commit; for the index, each "
                            "one's sdist and wheel again with its rc-numbered version"
                            + (", their pins on each other at the final versions pinning the candidates"
                               if train.svn is SvnLayout.VERSIONED else ""),
        WaveStepName.SIGN: f"X.asc and X.sha512 of the {built} files, with a key listed in KEYS",
        WaveStepName.PMC_CHECKS: "LICENSE and NOTICE, license headers, binaries and the wheels of every "
                                 "file; nothing is staged if one fails",
        WaveStepName.STAGE: f"one svn commit of the {3 * built} files, signatures included, to {where} "
                            f"({train.svn.value})",
        WaveStepName.TAGS: f"{', '.join(tags)} on the wave's commit; a tag is never moved",
        WaveStepName.INDEX: f"the {2 * len(entries)} rc-numbered sdists and wheels ("
                            f"{', '.join(f'{e.name} {e.candidate}' for e in entries)}) to the package index, "
                            "one project at a time, for users to test; the same bytes there are skipped, "
                            "other bytes refused",
        WaveStepName.CONSTRAINTS_TAGS: (
            f"the constraints files of dist/{train.name}-{date}/{CONSTRAINTS_DIR}/ (what the images "
            f"installed) committed to the root of branch {constraints.branch} (a new commit only when they "
            f"changed), that commit tagged {constraints.tag}; a tag is never moved") if constraints else "",
        WaveStepName.VOTE_EMAIL: f"dist/{train.name}-{date}/vote-email.txt: the wave's [VOTE] email, every "
                                 "distribution with the version it is voted as",
    }
    if constraints is None:
        does.pop(WaveStepName.CONSTRAINTS_TAGS)
    if atr:
        release = wave_atr_release(train, date, str(entries[0].version))
        does = _atr_steps(does, release, 3 * built)
    steps = [WaveStep(name, text) for name, text in does.items()]
    return tuple(s for s in steps if checks_sources or s.name is not WaveStepName.PMC_CHECKS)


def _atr_steps(does: Mapping[WaveStepName, str], release: str, files: int) -> dict[WaveStepName, str]:
    """A wave's steps with ATR's in place of svn's stage: the upload where stage was, ATR's checks
    right after it, and the vote started last, with the vote email."""
    found: dict[WaveStepName, str] = {}
    for name, text in does.items():
        if name is WaveStepName.STAGE:
            found[WaveStepName.ATR_UPLOAD] = (
                f"the {files} files, signatures included, to ATR's release {release} as a revision (the "
                "signing key in the committee's keys; a file there with the same bytes is not uploaded "
                "again)")
            found[WaveStepName.ATR_CHECKS] = ("ATR's checks of that revision, waited for: a blocking result "
                                              "stops the wave, naming the check and the file")
        else:
            found[name] = text
    found[WaveStepName.VOTE_EMAIL] += ", naming ATR's vote page"
    found[WaveStepName.ATR_VOTE] = (f"the vote started in ATR on {release}'s revision with the vote email "
                                    "(never a second time)")
    return found


def _folders_of(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({_split(p)[0] for p in paths}))


def dev_folders(plan: WavePlan) -> tuple[str, ...]:
    """The folders the wave's files are staged in, under the project's dev folder: a flat train's one
    (`providers`), a versioned train's candidate folders (`3.3.3rc1`, `task-sdk/1.3.3rc1`)."""
    if not plan.entries:
        return ()
    return _folders_of((plan.source_dev, *(p for e in plan.entries for p in e.svn_dev)))


def _tags_naming(wanted: Sequence[tuple[str, str]], wave_tag: str, wave: str) -> tuple[tuple[str, str], ...]:
    """Each tag once, with what it names: distributions sharing a tag (Airflow's meta package and
    core share `3.3.3rc1`) are named together; the wave tag last."""
    named: dict[str, list[str]] = {}
    for tag, what in wanted:
        named.setdefault(tag, []).append(what)
    found = [(tag, ", ".join(whats)) for tag, whats in named.items()]
    return tuple(found + ([(wave_tag, wave)] if wave_tag else []))


def candidate_tags(plan: WavePlan) -> tuple[tuple[str, str], ...]:
    """The tags a run of the wave sets on its commit, each once, with what it names (`3.3.3rc1`:
    `apache-airflow 3.3.3rc1, apache-airflow-core 3.3.3rc1`), the wave tag last."""
    return _tags_naming([(e.tag, f"{e.name} {e.candidate}") for e in plan.entries], plan.wave_tag,
                        f"the {plan.train} wave of {plan.date}")


def _constraints(train: Train, version: ReleaseVersion | None, tagged: Iterable[ReleaseVersion]
                 ) -> ConstraintsRef | None:
    refs = train.constraints
    if refs is None or version is None:
        return None
    major, minor = version.value.major, version.value.minor
    return ConstraintsRef(
        branch=refs.branch.format(major=major, minor=minor),
        tag=refs.tag.format(version=version, major=major, minor=minor),
        latest=refs.latest if owns_latest(version, tagged) else "",
    )


def exclude(plan: WavePlan, excluded: Mapping[str, str]) -> WavePlan:
    """The wave as promoted after a vote that excluded some distributions (name or id -> reason):
    they leave the wave with their reason, and a later wave (`retry`) takes them at their next rc."""
    def key(entry: WaveEntry) -> str | None:
        return next((k for k in excluded if _canonical(k) in {_canonical(entry.name), _canonical(entry.id)}),
                    None)

    members = {_canonical(n) for e in plan.entries for n in (e.name, e.id)}
    unknown = sorted(n for n in excluded if _canonical(n) not in members)
    if unknown:
        raise RefusedError(f"{unknown[0]} is not in the wave of {plan.date}: only its distributions "
                           "can be excluded")
    if any(not reason.strip() for reason in excluded.values()):
        raise RefusedError("an excluded distribution needs the reason the vote gave")
    kept = tuple(e for e in plan.entries if key(e) is None)
    gone = tuple(Skipped(e.name, excluded[k]) for e in plan.entries if (k := key(e)) is not None)
    return replace(plan, entries=kept, excluded=plan.excluded + gone,
                   vote_lines=tuple(line for e, line in zip(plan.entries, plan.vote_lines) if key(e) is None))


@dataclass(frozen=True)
class WavePromotion:
    """What promoting a voted wave does in svn and git."""

    files: tuple[str, ...]  # the voted files, by their path under the project's release folder
    superseded: tuple[str, ...]  # release paths a promoted newer version of the same distribution replaces
    tags: tuple[str, ...]  # each promoted distribution's final tag, on the wave's commit
    # a versioned wave's (candidate folder in dev, release folder), each copied whole; none for a flat
    # wave, whose files keep their paths from dev to the one release folder
    folders: tuple[tuple[str, str], ...] = ()
    # the final's constraints tag (and `constraints-latest` when it moves), on the commit the candidate's
    # constraints tag `constraints_from` points at; None without constraints refs
    constraints: ConstraintsRef | None = None
    constraints_from: str = ""

    def source_of(self, path: str) -> str:
        """The dev path the released file `path` is promoted from."""
        folder, name = _split(path)
        return next((_folder(dev, name) for dev, release in self.folders if release == folder), path)


def wave_promotion(plan: WavePlan, released: Iterable[str], layout: SvnLayout = SvnLayout.FLAT,
                   constraints: ConstraintsRef | None = None) -> WavePromotion:
    """The voted files of `plan` (its excluded distributions taken out already) copied from dev to
    release, and the final tags (each once). Flat: the files into the one release folder, the older
    files of the same distributions there (`released`: the names in it now) removed, as a flat
    folder keeps each distribution's newest. Versioned: each candidate folder copied whole to its
    release folder (`3.3.3rc1` -> `3.3.3`, `task-sdk/1.3.3rc1` -> `task-sdk/1.3.3`); nothing is
    replaced, each release has its own folder. `constraints` (`final_constraints`): the final's
    constraints tag, set on the commit of the candidate's (`plan.constraints`)."""
    files = tuple(p for e in plan.entries for p in e.svn_release)
    if plan.source_tarball:
        files += tuple((plan.source_release or plan.source_dev) + suffix for suffix in ("", *SIGNATURES))
    tags = tuple(dict.fromkeys(e.final_tag for e in plan.entries))
    if layout is SvnLayout.VERSIONED:
        dev = [p for e in plan.entries for p in e.svn_dev]
        release = [p for e in plan.entries for p in e.svn_release]
        if plan.source_tarball:
            dev.append(plan.source_dev)
            release.append(plan.source_release)
        pairs = sorted({(_split(d)[0], _split(r)[0]) for d, r in zip(dev, release)})
        if plan.constraints is None or constraints is None:
            return WavePromotion(files, (), tags, tuple(pairs))
        return WavePromotion(files, (), tags, tuple(pairs), constraints, plan.constraints.tag)
    old: list[str] = []
    for folder in sorted({_split(p)[0] for p in files}):
        promoted = {name for where, name in map(_split, files) if where == folder}
        old += [_folder(folder, name) for name in superseded({*released, *promoted}) if name not in promoted]
    return WavePromotion(files, tuple(old), tags)


def released(promoted: Iterable[str], files: Iterable[str], sums: Mapping[str, str], folder: str = ""
             ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """What a published wave's announcement lists: each promoted distribution (`name candidate`, as
    the vote result records them) with its final version, and each released file that is not a
    signature or checksum with its sha512 (`sums`: file name -> sha512), by its path under the train's
    release folder `folder`: a flat train's file names, a versioned train's `3.3.3/NAME` and
    `task-sdk/1.3.3/NAME`."""
    distributions = []
    for line in promoted:
        name, _, candidate = line.partition(" ")
        distributions.append((name, str(parse_version(candidate).final)))
    under = f"{folder.strip('/')}/" if folder.strip("/") else ""
    paths = sorted({p.removeprefix(under) for p in files if not p.endswith(SIGNATURES)})
    unknown = [_split(p)[1] for p in paths if _split(p)[1] not in sums]
    if unknown:
        raise RefusedError(f"no sha512 recorded for {', '.join(unknown)}: announce from the tree that built "
                           "and promoted the wave")
    return tuple(sorted(distributions)), tuple((p, sums[_split(p)[1]]) for p in paths)


def packages_of(files: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The sdists and wheels among `files` (paths or names) by their distribution's name: what goes
    to the index, one project at a time. Signatures, checksums and source tarballs are left out."""
    found: dict[str, list[str]] = {}
    for path in files:
        owner = _owner(_split(path)[1])
        if owner is not None:
            found.setdefault(owner[0], []).append(path)
    return {name: tuple(sorted(paths)) for name, paths in sorted(found.items())}


def _split(path: str) -> tuple[str, str]:
    """(folder, name) of a path under the project's svn folder."""
    folder, _, name = path.rpartition("/")
    return folder, name


def superseded(listing: Iterable[str]) -> tuple[str, ...]:
    """The files of a flat folder (`listing`: its file names) that a newer version of the same
    distribution replaces: the sdists and wheels with their .asc and .sha512, and older source
    tarballs of the same name; what cleanup removes so each distribution keeps its newest."""
    versions: dict[str, list[tuple[ReleaseVersion, str]]] = {}
    for name in listing:
        key = _owner(_base(name))
        if key is not None:
            versions.setdefault(key[0], []).append((key[1], name))
    old = []
    for found in versions.values():
        newest = max(v for v, _ in found)
        old += [name for v, name in found if v < newest]
    return tuple(sorted(old))


def distribution_of(path: str) -> tuple[str, ReleaseVersion] | None:
    """(distribution, version) of a path's sdist or wheel, or of its .asc or .sha512; None for
    anything else (a source tarball, a KEYS file)."""
    return _owner(_base(_split(path)[1]))


def _owner(filename: str) -> tuple[str, ReleaseVersion] | None:
    """(distribution, version) of an sdist or wheel file name; None for anything else."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        elif filename.endswith(".tar.gz") and not filename.endswith("-source.tar.gz"):
            name, version = parse_sdist_filename(filename)
        else:
            return None
        return str(name), parse_version(str(version))
    except (InvalidSdistFilename, InvalidWheelFilename, VersionError):
        return None


def final_constraints(plan: WavePlan, tagged: Iterable[ReleaseVersion], train: Train
                      ) -> ConstraintsRef | None:
    """The constraints tag promotion sets: `constraints-<final>`, and `constraints-latest` when the
    final is the highest (`owns_latest`)."""
    if not plan.entries:
        return None
    return _constraints(train, plan.entries[0].version, tagged)


def _svn(area: str, project: str, path: str) -> str:
    return f"{area}/{_folder(project, path)}"


def wave_to_json(plan: WavePlan, *, project: str, commit: str) -> dict[str, Any]:
    """The wave as the dry run prints it with --json: svn paths under `dev/<project>/` and
    `release/<project>/` (the project's folders in the dist areas), `commit` the one it is planned at."""
    return {
        "train": plan.train, "date": plan.date, "commit": commit,
        "distributions": [{
            "name": e.name, "id": e.id, "path": e.path, "state": e.state.value,
            "previous": str(e.previous) if e.previous is not None else None, "since": e.since,
            "commits": [{"sha": c.sha, "subject": c.subject} for c in e.commits],
            "version": str(e.version), "rc": e.rc, "candidate": str(e.candidate), "why": e.why,
            "tags": {"candidate": e.tag, "final": e.final_tag},
            "svn": {"dev": [_svn("dev", project, p) for p in e.svn_dev],
                    "release": [_svn("release", project, p) for p in e.svn_release]},
            "source_date_epoch": e.source_date_epoch, "index": list(e.index_files),
        } for e in plan.entries],
        "skipped": [{"name": s.name, "reason": s.reason} for s in plan.skipped],
        "excluded": [{"name": s.name, "reason": s.reason} for s in plan.excluded],
        "unchanged": list(plan.unchanged),
        "source_tarball": ({"file": plan.source_tarball, "svn_dev": _svn("dev", project, plan.source_dev),
                            "svn_release": _svn("release", project, plan.source_release)}
                           if plan.source_tarball else None),
        "wave_tag": plan.wave_tag or None,
        "vote_lines": list(plan.vote_lines),
        "constraints": ({"branch": plan.constraints.branch, "tag": plan.constraints.tag,
                         "latest": plan.constraints.latest or None} if plan.constraints else None),
        "steps": [{"name": s.name.value, "does": s.does} for s in plan.steps],
        "atr_release": plan.atr_release or None,
        "index_pins": [{"name": name, "final": final, "candidate": candidate}
                       for name, final, candidate in plan.index_pins],
        "images": [{"tag": i.tag, "constraints": i.constraints} for i in plan.images],
    }


_WAVE_SOURCE = re.compile(r"^(?P<prefix>.+)-(?P<date>\d{4}-\d{2}-\d{2})-source\.tar\.gz$")


def flat_cleanup(folder: str, released: Iterable[str], staged: Iterable[str]) -> tuple[Removal, ...]:
    """What may go from a flat train's folder (`folder`, under the project's svn folders): in release/
    (`released`: the file names there) each distribution's files that a newer version of it replaces;
    in dev/ (`staged`) the candidate files of a version released already (or older than the one
    released), and a wave's source release that a later wave's replaces. A wave's source release in
    release/ stays: it is the source of every distribution that wave released and still current."""
    released, staged = sorted(released), sorted(staged)
    newest: dict[str, ReleaseVersion] = {}
    for name in released:
        owner = _owner(_base(name))
        if owner is not None:
            newest[owner[0]] = max(owner[1], newest.get(owner[0], owner[1]))
    removals = []
    for name in superseded(released):
        owner = _owner(_base(name))
        assert owner is not None  # superseded names only sdists and wheels (and their companions)
        removals.append(Removal("release", _folder(folder, name),
                                f"older than {owner[0]} {newest[owner[0]]}, released"))
    waves: dict[str, list[str]] = {}
    for name in (*released, *staged):
        if found := _WAVE_SOURCE.match(_base(name)):
            waves.setdefault(found["prefix"], []).append(found["date"])
    for name in staged:
        owner = _owner(_base(name))
        source = _WAVE_SOURCE.match(_base(name))
        if owner is not None and owner[0] in newest and newest[owner[0]] >= owner[1]:
            why = f"{owner[0]} {newest[owner[0]]} is released"
            removals.append(Removal("dev", _folder(folder, name), why))
        elif source is not None and (later := [d for d in waves[source["prefix"]] if d > source["date"]]):
            removals.append(Removal("dev", _folder(folder, name), f"the wave of {max(later)} replaces it"))
    return tuple(removals)


def _base(name: str) -> str:
    """A file's name without its .asc or .sha512: the file it signs or sums."""
    return next((name[: -len(s)] for s in SIGNATURES if name.endswith(s)), name)


def versioned_cleanup(listings: Mapping[str, tuple[Iterable[str], Iterable[str]]],
                      withdrawn: Mapping[str, Collection[ReleaseVersion]] | None = None
                      ) -> tuple[Removal, ...]:
    """What may go from a versioned train's svn folders (`listings`: each of its folders under the
    project's, `""` for the project's own and `task-sdk` for Airflow's task SDK, with the names in it
    in release/ and in dev/), as a single release's cleanup decides for its folders (`plan_cleanup`):
    in release/ the versions older than the newest release of their X.Y line, in dev/ the candidates
    of a version released or superseded by a newer rc. `withdrawn` (by folder): the releases the
    train's waves withdrew, listed even when the newest of their line (the withdrawal named them, as
    `--include` names a single release), the newest release left in their line then staying. Each
    removal is named by its path under the project's folder (`task-sdk/1.3.2`)."""
    gone = withdrawn or {}
    return tuple(Removal(r.area, _folder(folder, r.name), r.why)
                 for folder, (in_release, in_dev) in sorted(listings.items())
                 for r in plan_cleanup(in_release, in_dev, gone.get(folder, ()), gone.get(folder, ())))


def candidate_tags_refusal(plan: WavePlan, tags: Mapping[str, str], commit: str, candidate: str) -> str:
    """Why the wave planned at `commit` is not the candidate `candidate` its tags name ("" when it
    is): its lead distribution must be that candidate, and every candidate tag the plan names must
    exist (`tags`: tag -> the commit it points at) and point at `commit`, as one wave's tags all do."""
    if not plan.entries:
        return f"the {plan.train} train has nothing to release at {commit[:12]}, where {candidate} points"
    lead = plan.entries[0]
    if str(lead.candidate) != candidate:
        return (f"the {plan.train} train at {commit[:12]}, where its tags name {candidate}, plans "
                f"{lead.name} {lead.candidate}: its candidate tags disagree")
    for tag, _ in candidate_tags(plan):
        if tag not in tags:
            return (f"no git tag {tag}: the {plan.train} wave of {candidate} tags it on {commit[:12]}; fetch "
                    "the tags the vote email names")
        if tags[tag] != commit:
            return (f"git tag {tag} points at {tags[tag][:12]}, not at {commit[:12]} where the other tags of "
                    f"{candidate} point: its candidate tags disagree")
    return ""


# --- a promoted wave, read where it was not promoted (a CI runner: no wave.json) -------------------


def without_finals_at(tags: Mapping[str, str], commit: str) -> dict[str, str]:
    """`tags` (name -> commit) without the final tags of the wave at `commit` (`3.3.3`,
    `providers-http/6.3.1`): those on `commit`, and those of a version whose candidate tag is on it
    wherever they point (a final tag moved away). What the wave's plan read before its promotion set
    them, so it plans the same wave again; the tags' version is their last `/` part."""
    def version(tag: str) -> ReleaseVersion | None:
        try:
            return parse_version(tag.rsplit("/", 1)[-1])
        except (ValueError, VersionError):
            return None

    def final_of(tag: str, found: ReleaseVersion) -> str:
        prefix = tag.rsplit("/", 1)[0] + "/" if "/" in tag else ""
        return prefix + str(found.final)

    candidates = {final_of(tag, found) for tag, sha in tags.items()
                  if sha == commit and (found := version(tag)) is not None and found.is_prerelease}
    return {tag: sha for tag, sha in tags.items()
            if (found := version(tag)) is None or found.is_prerelease
            or (sha != commit and tag not in candidates)}


def promoted_by_tags(plan: WavePlan, tags: Mapping[str, str], commit: str, layout: SvnLayout
                     ) -> WavePromotion:
    """What promotion released of `plan` (the wave planned again at its `commit`), read from git alone:
    the distributions whose final tag is on `commit` (`tags`: the final tags found, name -> commit);
    one without it was excluded at the vote. Refused when a final tag names another commit (those
    files were not built from this one) or when none is there (not promoted, or the tags not fetched)."""
    elsewhere = [e.final_tag for e in plan.entries if tags.get(e.final_tag, commit) != commit]
    if elsewhere:
        raise RefusedError(f"git tag {elsewhere[0]} is on {tags[elsewhere[0]][:12]}, not on the {plan.train} "
                           f"wave's commit {commit[:12]}: its files were not built from the wave's commit")
    if not plan.entries or not any(e.final_tag in tags for e in plan.entries):
        named = ", ".join(dict.fromkeys(e.final_tag for e in plan.entries)) or "nothing planned"
        raise RefusedError(f"the {plan.train} wave at {commit[:12]} is not promoted: no final tag of it "
                           f"({named}) is there; promote it first (invoke promote --train), then fetch its "
                           "tags")
    excluded = {e.name: "its final tag is not on the wave's commit (excluded at the vote)"
                for e in plan.entries if e.final_tag not in tags}
    return wave_promotion(exclude(plan, excluded) if excluded else plan, (), layout)
