# SPDX-License-Identifier: Apache-2.0
"""Write the `[ANNOUNCE]` email of a published release into dist/<V>/ (the release manager sends it).

Everything in it comes from the release record: the release notes the build took from the
changelog, the distributions and their versions, the released files and their sha512, the svn
release folder the vote's files were promoted to, and the image tags the release set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from release.adapters.atr import Distribution, Recorded
from release.adapters.clients import Atr
from release.config import ReleaseConfig
from release.emails import Announcement, missing_recipient, render_announce_email
from release.errors import ConfigError, RefusedError
from release.plan.atr import AtrPlan
from release.plan.tags import split_tag
from release.progress import Progress, to_log
from release.record import ReleaseRecord, load_record, release_dir, write_atomic
from release.versions import ReleaseVersion

ANNOUNCE_EMAIL = "announce-email.txt"
PUBLISHED = ("upload", "aliases", "report")


def check_published(record: ReleaseRecord, version: ReleaseVersion) -> None:
    """Refuse a release that is not (completely) published, or was withdrawn."""
    if version.is_prerelease:
        raise RefusedError(f"{version} is a pre-release: only final releases are announced (a candidate's "
                           "email is its [VOTE])")
    if record.withdrawal is not None:
        raise RefusedError(f"{version} was withdrawn ({record.withdrawal.reason}); a withdrawn release is "
                           "not announced")
    missing = [step for step in PUBLISHED if not record.is_done(step)]
    if missing:
        if record.promotion is not None:
            how = f"invoke publish --version {version}"
        elif record.build is not None:
            how = f"invoke release --version {version}"
        else:
            how = (f"invoke promote --version {version} --from-rc <the voted rc>, then "
                   f"invoke publish --version {version}")
        raise RefusedError(f"{version} is not published yet ({', '.join(missing)} not done); publish it "
                           f"first: {how}")


def announcement(config: ReleaseConfig, record: ReleaseRecord, *, keys_url: str, index_url: str,
                 repository: str) -> Announcement:
    """What the email says, from the record."""
    version = record.version
    distributions = record.distributions() or {config.name: version}
    immutable = sorted(t for t in record.tags if split_tag(t)[0] == version)
    aliases = sorted(t for t in record.tags if split_tag(t)[0] != version)
    return Announcement(
        project=config.project, version=version, to=config.announce_to,
        release_notes=record.build.release_notes if record.build else "",
        distributions=tuple(sorted(distributions.items())),
        download_url=record.promotion.url if record.promotion else "",
        files=tuple((Path(e.path).name, e.sha512) for e in record.files_in("svn")),
        keys_url=keys_url,
        images=tuple(f"{repository}:{tag}" for tag in (*immutable, *aliases)),
        index_url=index_url,
    )


def announce_release(config: ReleaseConfig, version: ReleaseVersion, *, keys_url: str, index_url: str,
                     repository: str, progress: Progress = to_log) -> Path:
    """Render the [ANNOUNCE] email of a published `version` into dist/<V>/; its path."""
    directory = release_dir(config.root, str(version))
    record = load_record(directory, str(version))
    check_published(record, version)
    email = directory / ANNOUNCE_EMAIL
    write_atomic(email, render_announce_email(
        announcement(config, record, keys_url=keys_url, index_url=index_url, repository=repository)))
    missing = missing_recipient(config.announce_to, "announce-list", email)
    if missing:
        progress(missing)
    return email


# --- finishing in Apache Trusted Releases ----------------------------------------------------------------


def finish_in_atr(config: ReleaseConfig, version: ReleaseVersion, plan: AtrPlan, client: Atr, *,
                  keys_url: str, index_url: str, repository: str, tags: Sequence[str],
                  progress: Progress = to_log) -> bool:
    """Finish a published final in ATR once its packages and images are out: ATR moves the voted
    revision to its release area and sends the announcement, the [ANNOUNCE] email rendered from the
    record (also written to dist/<V>/) with `tags` as the image tags. False: finished already."""
    directory = release_dir(config.root, str(version))
    record = load_record(directory, str(version))
    missing = [step for step in ("upload", "aliases") if not record.is_done(step)]
    if version.is_prerelease or missing:
        raise RefusedError(f"{version} is not ready to finish in ATR "
                           f"({', '.join(missing) + ' not done' if missing else 'a pre-release'})")
    if not plan.announce_to:
        raise ConfigError("ATR sends the announcement: set [tool.release] announce-list (or mailing-list)")
    found = dataclasses.replace(
        announcement(config, record, keys_url=keys_url, index_url=index_url, repository=repository),
        to=plan.announce_to, images=tuple(f"{repository}:{tag}" for tag in tags))
    text = render_announce_email(found)
    write_atomic(directory / ANNOUNCE_EMAIL, text)
    head, _, body = text.partition("\n\n")
    subject = next((line.partition(":")[2].strip() for line in head.splitlines()
                    if line.lower().startswith("subject:")), f"[ANNOUNCE] {config.project} {version}")
    finished = client.announce(plan.release, email_to=plan.announce_to, subject=subject, body=body,
                               path_suffix=str(version))
    progress(f"{plan.where} {'finished and announced' if finished else 'was finished already'}")
    return finished


def record_distributions(plan: AtrPlan, client: Atr, *, progress: Progress = to_log) -> tuple[Recorded, ...]:
    """Each of the plan's distributions recorded in ATR; a refusal because ATR could not reach the
    platform is a warning naming it (the adapter says it), any other failure an error."""
    found = tuple(client.record_distribution(plan.release, Distribution(d.platform, d.package, d.version,
                                                                        owner=d.owner))
                  for d in plan.distributions)
    progress(f"ATR: {sum(r.recorded for r in found)} of {len(found)} distribution(s) recorded")
    return found
