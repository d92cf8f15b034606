# SPDX-License-Identifier: Apache-2.0
"""Staging in Apache Trusted Releases (ATR), as data: which release in ATR a version goes to, the
files uploaded as its revision, the checks ignored, who the vote email goes to, and the
distributions recorded once it is finished. Pure.

A release in ATR is named by the final version (`1.10.6`): each candidate (`1.10.6rc1`) is a
revision of it, the one its vote is started on. With `staging = "atr"` the release plan's staging
steps are ATR's (`atr-upload`, `atr-checks`, `atr-vote` instead of svn's `stage`), and a promoted
release is finished through ATR (`atr-finish`, `atr-distributions`) instead of being copied to svn
`release/`. Nothing of such a release goes to svn: the constraints files and the image signatures
are attached to the image digests with the record. A train's wave staged in ATR has its own part,
`plan_wave_atr`: its release named for the wave, its files, its packages on PyPI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from release.config import SANDBOX, ReleaseConfig
from release.versions import ReleaseVersion

# A list every ATR lets any user write to; the sandbox's (test mode) refuses other recipients.
SANDBOX_MAILING_LIST = "user-tests@tooling.apache.org"
# The sandbox's ATR cannot run Apache RAT (its jar is on no registry reachable offline): that one
# result is marked as expected through ATR's own ignores. The adapter holds the ignore itself.
RAT_JAR_MISSING = "rat-jar-missing"


@dataclass(frozen=True)
class AtrDistribution:
    """One distribution ATR is told about once the release is finished."""

    platform: str  # pypi | docker
    package: str
    version: str
    owner: str = ""  # the namespace on Docker Hub, e.g. `apache`

    @property
    def shown(self) -> str:
        owner = f"{self.owner}/" if self.owner else ""
        return f"{self.platform}: {owner}{self.package} {self.version}"


@dataclass(frozen=True)
class AtrPlan:
    server: str  # `sandbox` or ATR's https URL, as configured
    project: str
    committee: str
    release: str  # the release's name in ATR: the final version, whose revisions the candidates are
    files: tuple[str, ...] = ()  # the candidate's files uploaded as one revision (voted files, .asc, .sha512)
    ignores: tuple[str, ...] = ()  # check results marked as expected through ATR's ignores
    email_to: str = ""  # the vote's list
    announce_to: str = ""  # the announcement's list
    distributions: tuple[AtrDistribution, ...] = ()  # recorded after finishing (a final's)

    @property
    def where(self) -> str:
        return f"ATR {self.server} project {self.project} release {self.release}"

    def to_json(self) -> dict[str, Any]:
        return {"server": self.server, "project": self.project, "committee": self.committee,
                "release": self.release, "files": list(self.files), "ignores": list(self.ignores),
                "email_to": self.email_to, "announce_to": self.announce_to,
                "distributions": [{"platform": d.platform, "package": d.package, "version": d.version,
                                   "owner": d.owner} for d in self.distributions]}


def atr_release(version: ReleaseVersion) -> str:
    """The release in ATR a version belongs to: a candidate's final version (its files carry that
    version too), else the version itself."""
    return str(version.voted)


def candidate_files(voted: Sequence[str]) -> tuple[str, ...]:
    """The files of a candidate in ATR: each voted file (names only) with its `.asc` and `.sha512`."""
    names = sorted({name.rsplit("/", 1)[-1] for name in voted})
    return tuple(sorted(n for name in names for n in (name, f"{name}.asc", f"{name}.sha512")))


def recorded_distributions(config: ReleaseConfig, version: ReleaseVersion,
                           packages: Sequence[tuple[str, str]]) -> tuple[AtrDistribution, ...]:
    """What ATR records for a finished release: each package on PyPI (name, the version the index
    got), and the image on Docker Hub under the release's version tag."""
    found = [AtrDistribution("pypi", name, index_version) for name, index_version in packages]
    owner, _, image = config.image.rpartition("/")
    found.append(AtrDistribution("docker", image, str(version), owner=owner.rpartition("/")[2]))
    return tuple(found)


def plan_atr(config: ReleaseConfig, version: ReleaseVersion, *, voted: Sequence[str] = (),
             packages: Sequence[tuple[str, str]] = ()) -> AtrPlan | None:
    """ATR's part of a run of `version`, or None when the project stages in svn. `voted` are the
    files the vote is on, `packages` (name, index version) what the index gets."""
    if not config.uses_atr:
        return None
    return _atr_plan(config, atr_release(version), voted,
                     () if version.is_prerelease else recorded_distributions(config, version, packages))


def plan_wave_atr(config: ReleaseConfig, release: str, voted: Sequence[str],
                  packages: Sequence[tuple[str, str]] = ()) -> AtrPlan:
    """ATR's part of a train's wave staged as `release` (plan/wave.py: `wave_atr_release`): its voted
    files (each with its `.asc` and `.sha512`), and, once published, each of `packages` (name,
    final version) recorded on PyPI; a train's waves ship no image."""
    return _atr_plan(config, release, voted,
                     tuple(AtrDistribution("pypi", name, version) for name, version in packages))


def _atr_plan(config: ReleaseConfig, release: str, voted: Sequence[str],
              distributions: tuple[AtrDistribution, ...]) -> AtrPlan:
    sandbox = config.atr == SANDBOX
    return AtrPlan(
        server=config.atr, project=config.atr_project, committee=config.atr_committee,
        release=release, files=candidate_files(voted),
        ignores=(RAT_JAR_MISSING,) if sandbox else (),
        email_to=SANDBOX_MAILING_LIST if sandbox else config.mailing_list,
        announce_to=SANDBOX_MAILING_LIST if sandbox else config.announce_to,
        distributions=distributions)


def constraints_attached(version: ReleaseVersion) -> str:
    """Why `invoke constraints` (commit a release's constraints to svn) refuses a project staging in
    ATR: nothing of it goes to svn, its constraints are attached to its images."""
    return (f"{version} is staged in ATR: its constraints files are attached to its images with the record "
            "(the provenance step), never committed to svn")
