# SPDX-License-Identifier: Apache-2.0
"""The release record: what each step produced, typed, written as it goes, read back on a rerun.

Lives at `dist/<version>/release.json`. This module is the only one that reads or writes it:
steps get and put typed entries (files, signatures, images, tags, steps, build, stage,
promotion, vote result, withdrawal, SBOMs, image signatures), so a rerun can skip what is done and
refuse what differs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from release.errors import RefusedError
from release.identity import ImageId

RECORD_NAME = "release.json"
# 2: typed sections; `tags` (tag -> entry) replaced `aliases` (tag -> digest); `sboms`,
#    `image_signatures` and `indexes` are optional sections (older records lack them)
# 3: images of variants (keyed `VARIANT-P`, each entry naming its python and variant); constraints
# 4: `flavour`, not `python`, in every entry naming an image (images, constraints, indexes, sboms,
#    image signatures, tags); older records are read with either word
SCHEMA = 4


def release_dir(root: Path, version: str) -> Path:
    return root / "dist" / version


def record_of(root: Path, version: object) -> ReleaseRecord:
    """The record of `version` (a ReleaseVersion or its text) in root/dist/<V>/, as `load_record` opens it."""
    return load_record(release_dir(root, str(version)), str(version))


def _hexdigest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha512_of(path: Path) -> str:
    return _hexdigest(path, "sha512")


def sha256_of(path: Path) -> str:
    return _hexdigest(path, "sha256")


def checksum_text(path: Path) -> str:
    """`<hex>  <name>`: what `sha512sum <name>` prints, so `sha512sum -c X.sha512` checks it."""
    return f"{sha512_of(path)}  {path.name}\n"


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to dist/<V>/: svn/... (voted on) or pypi/... (for the index)
    sha512: str
    kind: str  # source | sdist | wheel
    set: str  # svn | pypi
    promoted_from: str = ""


@dataclass(frozen=True)
class SignatureEntry:
    path: str  # X.asc or X.sha512
    sha512: str
    of: str  # the file it signs or sums


def signature_entries(paths: Iterable[Path], directory: Path) -> list[SignatureEntry]:
    """The `.asc` and `.sha512` beside each of `paths`, as entries relative to `directory`."""
    return [SignatureEntry(extra.relative_to(directory).as_posix(), sha512_of(extra),
                           path.relative_to(directory).as_posix())
            for path in paths
            for extra in (path.with_name(path.name + ".asc"), path.with_name(path.name + ".sha512"))]


@dataclass(frozen=True)
class ImageEntry:
    flavour: str
    ref: str
    digest: str | None
    image_id: str
    input_hash: str
    base_image: str
    base_digest: str
    variant: str = ""  # "" is the default image
    platform: str = ""  # set when the image is one of several platforms (an index lists it)

    @property
    def image(self) -> ImageId:
        return ImageId(self.flavour, self.variant, self.platform)

    @property
    def key(self) -> str:
        """Its name in the record (identity.ImageId.key)."""
        return self.image.key


@dataclass(frozen=True)
class ConstraintsEntry:
    """What one image installed, as a constraints file that ships with the release."""

    path: str  # relative to dist/<V>/, e.g. constraints/constraints-3.11.txt
    sha512: str
    flavour: str
    variant: str
    image: str  # registry/image@digest it was read from
    url: str = ""  # where it was published, once it was


@dataclass(frozen=True)
class IndexEntry:
    """One flavour's image index: its digest, and each platform's image digest under it."""

    flavour: str
    tag: str  # the version tag it was put under
    digest: str
    media_type: str
    platforms: Mapping[str, str]  # platform -> digest of that platform's image


@dataclass(frozen=True)
class SbomEntry:
    path: str  # sbom/<name>-<tag>.cdx.json, relative to dist/<V>/
    sha512: str
    flavour: str
    ref: str  # registry/image:version-tag
    digest: str  # the image digest the SBOM describes
    components: int = 0
    platform: str = ""  # set when the image is one of several platforms (ref is then its helper tag)
    variant: str = ""  # the image variant ("" is the default image; its tag names it too)


@dataclass(frozen=True)
class ImageSignatureEntry:
    path: str  # image-signatures/<name>-<tag>.sig, relative to dist/<V>/
    sha512: str
    flavour: str
    identity: str  # the docker reference it binds: registry/image:version-tag
    digest: str  # the manifest digest it signs
    signer: str  # fingerprint of the key that made it
    lookaside: str = ""  # where it is published: <lookaside base>/<image>@sha256=<hex>/signature-1
    variant: str = ""  # the image variant ("" is the default image; its identity's tag names it too)


@dataclass(frozen=True)
class TagEntry:
    tag: str
    flavour: str
    digest: str
    previous: str | None
    action: str  # create | move | verify | skip, as the plan spells them


def _tuple(entry: Any, *names: str) -> None:
    """JSON gives lists: keep a frozen entry's sequences as tuples, so entries compare equal."""
    for name in names:
        object.__setattr__(entry, name, tuple(getattr(entry, name)))


