# SPDX-License-Identifier: Apache-2.0
"""Apache Trusted Releases (ATR), through its JSON API: the one door to ATR.

A release goes compose -> vote -> finish. Files are uploaded into a draft, each upload making a
numbered revision; ATR checks every revision; a vote starts on one revision; the vote is resolved;
announcing moves the voted files to the release area. Every call here converges: run again, it
changes nothing (a file already in the latest revision with the same bytes is not uploaded again, a
vote is not started twice, a finished release is not announced again).

Authentication: a JWT made from a personal access token (PAT) with `POST /api/jwt/create`. The PAT
comes from where a release manager keeps it (`credentials`), is shown only as `<hidden>`, and goes
only to the configured host, over https: a redirect to any other host or to plain http is refused.

Tested against ATR e354d17 (apache/tooling-trusted-releases, 2025-10-29), which the sandbox runs.
Later versions differ in places (documented by ATR, not runnable here): each difference sits behind
one function below whose docstring says what this version does and what later ones do.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from release.errors import ConfigError, RefusedError, ReleaseError, ServiceError
from release.progress import Progress, to_log
from release.urls import HIDDEN, has_credentials, hide_credentials, is_loopback_host

log = logging.getLogger("release.atr")
TESTED_VERSION = "e354d17 (2025-10-29)"
TOKEN_ENV = "RELEASE_ATR_TOKEN"  # a personal access token made at https://<ATR>/tokens
UID_ENV = "RELEASE_ATR_UID"  # the Apache id the token belongs to
KEYRING_SERVICE = "release-pipeline-atr"  # keyring entry `release-pipeline-atr:<host>`, user = Apache id
SANDBOX_UID = "test"  # ATR's test mode: the user `test`, member and release manager of `test`
SANDBOX_MAILING_LIST = "user-tests@tooling.apache.org"  # a list every ATR lets any user write to
# A release's phases: compose (a draft), vote (a candidate), finish (a preview), and finished.
DRAFT, CANDIDATE = "release_candidate_draft", "release_candidate"
PREVIEW, RELEASED = "release_preview", "release"
BLOCKING = frozenset({"failure", "exception"})
_TIMEOUT = (10.0, 120.0)
_FAIL = object()  # `_call` without a value for a missing resource: 404 is an error
_UPLOAD_TIMEOUT = (10.0, 600.0)
_MAX_REDIRECTS = 3


class Secret:
    """A token: its text only through `reveal()`; shown, logged or formatted as `<hidden>`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return HIDDEN

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Credentials:
    uid: str  # the Apache id
    token: Secret  # its personal access token


@dataclass(frozen=True)
class AtrTarget:
    """Where releases are staged: an ATR server, the project and committee on it. `ca_file` is the
    certificate to trust instead of the system's (the sandbox's own); `token_file` holds the
    sandbox's token, and is absent for a real ATR (the release manager keeps the token)."""

    url: str  # https://host[:port], no path
    project: str
    committee: str
    ca_file: Path | None = None
    token_file: Path | None = None
    uid: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


def check_url(url: str) -> str:
    """`url` as the adapter uses it (`https://host[:port]`), or a ConfigError saying why not."""
    parts = urlsplit(url)
    if has_credentials(url):
        raise ConfigError(f"ATR URL {hide_credentials(url)!r} carries credentials; give the server alone "
                          f"(the token comes from {TOKEN_ENV} or the keyring)")
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"ATR URL {url!r} is not an https:// URL; ATR is reached over https only")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"ATR URL {url!r} has a path; give the server alone, like "
                          "https://release-test.apache.org")
    return f"https://{parts.netloc}"


def keyring_service(url: str) -> str:
    return f"{KEYRING_SERVICE}:{urlsplit(url).netloc}"


