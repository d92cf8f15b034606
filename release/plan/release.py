"""The whole release as data: steps, artefacts, images, tags, and which tags would move. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from release.config import ReleaseConfig
from release.plan.tags import BuildKind, TagPlan, plan_tags
from release.versions import ReleaseVersion


@dataclass(frozen=True)
class Step:
    name: str
    does: str


@dataclass(frozen=True)
class Artefact:
    path: str  # relative to dist/<version>/
    kind: str  # sdist | wheel | source | record
    signed: bool = True

    @property
    def companions(self) -> tuple[str, ...]:
        return (f"{self.path}.asc", f"{self.path}.sha512") if self.signed else ()


@dataclass(frozen=True)
class TagChange:
    tag: str
    python: str
    current: str | None  # digest the tag points at now, None when absent
    moving: bool

    @property
    def action(self) -> str:
        if self.current is None:
            return "create"
        return "move" if self.moving else "verify"


@dataclass(frozen=True)
class ReleasePlan:
    version: ReleaseVersion
    config_name: str
    repository: str  # registry/image
    steps: tuple[Step, ...]
    artefacts: tuple[Artefact, ...]
    images: Mapping[str, str]  # flavour -> immutable image reference
    base_images: Mapping[str, str]
    tags: TagPlan
    changes: tuple[TagChange, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "version": str(self.version),
            "name": self.config_name,
            "repository": self.repository,
            "steps": [{"name": s.name, "does": s.does} for s in self.steps],
            "artefacts": [
                {"path": a.path, "kind": a.kind, "companions": list(a.companions)} for a in self.artefacts
            ],
            "images": dict(self.images),
            "base_images": dict(self.base_images),
            "tags": self.tags.as_mapping(),
            "tag_changes": {
                c.tag: {"python": c.python, "current_digest": c.current, "action": c.action}
                for c in self.changes
            },
            "owns_line": self.tags.owns_line,
            "owns_latest": self.tags.owns_latest,
            "warnings": list(self.warnings),
        }


def release_steps(version: ReleaseVersion) -> tuple[Step, ...]:
    steps = [
        Step("build", "build sdist, wheel and source tarball from a clean export; twine check --strict"),
        Step("sign", "detached armored .asc and .sha512 for every file"),
    ]
    if version.is_rc:
        steps.append(Step("stage", "commit the candidate to svn dev/ and render the [VOTE] email"))
    steps += [
        Step("images", "build one production image per Python flavour from the Dockerfile"),
        Step("smoke", "check every image: Python, version, wheel hash, pip check, uid, no compilers"),
        Step("push", "push images under their immutable version tags"),
        Step("upload", "upload packages with twine and compare the index's hashes with ours"),
        Step("aliases", "point moving tags at the new digests by manifest copy (no blob upload)"),
        Step("report", "write the release report and sign the release record"),
    ]
    return tuple(steps)


def artefacts(name: str, version: ReleaseVersion) -> tuple[Artefact, ...]:
    """Files a release produces. svn/ files carry the final version; pypi/ files carry `version`."""
    dist = canonicalize_name(name).replace("-", "_")
    svn_version = version.final if version.is_rc else version
    found = [
        Artefact(f"svn/{name}-{svn_version}-source.tar.gz", "source"),
        Artefact(f"svn/{dist}-{svn_version}.tar.gz", "sdist"),
        Artefact(f"svn/{dist}-{svn_version}-py3-none-any.whl", "wheel"),
    ]
    if version.is_rc:
        found += [
            Artefact(f"pypi/{dist}-{version}.tar.gz", "sdist", signed=False),
            Artefact(f"pypi/{dist}-{version}-py3-none-any.whl", "wheel", signed=False),
        ]
    found.append(Artefact("release.json", "record"))
    return tuple(found)


def plan_release(
    config: ReleaseConfig,
    version: ReleaseVersion,
    *,
    registry: str,
    existing: Sequence[ReleaseVersion],
    current_digests: Mapping[str, str | None],
    declared_version: str | None = None,
    declared_in: str = "",
) -> ReleasePlan:
    """Everything `invoke release` would do for `version`, from what the registry and index hold."""
    tag_plan = plan_tags(
        version=version,
        flavours=config.python,
        default=config.default_python,
        kind=BuildKind.RELEASE,
        existing=existing,
    )
    repository = f"{registry}/{config.image}"
    warnings = []
    expected = {str(version), str(version.final)}
    if declared_version is not None and declared_version not in expected:
        where = f" in {declared_in}" if declared_in else ""
        warnings.append(
            f"the tree declares version {declared_version}{where}, not {version}; a real run refuses"
            f" until it is set to {version.final if version.is_rc else version}"
        )
    if any(v == version for v in existing):
        warnings.append(f"{version} already exists in the registry or index; a real run only resumes it")
    changes = tuple(
        TagChange(t.name, t.python, current_digests.get(t.name), t.moving) for t in tag_plan.tags
    )
    return ReleasePlan(
        version=version,
        config_name=config.name,
        repository=repository,
        steps=release_steps(version),
        artefacts=artefacts(config.name, version),
        images={p: f"{repository}:{version}-python{p}" for p in config.python},
        base_images={p: config.base_image_for(p, registry=registry) for p in config.python},
        tags=tag_plan,
        changes=changes,
        warnings=tuple(warnings),
    )