@dataclass(frozen=True)
class BuildInfo:
    commit: str
    source_date_epoch: int
    declared_in: str
    declared_version: str
    release_notes: str = ""
    promoted_from: str = ""
    # distribution -> the version its svn (voted) files carry; empty in records older than this field
    distributions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StageInfo:
    url: str
    tag: str
    commit: str
    fingerprint: str
    keys_url: str
    files: Mapping[str, str]  # filename -> sha512 of what was committed for the vote
    vote_closes: str
    revision: int | None = None
    opened: str = ""  # when the vote email was written (UTC, ISO 8601); "" in older records


@dataclass(frozen=True)
class VoteResultInfo:
    """The counted vote on a candidate, as `invoke vote-result` found it."""

    passed: bool
    opened: str  # UTC, ISO 8601
    closed: str
    binding: Mapping[str, str]  # voter -> +1 | 0 | -1 (the last vote each cast)
    non_binding: Mapping[str, str]
    reasons: tuple[str, ...] = ()  # the rules the vote failed; empty when it passed
    source: str = ""  # the votes file it was counted from
    source_sha512: str = ""
    email: str = ""  # the [RESULT][VOTE] email, relative to dist/<rc>/
    review: tuple[str, ...] = ()  # replies not counted as they stand: who, when, why, how they begin
    decided: Mapping[str, str] = field(default_factory=dict)  # voter -> +1|0|-1|none, as the RM read them
    decided_by: str = ""  # who read those replies and decided (`--count`, `--decided-by`)

    def __post_init__(self) -> None:
        _tuple(self, "reasons", "review")


@dataclass(frozen=True)
class PromotionInfo:
    from_rc: str
    dev_url: str
    url: str
    revision: int | None
    commit: str
    without_vote_result: str = ""  # why it was promoted without a passing vote result ("" = it had one)
    removed_candidates: tuple[str, ...] = ()  # the dev/ folders removed after the copy
    # promoted elsewhere: the files were taken from the release folder `url` and checked against KEYS
    # and their checksums (steps/released.py), as a runner that publishes does
    taken_from_release: bool = False

    def __post_init__(self) -> None:
        _tuple(self, "removed_candidates")


@dataclass(frozen=True)
class WithdrawalInfo:
    """A withdrawn release: why, when, and what its withdrawal changed."""

    reason: str
    when: str
    marker: str  # the registry tag that publishes the withdrawal (plan/tags.py: withdrawn_tag)
    aliases: Mapping[str, str]  # alias -> where it points now: a version tag, or why it stayed
    index: str  # what the package index was told, or why it was not


@dataclass(frozen=True)
class StepEntry:
    name: str
    finished: str
    produced: Mapping[str, Any] = field(default_factory=dict)


T = TypeVar("T")