def credentials(target: AtrTarget, env: Mapping[str, str] = os.environ) -> Credentials:
    """The Apache id and token to use for `target`: the sandbox's token file, else RELEASE_ATR_UID
    and RELEASE_ATR_TOKEN, else the keyring entry `release-pipeline-atr:<host>` (when the `keyring`
    package is installed). A ConfigError names every place looked at when none has it."""
    if target.token_file is not None:
        try:
            token = target.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"the sandbox's ATR token {target.token_file} cannot be read ({exc.strerror}); "
                              "run the sandbox up again") from None
        return Credentials(target.uid or SANDBOX_UID, Secret(token))
    uid = env.get(UID_ENV, "").strip() or target.uid
    token = env.get(TOKEN_ENV, "").strip()
    service = keyring_service(target.url)
    if not token:
        found = _from_keyring(service, uid)
        if found is not None:
            uid, token = found
    if uid and token:
        return Credentials(uid, Secret(token))
    missing = "an Apache id" if not uid else "a personal access token"
    keyring = ("" if importlib.util.find_spec("keyring") is not None
               else " (install the `keyring` package to use it)")
    raise ConfigError(f"no ATR credentials for {target.host}: {missing} is missing; make a token at "
                      f"{target.url}/tokens and set {UID_ENV} and {TOKEN_ENV}, or keep it in the keyring "
                      f"entry {service!r} under your Apache id{keyring}")


def _from_keyring(service: str, uid: str) -> tuple[str, str] | None:
    if importlib.util.find_spec("keyring") is None:
        return None
    keyring: Any = importlib.import_module("keyring")
    try:
        if uid:
            password = keyring.get_password(service, uid)
            return (uid, str(password)) if password else None
        found = keyring.get_credential(service, None)
    except Exception as exc:  # any backend's failure: the keyring holds nothing usable then
        log.warning("the keyring could not be read (%s: %s)", type(exc).__name__, exc)
        return None
    if found is None or not found.username or not found.password:
        return None
    return str(found.username), str(found.password)


# --- what ATR answers, typed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    version: str
    phase: str  # DRAFT, CANDIDATE (voting), PREVIEW (vote passed), RELEASED
    latest_revision: str  # "" when it has none (a finished release keeps none)
    vote_started: bool


@dataclass(frozen=True)
class Revision:
    number: str  # "00002"
    phase: str
    description: str


@dataclass(frozen=True)
class Check:
    """One result of one of ATR's checks on one file (`member`: a file inside that archive)."""

    checker: str  # e.g. atr.tasks.checks.signature.check
    status: str  # success | warning | failure | exception
    path: str
    message: str
    member: str = ""
    ignored: bool = False  # matched one of the committee's ignores in ATR

    @property
    def blocks(self) -> bool:
        return self.status in BLOCKING and not self.ignored

    def __str__(self) -> str:
        where = f"{self.path} ({self.member})" if self.member else self.path
        return f"{self.checker}: {self.status} on {where}: {self.message}"


@dataclass(frozen=True)
class CheckReport:
    revision: str
    checks: tuple[Check, ...]

    @property
    def blockers(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.blocks)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "warning" and not c.ignored)

    @property
    def ignored(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.ignored)


@dataclass(frozen=True)
class Ignore:
    """One of ATR's check ignores (patterns as ATR reads them: `*` any text, `^...`/`...$` a regular
    expression, a leading `!` negates; "" leaves a field out). Kept in ATR, per committee."""

    checker: str = ""
    path: str = ""
    member: str = ""
    status: str = ""  # failure | warning | exception
    message: str = ""
    release: str = ""  # e.g. `test-1.10.6`
    revision: str = ""  # exact


# The RAT check needs Apache RAT's jar, which no registry reachable offline serves: its result is
# expected, and marked so through ATR's own ignores. The message is this version's (e354d17).
RAT_JAR_MISSING = Ignore(checker="atr.tasks.checks.rat.check", message="Apache RAT JAR not found*")
# The ignores a plan names (release/plan/atr.py), as ATR keeps them.
IGNORES = {"rat-jar-missing": RAT_JAR_MISSING}


def ignore_named(name: str) -> Ignore:
    if name not in IGNORES:
        raise ConfigError(f"no ATR check ignore is named {name!r}; known: {', '.join(sorted(IGNORES))}")
    return IGNORES[name]


@dataclass(frozen=True)
class Upload:
    revision: str  # the latest revision after the upload
    uploaded: tuple[str, ...]
    already_there: tuple[str, ...]  # in the latest revision with the same bytes: not uploaded again


@dataclass(frozen=True)
class VoteStart:
    started: bool  # False: a vote was already running or done (no second one)
    revision: str
    phase: str
    mail_warnings: tuple[str, ...] = ()  # what ATR said when sending the vote email failed


@dataclass(frozen=True)
class Distribution:
    platform: str  # pypi | docker
    package: str
    version: str
    owner: str = ""  # the namespace, e.g. `apache` on Docker Hub


