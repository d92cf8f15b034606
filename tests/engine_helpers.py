# SPDX-License-Identifier: Apache-2.0
"""A throwaway registry and the engine checks shared by the engine and image tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from release.adapters.engine import Engine
from release.adapters.net import free_port

BASE = "sandbox/python:3.11"


@dataclass
class ThrowawayRegistry:
    address: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)



def start_registry(directory: Path) -> ThrowawayRegistry:
    """A distribution registry on a free 127.0.0.1 port with filesystem storage in `directory`."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {directory / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    log = (directory / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://{address}/v2/", timeout=1).status_code == 200:
                return ThrowawayRegistry(address, process)
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the throwaway registry did not answer on {address}")


def require_engine_and_base(base: str = BASE) -> Engine:
    engine = Engine()
    try:
        engine.client.ping()
    except Exception as exc:  # any failure means: no engine here
        pytest.skip(f"no Docker Engine: {exc}")
    if engine.inspect(base) is None:
        pytest.skip(f"base image {base} is missing; `invoke sandbox.up` builds it")
    return engine


def untag_all(address: str) -> None:
    """Drop the local tags that name the throwaway registry (the images stay as build cache)."""
    engine = Engine()
    for image in engine.client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{address}/"):
                engine.remove(tag)
