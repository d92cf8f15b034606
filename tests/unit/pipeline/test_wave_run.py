# SPDX-License-Identifier: Apache-2.0
"""A provider wave's run executed from its plan (`pipeline/wave_run.py`): the executor walks the
plan's steps, each through a runner that returns what it produced, and only the executor writes
wave.json. The runners that run git, the build backends, gpg and svn are stood in for in memory
(`MemoryWave`, each keeping what is done as the real one does); the index's and the vote email's are
the real ones, the index's over an in-memory package index. The whole run, a failure in each step
and the rerun after it: what is recorded, what is redone."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from release import console
from release.adapters.clients import Clients
from release.cli.show import show_wave
from release.config import ReleaseConfig, parse_config
from release.errors import RefusedError, ServiceError
from release.pipeline.connect import Target
from release.pipeline.trains import Wave, plan_train, run_to_json, wave_directory
from release.pipeline.wave_images import wave_images
from release.pipeline.wave_run import (
    Checked,
    ConstraintsTagged,
    ConstraintsWritten,
    ImagesPushed,
    ImagesSigned,
    ProvenanceAttached,
    Runner,
    SbomsWritten,
    Signed,
    Staged,
    Tagged,
    WaveBuild,
    WaveRunning,
    attach_provenance,
    build_wave,
    run_wave,
)
from release.plan.images import LABEL_ARGS
from release.plan.provenance import artifact_layers, attachment_tag, lookaside_path
from release.plan.release import PlannedImage
from release.plan.wave import WaveStepName, candidate_tags, dev_folders
from release.record import ImageEntry, ImageSignatureEntry, SbomEntry, checksum_text, sha512_of
from tests.unit.memory import MemoryIndex, MemoryRegistry
from tests.unit.memory_git import MemoryGit
from tests.unit.pipeline.test_trains import CORE, DATE, PROVIDERS, core_files, released, three_changed
from tests.unit.test_trains import airflow_table

TARGET = Target(registry="registry.test", index_upload="https://index.test/legacy/",
                index_simple="https://index.test/simple/", svn_dev="https://svn.test/dev",
                svn_release="https://svn.test/release", signing_key="ABCD1234", keys_url="https://svn.test/KEYS")
FINGERPRINT = "F" * 40
EPOCH = 1791328848
ALL = ["build", "sign", "PMC checks", "stage", "tags", "index", "vote email"]
STOOD_IN = ALL[:5]  # the steps MemoryWave runs; the index's and the vote email's runners are real
RECORDS = {"build": {"source_date_epoch", "files"}, "sign": {"signed", "signer"}, "PMC checks": set(),
           "stage": {"staged"}, "tags": {"tags"}, "index": {"candidates_published"}, "vote email": set()}
RC_FILES = sorted(f"apache_airflow_providers_{name}-{version}rc1{end}"
                  for name, version in (("common_io", "1.11.1"), ("ftp", "3.16.2"), ("http", "6.3.1"))
                  for end in (".tar.gz", "-py3-none-any.whl"))


@dataclass
class MemoryWave:
    """The wave's build, signing, PMC checks, svn and git in memory: each writes under the wave's
    directory what the real step writes (the same bytes on every run) and keeps what is done, as
    the real one does. `fail` names a step and why it fails; `svn` holds what was committed by
    path, `revisions` each commit made; `git` gets the tags; `ran` each step in the order it ran;
    `index` is the package index the real index step uploads to."""

    git: MemoryGit
    fail: dict[WaveStepName, str] = field(default_factory=dict)
    svn: dict[str, bytes] = field(default_factory=dict)
    revisions: list[int] = field(default_factory=list)
    ran: list[WaveStepName] = field(default_factory=list)
    index: MemoryIndex = field(default_factory=MemoryIndex)

    registry: MemoryRegistry = field(default_factory=MemoryRegistry)

    def runners(self) -> dict[WaveStepName, Runner]:
        return {WaveStepName.BUILD: self.build, WaveStepName.SIGN: self.sign,
                WaveStepName.PMC_CHECKS: self.check, WaveStepName.STAGE: self.stage,
                WaveStepName.TAGS: self.tags, WaveStepName.CONSTRAINTS_TAGS: self.constraints_tags,
                WaveStepName.IMAGES: self.images, WaveStepName.CONSTRAINTS: self.constraints,
                WaveStepName.SBOM: self.sbom, WaveStepName.ATTEST: self.attest,
                WaveStepName.PROVENANCE: self.provenance}

    def _start(self, step: WaveStepName) -> None:
        self.ran.append(step)
        if step in self.fail:
            raise ServiceError(f"{step.value}: {self.fail[step]}")

    def build(self, run: WaveRunning) -> WaveBuild:
        self._start(WaveStepName.BUILD)
        names = [f"svn/{run.plan.source_tarball}"] + [f"svn/{f}" for e in run.plan.entries for f in e.files
                                                      if not f.endswith((".asc", ".sha512"))]
        names += [f"pypi/{f}" for e in run.plan.entries for f in e.index_files]
        recorded = run.recorded.get("files") or {}
        if sorted(recorded) == sorted(names):
            return WaveBuild(run.directory, run.wave.commit, dict(recorded), True)
        for name in names:
            (run.directory / name).parent.mkdir(parents=True, exist_ok=True)
            (run.directory / name).write_text(f"{name} built from {run.wave.commit}\n")
        files = {n: sha512_of(run.directory / n) for n in names}
        return WaveBuild(run.directory, run.wave.commit, files, False, EPOCH)

    def sign(self, run: WaveRunning) -> Signed:
        self._start(WaveStepName.SIGN)
        built = run.earlier(WaveBuild)
        signed = {}
        for relative in sorted(f for f in built.files if f.startswith("svn/")):
            for suffix in (".asc", ".sha512"):
                path = run.directory / f"{relative}{suffix}"
                if not path.is_file():  # correct signatures are kept
                    path.write_text(f"{suffix} of {built.files[relative]}\n")
                signed[f"{relative}{suffix}"] = sha512_of(path)
        return Signed(signed, FINGERPRINT)

    def check(self, run: WaveRunning) -> Checked:
        self._start(WaveStepName.PMC_CHECKS)
        return Checked(tuple(sorted(run.earlier(WaveBuild).files)))

    def stage(self, run: WaveRunning) -> Staged:
        """One commit of what svn lacks (none when all is there with these bytes), as put_files."""
        self._start(WaveStepName.STAGE)
        paths = [p for e in run.plan.entries for p in e.svn_dev]
        paths += [run.plan.source_dev + s for s in ("", ".asc", ".sha512")]
        files = {p: (run.directory / "svn" / p.rsplit("/", 1)[-1]).read_bytes() for p in paths}
        revision = None
        if any(self.svn.get(p) != data for p, data in files.items()):
            self.svn.update(files)
            revision = len(self.revisions) + 1
            self.revisions.append(revision)
        earlier = run.recorded.get("staged") or {}
        url = f"{TARGET.svn_dev}/apache-airflow"
        at = earlier.get("at") or f"2026-12-07T10:0{len(self.ran)}:00+00:00"
        folders = tuple(f"{url}/{folder}" for folder in dev_folders(run.plan))
        return Staged(url, folders, revision, tuple(sorted(files)), at, earlier.get("revision"))

    def tags(self, run: WaveRunning) -> Tagged:
        """Each tag set once, on the wave's commit; a tag there already is left alone."""
        self._start(WaveStepName.TAGS)
        wanted = [tag for tag, _ in candidate_tags(run.plan)]
        created = [tag for tag in wanted if tag not in self.git.tags]
        for tag in created:
            self.git.tag(tag, run.wave.commit)
        return Tagged(tuple(wanted), tuple(created))


    def constraints_tags(self, run: WaveRunning) -> ConstraintsTagged:
        """The constraints branch's commit tagged once for the candidate (the real runner, which commits
        the files of the wave's constraints folder, runs real git: tests/integration)."""
        self._start(WaveStepName.CONSTRAINTS_TAGS)
        refs = run.plan.constraints
        assert refs is not None
        tagged = refs.tag not in self.git.tags
        if tagged:
            self.git.tag(refs.tag, "c" * 40)
        return ConstraintsTagged(refs.branch, self.git.tags[refs.tag], refs.tag, ("constraints-3.11.txt",),
                                 tagged, tagged)

    def images(self, run: WaveRunning) -> ImagesPushed:
        """Each image of the plan pushed once under its candidate tag, labelled with the voted
        version and the wheels it installs, as the image job would; one there already is kept."""
        self._start(WaveStepName.IMAGES)
        lead = run.plan.entries[0]
        pushed = {}
        for image in run.plan.images:
            flavour = image.tag.rpartition("-python")[2]
            digest = (self.registry.manifest_digest("apache/airflow", image.tag)
                      or self.registry.push("apache/airflow", image.tag,
                                            {LABEL_ARGS["IMAGE_VERSION"]: str(lead.version)}))
            entry = ImageEntry(flavour, f"registry.test/apache/airflow:{image.tag}", digest, "", "sha256:in",
                               "python:" + flavour, "sha256:base")
            pushed[entry.key] = asdict(entry)
        return ImagesPushed("registry.test/apache/airflow", str(lead.candidate), str(lead.version), pushed,
                            {image.tag: ["version", "pip-check"] for image in run.plan.images})

    def constraints(self, run: WaveRunning) -> ConstraintsWritten:
        self._start(WaveStepName.CONSTRAINTS)
        files, signed = {}, {}
        for image in run.plan.images:
            path = run.directory / image.constraints
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("apache-airflow==3.3.3\nsqlalchemy==2.0.44\n")
            flavour = image.tag.rpartition("-python")[2]
            files[image.constraints] = {"sha512": sha512_of(path), "flavour": flavour, "variant": "",
                                        "image": image.tag}
            signed[f"{image.constraints}.sha512"] = sha512_of(path)
        return ConstraintsWritten(files, signed)


    def _images(self, run: WaveRunning) -> list[tuple[PlannedImage, str]]:
        pushed = run.earlier(ImagesPushed).images
        return [(i, pushed[i.key]["digest"]) for i in wave_images(run.config, run.plan, TARGET.registry)]

    @staticmethod
    def _write(run: WaveRunning, relative: str, text: str) -> Path:
        """provenance/`relative` with its .asc and .sha512, as gpg and the checksum would leave them;
        a rerun keeps what is there, as the real steps do."""
        path = run.directory / "provenance" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file():
            path.write_text(text)
            fake_sign(path, FINGERPRINT, None)
        return path

    def sbom(self, run: WaveRunning) -> SbomsWritten:
        """Each image's SBOM (what write_sboms writes, made-up bytes naming its digest), signed."""
        self._start(WaveStepName.SBOM)
        sboms, signed = {}, {}
        for image, digest in self._images(run):
            path = self._write(run, image.sbom, f'{{"describes": "{digest}"}}\n')
            sboms[image.sbom] = asdict(SbomEntry(image.sbom, sha512_of(path), image.image.flavour, image.ref,
                                                 digest, 2))
            signed.update((f"{image.sbom}{s}", sha512_of(path.with_name(path.name + s))) for s in SIGS)
        return SbomsWritten(sboms, signed)

    def attest(self, run: WaveRunning) -> ImagesSigned:
        """Each digest's simple-signing signature (what sign_images writes), into the lookaside tree."""
        self._start(WaveStepName.ATTEST)
        lookaside = f"{TARGET.svn_dev}/apache-airflow/signatures"
        signatures = {}
        for image, digest in self._images(run):
            path = self._write(run, image.signature, f"simple signing of {digest}\n")
            url = f"{lookaside}/{lookaside_path('apache/airflow', digest)}"
            self.svn.setdefault(url, path.read_bytes())
            signatures[image.signature] = asdict(ImageSignatureEntry(
                image.signature, sha512_of(path), image.image.flavour, image.ref, digest, FINGERPRINT, url))
        return ImagesSigned(signatures, lookaside)

    def provenance(self, run: WaveRunning) -> ProvenanceAttached:
        """The real step over the in-memory registry, wave.json's copy signed as gpg would."""
        self._start(WaveStepName.PROVENANCE)
        return attach_provenance(run, fake_sign)


