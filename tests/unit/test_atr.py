# SPDX-License-Identifier: Apache-2.0
"""The ATR adapter's pure parts: its URL, where the token comes from and how it is shown, how ATR's
ignores are read, and what this ATR version answers; the sandbox's own pure parts. The calls
themselves run against a real ATR server in tests/integration/test_atr.py."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from release.adapters import atr
from release.adapters.atr import AtrTarget, Check, CheckReport, Credentials, Ignore, Secret
from release.errors import ConfigError
from release.sandbox import atr as atr_sandbox
from release.sandbox.state import Layout

TOKEN = "p2UIEqZVWzv-QkZ59KpQlCKdrGhCgYtvsFSE0pU4-Ys"
REAL = AtrTarget("https://release-test.apache.org", "airflow", "airflow")


@pytest.fixture(autouse=True)
def _empty_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the `keyring` package is installed, its backend here holds nothing (the machine's own
    would be asked through other processes)."""
    try:
        import keyring
        from keyring.backends import null
    except ImportError:
        return
    monkeypatch.setattr(keyring, "get_keyring", null.Keyring)
    keyring.set_keyring(null.Keyring())


# --- the URL ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("https://release-test.apache.org", "https://release-test.apache.org"),
    ("https://release-test.apache.org/", "https://release-test.apache.org"),
    ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
])
def test_an_https_server_is_taken_as_is(url: str, expected: str) -> None:
    assert atr.check_url(url) == expected


@pytest.mark.parametrize(("url", "words"), [
    ("http://release-test.apache.org", "not an https:// URL"),
    ("http://127.0.0.1:8443", "not an https:// URL"),
    ("ftp://release-test.apache.org", "not an https:// URL"),
    ("https://", "not an https:// URL"),
    ("https://release-test.apache.org/api", "has a path"),
    ("https://release-test.apache.org/?next=https://evil.example", "has a path"),
    (f"https://rm:{TOKEN}@release-test.apache.org", "carries credentials"),
])
def test_anything_but_https_to_a_server_is_refused(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        atr.check_url(url)
    assert words in str(caught.value)
    assert TOKEN not in str(caught.value)


# --- the token -----------------------------------------------------------------------------------------


def test_a_secret_is_shown_hidden_however_it_is_formatted() -> None:
    secret = Secret(TOKEN)
    creds = Credentials("jdoe", secret)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", repr(creds), str(creds),
                  repr([creds])):
        assert TOKEN not in shown
    assert "<hidden>" in repr(creds)
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN) and secret != Secret("other")


def test_the_client_shows_no_token() -> None:
    client = atr.AtrClient(REAL, Credentials("jdoe", Secret(TOKEN)))
    assert TOKEN not in repr(client) and "<hidden>" in repr(client)
    assert client.base == "https://release-test.apache.org"


def test_the_client_refuses_plain_http_before_any_call() -> None:
    with pytest.raises(ConfigError, match="not an https:// URL"):
        atr.AtrClient(AtrTarget("http://release-test.apache.org", "airflow", "airflow"),
                      Credentials("jdoe", Secret(TOKEN)))


def test_the_token_comes_from_the_environment() -> None:
    found = atr.credentials(REAL, {atr.UID_ENV: "jdoe", atr.TOKEN_ENV: f" {TOKEN}\n"})
    assert found == Credentials("jdoe", Secret(TOKEN))


def test_the_sandbox_token_comes_from_its_file_whatever_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    target = AtrTarget("https://127.0.0.1:8443", "test", "test", token_file=token_file, uid="test")
    found = atr.credentials(target, {atr.UID_ENV: "jdoe", atr.TOKEN_ENV: "not this one"})
    assert found == Credentials("test", Secret(TOKEN))


def test_a_missing_sandbox_token_says_to_bring_the_sandbox_up(tmp_path: Path) -> None:
    target = AtrTarget("https://127.0.0.1:8443", "test", "test", token_file=tmp_path / "token")
    with pytest.raises(ConfigError, match="run the sandbox up again"):
        atr.credentials(target, {})


