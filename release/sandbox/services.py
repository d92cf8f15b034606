# SPDX-License-Identifier: Apache-2.0
"""The two long-lived HTTP services: a Docker registry and a Python package index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.adapters import net, process
from release.progress import Progress
from release.sandbox.state import Layout, start_and_wait
from release.sandbox.tools import ensure_program, pypiserver_argv

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Service:
    """How to start one service, how to tell it is ours, and how to tell it answers."""

    name: str
    marker: Callable[[Layout], str]
    probe_path: str
    argv: Callable[[Layout, int, Progress], list[str]]

    def probe_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}{self.probe_path}"

    def answers(self, port: int | None) -> bool:
        return port is not None and net.http_status(self.probe_url(port)) == 200


def _registry_argv(layout: Layout, port: int, progress: Progress) -> list[str]:
    binary = ensure_program("docker-registry", "docker-registry", progress)
    layout.registry_dir.mkdir(parents=True, exist_ok=True)
    layout.registry_config.write_text(registry_config(layout.registry_dir, port), encoding="utf-8")
    return [binary, "serve", str(layout.registry_config)]


def registry_config(storage: Path, port: int) -> str:
    return (
        "version: 0.1\n"
        "log:\n"
        "  level: info\n"
        "storage:\n"
        "  filesystem:\n"
        f"    rootdirectory: {storage}\n"
        "  delete:\n"
        "    enabled: true\n"
        "http:\n"
        f"  addr: 127.0.0.1:{port}\n"
    )


def _index_argv(layout: Layout, port: int, progress: Progress) -> list[str]:
    layout.index_dir.mkdir(parents=True, exist_ok=True)
    return [
        *pypiserver_argv(progress),
        "run",
        "-p",
        str(port),
        "-i",
        "127.0.0.1",
        "-a",
        ".",
        "-P",
        ".",
        "--disable-fallback",
        str(layout.index_dir),
    ]


REGISTRY = Service(
    name="registry",
    marker=lambda layout: str(layout.registry_config),
    probe_path="/v2/",
    argv=_registry_argv,
)

INDEX = Service(
    name="index",
    marker=lambda layout: str(layout.index_dir),
    probe_path="/simple/",
    argv=_index_argv,
)


def ensure(service: Service, layout: Layout, previous: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Reuse the running service, or (re)start it on its recorded port when that port is free."""
    marker = service.marker(layout)
    pid = previous.get("pid")
    port = previous.get("port")
    if isinstance(pid, int) and isinstance(port, int) and process.matches(pid, marker):
        if process.wait_until(lambda: service.answers(port), timeout=5.0, while_alive=pid):
            progress(f"{service.name}: already running on 127.0.0.1:{port} (pid {pid})")
            return {"pid": pid, "port": port}
        progress(f"{service.name}: pid {pid} does not answer; restarting it")
        process.stop(pid, marker)
    if not isinstance(port, int) or not net.port_is_free(port):
        if isinstance(port, int):
            progress(f"{service.name}: port {port} is taken by something else; choosing a new port")
        port = net.free_port()
    argv = service.argv(layout, port, progress)
    log_file = layout.log(service.name)
    new_pid = start_and_wait(
        argv, log_file=log_file, marker=marker, answers=lambda: service.answers(port),
        timeout=START_TIMEOUT, cwd=layout.state_dir,
        what=f"{service.name} did not answer {service.probe_url(port)}",
    )
    progress(f"{service.name}: started on 127.0.0.1:{port} (pid {new_pid}), log {log_file}")
    return {"pid": new_pid, "port": port}


def stop(service: Service, layout: Layout, record: dict[str, Any]) -> bool:
    pid = record.get("pid")
    return isinstance(pid, int) and process.stop(pid, service.marker(layout))


def service_status(service: Service, layout: Layout, record: dict[str, Any]) -> dict[str, Any]:
    pid = record.get("pid")
    port = record.get("port")
    return {
        "pid": pid,
        "port": port,
        "running": isinstance(pid, int) and process.matches(pid, service.marker(layout)),
        "answering": isinstance(port, int) and service.answers(port),
        "log": str(layout.log(service.name)),
    }