SIGS = (".asc", ".sha512")


def fake_sign(path: Path, key: str, gnupghome: Path | None) -> None:
    """X.asc and X.sha512 as `sign_record` leaves them (replaced), with made-up signature bytes."""
    path.with_name(path.name + ".asc").write_text(f"signature of {sha512_of(path)} by {key}\n")
    path.with_name(path.name + ".sha512").write_text(checksum_text(path))


def setup(tmp_path: Path) -> tuple[ReleaseConfig, MemoryWave]:
    return parse_config(tmp_path, airflow_table()), MemoryWave(three_changed())


def planned(config: ReleaseConfig, memory: MemoryWave) -> Wave:
    return plan_train(config, PROVIDERS, date=DATE, reader=memory.git)


def run(config: ReleaseConfig, memory: MemoryWave, announced: list[str] | None = None,
        said: list[str] | None = None) -> Any:
    return run_wave(config, planned(config, memory), TARGET, key=FINGERPRINT, runners=memory.runners(),
                    index=memory.index,
                    announce=lambda name, does: (announced if announced is not None else []).append(name),
                    say=(said if said is not None else []).append)


def recorded(config: ReleaseConfig) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((config.root / "dist" / f"providers-{DATE}" / "wave.json").read_text())
    return data


def test_the_whole_run_walks_the_plans_steps_and_records_each_one(tmp_path: Path) -> None:
    config, memory = setup(tmp_path)
    wave = planned(config, memory)
    assert [s.name.value for s in wave.plan.steps] == ALL  # Airflow's releases are voted on: PMC checks
    announced: list[str] = []
    said: list[str] = []
    done = run(config, memory, announced, said)
    assert announced == ALL and [s.value for s in memory.ran] == STOOD_IN
    assert done.steps == tuple(ALL) and done.revision == 1
    assert done.tags == ("providers-common-io/1.11.1rc1", "providers-ftp/3.16.2rc1",
                         "providers-http/6.3.1rc1", f"providers/{DATE}")
    assert done.staged == ("https://svn.test/dev/apache-airflow/providers",)
    data = recorded(config)
    assert (data["train"], data["date"], data["commit"], data["source_date_epoch"]) == (
        "providers", DATE, wave.commit, EPOCH)
    assert sorted(data["files"]) == sorted(done.build.files) and len(data["files"]) == 13
    assert sorted(f for f in data["files"] if f.startswith("pypi/")) == [f"pypi/{f}" for f in RC_FILES]
    assert data["signer"] == FINGERPRINT and sorted(data["signed"]) == sorted(done.signed)
    assert len(data["signed"]) == 14 and not any(f.startswith("pypi/") for f in data["signed"])  # unsigned
    # the rc-numbered packages on the index, the bytes built, each under its own project; not staged
    assert data["candidates_published"] == {"index": "https://index.test/legacy/", "files": RC_FILES}
    assert sorted(memory.index.uploads) == RC_FILES and not any("rc1" in p for p in memory.svn)
    directory = wave_directory(config, wave.plan)
    http = memory.index.projects["apache-airflow-providers-http"]
    assert http == {f: (directory / "pypi" / f).read_bytes() for f in RC_FILES if "_http-" in f}
    assert memory.index.versions("apache-airflow-providers-ftp") == ["3.16.2rc1"]
    assert data["staged"] == {"url": "https://svn.test/dev/apache-airflow", "revision": 1,
                              "files": sorted(memory.svn), "at": "2026-12-07T10:04:00+00:00"}
    assert data["tags"] == list(done.tags) and data["steps"] == ALL
    email = wave_directory(config, wave.plan) / "vote-email.txt"
    text = email.read_text()
    assert "[VOTE] Release Apache Airflow providers 2026-12-07: 3 distributions" in text
    assert FINGERPRINT in text and "providers-http/6.3.1rc1" in text and f"\n  {done.staged[0]}\n" in text
    assert "  pip install apache-airflow-providers-http==6.3.1rc1\n" in text
    assert said[-1] == f"the vote email is {email}; send it to dev@airflow.apache.org"
    as_json = run_to_json(wave, done)
    assert as_json["steps"] == ALL and as_json["revision"] == 1 and as_json["tags_created"] == list(done.tags)
    assert as_json["candidates_published"] == data["candidates_published"]
    assert said.count("6 rc-numbered files uploaded to https://index.test/legacy/, 0 there already") == 1


