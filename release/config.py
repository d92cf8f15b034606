# SPDX-License-Identifier: Apache-2.0
"""`[tool.release]` in the target's pyproject.toml, read once into a frozen object."""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from release import platforms as known_platforms
from release.changelog import AUTO, FORMATS
from release.errors import ConfigError
from release.roster import addresses_of
from release.trains import Train, default_train, parse_trains
from release.urls import has_credentials, hide_credentials, is_plain, plain_allowed, registry_host

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the images carry Python 3.9
    import tomli as tomllib

SANDBOX = "sandbox"
# How a release is approved: `asf`, a PMC vote on a staged candidate (the [VOTE] email, the PMC's checks of
# LICENSE, NOTICE, headers and binaries); `none`, the release manager's own say. Configs written before the
# key existed meant `asf`: it stays the default.
ASF, NO_VOTE = "asf", "none"
VOTE_POLICIES = (ASF, NO_VOTE)
DEFAULT_BASE_IMAGE = "python:{python}-slim-bookworm"
_FLAVOUR = re.compile(r"^3\.[0-9]{1,2}$")
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_IMAGE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
_BUILD_ARG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A variant's name prefixes its tags (`slim-3.3.2-python3.11`): lowercase letters and digits, never
# one of the tag words it would be confused with (release/plan/tags.py parses it back).
VARIANT_NAME = re.compile(r"^[a-z][a-z0-9]*$")
RESERVED_VARIANT_NAMES = frozenset({"latest", "master", "python", "default", "withdrawn"})
_REGISTRY = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# An e-mail address as it goes into a To: header: RFC 5322's dot-atom local part, a host name.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(\.{_ATOM})*@{_LABEL}(\.{_LABEL})*")
# A key gpg cannot mistake for another: a fingerprint (v4: 40 hex digits, v5: 64), a long key id (16),
# or an e-mail address (`<rm@apache.org>` matches that address exactly). A user id's words or a short
# key id (8 hex digits, forgeable) could name someone else's key.
# A GitHub environment's name, and a branch name that goes into a workflow's `if:` as a literal.
_ENVIRONMENT = re.compile(r"[A-Za-z0-9._-]{1,255}")
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")
_KEY_ID = re.compile(r"(0x)?([0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})")
SYSTEM_UIDS = 1000  # below: the base image's system accounts (daemon is 1); useradd refuses them
NOBODY = 65534
# What each URL key may be: the schemes it accepts. Plain http:// and svn:// only for a loopback
# host, or a host listed in `allow-http`; a URL never carries credentials (they would be shown
# and recorded): twine, svn and docker read them from their own configuration.
_URL_SCHEMES: dict[str, tuple[str, ...]] = {
    "index": ("https", "http"),
    "svn-dev": ("https", "http", "svn", "svn+ssh", "file"),
    "svn-release": ("https", "http", "svn", "svn+ssh", "file"),
    "keys-url": ("https", "http", "svn", "svn+ssh", "file"),
}
_PATHS = ("dockerfile", "changelog", "constraints", "entrypoint")  # files of the target's repository
STAGING = ("svn", "atr")  # where a candidate is staged for its vote: svn dev/, or Apache Trusted Releases
ATR_SANDBOX_NAME = "test"  # the one committee and project the sandbox's ATR seeds (its test mode)
_ATR_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# The build args the pipeline sets itself (release/plan/images.py: `build_args` and `plan_image`);
# `build-args` may not override them. A unit test checks this set against what the plan produces.
RESERVED_BUILD_ARGS = frozenset({
    "PYTHON_BASE_IMAGE", "BASE_IMAGE_DIGEST", "APP_UID", "EXTRAS",
    "IMAGE_TITLE", "IMAGE_VERSION", "IMAGE_SOURCE", "IMAGE_LICENSES", "IMAGE_VENDOR",
    "IMAGE_REVISION", "IMAGE_CREATED", "IMAGE_SBOM",
    "WHEEL_SHA256", "INSTALL_FROM", "PACKAGE", "CONSTRAINTS", "PIP_INDEX_URL", "INPUT_HASH",
    "ENTRYPOINT_SCRIPT", "DEFAULT_COMMAND", "EXPOSE_PORTS", "VENV_OWNER",
})
# Build args the pipeline always sets, with a default that `build-args` may override.
DEFAULT_BUILD_ARGS: Mapping[str, str] = MappingProxyType({"INSTALLER": "uv"})
INSTALLERS = ("uv", "pip")  # what the Dockerfile's build stages install with


@dataclass(frozen=True)
class SmokeCommand:
    """A command the smoke test runs in a fresh container: exit 0, and `expect` in its output."""

    command: tuple[str, ...]
    expect: str = ""  # "{version}" stands for the version being released
    timeout: int = 120


@dataclass(frozen=True)
class HealthCheck:
    """A server the smoke test starts in the image; `url` must answer 200 within `timeout` seconds."""

    command: tuple[str, ...]
    url: str
    timeout: int = 120
    expect: str = ""