def _entry(cls: type[T], data: Any, where: str) -> T:
    """A typed entry from its JSON table; a damaged one is refused, never guessed at."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    if not isinstance(data, dict) or not set(data) <= names:
        raise RefusedError(f"the release record's {where} is damaged (unexpected {data!r:.80}); "
                           "move the record away to start over")
    try:
        return cls(**data)
    except TypeError as exc:
        raise RefusedError(f"the release record's {where} is damaged ({exc}); move it away") from None


def _table(data: Mapping[str, Any], section: str) -> dict[str, Any]:
    value = data.get(section, {})
    if not isinstance(value, dict):
        raise RefusedError(f"the release record's section {section!r} is not a table; the record is damaged")
    return value


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ReleaseRecord:
    """Mutable while a run writes it; every change is saved at once (atomic replace)."""

    path: Path
    version: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    signatures: dict[str, SignatureEntry] = field(default_factory=dict)
    images: dict[str, ImageEntry] = field(default_factory=dict)  # ImageEntry.key -> entry
    constraints: dict[str, ConstraintsEntry] = field(default_factory=dict)  # path -> entry
    indexes: dict[str, IndexEntry] = field(default_factory=dict)  # flavour -> its index
    tags: dict[str, TagEntry] = field(default_factory=dict)
    steps: dict[str, StepEntry] = field(default_factory=dict)
    build: BuildInfo | None = None
    stage: StageInfo | None = None
    promotion: PromotionInfo | None = None
    sboms: dict[str, SbomEntry] = field(default_factory=dict)  # path -> entry
    image_signatures: dict[str, ImageSignatureEntry] = field(default_factory=dict)  # path -> entry
    vote_result: VoteResultInfo | None = None
    withdrawal: WithdrawalInfo | None = None

    @property
    def directory(self) -> Path:
        return self.path.parent

    def add_files(self, entries: Iterable[FileEntry]) -> None:
        self.files.update((e.path, e) for e in entries)
        self.save()

    def add_signatures(self, entries: Iterable[SignatureEntry]) -> None:
        self.signatures.update((e.path, e) for e in entries)
        self.save()

    def put_image(self, entry: ImageEntry) -> None:
        self.images[entry.key] = entry
        self.save()

    def put_constraints(self, entries: Iterable[ConstraintsEntry]) -> None:
        self.constraints.update((e.path, e) for e in entries)
        self.save()

    def put_index(self, entry: IndexEntry) -> None:
        self.indexes[entry.flavour] = entry
        self.save()

    def constraints_of(self, image: ImageId) -> ConstraintsEntry | None:
        """The constraints file recorded for one image of the release, if any."""
        found = (e for e in self.constraints.values()
                 if e.flavour == image.flavour and e.variant == image.variant)
        return next(found, None)

    def put_tag(self, entry: TagEntry) -> None:
        self.tags[entry.tag] = entry
        self.save()

    def put_sbom(self, entry: SbomEntry) -> None:
        self.sboms[entry.path] = entry
        self.save()

    def put_image_signature(self, entry: ImageSignatureEntry) -> None:
        self.image_signatures[entry.path] = entry
        self.save()

    def set_build(self, info: BuildInfo) -> None:
        self.build = info
        self.save()

    def set_stage(self, info: StageInfo) -> None:
        self.stage = info
        self.save()

    def set_promotion(self, info: PromotionInfo) -> None:
        self.promotion = info
        self.save()

    def set_vote_result(self, info: VoteResultInfo) -> None:
        self.vote_result = info
        self.save()

    def set_withdrawal(self, info: WithdrawalInfo) -> None:
        self.withdrawal = info
        self.save()

    def step_done(self, step: str, produced: Mapping[str, Any] | None = None) -> None:
        self.steps[step] = StepEntry(step, _now(), dict(produced or {}))
        self.save()

    def is_done(self, step: str) -> bool:
        return step in self.steps

    def files_in(self, which: str) -> list[FileEntry]:
        """The files of one set (`svn` or `pypi`), by path."""
        return [e for _, e in sorted(self.files.items()) if e.set == which]

    def distributions(self) -> dict[str, str]:
        """distribution -> the version of its voted (svn) files, as the build recorded them."""
        return dict(self.build.distributions) if self.build is not None else {}

    def wheels(self) -> list[Path]:
        """Every wheel the build recorded for the index, one per distribution: what the images install."""
        names = [e.path for e in self.files_in("pypi") if e.path.endswith(".whl")]
        if not names:
            raise RefusedError(f"{self.directory}: the record lists no wheel to install in the images")
        return [self.directory / name for name in names]

    def to_json(self) -> dict[str, Any]:
        def table(entries: Mapping[str, Any], key: str) -> dict[str, Any]:
            return {name: {k: v for k, v in dataclasses.asdict(e).items() if k != key}
                    for name, e in sorted(entries.items())}

        data: dict[str, Any] = {
            "schema": SCHEMA, "version": self.version,
            "files": table(self.files, "path"), "signatures": table(self.signatures, "path"),
            "images": {name: {k: v for k, v in dataclasses.asdict(e).items() if (k, v) != ("platform", "")}
                       for name, e in sorted(self.images.items())},
            "constraints": table(self.constraints, "path"), "tags": table(self.tags, "tag"),
            "steps": {name: {"finished": e.finished, **e.produced} for name, e in sorted(self.steps.items())},
        }
        if self.indexes:
            data["indexes"] = table(self.indexes, "flavour")
        if self.sboms:
            data["sboms"] = table(self.sboms, "path")
        if self.image_signatures:
            data["image_signatures"] = table(self.image_signatures, "path")
        sections = (("build", self.build), ("stage", self.stage), ("vote_result", self.vote_result),
                    ("promoted", self.promotion), ("withdrawn", self.withdrawal))
        for name, info in sections:
            if info is not None:
                data[name] = dataclasses.asdict(info)
        return data

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o644)  # mkstemp makes 0600; the record is staged and read by others
        Path(tmp).replace(path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        _name(exc, path)
        raise


def _name(exc: BaseException, path: Path) -> None:
    """Say which file a failed write was for (a write error names none): `dist/...: No space left`."""
    if isinstance(exc, OSError) and exc.filename is None:
        exc.filename = str(path)


def copy_atomic(source: Path, target: Path) -> None:
    """Copy `source` to `target` so that `target` is either absent or whole (a full disk or a kill
    half-way leaves no truncated file for a rerun to refuse)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle, open(source, "rb") as original:
            shutil.copyfileobj(original, handle, 1 << 20)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        _name(exc, target)
        raise