def test_a_rerun_of_a_finished_run_redoes_every_step_and_changes_nothing(tmp_path: Path) -> None:
    config, memory = setup(tmp_path)
    first = run(config, memory)
    before = recorded(config)
    again = run(config, memory)
    assert [s.value for s in memory.ran] == STOOD_IN * 2
    assert again.build.reused and again.revision is None and again.tags == ()  # nothing committed or tagged
    assert again.on_index is not None and again.on_index.uploaded == ()
    assert sorted(again.on_index.kept) == RC_FILES
    assert sorted(memory.index.uploads) == RC_FILES  # each uploaded once: the index has these bytes
    assert memory.revisions == [1] and again.signed == first.signed
    assert recorded(config) == before  # the staging's revision and time are the first run's
    assert [e.rc for e in planned(config, memory).plan.entries] == [1, 1, 1]


@pytest.mark.parametrize("failing", [s for s in WaveStepName if s.value in ALL], ids=ALL)
def test_a_step_that_fails_leaves_what_came_before_recorded_and_the_rerun_finishes(
        tmp_path: Path, failing: WaveStepName) -> None:
    config, memory = setup(tmp_path)
    first = planned(config, memory)
    at = ALL.index(failing.value)
    if failing is WaveStepName.VOTE_EMAIL:  # the real runner: it fails on a folder where its email goes
        (wave_directory(config, first.plan) / "vote-email.txt").mkdir(parents=True)
    elif failing is WaveStepName.INDEX:  # the real runner: the index refuses the upload
        memory.index.fail["upload"] = "the service went away"
    else:
        memory.fail[failing] = "the service went away"
    with pytest.raises((ServiceError, IsADirectoryError)):
        run(config, memory)
    path = wave_directory(config, first.plan) / "wave.json"
    if at == 0:
        assert not path.exists()  # nothing was done: nothing recorded
    else:
        data = recorded(config)
        assert data["steps"] == ALL[:at]
        wanted = {"train", "date", "commit", "steps"}.union(*(RECORDS[s] for s in ALL[:at]))
        assert set(data) == wanted  # what the steps before it produced, and nothing of the later ones
    tags = dict(memory.git.tags)
    staged_at = recorded(config)["staged"]["at"] if at > ALL.index("stage") else None
    # the rerun: the same rc numbers, every step again, what was done kept
    memory.fail.clear()
    memory.index.fail.clear()
    if failing is WaveStepName.VOTE_EMAIL:
        (wave_directory(config, first.plan) / "vote-email.txt").rmdir()
    assert [e.tag for e in planned(config, memory).plan.entries] == [e.tag for e in first.plan.entries]
    done = run(config, memory)
    assert done.steps == tuple(ALL) and recorded(config)["steps"] == ALL
    assert memory.revisions == [1]  # staged once, whichever run it was
    assert done.revision == (None if at > ALL.index("stage") else 1)
    assert done.build.reused is (at > 0)
    assert set(memory.git.tags) - set(tags) == set(done.tags)  # no tag set twice
    assert len(done.tags) == (0 if at > ALL.index("tags") else 4)
    assert recorded(config)["staged"]["revision"] == 1
    assert staged_at in (None, recorded(config)["staged"]["at"])  # the vote runs from the first staging
    assert sorted(memory.index.uploads) == RC_FILES  # on the index once, whichever run put them there
    assert recorded(config)["candidates_published"]["files"] == RC_FILES


