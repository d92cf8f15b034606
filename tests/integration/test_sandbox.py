# SPDX-License-Identifier: Apache-2.0
"""The local sandbox against real services: registry, package index, svn, gpg, Docker Engine."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import signal
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from vote_fixtures import generate_key, keys_text, new_gnupghome

from release import sandbox
from release.adapters import gpg as gpg_adapter
from release.adapters import svn as svn_adapter
from release.adapters.cmd import run
from release.adapters.net import http_get, http_status
from release.adapters.process import wait_until
from release.sandbox import gpg

NAME = "demo"
FLAVOUR = "3.11"


@pytest.fixture(scope="session")
def sandbox_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("sandbox")
    found = sandbox.up(root, name=NAME, flavours=[FLAVOUR], progress=print)
    yield root
    sandbox.down(root)
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker.from_env().images.remove(found.base_images[FLAVOUR])


@pytest.fixture(scope="session")
def services(sandbox_root: Path) -> sandbox.Services:
    found = sandbox.load(sandbox_root)
    assert found is not None
    return found


def _agents(home: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline[:1] and cmdline[0].endswith(b"gpg-agent") and str(home).encode() in cmdline:
            found.append(int(proc.name))
    return found


def _state(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / ".release" / "services.json").read_text())
    return data


def _pids(root: Path) -> dict[str, object]:
    procs = _state(root)["processes"]
    assert isinstance(procs, dict)
    return {key: procs[key]["pid"] for key in ("registry", "index")}


def test_absent_sandbox(tmp_path: Path) -> None:
    assert sandbox.load(tmp_path) is None
    report = sandbox.status(tmp_path)
    json.dumps(report)
    assert report["recorded"] is False and report["up"] is False
    sandbox.down(tmp_path)
    assert not (tmp_path / ".release").exists()


@pytest.mark.sandbox
def test_long_gnupghome_gets_a_short_socket_path(tmp_path: Path) -> None:
    real = tmp_path / ("x" * 60) / ("y" * 60) / "gnupg"
    record = gpg.ensure_key(real, {}, lambda _: None)
    home = Path(record["gnupghome"])
    try:
        assert len(str(real)) > 108
        assert home != real and home.resolve() == real.resolve() and len(str(home)) < 60
        payload = tmp_path / "payload"
        payload.write_text("hello\n")
        env = gpg.env(home)
        run(["gpg", "--batch", "--local-user", record["signing_key"], "--detach-sign", str(payload)], env=env)
        run(["gpg", "--batch", "--verify", f"{payload}.sig", str(payload)], env=env)
    finally:
        gpg.stop_agent(home)
        home.unlink()


@pytest.mark.sandbox
def test_services_shape(services: sandbox.Services, sandbox_root: Path) -> None:
    assert services.state_dir == sandbox_root.resolve() / ".release"
    assert services.registry.startswith("127.0.0.1:")
    assert services.index_url.startswith("http://127.0.0.1:") and services.index_url.endswith("/")
    assert services.svn_url == (services.state_dir / "svn" / "repo").as_uri()
    assert len(services.signing_key) == 40
    assert services.base_images == {FLAVOUR: f"{services.registry}/sandbox/python:{FLAVOUR}"}
    state = _state(sandbox_root)
    assert state["registry_url"] == f"http://{services.registry}"
    assert oct(services.gnupghome.resolve().stat().st_mode & 0o777) == "0o700"


@pytest.mark.sandbox
def test_services_outlive_their_starter(sandbox_root: Path) -> None:
    for pid in _pids(sandbox_root).values():
        assert isinstance(pid, int)
        assert os.getsid(pid) != os.getsid(0)


@pytest.mark.sandbox
def test_base_image_is_labelled_and_in_the_registry(services: sandbox.Services) -> None:
    client = docker.from_env()
    image = client.images.get(f"sandbox/python:{FLAVOUR}")
    assert image.labels["org.release-pipeline.base.python"] == FLAVOUR
    assert len(image.labels["org.release-pipeline.base.recipe"]) == 64
    assert image.attrs["Config"]["Cmd"] == ["python3"]
    config = _manifest(services.registry, "sandbox/python", FLAVOUR)["config"]
    assert isinstance(config, dict) and config["digest"] == image.id


def _manifest(registry: str, repo: str, tag: str) -> dict[str, object]:
    body = http_get(
        f"http://{registry}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert body is not None, f"{registry} has no {repo}:{tag}"
    data: dict[str, object] = json.loads(body)
    return data


@pytest.mark.sandbox
def test_registry_takes_a_push_and_serves_the_manifest(services: sandbox.Services) -> None:
    client = docker.from_env()
    dockerfile = f"FROM sandbox/python:{FLAVOUR}\nLABEL org.example.probe=yes\n"
    repo = f"{services.registry}/test/probe"
    image, _ = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=f"{repo}:1", rm=True)
    try:
        for chunk in client.images.push(repo, tag="1", stream=True, decode=True):
            assert "error" not in chunk, chunk
    finally:
        client.images.remove(f"{repo}:1")
    manifest = _manifest(services.registry, "test/probe", "1")
    config_digest = manifest["config"]["digest"]  # type: ignore[index]
    assert config_digest == image.id
    blob = http_get(f"http://{services.registry}/v2/test/probe/blobs/{config_digest}")
    assert blob is not None
    assert json.loads(blob)["config"]["Labels"]["org.example.probe"] == "yes"


def _tiny_wheel(dest: Path) -> Path:
    dist, version = "sandbox_probe", "0.1.0"
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": b"VALUE = 1\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: sandbox-probe\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = dest / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@pytest.mark.sandbox
def test_index_takes_a_twine_upload_and_serves_pip(services: sandbox.Services, tmp_path: Path) -> None:
    wheel = _tiny_wheel(tmp_path)
    run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            services.index_url,
            "-u",
            "any",
            "-p",
            "any",
            str(wheel),
        ]
    )
    simple = http_get(f"{services.index_url}simple/sandbox-probe/")
    assert simple is not None
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() in simple.decode()
    out = tmp_path / "down"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--isolated",
            "--no-cache-dir",
            "--no-deps",
            "--index-url",
            f"{services.index_url}simple/",
            "--dest",
            str(out),
            "sandbox-probe==0.1.0",
        ]
    )
    assert (out / wheel.name).read_bytes() == wheel.read_bytes()
    assert http_status(f"{services.index_url}simple/pip/") == 404


@pytest.mark.sandbox
def test_svn_has_dev_release_and_keys(services: sandbox.Services) -> None:
    assert run(["svn", "ls", services.svn_url]).stdout.split() == ["dev/", "release/"]
    assert run(["svn", "ls", f"{services.svn_url}/dev"]).stdout.split() == [f"{NAME}/"]
    assert run(["svn", "ls", f"{services.svn_url}/release/{NAME}"]).stdout.split() == ["KEYS"]
    keys = run(["svn", "cat", f"{services.svn_url}/release/{NAME}/KEYS"]).stdout
    assert services.signing_key in keys
    assert "sig 3" in keys and "-----BEGIN PGP PUBLIC KEY BLOCK-----" in keys


@pytest.mark.sandbox
def test_keys_that_others_added_survive_every_start(sandbox_root: Path, services: sandbox.Services,
                                                     tmp_path: Path) -> None:
    """KEYS is append-only (ASF): `up` appends the sandbox key when it is missing, drops nothing."""
    home = new_gnupghome()
    other = generate_key(home, "Another Release Manager <other@sample.invalid>")
    theirs = keys_text(home, other)
    url = f"{services.svn_url}/release/{NAME}/KEYS"
    svn_adapter.write_text(url, theirs, "Another release manager's key, and only that")
    for _ in range(2):
        sandbox.up(sandbox_root, name=NAME, flavours=[FLAVOUR], progress=lambda line: None)
        now = run(["svn", "cat", url]).stdout
        assert now.startswith(theirs.rstrip("\n")), "a key someone else added was dropped or changed"
        keys = tmp_path / "KEYS"
        keys.write_text(now)
        assert gpg_adapter.fingerprints_in(keys) == {other, services.signing_key}
    log = run(["svn", "log", "-q", url]).stdout
    assert log.count("\nr") == 3, log  # the first KEYS, theirs, one append: the second start changed nothing


@pytest.mark.sandbox
def test_gpg_signs_and_keys_file_verifies(services: sandbox.Services, tmp_path: Path) -> None:
    payload = tmp_path / "demo-1.0.tar.gz"
    payload.write_bytes(b"not really a tarball\n")
    env = gpg.env(services.gnupghome)
    run(
        ["gpg", "--batch", "--armor", "--local-user", services.signing_key, "--detach-sign", str(payload)],
        env=env,
    )
    signature = Path(f"{payload}.asc")
    run(["gpg", "--batch", "--verify", str(signature), str(payload)], env=env)

    verifier = tmp_path / "verifier"
    verifier.mkdir(mode=0o700)
    keys = tmp_path / "KEYS"
    keys.write_text(run(["svn", "cat", f"{services.svn_url}/release/{NAME}/KEYS"]).stdout)
    try:
        run(["gpg", "--batch", "--import", str(keys)], env=gpg.env(verifier))
        result = run(
            ["gpg", "--batch", "--status-fd", "1", "--verify", str(signature), str(payload)],
            env=gpg.env(verifier),
        )
        assert f"VALIDSIG {services.signing_key}" in result.stdout
        payload.write_bytes(b"tampered\n")
        bad = run(
            ["gpg", "--batch", "--verify", str(signature), str(payload)], env=gpg.env(verifier), check=False
        )
        assert bad.returncode == 1  # gpg: BAD signature
    finally:
        gpg.stop_agent(verifier)


@pytest.mark.sandbox
def test_status_reports_everything_up(sandbox_root: Path, services: sandbox.Services) -> None:
    report = sandbox.status(sandbox_root)
    json.dumps(report)
    assert report["up"] is True
    registry = report["registry"]
    index = report["index"]
    assert isinstance(registry, dict) and isinstance(index, dict)
    assert registry["url"] == f"http://{services.registry}" and registry["answering"] is True
    assert registry["running"] is True and index["running"] is True and index["answering"] is True
    assert report["svn"] == {
        "url": services.svn_url,
        "answering": True,
        "names": [NAME],
        "keys": {NAME: True},
    }
    assert report["gpg"] == {
        "gnupghome": str(services.gnupghome),
        "signing_key": services.signing_key,
        "key_present": True,
    }
    image = report["base_images"][FLAVOUR]  # type: ignore[index]
    assert image["present"] is True and image["ref"] == services.base_images[FLAVOUR]
    engine = report["engine"]
    assert isinstance(engine, dict) and engine["answering"] is True


@pytest.mark.sandbox
def test_up_twice_is_a_no_op(sandbox_root: Path, services: sandbox.Services) -> None:
    before = _pids(sandbox_root)
    lines: list[str] = []
    again = sandbox.up(sandbox_root, name=NAME, flavours=[FLAVOUR], progress=lines.append)
    assert again == services and hash(again) == hash(services)
    assert _pids(sandbox_root) == before
    text = "\n".join(lines)
    assert "already running" in text and "reusing" in text and "already in the registry" in text
    assert "started" not in text and "building" not in text and "committed" not in text


@pytest.mark.sandbox
def test_up_restarts_only_what_died_on_the_same_port(sandbox_root: Path, services: sandbox.Services) -> None:
    before = _pids(sandbox_root)
    index_pid = before["index"]
    assert isinstance(index_pid, int)
    os.kill(index_pid, signal.SIGKILL)
    assert wait_until(lambda: http_status(f"{services.index_url}simple/") is None, timeout=10)
    lines: list[str] = []
    again = sandbox.up(sandbox_root, name=NAME, flavours=[FLAVOUR], progress=lines.append)
    assert again == services
    after = _pids(sandbox_root)
    assert after["registry"] == before["registry"] and after["index"] != index_pid
    assert any(
        line.endswith(f"(pid {after['index']}), log {services.state_dir}/logs/index.log") for line in lines
    )
    assert http_status(f"{services.index_url}simple/") == 200


@pytest.mark.sandbox
def test_down_stops_what_it_started_and_up_restores_same_urls(
    sandbox_root: Path, services: sandbox.Services
) -> None:
    before = _pids(sandbox_root)
    sandbox.down(sandbox_root)
    for pid in before.values():
        assert isinstance(pid, int)
        assert not Path(f"/proc/{pid}/cmdline").exists() or not Path(f"/proc/{pid}/cmdline").read_bytes()
    assert http_status(f"http://{services.registry}/v2/") is None
    assert http_status(f"{services.index_url}simple/") is None
    report = sandbox.status(sandbox_root)
    assert report["up"] is False
    assert _agents(services.gnupghome) == []
    assert report["registry"]["answering"] is False  # type: ignore[index]
    assert report["index"]["running"] is False  # type: ignore[index]
    assert report["engine"]["answering"] is True  # type: ignore[index]
    assert (services.state_dir / "registry").is_dir() and (services.state_dir / "svn" / "repo").is_dir()

    again = sandbox.up(sandbox_root, name=NAME, flavours=[FLAVOUR], progress=print)
    assert again == services
    assert _pids(sandbox_root) != before
    assert http_status(f"http://{services.registry}/v2/") == 200
    assert _manifest(services.registry, "sandbox/python", FLAVOUR)["config"]
    assert sandbox.status(sandbox_root)["up"] is True


# Debian keeps Tk out of python3; so do the official slim images (their tkinter cannot load Tk).
TK = {"_tkinter", "tkinter", "turtle", "turtledemo", "idlelib"}
STDLIB_PROBE = r"""
import importlib, json, sys
windows_or_mac = {"msvcrt", "winreg", "winsound", "_winapi", "_overlapped", "nt", "_msi", "msilib",
                  "_wmi", "_scproxy", "_android_support", "_apple_support", "_ios_support", "_aix_support",
                  "_osx_support", "antigravity", "this"}
failed = []
names = sorted(set(sys.stdlib_module_names) - windows_or_mac) + ["dbm.gnu", "dbm.ndbm", "ensurepip", "venv"]
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name)
print(json.dumps(failed))
"""


@pytest.mark.sandbox
def test_the_base_image_carries_the_whole_standard_library_but_tk(services: sandbox.Services) -> None:
    result = run(["docker", "run", "--rm", "--network", "none", services.base_images[FLAVOUR],
                  "python3", "-c", STDLIB_PROBE])
    assert set(json.loads(result.stdout)) <= TK