@pytest.mark.parametrize("env", [{}, {atr.UID_ENV: "jdoe"}, {atr.TOKEN_ENV: TOKEN}])
def test_missing_credentials_name_every_place_they_may_be_kept(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        atr.credentials(REAL, env)
    message = str(caught.value)
    assert atr.UID_ENV in message and atr.TOKEN_ENV in message
    assert "release-pipeline-atr:release-test.apache.org" in message
    assert "https://release-test.apache.org/tokens" in message
    assert TOKEN not in message


def test_the_token_comes_from_the_keyring_when_the_environment_has_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = pytest.importorskip("keyring")
    plaintext = pytest.importorskip("keyrings.alt.file")
    backend = plaintext.PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[misc]
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    keyring.set_keyring(backend)
    backend.set_password(atr.keyring_service(REAL.url), "jdoe", TOKEN)
    assert atr.credentials(REAL, {atr.UID_ENV: "jdoe"}) == Credentials("jdoe", Secret(TOKEN))
    assert atr.credentials(REAL, {atr.UID_ENV: "jdoe", atr.TOKEN_ENV: "env wins"}).token == Secret("env wins")
    with pytest.raises(ConfigError):
        atr.credentials(REAL, {atr.UID_ENV: "someone-else"})


# --- checks and ignores --------------------------------------------------------------------------------

RAT = Check("atr.tasks.checks.rat.check", "failure", "sample-app-1.10.6-source.tar.gz",
            "Apache RAT JAR not found at: /opt/tools/apache-rat-0.17.jar")
SIGNATURE = Check("atr.tasks.checks.signature.check", "failure", "sample_app-1.10.6.tar.gz.asc",
                  "No valid signature found")
HEADER = Check("atr.tasks.checks.license.headers", "failure", "sample_app-1.10.6.tar.gz",
               "Invalid license header", member="sample_app-1.10.6/setup.py")


def ignored(check: Check, *ignores: Ignore, release: str = "test-1.10.6", revision: str = "00010") -> bool:
    return atr._ignored(check, ignores, release, revision)


def test_the_rat_ignore_covers_the_rat_check_that_cannot_run_offline_and_nothing_else() -> None:
    assert ignored(RAT, atr.RAT_JAR_MISSING)
    assert not ignored(SIGNATURE, atr.RAT_JAR_MISSING)
    ran = Check(RAT.checker, "failure", RAT.path, "Apache RAT found 3 files without a license")
    assert not ignored(ran, atr.RAT_JAR_MISSING)


def test_a_success_is_never_ignored() -> None:
    assert not ignored(Check(RAT.checker, "success", RAT.path, RAT.message), Ignore(checker="*"))


@pytest.mark.parametrize(("ignore", "covers"), [
    (Ignore(checker="license.headers"), True),  # ATR searches: a part of the name matches
    (Ignore(checker="^atr.tasks.checks.license.headers$"), True),
    (Ignore(checker="^license.headers"), False),
    (Ignore(checker="!atr.tasks.checks.signature.*"), True),
    (Ignore(member="!"), False),  # `!`: the check is about no member
    (Ignore(member="*/setup.py"), True),
    (Ignore(path="*.whl"), False),
    (Ignore(release="test-1.10.*"), True),
    (Ignore(release="test-2.*"), False),
    (Ignore(revision="00010"), True),
    (Ignore(revision="00009"), False),
    (Ignore(checker="license.headers", message="*copyright*"), False),  # every field set must match
])
def test_an_ignore_covers_a_check_as_atr_reads_its_patterns(ignore: Ignore, covers: bool) -> None:
    assert ignored(HEADER, ignore) is covers


def test_a_report_tells_blockers_from_warnings_and_ignored_results() -> None:
    warning = Check("atr.tasks.checks.targz.structure", "warning", "x.tar.gz", "Root directory differs")
    crashed = Check("atr.tasks.checks.zipformat.integrity", "exception", "x.zip", "Traceback")
    report = CheckReport("00010", (Check(RAT.checker, RAT.status, RAT.path, RAT.message, ignored=True),
                                   SIGNATURE, warning, crashed,
                                   Check("atr.tasks.checks.hashing.check", "success", "x.sha512", "ok")))
    assert report.blockers == (SIGNATURE, crashed)
    assert report.warnings == (warning,)
    assert [c.checker for c in report.ignored] == [RAT.checker]
    assert str(SIGNATURE) == ("atr.tasks.checks.signature.check: failure on sample_app-1.10.6.tar.gz.asc: "
                              "No valid signature found")
    assert "(sample_app-1.10.6/setup.py)" in str(HEADER)


# --- what this ATR version answers ------------------------------------------------------------------------


def test_paths_quote_every_part_so_none_leaves_its_route() -> None:
    assert atr.release_path("checks/list", "test", "1.10.6", "00010") == "/api/checks/list/test/1.10.6/00010"
    assert atr.release_path("release/get", "test", "../../admin") == "/api/release/get/test/..%2F..%2Fadmin"
    assert atr.download_path("test", "1.10.6", "a b/c.tar.gz") == "/download/path/test/1.10.6/a%20b/c.tar.gz"


def test_this_version_s_answers() -> None:
    assert atr.upload_finished(201) is True and atr.upload_finished(202) is False
    assert atr.upload_finished(400) is None
    assert atr.resolutions() == {"passed", "failed"}
    assert not atr.ignore_by_status()
    assert (atr.platform_name("pypi"), atr.platform_name("docker")) == ("PYPI", "DOCKER_HUB")
    with pytest.raises(ConfigError, match="not 'maven'"):
        atr.platform_name("maven")
    assert atr.refused_offline(500, "Failed to get API response from distribution platform")
    assert not atr.refused_offline(404, "Release test-1.10.6 not found")


def test_an_ignore_by_status_is_refused_by_this_version_before_any_call() -> None:
    client = atr.AtrClient(REAL, Credentials("jdoe", Secret(TOKEN)))
    with pytest.raises(ConfigError, match="keeps no ignore by status"):
        client.add_ignore(Ignore(checker="atr.tasks.checks.rat.check", status="failure"))


# --- the sandbox's ATR: its pure parts -------------------------------------------------------------------


def test_atr_s_lock_installs_asfquart_from_pypi() -> None:
    locked = ("aiofiles==24.1.0\n    # via quart\n"
              "asfquart @ git+https://github.com/apache/infrastructure-asfquart.git@1edaff4\n"
              "    # via tooling-trusted-releases\nzipp==3.23.0\n")
    assert atr_sandbox.requirements(locked) == ("aiofiles==24.1.0\n    # via quart\nasfquart==0.1.12\n"
                                                "    # via tooling-trusted-releases\nzipp==3.23.0\n")


def test_atr_runs_with_its_own_environment_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(atr.TOKEN_ENV, TOKEN)
    paths = atr_sandbox.Paths(tmp_path / "atr")
    env = atr_sandbox.server_env(paths, tmp_path / "venv", 8443)
    assert env["APP_HOST"] == "127.0.0.1:8443" and env["ALLOW_TESTS"] == "1"
    assert env["STATE_DIR"] == str(tmp_path / "atr" / "state") and env["SSH_HOST"] == "127.0.0.1"
    assert TOKEN not in "".join(env.values()) and atr.TOKEN_ENV not in env
    assert env["SECRET_KEY"] != env["JWT_SECRET_KEY"]
    assert atr_sandbox.server_env(paths, tmp_path / "venv", 8443)["JWT_SECRET_KEY"] == env["JWT_SECRET_KEY"]
    assert paths.secrets.stat().st_mode & 0o777 == 0o600


def test_each_sandbox_has_its_own_namespace() -> None:
    one = atr_sandbox.namespace_of(Layout(Path("/src/a/.release")))
    other = atr_sandbox.namespace_of(Layout(Path("/src/b/.release")))
    assert one != other and one.startswith("release-atr-") and len(one) <= 31


def test_the_source_must_be_named_and_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RELEASE_ATR_SOURCE is not set"):
        atr_sandbox.source_tarball({})
    with pytest.raises(ConfigError, match="no such file"):
        atr_sandbox.source_tarball({atr_sandbox.SOURCE_ENV: str(tmp_path / "atr.tar.gz")})


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_the_source_is_unpacked_once_per_tarball(tmp_path: Path) -> None:
    paths = atr_sandbox.Paths(tmp_path / "atr")
    lines: list[str] = []
    first = _tarball(tmp_path / "one.tar.gz", {"atr/uv.lock": b"one"})
    source = atr_sandbox.unpack(first, paths, lines.append)
    assert (source / "uv.lock").read_bytes() == b"one"
    assert atr_sandbox.unpack(first, paths, lines.append) == source and len(lines) == 1
    second = _tarball(tmp_path / "two.tar.gz", {"atr/uv.lock": b"two"})
    again = atr_sandbox.unpack(second, paths, lines.append)
    assert again != source and (again / "uv.lock").read_bytes() == b"two" and not source.exists()


@pytest.mark.parametrize("name", ["../evil", "/etc/evil", "elsewhere/file", "atr/../../evil"])
def test_a_tarball_that_is_not_atr_s_source_is_refused(tmp_path: Path, name: str) -> None:
    tarball = _tarball(tmp_path / "bad.tar.gz", {"atr/uv.lock": b"x", name: b"x"})
    with pytest.raises(ConfigError, match="is not a `git archive --prefix=atr/` tarball"):
        atr_sandbox.unpack(tarball, atr_sandbox.Paths(tmp_path / "atr"), lambda line: None)
    assert not (tmp_path / "evil").exists()