def test_a_build_alone_is_the_plans_build_step_recorded_by_the_executor(tmp_path: Path) -> None:
    config, memory = setup(tmp_path)
    wave = planned(config, memory)
    built = build_wave(config, wave, say=print, runners=memory.runners())
    assert not built.reused and memory.ran == [WaveStepName.BUILD]
    data = recorded(config)
    assert data == {"train": "providers", "date": DATE, "commit": wave.commit, "source_date_epoch": EPOCH,
                    "files": built.files, "steps": ["build"]}


def test_the_dry_run_shows_the_steps_a_run_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config, memory = setup(tmp_path)
    wave = planned(config, memory)
    monkeypatch.setattr(console.err, "width", 400)
    with console.err.capture() as captured:
        show_wave(wave, project="apache-airflow", as_json=False, out=lambda line: None)
    text = captured.get()
    table = text[text.index("Steps"):]
    for step in wave.plan.steps:
        assert step.name.value in table and step.does in table
    show_wave(wave, project="apache-airflow", as_json=True)
    data = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["does"]) for s in data["steps"]] == [
        (s.name.value, s.does) for s in wave.plan.steps]


def test_the_core_trains_dry_run_shows_its_images_and_the_steps_that_make_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config = parse_config(tmp_path, airflow_table())
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    wave = plan_train(config, CORE, date=DATE, reader=git)
    monkeypatch.setattr(console.err, "width", 400)
    with console.err.capture() as captured:
        show_wave(wave, project="apache-airflow", as_json=False, out=lambda line: None)
    text = captured.get()
    images = text[text.index("Images (the candidate's tags; 3.3.3 once published)"):text.index("Steps")]
    assert "3.3.3rc1-python3.11" in images and "constraints/constraints-3.13.txt" in images
    assert "images" in text[text.index("Steps"):] and "constraints" in text[text.index("Steps"):]
    show_wave(wave, project="apache-airflow", as_json=True)
    data = json.loads(capsys.readouterr().out)
    assert [i["tag"] for i in data["images"]] == ["3.3.3rc1-python3.11", "3.3.3rc1-python3.13"]
    assert [s["name"] for s in data["steps"]][4:7] == ["tags", "images", "constraints"]


