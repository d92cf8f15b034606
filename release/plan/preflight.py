# SPDX-License-Identifier: Apache-2.0
"""The dry run as a preflight: everything a real run of `invoke release` would refuse, decided at
once from facts the pipeline gathered beforehand (release/pipeline/preflight.py). Pure.

Each problem is one line saying what is wrong and how to fix it. The dry run lists them all and
exits 6 when there is any, so a release manager fixes everything before a real run starts
anything, instead of one refusal per run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from release import licences
from release.config import SANDBOX, ReleaseConfig
from release.plan.project import allows
from release.plan.release import Mode, unvoted_final
from release.versions import ReleaseVersion

# what the sandbox's registry serves (release/sandbox/base_images.py)
SANDBOX_BASE_REPOSITORY = "sandbox/python"


class Check(str, Enum):
    """What a problem is about: one per thing a real run refuses."""

    VOTE = "vote"
    DIRTY = "dirty-tree"
    MOVED = "head-moved"
    VERSION = "version"
    CHANGELOG = "changelog"
    DOCKERFILE = "dockerfile"
    NOT_COMMITTED = "not-committed"
    BASE_IMAGE = "base-image"
    REQUIRES_PYTHON = "requires-python"
    SOURCES = "pmc-checks"
    KEYS = "keys"
    CREDENTIALS = "credentials"
    RELEASED = "released"
    TAGGED = "tagged"


@dataclass(frozen=True)
class Problem:
    check: Check
    what: str
    fix: str

    @property
    def line(self) -> str:
        return f"{self.what}: {self.fix}"

    def to_json(self) -> dict[str, str]:
        return {"check": self.check.value, "what": self.what, "fix": self.fix}


@dataclass(frozen=True)
class Facts:
    """What the pipeline found before the dry run decides. A fact left at its default is one the
    pipeline could not or need not learn: the decision takes it as nothing wrong."""

    head: str = ""  # HEAD's commit
    recorded: str = ""  # the commit dist/<V>/release.json says the release was built from ("": none yet)
    published: bool = False  # the record says something went out (images pushed, files uploaded, staged)
    promoted: bool = False  # dist/<V>/ holds a promoted candidate's voted files
    changed: tuple[str, ...] = ()  # tracked files with uncommitted changes
    declared: tuple[str, str] | None = None  # (version, file) the commit declares for the main distribution
    changelog_error: str = ""  # why the build would refuse the changelog of the commit ("" : it reads)
    files: frozenset[str] = frozenset()  # every path in the commit a run builds from
    requires_python: str = ""  # the main distribution's Requires-Python in that commit
    heads: Mapping[str, bytes] = field(default_factory=dict)  # path -> its first 8 KiB, for the PMC checks
    signing_key: str = ""  # the fingerprint a run signs with ("": not known here)
    signing_key_error: str = ""  # why the key cannot sign (no secret key, expired, ...)
    keys: frozenset[str] | None = None  # the fingerprints in KEYS; None: KEYS was not read
    keys_url: str = ""
    registry_credentials: bool = True  # docker has credentials for the (real) registry
    index_credentials: bool = True  # twine has credentials for the (real) index
    released: tuple[ReleaseVersion, ...] = ()  # versions the registry or the index hold
    tags: Mapping[str, str] = field(default_factory=dict)  # git tag -> commit, for the version and its final
    sandbox_pythons: tuple[str, ...] = ()  # the flavours the sandbox builds base images of


@dataclass(frozen=True)
class Options:
    flavours: tuple[str, ...] = ()  # () : every configured flavour
    allow_dirty: bool = False


def preflight(config: ReleaseConfig, version: ReleaseVersion, facts: Facts,
              options: Options = Options()) -> tuple[Problem, ...]:
    """Every problem a real run of `version` would refuse, in the order the run would meet them."""
    flavours = options.flavours or config.python
    found: list[Problem] = []
    found += _vote(config, version, facts)
    found += _tree(facts, version, options)
    found += _declared(version, facts)
    found += _changelog(facts)
    found += _dockerfile(config, facts)
    found += _base_images(config, flavours, facts)
    found += _requires_python(config, flavours, facts)
    found += _sources(config, version, facts)
    found += _keys(config, facts)
    found += _credentials(config, facts)
    found += _released(version, facts)
    return tuple(found)


def commit_of(facts: Facts) -> str:
    """The commit a run builds from: the recorded one for a rerun, else HEAD."""
    return facts.recorded or facts.head


def _vote(config: ReleaseConfig, version: ReleaseVersion, facts: Facts) -> list[Problem]:
    """A final of a voting project ships only from its promoted candidate (`invoke publish` says
    so for a promoted one)."""
    why = "" if facts.promoted else unvoted_final(config, version, Mode.RELEASE)
    if not why:
        return []
    what, _, fix = why.partition("): ")
    return [Problem(Check.VOTE, f"{what})", fix)]


def _tree(facts: Facts, version: ReleaseVersion, options: Options) -> list[Problem]:
    found = []
    if facts.changed and not options.allow_dirty:
        shown = ", ".join(facts.changed[:5]) + (f" (and {len(facts.changed) - 5} more)"
                                                 if len(facts.changed) > 5 else "")
        found.append(Problem(Check.DIRTY, f"uncommitted changes to tracked files ({shown})",
                             "commit or stash them: a release is built from the commit, not the tree"))
    if facts.recorded and facts.head and facts.recorded != facts.head:
        found.append(moved_problem(version, facts.recorded, facts.head, published=facts.published,
                                   promoted=facts.promoted))
    return found


def moved_problem(version: ReleaseVersion, recorded: str, head: str, *, published: bool,
                  promoted: bool = False) -> Problem:
    """HEAD moved since dist/<V>/ was built: a rerun never mixes the two commits. A promoted final
    holds the voted files of its candidate: its images come from the candidate's commit, always."""
    what = f"dist/{version}/ was built from {recorded[:12]}, HEAD is now {head[:12]}"
    if promoted:
        return Problem(Check.MOVED, f"dist/{version}/ holds the voted files of its candidate, built from "
                       f"{recorded[:12]}; HEAD is now {head[:12]}",
                       f"publish it from that commit (git checkout {recorded[:12]}, run again): the images "
                       "of a voted release are built from the candidate's commit, never another")
    if published:
        fix = (f"finish {version} as recorded from that commit (git checkout {recorded[:12]}, run again); "
               "part of it is published, so it cannot start over: release a new version from HEAD")
    else:
        fix = (f"finish it as recorded (git checkout {recorded[:12]}, run again), or start over from HEAD "
               "with --restart (nothing of it is published yet)")
    return Problem(Check.MOVED, what, fix)


