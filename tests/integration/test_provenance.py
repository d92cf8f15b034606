# SPDX-License-Identifier: Apache-2.0
"""Provenance a user can check, on a real sandbox with one flavour: the SBOM of the sample's image,
the signed record published in the registry and svn, image signatures that skopeo and podman check
with the documented policy, and a voter's checks of a candidate's images.

A test that tampers with something published puts it back before it ends.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from release_helpers import SampleRelease

from release import sandbox
from release.adapters import gpg, svn
from release.adapters.clients import real_clients
from release.adapters.registry import Manifest
from release.config import ReleaseConfig
from release.pipeline.connect import Target
from release.pipeline.verify import verify_candidate
from release.plan.provenance import (
    SBOM_LABEL,
    artifact_layers,
    attachment_tag,
    lookaside_path,
    registries_d,
    signature_policy,
)
from release.plan.sbom import summarise, validate
from release.plan.tags import version_tag
from release.plan.verify_report import CandidateRejected, VerifyReport
from release.record import load_record, release_dir, sha256_of
from release.sandbox.tools import ensure_program
from release.steps.check_provenance import check_candidate_images, verify_published
from release.versions import parse_version

pytestmark = [pytest.mark.sandbox, pytest.mark.images, pytest.mark.slow]
FINAL, RC = "1.10.6", "2.0.0rc1"
FLAVOUR = "3.11"
SBOM = f"sample-app-{FINAL}-python{FLAVOUR}.cdx.json"
IMAGE = f"image {FINAL}-python{FLAVOUR}"  # the name of an image's check in a verify report
SVN_FOLDER = f"release/sample-app/{FINAL}"


@dataclass
class Released:
    sample: SampleRelease
    target: Target

    @property
    def config(self) -> ReleaseConfig:
        return self.sample.config

    def dist(self, version: str) -> Path:
        return release_dir(self.sample.root, version)

    def digest(self, version: str) -> str:
        found = self.sample.registry().manifest_digest(self.config.image, version_tag(parse_version(version),
                                                                                      FLAVOUR))
        assert found is not None
        return found

    def verify_published(self, version: str = FINAL) -> VerifyReport:
        return verify_published(self.config, parse_version(version), real_clients(self.target.registry),
                                svn_dev_url=self.target.svn_dev, svn_release_url=self.target.svn_release,
                                keys_url=self.target.keys_url, progress=self.sample.lines.append)

    def rejected(self, version: str = FINAL) -> dict[str, str]:
        with pytest.raises(CandidateRejected) as caught:
            self.verify_published(version)
        return {c.name: "; ".join(c.problems) for c in caught.value.report.checks if not c.ok}

    def lookaside(self, version: str) -> str:
        root = self.target.svn_dev if "rc" in version else self.target.svn_release
        return svn.join(root, self.config.name, "signatures", lookaside_path(self.config.image,
                                                                              self.digest(version)))


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Released]:
    sample = SampleRelease.create(tmp_path_factory.mktemp("provenance") / "sample", flavours=(FLAVOUR,))
    try:
        sample.release(FINAL)
        sample.release(RC)
        yield Released(sample, sample.target())
    finally:
        sandbox.down(sample.root)


def sbom_text(released: Released, version: str = FINAL) -> str:
    return (released.dist(version) / "sbom" / f"sample-app-{version}-python{FLAVOUR}.cdx.json").read_text()


def put_back(url: str, data: bytes, tmp_path: Path) -> None:
    folder, _, name = url.rpartition("/")
    (tmp_path / "original").write_bytes(data)
    svn.put_files(folder, {name: tmp_path / "original"}, "Put back")


def test_the_sbom_is_valid_cyclonedx_listing_the_wheel_and_the_bases_python3(released: Released) -> None:
    text = sbom_text(released)
    assert validate(text) == ""  # cyclonedx-python-lib's JSON schema validator
    summary = summarise(text)
    wheel = released.dist(FINAL) / "pypi" / "sample_app-1.10.6-py3-none-any.whl"
    assert summary.python["sample-app"] == FINAL
    assert sha256_of(wheel) in summary.wheel_sha256
    assert "python3" in summary.debian
    assert summary.digest == released.digest(FINAL)
    record = load_record(released.dist(FINAL), FINAL)
    entry = record.sboms[f"sbom/{SBOM}"]
    assert entry.digest == released.digest(FINAL)
    labels = released.sample.registry().image_labels(released.config.image, f"{FINAL}-python{FLAVOUR}")
    assert labels is not None and labels[SBOM_LABEL] == SBOM


def test_the_published_record_is_fetched_from_the_registry_and_svn_and_verified(released: Released) -> None:
    report = released.verify_published()
    checks = {c.name: c for c in report.checks}
    record_check = " ".join(checks["release.json"].passed)
    assert f"attached to {FINAL}-python{FLAVOUR}" in record_check and SVN_FOLDER in record_check
    assert any("image signature" in p for p in checks[IMAGE].passed)
    assert any("valid CycloneDX" in p for p in checks[f"sbom/{SBOM}"].passed)
    tag = attachment_tag(released.digest(FINAL))
    attached = released.sample.registry().get_manifest(released.config.image, tag)
    assert attached is not None and attached.body["subject"]["digest"] == released.digest(FINAL)


def test_a_tampered_record_in_svn_fails_naming_it(released: Released, tmp_path: Path) -> None:
    url = svn.join(released.target.svn_release, "sample-app", FINAL, "release.json")
    original = svn.cat_bytes(url)
    assert original is not None
    (tmp_path / "release.json").write_bytes(original.replace(b'"1.10.6"', b'"1.10.6" ', 1))
    svn.put_files(url.rpartition("/")[0], {"release.json": tmp_path / "release.json"}, "Tamper")
    try:
        failed = released.rejected()
        assert set(failed) == {"release.json"}
        assert "bad signature" in failed["release.json"] and SVN_FOLDER in failed["release.json"]
    finally:
        put_back(url, original, tmp_path)
    released.verify_published()


def test_a_tampered_sbom_in_the_registry_fails_naming_it(released: Released) -> None:
    registry, image = released.sample.registry(), released.config.image
    tag = attachment_tag(released.digest(FINAL))
    original = registry.get_manifest(image, tag)
    assert original is not None
    name = SBOM
    sbom = registry.get_blob(image, artifact_layers(original.body)[name])
    assert sbom is not None
    forged = json.loads(sbom)
    forged["components"] = [c for c in forged["components"] if c["name"] != "python3"]
    blob = registry.upload_blob(image, json.dumps(forged).encode())
    body = original.body
    for layer in body["layers"]:
        if layer["annotations"]["org.opencontainers.image.title"] == name:
            layer["digest"], layer["size"] = blob, len(json.dumps(forged).encode())
    raw = json.dumps(body).encode()
    registry.put_manifest(image, tag, Manifest(raw, original.media_type, ""))
    try:
        failed = released.rejected()
        assert set(failed) == {f"sbom/{name}"}
        assert failed[f"sbom/{name}"].startswith("registry: bad signature")
    finally:
        registry.put_manifest(image, tag, original)
    released.verify_published()


def test_a_tampered_image_signature_fails_naming_the_image(released: Released, tmp_path: Path) -> None:
    url = released.lookaside(FINAL)
    original = svn.cat_bytes(url)
    other = svn.cat_bytes(released.lookaside(RC))  # a good signature, of another image
    assert original is not None and other is not None
    (tmp_path / "signature-1").write_bytes(other)
    svn.put_files(url.rpartition("/")[0], {"signature-1": tmp_path / "signature-1"}, "Tamper")
    try:
        failed = released.rejected()
        assert set(failed) == {IMAGE}
        assert "image signature:" in failed[IMAGE]
    finally:
        put_back(url, original, tmp_path)


@pytest.fixture
def user_policy(released: Released, tmp_path: Path) -> tuple[Path, Path]:
    """What docs/provenance.md tells a user to install: KEYS, policy.json and a registries.d file
    whose lookaside is a checkout of svn release/<name>/signatures."""
    keys = tmp_path / "KEYS"
    keys.write_text(svn.read_text(released.target.keys_url))
    published = svn.join(released.target.svn_release, "sample-app", "signatures")
    lookaside = svn.export(published, tmp_path / "sigs")
    repository = released.target.repository(released.config.image)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(signature_policy(repository, str(keys))))
    registries = tmp_path / "registries.d"
    registries.mkdir()
    (registries / "sandbox.yaml").write_text(registries_d(released.target.registry, lookaside.as_uri()))
    return policy, registries


def push_unsigned(released: Released) -> None:
    """The base image, copied into the release's repository as `:unsigned`."""
    repository = released.target.repository(released.config.image)
    base = released.sample.services().base_images[FLAVOUR]
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--src-tls-verify=false",
                    "--dest-tls-verify=false", f"docker://{base}", f"docker://{repository}:unsigned"],
                   capture_output=True, check=True, timeout=300)


