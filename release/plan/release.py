# SPDX-License-Identifier: Apache-2.0
"""The whole release as data: steps, artefacts, images, uploads and every tag's action. Pure.

`plan_release` is the program `invoke release` runs: the pipeline walks `plan.steps` and each
step reads what it does from the plan. `--dry-run` prints the same object. The only thing the
pipeline decides again while it runs is the moving aliases, from what the registry and the index
hold at that moment (`replan_aliases`); the report names every difference from the plan.

Platforms are one more dimension of the images: with several configured, the plan has one image
per flavour and platform (pushed under its platform's helper tag), one index per flavour (put by
the `index` step over what the registry holds), and the version tags and aliases point at the
indexes. A run that builds only some platforms pushes their images and leaves every tag to a run
that has them all (`invoke publish`), so no tag of a multi-platform release ever names one image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

from release.config import ReleaseConfig
from release.errors import ConfigError
from release.identity import ImageId
from release.plan.atr import AtrPlan, plan_atr
from release.plan.cleanup import CONSTRAINTS_PREFIX
from release.plan.provenance import image_signature_path, sbom_path
from release.plan.tags import (
    MASTER,
    BuildKind,
    cache_repository,
    cache_tag,
    check_tag_length,
    image_tag,
    plan_tags,
    platform_tag,
    version_tag,
)
from release.versions import ReleaseVersion, companion_version


class Mode(str, Enum):
    RELEASE = "release"  # everything, from the build on
    PUBLISH = "publish"  # join image jobs run elsewhere: their version tags are read from the registry
    PROMOTED = "promoted"  # after `invoke promote`: ship the voted files, images from the voted wheels
    # promoted on another machine (CI publishing a final): take the voted files from svn release/,
    # checked against KEYS, then as PROMOTED
    FROM_RELEASE = "from-release"


class StepName(str, Enum):
    VOTED = "voted"
    FROM_RELEASE = "from-release"
    BUILD = "build"
    SIGN = "sign"
    STAGE = "stage"
    IMAGES = "images"
    INDEX = "index"
    PUSH = "push"
    CONSTRAINTS = "constraints"
    SBOM = "sbom"
    ATTEST = "attest"
    UPLOAD = "upload"
    ALIASES = "aliases"
    REPORT = "report"
    PROVENANCE = "provenance"
    # staging = "atr": the candidate staged, checked and voted on in Apache Trusted Releases, and a
    # promoted release finished there (plan/atr.py)
    ATR_UPLOAD = "atr-upload"
    ATR_CHECKS = "atr-checks"
    ATR_VOTE = "atr-vote"
    ATR_FINISH = "atr-finish"
    ATR_DISTRIBUTIONS = "atr-distributions"


class TagAction(str, Enum):
    CREATE = "create"  # the tag is absent
    MOVE = "move"  # an alias points at another image and moves to this release's
    VERIFY = "verify"  # an immutable tag exists: the run checks it is this release's image
    SKIP = "skip"  # nothing to do: already there, or left for a full release


NOT_BUILT = "not built in this run"  # the reason of a tag whose flavour a partial run leaves out


class UploadAction(str, Enum):
    UPLOAD = "upload"
    SKIP = "skip"  # the index has the file: the run compares its sha256 with ours


@dataclass(frozen=True)
class Step:
    name: StepName
    does: str


CONSTRAINTS_DIR = "constraints"


def constraints_name(flavour: str, variant: str = "") -> str:
    """The file an image's installed set ships as: `constraints-P.txt` for the default image,
    `constraints-VARIANT-P.txt` for a variant (`constraints-slim-3.11.txt`)."""
    return f"constraints-{variant}-{flavour}.txt" if variant else f"constraints-{flavour}.txt"


def constraints_folder(name: str, version: ReleaseVersion | str) -> str:
    """Where a release's constraints files are published in svn, under the project's folder (next
    to `<version>/`, which holds only what was voted on): `<name>/constraints-<version>`."""
    return f"{name}/{CONSTRAINTS_PREFIX}{version}"


class ArtefactKind(str, Enum):
    SOURCE = "source"  # the source release: a tarball of the repository at the commit
    SDIST = "sdist"
    WHEEL = "wheel"
    RECORD = "record"  # release.json
    CONSTRAINTS = "constraints"
    SBOM = "sbom"
    IMAGE_SIGNATURE = "image-signature"


_SUFFIXES = (("-source.tar.gz", ArtefactKind.SOURCE), (".tar.gz", ArtefactKind.SDIST),
             (".whl", ArtefactKind.WHEEL))


def artefact_kind(filename: str) -> str:
    """`source`, `sdist`, `wheel` (an ArtefactKind's value), or "" for anything else."""
    return next((kind.value for suffix, kind in _SUFFIXES if filename.endswith(suffix)), "")


@dataclass(frozen=True)
class Artefact:
    path: str  # relative to dist/<version>/
    kind: ArtefactKind
    signed: bool = True

    @property
    def companions(self) -> tuple[str, ...]:
        return (f"{self.path}.asc", f"{self.path}.sha512") if self.signed else ()

    @property
    def for_index(self) -> bool:
        return self.path.startswith("pypi/")


@dataclass(frozen=True)
class PlannedDistribution:
    name: str
    voted: str  # the version its svn files carry: what the PMC votes on
    index: str  # the version the index gets: `voted`, or with the candidate's suffix (0.3.0rc1)


@dataclass(frozen=True)
class PlannedImage:
    """One image of a release or a master build: the one image plan, which the dry run shows and
    the build carries out. What the run learns once it has the wheels and has observed the base
    image (its digest, and the build args, labels and hashes that follow) is filled in by
    `plan.images.complete_image`."""

    image: ImageId  # flavour, variant, and its platform when it is one of several platforms' images
    tag: str  # V-pythonP; with several platforms its platform's helper tag, V-pythonP-ARCH
    ref: str
    base_image: str  # as configured; once completed what FROM names (among several: pinned to a digest)
    platform: str = ""  # the platform it is built for (every image has one; the index pseudo-image: "")
    constraints: str = ""  # the file its installed set ships as, under dist/<V>/
    sbom: str = ""  # its SBOM, relative to dist/<V>/ (one per image: variants and platforms add images)
    signature: str = ""  # its simple-signing signature, relative to dist/<V>/
    index_tag: str = ""  # one of several platforms: the version tag of the index that lists it
    base_digest: str = ""  # from here on: known once completed
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    input_hash: str = ""
    deps_hash: str = ""

    @property
    def key(self) -> str:
        """Its name among the release's images: the record's key, the key of its digest."""
        return self.image.key

    @property
    def name(self) -> str:
        """How progress names it: `python3.11`, `slim-python3.11`, `python3.11 linux/arm64`."""
        return self.image.name

    @property
    def repository(self) -> str:
        """`registry/image`, where it is pushed."""
        return self.ref.rpartition(":")[0]

    @property
    def cache_ref(self) -> str:
        """Where the dependency stage of this image is kept: `<registry>/<image>-cache:deps-...`."""
        return f"{cache_repository(self.repository)}:{cache_tag(self.image.flavour, self.deps_hash)}"


@dataclass(frozen=True)
class PlannedIndex:
    """One flavour's image index: put over its platforms' images, then under the version tag."""

    image: ImageId  # the flavour's image it stands for (never a platform's)
    tag: str  # the version tag the index goes under: V-pythonP
    images: tuple[tuple[str, str], ...]  # (platform, the helper tag of its image), in index order
    ref: str = ""  # registry/image:V-pythonP
    signature: str = ""  # the index's own simple-signing signature, relative to dist/<V>/

    def as_image(self) -> PlannedImage:
        """The index as what is signed and carries the record: what a pull of its tag checks."""
        return PlannedImage(self.image, self.tag, self.ref, "", signature=self.signature)

    def to_json(self) -> dict[str, Any]:
        return {"python": self.image.flavour, "tag": self.tag, "signature": self.signature,
                "images": [{"platform": p, "tag": t} for p, t in self.images]}


PARTIAL_FLAVOURS = "only some flavours are built: aliases move with a full release"
PARTIAL_PLATFORMS = ("only some platforms are built: every tag waits for a run with all of them "
                     "(invoke publish joins them)")


@dataclass(frozen=True)
class TagChange:
    tag: str
    image: ImageId  # the image it names: flavour and variant (a bare tag: the default flavour's)
    moving: bool  # an alias (X.Y, latest): later releases may move it
    action: TagAction
    current: str | None  # the digest it points at now, None when absent
    source: str  # the version tag whose image it gets (which names the flavour and the variant)
    reason: str = ""

    @property
    def deferred(self) -> bool:
        """Skipped because this run builds only part of the release; a full run sets it."""
        return self.action is TagAction.SKIP and (self.reason in {PARTIAL_FLAVOURS, PARTIAL_PLATFORMS}
                                                  or self.reason.startswith(NOT_BUILT))

    def to_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "python": self.image.flavour, "variant": self.image.variant,
                "moving": self.moving, "action": self.action.value, "current_digest": self.current,
                "source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class Upload:
    filename: str
    action: UploadAction


@dataclass(frozen=True)
class TargetState:
    """What the registry and the index hold, as the pipeline observed it (the plan does no I/O)."""

    released: tuple[ReleaseVersion, ...] = ()  # versions in the registry's tags or on the index
    tags: Mapping[str, str] = field(default_factory=dict)  # tag -> digest, for the tags it asked about
    index_files: frozenset[str] = frozenset()  # the release's filenames on the index (every distribution)
    unreachable: str = ""  # why the registry or index could not be read (then it is taken as empty)
    # releases withdrawn (`withdrawn-V` tags, or every file yanked on the index): never given an alias
    withdrawn: frozenset[ReleaseVersion] = frozenset()

    @property
    def current(self) -> tuple[ReleaseVersion, ...]:
        """The released versions that may own an alias: the withdrawn ones left out."""
        return tuple(v for v in self.released if v not in self.withdrawn)


@dataclass(frozen=True)
class ReleasePlan:
    mode: Mode
    version: ReleaseVersion
    name: str
    repository: str  # registry/image
    distributions: tuple[PlannedDistribution, ...]
    flavours: tuple[str, ...]  # the flavours this run builds or joins
    full: bool  # every configured flavour and platform: only then do aliases move
    steps: tuple[Step, ...]
    artefacts: tuple[Artefact, ...]
    images: tuple[PlannedImage, ...]  # one per flavour and platform
    uploads: tuple[Upload, ...]
    tags: tuple[TagChange, ...]
    owns_line: bool
    owns_latest: bool
    warnings: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()  # the platforms this run builds or joins
    indexes: tuple[PlannedIndex, ...] = ()  # one per flavour with several platforms, when all are here
    withdrawn: bool = False  # the version was withdrawn: a run refuses it
    atr: AtrPlan | None = None  # staging = "atr": the release in ATR, its files and distributions

    @property
    def immutable(self) -> tuple[TagChange, ...]:
        return tuple(t for t in self.tags if not t.moving)

    @property
    def aliases(self) -> tuple[TagChange, ...]:
        return tuple(t for t in self.tags if t.moving)

    @property
    def attested(self) -> tuple[PlannedImage, ...]:
        """What gets a signature and the attached record: every image, and with several platforms
        every index too (a pull by tag checks the index's signature)."""
        return self.images + tuple(index.as_image() for index in self.indexes)

    @property
    def multi_platform(self) -> bool:
        """The release's tags are image indexes (several platforms are configured)."""
        return any(s.name is StepName.INDEX for s in self.steps)

    def step(self, name: StepName) -> Step | None:
        return next((s for s in self.steps if s.name is name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "version": str(self.version),
            "name": self.name,
            "repository": self.repository,
            "distributions": [{"name": d.name, "voted": d.voted, "index": d.index}
                              for d in self.distributions],
            "flavours": list(self.flavours),
            "platforms": list(self.platforms),
            "steps": [{"name": s.name.value, "does": s.does} for s in self.steps],
            "artefacts": [{"path": a.path, "kind": a.kind.value, "companions": list(a.companions)}
                          for a in self.artefacts],
            "images": [{"python": i.image.flavour, "variant": i.image.variant, "platform": i.platform,
                        "tag": i.tag, "ref": i.ref, "base_image": i.base_image, "constraints": i.constraints,
                        "sbom": i.sbom, "signature": i.signature}
                       for i in self.images],
            "indexes": [i.to_json() for i in self.indexes],
            "uploads": [{"filename": u.filename, "action": u.action.value} for u in self.uploads],
            "tags": [t.to_json() for t in self.tags],
            "owns_line": self.owns_line,
            "owns_latest": self.owns_latest,
            "withdrawn": self.withdrawn,
            "warnings": list(self.warnings),
            "atr": self.atr.to_json() if self.atr is not None else None,
        }


_DOES = {
    StepName.VOTED: "check dist/<V>/ holds exactly the files the vote passed (sha512 recorded at staging)",
    StepName.FROM_RELEASE: "take the promoted files from svn release/<name>/<V>/: every artefact signed by a "
                           "key in KEYS and matching its .sha512, git tag <V> on the commit of a candidate's "
                           "tag; no rebuild, no new signature",
    StepName.BUILD: "build sdist, wheel and source tarball from a clean export; twine check --strict",
    StepName.SIGN: "detached armored .asc and .sha512 for every file",
    StepName.STAGE: "commit the candidate to svn dev/ and render its email (a [VOTE] if the project votes)",
    StepName.IMAGES: "build every variant of each flavour's image, smoke them all, push them under their "
                     "version tags ([VARIANT-]V-pythonP)",
    StepName.INDEX: "put one image index per flavour over its platforms' images, read back from the registry",
    StepName.PUSH: "check or set the immutable version tags",
    StepName.CONSTRAINTS: "write what each image installed as its constraints file, sign, record and "
                          "publish them in svn",
    StepName.SBOM: "write and sign a CycloneDX SBOM per image (Python distributions and Debian packages)",
    StepName.ATTEST: "sign every pushed image digest (simple signing) and publish the signatures",
    StepName.UPLOAD: "upload packages with twine and compare the index's hashes with ours",
    StepName.ALIASES: "point moving tags at the new digests by manifest copy (no blob upload)",
    StepName.REPORT: "write the release report and sign the release record",
    StepName.PROVENANCE: "attach the signed record and SBOMs to each image digest (OCI artifact); a final's "
                         "go to svn release/ too",
    StepName.ATR_UPLOAD: "check the candidate as a PMC member would, tag git, make sure ATR's committee "
                         "holds the signing key, and upload the candidate's files to its release in ATR as a "
                         "revision (files already there with the same bytes are not uploaded again)",
    StepName.ATR_CHECKS: "wait for ATR's checks of that revision; stop on a blocking result, naming the "
                         "check and the file",
    StepName.ATR_VOTE: "render the vote email and start ATR's vote on that revision (never a second time)",
    StepName.ATR_FINISH: "finish the release in ATR: the voted revision goes to ATR's release area, and ATR "
                         "sends the announcement (a finished release is left alone)",
    StepName.ATR_DISTRIBUTIONS: "record the PyPI packages and the image in ATR (a refusal ATR gives when it "
                                "cannot reach the platform is a warning naming it)",
}

_DOES_ATR = {  # nothing goes to svn: what svn staging commits there goes out attached to the images
    StepName.CONSTRAINTS: "write what each image installed as its constraints file, sign and record them "
                          "(attached to the images by the provenance step; nothing in svn)",
    StepName.ATTEST: "sign every pushed image digest (simple signing); each signature is attached to its "
                     "image by the provenance step (nothing in svn)",
    StepName.PROVENANCE: "attach the signed record, SBOMs, the constraints files and each image's own "
                         "signature to each image digest (OCI artifact)",
}


_DOES_MULTI = {
    StepName.IMAGES: "build, smoke and push one image per Python flavour and platform under V-pythonP-ARCH",
    StepName.PUSH: "check or set the immutable version tags, each to its flavour's image index",
    StepName.ALIASES: "point moving tags at the new indexes by manifest copy (no blob upload)",
}


def release_steps(version: ReleaseVersion, mode: Mode = Mode.RELEASE, *, multi_platform: bool = False,
                  provenance: bool = True, atr: bool = False) -> tuple[Step, ...]:
    """The steps in order. Without `provenance` (a run of some platforms of several) no shipped
    constraints, SBOM, image signature or published record: the run that joins every platform makes
    them. With `atr` (staging = "atr") a candidate is staged, checked and voted on in ATR instead of
    svn dev/, and a promoted release is finished in ATR, then its distributions recorded there,
    once the images, the packages and the aliases are out (before the report: the signed record is
    never written again)."""
    names = [StepName.BUILD, StepName.SIGN]
    if version.is_rc:
        names += [StepName.ATR_UPLOAD, StepName.ATR_CHECKS, StepName.ATR_VOTE] if atr else [StepName.STAGE]
    names.append(StepName.IMAGES)
    if mode is Mode.PUBLISH:
        names = []  # built and signed already; the image jobs pushed the version tags
    elif mode is Mode.PROMOTED:
        names = [StepName.VOTED, StepName.IMAGES]  # the voted files, never rebuilt nor signed again
    elif mode is Mode.FROM_RELEASE:
        names = [StepName.FROM_RELEASE, StepName.IMAGES]
    if multi_platform:
        names.append(StepName.INDEX)
    names += [StepName.PUSH, StepName.CONSTRAINTS, StepName.SBOM, StepName.ATTEST, StepName.UPLOAD,
              StepName.ALIASES, StepName.REPORT, StepName.PROVENANCE]
    if not provenance:  # the join writes them, with every platform's image
        names = [n for n in names if n not in {StepName.CONSTRAINTS, StepName.SBOM, StepName.ATTEST,
                                               StepName.PROVENANCE}]
    if atr and mode is Mode.PROMOTED:
        at = names.index(StepName.REPORT)
        names[at:at] = [StepName.ATR_FINISH, StepName.ATR_DISTRIBUTIONS]
    does = {**_DOES, **(_DOES_MULTI if multi_platform else {}), **(_DOES_ATR if atr else {})}
    return tuple(Step(n, does[n]) for n in names)


def unvoted_final(config: ReleaseConfig, version: ReleaseVersion, mode: Mode) -> str:
    """Why a run in `mode` must not ship `version` under the project's vote policy ("" when it may).

    With `vote = "asf"` a final reaches users only as the voted bytes of a candidate: `invoke promote`
    (after a passed vote, or with a recorded `--without-vote-result --reason`) and then `invoke publish`
    (Mode.PROMOTED). Building a final here and shipping it (Mode.RELEASE), or joining image jobs that
    built one (Mode.PUBLISH), would ship bytes no one voted on. `vote = "none"` keeps the one-command
    final."""
    if not config.votes or version.is_prerelease or mode in (Mode.PROMOTED, Mode.FROM_RELEASE):
        return ""
    candidate = f"a candidate (invoke release --version {version}rc1)" if version.value.post is None else \
        "a candidate of it"
    return (f"{version} is a final and this project's releases are voted on (vote = \"asf\"): release "
            f"{candidate}, then after its vote invoke promote "
            f"--version {version} --from-rc RC and invoke publish --version {version}")


def distribution_files(name: str, version: ReleaseVersion | str) -> tuple[str, str]:
    """The sdist and wheel filenames of a pure-Python distribution (PEP 625 / PEP 427 spelling)."""
    dist = canonicalize_name(name).replace("-", "_")
    return f"{dist}-{version}.tar.gz", f"{dist}-{version}-py3-none-any.whl"


def distribution_of(filename: str) -> str:
    """The canonical distribution name of a wheel or sdist file name; "" for anything else."""
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if filename.endswith(".tar.gz") and not filename.endswith("-source.tar.gz"):
            return str(parse_sdist_filename(filename)[0])
    except (InvalidSdistFilename, InvalidWheelFilename):
        return ""
    return ""


def plan_distributions(config: ReleaseConfig, version: ReleaseVersion,
                       declared: Mapping[str, str] | None = None) -> tuple[PlannedDistribution, ...]:
    """Each distribution with the version it is voted on and the version the index gets.

    A distribution with its own version (`version-from`) takes it from `declared` (name -> the
    final version its tree declares) and the release's suffix; the others carry the release's.
    The voted files carry `version.voted` (versions.py), the index files `version`.
    """
    found = []
    for dist in config.distributions:
        if not dist.own_version:
            found.append(PlannedDistribution(dist.name, str(version.voted), str(version)))
            continue
        own = (declared or {}).get(dist.name)
        if own is None:
            raise ConfigError(f"the version of {dist.name} is unknown: declare it in {dist.version_from}")
        found.append(PlannedDistribution(dist.name, companion_version(own, version.voted),
                                         companion_version(own, version)))
    return tuple(found)


def source_tarball(name: str, version: ReleaseVersion) -> str:
    """The source release's file name, with the version it is voted on."""
    return f"{name}-{version.voted}-source.tar.gz"


def artefacts(name: str, version: ReleaseVersion,
              distributions: Sequence[PlannedDistribution] = ()) -> tuple[Artefact, ...]:
    """Files a release writes under dist/<V>/: svn/ carries the voted versions (what is voted on),
    pypi/ what the index gets (the rc versions for a candidate, else copies of svn's packages).
    One source tarball of the repository; an sdist and a wheel per distribution (default: `name`).
    What the images installed (constraints/) comes with `image_artefacts`."""
    dists = tuple(distributions) or (PlannedDistribution(name, str(version.voted), str(version)),)
    voted: list[Artefact] = [Artefact(f"svn/{source_tarball(name, version)}", ArtefactKind.SOURCE)]
    index: list[Artefact] = []
    for dist in dists:
        sdist, wheel = distribution_files(dist.name, dist.voted)
        index_sdist, index_wheel = distribution_files(dist.name, dist.index)
        voted += [Artefact(f"svn/{sdist}", ArtefactKind.SDIST), Artefact(f"svn/{wheel}", ArtefactKind.WHEEL)]
        # files for the index with another version than the voted ones are signed too; the others
        # are byte-for-byte copies of svn's, whose signatures they share
        own = dist.index != dist.voted
        index += [Artefact(f"pypi/{index_sdist}", ArtefactKind.SDIST, signed=own),
                  Artefact(f"pypi/{index_wheel}", ArtefactKind.WHEEL, signed=own)]
    return (*voted, *index, Artefact("release.json", ArtefactKind.RECORD))


def image_artefacts(images: Sequence[PlannedImage], indexes: Sequence[PlannedIndex] = ()
                    ) -> tuple[Artefact, ...]:
    """Per image: the constraints file of what it installed (written once the images are pushed;
    with several platforms one per flavour and variant, read from the first platform's image), its
    SBOM (signed like the packages) and its simple-signing signature; per image index (several
    platforms): its own signature, which is what a pull of its tag checks."""
    constraints = tuple(Artefact(image.constraints, ArtefactKind.CONSTRAINTS) for image in images
                        if image.constraints)
    return constraints + tuple(artefact for image in images for artefact in (
        Artefact(image.sbom, ArtefactKind.SBOM),
        Artefact(image.signature, ArtefactKind.IMAGE_SIGNATURE, signed=False))
    ) + tuple(Artefact(index.signature, ArtefactKind.IMAGE_SIGNATURE, signed=False) for index in indexes)


def plan_tag_changes(
    version: ReleaseVersion,
    config: ReleaseConfig,
    state: TargetState,
    *,
    full: bool,
    all_platforms: bool = True,
    flavours: Sequence[str] = (),
) -> tuple[tuple[TagChange, ...], bool, bool]:
    """Every tag of the release with what the run will do to it, from `state`. Tags of flavours
    outside `flavours` (default: all) are left alone: this run has no image for them. Without
    `all_platforms` (a multi-platform release built for some platforms only) no tag is set."""
    tag_plan = plan_tags(version=version, flavours=config.python, default=config.default_python,
                         kind=BuildKind.RELEASE, existing=state.current, variants=config.variant_names)
    changes = []
    for tag in tag_plan.tags:
        source = version_tag(version, tag.image.flavour, tag.image.variant)
        current = state.tags.get(tag.name)
        ours = state.tags.get(source)  # known when a run already pushed it
        if not all_platforms:
            action, reason = TagAction.SKIP, PARTIAL_PLATFORMS
        elif flavours and tag.image.flavour not in flavours:
            action, reason = TagAction.SKIP, f"{NOT_BUILT} ({tag.image.name})"
        elif not tag.moving:
            action = TagAction.CREATE if current is None else TagAction.VERIFY
            reason = "" if current is None or current == ours else "must be this release's image"
        elif not full:
            action, reason = TagAction.SKIP, PARTIAL_FLAVOURS
        elif current is None:
            action, reason = TagAction.CREATE, ""
        elif ours is not None and current == ours:
            action, reason = TagAction.SKIP, "already points at this release"
        else:
            action, reason = TagAction.MOVE, ""
        changes.append(TagChange(tag.name, tag.image, tag.moving, action, current, source, reason))
    return tuple(changes), tag_plan.owns_line, tag_plan.owns_latest


def plan_release(
    config: ReleaseConfig,
    version: ReleaseVersion,
    state: TargetState,
    *,
    registry: str,
    flavours: Sequence[str] = (),
    mode: Mode = Mode.RELEASE,
    declared: tuple[str, str] | None = None,
    platforms: Sequence[str] = (),
    versions: Mapping[str, str] | None = None,
) -> ReleasePlan:
    """Everything `invoke release` (or `invoke publish`) does for `version`, given `state`.

    `flavours` and `platforms` choose part of the configured ones (default: all). `declared` is
    (version, file) the tree declares, when known: a mismatch is a warning here, since the build
    refuses it. `versions` gives the distributions with their own version (name -> final
    version), as the tree or the release record declares them.
    """
    chosen = tuple(flavours) or config.python
    if config.default_python not in chosen:
        raise ConfigError(
            f"python {', '.join(chosen)} leaves out the default flavour {config.default_python}, whose image "
            f"the bare tags ({version}, latest) get; add {config.default_python} to --python"
        )
    on = tuple(platforms) or config.image_platforms
    unknown = [p for p in on if p not in config.image_platforms]
    if unknown:
        raise ValueError(f"platform {unknown[0]} is not one of {', '.join(config.image_platforms)}")
    all_platforms = set(on) == set(config.image_platforms)
    full = set(chosen) == set(config.python) and all_platforms
    if config.multi_platform:  # the platforms' helper tags are the longest
        check_tag_length(version, chosen, config.image_platforms)
    repository = f"{registry}/{config.image}"
    tags, owns_line, owns_latest = plan_tag_changes(version, config, state, full=full,
                                                    all_platforms=all_platforms, flavours=chosen)
    images, indexes = plan_images(config, version, repository, chosen, on, registry=registry)
    distributions = plan_distributions(config, version, versions)
    # a run of some platforms only leaves provenance to the join, which has every platform's digest
    files = artefacts(config.name, version, distributions) + (
        image_artefacts(images, indexes) if all_platforms else ())
    uploads = tuple(
        Upload(a.path.split("/", 1)[1],
               UploadAction.SKIP if a.path.split("/", 1)[1] in state.index_files else UploadAction.UPLOAD)
        for a in files if a.for_index
    )
    warnings = []
    unvoted = unvoted_final(config, version, mode)
    if unvoted:
        warnings.append(f"a real run refuses: {unvoted}")
    if declared is not None and not version.accepts_declared(declared[0]):
        warnings.append(
            f"the tree declares version {declared[0]} in {declared[1]}, not {version}; a real run refuses"
            f" until it is set to {version.voted}"
        )
    if version in state.withdrawn:
        warnings.append(f"{version} was withdrawn; a real run refuses it: release a new version")
    elif version in state.released:
        warnings.append(f"{version} already exists in the registry or index; a real run only resumes it")
    if state.unreachable:
        warnings.append(f"{state.unreachable}; this plan assumes the registry and index hold nothing")
    if config.uses_atr and mode is Mode.RELEASE and not version.is_rc:
        warnings.append(f"{version} is not a release candidate: nothing of it goes to ATR (stage a candidate "
                        f"like {version.final}rc1 there for the vote, then promote and publish it)")
    if not all_platforms:
        warnings.append(f"only {', '.join(on)} of {', '.join(config.image_platforms)}: images are pushed "
                        "under their platform tags; no version tag or alias is set, and the SBOMs, "
                        "signatures and record go out with the run that joins them")
    return ReleasePlan(
        mode=mode,
        version=version,
        name=config.name,
        repository=repository,
        distributions=distributions,
        flavours=chosen,
        full=full,
        steps=release_steps(version, mode, multi_platform=config.multi_platform, provenance=all_platforms,
                            atr=config.uses_atr),
        artefacts=files,
        images=images,
        uploads=uploads,
        tags=tags,
        owns_line=owns_line,
        owns_latest=owns_latest,
        warnings=tuple(warnings),
        platforms=on,
        indexes=indexes if all_platforms else (),
        withdrawn=version in state.withdrawn,
        atr=plan_atr(config, version, voted=[a.path for a in files if a.path.startswith("svn/")],
                     packages=[(d.name, d.index) for d in distributions]),
    )


def plan_images(config: ReleaseConfig, version: ReleaseVersion | str, repository: str,
                flavours: Sequence[str], platforms: Sequence[str], *, registry: str,
                kind: BuildKind = BuildKind.RELEASE
                ) -> tuple[tuple[PlannedImage, ...], tuple[PlannedIndex, ...]]:
    """One image per variant, flavour and platform, the default image's variant first; with several
    platforms configured one index per flavour over all of them. A single-platform release's image
    is its version tag, as ever. A release's images each have their SBOM and signature (named by
    their version tag, which carries the variant), each index its own signature, and every image
    but the other platforms' names the constraints file its installed set ships as. A master build
    (`kind`) has none of those: its images go under `master-pythonP`. Variants are refused with
    several platforms (release/config.py), so an index is always the default image's."""
    images, indexes = [], []
    several = config.multi_platform
    release = kind is BuildKind.RELEASE
    prefix = str(version) if release else MASTER
    for variant in config.variant_names:
        for flavour in flavours:
            image = ImageId(flavour, variant)
            tag = image_tag(prefix, image)
            index = planned_index(config, flavour, tag, repository=repository, signed=release)
            first = config.image_platforms[0]
            for platform in platforms:
                own = image.on(platform) if several else image
                pushed = image_tag(prefix, own)
                suffix = platform if several else ""
                images.append(PlannedImage(
                    own, pushed, f"{repository}:{pushed}", config.base_image_for(flavour, registry=registry),
                    platform,
                    constraints=(f"{CONSTRAINTS_DIR}/{constraints_name(flavour, variant)}"
                                 if release and (platform == first or not several) else ""),
                    sbom=sbom_path(config.name, tag, suffix) if release else "",
                    signature=image_signature_path(config.name, tag, suffix) if release else "",
                    index_tag=tag if several else ""))
            if several:
                indexes.append(index)
    return tuple(images), tuple(indexes)


def planned_index(config: ReleaseConfig, flavour: str, tag: str, *, repository: str = "",
                  signed: bool = True) -> PlannedIndex:
    """The index `tag` (`V-pythonP`, `master-pythonP`) gets: every configured platform's image,
    each under its helper tag, in the configured order; a release's is signed."""
    return PlannedIndex(ImageId(flavour), tag,
                        tuple((p, platform_tag(tag, p)) for p in config.image_platforms),
                        ref=f"{repository}:{tag}" if repository else "",
                        signature=image_signature_path(config.name, tag) if signed else "")


def tags_to_observe(config: ReleaseConfig, version: ReleaseVersion, released: Sequence[ReleaseVersion]
                    ) -> tuple[str, ...]:
    """The tags whose digests a plan needs: every tag it could set, and the version tags.
    `released` are the versions that may own an alias (the withdrawn ones left out)."""
    tag_plan = plan_tags(version=version, flavours=config.python, default=config.default_python,
                         kind=BuildKind.RELEASE, existing=released, variants=config.variant_names)
    names = {t.name for t in tag_plan.tags}
    names |= {version_tag(version, p, v) for p in config.python for v in config.variant_names}
    return tuple(sorted(names))


def replan_aliases(plan: ReleasePlan, config: ReleaseConfig, state: TargetState) -> ReleasePlan:
    """The aliases decided again from `state`, as they stand right before they move."""
    all_platforms = set(plan.platforms or config.image_platforms) == set(config.image_platforms)
    tags, owns_line, owns_latest = plan_tag_changes(plan.version, config, state, full=plan.full,
                                                    all_platforms=all_platforms, flavours=plan.flavours)
    return replace(plan, tags=plan.immutable + tuple(t for t in tags if t.moving),
                   owns_line=owns_line, owns_latest=owns_latest)


def alias_differences(planned: ReleasePlan, now: ReleasePlan) -> tuple[str, ...]:
    """Why the aliases about to move differ from the plan shown at the start, one line each."""
    before = {t.tag: t for t in planned.aliases}
    after = {t.tag: t for t in now.aliases}
    found = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            found.append(f"{name}: no longer moves (a higher release appeared since the plan was made)")
        elif name not in before:
            found.append(f"{name}: now moves (the release that held it is gone since the plan was made)")
    # actions such as create -> skip are the run catching up with itself, not a different decision
    return tuple(found)