@dataclass(frozen=True)
class Variant:
    """Another image of every release and flavour, e.g. `slim`: its tags carry its name as a prefix,
    and it has its own values for some keys (the rest are the default image's; its build args are
    added to the default image's)."""

    name: str
    extras: tuple[str, ...] | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    app_command: tuple[str, ...] | None = None
    smoke_commands: tuple[SmokeCommand, ...] | None = None
    health_check: HealthCheck | None = None
    no_health_check: bool = False  # `health-check = {}`: this variant has none


@dataclass(frozen=True)
class Distribution:
    """One distribution of the release, built from `path` (relative to the repository root).

    `version_from` names the file (relative to the root) that declares the distribution's own
    version, like Airflow's task SDK; "" means it carries the release's version.
    """

    name: str
    path: str = "."
    version_from: str = ""

    @property
    def own_version(self) -> bool:
        return bool(self.version_from)


@dataclass(frozen=True)
class ReleaseConfig:
    """What to release and where to. Values `sandbox` mean the embedded local sandbox."""

    root: Path
    name: str
    project: str
    image: str
    python: tuple[str, ...]
    default_python: str
    base_image: str = DEFAULT_BASE_IMAGE
    registry: str = SANDBOX
    index: str = SANDBOX
    svn_dev: str = SANDBOX
    svn_release: str = SANDBOX
    signing_key: str = SANDBOX
    keys_url: str = ""
    mailing_list: str = ""  # "" : not set; the emails say so instead of going to a made-up address
    install: str = "wheel"
    constraints: str = ""
    extras: tuple[str, ...] = ()
    app_command: tuple[str, ...] = ()
    default_command: tuple[str, ...] = ()  # what `docker run IMAGE` runs; (): a shell
    expose: tuple[str, ...] = ()  # the image's EXPOSEd ports, `8001` or `8001/udp`
    writable_venv: bool = False  # the image's user may install into /opt/venv (plugins at run time)
    uid: int = 50000
    dockerfile: str = ""  # the project's own Dockerfile; "": the one release-pipeline ships (release/image/)
    changelog: str | None = None  # None: looked for (CHANGELOG.md, CHANGES.rst, ...); "": none kept
    changelog_format: str = AUTO  # one of release.changelog.FORMATS
    allow_http: tuple[str, ...] = ()
    build_args: tuple[tuple[str, str], ...] = ()
    smoke_commands: tuple[SmokeCommand, ...] = ()
    health_check: HealthCheck | None = None
    entrypoint: str = ""  # a script in the target, run by the init as the image's entrypoint
    variants: tuple[Variant, ...] = ()
    variant: str = ""  # the variant this config describes: "" is the default image
    platforms: tuple[str, ...] = ()  # as configured; () = the host's platform only
    host_platform: str = known_platforms.DEFAULT  # the machine's own, filled in by load_config

    @property
    def image_platforms(self) -> tuple[str, ...]:
        """The platforms every image is built for: the configured ones, else the host's."""
        return self.platforms or (self.host_platform,)

    @property
    def multi_platform(self) -> bool:
        """Several platforms: each tag is then an image index over one image per platform."""
        return len(self.image_platforms) > 1

    distributions: tuple[Distribution, ...] = ()  # empty: the one distribution `name`, at the root
    binding_voters: tuple[str, ...] = ()  # the PMC: addresses or Apache ids whose votes are binding
    binding_voters_file: str = ""  # a file with one binding voter a line (the PMC roster)
    license_excludes: tuple[str, ...] = ()  # glob patterns, like Apache RAT's exclude list
    announce_list: str = ""  # where the [ANNOUNCE] email goes; default: mailing-list
    vote: str = ASF  # one of VOTE_POLICIES
    source_checks: bool | None = None  # the PMC's checks of the source release; None: when vote = asf
    staging: str = "svn"  # svn | atr
    atr: str = ""  # `sandbox` or the https URL of an ATR server
    atr_project: str = ""  # the project's name in ATR (filled in: `test` for the sandbox)
    atr_committee: str = ""  # the committee's name in ATR (filled in: the project's, `test` for the sandbox)
    trains: tuple[Train, ...] = ()  # [tool.release.trains.NAME]: more trains than the release's own
    ci_environment: str = "release"  # the GitHub environment the CI jobs that hold secrets run in
    release_branch: str = "main"  # releases run in CI only from tags and this branch

    def __post_init__(self) -> None:
        if not self.distributions:
            object.__setattr__(self, "distributions", (Distribution(self.name),))

    @property
    def main(self) -> Distribution:
        """The release's own distribution (`name`): it carries the release's version."""
        return next((d for d in self.distributions if d.name == self.name), self.distributions[0])

    @property
    def votes(self) -> bool:
        """Releases are approved by an ASF vote: candidates are staged and voted on."""
        return self.vote == ASF

    @property
    def checks_sources(self) -> bool:
        """Whether candidates pass the PMC's checks (LICENSE, NOTICE, headers, binaries, wheels made of
        their sdist's files): always with an ASF vote, otherwise only when `source-checks` asks."""
        return self.votes or bool(self.source_checks)

    @property
    def announce_to(self) -> str:
        """Where the [ANNOUNCE] email goes: `announce-list`, else `mailing-list`; "" when neither is set."""
        return self.announce_list or self.mailing_list

    @property
    def uses_atr(self) -> bool:
        """Candidates are staged, voted on and finished in ATR (not svn)."""
        return self.staging == "atr"

    def stages_in_atr(self, train: Train) -> bool:
        """A train's waves are staged, voted on and finished in ATR: its own `staging`, else the
        project's."""
        return (train.staging or self.staging) == "atr"

    @property
    def reaches_atr(self) -> bool:
        """Some command of the project talks to ATR: the release's staging or a train's is `atr`."""
        return self.uses_atr or any(t.staging == "atr" for t in self.trains)

    @property
    def atr_in_sandbox(self) -> bool:
        return self.reaches_atr and self.atr == SANDBOX

    @property
    def all_trains(self) -> tuple[Train, ...]:
        """Every train: the release's own (its `distributions`, named after `name`, as without
        trains), unless a configured train releases `name` itself, then the configured ones."""
        if any(_canonical(d.name) == _canonical(self.name) for t in self.trains for d in t.distributions):
            return self.trains
        listed = tuple((d.name, d.path, d.version_from) for d in self.distributions)
        # without `changelog` the build looks for one (release/notes.py); the train names the usual one
        changelog = self.changelog if self.changelog is not None else "CHANGELOG.md"
        return (default_train(self.name, listed, changelog), *self.trains)

    def train(self, name: str) -> Train:
        """The train `name`, or one ConfigError naming the trains there are."""
        found = next((t for t in self.all_trains if t.name == name), None)
        if found is None:
            known = ", ".join(t.name for t in self.all_trains)
            raise ConfigError(f"no train {name!r} in [tool.release] trains (there are: {known})")
        return found

    @property
    def uses_sandbox(self) -> bool:
        return self.atr_in_sandbox or SANDBOX in {self.registry, self.index, self.svn_dev, self.svn_release,
                                                  self.signing_key}

    def base_image_for(self, python: str, *, registry: str = "") -> str:
        return self.base_image.format(python=python, registry=registry)

    @property
    def variant_names(self) -> tuple[str, ...]:
        """Every image of a flavour: the default ("") first, then the declared variants."""
        return ("", *(v.name for v in self.variants))

    def for_variant(self, name: str) -> ReleaseConfig:
        """This config as the variant `name` builds and smokes it ("" is the default image)."""
        if name == "":
            return replace(self, variant="")
        found = next((v for v in self.variants if v.name == name), None)
        if found is None:
            known = ", ".join(v.name for v in self.variants) or "none"
            raise ConfigError(f"no image variant {name!r} in [tool.release] variants (declared: {known})")
        health = None if found.no_health_check else (found.health_check or self.health_check)
        args = {**dict(self.build_args), **dict(found.build_args)}
        return replace(
            self, variant=name, build_args=tuple(sorted(args.items())),
            extras=self.extras if found.extras is None else found.extras,
            app_command=self.app_command if found.app_command is None else found.app_command,
            smoke_commands=self.smoke_commands if found.smoke_commands is None else found.smoke_commands,
            health_check=health,
        )


