# SPDX-License-Identifier: Apache-2.0
"""Credentials inside an index URL (`https://user:token@...`) never appear in progress lines, error
messages or reprs (security review): the config refuses such URLs, and what reaches the adapters
anyway is shown as `<hidden>`. The index is a real http.server on 127.0.0.1 answering 500."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import REPO_ROOT, http_server, make_sample_repo

from release.adapters.cmd import run
from release.adapters.index import PackageIndex, download_wheel
from release.adapters.net import free_port
from release.errors import CommandError, ServiceError
from release.steps.publish import upload_packages

TOKEN = "pypi-AgEIcHlwaS5vcmcCJDAwMDAw-secret"


class _Failing(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _fail


@pytest.fixture
def failing_index() -> Iterator[str]:
    with http_server(_Failing) as port:
        yield f"http://__token__:{TOKEN}@127.0.0.1:{port}/"


def test_the_repr_and_errors_of_an_index_hide_its_credentials(failing_index: str) -> None:
    index = PackageIndex(failing_index, failing_index + "simple/")
    assert TOKEN not in repr(index) and "<hidden>@127.0.0.1" in repr(index)
    with pytest.raises(ServiceError) as caught:
        index.files("sample-app")
    assert "<hidden>@127.0.0.1" in str(caught.value) and TOKEN not in str(caught.value)
    closed = f"https://user:{TOKEN}@127.0.0.1:{free_port()}/"
    with pytest.raises(ServiceError) as caught:
        PackageIndex(closed, closed + "simple/").files("sample-app")
    assert TOKEN not in str(caught.value)


def test_a_failed_upload_hides_the_credentials_of_the_url(failing_index: str, tmp_path: Path) -> None:
    wheel = tmp_path / "sample_app-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    index = PackageIndex(failing_index, failing_index + "simple/")
    seen: list[str] = []
    with pytest.raises((CommandError, ServiceError)) as caught:
        upload_packages(index, "sample-app", [wheel], progress=lambda line: seen.append(str(line)))
    assert TOKEN not in str(caught.value) and not any(TOKEN in line for line in seen)
    with pytest.raises(CommandError) as failed:
        index.upload([wheel], env={"TWINE_USERNAME": "u", "TWINE_PASSWORD": "p"})
    assert TOKEN not in str(failed.value)


def test_a_failing_command_shows_its_url_arguments_without_credentials(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        run([sys.executable, "-c", "import sys; sys.exit(3)", f"https://user:{TOKEN}@host.invalid/x"])
    assert "https://<hidden>@host.invalid/x" in str(caught.value) and TOKEN not in str(caught.value)
    log = tmp_path / "run.log"
    with pytest.raises(CommandError) as logged:
        run([sys.executable, "-c", "import sys; sys.exit(3)", f"https://u:{TOKEN}@h.invalid/"], log_file=log)
    assert TOKEN not in str(logged.value) and TOKEN not in log.read_text()


def test_pip_download_from_an_index_with_credentials_hides_them(failing_index: str, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        download_wheel("sample-app==1.0.0", tmp_path, index_url=failing_index + "simple/")
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [("index", f"https://__token__:{TOKEN}@upload.example.org/legacy/"),
     ("svn-dev", f"https://rm:{TOKEN}@svn.example.org/dev"),
     ("build-args", f'{{ PIP_EXTRA_INDEX_URL = "https://rm:{TOKEN}@pypi.example.org/simple" }}')],
)
def test_the_command_line_refuses_a_config_with_credentials_in_one_line(
    tmp_path: Path, key: str, value: str
) -> None:
    root = make_sample_repo(tmp_path / "sample")
    pyproject = root / "pyproject.toml"
    quoted = value if key == "build-args" else f'"{value}"'
    text = pyproject.read_text().replace("[tool.release]\n", f"[tool.release]\n{key} = {quoted}\n")
    pyproject.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), "release", "--version", "1.10.6",
         "--dry-run"],
        cwd=root, env={**os.environ, "RELEASE_ROOT": str(root)}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: [tool.release] {key}"), result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert not (root / "dist").exists() and not (root / ".release").exists()