def _declared(version: ReleaseVersion, facts: Facts) -> list[Problem]:
    if facts.declared is None:
        if not facts.files:  # the commit was not read
            return []
        return [Problem(Check.VERSION, "the commit declares no version the build can find ([project] "
                        "version, __version__ in the package, version= in setup.py)",
                        f"declare {version.voted} in one of them (a version from git tags cannot be released "
                        "yet)")]
    if version.accepts_declared(facts.declared[0]):
        return []
    value, where = facts.declared
    return [Problem(Check.VERSION, f"the commit declares version {value} in {where}, not {version}",
                    f"set it to {version.voted} and commit it")]


def _changelog(facts: Facts) -> list[Problem]:
    if not facts.changelog_error:
        return []
    return [Problem(Check.CHANGELOG, "the release notes cannot be read",
                    f"{facts.changelog_error} (or set changelog = \"\" when the project keeps none)")]


def _dockerfile(config: ReleaseConfig, facts: Facts) -> list[Problem]:
    if not facts.files:
        return []
    found = []
    if config.dockerfile and config.dockerfile not in facts.files:
        found.append(Problem(Check.DOCKERFILE, f"dockerfile = {config.dockerfile!r} is not in the commit",
                             "commit it, or leave the key out to build with the Dockerfile release-pipeline "
                             "ships"))
    for key, path in (("entrypoint", config.entrypoint), ("constraints", config.constraints)):
        if path and path not in facts.files:
            found.append(Problem(Check.NOT_COMMITTED, f"{key} = {path!r} is not in the commit",
                                 "commit it: the images are built from the release's commit"))
    return found


def read_from_tree(config: ReleaseConfig) -> tuple[str, ...]:
    """The files of the repository a run reads from the working tree rather than from the commit:
    the config, and what it names for the images. They must be the commit's, unchanged."""
    return tuple(p for p in ("pyproject.toml", config.dockerfile, config.entrypoint, config.constraints) if p)


def one_commit(config: ReleaseConfig, version: ReleaseVersion, facts: Facts, *,
               allow_dirty: bool = False) -> tuple[Problem, ...]:
    """What a real run refuses before any step so that everything comes from the release's one
    commit: HEAD moved since the build, or a file it reads from the working tree changed or not
    committed (the Dockerfile, the config, the entrypoint, the constraints). `facts.files` need
    only hold those files that are in the commit."""
    found: list[Problem] = []
    if facts.recorded and facts.head and facts.recorded != facts.head:
        found.append(moved_problem(version, facts.recorded, facts.head, published=facts.published,
                                   promoted=facts.promoted))
    read = read_from_tree(config)
    changed = [p for p in read if p in facts.changed]
    if changed and not allow_dirty:
        found.append(Problem(Check.DIRTY, f"{', '.join(changed)} changed since {commit_of(facts)[:12]}",
                             "commit the change and release the new commit, or undo it (git checkout -- "
                             f"{' '.join(changed)}): the images and the config come from the release's "
                             "commit"))
    found += _dockerfile(config, facts)
    return tuple(found)