def skopeo_copy(policy: Path, registries: Path, ref: str, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["skopeo", "--policy", str(policy), "--registries.d", str(registries), "copy",
                           "--src-tls-verify=false", f"docker://{ref}", f"dir:{dest}"],
                          capture_output=True, text=True, timeout=300, check=False)


def test_skopeo_with_the_documented_policy_accepts_the_signed_image_and_its_alias_and_refuses_an_unsigned_one(
        released: Released, user_policy: tuple[Path, Path], tmp_path: Path) -> None:
    policy, registries = user_policy
    repository = released.target.repository(released.config.image)
    for tag in (f"{FINAL}-python{FLAVOUR}", "1.10"):  # the version tag it signed, and an alias
        done = skopeo_copy(policy, registries, f"{repository}:{tag}", tmp_path / tag)
        assert done.returncode == 0, done.stderr
    push_unsigned(released)
    refused = skopeo_copy(policy, registries, f"{repository}:unsigned", tmp_path / "unsigned")
    assert refused.returncode != 0 and "A signature was required, but no signature exists" in refused.stderr


def test_podman_with_the_documented_policy_pulls_the_signed_image_and_refuses_an_unsigned_one(
        released: Released, user_policy: tuple[Path, Path], tmp_path: Path) -> None:
    ensure_program("podman", "podman", lambda line: None)
    policy, registries = user_policy
    home = tmp_path / "home"
    (home / ".config" / "containers").mkdir(parents=True)
    (home / ".config" / "containers" / "registries.d").symlink_to(registries)
    repository = released.target.repository(released.config.image)
    state = Path(tempfile.mkdtemp(prefix="podman.", dir="/tmp"))  # podman wants a runroot under 50 characters
    podman = ["podman", "--root", str(state / "store"), "--runroot", str(state / "run"),
              "--storage-driver", "vfs", "pull", "--signature-policy", str(policy), "--tls-verify=false"]
    env = {**os.environ, "HOME": str(home)}
    try:
        pulled = subprocess.run([*podman, f"{repository}:{FINAL}-python{FLAVOUR}"], capture_output=True,
                                text=True, env=env, timeout=600, check=False)
        assert pulled.returncode == 0, pulled.stderr
        push_unsigned(released)
        refused = subprocess.run([*podman, f"{repository}:unsigned"], capture_output=True, text=True, env=env,
                                 timeout=600, check=False)
        assert refused.returncode != 0 and "A signature was required" in refused.stderr
    finally:
        subprocess.run([*podman[:7], "rmi", "--all", "--force"], capture_output=True, check=False, env=env,
                       timeout=300)
        shutil.rmtree(state, ignore_errors=True)