def test_an_rc_numbered_file_the_index_holds_with_other_bytes_is_refused_and_the_vote_email_not_written(
        tmp_path: Path) -> None:
    config, memory = setup(tmp_path)
    wave = planned(config, memory)
    taken = "apache_airflow_providers_http-6.3.1rc1.tar.gz"
    memory.index.projects["apache-airflow-providers-http"] = {taken: b"an earlier upload of 6.3.1rc1"}
    with pytest.raises(RefusedError, match=f"^{taken} is already on https://index.test/simple/ with "
                                           "different content .*a version is never reused$"):
        run(config, memory)
    assert recorded(config)["steps"] == ALL[:ALL.index("index")]  # staged and tagged, nothing after
    assert "candidates_published" not in recorded(config)
    assert not (wave_directory(config, wave.plan) / "vote-email.txt").exists()
    assert memory.index.projects["apache-airflow-providers-http"] == {taken: b"an earlier upload of 6.3.1rc1"}


def test_the_index_step_refuses_an_rc_numbered_file_changed_since_it_was_built(tmp_path: Path) -> None:
    config, memory = setup(tmp_path)
    wave = planned(config, memory)
    build_wave(config, wave, say=print, runners=memory.runners())
    changed = wave_directory(config, wave.plan) / "pypi" / "apache_airflow_providers_ftp-3.16.2rc1.tar.gz"
    changed.write_text("not what was built")
    with pytest.raises(RefusedError, match=f"^{changed} is missing or not what was built; build the wave"):
        run(config, memory)
    assert sorted(memory.index.uploads) == RC_FILES[:2]  # common.io's went; ftp's and http's did not


