# SPDX-License-Identifier: Apache-2.0
"""The package index's PEP 503 project pages, parsed from their HTML, and read through a fake session."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from release.adapters.index import IndexFile, PackageIndex, parse_simple_page
from release.errors import ServiceError

PAGE = "http://127.0.0.1:8081/simple/sample-app/"
SHA = "0123456789abcdef" * 4
WHEEL = "sample_app-1.10.6-py3-none-any.whl"

PYPISERVER = f"""<!DOCTYPE html>
<html>
  <head><title>Links for sample-app</title></head>
  <body>
    <h1>Links for sample-app</h1>
    <a href="../../packages/{WHEEL}#sha256={SHA}">{WHEEL}</a><br>
    <a href="../../packages/sample_app-1.10.6.tar.gz#sha256={"f" * 64}">sample_app-1.10.6.tar.gz</a><br>
    <a href="../../packages/sample_app-1.10.7rc1.tar.gz">sample_app-1.10.7rc1.tar.gz</a><br>
  </body>
</html>
"""


def test_pypiserver_page_gives_names_absolute_urls_hashes_and_versions() -> None:
    assert parse_simple_page(PAGE, PYPISERVER) == [
        IndexFile(WHEEL, f"http://127.0.0.1:8081/packages/{WHEEL}", SHA, "1.10.6"),
        IndexFile("sample_app-1.10.6.tar.gz", "http://127.0.0.1:8081/packages/sample_app-1.10.6.tar.gz",
                  "f" * 64, "1.10.6"),
        IndexFile("sample_app-1.10.7rc1.tar.gz", "http://127.0.0.1:8081/packages/sample_app-1.10.7rc1.tar.gz",
                  None, "1.10.7rc1"),
    ]


def test_pypi_style_absolute_links_with_data_attributes() -> None:
    html = (
        '<a href="https://files.example.org/ab/cd/sample_app-2.0.0-py3-none-any.whl#sha256=' + SHA + '" '
        'data-requires-python="&gt;=3.9" data-dist-info-metadata="sha256=' + "e" * 64 + '">'
        "sample_app-2.0.0-py3-none-any.whl</a>"
    )
    [found] = parse_simple_page("https://pypi.org/simple/sample-app/", html)
    assert found.url == "https://files.example.org/ab/cd/sample_app-2.0.0-py3-none-any.whl"
    assert found.filename == "sample_app-2.0.0-py3-none-any.whl"
    assert (found.sha256, found.version) == (SHA, "2.0.0")


def test_a_link_without_text_is_named_after_its_url() -> None:
    [found] = parse_simple_page(PAGE, '<a href="sample_app-1.0.0.tar.gz#md5=abc"></a>')
    assert found.filename == "sample_app-1.0.0.tar.gz"
    assert found.url == PAGE + "sample_app-1.0.0.tar.gz"
    assert found.sha256 is None  # only sha256 fragments count
    assert found.version == "1.0.0"


def test_files_that_are_not_distributions_are_ignored() -> None:
    html = '<a href="/x/notes.txt">notes.txt</a><a href="/x/app-1.0.0-bad.whl">app-1.0.0-bad.whl</a>'
    assert parse_simple_page(PAGE, html) == []  # ignored: not names the index serves packages under


def test_a_page_without_links_and_text_outside_links() -> None:
    assert parse_simple_page(PAGE, "<html><body><h1>Links for nothing</h1></body></html>") == []
    [found] = parse_simple_page(PAGE, 'before <a href="a-1.0.tar.gz"> a-1.0.tar.gz </a> after')
    assert found.filename == "a-1.0.tar.gz"  # the link's own text, stripped


class PageSession(requests.Session):
    """Answers every GET with one status and page, or fails like a stopped server."""

    def __init__(self, status: int = 200, text: str = "", fail: bool = False) -> None:
        super().__init__()
        self.status, self.text, self.fail = status, text, fail
        self.asked: list[str] = []

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.asked.append(str(url))
        if self.fail:
            raise requests.ConnectionError("refused")
        response = requests.Response()
        response.status_code, response.url = self.status, str(url)
        response._content = self.text.encode()
        response._content_consumed = True  # as requests leaves a response whose body it read
        response.encoding = "utf-8"
        return response


def index(session: PageSession) -> PackageIndex:
    return PackageIndex("http://127.0.0.1:8081/", "http://127.0.0.1:8081/simple", session=session)


def test_the_index_reads_the_projects_canonical_page() -> None:
    session = PageSession(text=PYPISERVER)
    found = index(session)
    assert found.versions("Sample_App") == ["1.10.6", "1.10.7rc1"]
    assert found.hashes("sample.app") == {WHEEL: SHA, "sample_app-1.10.6.tar.gz": "f" * 64,
                                          "sample_app-1.10.7rc1.tar.gz": None}
    assert session.asked == [PAGE, PAGE]


def test_an_unknown_project_has_no_files() -> None:
    assert index(PageSession(status=404)).files("sample-app") == []


def test_an_index_error_page_is_a_service_error() -> None:
    with pytest.raises(ServiceError, match=r"package index .*/simple/sample-app/: HTTP 503") as caught:
        index(PageSession(status=503)).files("sample-app")
    assert caught.value.exit_code == 5


def test_an_unreachable_index_is_a_service_error_that_says_so() -> None:
    with pytest.raises(ServiceError, match=r"127.0.0.1:8081/simple/ is not reachable \(ConnectionError\)"):
        index(PageSession(fail=True)).files("sample-app")


def test_a_yanked_link_is_marked() -> None:
    html = (f'<a href="{WHEEL}#sha256={SHA}" data-yanked="broken NOTICE">{WHEEL}</a>'
            f'<a href="sample_app-1.10.6.tar.gz" data-yanked>sample_app-1.10.6.tar.gz</a>'
            f'<a href="sample_app-1.10.5.tar.gz">sample_app-1.10.5.tar.gz</a>')
    assert [(f.filename, f.yanked) for f in parse_simple_page(PAGE, html)] == [
        (WHEEL, True), ("sample_app-1.10.6.tar.gz", True), ("sample_app-1.10.5.tar.gz", False)]


def test_yank_says_how_when_the_index_offers_no_api() -> None:
    told = index(PageSession(text=PYPISERVER)).yank("sample-app", "1.10.6")
    assert told.startswith("http://127.0.0.1:8081/simple/ offers no API to yank (PEP 592) sample-app 1.10.6: "
                           "not yanked; yank it by hand")
    pypi = PackageIndex("https://upload.pypi.org/legacy/", "https://pypi.org/simple/",
                        session=PageSession(text=PYPISERVER))
    assert "https://pypi.org/manage/project/sample-app/release/1.10.6/" in pypi.yank("Sample_App", "1.10.6")


def test_yank_reports_a_version_already_yanked_on_the_index() -> None:
    html = f'<a href="{WHEEL}#sha256={SHA}" data-yanked="">{WHEEL}</a>'
    assert index(PageSession(text=html)).yank("sample-app", "1.10.6") == (
        "sample-app 1.10.6 is yanked on http://127.0.0.1:8081/simple/")