# key -> (attribute, expected type, description for errors)
_KEYS: dict[str, tuple[str, type | tuple[type, ...], str]] = {
    "name": ("name", str, "a distribution name"),
    "project": ("project", str, "a display name"),
    "image": ("image", str, "an image repository path like 'apache/airflow'"),
    "python": ("python", list, "a list of Python flavours like ['3.11']"),
    "default-python": ("default_python", str, "one of the listed flavours"),
    "base-image": ("base_image", str, "an image template with {python}"),
    "registry": ("registry", str, "'sandbox' or host[:port]"),
    "index": ("index", str, "'sandbox' or an upload URL"),
    "svn-dev": ("svn_dev", str, "'sandbox' or an svn URL"),
    "svn-release": ("svn_release", str, "'sandbox' or an svn URL"),
    "signing-key": ("signing_key", str, "'sandbox' or a key fingerprint"),
    "keys-url": ("keys_url", str, "the URL of the KEYS file"),
    "mailing-list": ("mailing_list", str, "the vote mailing list address"),
    "install": ("install", str, "'wheel' or 'index'"),
    "constraints": ("constraints", str, "a constraints file path"),
    "extras": ("extras", list, "a list of extras"),
    "app-command": ("app_command", list, "a command list run in smoke tests"),
    "default-command": ("default_command", list, "the image's default command, a list of strings"),
    "expose": ("expose", list, "a list of ports the image EXPOSEs, like [8001] or ['8001/udp']"),
    "writable-venv": ("writable_venv", bool, "true or false"),
    "uid": ("uid", int, "a numeric uid"),
    "dockerfile": ("dockerfile", str, "a Dockerfile path (leave it out for the one release-pipeline ships)"),
    "changelog": ("changelog", str, "a changelog path, or \"\" when the project keeps none"),
    "changelog-format": ("changelog_format", str, f"one of {', '.join(FORMATS)}"),
    "allow-http": ("allow_http", list, "a list of host names allowed over plain http://"),
    "build-args": ("build_args", dict, "a table of Dockerfile build args (strings)"),
    "smoke-commands": ("smoke_commands", list, "a list of commands or {command, expect, timeout} tables"),
    "health-check": ("health_check", dict, "a table {command, url, timeout, expect}"),
    "entrypoint": ("entrypoint", str, "a script path, e.g. 'docker/entrypoint.sh'"),
    "variants": ("variants", dict, "a table of image variants, e.g. [tool.release.variants.slim]"),
    "platforms": ("platforms", list, "a list of image platforms like ['linux/amd64', 'linux/arm64']"),
    "distributions": ("distributions", list, "a list of tables {name, path, version-from}"),
    "binding-voters": ("binding_voters", list, "a list of e-mail addresses or Apache ids"),
    "binding-voters-file": ("binding_voters_file", str, "a file with one binding voter a line"),
    "license-excludes": ("license_excludes", list, "a list of glob patterns like 'docs/*.svg'"),
    "announce-list": ("announce_list", str, "the address the [ANNOUNCE] email goes to"),
    "vote": ("vote", str, f"one of {', '.join(repr(p) for p in VOTE_POLICIES)}"),
    "source-checks": ("source_checks", bool, "true or false"),
    "staging": ("staging", str, "'svn' or 'atr'"),
    "atr": ("atr", str, "'sandbox' or the https URL of Apache Trusted Releases"),
    "atr-project": ("atr_project", str, "the project's name in ATR, like 'airflow'"),
    "atr-committee": ("atr_committee", str, "the committee's name in ATR, like 'airflow'"),
    "trains": ("trains", dict, "a table of release trains, e.g. [tool.release.trains.providers]"),
    "ci-environment": ("ci_environment", str, "the GitHub environment the CI jobs holding secrets run in"),
    "release-branch": ("release_branch", str, "the branch CI releases from, besides tags"),
}
# The keys a variant may set for itself.
_VARIANT_KEYS = ("extras", "build-args", "app-command", "smoke-commands", "health-check")


