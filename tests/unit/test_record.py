# SPDX-License-Identifier: Apache-2.0
"""The release record: saved atomically after every change, read back on a rerun, refused if foreign."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from release.errors import RefusedError
from release.identity import ImageId
from release.record import (
    RECORD_NAME,
    SCHEMA,
    BuildInfo,
    ConstraintsEntry,
    FileEntry,
    ImageEntry,
    PromotionInfo,
    SignatureEntry,
    StageInfo,
    TagEntry,
    VoteResultInfo,
    WithdrawalInfo,
    load_record,
    release_dir,
    sha256_of,
    sha512_of,
)


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_release_dir(tmp_path: Path) -> None:
    assert release_dir(tmp_path, "1.10.6") == tmp_path / "dist" / "1.10.6"


FILE = FileEntry("svn/a-1.10.6.tar.gz", "ab" * 64, "sdist", "svn")
TAG = TagEntry("latest", "3.11", "sha256:" + "1" * 64, None, "create")


def test_a_new_record_is_empty_and_not_yet_written(tmp_path: Path) -> None:
    record = load_record(tmp_path / "dist" / "1.10.6", "1.10.6")
    assert record.path == tmp_path / "dist" / "1.10.6" / RECORD_NAME
    assert record.version == "1.10.6"
    assert record.files == {} and record.steps == {} and record.build is None
    assert not record.path.exists()
    assert not (tmp_path / "dist").exists()


def test_save_creates_the_directory_and_writes_json(tmp_path: Path) -> None:
    directory = tmp_path / "dist" / "1.10.6"
    record = load_record(directory, "1.10.6")
    record.save()
    data = json.loads(record.path.read_text(encoding="utf-8"))
    assert data == {"schema": SCHEMA, "version": "1.10.6", "files": {}, "signatures": {}, "images": {},
                    "constraints": {}, "tags": {}, "steps": {}}
    assert record.path.read_text(encoding="utf-8").endswith("}\n")


def test_roundtrip_of_every_typed_entry(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.add_files([FILE, FileEntry("pypi/a-1.10.6-py3-none-any.whl", "cd" * 64, "wheel", "pypi")])
    record.add_signatures([SignatureEntry("svn/a-1.10.6.tar.gz.asc", "ef" * 64, FILE.path)])
    record.put_image(ImageEntry("3.11", "r/a:1.10.6-python3.11", "sha256:d", "sha256:i", "sha256:h", "b",
                                "sha256:b"))
    record.put_tag(TAG)
    record.set_build(BuildInfo("c" * 40, 1700000000, "a/__init__.py", "1.10.6", "notes"))
    record.set_stage(StageInfo("svn://x", "1.10.6rc1", "c" * 40, "FPR", "k", {"a": "ab"}, "2026-01-01", 7))
    record.set_promotion(PromotionInfo("1.10.6rc1", "svn://dev", "svn://rel", None, "c" * 40))
    record.step_done("build", {"count": 2})
    again = load_record(tmp_path, "1.10.6")
    assert again.to_json() == record.to_json()
    assert again.files[FILE.path] == FILE
    assert again.tags["latest"] == TAG
    assert again.build is not None and again.build.source_date_epoch == 1700000000
    assert again.stage is not None and again.stage.revision == 7
    assert again.promotion is not None and again.promotion.from_rc == "1.10.6rc1"
    assert again.steps["build"].produced == {"count": 2}
    assert again.is_done("build") and not again.is_done("sign")
    assert [e.path for e in again.files_in("pypi")] == ["pypi/a-1.10.6-py3-none-any.whl"]
    assert again.wheels() == [tmp_path / "pypi/a-1.10.6-py3-none-any.whl"]


def test_a_record_without_wheels_is_refused_for_images(tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="no wheel"):
        load_record(tmp_path, "1.10.6").wheels()


def test_a_schema_1_promotion_is_read(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text(json.dumps({"schema": 1, "version": "1.10.6", "aliases": {"x": "y"},
        "promoted": {"from": "1.10.6rc1", "dev_url": "d", "url": "u", "revision": 3, "commit": "c"}}))
    record = load_record(tmp_path, "1.10.6")
    assert record.promotion is not None and record.promotion.from_rc == "1.10.6rc1"


def test_unicode_survives_the_roundtrip(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.set_build(BuildInfo("c", 1, "f", "1.10.6", "by Jarek Potiuk, Zażółć gęślą jaźń ✓"))
    again = load_record(tmp_path, "1.10.6")
    assert again.build is not None and again.build.release_notes.endswith("jaźń ✓")


def test_put_saves_at_once(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put_tag(TAG)
    on_disk = json.loads((tmp_path / RECORD_NAME).read_text(encoding="utf-8"))
    assert on_disk["tags"]["latest"]["digest"] == TAG.digest


def test_put_overwrites_an_entry(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put_tag(TAG)
    record.put_tag(TagEntry("latest", "3.11", "sha256:2", TAG.digest, "move"))
    assert load_record(tmp_path, "1.10.6").tags["latest"].action == "move"


# --------------------------------------------------------------------------- atomic save


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    for i in range(20):
        record.add_files([FileEntry(f"svn/f{i}", "ab", "sdist", "svn")])
        record.step_done(f"step{i}")
    assert files_in(tmp_path) == [RECORD_NAME]


def test_save_replaces_and_never_appends(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.add_files([FileEntry("svn/" + "long-name-" * 50, "ab", "sdist", "svn")])
    record.files.clear()
    record.save()
    assert json.loads((tmp_path / RECORD_NAME).read_text(encoding="utf-8"))["files"] == {}


def test_a_failed_save_keeps_the_previous_record_and_leaves_nothing_behind(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put_tag(TAG)
    before = (tmp_path / RECORD_NAME).read_bytes()
    with pytest.raises(TypeError):
        record.step_done("b", {"x": object()})  # not JSON: nothing must change on disk
    assert (tmp_path / RECORD_NAME).read_bytes() == before
    assert files_in(tmp_path) == [RECORD_NAME]


def test_a_write_that_fails_midway_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.put_tag(TAG)
    before = (tmp_path / RECORD_NAME).read_bytes()

    def broken_replace(self: Path, target: Any) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        record.add_files([FILE])
    monkeypatch.undo()
    assert (tmp_path / RECORD_NAME).read_bytes() == before
    assert files_in(tmp_path) == [RECORD_NAME]


# --------------------------------------------------------------------------- refusals


def test_a_record_for_another_version_is_refused(tmp_path: Path) -> None:
    load_record(tmp_path, "1.10.6").add_files([FILE])
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
    with pytest.raises(RefusedError, match="'steps' is not a table"):
        load_record(tmp_path, "1.10.6")


@pytest.mark.parametrize(
    "entry", [{"sha512": "ab"}, "sha512", {"sha512": "a", "kind": "k", "set": "s", "x": 1}]
)
def test_a_damaged_entry_is_refused_naming_it(tmp_path: Path, entry: object) -> None:
    (tmp_path / RECORD_NAME).write_text(json.dumps({"version": "1.10.6", "files": {"svn/a": entry}}))
    with pytest.raises(RefusedError, match=r"files\.svn/a is damaged"):
        load_record(tmp_path, "1.10.6")


# --------------------------------------------------------------------------- steps


def test_step_done_and_is_done(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    assert not record.is_done("build")
    record.step_done("build", {"files": ["a.whl", "a.tar.gz"]})
    assert record.is_done("build")
    assert not record.is_done("sign")
    entry = record.steps["build"]
    assert entry.produced["files"] == ["a.whl", "a.tar.gz"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.finished)
    reloaded = load_record(tmp_path, "1.10.6")
    assert reloaded.is_done("build")
    assert reloaded.steps["build"] == entry


def test_step_done_without_results(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.step_done("sign")
    assert record.steps["sign"].produced == {}
    assert load_record(tmp_path, "1.10.6").is_done("sign")


def test_step_done_again_replaces_the_entry(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.step_done("build", {"count": 1})
    record.step_done("build", {"count": 2})
    assert load_record(tmp_path, "1.10.6").steps["build"].produced["count"] == 2


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
    record.add_files(FileEntry(name, "0" * 128, "wheel", name.split("/")[0]) for name in names)
    assert record.wheels() == [tmp_path / names[1], tmp_path / names[0]]


def test_a_record_without_a_pypi_wheel_is_refused(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.add_files([FileEntry("svn/a-1.0-py3-none-any.whl", "0" * 128, "wheel", "svn")])
    with pytest.raises(RefusedError, match=r"the record lists no wheel to install in the images"):
        record.wheels()


def test_images_of_every_variant_and_the_constraints_they_ship_round_trip(tmp_path: Path) -> None:
    record = load_record(tmp_path, "3.3.2")
    default = ImageEntry("3.11", "r/a:3.3.2-python3.11", "sha256:d", "sha256:i", "sha256:h", "b", "sha256:b")
    slim = ImageEntry("3.11", "r/a:slim-3.3.2-python3.11", "sha256:e", "sha256:j", "sha256:k", "b",
                      "sha256:b", "slim")
    record.put_image(default)
    record.put_image(slim)
    entries = [ConstraintsEntry("constraints/constraints-3.11.txt", "ab" * 64, "3.11", "", "r/a@sha256:d"),
               ConstraintsEntry("constraints/constraints-slim-3.11.txt", "cd" * 64, "3.11", "slim",
                                "r/a@sha256:e", "svn://x/apache-airflow/constraints-3.3.2")]
    record.put_constraints(entries)
    data = json.loads(record.path.read_text(encoding="utf-8"))
    assert set(data["images"]) == {"3.11", "slim-3.11"}
    assert data["images"]["slim-3.11"]["variant"] == "slim"
    assert data["constraints"]["constraints/constraints-slim-3.11.txt"]["variant"] == "slim"
    again = load_record(tmp_path, "3.3.2")
    assert again.images == {"3.11": default, "slim-3.11": slim}
    assert again.constraints_of(ImageId("3.11", "slim")) == entries[1]
    assert again.constraints_of(ImageId("3.11")) == entries[0]
    assert again.constraints_of(ImageId("3.13")) is None


def test_a_schema_2_image_named_by_its_flavour_alone_is_read(tmp_path: Path) -> None:
    image = {"ref": "r/a:1.10.6-python3.11", "digest": "sha256:d", "image_id": "sha256:i", "input_hash": "h",
             "base_image": "b", "base_digest": "sha256:b"}
    document = {"schema": 2, "version": "1.10.6", "images": {"3.11": image}}
    (tmp_path / RECORD_NAME).write_text(json.dumps(document))
    record = load_record(tmp_path, "1.10.6")
    assert record.images["3.11"] == ImageEntry("3.11", **image)  # type: ignore[arg-type]
    assert record.images["3.11"].variant == "" and record.constraints == {}


def test_several_platforms_record_each_platforms_image_and_its_index(tmp_path: Path) -> None:
    from release.record import IndexEntry

    record = load_record(tmp_path, "1.10.6")
    one = ImageEntry("3.13", "r/app:1.10.6-python3.13", "sha256:" + "3" * 64, "sha256:" + "4" * 64,
                     "sha256:" + "5" * 64, "r/python:3.13", "sha256:" + "6" * 64)
    amd = ImageEntry("3.11", "r/app:1.10.6-python3.11-amd64", "sha256:" + "a" * 64, "sha256:" + "c" * 64,
                     "sha256:" + "e" * 64, "r/python:3.11@sha256:" + "1" * 64, "sha256:" + "1" * 64,
                     platform="linux/amd64")
    arm = ImageEntry("3.11", "r/app:1.10.6-python3.11-arm64", "sha256:" + "b" * 64, "sha256:" + "d" * 64,
                     "sha256:" + "f" * 64, "r/python:3.11@sha256:" + "2" * 64, "sha256:" + "2" * 64,
                     platform="linux/arm64")
    index = IndexEntry("3.11", "1.10.6-python3.11", "sha256:" + "9" * 64,
                       "application/vnd.docker.distribution.manifest.list.v2+json",
                       {"linux/amd64": amd.digest or "", "linux/arm64": arm.digest or ""})
    for entry in (one, amd, arm):
        record.put_image(entry)
    record.put_index(index)
    data = json.loads(record.path.read_text())
    assert set(data["images"]) == {"3.13", "3.11 linux/amd64", "3.11 linux/arm64"}
    # schema 4 names each image's flavour and variant; a platform only among several
    assert data["images"]["3.13"]["flavour"] == "3.13" and "platform" not in data["images"]["3.13"]
    assert data["images"]["3.11 linux/arm64"]["platform"] == "linux/arm64"
    assert data["indexes"]["3.11"]["digest"] == index.digest
    assert data["indexes"]["3.11"]["platforms"] == {"linux/amd64": "sha256:" + "a" * 64,
                                                    "linux/arm64": "sha256:" + "b" * 64}
    again = load_record(tmp_path, "1.10.6")
    assert again.images == {"3.13": one, "3.11 linux/amd64": amd, "3.11 linux/arm64": arm}
    assert again.indexes == {"3.11": index}


def test_a_single_platform_record_has_no_indexes_section(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.step_done("build")
    assert "indexes" not in json.loads(record.path.read_text())


def test_roundtrip_of_the_vote_and_withdrawal_entries(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6rc1")
    record.set_build(BuildInfo("c" * 40, 1, "a/__init__.py", "1.10.6", "notes",
                               distributions={"sample-app": "1.10.6", "sample-app-sdk": "0.3.0"}))
    record.set_stage(StageInfo("svn://x", "1.10.6rc1", "c", "FPR", "k", {"a": "ab"},
                               "2026-11-29T12:30:00+00:00", 7, opened="2026-11-26T12:30:00+00:00"))
    result = VoteResultInfo(False, "2026-11-26T12:30:00+00:00", "2026-11-29T13:00:00+00:00",
                            {"Jane <jane@apache.org>": "+1"}, {"Jim": "-1"}, ("too few",), "votes.txt", "ab",
                            "vote-result-email.txt")
    record.set_vote_result(result)
    record.set_promotion(PromotionInfo("1.10.6rc1", "d", "u", 3, "c", without_vote_result="the PMC met",
                                       removed_candidates=("1.10.6rc1", "1.10.6rc2")))
    record.set_withdrawal(WithdrawalInfo("CVE-2026-1", "2026-12-01T00:00:00+00:00", "withdrawn-1.10.6",
                                         {"latest": "1.10.5-python3.11"}, "not yanked"))
    again = load_record(tmp_path, "1.10.6rc1")
    assert again.to_json() == record.to_json()
    assert again.vote_result == result and again.vote_result.reasons == ("too few",)
    assert again.promotion is not None and again.promotion.removed_candidates == ("1.10.6rc1", "1.10.6rc2")
    assert again.promotion.without_vote_result == "the PMC met"
    assert again.withdrawal is not None and again.withdrawal.aliases == {"latest": "1.10.5-python3.11"}
    assert again.stage is not None and again.stage.opened == "2026-11-26T12:30:00+00:00"
    assert again.distributions() == {"sample-app": "1.10.6", "sample-app-sdk": "0.3.0"}
    data = json.loads((tmp_path / RECORD_NAME).read_text())
    assert {"vote_result", "withdrawn", "promoted"} <= set(data)


def test_a_record_without_the_new_fields_is_read(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text(json.dumps({"schema": 2, "version": "1.10.6",
        "build": {"commit": "c", "source_date_epoch": 1, "declared_in": "f", "declared_version": "1.10.6"},
        "promoted": {"from_rc": "1.10.6rc1", "dev_url": "d", "url": "u", "revision": 3, "commit": "c"}}))
    record = load_record(tmp_path, "1.10.6")
    assert record.distributions() == {} and record.vote_result is None and record.withdrawal is None
    assert record.promotion is not None and record.promotion.removed_candidates == ()


def test_every_wheel_of_several_distributions_goes_in_the_images(tmp_path: Path) -> None:
    record = load_record(tmp_path, "1.10.6")
    record.add_files([FileEntry("pypi/b_sdk-0.3.0-py3-none-any.whl", "1" * 128, "wheel", "pypi"),
                      FileEntry("pypi/a-1.10.6-py3-none-any.whl", "2" * 128, "wheel", "pypi"),
                      FileEntry("svn/a-1.10.6-py3-none-any.whl", "2" * 128, "wheel", "svn")])
    assert [p.name for p in record.wheels()] == ["a-1.10.6-py3-none-any.whl", "b_sdk-0.3.0-py3-none-any.whl"]


def test_a_schema_3_record_naming_the_flavour_python_is_read(tmp_path: Path) -> None:
    """Records before schema 4 called the flavour `python` in every entry naming an image."""
    digest = "sha256:" + "1" * 64
    document = {
        "schema": 3, "version": "3.3.2",
        "images": {"slim-3.11": {"python": "3.11", "ref": "r/a:slim-3.3.2-python3.11", "digest": digest,
                                 "image_id": "sha256:i", "input_hash": "sha256:h", "base_image": "b",
                                 "base_digest": "sha256:b", "variant": "slim"}},
        "constraints": {"constraints/constraints-slim-3.11.txt": {
            "sha512": "ab" * 64, "python": "3.11", "variant": "slim", "image": f"r/a@{digest}"}},
        "indexes": {"3.11": {"tag": "3.3.2-python3.11", "digest": digest, "media_type": "x",
                             "platforms": {}}},
        "tags": {"latest": {"python": "3.11", "digest": digest, "previous": None, "action": "create"}},
        "sboms": {"sbom/a.cdx.json": {"sha512": "1" * 128, "python": "3.11", "ref": "r", "digest": digest}},
    }
    (tmp_path / RECORD_NAME).write_text(json.dumps(document), encoding="utf-8")
    record = load_record(tmp_path, "3.3.2")
    assert record.images["slim-3.11"].image == ImageId("3.11", "slim")
    assert record.constraints_of(ImageId("3.11", "slim")) is not None
    assert record.indexes["3.11"].flavour == "3.11"
    assert record.tags["latest"].flavour == "3.11" and record.sboms["sbom/a.cdx.json"].flavour == "3.11"
    record.save()  # written again in schema 4's words
    data = json.loads(record.path.read_text())
    assert data["schema"] == 4 and data["tags"]["latest"]["flavour"] == "3.11"
    assert "python" not in data["images"]["slim-3.11"]