def _flavoured(value: Any) -> dict[str, Any]:
    """An entry's table as schema 4 spells it: records before it named the flavour `python`."""
    if not isinstance(value, dict):
        return {"?": value}
    if "python" in value and "flavour" not in value:
        return {("flavour" if k == "python" else k): v for k, v in value.items()}
    return value


def parse_record(path: Path, version: str, data: Any) -> ReleaseRecord:
    """A record from its JSON document; refuses another version's record or a damaged one."""
    if not isinstance(data, dict):
        raise RefusedError(f"{path}: the release record is not a JSON object; move it away to start over")
    if data.get("version") != version:
        raise RefusedError(f"{path} records version {data.get('version')!r}, not {version!r}")

    def entries(section: str, cls: type[T], key: str) -> dict[str, T]:
        return {name: _entry(cls, {key: name, **_flavoured(value)}, f"{section}.{name}")
                for name, value in _table(data, section).items()}

    def single(section: str, cls: type[T]) -> T | None:
        return _entry(cls, data[section], section) if section in data else None

    def image(key: str, value: Any) -> ImageEntry:
        # schema 2 named each image by its flavour alone and did not repeat it in the entry
        given = _flavoured(value)
        return _entry(ImageEntry, given if "flavour" in given else {"flavour": key, **given}, f"images.{key}")

    if isinstance(data.get("promoted"), dict) and "from" in data["promoted"]:  # schema 1 spelling
        promoted = {("from_rc" if k == "from" else k): v for k, v in data["promoted"].items()}
        data = {**data, "promoted": promoted}
    return ReleaseRecord(
        path=path, version=version,
        files=entries("files", FileEntry, "path"), signatures=entries("signatures", SignatureEntry, "path"),
        images={entry.key: entry for entry in (image(k, v) for k, v in _table(data, "images").items())},
        constraints=entries("constraints", ConstraintsEntry, "path"),
        indexes=entries("indexes", IndexEntry, "flavour"),
        tags=entries("tags", TagEntry, "tag"),
        steps={name: StepEntry(name, str(value.get("finished", "")) if isinstance(value, dict) else "",
                               {k: v for k, v in value.items() if k != "finished"}
                               if isinstance(value, dict) else {})
               for name, value in _table(data, "steps").items()},
        build=single("build", BuildInfo), stage=single("stage", StageInfo),
        promotion=single("promoted", PromotionInfo), vote_result=single("vote_result", VoteResultInfo),
        withdrawal=single("withdrawn", WithdrawalInfo),
        sboms=entries("sboms", SbomEntry, "path"),
        image_signatures=entries("image_signatures", ImageSignatureEntry, "path"),
    )


def load_record(directory: Path, version: str) -> ReleaseRecord:
    """Open the record in `directory`, creating an empty one; refuse one made for another version."""
    path = directory / RECORD_NAME
    if not path.exists():
        return ReleaseRecord(path=path, version=version)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON and bad UTF-8 alike
        message = f"{path}: cannot read the release record ({exc}); move it away to start over"
        raise RefusedError(message) from None
    return parse_record(path, version, data)