def serves(base_image: str, registry: str) -> bool:
    """Whether the sandbox's registry can serve `base_image` (a template): it pulls nothing, and
    holds only the base images it built, `{registry}/sandbox/python:{python}`."""
    return base_image.format(python="P", registry=registry) == f"{registry}/{SANDBOX_BASE_REPOSITORY}:P"


def _base_images(config: ReleaseConfig, flavours: Sequence[str], facts: Facts) -> list[Problem]:
    if config.registry == SANDBOX:
        found = []
        if not serves(config.base_image, "REGISTRY"):
            served = f"{{registry}}/{SANDBOX_BASE_REPOSITORY}:{{python}}"
            found.append(Problem(
                Check.BASE_IMAGE, f"base-image = {config.base_image!r}: the sandbox pulls no images and "
                f"serves only its own {served}", f'set base-image = "{served}" while registry = "sandbox"'))
        missing = [f for f in flavours if facts.sandbox_pythons and f not in facts.sandbox_pythons]
        if missing:
            found.append(Problem(
                Check.BASE_IMAGE, f"python {', '.join(missing)}: the sandbox builds base images for "
                f"{', '.join(facts.sandbox_pythons)} only", "remove it from python in [tool.release]"))
        return found
    if SANDBOX_BASE_REPOSITORY in config.base_image:
        return [Problem(Check.BASE_IMAGE, f"base-image = {config.base_image!r} names the sandbox's base "
                        f"images, which {config.registry} does not hold",
                        'set base-image = "python:{python}-slim-bookworm" (or an image it serves)')]
    return []


def _requires_python(config: ReleaseConfig, flavours: Sequence[str], facts: Facts) -> list[Problem]:
    if not facts.requires_python:
        return []
    excluded = [f for f in flavours if not allows(facts.requires_python, f)]
    if not excluded:
        return []
    return [Problem(Check.REQUIRES_PYTHON,
                    f"python {', '.join(excluded)}: {config.name}'s Requires-Python {facts.requires_python} "
                    "excludes it (its image could not install the wheel)",
                    "remove it from python in [tool.release]")]


def _sources(config: ReleaseConfig, version: ReleaseVersion, facts: Facts) -> list[Problem]:
    """The PMC's checks of a candidate's source release, over the commit's files (the source
    tarball is that commit's tree)."""
    if not version.is_prerelease or not config.checks_sources or not facts.files:
        return []
    found = [Problem(Check.SOURCES, f"{missing} at the top of the repository",
                     "add it: every source release and sdist must carry it")
             for missing in licences.missing_notices(facts.files)]
    problems = {path: problem for path, data in sorted(facts.heads.items())
                if (problem := licences.check_source_file(path, data, config.license_excludes))}
    for line in licences.summarise(problems):
        found.append(Problem(Check.SOURCES, line, "add the licence header (or list the files in "
                             "license-excludes when they need none); no compiled code in the sources"))
    return found


def _keys(config: ReleaseConfig, facts: Facts) -> list[Problem]:
    if facts.signing_key_error:
        return [Problem(Check.KEYS, facts.signing_key_error, "set signing-key to a key gpg can sign with")]
    if facts.keys is None or not facts.signing_key or facts.signing_key in facts.keys:
        return []
    return [Problem(Check.KEYS, f"the signing key {facts.signing_key} is not in KEYS ({facts.keys_url})",
                    f"append `gpg --armor --export {facts.signing_key}` to KEYS and commit it, so voters and "
                    "users can check the signatures")]


def _credentials(config: ReleaseConfig, facts: Facts) -> list[Problem]:
    found = []
    if config.registry != SANDBOX and not facts.registry_credentials:
        found.append(Problem(Check.CREDENTIALS, f"no credentials for the registry {config.registry}",
                             f"docker login {config.registry}"))
    if config.index != SANDBOX and not facts.index_credentials:
        found.append(Problem(Check.CREDENTIALS, f"no credentials for the index {config.index}",
                             "set TWINE_USERNAME and TWINE_PASSWORD, or add the index with its password to "
                             "~/.pypirc"))
    return found


def _released(version: ReleaseVersion, facts: Facts) -> list[Problem]:
    found = []
    final = version.final
    if version.is_prerelease and (final in facts.released or str(final) in facts.tags):
        found.append(Problem(Check.RELEASED, f"{final} is already released; {version} would be a candidate "
                             "of it", "release a candidate of the next version instead"))
    tagged = facts.tags.get(str(version))
    built = commit_of(facts)
    if tagged and built and tagged != built:
        found.append(Problem(Check.TAGGED, f"git tag {version} points at {tagged[:12]}, not at {built[:12]}",
                             "release tags are never moved: release that commit (git checkout "
                             f"{version}), or a new version"))
    return found
