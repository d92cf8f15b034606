"""The release manifest: what each step produced, written as it goes, read back on a rerun.

Lives at `dist/<version>/release.json`. Steps put their results under their own section
(`files`, `signatures`, `images`, `aliases`, `published`, ...), so a rerun can skip what is done
and refuse what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from release.errors import RefusedError

RECORD_NAME = "release.json"
SCHEMA = 1


def release_dir(root: Path, version: str) -> Path:
    return root / "dist" / version


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


@dataclass
class ReleaseRecord:
    """Mutable while a run writes it; every change is saved at once (atomic replace)."""

    path: Path
    version: str
    sections: dict[str, Any] = field(default_factory=dict)

    def get(self, section: str) -> dict[str, Any]:
        value = self.sections.setdefault(section, {})
        if not isinstance(value, dict):
            raise RefusedError(f"{self.path}: section {section!r} is not a table; the record is damaged")
        return value

    def put(self, section: str, key: str, value: Any) -> None:
        self.get(section)[key] = value
        self.save()

    def step_done(self, step: str, produced: Mapping[str, Any] | None = None) -> None:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.get("steps")[step] = {"finished": now, **(produced or {})}
        self.save()

    def is_done(self, step: str) -> bool:
        return step in self.get("steps")

    def wheels(self) -> list[Path]:
        """The wheels the build recorded for the index: what the images install."""
        files = self.get("files")
        names = sorted(p for p, e in files.items() if e.get("set") == "pypi" and p.endswith(".whl"))
        if not names:
            raise RefusedError(f"{self.path.parent}: the record lists no wheel to install in the images")
        return [self.path.parent / name for name in names]

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "version": self.version, **self.sections}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".release.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).chmod(0o644)  # mkstemp makes 0600; the record is staged and read by others
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


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
    if not isinstance(data, dict):
        message = f"{path}: the release record is not a JSON object; move it away to start over"
        raise RefusedError(message)
    if data.get("version") != version:
        raise RefusedError(f"{path} records version {data.get('version')!r}, not {version!r}")
    sections = {k: v for k, v in data.items() if k not in {"schema", "version"}}
    return ReleaseRecord(path=path, version=version, sections=sections)


@contextmanager
def recording(directory: Path, version: str) -> Iterator[ReleaseRecord]:
    record = load_record(directory, version)
    try:
        yield record
    finally:
        record.save()