@dataclass(frozen=True)
class Recorded:
    distribution: Distribution
    recorded: bool
    warning: str = ""  # why ATR did not record it, naming it


# --- this version and later ones: each difference behind one function ---------------------------------


def release_path(kind: str, project: str, version: str, *rest: str) -> str:
    """The API path of a release's resource. This version (e354d17): by project name and version,
    `/api/<kind>/<project>/<version>[/...]`. Later versions: by project key and version key, which
    for an ASF project are the same words."""
    return "/api/" + "/".join(quote(part, safe="") for part in (*kind.split("/"), project, version, *rest))


def download_path(project: str, version: str, relpath: str) -> str:
    """A file of the latest revision, as bytes. This version: `/download/path/<project>/<version>/<path>`
    (any phase; a missing file redirects to the front page)."""
    return f"/download/path/{quote(project, safe='')}/{quote(version, safe='')}/{quote(relpath)}"


def vote_url(base: str, project: str, version: str) -> str:
    """The public page of a release's vote, for the vote email. This version: `/vote/<project>/<version>`."""
    return f"{base.rstrip('/')}/vote/{quote(project, safe='')}/{quote(version, safe='')}"


def downloads_url(base: str, committee: str, path_suffix: str) -> str:
    """Where a finished release's files are served: announcing hard-links them into the committee's
    downloads folder under the announcement's path suffix. This version: `/downloads/<committee>/<suffix>`."""
    return f"{base.rstrip('/')}/downloads/{quote(committee, safe='')}/{quote(path_suffix.strip('/'))}"


def upload_finished(status: int) -> bool | None:
    """Whether an accepted upload is in the revision now. This version answers 201 (it is); later
    versions may answer 202 while the archive is quarantined (it appears later); None: not accepted."""
    return {201: True, 200: True, 202: False}.get(status)


def resolutions() -> frozenset[str]:
    """What `vote/resolve` takes. This version: passed, failed. Later versions add cancelled."""
    return frozenset({"passed", "failed"})


def ignore_by_status() -> bool:
    """Whether `ignore/add` takes a status. This version refuses any (its model wants an enum
    instance where JSON gives a string: HTTP 400); match the message instead."""
    return False


def platform_name(platform: str) -> str:
    """ATR's name for a distribution platform (this version: the enum's name, PYPI, DOCKER_HUB)."""
    names = {"pypi": "PYPI", "docker": "DOCKER_HUB"}
    if platform not in names:
        raise ConfigError(f"ATR records distributions on {', '.join(names)}, not {platform!r}")
    return names[platform]


def refused_offline(status: int, message: str) -> bool:
    """True when recording a distribution failed because ATR could not ask the platform itself.
    This version: HTTP 500, "Failed to get API response from distribution platform"."""
    return status >= 500 and "distribution platform" in message


def rate_limited(response: requests.Response) -> str:
    """"" unless ATR refused for its rate limit. This version has none; later versions allow 5 vote
    starts and 5 announcements an hour and answer 429 (with Retry-After) past that."""
    if response.status_code != 429:
        return ""
    after = response.headers.get("Retry-After", "")
    return f"ATR's rate limit refused this (try again{f' after {after} s' if after else ' later'})"