def read_pyproject(root: Path) -> Mapping[str, Any]:
    path = root / "pyproject.toml"
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; the release target needs a pyproject.toml") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _check_type(key: str, value: Any, expected: type | tuple[type, ...], what: str) -> None:
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        raise ConfigError(f"[tool.release] {key}: expected {what}, got {value!r}")


def _string_list(key: str, value: list[Any]) -> tuple[str, ...]:
    if not all(isinstance(item, str) for item in value):
        raise ConfigError(f"[tool.release] {key}: every item must be a string, got {value!r}")
    return tuple(value)


def _build_args(key: str, value: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    for name, arg in value.items():
        if not _BUILD_ARG.fullmatch(name) or not isinstance(arg, str):
            raise ConfigError(f"[tool.release] {key}: {name!r} = {arg!r}: expected NAME = 'string value'")
        if "://" in arg and has_credentials(arg):
            raise ConfigError(
                f"[tool.release] {key}.{name}: {hide_credentials(arg)!r} carries credentials; build args are "
                "not secret (they stay in the image's history): use an index that needs none"
            )
        if name in RESERVED_BUILD_ARGS:
            raise ConfigError(
                f"[tool.release] {key}.{name}: the pipeline sets this build arg itself; remove it "
                "(the image's labels, base and install source come from the release, not from build-args)"
            )
        if name == "INSTALLER" and arg not in INSTALLERS:
            choices = ", ".join(INSTALLERS)
            raise ConfigError(f"[tool.release] {key}.INSTALLER = {arg!r}: choose one of {choices}")
    return tuple(sorted(value.items()))


def _command(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            f"[tool.release] {key}: command: expected a non-empty list of strings, got {value!r}"
        )
    return tuple(value)


_FIELDS: dict[str, tuple[type, str]] = {
    "command": (list, "a non-empty list of strings"),
    "url": (str, "an http:// URL"),
    "expect": (str, "a string expected in the output"),
    "timeout": (int, "seconds > 0"),
}


def _table(key: str, value: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Check a small inline table: known fields of the right types, a command, a timeout > 0."""
    for field, given in value.items():
        if field not in fields:
            raise ConfigError(f"[tool.release] {key}: unknown field {field!r}; known: {', '.join(fields)}")
        expected, what = _FIELDS[field]
        _check_type(f"{key}: {field}", given, expected, what)
    if value.get("timeout", 1) <= 0:
        raise ConfigError(f"[tool.release] {key}: timeout: expected seconds > 0, got {value['timeout']}")
    return {**value, "command": _command(key, value.get("command"))}


def _smoke_command(key: str, item: Any) -> SmokeCommand:
    if isinstance(item, dict):
        return SmokeCommand(**_table(key, item, ("command", "expect", "timeout")))
    return SmokeCommand(_command(key, item))


def _smoke_commands(key: str, value: list[Any]) -> tuple[SmokeCommand, ...]:
    return tuple(_smoke_command(key, item) for item in value)


def _health_check(key: str, value: dict[str, Any]) -> HealthCheck:
    table = _table(key, value, ("command", "url", "timeout", "expect"))
    if not str(table.get("url", "")).startswith(("http://", "https://")):
        raise ConfigError(f"[tool.release] {key}: url: expected an http:// URL, got {table.get('url')!r}")
    return HealthCheck(**table)


def _variant(name: str, table: Any) -> Variant:
    key = f"variants.{name}"
    if not VARIANT_NAME.fullmatch(name) or name in RESERVED_VARIANT_NAMES:
        raise ConfigError(f"[tool.release] {key}: a variant name is lowercase letters and digits, starting "
                          f"with a letter, and not one of {', '.join(sorted(RESERVED_VARIANT_NAMES))}")
    _check_type(key, table, dict, f"a table with some of {', '.join(_VARIANT_KEYS)}")
    values: dict[str, Any] = {}
    for item, value in table.items():
        if item not in _VARIANT_KEYS:
            raise ConfigError(f"[tool.release] {key}: unknown key {item!r}; "
                              f"a variant sets {', '.join(_VARIANT_KEYS)}")
        attribute, expected, what = _KEYS[item]
        _check_type(f"{key}.{item}", value, expected, what)
        if item == "health-check" and value == {}:
            values["no_health_check"] = True
        elif item in _PARSERS:
            values[attribute] = _PARSERS[item](f"{key}.{item}", value)
        else:
            values[attribute] = _string_list(f"{key}.{item}", value)
    return Variant(name, **values)


def _variants(key: str, value: dict[str, Any]) -> tuple[Variant, ...]:
    return tuple(_variant(name, table) for name, table in value.items())


def _platforms(key: str, value: list[Any]) -> tuple[str, ...]:
    found = _string_list(key, value)
    if not found:
        raise ConfigError(f"[tool.release] {key}: empty; leave the key out to build for this machine's "
                          "platform only")
    for name in found:
        try:
            known_platforms.info(name)
        except ValueError as exc:
            raise ConfigError(f"[tool.release] {key}: {exc}") from None
    if len(set(found)) != len(found):
        raise ConfigError(f"[tool.release] {key}: platforms repeat in {list(found)}")
    return found


def _relative_path(key: str, value: Any) -> str:
    """A path inside the repository: relative, with no `..`."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[tool.release] {key}: expected a path inside the repository, got {value!r}")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ConfigError(f"[tool.release] {key}: {value!r} must be a relative path inside the repository")
    return path.as_posix()


def _distribution(key: str, item: Any) -> Distribution:
    if not isinstance(item, dict):
        raise ConfigError(f"[tool.release] {key}: expected a table {{name, path, version-from}}, "
                          f"got {item!r}")
    unknown = sorted(set(item) - {"name", "path", "version-from"})
    if unknown:
        raise ConfigError(f"[tool.release] {key}: unknown field {unknown[0]!r}; known: name, path, "
                          "version-from")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"[tool.release] {key}: name: {name!r} is not a valid distribution name")
    path = _relative_path(f"{key} {name}: path", item.get("path", "."))
    version_from = item.get("version-from", "")
    if version_from != "":
        version_from = _relative_path(f"{key} {name}: version-from", version_from)
    return Distribution(name, path, version_from)


