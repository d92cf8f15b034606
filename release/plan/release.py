"""The whole release as data: steps, artefacts, images, uploads and every tag's action. Pure.

`plan_release` is the program `invoke release` runs: the pipeline walks `plan.steps` and each
step reads what it does from the plan. `--dry-run` prints the same object. The only thing the
pipeline decides again while it runs is the moving aliases, from what the registry and the index
hold at that moment (`replan_aliases`); the report names every difference from the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from packaging.utils import canonicalize_name

from release.config import ReleaseConfig
from release.errors import ConfigError
from release.plan.tags import BuildKind, plan_tags, version_tag
from release.versions import ReleaseVersion


class Mode(str, Enum):
    RELEASE = "release"  # everything, from the build on
    PUBLISH = "publish"  # join image jobs run elsewhere: their version tags are read from the registry


class StepName(str, Enum):
    BUILD = "build"
    SIGN = "sign"
    STAGE = "stage"
    IMAGES = "images"
    PUSH = "push"
    UPLOAD = "upload"
    ALIASES = "aliases"
    REPORT = "report"


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


@dataclass(frozen=True)
class Artefact:
    path: str  # relative to dist/<version>/
    kind: str  # source | sdist | wheel | record
    signed: bool = True

    @property
    def companions(self) -> tuple[str, ...]:
        return (f"{self.path}.asc", f"{self.path}.sha512") if self.signed else ()

    @property
    def for_index(self) -> bool:
        return self.path.startswith("pypi/")


@dataclass(frozen=True)
class PlannedImage:
    python: str
    tag: str
    ref: str
    base_image: str


@dataclass(frozen=True)
class TagChange:
    tag: str
    python: str
    moving: bool  # an alias (X.Y, latest): later releases may move it
    action: TagAction
    current: str | None  # the digest it points at now, None when absent
    source: str  # the version tag whose image it gets
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "python": self.python, "moving": self.moving, "action": self.action.value,
                "current_digest": self.current, "source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class Upload:
    filename: str
    action: UploadAction


@dataclass(frozen=True)
class TargetState:
    """What the registry and the index hold, as the pipeline observed it (the plan does no I/O)."""

    released: tuple[ReleaseVersion, ...] = ()  # versions in the registry's tags or on the index
    tags: Mapping[str, str] = field(default_factory=dict)  # tag -> digest, for the tags it asked about
    index_files: frozenset[str] = frozenset()  # this project's filenames on the index
    unreachable: str = ""  # why the registry or index could not be read (then it is taken as empty)


@dataclass(frozen=True)
class ReleasePlan:
    mode: Mode
    version: ReleaseVersion
    name: str
    repository: str  # registry/image
    flavours: tuple[str, ...]  # the flavours this run builds or joins
    full: bool  # every configured flavour: only then do aliases move
    steps: tuple[Step, ...]
    artefacts: tuple[Artefact, ...]
    images: tuple[PlannedImage, ...]
    uploads: tuple[Upload, ...]
    tags: tuple[TagChange, ...]
    owns_line: bool
    owns_latest: bool
    warnings: tuple[str, ...] = ()

    @property
    def immutable(self) -> tuple[TagChange, ...]:
        return tuple(t for t in self.tags if not t.moving)

    @property
    def aliases(self) -> tuple[TagChange, ...]:
        return tuple(t for t in self.tags if t.moving)

    def step(self, name: StepName) -> Step | None:
        return next((s for s in self.steps if s.name is name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "version": str(self.version),
            "name": self.name,
            "repository": self.repository,
            "flavours": list(self.flavours),
            "steps": [{"name": s.name.value, "does": s.does} for s in self.steps],
            "artefacts": [{"path": a.path, "kind": a.kind, "companions": list(a.companions)}
                          for a in self.artefacts],
            "images": [{"python": i.python, "tag": i.tag, "ref": i.ref, "base_image": i.base_image}
                       for i in self.images],
            "uploads": [{"filename": u.filename, "action": u.action.value} for u in self.uploads],
            "tags": [t.to_json() for t in self.tags],
            "owns_line": self.owns_line,
            "owns_latest": self.owns_latest,
            "warnings": list(self.warnings),
        }


_DOES = {
    StepName.BUILD: "build sdist, wheel and source tarball from a clean export; twine check --strict",
    StepName.SIGN: "detached armored .asc and .sha512 for every file",
    StepName.STAGE: "commit the candidate to svn dev/ and render the [VOTE] email",
    StepName.IMAGES: "build, smoke and push one production image per Python flavour under V-pythonP",
    StepName.PUSH: "check or set the immutable version tags",
    StepName.UPLOAD: "upload packages with twine and compare the index's hashes with ours",
    StepName.ALIASES: "point moving tags at the new digests by manifest copy (no blob upload)",
    StepName.REPORT: "write the release report and sign the release record",
}


def release_steps(version: ReleaseVersion, mode: Mode = Mode.RELEASE) -> tuple[Step, ...]:
    names = [StepName.BUILD, StepName.SIGN]
    if version.is_rc:
        names.append(StepName.STAGE)
    names.append(StepName.IMAGES)
    if mode is Mode.PUBLISH:
        names = []  # built and signed already; the image jobs pushed the version tags
    names += [StepName.PUSH, StepName.UPLOAD, StepName.ALIASES, StepName.REPORT]
    return tuple(Step(n, _DOES[n]) for n in names)


def distribution_files(name: str, version: ReleaseVersion | str) -> tuple[str, str]:
    """The sdist and wheel filenames of a pure-Python distribution (PEP 625 / PEP 427 spelling)."""
    dist = canonicalize_name(name).replace("-", "_")
    return f"{dist}-{version}.tar.gz", f"{dist}-{version}-py3-none-any.whl"


def artefacts(name: str, version: ReleaseVersion) -> tuple[Artefact, ...]:
    """Files a release writes under dist/<V>/: svn/ carries the final version (what is voted on),
    pypi/ what the index gets (the rc version for a candidate, else a copy of svn's packages)."""
    svn_version = version.final if version.is_rc else version
    sdist, wheel = distribution_files(name, svn_version)
    index_sdist, index_wheel = distribution_files(name, version)
    return (
        Artefact(f"svn/{name}-{svn_version}-source.tar.gz", "source"),
        Artefact(f"svn/{sdist}", "sdist"),
        Artefact(f"svn/{wheel}", "wheel"),
        # a candidate's index files differ from the voted ones and are signed; a final's are svn's bytes
        Artefact(f"pypi/{index_sdist}", "sdist", signed=version.is_rc),
        Artefact(f"pypi/{index_wheel}", "wheel", signed=version.is_rc),
        Artefact("release.json", "record"),
    )


def plan_tag_changes(
    version: ReleaseVersion,
    config: ReleaseConfig,
    state: TargetState,
    *,
    full: bool,
    flavours: Sequence[str] = (),
) -> tuple[tuple[TagChange, ...], bool, bool]:
    """Every tag of the release with what the run will do to it, from `state`. Tags of flavours
    outside `flavours` (default: all) are left alone: this run has no image for them."""
    tag_plan = plan_tags(version=version, flavours=config.python, default=config.default_python,
                         kind=BuildKind.RELEASE, existing=state.released)
    changes = []
    for tag in tag_plan.tags:
        source = version_tag(version, tag.python)
        current = state.tags.get(tag.name)
        ours = state.tags.get(source)  # known when a run already pushed it
        if flavours and tag.python not in flavours:
            action, reason = TagAction.SKIP, f"{NOT_BUILT} (python{tag.python})"
        elif not tag.moving:
            action = TagAction.CREATE if current is None else TagAction.VERIFY
            reason = "" if current is None or current == ours else "must be this release's image"
        elif not full:
            action, reason = TagAction.SKIP, "only some flavours are built: aliases move with a full release"
        elif current is None:
            action, reason = TagAction.CREATE, ""
        elif ours is not None and current == ours:
            action, reason = TagAction.SKIP, "already points at this release"
        else:
            action, reason = TagAction.MOVE, ""
        changes.append(TagChange(tag.name, tag.python, tag.moving, action, current, source, reason))
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
) -> ReleasePlan:
    """Everything `invoke release` (or `invoke publish`) does for `version`, given `state`.

    `declared` is (version, file) the tree declares, when known: a mismatch is a warning here,
    since the build refuses it.
    """
    chosen = tuple(flavours) or config.python
    if config.default_python not in chosen:
        raise ConfigError(
            f"python {', '.join(chosen)} leaves out the default flavour {config.default_python}, whose image "
            f"the bare tags ({version}, latest) get; add {config.default_python} to --python"
        )
    full = set(chosen) == set(config.python)
    repository = f"{registry}/{config.image}"
    tags, owns_line, owns_latest = plan_tag_changes(version, config, state, full=full, flavours=chosen)
    files = artefacts(config.name, version)
    uploads = tuple(
        Upload(a.path.split("/", 1)[1],
               UploadAction.SKIP if a.path.split("/", 1)[1] in state.index_files else UploadAction.UPLOAD)
        for a in files if a.for_index
    )
    warnings = []
    if declared is not None and declared[0] not in {str(version), str(version.final)}:
        warnings.append(
            f"the tree declares version {declared[0]} in {declared[1]}, not {version}; a real run refuses"
            f" until it is set to {version.final if version.is_rc else version}"
        )
    if version in state.released:
        warnings.append(f"{version} already exists in the registry or index; a real run only resumes it")
    if state.unreachable:
        warnings.append(f"{state.unreachable}; this plan assumes the registry and index hold nothing")
    return ReleasePlan(
        mode=mode,
        version=version,
        name=config.name,
        repository=repository,
        flavours=chosen,
        full=full,
        steps=release_steps(version, mode),
        artefacts=files,
        images=tuple(
            PlannedImage(p, version_tag(version, p), f"{repository}:{version_tag(version, p)}",
                         config.base_image_for(p, registry=registry))
            for p in chosen
        ),
        uploads=uploads,
        tags=tags,
        owns_line=owns_line,
        owns_latest=owns_latest,
        warnings=tuple(warnings),
    )


def tags_to_observe(config: ReleaseConfig, version: ReleaseVersion, released: Sequence[ReleaseVersion]
                    ) -> tuple[str, ...]:
    """The tags whose digests a plan needs: every tag it could set, and the version tags."""
    tag_plan = plan_tags(version=version, flavours=config.python, default=config.default_python,
                         kind=BuildKind.RELEASE, existing=released)
    names = {t.name for t in tag_plan.tags} | {version_tag(version, p) for p in config.python}
    return tuple(sorted(names))


def replan_aliases(plan: ReleasePlan, config: ReleaseConfig, state: TargetState) -> ReleasePlan:
    """The aliases decided again from `state`, as they stand right before they move."""
    tags, owns_line, owns_latest = plan_tag_changes(plan.version, config, state, full=plan.full,
                                                     flavours=plan.flavours)
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