def test_a_versioned_trains_run_stages_a_folder_per_candidate_and_sets_each_tag_once(tmp_path: Path) -> None:
    """Airflow's core: the same steps and runners, the files staged where the plan names them (the
    candidate's folder and the task SDK's), the shared tag `3.3.3rc1` set once, the rc-numbered
    packages of all three on the index, an email that names both folders, says the distributions go
    together and how to install the candidates; a rerun changes nothing."""
    config = parse_config(tmp_path, airflow_table())
    git = released()
    git.commit("Update version to 3.3.3", core_files("3.3.3", "1.3.3"))
    memory = MemoryWave(git)
    wave = plan_train(config, CORE, date=DATE, reader=git)

    def run_core() -> Any:
        return run_wave(config, plan_train(config, CORE, date=DATE, reader=git), TARGET, key=FINGERPRINT,
                        runners=memory.runners(), index=memory.index, announce=lambda name, does: None,
                        say=lambda line: None, clients=Clients(memory.registry, memory.index))

    # its images, their constraints and provenance after the tags, its rc-numbered packages on the index,
    # then its constraints tagged, before the vote email
    core_steps = ["build", "sign", "PMC checks", "stage", "tags", "images", "constraints", "sbom", "attest",
                  "provenance", "index", "constraints tags", "vote email"]
    done = run_core()
    assert done.steps == tuple(core_steps) and done.revision == 1
    rc_files = sorted(f for e in wave.plan.entries for f in e.index_files)
    assert rc_files == sorted(f"{n}-{v}rc1{end}" for n, v in (
        ("apache_airflow", "3.3.3"), ("apache_airflow_core", "3.3.3"), ("apache_airflow_task_sdk", "1.3.3"))
        for end in (".tar.gz", "-py3-none-any.whl"))
    assert sorted(memory.index.uploads) == rc_files  # never staged: the vote is on the finals
    assert not any(p.endswith(tuple(rc_files)) for p in memory.svn)
    assert memory.index.versions("apache-airflow-task-sdk") == ["1.3.3rc1"]
    assert [i.tag for i in wave.plan.images] == ["3.3.3rc1-python3.11", "3.3.3rc1-python3.13"]
    pushed = {t: d for t, d in memory.registry.repositories["apache/airflow"].items()
              if not t.endswith(".att")}  # the attached artifacts' tags aside
    assert done.images == {f"registry.test/apache/airflow:{tag}": digest for tag, digest in pushed.items()}
    assert done.staged == ("https://svn.test/dev/apache-airflow/3.3.3rc1",
                           "https://svn.test/dev/apache-airflow/task-sdk/1.3.3rc1")
    assert done.tags == ("3.3.3rc1", "task-sdk/1.3.3rc1") and git.tags["3.3.3rc1"] == wave.commit
    lookaside = {p for p in memory.svn if p.startswith(f"{TARGET.svn_dev}/apache-airflow/signatures/")}
    assert sorted(lookaside) == sorted(f"{TARGET.svn_dev}/apache-airflow/signatures/"
                                       f"{lookaside_path('apache/airflow', d)}" for d in pushed.values())
    assert sorted(set(memory.svn) - lookaside) == sorted(
        [f"3.3.3rc1/apache-airflow-3.3.3-source.tar.gz{s}" for s in ("", ".asc", ".sha512")]
        + [p for e in wave.plan.entries for p in e.svn_dev])
    assert sum(p.startswith("task-sdk/1.3.3rc1/") for p in memory.svn) == 6
    data = json.loads((tmp_path / "dist" / f"core-{DATE}" / "wave.json").read_text())
    assert data["tags"] == ["3.3.3rc1", "task-sdk/1.3.3rc1"] and data["steps"] == core_steps
    assert data["constraints_tags"] == {"branch": "constraints-3-3", "commit": "c" * 40,
                                        "tag": "constraints-3.3.3rc1", "files": ["constraints-3.11.txt"]}
    assert done.constraints is not None and done.constraints.tagged
    assert (data["images"]["candidate"], data["images"]["version"]) == ("3.3.3rc1", "3.3.3")
    assert sorted(data["images"]["pushed"]) == ["3.11", "3.13"]
    assert data["images"]["pushed"]["3.11"]["digest"] == pushed["3.3.3rc1-python3.11"]
    assert sorted(data["constraints"]) == [f"constraints/constraints-{p}.txt" for p in ("3.11", "3.13")]
    # each image's SBOM and signature recorded, in the wave's provenance/, by the digest they describe
    sboms = {f"sbom/apache-airflow-3.3.3rc1-python{p}.cdx.json": pushed[f"3.3.3rc1-python{p}"]
             for p in ("3.11", "3.13")}
    assert {path: entry["digest"] for path, entry in data["sboms"].items()} == sboms
    assert sorted(data["sboms_signed"]) == sorted(f"{path}{s}" for path in sboms for s in SIGS)
    assert {entry["identity"]: entry["digest"] for entry in data["image_signatures"].values()} == {
        f"registry.test/apache/airflow:{tag}": digest for tag, digest in pushed.items()}
    assert data["lookaside"] == f"{TARGET.svn_dev}/apache-airflow/signatures"
    # the signed copy of wave.json (as it stood: the SBOMs and signatures in it) attached with each
    # image's SBOM and signature to its digest
    provenance = tmp_path / "dist" / f"core-{DATE}" / "provenance"
    copy = json.loads((provenance / "wave.json").read_text())
    assert copy["sboms"] == data["sboms"] and copy["image_signatures"] == data["image_signatures"]
    assert copy["steps"] == core_steps[:9] and "provenance" not in copy and "constraints_tags" not in copy
    assert data["provenance"] == {"record": "provenance/wave.json",
                                  "sha512": sha512_of(provenance / "wave.json"),
                                  "attached": {d: attachment_tag(d) for d in pushed.values()}}
    attached = {attachment_tag(d): memory.registry.manifest_digest("apache/airflow", attachment_tag(d))
                for d in pushed.values()}
    for tag, digest in pushed.items():
        artifact = memory.registry.get_manifest("apache/airflow", attachment_tag(digest))
        assert artifact is not None and artifact.body["subject"]["digest"] == digest
        sbom = f"apache-airflow-{tag}.cdx.json"
        layers = artifact_layers(artifact.body)
        assert sorted(layers) == sorted(["wave.json", "wave.json.asc", "wave.json.sha512", sbom,
                                         f"{sbom}.asc", f"{sbom}.sha512", f"apache-airflow-{tag}.sig"])
        assert memory.registry.get_blob("apache/airflow", layers["wave.json"]) == (
            provenance / "wave.json").read_bytes()
        described = f'{{"describes": "{digest}"}}\n'.encode()
        assert memory.registry.get_blob("apache/airflow", layers[sbom]) == described
    text = (tmp_path / "dist" / f"core-{DATE}" / "vote-email.txt").read_text()
    assert "[VOTE] Release Apache Airflow core 2026-12-07: 3 distributions" in text
    assert ("\n  https://svn.test/dev/apache-airflow/3.3.3rc1\n"
            "  https://svn.test/dev/apache-airflow/task-sdk/1.3.3rc1\n") in text
    assert "They are released together" in text and "exclude" not in text
    assert "  pip install apache-airflow==3.3.3rc1\n" in text
    assert "  pip install apache-airflow-task-sdk==1.3.3rc1\n" in text
    assert "\nThe wave's images install exactly its wheels above; `invoke verify --train` checks them" in text
    assert "".join(f"  {ref}@{digest}\n" for ref, digest in done.images.items()) in text
    again = run_core()  # its own tags are not earlier candidates: the same rc, nothing new
    assert (again.revision, again.tags, memory.revisions) == (None, (), [1])
    assert again.constraints is not None and not again.constraints.tagged
    assert again.on_index is not None and again.on_index.uploaded == ()
    assert sorted(memory.index.uploads) == rc_files  # each uploaded once
    assert again.images == done.images
    # a rerun attaches nothing again: its copy of wave.json says what the first run's said
    assert memory.registry.repositories["apache/airflow"] == {**pushed, **attached}
    assert json.loads((tmp_path / "dist" / f"core-{DATE}" / "wave.json").read_text())["provenance"][
        "attached"] == {d: attachment_tag(d) for d in pushed.values()}
