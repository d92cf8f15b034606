# SPDX-License-Identifier: Apache-2.0
"""The constraints that ship with a release: what each image installed, read from the pushed image.

Once the images are smoked and pushed, every image (each flavour, each variant) is asked for
every distribution in its environment (`name==version`), and the answer is written as
`dist/<V>/constraints/constraints-[VARIANT-]P.txt`, checksummed and signed like the other
artefacts, recorded with its sha512, and committed to svn next to the release
(`<name>/constraints-<V>/`), so users can install exactly what the image holds and `refresh` can
rebuild an image with the same Python dependencies. A project staging in ATR commits nothing to
svn: the files stay in dist/<V>/ and go out attached to every image with the record
(steps/provenance.py). The pipeline writes the entries these functions return into the record.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release.adapters import svn
from release.adapters.engine import Engine, at_once
from release.errors import CommandError, RefusedError, ServiceError, VerificationError
from release.plan.release import PlannedImage, constraints_folder
from release.progress import Progress, to_log
from release.record import ConstraintsEntry, ReleaseRecord, sha512_of, write_atomic

# Runs inside the image with its own python3: every distribution on its path, once, sorted.
FREEZE = r"""
import re
from importlib import metadata
seen = {}
for dist in metadata.distributions():
    name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
    if name and name not in seen:
        seen[name] = dist.version
print("\n".join(f"{name}=={version}" for name, version in sorted(seen.items())))
"""
_PIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?==\S+$")


@dataclass(frozen=True)
class ImageToRead:
    """A pushed image whose installed set becomes a constraints file."""

    planned: PlannedImage
    digest: str

    @property
    def image(self) -> str:
        return f"{self.planned.ref.rpartition(':')[0]}@{self.digest}"


def parse_installed(output: str) -> list[str]:
    """FREEZE's output -> the pins, refusing anything that is not `name==version`."""
    pins = [line.strip() for line in output.splitlines() if line.strip()]
    bad = [line for line in pins if not _PIN.match(line)]
    if bad or not pins:
        raise VerificationError(f"the image listed no distributions, or lines that are no pins: {bad[:3]}")
    return pins


def constraints_text(pins: Sequence[str], *, project: str, version: str, image: ImageToRead) -> str:
    """The file's text: a header naming the image it was read from, then one pin a line. Pure."""
    planned = image.planned
    what = f"the {planned.image.variant} image" if planned.image.variant else "the image"
    return "\n".join([
        f"# {project} {version}: every distribution {what} for Python {planned.image.flavour} holds,",
        f"# {planned.tag} ({image.digest}). Install the same with",
        f"#   pip install ... --constraint {Path(planned.constraints).name}",
        *pins,
    ]) + "\n"


def read_installed(engine: Engine, image: str) -> list[str]:
    """The pins of every distribution installed in `image` (pulled when the engine lacks it)."""
    if engine.inspect(image) is None:
        engine.pull(image)
    try:
        result = engine.run(image, ["python3", "-c", FREEZE], timeout=300)
    except CommandError as exc:
        raise ServiceError(f"reading what {image} installed: {exc}") from None
    if result.exit_code != 0:
        raise VerificationError(f"reading what {image} installed failed (exit {result.exit_code}): "
                                f"{(result.stdout + result.stderr).strip()[-300:]}")
    return parse_installed(result.stdout)


def write_constraints(
    directory: Path, images: Sequence[ImageToRead], *, project: str, version: str, engine: Engine,
    earlier: Mapping[str, ConstraintsEntry] | None = None, progress: Progress = to_log,
) -> list[ConstraintsEntry]:
    """Write the constraints file of every image into `directory` (dist/<V>/, a train's
    dist/<train>-<date>/; the pipeline signs and records them); a rerun keeps identical files and
    refuses a file that now says something else (the image under a version tag never changes).
    `earlier`: the entries recorded before, by path, whose publication URL is kept."""
    entries = []
    installed = at_once(images, lambda image: read_installed(engine, image.image))
    for image, installed_pins in zip(images, installed):
        path = directory / image.planned.constraints
        text = constraints_text(installed_pins, project=project, version=version, image=image)
        if path.exists() and path.read_text(encoding="utf-8") != text:
            raise RefusedError(f"{path} exists with other pins than {image.image} holds; move it away "
                               "if it is left from another build")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            write_atomic(path, text)
        pins = text.count("\n") - 3
        progress(f"{image.planned.constraints}: {pins} pins from {image.planned.tag}")
        before = (earlier or {}).get(image.planned.constraints)
        which = image.planned.image
        entries.append(ConstraintsEntry(image.planned.constraints, sha512_of(path), which.flavour,
                                        which.variant, image.image, before.url if before else ""))
    return entries


def publish_constraints(record: ReleaseRecord, base_url: str, name: str, version: str,
                        progress: Progress = to_log) -> list[ConstraintsEntry]:
    """Commit the recorded constraints files with their .asc and .sha512 to svn as
    `<base_url>/<name>/constraints-<V>/`; a folder that already holds the same files is left alone,
    one with other files is refused. Returns the entries naming that folder."""
    url = svn.join(base_url, constraints_folder(name, version))
    paths = [record.directory / e.path for _, e in sorted(record.constraints.items())]
    files = [p for path in paths for p in (path, path.with_name(path.name + ".asc"),
                                           path.with_name(path.name + ".sha512"))]
    if svn.exists(url):
        with tempfile.TemporaryDirectory(prefix="release-constraints-") as work:
            there = svn.export(url, Path(work) / "published")
            found = {p.name: sha512_of(p) for p in there.iterdir() if p.is_file()}
        if found != {p.name: sha512_of(p) for p in files}:
            raise RefusedError(f"{url} already holds other constraints files; a release's constraints "
                               "never change (remove that folder only if it was never announced)")
        progress(f"{url} already holds these constraints files")
    else:
        with tempfile.TemporaryDirectory(prefix="release-constraints-") as work:
            folder = Path(work) / "constraints"
            folder.mkdir()
            for path in files:
                shutil.copyfile(path, folder / path.name)
            revision = svn.import_folder(folder, url, f"Constraints of the {name} {version} images")
        progress(f"committed {len(files)} constraints files to {url} (r{revision})")
    return [dataclasses.replace(e, url=url) for e in record.constraints.values()]
