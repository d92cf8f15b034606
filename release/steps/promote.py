# SPDX-License-Identifier: Apache-2.0
"""After a passed vote: the voted files become the release, unchanged (no rebuild, no re-signing).

A candidate is promoted only with a passing vote result in its record (`invoke vote-result`), or
when the release manager says why not (recorded). Once the release folder holds the voted files,
the candidates of that version are removed from svn dev/. A runner publishing a final promoted on
another machine takes the files from the release folder (`take_released`). Each returns the
entries it produced (the voted files, their signatures, the build, the promotion); the pipeline
records them in dist/<final>/release.json.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from release.adapters import git, svn
from release.adapters.atr import PREVIEW, RELEASED
from release.adapters.clients import Atr
from release.config import ReleaseConfig
from release.errors import RefusedError, VersionError
from release.plan.atr import AtrPlan
from release.plan.cleanup import candidates_of
from release.plan.provenance import published_beside
from release.plan.release import artefact_kind
from release.progress import Progress, to_log
from release.record import (
    BuildInfo,
    FileEntry,
    PromotionInfo,
    ReleaseRecord,
    SignatureEntry,
    StageInfo,
    copy_atomic,
    load_record,
    record_of,
    release_dir,
    sha512_of,
)
from release.versions import ReleaseVersion, parse_version

log = logging.getLogger("release.promote")


@dataclass(frozen=True)
class VotedEntries:
    """What dist/<final>/ records of the voted files placed in it, and the build they came from."""

    files: tuple[FileEntry, ...]
    signatures: tuple[SignatureEntry, ...]
    build: BuildInfo


@dataclass(frozen=True)
class PromoteResult:
    version: str
    from_rc: str
    url: str
    revision: int | None  # None when the release folder already held the voted files
    commit: str
    directory: Path  # dist/<final>
    pypi_files: tuple[Path, ...]
    voted: VotedEntries  # what the pipeline records, with the promotion
    promotion: PromotionInfo
    removed: tuple[str, ...] = ()  # the candidates removed from dev/ by this run


def _export_files(url: str, dest: Path, beside: Collection[str] = ()) -> dict[str, str]:
    """name -> sha512 of what `url` holds, leaving out the provenance files published `beside` the
    voted ones (a final's folder gets the record and SBOMs once it is published)."""
    svn.export(url, dest)
    return {name: sha512_of(p) for p in sorted(dest.rglob("*"))
            if p.is_file() and (name := p.relative_to(dest).as_posix()) not in beside}


def check_voted(folder: Path, found: Mapping[str, str], voted: Mapping[str, str], url: str) -> None:
    """Refuse unless `found` is exactly what was staged, and every checksum file still agrees."""
    if found != voted:
        changed = sorted(set(found) ^ set(voted) | {n for n in found if voted.get(n) != found[n]})
        raise RefusedError(f"{url} differs from what was staged for the vote ({', '.join(changed)}); "
                           f"only the files voted on can be released")
    for name in found:
        if artefact_kind(name):
            checksum = (folder / f"{name}.sha512").read_text(encoding="utf-8").split()
            if checksum[:1] != [found[name]]:
                raise RefusedError(f"{url}/{name}.sha512 does not match {name}")


def check_vote_result(rc_record: ReleaseRecord, without_vote_result: str) -> None:
    """Refuse a candidate without a passing vote result, unless the release manager gave a reason."""
    if without_vote_result.strip():
        return
    rc = rc_record.version
    override = 'or promote it anyway with --without-vote-result --reason "why"'
    result = rc_record.vote_result
    if result is None:
        raise RefusedError(f"{rc} has no vote result: count the votes with `invoke vote-result --version "
                           f"{rc} --votes FILE`, {override}")
    if not result.passed:
        raise RefusedError(f"the vote on {rc} did not pass ({'; '.join(result.reasons)}): stage a new "
                           f"candidate, {override}")


@dataclass(frozen=True)
class VotedCandidate:
    """What a promotion starts from: the candidate's record and the files it staged for the vote,
    the final's record, and the reason recorded for promoting without a passing result."""
    rc: ReleaseVersion
    staged: StageInfo
    voted: dict[str, str]  # file name -> sha512, as staged for the vote
    build: BuildInfo
    directory: Path  # dist/<final>
    record: ReleaseRecord
    without_vote_result: str


def voted_candidate(config: ReleaseConfig, final: ReleaseVersion, rc: ReleaseVersion,
                    without_vote_result: str) -> VotedCandidate:
    """The candidate `rc` of `final` as its record has it, refused unless it staged files and its vote
    passed (or the release manager gave a reason, which a rerun of the same promotion keeps)."""
    if not rc.is_rc or final.is_prerelease or rc.final != final:
        raise VersionError(f"{final} cannot be promoted from {rc}: give a final version and one of its rcs")
    rc_record = record_of(config.root, rc)
    staged = rc_record.stage
    if staged is None or not staged.files or rc_record.build is None:
        raise RefusedError(f"dist/{rc}/release.json records no staged files; promote from the tree that "
                           f"staged {rc}")
    directory = release_dir(config.root, str(final))
    record = load_record(directory, str(final))
    if record.promotion is not None and record.promotion.from_rc == str(rc):  # a rerun keeps its reason
        without_vote_result = without_vote_result.strip() or record.promotion.without_vote_result
    check_vote_result(rc_record, without_vote_result)
    return VotedCandidate(rc, staged, dict(staged.files), rc_record.build, directory, record,
                          without_vote_result.strip())


def tag_final(config: ReleaseConfig, repo: Path, final: ReleaseVersion, candidate: VotedCandidate,
              progress: Progress) -> str:
    """Tag the staged commit as `final` (the rc's tag must still be on it); the commit."""
    rc, staged = candidate.rc, candidate.staged
    commit = git.tag_commit(repo, str(rc)) or staged.commit
    if commit != staged.commit:
        raise RefusedError(f"git tag {rc} is on {commit[:12]}, but {staged.commit[:12]} was staged")
    if git.ensure_tag(repo, str(final), commit, f"{config.project} {final}"):
        progress(f"tagged {commit[:12]} as {final} (push it: git push origin {final})")
    return commit


def placed_entries(candidate: VotedCandidate, placed: Collection[Path]) -> VotedEntries:
    """dist/<final>/'s entries of the voted files placed in it, and the build they came from."""
    files, signatures = voted_entries(candidate.directory, placed, str(candidate.rc))
    return VotedEntries(tuple(files), tuple(signatures),
                        dataclasses.replace(candidate.build, promoted_from=str(candidate.rc)))


def promote_release(config: ReleaseConfig, final_version: ReleaseVersion, *,
                    from_rc: ReleaseVersion, svn_dev_url: str, svn_release_url: str,
                    repo_root: Path | None = None, without_vote_result: str = "",
                    progress: Progress = to_log,
                    checked: Callable[[str], None] | None = None) -> PromoteResult:
    """svn-copy dev/<name>/<rc>/ to release/<name>/<final>/, tag git, fill dist/<final>/ for publishing,
    and remove the candidates of <final> from dev/. `without_vote_result` is the recorded reason to
    promote a candidate that has no passing vote result.

    The candidate is checked and copied at one pinned revision, so a commit landing in between is
    never what gets released. `checked(url@rev)` is called between the two (a seam for tests)."""
    final = final_version
    rc = from_rc
    voted_rc = voted_candidate(config, final, rc, without_vote_result)
    voted, record, directory = voted_rc.voted, voted_rc.record, voted_rc.directory
    dev_url = svn.join(svn_dev_url, config.name, str(rc))
    release_url = svn.join(svn_release_url, config.name, str(final))
    with tempfile.TemporaryDirectory(prefix="release-promote-") as work:
        folder = Path(work) / "voted"
        # a rerun after the candidates were removed from dev/ checks the release folder instead
        source = release_url if record.promotion is not None and not svn.exists(dev_url) else dev_url
        candidate = svn.pinned(source, svn.head_revision(source))
        progress(f"checking {candidate} against the files staged for the vote")
        beside = published_beside(record, config.constraints)  # only a release folder has them
        check_voted(folder, _export_files(candidate, folder, beside if source == release_url else ()),
                    voted, source)
        if checked is not None:
            checked(candidate)
        revision: int | None = None
        if svn.exists(release_url):
            if _export_files(release_url, Path(work) / "released", beside) != voted:
                raise RefusedError(f"{release_url} exists with other files; a release is never replaced")
            progress(f"{release_url} already holds the voted files")
        else:
            revision = svn.copy(candidate, release_url, f"Release {config.project} {final} from {rc} "
                                                        f"(vote passed)")
            progress(f"copied {candidate} to {release_url} (r{revision})")
        commit = tag_final(config, repo_root or config.root, final, voted_rc, progress)
        placed = place_voted(folder, directory, sorted(voted))
    earlier = record.promotion
    removed = remove_candidates(config, final, svn_dev_url, progress)
    promotion = PromotionInfo(
        str(rc), dev_url, release_url, earlier.revision if revision is None and earlier else revision, commit,
        without_vote_result=voted_rc.without_vote_result,
        removed_candidates=(*(earlier.removed_candidates if earlier else ()), *removed))
    pypi = tuple(p for p in placed if p.parent.name == "pypi")
    return PromoteResult(str(final), str(rc), release_url, revision, commit, directory, pypi,
                         placed_entries(voted_rc, placed), promotion, removed)


def voted_entries(directory: Path, placed: Collection[Path],
                  rc: str) -> tuple[list[FileEntry], list[SignatureEntry]]:
    """What dist/<final>/ records of the voted files placed in it: each artefact (and each package
    for the index) as a file of `rc`, and the voted .asc and .sha512 beside an artefact as its
    signatures, as the signing step records its own."""
    relative = [(path.relative_to(directory).as_posix(), path) for path in placed]
    files = [FileEntry(r, sha512_of(p), artefact_kind(p.name), r.split("/")[0], rc)
             for r, p in relative if artefact_kind(p.name) or r.startswith("pypi/")]
    signatures = [SignatureEntry(r, sha512_of(p), of) for r, p in relative
                  if (of := r.removesuffix(".asc").removesuffix(".sha512")) != r
                  and artefact_kind(of.rsplit("/", 1)[-1])]
    return files, signatures


def remove_candidates(config: ReleaseConfig, final: ReleaseVersion, svn_dev_url: str,
                      progress: Progress = to_log) -> tuple[str, ...]:
    """Remove every candidate of `final` from dev/<name>/ in one commit (the release holds it now)."""
    folder = svn.join(svn_dev_url, config.name)
    names = candidates_of(final, svn.list_folder(folder))
    if not names:
        return ()
    urls = [svn.join(folder, name) for name in names]
    revision = svn.remove(urls, f"Remove the candidates of {config.project} {final}: it is released")
    progress(f"removed {', '.join(names)} from {folder} (r{revision})")
    return names


def place_voted(folder: Path, directory: Path, names: list[str]) -> list[Path]:
    """svn/ gets every voted file, pypi/ the sdist and wheel; identical files stay, others are refused."""
    pairs = [(folder / n, directory / "svn" / n) for n in names]
    pairs += [(folder / n, directory / "pypi" / n) for n in names if artefact_kind(n) in {"sdist", "wheel"}]
    for source, target in pairs:
        if target.exists() and sha512_of(target) != sha512_of(source):
            raise RefusedError(f"{target} exists with other content; move {directory} away and promote again")
    for source, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            copy_atomic(source, target)
    return [target for _, target in pairs]


# --- staged in Apache Trusted Releases ----------------------------------------------------------------


def promote_from_atr(config: ReleaseConfig, final: ReleaseVersion, *, from_rc: ReleaseVersion, plan: AtrPlan,
                     client: Atr, url: str, repo_root: Path | None = None, without_vote_result: str = "",
                     progress: Progress = to_log) -> PromoteResult:
    """The voted revision read back from ATR (whose vote must be resolved as passed) and checked
    against the files staged for the vote, the final tagged in git, dist/<final>/ filled for
    publishing. Nothing moves in ATR here: `invoke publish` finishes the release there once the
    packages and images are out."""
    rc = from_rc
    voted_rc = voted_candidate(config, final, rc, without_vote_result)
    voted, directory, staged = voted_rc.voted, voted_rc.directory, voted_rc.staged
    found = client.release(plan.release)
    if found is None:
        raise RefusedError(f"{plan.where} does not exist; stage {rc} first")
    if found.phase not in (PREVIEW, RELEASED):
        raise RefusedError(f"the vote on {plan.where} is not resolved as passed in ATR (phase "
                           f"{found.phase}): "
                           f"invoke vote-result --version {rc} --votes FILE resolves it")
    # resolving the vote makes a revision of ATR's own (00010 voted, 00011 after it): what is checked
    # is that the release holds exactly the files staged for the vote, byte for byte
    with tempfile.TemporaryDirectory(prefix="release-promote-") as work:
        folder = Path(work) / "voted"
        progress(f"reading {plan.where} back and checking it against the files staged for the vote")
        names = client.paths(plan.release)
        held = {name: sha512_of(client.download(plan.release, name, folder / name)) for name in names}
        check_voted(folder, held, voted, url)
        commit = tag_final(config, repo_root or config.root, final, voted_rc, progress)
        placed = place_voted(folder, directory, sorted(voted))
    promotion = PromotionInfo(str(rc), url, url, staged.revision, commit,
                              without_vote_result=voted_rc.without_vote_result)
    pypi = tuple(p for p in placed if p.parent.name == "pypi")
    progress(f"dist/{final} holds the {len(voted)} files voted on in {plan.where}; invoke publish finishes "
             "the release in ATR")
    return PromoteResult(str(final), str(rc), url, None, commit, directory, pypi,
                         placed_entries(voted_rc, placed), promotion)


# --- promoted on another machine ----------------------------------------------------------------------


@dataclass(frozen=True)
class TakenRelease:
    version: str
    from_rc: str
    url: str  # the release folder, pinned to the revision read
    commit: str
    directory: Path  # dist/<V>
    files: tuple[str, ...]  # the artefacts and their .asc and .sha512, as the folder holds them
    left_alone: tuple[str, ...]  # other files there (the published record, SBOMs): not taken
    voted: VotedEntries  # what the pipeline records, with the promotion
    promotion: PromotionInfo


def candidate_of(repo: Path, final: ReleaseVersion) -> tuple[str, ReleaseVersion]:
    """(commit, rc): the commit git tag `final` is on, and the newest candidate of `final` tagged
    on that same commit; refused when either tag is missing."""
    commit = git.tag_commit(repo, str(final))
    if commit is None:
        raise RefusedError(f"no git tag {final} in {repo}: push the tag invoke promote made (git push "
                           f"origin {final}) and check out with tags")
    rcs = []
    for name, at in git.GitReader(repo).tags_matching([f"{final}rc*"]).items():
        try:
            found = parse_version(name)
        except ValueError:
            continue
        if at == commit and found.is_rc and found.final == final:
            rcs.append(found)
    if not rcs:
        raise RefusedError(f"git tag {final} is on {commit[:12]}, where no candidate of {final} is tagged: "
                           "a final is published only from a promoted candidate")
    return commit, max(rcs)


# (folder, the KEYS text) -> (the files taken, the files left alone, what failed): verify's check of a
# release folder, handed in by the pipeline
ReleaseCheck = Callable[[Path, str], tuple[tuple[str, ...], tuple[str, ...], list[str]]]


def take_released(config: ReleaseConfig, final: ReleaseVersion, *, svn_release_url: str, keys_url: str,
                  check: ReleaseCheck, repo_root: Path | None = None, progress: Progress = to_log
                  ) -> TakenRelease:
    """A final promoted on another machine, for publishing here (a CI runner has neither dist/<V>/
    nor the candidate's record): the files of svn release/<name>/<final>/, the place only the PMC
    writes to, accepted only when `check` finds every artefact signed by a key in KEYS and matching
    its checksum, and git holds <final> and a candidate of it on the same commit, which HEAD is.
    They go to dist/<final>/ as a promotion puts them; nothing is rebuilt or signed again."""
    url = svn.join(svn_release_url, config.name, str(final))
    if not svn.exists(url):
        raise RefusedError(f"{final} has not been promoted: {url} does not exist; after the vote of a "
                           f"candidate, invoke promote --version {final} --from-rc RC")
    repo = repo_root or config.root
    commit, rc = candidate_of(repo, final)
    head = git.commit_of(repo)
    if head != commit:
        raise RefusedError(f"HEAD is {head[:12]}, not {commit[:12]} where git tag {final} is: the images of "
                           f"the voted files are built from the tag's commit; git checkout {final}")
    revision = svn.head_revision(url)
    pinned = svn.pinned(url, revision)
    directory = release_dir(config.root, str(final))
    with tempfile.TemporaryDirectory(prefix="release-taken-") as work:
        folder = svn.export(pinned, Path(work) / "released")
        progress(f"took {pinned}; checking its signatures against {keys_url} and its checksums")
        ours, left, failed = check(folder, svn.read_text(keys_url))
        if failed:
            raise RefusedError(f"{pinned} is not what was signed: {'; '.join(failed)}")
        placed = place_voted(folder, directory, sorted(ours))
    files, signatures = voted_entries(directory, placed, str(rc))
    wheels = [parse_wheel_filename(Path(e.path).name)[:2] for e in files
              if e.set == "svn" and e.kind == "wheel"]
    versions = {dist.name: str(version) for dist in config.distributions for name, version in wheels
                if name == canonicalize_name(dist.name)}
    build = BuildInfo(commit, git.commit_time(repo, commit), declared_in="", declared_version=str(final),
                      promoted_from=str(rc), distributions=versions)
    promotion = PromotionInfo(str(rc), "", url, revision, commit, taken_from_release=True)
    progress(f"{len(ours)} files of {final} (promoted from {rc}, tagged on {commit[:12]}) are in {directory}")
    return TakenRelease(str(final), str(rc), pinned, commit, directory, ours, left,
                        VotedEntries(tuple(files), tuple(signatures), build), promotion)
