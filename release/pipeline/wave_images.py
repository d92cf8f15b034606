# SPDX-License-Identifier: Apache-2.0
"""A versioned train's images (Airflow's core: the production image installing `apache-airflow`,
`apache-airflow-core` and `apache-airflow-task-sdk`), through the single release's machinery.

The train's `images` names the distributions the images install; the images themselves are the
project's (`[tool.release]` image, python flavours, variants, extras, build args, base image),
planned at the lead candidate's version (`planned_images`: `3.3.3rc1-python3.11`) and built by
`image_job` and `ship` from exactly the wave's voted wheels of those distributions (the files in
`dist/<train>-<date>/svn/`, which carry the final versions: the image installs 3.3.3, its version
label says so and its smoke test expects it). What each image installed is written as the single
release writes it (`write_constraints`) into `dist/<train>-<date>/constraints/`.

After promotion `publish_images` puts the final tags (`3.3.3-python3.11`, `3.3.3` and the aliases
by the single release's rule, `plan_tag_changes`) on the very images the vote was on, by manifest
copy through the one tag mover: a promoted release is never built again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from release import locks
from release.adapters.clients import Clients
from release.config import ReleaseConfig
from release.errors import ConfigError, RefusedError
from release.pipeline.images import image_job, planned_images, ship
from release.pipeline.state import observe
from release.plan.release import PlannedImage, plan_tag_changes
from release.plan.tags import version_tag
from release.plan.verify_report import FileCheck
from release.plan.wave import PROVENANCE_DIR, WAVE_PROVENANCE_RECORD, WaveImage, WavePlan
from release.progress import Progress
from release.record import (
    BuildInfo,
    ConstraintsEntry,
    ImageEntry,
    ImageSignatureEntry,
    ReleaseRecord,
    SbomEntry,
    TagEntry,
    sha256_of,
)
from release.steps.check_provenance import PulledTrainImage, check_installed
from release.steps.constraints import ImageToRead, write_constraints
from release.steps.images import ImageResult
from release.steps.smoke import SmokeReport
from release.steps.tags import apply_changes
from release.trains import SvnLayout
from release.versions import parse_version


def wave_images(config: ReleaseConfig, plan: WavePlan, registry: str) -> tuple[PlannedImage, ...]:
    """The images of `plan` in `registry`: none for a wave with nothing in it, a flat train or a
    train without `images`; else every configured flavour and variant at the lead candidate's
    version. One platform: a train's images are not joined into an index (refused)."""
    train = config.train(plan.train)
    if not plan.entries or not train.images or train.svn is not SvnLayout.VERSIONED:
        return ()
    if config.multi_platform:
        raise ConfigError(f"[tool.release] trains.{train.name}.images: a train's images are built for one "
                          "platform; configure one in [tool.release] platforms")
    return planned_images(config, str(plan.entries[0].candidate), registry)


def planned(images: Sequence[PlannedImage]) -> tuple[WaveImage, ...]:
    """What the wave's plan says of its images: each one's tag and constraints file."""
    return tuple(WaveImage(i.tag, i.constraints) for i in images)


def wave_wheels(config: ReleaseConfig, plan: WavePlan) -> tuple[str, ...]:
    """The wheels (by name, in svn/) of the distributions the train's images install."""
    installs = {_norm(n) for n in config.train(plan.train).images}
    return tuple(f for e in plan.entries if _norm(e.name) in installs for f in e.files if f.endswith(".whl"))


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def build_images(config: ReleaseConfig, plan: WavePlan, images: Sequence[PlannedImage], clients: Clients, *,
                 wheels: Sequence[Path], commit: str, recorded: Mapping[str, Any], jobs: int = 0,
                 say: Progress) -> tuple[list[ImageResult], list[SmokeReport]]:
    """Build `images` from `wheels` (the wave's voted ones), smoke each, push them all (one failure
    and nothing is pushed); an image a run before pushed from the same inputs is kept. `recorded`:
    wave.json's `images` (key -> the release record's image entry)."""
    voted = str(plan.entries[0].version)
    earlier = {key: ImageEntry(**entry) for key, entry in recorded.items() if isinstance(entry, dict)}
    job = image_job(config, images, clients, version=voted, wheels=wheels, revision=commit, jobs=jobs,
                    recorded=earlier)
    return ship(config, job, clients, version=voted, wheels=wheels, push=True, say=say)


def image_entries(results: Sequence[ImageResult]) -> dict[str, dict[str, Any]]:
    """What wave.json records of each pushed image, by its key: the release record's image entry."""
    return {r.planned.key: asdict(r.record_entry()) for r in results}


def constraints_of(config: ReleaseConfig, plan: WavePlan, images: Sequence[PlannedImage],
                   recorded: Mapping[str, Any], directory: Path, clients: Clients, *, say: Progress
                   ) -> list[ConstraintsEntry]:
    """Each pushed image's installed set, written into `directory`/constraints/ as the single
    release writes it; `recorded`: wave.json's `images`, whose digests say which image was pushed."""
    missing = [i.tag for i in images if not _digest(recorded, i.key)]
    if missing:
        raise RefusedError(f"wave.json records no pushed image {missing[0]}; run the wave again")
    reads = [ImageToRead(i, _digest(recorded, i.key)) for i in images if i.constraints]
    return write_constraints(directory, reads, project=config.project, version=str(plan.entries[0].candidate),
                             engine=clients.engine, progress=say)