def _distributions(key: str, value: list[Any]) -> tuple[Distribution, ...]:
    found = tuple(_distribution(key, item) for item in value)
    seen: set[str] = set()
    for dist in found:
        canonical = re.sub(r"[-_.]+", "-", dist.name).lower()
        if canonical in seen:
            raise ConfigError(f"[tool.release] {key}: {dist.name!r} is listed twice")
        seen.add(canonical)
    return found


_PORT = re.compile(r"^([0-9]{1,5})(/(tcp|udp|sctp))?$")


def _default_command(key: str, value: list[Any]) -> tuple[str, ...]:
    if not value or not all(isinstance(item, str) and item and not _CONTROL.search(item) for item in value):
        raise ConfigError(f"[tool.release] {key}: expected a non-empty list of strings, got {value!r}")
    return tuple(value)


def _expose(key: str, value: list[Any]) -> tuple[str, ...]:
    """Ports as EXPOSE takes them: `8001`, `8001/tcp`, `53/udp`; each once, 1 to 65535."""
    found: list[str] = []
    for item in value:
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        match = _PORT.fullmatch(text) if isinstance(text, str) else None
        if match is None or not 0 < int(match.group(1)) < 65536:
            raise ConfigError(f"[tool.release] {key}: {item!r} is not a port like 8001 or '8001/udp'")
        if text in found:
            raise ConfigError(f"[tool.release] {key}: {text} is listed twice")
        found.append(text)
    return tuple(found)


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "default-command": _default_command,
    "expose": _expose,
    "build-args": _build_args,
    "platforms": _platforms,
    "smoke-commands": _smoke_commands,
    "health-check": _health_check,
    "variants": _variants,
    "distributions": _distributions,
    "trains": parse_trains,
}


