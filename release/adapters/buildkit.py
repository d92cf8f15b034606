# SPDX-License-Identifier: Apache-2.0
"""BuildKit builds for the engine adapter (release/adapters/engine.py, the one door to the engine:
nothing else imports this module).

The docker SDK cannot drive BuildKit; a docker client that can is found by trying it: every
`docker` on PATH, in PATH order, builds a one-file probe with `DOCKER_BUILDKIT=1` into a local
directory (no image is made). Debian's docker 20.10 client can; a docker 28 client without the
buildx plugin cannot. RELEASE_PIPELINE_BUILDER=classic chooses the classic builder, =buildkit
refuses to fall back to it. The engine's BuildKit needs no `# syntax=` line (that image would come
from Docker Hub): its built-in Dockerfile frontend knows `RUN --mount`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from release.adapters.builds import BuildFailed, BuildLine, BuildOutcome, follow_plain
from release.errors import ServiceError

log = logging.getLogger("release.engine")

BUILDER_ENV = "RELEASE_PIPELINE_BUILDER"  # classic | buildkit | unset: BuildKit when a client can
PROBE_TIMEOUT = 120
_VERSION = re.compile(r"version (?P<version>[0-9][^\s,+~-]*)", re.I)


@dataclass(frozen=True)
class Builder:
    """The builder the engine's builds use. `client`: the docker client that drives BuildKit."""

    kind: str  # buildkit | classic
    client: str = ""
    version: str = ""
    why: str = ""  # why the classic builder

    @property
    def buildkit(self) -> bool:
        return self.kind == "buildkit"

    def __str__(self) -> str:
        """`BuildKit (docker 20.10.24)`, `classic (no BuildKit client: ...)`."""
        return f"BuildKit (docker {self.version})" if self.buildkit else f"classic ({self.why})"


def clients(path: str) -> list[str]:
    """Every executable `docker` on `path` (a PATH value), in order, each file once."""
    found: dict[str, str] = {}
    for folder in path.split(os.pathsep):
        candidate = Path(folder or ".") / "docker"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.setdefault(str(candidate.resolve()), str(candidate))
    return list(found.values())


def _probe_context() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("Dockerfile", b"FROM scratch\nCOPY probe /probe\n"), ("probe", b"BuildKit\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "DOCKER_BUILDKIT": "1", "BUILDKIT_PROGRESS": "plain", **(extra or {})}


def try_client(client: str) -> tuple[str, str]:
    """(version, "") when `client` builds with BuildKit on this engine, else ("", why not)."""
    try:
        said = subprocess.run([client, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "", f"{client}: {exc}"
    match = _VERSION.search(said.stdout)
    version = match["version"] if match else "unknown version"
    with tempfile.TemporaryDirectory(prefix="buildkit-probe-") as out:
        argv = [client, "build", "--progress=plain", "--output", f"type=local,dest={out}", "-"]
        try:
            done = subprocess.run(argv, input=_probe_context(), capture_output=True, timeout=PROBE_TIMEOUT,
                                  env=_environment(), check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return "", f"{client} ({version}): {exc}"
        if done.returncode == 0 and (Path(out) / "probe").read_bytes() == b"BuildKit\n":
            return version, ""
        lines = [line.strip() for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        reason = next((line for line in lines if not line.startswith("#")), lines[-1] if lines else "")
        return "", f"{client} ({version}): {reason[:160] or f'exit {done.returncode}'}"


def find_builder(environ: Mapping[str, str]) -> Builder:
    """The builder to use: BuildKit through the first docker client that can, else the classic one."""
    wanted = environ.get(BUILDER_ENV, "")
    if wanted == "classic":
        return Builder("classic", why=f"{BUILDER_ENV}=classic")
    tried = []
    for client in clients(environ.get("PATH", os.defpath)):
        version, problem = try_client(client)
        if not problem:
            return Builder("buildkit", client, version)
        tried.append(problem)
    why = "no BuildKit client: " + ("; ".join(tried) if tried else "no docker client on PATH")
    if wanted == "buildkit":
        raise ServiceError(f"{BUILDER_ENV}=buildkit, but {why}")
    return Builder("classic", why=why)


def build(
    builder: Builder, context_tar: bytes, *, tag: str, buildargs: Mapping[str, str], dockerfile: str,
    network_mode: str | None, nocache: bool, target: str | None, cache_from: Sequence[str],
    on_line: Callable[[BuildLine], None], platform: str | None, inline_cache: bool = False,
) -> BuildOutcome:
    """One `docker build` with BuildKit, the context on stdin, its plain progress followed line by
    line; the image id from `--iidfile`. `inline_cache` puts BuildKit's cache metadata into the
    image, so another engine can take cache hits from it (`cache_from`)."""
    with tempfile.TemporaryDirectory(prefix="buildkit-") as work:
        iidfile = Path(work) / "image-id"
        argv = [builder.client, "build", "--progress=plain", "--file", dockerfile, "--iidfile", str(iidfile),
                "--tag", tag]
        for key, value in sorted(buildargs.items()):
            argv += ["--build-arg", f"{key}={value}"]
        if inline_cache:
            argv += ["--build-arg", "BUILDKIT_INLINE_CACHE=1"]
        for ref in cache_from:
            argv += ["--cache-from", ref]
        for flag, given in (("--target", target), ("--platform", platform), ("--network", network_mode)):
            if given:
                argv += [flag, given]
        if nocache:
            argv.append("--no-cache")
        argv.append("-")
        log.debug("+ DOCKER_BUILDKIT=1 %s", " ".join(argv))
        try:
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, env=_environment())
        except OSError as exc:
            raise ServiceError(f"building {tag}: cannot run {builder.client}: {exc}") from None
        assert process.stdin is not None and process.stdout is not None

        def feed() -> None:
            try:
                process.stdin.write(context_tar)  # type: ignore[union-attr]
                process.stdin.close()  # type: ignore[union-attr]
            except OSError:  # the client stopped early: its output says why
                pass

        feeder = threading.Thread(target=feed, name="buildkit-context", daemon=True)
        feeder.start()
        try:
            lines = (raw.decode("utf-8", errors="replace") for raw in process.stdout)
            outcome = follow_plain(lines, tag, on_line, exit_code=process.wait)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            feeder.join()
            process.stdout.close()
        image_id = iidfile.read_text(encoding="utf-8").strip() if iidfile.is_file() else ""
    if not image_id:
        raise BuildFailed(f"building {tag}: the docker client reported no image", step=None, instruction=None,
                          tail=())
    return replace(outcome, image_id=image_id)
