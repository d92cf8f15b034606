# SPDX-License-Identifier: Apache-2.0
"""A hostile package index can neither write outside the download folder nor leave bytes it did not
advertise (security review, finding 1). The index is a real http.server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from release.adapters.index import (
    PackageIndex,
    download_file,
    download_wheel,
    is_distribution_filename,
    parse_simple_page,
)
from release.errors import CommandError, RefusedError, ServiceError, VerificationError
from release.steps.refresh import index_wheels

NAME = "evil-1.0-py3-none-any.whl"


def make_wheel() -> bytes:
    """A minimal wheel of `evil` 1.0 (enough for `pip download`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("evil/__init__.py", "")
        wheel.writestr("evil-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
        wheel.writestr("evil-1.0.dist-info/WHEEL",
                       "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr("evil-1.0.dist-info/RECORD", "")
    return buffer.getvalue()


WHEEL = make_wheel()
SHA = hashlib.sha256(WHEEL).hexdigest()
OTHER = b"not the advertised wheel"


def link(href: str, text: str, sha: str = SHA) -> str:
    return f'<a href="{href}#sha256={sha}">{text}</a>'


class HostileIndex:
    """A simple index at /simple/ whose `evil` page and files are whatever a test sets."""

    def __init__(self) -> None:
        self.page = ""
        self.files: dict[str, bytes] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.index = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def simple(self) -> str:
        return f"{self.url}/simple/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        index: HostileIndex = self.server.index  # type: ignore[attr-defined]
        if self.path == "/simple/evil/":
            body, kind = f"<html><body>{index.page}</body></html>".encode(), "text/html"
        elif self.path in index.files:
            body, kind = index.files[self.path], "application/octet-stream"
        else:
            body, kind = b"not found", "text/plain"
        self.send_response(200 if kind != "text/plain" else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def index() -> Iterator[HostileIndex]:
    server = HostileIndex()
    yield server
    server.close()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """tmp/a/b/dest: deep enough that `../../x` still lands inside tmp_path, where it can be seen."""
    folder = tmp_path / "a" / "b" / "dest"
    folder.mkdir(parents=True)
    return folder


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- names (no process, no socket)


@pytest.mark.parametrize("name", [
    NAME, "evil-1.0.tar.gz", "evil-1.0.zip", "Evil_Pkg-2!1.0+local.1-py3-none-any.whl",
    "evil-1.0-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
])
def test_plain_distribution_names(name: str) -> None:
    assert is_distribution_filename(name)


@pytest.mark.parametrize("name", [
    f"../../{NAME}", f"/tmp/{NAME}", f"..\\{NAME}", f"sub/{NAME}", f"evil\0{NAME}", "../evil-1.0.tar.gz",
    "..-1.0-py3-none-any.whl", f".{NAME}", f"-{NAME}", "", "evil-1.0.exe", "evil-1.0.tar.gz.asc",
    "evil-1.0-py3.egg", "evil 1.0.tar.gz",
])
def test_anything_else_is_not_a_distribution_name(name: str) -> None:
    assert not is_distribution_filename(name)


@pytest.mark.parametrize("text", [f"../../{NAME}", f"/etc/{NAME}", f"..\\..\\{NAME}", f"a/{NAME}"])
def test_a_page_naming_a_path_is_refused(text: str) -> None:
    with pytest.raises(ServiceError, match="not a plain file name; refusing the page"):
        parse_simple_page("http://index.invalid/simple/evil/", link(f"/files/{NAME}", text))


def test_a_url_ending_in_an_encoded_path_is_refused() -> None:
    with pytest.raises(ServiceError, match=r"'\.\./\.\./evil"):
        parse_simple_page("http://index.invalid/simple/evil/", link(f"/files/..%2F..%2F{NAME}", ""))


def test_other_files_are_left_out_and_hashes_checked(caplog: pytest.LogCaptureFixture) -> None:
    page = "".join([link(f"/f/{NAME}", NAME, SHA.upper()), link("/f/evil-1.0.exe", "evil-1.0.exe"),
                    link("/f/evil-1.0.tar.gz", "evil-1.0.tar.gz", "../../x"),
                    '<a href="/f/evil-0.9.tar.gz">evil-0.9.tar.gz</a>'])
    files = parse_simple_page("http://index.invalid/simple/evil/", page)
    assert [(f.filename, f.sha256, f.version) for f in files] == [
        (NAME, SHA, "1.0"), ("evil-1.0.tar.gz", None, "1.0"), ("evil-0.9.tar.gz", None, "0.9")]
    assert "ignoring 'evil-1.0.exe'" in caplog.text


def test_download_refuses_a_path_before_asking_anything(dest: Path) -> None:
    for name in (f"../../{NAME}", str(dest.parent / NAME)):
        with pytest.raises(RefusedError, match="not a plain wheel or sdist file name"):
            download_file("http://index.invalid/files/x.whl", SHA, dest, filename=name)
    with pytest.raises(RefusedError, match="not a sha256"):
        download_file(f"http://index.invalid/files/{NAME}", "../x", dest)
    assert files_under(dest.parents[1]) == []


# --------------------------------------------------------------------------- against a hostile index


def test_download_keeps_a_file_with_the_expected_hash(index: HostileIndex, dest: Path) -> None:
    index.files[f"/files/{NAME}"] = WHEEL
    path = download_file(f"{index.url}/files/{NAME}", SHA.upper(), dest)
    assert path == dest / NAME and path.read_bytes() == WHEEL
    assert files_under(dest.parents[1]) == [f"b/dest/{NAME}"]


def test_download_removes_a_file_with_another_hash(index: HostileIndex, dest: Path) -> None:
    index.files[f"/files/{NAME}"] = OTHER
    (dest / NAME).write_bytes(WHEEL)  # what was there stays
    with pytest.raises(VerificationError) as caught:
        download_file(f"{index.url}/files/{NAME}", SHA, dest)
    message = str(caught.value)
    assert NAME in message and SHA in message and hashlib.sha256(OTHER).hexdigest() in message
    assert files_under(dest.parents[1]) == [f"b/dest/{NAME}"] and (dest / NAME).read_bytes() == WHEEL


def test_download_of_a_missing_file_leaves_nothing(index: HostileIndex, dest: Path) -> None:
    with pytest.raises(ServiceError, match="HTTP 404"):
        download_file(f"{index.url}/files/{NAME}", SHA, dest)
    assert files_under(dest.parents[1]) == []


def test_package_index_downloads_only_files_with_a_hash(index: HostileIndex, dest: Path) -> None:
    index.page = link(f"/files/{NAME}", NAME) + '<a href="/files/evil-1.0.tar.gz">evil-1.0.tar.gz</a>'
    index.files[f"/files/{NAME}"] = WHEEL
    client = PackageIndex("", index.simple)
    wheel, sdist = client.files("evil")
    assert client.download(wheel, dest).read_bytes() == WHEEL
    with pytest.raises(RefusedError, match=r"gives no sha256 for evil-1\.0\.tar\.gz"):
        client.download(sdist, dest)


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_refresh_never_writes_outside_its_folder(index: HostileIndex, dest: Path, where: str) -> None:
    """Before the fix the wheel was written to `dest / <link text>`: `../../x` or any absolute path."""
    target = f"../../{NAME}" if where == "relative" else str(dest.parents[1] / "outside" / NAME)
    (dest.parents[1] / "outside").mkdir()
    index.page = link(f"/files/{NAME}", target)
    index.files[f"/files/{NAME}"] = WHEEL
    find = index_wheels(PackageIndex("", index.simple), "evil", dest)
    with pytest.raises(ServiceError, match="not a plain file name"):
        find("1.0", [SHA])
    assert files_under(dest.parents[1]) == []


def test_refresh_keeps_no_wheel_whose_hash_is_wrong(index: HostileIndex, dest: Path) -> None:
    """Before the fix the wrong bytes stayed in `dest` under the advertised name."""
    index.page = link(f"/files/{NAME}", NAME)
    index.files[f"/files/{NAME}"] = OTHER
    find = index_wheels(PackageIndex("", index.simple), "evil", dest)
    with pytest.raises(VerificationError, match=f"{NAME} from .* has sha256 .*, not the expected {SHA}"):
        find("1.0", [SHA])
    assert files_under(dest.parents[1]) == []


def test_refresh_downloads_the_recorded_wheel(index: HostileIndex, dest: Path) -> None:
    index.page = link(f"/files/{NAME}", NAME)
    index.files[f"/files/{NAME}"] = WHEEL
    find = index_wheels(PackageIndex("", index.simple), "evil", dest)
    assert find("1.0", ["0" * 64]) is None  # a wheel the index does not list
    [wheel] = find("1.0", [SHA]) or []
    assert wheel == dest / NAME and wheel.read_bytes() == WHEEL


def test_refresh_treats_a_listed_but_missing_wheel_as_not_found(index: HostileIndex, dest: Path) -> None:
    index.page = link(f"/files/{NAME}", NAME)
    assert index_wheels(PackageIndex("", index.simple), "evil", dest)("1.0", [SHA]) is None
    assert files_under(dest.parents[1]) == []


# --------------------------------------------------------------------------- pip download (download_wheel)


def test_pip_download_keeps_only_the_last_part_of_a_hostile_url(index: HostileIndex, dest: Path) -> None:
    index.page = link(f"/files/..%2F..%2F{NAME}", f"../../{NAME}")
    index.files[f"/files/..%2F..%2F{NAME}"] = WHEEL
    assert download_wheel("evil==1.0", dest, index_url=index.simple) == dest / NAME
    assert files_under(dest.parents[1]) == [f"b/dest/{NAME}"]


def test_pip_download_keeps_no_wheel_whose_hash_is_wrong(index: HostileIndex, dest: Path) -> None:
    index.page = link(f"/files/{NAME}", NAME)
    index.files[f"/files/{NAME}"] = WHEEL[:-1] + b"!"
    with pytest.raises(CommandError, match="pip download"):
        download_wheel("evil==1.0", dest, index_url=index.simple)
    assert files_under(dest.parents[1]) == []