def _check_path(key: str, value: str) -> None:
    """A file of the target's repository: relative, never reaching out of it, not a URL, and not
    something a program would read as an option (`-K`)."""
    parts = value.replace("\\", "/").split("/")
    if not value or value.startswith("/") or ".." in parts or _CONTROL.search(value):
        raise ConfigError(f"[tool.release] {key}: {value!r} is not a path inside the repository; "
                          "give one relative to its root, like 'docs/CHANGELOG.md'")
    if "://" in value:
        raise ConfigError(f"[tool.release] {key}: {hide_credentials(value)!r} is a URL, not a path inside "
                          "the repository; give one relative to its root, like 'docs/CHANGELOG.md'")
    if value.startswith("-"):
        raise ConfigError(f"[tool.release] {key}: {value!r} starts with '-', which programs read as an "
                          "option; give a path inside the repository like './-K' if the file is named so")


def _check_url(key: str, value: str, allow_http: tuple[str, ...]) -> None:
    """A service URL: a scheme the key accepts, no credentials, plain http only where allowed."""
    schemes = _URL_SCHEMES[key]
    if _CONTROL.search(value) or any(c.isspace() for c in value):
        raise ConfigError(f"[tool.release] {key}: {hide_credentials(value)[:80]!r} holds a space, line break "
                          "or control character; give the URL alone")
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in schemes:
        raise ConfigError(f"[tool.release] {key}: {hide_credentials(value)!r} is not a "
                          f"{' or '.join(s + '://' for s in schemes)} URL")
    if has_credentials(value):
        raise ConfigError(
            f"[tool.release] {key}: {hide_credentials(value)!r} carries credentials; they would be shown and "
            "recorded: give the URL without them (twine reads ~/.pypirc or TWINE_USERNAME/TWINE_PASSWORD, "
            "svn its own auth cache)"
        )
    if is_plain(value) and not plain_allowed(value, allow_http):
        raise ConfigError(
            f"[tool.release] {key}: {value!r} is plain {scheme}:// to a host that is not this machine; use "
            "https://, or list the host in allow-http if you accept that anyone on the way can read and "
            "change what is sent"
        )


def _check_text(key: str, value: str) -> None:
    """One line of text (it goes into email headers and commit messages)."""
    if _CONTROL.search(value):
        raise ConfigError(f"[tool.release] {key}: {value[:60]!r} holds a line break or control character; "
                          "give one line")


def _check_registry(registry: str) -> None:
    """`sandbox`, or a host[:port]: a name whose last label is all digits must be an IPv4 address
    (`3.12` is neither a host name nor an address)."""
    if registry == SANDBOX:
        return
    host = registry_host(registry) if _REGISTRY.fullmatch(registry) else ""
    numeric = host and not host.startswith("[") and ":" not in host and host.rsplit(".", 1)[-1].isdigit()
    if numeric:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            host = ""
    if not host:
        raise ConfigError(f"[tool.release] registry: {hide_credentials('//' + registry)[2:]!r} is not "
                          "'sandbox' or host[:port] (no scheme, user or path)")


def _check_address(key: str, value: str) -> None:
    """One e-mail address, as the To: header of the vote and announce emails takes it."""
    _check_text(key, value)
    if not _ADDRESS.fullmatch(value):
        shown = hide_credentials(value) if "://" in value else value
        raise ConfigError(f"[tool.release] {key}: {shown[:60]!r} is not an e-mail address like "
                          "'dev@airflow.apache.org'")


def _check_endpoints(values: Mapping[str, Any]) -> None:
    allow_http: tuple[str, ...] = values.get("allow_http", ())
    for key in _URL_SCHEMES:
        value = values.get(_KEYS[key][0])
        if value == "":
            raise ConfigError(f"[tool.release] {key}: empty; give a URL, or leave the key out for its "
                              "default")
        if value and (value != SANDBOX or key == "keys-url"):
            _check_url(key, value, allow_http)
    _check_registry(values.get("registry", SANDBOX))
    signing_key = values.get("signing_key", SANDBOX)
    if signing_key != SANDBOX:
        check_signing_key(signing_key, "[tool.release] signing-key")
    if "project" in values:
        _check_text("project", values["project"])
    for key in ("mailing-list", "announce-list"):
        if _KEYS[key][0] in values:
            _check_address(key, values[_KEYS[key][0]])
    for key in _PATHS:
        if _KEYS[key][0] in values and not (key == "changelog" and values["changelog"] == ""):
            _check_path(key, values[_KEYS[key][0]])
    _check_ci(values)


def _check_ci(values: Mapping[str, Any]) -> None:
    environment = values.get("ci_environment", "release")
    if not _ENVIRONMENT.fullmatch(environment):
        raise ConfigError(f"[tool.release] ci-environment: {environment[:60]!r} is not a GitHub environment "
                          "name like 'release' (letters, digits, '.', '_', '-')")
    branch = values.get("release_branch", "main")
    odd = ".." in branch or "//" in branch or branch.endswith(("/", ".lock", "."))
    if not _BRANCH.fullmatch(branch) or odd:
        raise ConfigError(f"[tool.release] release-branch: {branch[:60]!r} is not a branch name like 'main' "
                          "or 'v2-10-stable'")