def provenance_record(directory: Path, recorded: Mapping[str, Any], candidate: str) -> ReleaseRecord:
    """The wave's images' provenance in the single release's terms, for its sbom, attest and
    provenance steps to read and write: a record at dist/<train>-<date>/provenance/wave.json (the
    signed copy of wave.json the provenance step attaches), holding the SBOMs and image signatures
    wave.json records (a rerun keeps those of the same digests) and the build's SOURCE_DATE_EPOCH
    (each SBOM's timestamp). Never saved: wave.json is the wave's record, the executor writes it."""
    def table(name: str) -> Mapping[str, Any]:
        found = recorded.get(name)
        return {p: e for p, e in found.items() if isinstance(e, dict)} if isinstance(found, dict) else {}

    epoch = recorded.get("source_date_epoch")
    build = BuildInfo(str(recorded.get("commit") or ""), epoch, "", "") if isinstance(epoch, int) else None
    return ReleaseRecord(directory / PROVENANCE_DIR / WAVE_PROVENANCE_RECORD, candidate, build=build,
                         sboms={p: SbomEntry(**e) for p, e in table("sboms").items()},
                         image_signatures={p: ImageSignatureEntry(**e)
                                           for p, e in table("image_signatures").items()})


def pushed_digests(recorded: Mapping[str, Any]) -> dict[str, str]:
    """Each pushed image's digest by its key (wave.json's `images`' `pushed`)."""
    return {key: digest for key in recorded if (digest := _digest(recorded, key))}


def _digest(recorded: Mapping[str, Any], key: str) -> str:
    entry = recorded.get(key)
    return str(entry.get("digest") or "") if isinstance(entry, dict) else ""


@dataclass(frozen=True)
class FinalTags:
    tags: tuple[TagEntry, ...]
    owns_latest: bool


def publish_images(config: ReleaseConfig, recorded: Mapping[str, Any], clients: Clients, *, say: Progress
                   ) -> FinalTags:
    """The final tags on the voted images: each candidate image the wave recorded (`recorded`: its
    `images`; `3.3.3rc1-python3.11`), still under its tag in the registry, gets the final's version
    tag (`3.3.3-python3.11`), the bare `3.3.3` (the default flavour's) and the aliases the single
    release's rule gives it (`latest` only for the highest final), by manifest copy; decided under the
    project's alias lock from what the registry holds now. A rerun finds the tags there and changes
    nothing."""
    pushed = recorded.get("pushed")
    entries = [ImageEntry(**e) for e in pushed.values()] if isinstance(pushed, dict) else []
    return final_tags(config, str(recorded["version"]), str(recorded["candidate"]),
                      [(e.flavour, e.variant, e.digest or "") for e in entries], clients, say=say)


def final_tags(config: ReleaseConfig, version: str, candidate: str, voted: Sequence[tuple[str, str, str]],
               clients: Clients, *, say: Progress) -> FinalTags:
    """`publish_images` for the voted images `voted` (flavour, variant, the digest voted on), each
    still the one under its candidate tag."""
    final = parse_version(version)
    registry = clients.registry
    digests: dict[str, str] = {}
    for flavour, variant, digest in voted:
        tag = version_tag(candidate, flavour, variant)
        there = registry.manifest_digest(config.image, tag)
        if not digest or there != digest:
            raise RefusedError(f"{config.image}:{tag} is {there or 'not in the registry'}, not the voted "
                               "image "
                               f"{digest}; the final tags go only on the images voted on")
        digests[version_tag(final, flavour, variant)] = digest
    if not digests:
        raise RefusedError("the wave records no pushed image")
    flavours = tuple(dict.fromkeys(flavour for flavour, _, _ in voted))
    with locks.aliases(config.root / "dist", say):
        state = observe(config, final, clients)
        full = set(flavours) == set(config.python)
        changes, _, owns_latest = plan_tag_changes(final, config, state, full=full, flavours=flavours)
        done = apply_changes(registry, config.image, changes, digests, version=final, progress=say)
    return FinalTags(tuple(done), owns_latest)


def candidate_images(config: ReleaseConfig, plan: WavePlan, clients: Clients) -> list[tuple[str, str, str]]:
    """(flavour, variant, digest) of each of the wave's candidate images as the registry holds it now
    ("" when it is not there): what a runner without the wave's record checks and tags."""
    return [(i.image.flavour, i.image.variant, clients.registry.manifest_digest(config.image, i.tag) or "")
            for i in wave_images(config, plan, config.registry)]


def check_wave_images(config: ReleaseConfig, plan: WavePlan, clients: Clients, folder: Path, commit: str,
                      checks: dict[str, FileCheck], say: Progress) -> list[PulledTrainImage]:
    """For a voter: each image of the candidate, by its tag in the registry, pulled by its digest (as
    the single release's verify checks a candidate's images, `check_installed`): its revision label
    names the wave's commit and the wheels it installed are exactly the staged wheels of the
    distributions it installs, as read from svn into `folder` (and checked against their signatures).
    Returns each image found, as pulled, for the check of its provenance (`check_train_provenance`)."""
    wheels = {name: sha256_of(folder / name) for name in wave_wheels(config, plan)
              if (folder / name).is_file()}
    repository = f"{clients.registry.registry}/{config.image}"
    pulled = []
    for image in plan.images:
        check = checks.setdefault(f"image {image.tag}", FileCheck(f"image {image.tag}"))
        digest = clients.registry.manifest_digest(config.image, image.tag)
        if digest is None:
            check.problems.append(f"{repository}:{image.tag} is not in the registry")
            continue
        say(f"pulling {repository}@{digest} to check it")
        labels, installed = check_installed(check, clients.engine, repository=repository, digest=digest,
                                            commit=commit, wheels=wheels, voted="the staged wheels are",
                                            same="its wheels are the staged ones, the vote's")
        pulled.append(PulledTrainImage(image.tag, digest, labels, installed))
    return pulled
