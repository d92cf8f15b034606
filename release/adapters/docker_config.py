# SPDX-License-Identifier: Apache-2.0
"""Registry credentials where `docker login` keeps them: docker's config.json (`$DOCKER_CONFIG`,
else `~/.docker`), as the docker CLI reads it.

- `credHelpers` names a credential helper for one registry, `credsStore` one for every registry;
  either is run as `docker-credential-NAME get` (the server's name on its standard input, a JSON
  answer on its output), through the one command runner.
- Otherwise `auths` holds them, base64 `user:password`, under the name `docker login` wrote: a
  registry's host (`ghcr.io`), maybe as a URL (`https://ghcr.io`), and Docker Hub's under
  `https://index.docker.io/v1/`, whichever of its names (`docker.io`, `index.docker.io`,
  `registry-1.docker.io`) the configuration uses.

Nothing here logs or shows a credential: RegistryAuth's repr hides the password, and a helper's
output is never quoted in an error.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.adapters.cmd import run
from release.errors import ServiceError

DOCKER_HUB = "registry-1.docker.io"  # where Docker Hub's registry API answers
DOCKER_HUB_NAMES = frozenset({"docker.io", "index.docker.io", DOCKER_HUB})
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"  # the name docker login stores Docker Hub's credentials by
IDENTITY_TOKEN_USER = "<token>"  # a helper's user name for an identity (refresh) token
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NOT_FOUND = "credentials not found"  # what every helper of docker-credential-helpers says


@dataclass(frozen=True)
class RegistryAuth:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"RegistryAuth(username={self.username!r}, password=<hidden>)"

    @property
    def identity_token(self) -> bool:
        """A credential helper's identity token (an OAuth2 refresh token), not a password."""
        return self.username == IDENTITY_TOKEN_USER


def api_host(registry: str) -> str:
    """The host[:port] that serves `registry`'s HTTP API: Docker Hub's under any of its names is
    registry-1.docker.io (docker.io/v2 is a web site, not the API)."""
    return DOCKER_HUB if registry.lower() in DOCKER_HUB_NAMES else registry


def server_name(registry: str) -> str:
    """The name docker stores `registry`'s credentials under (and hands a credential helper)."""
    return DOCKER_HUB_SERVER if registry.lower() in DOCKER_HUB_NAMES else registry


def _hostname(key: str) -> str:
    """An `auths` key as docker compares it: without its scheme and path (`https://ghcr.io/v2/` ->
    `ghcr.io`)."""
    rest = key.split("://", 1)[1] if "://" in key else key
    return rest.split("/", 1)[0].lower()


def config_path(config_dir: Path | None = None) -> Path:
    directory = config_dir or Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))
    return directory / "config.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: bad JSON and bad UTF-8 alike
        return {}
    return data if isinstance(data, dict) else {}


def credentials_for(registry: str, config_dir: Path | None = None) -> RegistryAuth | None:
    """The credentials docker would use for `registry` (`host[:port]`, or a Docker Hub name), or None.

    A credential helper named in config.json is run; one that is not installed, fails, or answers
    something other than credentials is a one-line error (ToolMissingError or ServiceError)."""
    data = _read(config_path(config_dir))
    names = DOCKER_HUB_NAMES | {DOCKER_HUB_SERVER} if registry.lower() in DOCKER_HUB_NAMES else {registry}
    helpers = data.get("credHelpers")
    helper = next((helpers[n] for n in sorted(names) if isinstance(helpers, dict) and n in helpers), None)
    if helper is None:
        helper = data.get("credsStore")
    if helper:
        return _from_helper(str(helper), server_name(registry))
    return _from_auths(data.get("auths"), server_name(registry), {_hostname(n) for n in names})


def _from_auths(auths: object, server: str, hostnames: set[str]) -> RegistryAuth | None:
    """The entry stored under `server` exactly, else the first whose key names one of `hostnames`."""
    if not isinstance(auths, dict):
        return None
    keys = [server] if server in auths else []
    keys += sorted(str(k) for k in auths if k != server and _hostname(str(k)) in hostnames)
    for key in keys:
        entry = auths[key]
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
            return RegistryAuth(IDENTITY_TOKEN_USER, entry["identitytoken"])
        if not isinstance(entry.get("auth"), str):
            continue
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError:  # binascii.Error and UnicodeDecodeError: a damaged entry
            continue
        return RegistryAuth(user, password)
    return None


def _from_helper(name: str, server: str) -> RegistryAuth | None:
    program = f"docker-credential-{name}"
    if not _HELPER_NAME.fullmatch(name):
        raise ServiceError(f"docker's config.json names the credential helper {name[:60]!r}, which is not a "
                           "program name; fix credsStore/credHelpers")
    result = run([program, "get"], input_text=server, check=False,
                 hint=f"docker's config.json names it for {server} in credsStore/credHelpers")
    if result.returncode != 0:
        said = (result.stdout.strip() or result.stderr.strip()).splitlines()
        if said and _NOT_FOUND in said[0].lower():
            return None
        # a failing helper prints its error; its first line is shown, never more (no credential there)
        reason = said[0][:160] if said and not said[0].lstrip().startswith("{") else "no message"
        raise ServiceError(f"{program} get {server} failed (exit {result.returncode}): {reason}")
    try:
        answer = json.loads(result.stdout)
    except ValueError:
        raise ServiceError(f"{program} get {server} did not answer JSON") from None
    username = answer.get("Username") if isinstance(answer, dict) else None
    secret = answer.get("Secret") if isinstance(answer, dict) else None
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        raise ServiceError(f"{program} get {server} answered without a Username and a Secret")
    return RegistryAuth(username, secret)