def check_signing_key(key: str, where: str) -> str:
    """A key gpg cannot take for another: a fingerprint, a long key id, or an e-mail address (bare or
    in `<...>`); never an option, several lines, a user id's words or a short key id."""
    address = key[1:-1] if key.startswith("<") and key.endswith(">") else key
    if not key or key.startswith("-") or _CONTROL.search(key) or not (
            _KEY_ID.fullmatch(key) or _ADDRESS.fullmatch(address)):
        shown = hide_credentials(key) if "://" in key else key
        raise ConfigError(f"{where}: {shown[:60]!r} is not a key fingerprint (40 hex digits, no spaces), a "
                          "long key id (16) or the key's e-mail address")
    return key


def parse_config(root: Path, table: Mapping[str, Any], *,
                 host_platform: str = known_platforms.DEFAULT) -> ReleaseConfig:
    """Turn the `[tool.release]` table into a ReleaseConfig, or one ConfigError naming the key.
    `host_platform` is the machine's own platform, what a config without `platforms` builds for."""
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(f"[tool.release] unknown key {unknown[0]!r}; known keys: {', '.join(_KEYS)}")
    values: dict[str, Any] = {}
    for key, value in table.items():
        attribute, expected, what = _KEYS[key]
        _check_type(key, value, expected, what)
        if key in _PARSERS:
            values[attribute] = _PARSERS[key](key, value)
        else:
            values[attribute] = _string_list(key, value) if isinstance(value, list) else value
    if "name" not in values:
        raise ConfigError("[tool.release] name: missing; set it to the distribution name")
    if not _NAME.fullmatch(values["name"]):
        raise ConfigError(f"[tool.release] name: {values['name']!r} is not a valid distribution name")
    flavours: tuple[str, ...] = values.get("python", ())
    if not flavours:
        raise ConfigError("[tool.release] python: the list of Python flavours is empty")
    for flavour in flavours:
        if not _FLAVOUR.fullmatch(flavour):
            raise ConfigError(f"[tool.release] python: {flavour!r} is not a flavour like '3.11'")
    if len(set(flavours)) != len(flavours):
        raise ConfigError(f"[tool.release] python: flavours repeat in {list(flavours)}")
    default = values.setdefault("default_python", flavours[0])
    if default not in flavours:
        raise ConfigError(f"[tool.release] default-python: {default!r} is not in python = {list(flavours)}")
    values.setdefault("project", values["name"])
    image = values.setdefault("image", values["name"].lower())
    if not _IMAGE.fullmatch(image):
        raise ConfigError(f"[tool.release] image: {image!r} is not a valid repository path")
    base_image = values.get("base_image", DEFAULT_BASE_IMAGE)
    if "{python}" not in base_image:
        raise ConfigError("[tool.release] base-image: the template must contain {python}")
    try:
        base_image.format(python="3", registry="registry")
    except (KeyError, IndexError, ValueError, AttributeError):
        raise ConfigError(
            f"[tool.release] base-image: {base_image!r} may only use the placeholders "
            "{python} and {registry}"
        ) from None
    if values.get("install", "wheel") not in {"wheel", "index"}:
        raise ConfigError(f"[tool.release] install: expected 'wheel' or 'index', got {values['install']!r}")
    if values.get("install") == "index" and not values.get("constraints"):
        raise ConfigError("[tool.release] constraints: required when install = 'index'")
    uid = values.get("uid", 50000)
    if not 0 < uid < 2**31:
        raise ConfigError(f"[tool.release] uid: {uid} is not a valid non-root uid")
    if uid < SYSTEM_UIDS or uid == NOBODY:
        raise ConfigError(f"[tool.release] uid: {uid} belongs to a system account of the base image "
                          f"(below {SYSTEM_UIDS}, or nobody); choose one like 50000")
    _check_distributions(values["name"], values.get("distributions", ()))
    _check_trains(values["name"], values.get("trains", ()), values.get("distributions", ()))
    if values.get("variants") and len(values.get("platforms", ())) > 1:
        raise ConfigError(
            "[tool.release] variants: image variants are built for one platform only; with several "
            f"platforms ({', '.join(values['platforms'])}) remove the variants or all platforms but one"
        )
    for entry in values.get("binding_voters", ()):  # a name alone would never be binding: refused
        addresses_of(entry, "[tool.release] binding-voters")
    if values.get("binding_voters_file"):
        _relative_path("binding-voters-file", values["binding_voters_file"])
    _check_policy(values)
    _check_endpoints(values)
    _check_atr(values)
    return ReleaseConfig(root=root, host_platform=host_platform, **values)


def _check_policy(values: Mapping[str, Any]) -> None:
    vote = values.get("vote", ASF)
    if vote not in VOTE_POLICIES:
        raise ConfigError(f"[tool.release] vote: {vote!r} is not one of {', '.join(VOTE_POLICIES)} (asf: a "
                          "PMC votes on each candidate; none: the release manager releases)")
    if vote == ASF and values.get("source_checks") is False:
        raise ConfigError("[tool.release] source-checks: an ASF vote needs the PMC's checks of LICENSE, "
                          "NOTICE, headers and binaries; remove source-checks (list exceptions in "
                          "license-excludes)")
    fmt = values.get("changelog_format", AUTO)
    if fmt not in FORMATS:
        raise ConfigError(f"[tool.release] changelog-format: {fmt!r} is not one of {', '.join(FORMATS)}")