def mint_sandbox_token(url: str, ca_file: Path, label: str) -> Credentials:
    """A personal access token of the test user of an ATR in test mode (ALLOW_TESTS), made the way a
    person makes one. This version: `GET /test-login` (a session as `test`), then the token form of
    `/tokens` (its CSRF token, and a Referer, without which it answers 400); the new token is shown
    once on the next page. Later versions (TESTS=1): `/test/login`, then `/test/pat`."""
    base = check_url(url)
    session = requests.Session()
    session.trust_env = False
    verify = str(ca_file)
    try:
        session.get(f"{base}/test-login", verify=verify, timeout=_TIMEOUT, allow_redirects=False)
        page = session.get(f"{base}/tokens", verify=verify, timeout=_TIMEOUT, allow_redirects=False)
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if page.status_code != 200 or csrf is None:
            raise ServiceError(f"ATR at {base} has no token form for its test user (HTTP "
                               f"{page.status_code}); is it running in test mode (ALLOW_TESTS=1)?")
        made = session.post(f"{base}/tokens", data={"csrf_token": csrf.group(1), "label": label},
                            headers={"Referer": f"{base}/tokens"}, verify=verify, timeout=_TIMEOUT,
                            allow_redirects=False)
        shown = session.get(f"{base}/tokens", verify=verify, timeout=_TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise ServiceError(f"ATR at {base} did not answer: {exc}") from None
    token = re.search(r"Your new token</strong> is <code[^>]*>([^<]+)</code>", shown.text)
    if made.status_code not in (200, 302) or token is None:
        raise ServiceError(f"ATR at {base} made no token for its test user (HTTP {made.status_code})")
    return Credentials(SANDBOX_UID, Secret(token.group(1).strip()))


def _ignored(check: Check, ignores: Sequence[Ignore], release_name: str, revision: str) -> bool:
    """Whether ATR shows `check` as ignored. This version applies a committee's ignores in its own
    views only (its API lists every result): successes are never ignored; each set field must match."""
    if check.status == "success":
        return False
    values = {"checker": check.checker, "path": check.path, "member": check.member or None,
              "status": check.status, "message": check.message, "release": release_name}
    for ignore in ignores:
        if ignore.revision and ignore.revision != revision:
            continue
        if all(_pattern_matches(getattr(ignore, name), value) for name, value in values.items()
               if getattr(ignore, name)):
            return True
    return False


def _pattern_matches(pattern: str, value: str | None) -> bool:
    if pattern == "!":
        return value is None
    if value is None:
        return False
    negate = pattern.startswith("!")
    pattern = pattern[1:] if negate else pattern
    if pattern.startswith("^") or pattern.endswith("$"):
        regex = re.compile(pattern)
    else:
        regex = re.compile(re.escape(pattern).replace(r"\*", ".*"))
    return (regex.search(value) is not None) != negate


_IGNORE_FIELDS = {"checker": "checker_glob", "path": "primary_rel_path_glob",
                  "member": "member_rel_path_glob", "status": "status", "message": "message_glob",
                  "release": "release_glob", "revision": "revision_number"}


# --- the client ------------------------------------------------------------------------------------------


class AtrError(ServiceError):
    """ATR answered a call with an error."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class AtrClient:
    """The calls the pipeline makes on one ATR project. `session` is the seam tests replace."""

    def __init__(self, target: AtrTarget, creds: Credentials, *, progress: Progress = to_log,
                 session: requests.Session | None = None) -> None:
        self.base = check_url(target.url)
        self.target = target
        self._creds = creds
        self._jwt: Secret | None = None
        self._progress = progress
        self._session = session or requests.Session()
        # A loopback ATR (the sandbox) is reached directly: no proxy from the environment, and no
        # CA bundle from it either (the sandbox's own certificate is the one to trust).
        self._session.trust_env = not is_loopback_host(urlsplit(self.base).hostname or "")
        self._verify: str | bool = str(target.ca_file) if target.ca_file is not None else True

    def __repr__(self) -> str:
        return f"AtrClient({self.base}, project={self.target.project}, uid={self._creds.uid}, token={HIDDEN})"

    # --- transport: https to the configured host only -----------------------------------------------------

    def _send(self, method: str, path: str, *, json: Any = None, auth: bool = True, follow: bool = True,
              timeout: tuple[float, float] = _TIMEOUT, stream: bool = False) -> requests.Response:
        url = self.base + path
        renewed = False
        for _ in range(_MAX_REDIRECTS + 2):
            headers = {"Accept": "application/json"}
            if auth:
                headers["Authorization"] = f"Bearer {self._token().reveal()}"
            try:
                response = self._session.request(method, url, json=json, headers=headers, verify=self._verify,
                                                 timeout=timeout, allow_redirects=False, stream=stream)
            except requests.RequestException as exc:
                raise ServiceError(f"ATR at {self.base} did not answer {method} {path}: "
                                   f"{type(exc).__name__}: {exc}") from None
            if response.status_code == 401 and auth and not renewed:
                self._jwt = None  # expired (ATR's last 90 minutes): make a new one, once
                renewed = True
                continue
            if not response.is_redirect:
                return response
            location = urljoin(url, response.headers.get("Location", ""))
            if not self._same_origin(location):
                raise RefusedError(f"ATR at {self.base} redirected {method} {path} to "
                                   f"{hide_credentials(location)}: refusing to follow it (the token goes to "
                                   "the configured ATR host only, over https)")
            if not follow:
                return response
            url = location
            if response.status_code in (301, 302, 303):
                method, json = "GET", None
        raise ServiceError(f"ATR at {self.base}: more than {_MAX_REDIRECTS} redirects for {method} {path}")

    def _same_origin(self, url: str) -> bool:
        parts, mine = urlsplit(url), urlsplit(self.base)
        return parts.scheme == "https" and parts.netloc == mine.netloc

    def login(self) -> None:
        """Make the JWT now (a ConfigError when ATR refuses the token), not at the first call."""
        self._jwt = self._make_jwt()

    def _token(self) -> Secret:
        if self._jwt is None:
            self._jwt = self._make_jwt()
        return self._jwt

    def _make_jwt(self) -> Secret:
        pat = {"asfuid": self._creds.uid, "pat": self._creds.token.reveal()}
        response = self._send("POST", "/api/jwt/create", json=pat, auth=False)
        if response.status_code != 200:
            detail = _error_of(response)
            raise ConfigError(f"ATR at {self.base} refused the personal access token of {self._creds.uid} "
                              f"({response.status_code}: {detail}); make a new one at {self.base}/tokens")
        return Secret(str(response.json()["jwt"]))

    def _call(self, method: str, path: str, what: str, *, json: Any = None, auth: bool = True,
              missing: Any = _FAIL) -> Any:
        """ATR's JSON answer; `missing` instead when ATR answers 404 and one is given."""
        response = self._send(method, path, json=json, auth=auth)
        if response.status_code == 404 and missing is not _FAIL:
            return missing
        if response.status_code not in (200, 201):
            raise self._error(response, what)
        return response.json()

    def _error(self, response: requests.Response, what: str) -> ReleaseError:
        limited = rate_limited(response)
        if limited:
            return RefusedError(f"ATR at {self.base}: {what}: {limited}")
        detail = _error_of(response)
        return AtrError(f"ATR at {self.base}: {what} failed ({response.status_code}: {detail})",
                        response.status_code, detail)

    # --- reading --------------------------------------------------------------------------------------------

    def release(self, version: str) -> Release | None:
        """The release `version` of the project, or None when ATR has none."""
        body = self._call("GET", release_path("release/get", self.target.project, version),
                          f"reading release {version}", auth=False, missing=None)
        if body is None:
            return None
        found = body["release"]
        return Release(str(found["version"]), str(found["phase"]),
                       str(found.get("latest_revision_number") or ""), bool(found.get("vote_started")))

    def _existing(self, version: str) -> Release:
        found = self.release(version)
        if found is None:
            raise RefusedError(f"ATR at {self.base} has no release {self.target.project} {version}; "
                               "create it first")
        return found

    def revisions(self, version: str) -> list[Revision]:
        body = self._call("GET", release_path("release/revisions", self.target.project, version),
                          f"listing the revisions of {version}", auth=False)
        return [Revision(str(r["number"]), str(r["phase"]), str(r.get("description") or ""))
                for r in body["revisions"]]

    def paths(self, version: str, revision: str = "") -> list[str]:
        """The files of `revision` (default: the latest), relative to the release's folder."""
        rest = (revision,) if revision else ()
        body = self._call("GET", release_path("release/paths", self.target.project, version, *rest),
                          f"listing the files of {version}", auth=False, missing={"rel_paths": []})
        return [str(p) for p in body["rel_paths"]]

    def sha512_of(self, version: str, relpath: str) -> str:
        """The sha512 of `relpath` in the latest revision, read from ATR."""
        digest = hashlib.sha512()
        for chunk in self._download(version, relpath):
            digest.update(chunk)
        return digest.hexdigest()

    def download(self, version: str, relpath: str, dest: Path) -> Path:
        """`relpath` of the latest revision, written to `dest`."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("wb") as out:
            for chunk in self._download(version, relpath):
                out.write(chunk)
        return dest

    def _download(self, version: str, relpath: str) -> Iterator[bytes]:
        response = self._send("GET", download_path(self.target.project, version, relpath), auth=False,
                              follow=False, stream=True, timeout=_UPLOAD_TIMEOUT)
        if response.status_code != 200:
            raise ServiceError(f"ATR at {self.base} does not serve {relpath} of {version} "
                               f"({response.status_code})")
        yield from response.iter_content(1 << 20)

    # --- compose ------------------------------------------------------------------------------------------

    def create_release(self, version: str) -> Release:
        """The release `version` in ATR, created as an empty draft when it is not there yet."""
        found = self.release(version)
        if found is not None:
            return found
        self._call("POST", "/api/release/create", f"creating release {version}",
                   json={"project": self.target.project, "version": version})
        self._progress(f"ATR: created release {self.target.project} {version}")
        return self._existing(version)

    def upload(self, version: str, files: Sequence[Path], *, timeout: float = 600.0) -> Upload:
        """Upload each file (by its name) into the draft, one revision each; a file already in the
        latest revision with the same bytes is left alone, one with other bytes is refused."""
        release = self._existing(version)
        present = set(self.paths(version))
        uploaded: list[str] = []
        same: list[str] = []
        for path in files:
            name = path.name
            if name in present:
                if self.sha512_of(version, name) != _sha512(path):
                    raise RefusedError(f"ATR already holds {name} in {self.target.project} {version} "
                                       "with other bytes; a file of a draft is not replaced through the "
                                       f"API: delete it in ATR ({self.base}) or stage a new candidate")
                same.append(name)
                continue
            if release.phase != DRAFT:
                raise RefusedError(f"{self.target.project} {version} is past its draft in ATR (phase "
                                   f"{release.phase}): {name} cannot be added any more")
            self._upload_one(version, path, timeout)
            uploaded.append(name)
        latest = self._existing(version).latest_revision
        if uploaded:
            self._progress(f"ATR: uploaded {len(uploaded)} file(s) to {self.target.project} {version}, "
                           f"revision {latest}" + (f"; {len(same)} already there" if same else ""))
        return Upload(latest, tuple(uploaded), tuple(same))

    def _upload_one(self, version: str, path: Path, timeout: float) -> None:
        content = base64.b64encode(path.read_bytes()).decode("ascii")
        response = self._send("POST", "/api/release/upload", json={
            "project": self.target.project, "version": version, "relpath": path.name, "content": content,
        }, timeout=_UPLOAD_TIMEOUT)
        finished = upload_finished(response.status_code)
        if finished is None:
            raise self._error(response, f"uploading {path.name}")
        if not finished:
            self._progress(f"ATR: {path.name} is quarantined; waiting until it is in the release")
            _wait(lambda: path.name in self.paths(version), timeout, f"{path.name} to leave quarantine")

    # --- checks -------------------------------------------------------------------------------------------

    def wait_for_checks(self, version: str, revision: str, *, timeout: float = 900.0,
                        interval: float = 2.0) -> CheckReport:
        """Wait until ATR has checked `revision`, saying how many checks still run; its results, each
        marked when one of the committee's ignores covers it."""
        path = release_path("checks/ongoing", self.target.project, version, revision)
        start = time.monotonic()
        said, said_at = -1, 0.0
        while True:
            ongoing = int(self._call("GET", path, f"counting the checks of {version} revision {revision}",
                                     auth=False)["ongoing"])
            if ongoing == 0:
                break
            elapsed = time.monotonic() - start
            if ongoing != said or elapsed - said_at >= 10:
                self._progress(f"ATR: {ongoing} check(s) of {self.target.project} {version} revision "
                               f"{revision} still running ({elapsed:.0f}s)")
                said, said_at = ongoing, elapsed
            if elapsed > timeout:
                raise ServiceError(f"ATR at {self.base}: {ongoing} check(s) of {version} revision "
                                   f"{revision} still running after {timeout:.0f}s")
            time.sleep(interval)
        body = self._call("GET", release_path("checks/list", self.target.project, version, revision),
                          f"listing the checks of {version} revision {revision}", auth=False)
        ignores = self.ignores()
        release_name = f"{self.target.project}-{version}"
        checks = []
        for item in body["checks"]:
            check = Check(str(item["checker"]), str(item["status"]), str(item.get("primary_rel_path") or ""),
                          str(item.get("message") or ""), str(item.get("member_rel_path") or ""))
            checks.append(replace(check, ignored=_ignored(check, ignores, release_name, revision)))
        checks.sort(key=lambda c: (c.path, c.member, c.checker, c.status, c.message))
        report = CheckReport(revision, tuple(checks))
        self._progress(f"ATR: checked revision {revision} in {time.monotonic() - start:.0f}s: "
                       f"{len(report.blockers)} blocking, {len(report.warnings)} warning(s), "
                       f"{len(report.ignored)} ignored")
        return report

    def ignores(self) -> list[Ignore]:
        body = self._call("GET", "/api/ignore/list/" + quote(self.target.committee, safe=""),
                          "listing the committee's ignores", auth=False)
        return [Ignore(**{name: str(item.get(field) or "") for name, field in _IGNORE_FIELDS.items()})
                for item in body["ignores"]]

    def add_ignore(self, ignore: Ignore) -> bool:
        """Keep `ignore` in ATR for the committee; False when it holds the same one already."""
        if ignore.status and not ignore_by_status():
            raise ConfigError(f"ATR {TESTED_VERSION} keeps no ignore by status; match the check's message "
                              "instead")
        if ignore in self.ignores():
            return False
        payload: dict[str, Any] = {"committee_name": self.target.committee}
        payload.update({field: getattr(ignore, name) or None for name, field in _IGNORE_FIELDS.items()})
        self._call("POST", "/api/ignore/add", "adding a check ignore", json=payload)
        shown = ", ".join(f"{f.name}={getattr(ignore, f.name)}" for f in fields(ignore)
                          if getattr(ignore, f.name))
        self._progress(f"ATR: ignoring {shown} for committee {self.target.committee}")
        return True

    # --- keys ---------------------------------------------------------------------------------------------

    def committee_keys(self) -> set[str]:
        """Fingerprints (upper case) of the committee's keys in ATR."""
        body = self._call("GET", "/api/committee/keys/" + quote(self.target.committee, safe=""),
                          "listing the committee's keys", auth=False)
        return {str(key["fingerprint"]).upper() for key in body["keys"]}

    def upload_keys(self, keys_text: str, fingerprints: Iterable[str]) -> bool:
        """Make the keys of a KEYS file the committee's in ATR; False when it has all of
        `fingerprints` already."""
        wanted = {f.upper() for f in fingerprints}
        if wanted and wanted <= self.committee_keys():
            return False
        body = self._call("POST", "/api/keys/upload", "uploading KEYS",
                          json={"filetext": keys_text, "committee": self.target.committee})
        errors = [r for r in body.get("results", []) if r.get("status") == "error"]
        missing = wanted - self.committee_keys()
        if missing:
            detail = "; ".join(str(r.get("error")) for r in errors) or "no error given"
            raise ServiceError(f"ATR at {self.base} did not take the key(s) {', '.join(sorted(missing))} for "
                               f"committee {self.target.committee}: {detail}")
        self._progress(f"ATR: KEYS uploaded for committee {self.target.committee}")
        return True

    # --- vote and finish ------------------------------------------------------------------------------------

    def start_vote(self, version: str, revision: str, *, email_to: str, subject: str, body: str,
                   hours: int = 72) -> VoteStart:
        """Start the vote on `revision` (it must be the latest); no second start when one is running
        or done."""
        release = self._existing(version)
        if release.phase != DRAFT:
            self._progress(f"ATR: the vote on {self.target.project} {version} is already {release.phase}")
            return VoteStart(False, release.latest_revision, release.phase)
        if release.latest_revision != revision:
            raise RefusedError(f"{self.target.project} {version} is at revision {release.latest_revision} in "
                               f"ATR, not {revision}: a vote starts on the latest revision only")
        answer = self._call("POST", "/api/vote/start", f"starting the vote on {version} revision {revision}",
                            json={"project": self.target.project, "version": version, "revision": revision,
                                  "email_to": email_to, "vote_duration": hours, "subject": subject,
                                  "body": body})
        self._progress(f"ATR: vote started on {self.target.project} {version} revision {revision} "
                       f"({email_to})")
        warnings = self._vote_mail(int(answer["task"]["id"]))
        for warning in warnings:
            self._progress(f"warning: ATR could not send the vote email: {warning}")
        return VoteStart(True, revision, self._existing(version).phase, warnings)

    def _vote_mail(self, task: int, timeout: float = 300.0) -> tuple[str, ...]:
        """Wait until ATR has sent the vote email (its resolution needs that done); what went wrong."""
        found: dict[str, Any] = {}

        def done() -> bool:
            listed = self._call("GET", "/api/tasks/list?limit=100", "reading ATR's tasks", auth=False)["data"]
            found.update(next((t for t in listed if t.get("id") == task), {}))
            return found.get("status") in ("completed", "failed")

        _wait(done, timeout, f"ATR's task {task} to send the vote email")
        if found.get("status") == "failed":
            return (str(found.get("error") or "the task failed"),)
        result = found.get("result") or {}
        return tuple(str(w) for w in result.get("mail_send_warnings") or ())

    def resolve_vote(self, version: str, resolution: str) -> bool:
        """Record the vote's result (`passed` or `failed`); False when it is recorded already."""
        if resolution not in resolutions():
            choices = " or ".join(sorted(resolutions()))
            raise ConfigError(f"a vote is resolved as {choices}, not {resolution!r}")
        release = self._existing(version)
        done = {"passed": (PREVIEW, RELEASED), "failed": (DRAFT,)}[resolution]
        if release.phase in done and (resolution == "passed" or release.vote_started):
            return False
        if release.phase != CANDIDATE:
            raise RefusedError(f"{self.target.project} {version} is in phase {release.phase} in ATR: no vote "
                               f"to resolve as {resolution}")
        self._call("POST", "/api/vote/resolve", f"resolving the vote on {version}",
                   json={"project": self.target.project, "version": version, "resolution": resolution})
        self._progress(f"ATR: vote on {self.target.project} {version} resolved: {resolution}")
        return True

    def announce(self, version: str, *, email_to: str, subject: str, body: str, path_suffix: str) -> bool:
        """Finish the release: ATR moves the voted files to its release area and sends the
        announcement. False when it is finished already."""
        release = self._existing(version)
        if release.phase == RELEASED:
            return False
        if release.phase != PREVIEW:
            raise RefusedError(f"{self.target.project} {version} is in phase {release.phase} in ATR; its "
                               "vote must be resolved as passed before it is announced")
        self._call("POST", "/api/release/announce", f"announcing {version}", json={
            "project": self.target.project, "version": version, "revision": release.latest_revision,
            "email_to": email_to, "subject": subject, "body": body, "path_suffix": path_suffix,
        })
        self._progress(f"ATR: {self.target.project} {version} finished and announced ({email_to})")
        return True

    def record_distribution(self, version: str, distribution: Distribution, *,
                            staging: bool = False) -> Recorded:
        """Tell ATR where the release is distributed; ATR asks the platform itself, and when it cannot
        (offline) the refusal is a warning that names the distribution, not an error."""
        payload = {"project": self.target.project, "version": version,
                   "platform": platform_name(distribution.platform),
                   "distribution_owner_namespace": distribution.owner or None,
                   "distribution_package": distribution.package, "distribution_version": distribution.version,
                   "staging": staging, "details": False}
        response = self._send("POST", "/api/distribution/record", json=payload)
        if response.status_code in (200, 201):
            self._progress(f"ATR: recorded {distribution.package} {distribution.version} on "
                           f"{distribution.platform}")
            return Recorded(distribution, True)
        detail = _error_of(response)
        if refused_offline(response.status_code, detail):
            owner = f"{distribution.owner}/" if distribution.owner else ""
            warning = (f"ATR did not record {owner}{distribution.package} {distribution.version} on "
                       f"{distribution.platform}: {detail} (ATR checks the platform itself)")
            self._progress(f"warning: {warning}")
            return Recorded(distribution, False, warning)
        raise self._error(response, f"recording {distribution.package} {distribution.version} on "
                                    f"{distribution.platform}")


def answers(target: AtrTarget) -> bool:
    """True when ATR answers for the project (the sandbox's readiness: its test project is seeded)."""
    url = check_url(target.url) + "/api/project/get/" + quote(target.project, safe="")
    verify: str | bool = str(target.ca_file) if target.ca_file is not None else True
    session = requests.Session()
    session.trust_env = False
    try:
        response = session.get(url, verify=verify, timeout=(3.0, 10.0), allow_redirects=False)
    except requests.RequestException:
        return False
    return response.status_code == 200


def _error_of(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason
    if isinstance(body, Mapping) and "error" in body:
        details = body.get("validation_details") or []
        fields_ = "; ".join(f"{'.'.join(map(str, d.get('loc', ())))}: {d.get('msg', '')}" for d in details
                            if isinstance(d, Mapping))
        return f"{body['error']}: {fields_}" if fields_ else str(body["error"])
    return str(body)[:200]


def _sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise ServiceError(f"ATR: waited {timeout:.0f}s for {what}")
        time.sleep(1.0)
