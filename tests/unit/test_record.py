"""The release record: saved atomically after every change, read back on a rerun, refused if foreign."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from release.errors import RefusedError
from release.record import (
    RECORD_NAME,
    SCHEMA,
    ReleaseRecord,
    load_record,
    recording,
    release_dir,
    sha256_of,
    sha512_of,
)


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_release_dir(tmp_path: Path) -> None:
    assert release_dir(tmp_path, "1.10.6") == tmp_path / "dist" / "1.10.6"


def test_a_new_record_is_empty_and_not_yet_written(tmp_path: Path) -> None:
    record = load_record(tmp_path / "dist" / "1.10.6", "1.10.6")
    assert record.path == tmp_path / "dist" / "1.10.6" / RECORD_NAME
    assert record.version == "1.10.6"
    assert record.sections == {}
    assert not record.path.exists()
    assert not (tmp_path / "dist").exists()


def test_save_creates_the_directory_and_writes_json(tmp_path: Path) -> None:
    directory = tmp_path / "dist" / "1.10.6"
    record = load_record(directory, "1.10.6")
    record.save()
    data = json.loads(record.path.read_text(encoding="utf-8"))
    assert data == {"schema": SCHEMA, "version": "1.10.6"}
    assert record.path.read_text(encoding="utf-8").endswith("}\n")


def test_roundtrip(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put("files", "apache-airflow-1.10.6.tar.gz", {"sha512": "ab" * 64, "size": 123})
    record.put("images", "1.10.6-python3.11", "sha256:" + "0" * 64)
    record.put("published", "pypi", True)
    record.step_done("build", {"count": 2})
    again = load_record(tmp_path, "1.10.6")
    assert again.version == "1.10.6"
    assert again.sections == record.sections
    assert again.get("files")["apache-airflow-1.10.6.tar.gz"] == {"sha512": "ab" * 64, "size": 123}
    assert again.get("published") == {"pypi": True}
    assert again.is_done("build")
    assert again.to_json() == record.to_json()


def test_unicode_survives_the_roundtrip(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put("notes", "by", "Jarek Potiuk, Zażółć gęślą jaźń ✓")
    assert load_record(tmp_path, "1.10.6").get("notes")["by"] == "Jarek Potiuk, Zażółć gęślą jaźń ✓"


def test_to_json_puts_schema_and_version_first_class(tmp_path: Path) -> None:
    record = ReleaseRecord(path=tmp_path / RECORD_NAME, version="2.0.0rc1", sections={"files": {"a": 1}})
    assert record.to_json() == {"schema": SCHEMA, "version": "2.0.0rc1", "files": {"a": 1}}


def test_put_saves_at_once(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put("files", "a.whl", "x")
    on_disk = json.loads((tmp_path / RECORD_NAME).read_text(encoding="utf-8"))
    assert on_disk["files"] == {"a.whl": "x"}


def test_put_overwrites_a_key(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put("files", "a.whl", "x")
    record.put("files", "a.whl", "y")
    assert load_record(tmp_path, "1.10.6").get("files") == {"a.whl": "y"}


def test_get_creates_an_empty_section(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    section = record.get("aliases")
    assert section == {}
    section["latest"] = "sha256:1"
    assert record.get("aliases") == {"latest": "sha256:1"}


# --------------------------------------------------------------------------- atomic save


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    for i in range(20):
        record.put("files", f"f{i}", i)
        record.step_done(f"step{i}")
    assert files_in(tmp_path) == [RECORD_NAME]


def test_save_replaces_and_never_appends(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put("files", "long-name-" * 50, 1)
    record.sections.clear()
    record.save()
    assert json.loads((tmp_path / RECORD_NAME).read_text(encoding="utf-8")) == {
        "schema": SCHEMA,
        "version": "1.10.6",
    }


def test_a_failed_save_keeps_the_previous_record_and_leaves_nothing_behind(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put("files", "a.whl", "x")
    before = (tmp_path / RECORD_NAME).read_bytes()
    with pytest.raises(TypeError):
        record.put("files", "b.whl", object())  # not JSON: nothing must change on disk
    assert (tmp_path / RECORD_NAME).read_bytes() == before
    assert files_in(tmp_path) == [RECORD_NAME]


def test_a_write_that_fails_midway_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put("files", "a.whl", "x")
    before = (tmp_path / RECORD_NAME).read_bytes()

    def broken_replace(self: Path, target: Any) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        record.put("files", "b.whl", "y")
    monkeypatch.undo()
    assert (tmp_path / RECORD_NAME).read_bytes() == before
    assert files_in(tmp_path) == [RECORD_NAME]


# --------------------------------------------------------------------------- refusals


def test_a_record_for_another_version_is_refused(tmp_path: Path) -> None:
    load_record(tmp_path, "1.10.6").put("files", "a", 1)
    with pytest.raises(RefusedError) as caught:
        load_record(tmp_path, "1.10.7")
    message = str(caught.value)
    assert "'1.10.6'" in message
    assert "'1.10.7'" in message
    assert str(tmp_path / RECORD_NAME) in message


def test_a_record_without_a_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text('{"schema": 1, "files": {}}', encoding="utf-8")
    with pytest.raises(RefusedError, match="records version None"):
        load_record(tmp_path, "1.10.6")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"version": "1.10.6",',
        b"not json at all",
        b'{"version": "1.10.6"} trailing',
        b"\xff\xfe\x00garbage",
        b'{"version": "1.10.6", "files": "\xff"}',
        b"[]",
        b'["1.10.6"]',
        b'"1.10.6"',
        b"null",
        b"42",
    ],
)
def test_a_damaged_record_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / RECORD_NAME).write_bytes(content)
    with pytest.raises(RefusedError) as caught:
        load_record(tmp_path, "1.10.6")
    message = str(caught.value)
    assert str(tmp_path / RECORD_NAME) in message
    assert "move it away" in message


def test_a_record_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).mkdir()
    with pytest.raises(RefusedError, match="cannot read"):
        load_record(tmp_path, "1.10.6")


def test_a_section_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text(
        json.dumps({"version": "1.10.6", "steps": ["build"]}), encoding="utf-8"
    )
    record = load_record(tmp_path, "1.10.6")
    with pytest.raises(RefusedError, match="'steps' is not a table"):
        record.is_done("build")
    with pytest.raises(RefusedError, match="damaged"):
        record.put("steps", "x", 1)


# --------------------------------------------------------------------------- steps


def test_step_done_and_is_done(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    assert not record.is_done("build")
    record.step_done("build", {"files": ["a.whl", "a.tar.gz"]})
    assert record.is_done("build")
    assert not record.is_done("sign")
    entry = record.get("steps")["build"]
    assert entry["files"] == ["a.whl", "a.tar.gz"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["finished"])
    reloaded = load_record(tmp_path, "1.10.6")
    assert reloaded.is_done("build")
    assert reloaded.get("steps")["build"] == entry


def test_step_done_without_results(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.step_done("sign")
    assert set(record.get("steps")["sign"]) == {"finished"}
    assert load_record(tmp_path, "1.10.6").is_done("sign")


def test_step_done_again_replaces_the_entry(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.step_done("build", {"count": 1})
    record.step_done("build", {"count": 2})
    assert load_record(tmp_path, "1.10.6").get("steps")["build"]["count"] == 2


def test_recording_saves_on_exit_even_after_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), recording(tmp_path, "1.10.6") as record:
        record.get("files")["a.whl"] = "x"  # changed without saving
        raise RuntimeError("step failed")
    assert load_record(tmp_path, "1.10.6").get("files") == {"a.whl": "x"}


def test_recording_refuses_a_foreign_record(tmp_path: Path) -> None:
    load_record(tmp_path, "1.10.6").save()
    with pytest.raises(RefusedError), recording(tmp_path, "2.0.0"):
        pass  # pragma: no cover


# --------------------------------------------------------------------------- checksums


@pytest.mark.parametrize("size", [0, 1, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17])
def test_checksums_match_hashlib(tmp_path: Path, size: int) -> None:
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    path = tmp_path / "artefact.bin"
    path.write_bytes(data)
    assert sha512_of(path) == hashlib.sha512(data).hexdigest()
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_checksums_of_known_content(tmp_path: Path) -> None:
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha512_of(path).startswith("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a")


def test_checksum_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sha512_of(tmp_path / "absent")
    with pytest.raises(FileNotFoundError):
        sha256_of(tmp_path / "absent")


# --------------------------------------------------------------------------- wheels for the images


def test_wheels_are_the_pypi_sets_wheels_in_name_order(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6rc1")
    names = ["pypi/b-1.0rc1-py3-none-any.whl", "pypi/a-1.0rc1-py3-none-any.whl", "pypi/a-1.0rc1.tar.gz",
             "svn/a-1.0-py3-none-any.whl"]
    for name in names:
        record.get("files")[name] = {"sha512": "0" * 128, "set": name.split("/")[0]}
    assert record.wheels() == [tmp_path / names[1], tmp_path / names[0]]


def test_a_record_without_a_pypi_wheel_is_refused(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.get("files")["svn/a-1.0-py3-none-any.whl"] = {"set": "svn"}
    with pytest.raises(RefusedError, match=r"the record lists no wheel to install in the images"):
        record.wheels()