def _check_atr(values: dict[str, Any]) -> None:
    """`staging`, and the ATR target: `sandbox` (whose one project and committee are `test`), or an
    https URL with the project's and committee's names in ATR. Fills in the names."""
    staging = values.get("staging", "svn")
    if staging not in STAGING:
        choices = " or ".join(map(repr, STAGING))
        raise ConfigError(f"[tool.release] staging: expected {choices}, got {staging!r}")
    target = values.get("atr", "")
    in_atr = [t.name for t in values.get("trains", ()) if t.staging == "atr"]
    if in_atr and not target:
        raise ConfigError(f"[tool.release] trains.{in_atr[0]}.staging: 'atr' needs [tool.release] atr: "
                          "'sandbox' or the https URL of Apache Trusted Releases")
    if staging == "atr" and not target:
        raise ConfigError("[tool.release] atr: required with staging = 'atr': 'sandbox' or the https URL of "
                          "Apache Trusted Releases")
    project, committee = values.get("atr_project", ""), values.get("atr_committee", "")
    if not target:
        if project or committee:
            key = "atr-project" if project else "atr-committee"
            raise ConfigError(f"[tool.release] {key}: set without atr; set atr = 'sandbox' or ATR's URL")
        return
    for key, name in (("atr-project", project), ("atr-committee", committee)):
        if name and not _ATR_NAME.match(name):
            raise ConfigError(f"[tool.release] {key}: {name!r} is not a name in ATR (lowercase letters, "
                              "digits and '-', like 'airflow')")
    if target == SANDBOX:
        for key, name in (("atr-project", project), ("atr-committee", committee)):
            if name not in ("", ATR_SANDBOX_NAME):
                raise ConfigError(f"[tool.release] {key}: the sandbox's ATR holds only {ATR_SANDBOX_NAME!r} "
                                  f"(its test mode seeds it), not {name!r}; leave {key} out")
        values["atr_project"] = values["atr_committee"] = ATR_SANDBOX_NAME
        return
    _check_atr_url(target)
    if not project:
        raise ConfigError("[tool.release] atr-project: required with an ATR URL: the project's name in ATR, "
                          "like 'airflow'")
    values["atr_committee"] = committee or project


def _check_atr_url(url: str) -> None:
    """https only (also on this machine: ATR takes a token), no credentials, no path."""
    if has_credentials(url):
        raise ConfigError(f"[tool.release] atr: {hide_credentials(url)!r} carries credentials; they would be "
                          "shown and recorded: the token comes from RELEASE_ATR_TOKEN or the keyring")
    scheme, _, rest = url.partition("://")
    host = registry_host(rest.rstrip("/")) if rest else ""
    if scheme != "https" or not host or "/" in rest.rstrip("/") or "?" in rest or "#" in rest:
        raise ConfigError(f"[tool.release] atr: {url!r} is not 'sandbox' or an https:// URL of a server (no "
                          "path), like 'https://release-test.apache.org'")


def _check_distributions(name: str, distributions: tuple[Distribution, ...]) -> None:
    """`name` is the release's own distribution: listed, carrying the release's version."""
    if not distributions:
        return
    main = [d for d in distributions if d.name == name]
    if not main:
        listed = ", ".join(d.name for d in distributions)
        raise ConfigError(f"[tool.release] distributions: list the release's own distribution {name!r} "
                          f"too (listed: {listed})")
    if main[0].own_version:
        raise ConfigError(f"[tool.release] distributions: {name} carries the release's version; remove its "
                          "version-from")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _check_trains(name: str, trains: tuple[Train, ...], distributions: tuple[Distribution, ...]) -> None:
    """Each distribution goes with one train. The release's own train (its top-level `distributions`)
    is there unless a train lists the release's own distribution `name`."""
    owner: dict[str, str] = {}
    own = any(_canonical(d.name) == _canonical(name) for t in trains for d in t.distributions)
    if own and distributions:
        raise ConfigError(f"[tool.release] distributions: the train that releases {name} lists its "
                          "distributions; remove the top-level list")
    if not own:
        owner = {_canonical(d.name): name for d in distributions} or {_canonical(name): name}
    for train in trains:
        if train.name in owner.values():
            raise ConfigError(f"[tool.release] trains.{train.name}: the release's own train is called "
                              f"{name!r}; give this one another name")
        for dist in train.distributions:
            if _canonical(dist.name) in owner:
                raise ConfigError(f"[tool.release] trains.{train.name}.distributions: {dist.name!r} is "
                                  f"released by the train {owner[_canonical(dist.name)]!r} already")
            owner[_canonical(dist.name)] = train.name


def load_config(root: Path, *, profile: Path | None = None) -> ReleaseConfig:
    """Read `[tool.release]` from `root/pyproject.toml` (or from `profile`, a pyproject-like file)."""
    source = profile if profile is not None else root / "pyproject.toml"
    data = read_pyproject(source.parent) if source.name == "pyproject.toml" else _read_toml(source)
    tool = data.get("tool", {})
    table = tool.get("release") if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: no [tool.release] table")
    return parse_config(root, table, host_platform=known_platforms.host_platform())


def _read_toml(path: Path) -> Mapping[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