def candidate_report(released: Released, *, rebuild: bool) -> VerifyReport:
    target, config, version = released.target, released.config, parse_version(RC)

    def images(checks, commit, keys, wheels):  # type: ignore[no-untyped-def]
        check_candidate_images(config, version, real_clients(target.registry), svn_dev_url=target.svn_dev,
                               keys_file=keys, commit=commit, wheels=wheels, checks=checks)

    return verify_candidate(config, version, svn_dev_url=target.svn_dev, keys_url=target.keys_url,
                            repo_root=released.sample.root, rebuild=rebuild, image_checks=images)


def test_a_voter_checks_the_candidates_image_wheel_labels_sbom_and_signature(released: Released) -> None:
    report = candidate_report(released, rebuild=True)
    image = {c.name: c for c in report.checks}[f"image {RC}-python{FLAVOUR}"]
    said = " | ".join(image.passed)
    for expected in ("its wheel is the one the voted commit builds", "labels name the voted commit",
                     "SBOM signed, valid CycloneDX", "image signature by a KEYS key"):
        assert expected in said


def test_a_voter_refuses_a_candidate_image_whose_signature_is_gone(released: Released,
                                                                   tmp_path: Path) -> None:
    url = released.lookaside(RC)
    original = svn.cat_bytes(url)
    assert original is not None
    subprocess.run(["svn", "rm", "--non-interactive", "-m", "Lose it", f"{url.rpartition('/')[0]}@"],
                   capture_output=True, check=True)
    try:
        with pytest.raises(CandidateRejected) as caught:
            candidate_report(released, rebuild=False)
        failed = {c.name: c.problems for c in caught.value.report.checks if not c.ok}
        assert list(failed) == [f"image {RC}-python{FLAVOUR}"]
        assert any(p.startswith("no signature at") for p in failed[f"image {RC}-python{FLAVOUR}"])
        # nothing of an image whose signature does not check out is pulled or read
        assert "not pulled: its signature does not check out" in failed[f"image {RC}-python{FLAVOUR}"]
        passed = {c.name: c.passed for c in caught.value.report.checks}[f"image {RC}-python{FLAVOUR}"]
        assert not any("label" in p or "wheel" in p or "SBOM" in p for p in passed), passed
    finally:
        put_back(url, original, tmp_path)


def test_verify_published_on_the_command_line(released: Released) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), "verify", "--version", FINAL,
         "--published"],
        cwd=released.sample.root, env={**os.environ, "RELEASE_ROOT": str(released.sample.root)},
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "published items verified" in result.stdout + result.stderr


def test_the_signing_key_is_the_one_in_keys(released: Released) -> None:
    record = load_record(released.dist(FINAL), FINAL)
    keys = released.dist(".keys") / FINAL / "KEYS"
    signers = {e.signer for e in record.image_signatures.values()}
    assert signers and signers <= gpg.fingerprints_in(keys)
