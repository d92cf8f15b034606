# SPDX-License-Identifier: Apache-2.0
"""The code that runs inside images (release/image/*.py), imported and called in-process here; the
integration tests run the same files in real images (test_smoke.py, test_app_smoke.py,
test_images.py, test_provenance.py)."""

from __future__ import annotations

import ast
import email
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from release.image import fetch_wheels, health_watch, requirements_from_wheels, sbom_probe, smoke_probe

IMAGE_DIR = Path(fetch_wheels.__file__).parent
SCRIPTS = sorted(p for p in IMAGE_DIR.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_in_image_code_is_python_3_9(path: Path) -> None:
    """The oldest flavour's python3 runs it: no syntax newer than 3.9, and runtime annotations
    stay strings (`X | None` would fail on 3.9 outside them)."""
    text = path.read_text(encoding="utf-8")
    ast.parse(text, filename=str(path), feature_version=(3, 9))
    assert "from __future__ import annotations" in text
    assert text.startswith("# SPDX-License-Identifier: Apache-2.0\n")


def test_every_in_image_script_is_tested_here() -> None:
    assert {p.stem for p in SCRIPTS} == {"fetch_wheels", "health_watch", "requirements_from_wheels",
                                        "sbom_probe", "smoke_probe"}


# --- fetch_wheels -------------------------------------------------------------------------------------


def test_fetch_wheels_picks_this_machines_wheels() -> None:
    assert fetch_wheels.machine_tags("x86_64", "glibc") == ("manylinux", "x86_64")
    assert fetch_wheels.machine_tags("arm64", "") == ("musllinux", "aarch64")
    pattern = fetch_wheels.wanted("uv", "0.13.9", "manylinux", "x86_64")
    assert pattern.match("uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert not pattern.match("uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl")
    assert not pattern.match("uv-0.13.90-py3-none-any.whl")
    assert fetch_wheels.wanted("pip", "26.0.1", "manylinux", "x86_64").match("pip-26.0.1-py3-none-any.whl")


def test_fetch_wheels_reads_json_and_html_listings() -> None:
    page = "https://index.invalid/simple/pip/"
    body = json.dumps({"files": [
        {"filename": "pip-1-py3-none-any.whl", "url": "../../f/pip-1-py3-none-any.whl",
         "hashes": {"sha256": "ab"}},
        {"filename": "pip-1.tar.gz", "url": "x.tar.gz"}]})
    assert fetch_wheels.parse_listing(page, "application/vnd.pypi.simple.v1+json", body.encode()) == [
        ("pip-1-py3-none-any.whl", "https://index.invalid/f/pip-1-py3-none-any.whl", "ab"),
        ("pip-1.tar.gz", "https://index.invalid/simple/pip/x.tar.gz", None)]
    html = b'<a href="/p/pip-1-py3-none-any.whl#sha256=cd">x</a><a href="pip%2B1.tar.gz">y</a>'
    assert fetch_wheels.parse_listing(page, "text/html", html) == [
        ("pip-1-py3-none-any.whl", "https://index.invalid/p/pip-1-py3-none-any.whl", "cd"),
        ("pip+1.tar.gz", "https://index.invalid/simple/pip/pip%2B1.tar.gz", None)]


def test_fetch_wheels_indexes_follow_pip_settings() -> None:
    assert fetch_wheels.indexes({}) == ["https://pypi.org/simple/"]
    given = {"PIP_INDEX_URL": "http://127.0.0.1:1/simple/", "PIP_EXTRA_INDEX_URL": "a b"}
    assert fetch_wheels.indexes(given) == ["http://127.0.0.1:1/simple/", "a", "b"]


def test_fetch_wheels_takes_uv_out_of_its_wheel() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("uv-1.dist-info/METADATA", "Name: uv\n")
        wheel.writestr("uv-1.data/scripts/uv", b"\x7fELF binary")
    assert fetch_wheels.uv_binary(buffer.getvalue()) == b"\x7fELF binary"


def test_fetch_wheels_uses_the_download_cache_only_where_it_is_mounted(tmp_path: Path) -> None:
    mountinfo = ["36 35 98:0 / / rw - overlay overlay rw",
                 "40 36 8:1 /buildkit/cache /root/.cache/release-pipeline rw,relatime - ext4 /dev/sda1 rw"]
    assert fetch_wheels.mounted("/root/.cache/release-pipeline", mountinfo)
    assert not fetch_wheels.mounted("/root/.cache", mountinfo)
    blob = b"a wheel"
    sha = hashlib.sha256(blob).hexdigest()
    downloads: list[int] = []

    def download() -> bytes:
        downloads.append(1)
        return blob

    assert fetch_wheels.cached(tmp_path, sha, download) == blob
    assert fetch_wheels.cached(tmp_path, sha, download) == blob
    assert len(downloads) == 1 and (tmp_path / "sha256" / sha).read_bytes() == blob
    (tmp_path / "sha256" / sha).write_bytes(b"corrupted")
    assert fetch_wheels.cached(tmp_path, sha, download) == blob and len(downloads) == 2
    assert fetch_wheels.cached(None, sha, download) == blob and len(downloads) == 3
    assert fetch_wheels.cached(tmp_path, "0" * 64, download) == blob  # a wrong listing is never kept
    assert not (tmp_path / "sha256" / ("0" * 64)).exists()


def test_fetch_wheels_asks_the_index_nothing_for_a_spec_it_resolved_before(tmp_path: Path) -> None:
    cache, wheels, bins = tmp_path / "cache", tmp_path / "wheels", tmp_path / "bin"
    wheels.mkdir()
    bins.mkdir()
    blob = b"pip's wheel"
    sha = hashlib.sha256(blob).hexdigest()
    index = "https://index.invalid/simple/"
    assert fetch_wheels.remembered(cache, index, "pip==1", "manylinux", "x86_64") is None
    fetch_wheels.cached(cache, sha, lambda: blob)
    fetch_wheels.remember(cache, index, "pip==1", "manylinux", "x86_64", "pip-1-py3-none-any.whl", sha)
    found = fetch_wheels.remembered(cache, index, "pip==1", "manylinux", "x86_64")
    assert found == ("pip-1-py3-none-any.whl", blob)
    assert fetch_wheels.remembered(cache, index, "pip==1", "manylinux", "aarch64") is None
    assert fetch_wheels.remembered(cache, "https://other.invalid/", "pip==1", "manylinux", "x86_64") is None
    # no listing: a socket would fail this unit test
    fetch_wheels.fetch("pip==1", wheels, bins, sources=[index], libc="manylinux", arch="x86_64", cache=cache)
    assert (wheels / "pip-1-py3-none-any.whl").read_bytes() == blob
    (cache / "sha256" / sha).write_bytes(b"tampered")
    assert fetch_wheels.remembered(cache, index, "pip==1", "manylinux", "x86_64") is None


def test_fetch_wheels_keeps_uv_in_the_cache_out_of_every_layer(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as made:
        made.writestr("uv-1.data/scripts/uv", b"\x7fELF uv")
    cache, bins = tmp_path / "cache", tmp_path / "bin"
    bins.mkdir()
    place = fetch_wheels.uv_in_cache(cache, "0.13.9", "x86_64")
    fetch_wheels.install("uv", "uv-0.13.9-py3-none-any.whl", buffer.getvalue(), tmp_path, bins, place)
    assert place.read_bytes() == b"\x7fELF uv" and place.stat().st_mode & 0o777 == 0o755
    assert not (bins / "uv").exists() and not list(place.parent.glob("*.part"))
    # once there, nothing is asked of any index (a socket would fail this unit test)
    fetch_wheels.fetch("uv==0.13.9", tmp_path, bins, sources=["https://index.invalid/"], libc="manylinux",
                       arch="x86_64", cache=cache)
    fetch_wheels.install("uv", "uv-0.13.9-py3-none-any.whl", buffer.getvalue(), tmp_path, bins, None)
    assert (bins / "uv").read_bytes() == b"\x7fELF uv"  # no cache mounted: into BIN_DIR


def test_fetch_wheels_tries_a_passing_network_error_again() -> None:
    import urllib.error

    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise urllib.error.URLError("Temporary failure in name resolution")
        return "listed"

    assert fetch_wheels.retried(flaky, sleep=waits.append) == "listed"
    assert len(calls) == 3 and waits == [2.0, 4.0]

    def missing() -> str:
        calls.append(1)
        raise urllib.error.HTTPError("https://index.invalid/x/", 404, "Not Found", {}, None)  # type: ignore[arg-type]

    calls.clear()
    with pytest.raises(urllib.error.HTTPError):
        fetch_wheels.retried(missing, sleep=waits.append)
    assert len(calls) == 1  # an answer, not a passing error: no second try

    def down() -> str:
        calls.append(1)
        raise urllib.error.URLError("down")

    calls.clear()
    with pytest.raises(urllib.error.URLError):
        fetch_wheels.retried(down, attempts=2, sleep=waits.append)
    assert len(calls) == 2


# --- requirements_from_wheels -------------------------------------------------------------------------


def wheel(path: Path, name: str, *requires: str) -> Path:
    with zipfile.ZipFile(path, "w") as made:
        lines = "".join(f"Requires-Dist: {r}\n" for r in requires)
        made.writestr(f"{name.replace('-', '_')}-1.dist-info/METADATA",
                      f"Metadata-Version: 2.1\nName: {name}\n{lines}")
    return path


# The script takes `packaging` from pip (the image has no other): importing pip here, next to
# setuptools, makes setuptools warn about distutils; in the image there is no setuptools.
pip_beside_setuptools = pytest.mark.filterwarnings("ignore:Setuptools is replacing distutils")


@pip_beside_setuptools
def test_requirements_follow_extras_and_markers_but_never_list_local_wheels(tmp_path: Path) -> None:
    app = requirements_from_wheels.wheel_requires(wheel(
        tmp_path / "app.whl", "Sample_App", "requests>=2", "sample-app-sdk[cli]==0.3",
        "rich; extra == 'fancy'", "tomli; python_version < '3.0'"))
    sdk = requirements_from_wheels.wheel_requires(wheel(
        tmp_path / "sdk.whl", "sample-app-sdk", "click; extra == 'cli'", "sample-app"))
    assert app == ("sample-app", ["requests>=2", "sample-app-sdk[cli]==0.3", "rich; extra == 'fancy'",
                                  "tomli; python_version < '3.0'"])
    requires = dict([app, sdk])
    assert requirements_from_wheels.requirements(requires, "") == ["click", "requests>=2"]
    assert requirements_from_wheels.requirements(requires, "fancy, ") == ["click", "requests>=2", "rich"]


@pip_beside_setuptools
def test_requirements_are_written_with_the_local_names(tmp_path: Path) -> None:
    wheels, out = tmp_path / "wheels", tmp_path / "out"
    wheels.mkdir()
    out.mkdir()
    wheel(wheels / "a-1-py3-none-any.whl", "A.B", "six")
    requirements_from_wheels.main(["", str(wheels), str(out)])
    assert (out / "requirements.txt").read_text() == "six\n"
    assert (out / "local.txt").read_text() == "a-b\n"
    with pytest.raises(SystemExit, match="no wheel"):
        requirements_from_wheels.main(["", str(out), str(out)])


# --- smoke_probe --------------------------------------------------------------------------------------


def test_smoke_probe_facts_from_files(tmp_path: Path) -> None:
    assert smoke_probe.installed_version("pytest") == pytest.__version__
    assert smoke_probe.installed_version("no-such-distribution-here") is None
    assert smoke_probe.read_text(str(tmp_path / "none")) is None
    (tmp_path / "cmdline").write_bytes(b"/usr/bin/qemu-aarch64\0/opt/venv/bin/dumb-init\0--\0/entrypoint\0")
    first = ["/usr/bin/qemu-aarch64", "/opt/venv/bin/dumb-init", "--"]
    assert smoke_probe.pid1(str(tmp_path / "cmdline")) == first
    assert smoke_probe.pid1(str(tmp_path / "none")) is None
    include = tmp_path / "include" / "sub"
    include.mkdir(parents=True)
    (include / "x.h").write_text("int x;\n")
    (include / "x.c").write_text("int x;\n")
    found = smoke_probe.headers([str(tmp_path / "include"), str(tmp_path / "none")])
    assert found == [1, [str(include / "x.h")]]
    (include / "libz.so.1").write_bytes(b"")
    (include / "_ssl.cpython-311.so").write_bytes(b"")
    found = smoke_probe.shared_libraries([str(tmp_path), str(tmp_path)])
    assert found == sorted([str(include / "_ssl.cpython-311.so"), str(include / "libz.so.1")])


def test_smoke_probe_reads_what_ldd_misses() -> None:
    output = ("/v/a.so:\n\tlinux-vdso.so.1 (0x0)\n\tlibfoo.so.1 => not found\n"
              "/v/pkg.libs/b.so:\n\tlibsibling.so => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x0)\n")
    siblings = {Path("/v/pkg.libs/libsibling.so")}
    assert smoke_probe.missing_libraries(output, "/v/a.so", exists=lambda p: p in siblings) == {
        "/v/a.so": ["libfoo.so.1"]}
    alone = "\tlibbar.so => not found\n"  # ldd names no library when given one
    found = smoke_probe.missing_libraries(alone, "/v/c.so", exists=lambda p: False)
    assert found == {"/v/c.so": ["libbar.so"]}


# --- health_watch -------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_health_watch_waits_for_the_expected_answer() -> None:
    answers = iter([(None, None), (503, "starting"), (200, '{"db":"down"}'), (200, '{"db":"ok"}')])
    clock = Clock()
    found = health_watch.watch(lambda: next(answers), lambda: None, timeout=30, expect='"db":"ok"',
                               clock=clock, sleep=clock.sleep)
    assert found == {"ok": True, "status": 200, "body": '{"db":"ok"}', "exit": None, "seconds": 3.0}


def test_health_watch_stops_when_the_server_exits_or_time_is_up() -> None:
    clock = Clock()
    exits = iter([None, None, 4])
    exited = health_watch.watch(lambda: (None, None), lambda: next(exits), timeout=30, expect="",
                                clock=clock, sleep=clock.sleep)
    assert (exited["ok"], exited["exit"], exited["status"]) == (False, 4, None)
    clock = Clock()
    silent = health_watch.watch(lambda: (404, "no"), lambda: None, timeout=3, expect="", clock=clock,
                                sleep=clock.sleep)
    assert (silent["ok"], silent["status"], silent["body"], silent["seconds"]) == (False, 404, "no", 3.0)
    assert health_watch.healthy(200, "x ok y", "ok") and not health_watch.healthy(201, "ok", "ok")


# --- sbom_probe ---------------------------------------------------------------------------------------


def meta(**headers: Any) -> email.message.Message:
    message = email.message.Message()
    for key, value in headers.items():
        for item in value if isinstance(value, list) else [value]:
            message[key.replace("_", "-")] = item
    return message


def test_sbom_probe_reads_licences() -> None:
    assert sbom_probe.licence(meta(License_Expression="MIT OR Apache-2.0")) == (["MIT OR Apache-2.0"], True)
    assert sbom_probe.licence(meta(License="BSD-3-Clause")) == (["BSD-3-Clause"], False)
    classifiers = ["License :: OSI Approved :: MIT License", "License :: OSI Approved", "Topic :: X"]
    found = sbom_probe.licence(meta(License="a\nwhole text", Classifier=classifiers))
    assert found == (["MIT License"], False)


def test_sbom_probe_lists_each_distribution_once() -> None:
    class Dist:
        def __init__(self, name: str, version: str) -> None:
            self.metadata, self.version = meta(Name=name, License="MIT"), version

    found = sbom_probe.python_distributions([Dist("Zed", "1"), Dist("alpha", "2"), Dist("zed", "3")])
    assert [(d["name"], d["version"]) for d in found] == [("alpha", "2"), ("Zed", "1")]


def test_sbom_probe_reads_debian_packages_and_the_os() -> None:
    copyright = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n" \
                "License: GPL-2+ or Artistic\nLicense: GPL-2+\nLicense: BSD-3-clause, MIT\n"
    assert sbom_probe.copyright_licences(copyright) == ["GPL-2+", "Artistic", "BSD-3-clause", "MIT"]
    assert sbom_probe.copyright_licences("free text\n") == []
    listing = "bash\t5.2\tamd64\tbash\tii \nold\t1\tall\told\trc \nlibc6\t2.36\tamd64\tglibc\tii \n"
    found = sbom_probe.debian_packages(listing, licences=lambda name: [f"{name}-licence"])
    assert found == [
        {"name": "bash", "version": "5.2", "arch": "amd64", "source": "bash", "licences": ["bash-licence"]},
        {"name": "libc6", "version": "2.36", "arch": "amd64", "source": "glibc",
         "licences": ["libc6-licence"]}]
    release = sbom_probe.os_release(['ID=debian\n', 'VERSION_CODENAME="bookworm"\n'])
    assert release["VERSION_CODENAME"] == "bookworm"
