# SPDX-License-Identifier: Apache-2.0
"""`[tool.release]`: every key, the defaults, and one ConfigError naming the key for each mistake."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import tomllib
from conftest import FIXTURES, REPO_ROOT
from fault_helpers import BAD_CONFIG_PAIRS, VALID_CONFIG_PAIRS, config_refusal_prefix, with_bad_value
from hypothesis import given
from hypothesis import strategies as st

from release.config import (
    DEFAULT_BASE_IMAGE,
    RESERVED_BUILD_ARGS,
    SANDBOX,
    Distribution,
    HealthCheck,
    ReleaseConfig,
    SmokeCommand,
    Variant,
    load_config,
    parse_config,
    read_pyproject,
)
from release.errors import ConfigError, ReleaseError
from release.trains import SvnLayout, Train, VersionFrom, VersionSource

SAMPLE = FIXTURES / "sample"
SAMPLE_MULTI = FIXTURES / "sample-multi"

MINIMAL: dict[str, Any] = {"name": "sample-app", "python": ["3.11"]}

FULL: dict[str, Any] = {
    "name": "apache-airflow",
    "project": "Apache Airflow",
    "image": "apache/airflow",
    "python": ["3.9", "3.11", "3.13"],
    "default-python": "3.11",
    "base-image": "{registry}/library/python:{python}-slim",
    "registry": "registry.example.org:5000",
    "index": "https://upload.pypi.org/legacy/",
    "svn-dev": "https://dist.apache.org/repos/dist/dev/airflow",
    "svn-release": "https://dist.apache.org/repos/dist/release/airflow",
    "signing-key": "0123456789ABCDEF0123456789ABCDEF01234567",
    "keys-url": "https://downloads.apache.org/airflow/KEYS",
    "mailing-list": "dev@airflow.apache.org",
    "install": "index",
    "constraints": "constraints-{python}.txt",
    "extras": ["celery", "postgres"],
    "app-command": ["airflow", "version"],
    "uid": 50001,
    "dockerfile": "docker/Dockerfile",
    "changelog": "RELEASE_NOTES.rst",
    "allow-http": ["mirror.internal"],
    "build-args": {"RUNTIME_APT_DEPS": "", "APP_USER": "airflow"},
    "smoke-commands": [["airflow", "info"], {"command": ["airflow", "version"], "expect": "{version}"}],
    "health-check": {"command": ["airflow", "api-server"], "url": "http://127.0.0.1:8080/health"},
    "entrypoint": "docker/entrypoint.sh",
    "variants": {"slim": {"extras": [], "build-args": {"RUNTIME_APT_DEPS": ""}}},
    "platforms": ["linux/arm64"],  # one: variants are refused with several
    "distributions": [
        {"name": "apache-airflow"},
        {"name": "apache-airflow-core", "path": "airflow-core"},
        {"name": "apache-airflow-task-sdk", "path": "task-sdk",
         "version-from": "task-sdk/src/airflow/sdk/__init__.py"},
    ],
    "binding-voters": ["potiuk@apache.org", "kaxilnaik"],
    "binding-voters-file": "dev/PMC.txt",
    "license-excludes": ["*.svg", "docs/**"],
    "announce-list": "announce@apache.org",
    "changelog-format": "rst",
    "vote": "asf",
    "source-checks": True,
    "staging": "atr",
    "atr": "https://release-test.apache.org",
    "atr-project": "airflow",
    "atr-committee": "airflow",
    "trains": {"providers": {"distributions": "providers/**", "version": "provider.yaml",
                             "tag": "providers-{id}/{version}", "svn": "flat"}},
    "ci-environment": "pypi-release",
    "release-branch": "v3-1-stable",
    "default-command": ["airflow", "api-server"],
    "expose": [8080, "8793/tcp"],
    "writable-venv": True,
}


def parse(table: dict[str, Any], root: Path = Path("/target")) -> ReleaseConfig:
    return parse_config(root, table)


def refused(table: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(table)
    return str(caught.value)


def with_(**changes: Any) -> dict[str, Any]:
    table = dict(MINIMAL)
    for key, value in changes.items():
        table[key.replace("_", "-")] = value
    return table


# --------------------------------------------------------------------------- every key


def test_every_key_is_read() -> None:
    config = parse(FULL, Path("/srv/airflow"))
    assert config == ReleaseConfig(
        root=Path("/srv/airflow"),
        name="apache-airflow",
        project="Apache Airflow",
        image="apache/airflow",
        python=("3.9", "3.11", "3.13"),
        default_python="3.11",
        base_image="{registry}/library/python:{python}-slim",
        registry="registry.example.org:5000",
        index="https://upload.pypi.org/legacy/",
        svn_dev="https://dist.apache.org/repos/dist/dev/airflow",
        svn_release="https://dist.apache.org/repos/dist/release/airflow",
        signing_key="0123456789ABCDEF0123456789ABCDEF01234567",
        keys_url="https://downloads.apache.org/airflow/KEYS",
        mailing_list="dev@airflow.apache.org",
        install="index",
        constraints="constraints-{python}.txt",
        extras=("celery", "postgres"),
        app_command=("airflow", "version"),
        uid=50001,
        dockerfile="docker/Dockerfile",
        changelog="RELEASE_NOTES.rst",
        allow_http=("mirror.internal",),
        build_args=(("APP_USER", "airflow"), ("RUNTIME_APT_DEPS", "")),
        smoke_commands=(SmokeCommand(("airflow", "info")), SmokeCommand(("airflow", "version"), "{version}")),
        health_check=HealthCheck(("airflow", "api-server"), "http://127.0.0.1:8080/health"),
        entrypoint="docker/entrypoint.sh",
        variants=(Variant("slim", extras=(), build_args=(("RUNTIME_APT_DEPS", ""),)),),
        platforms=("linux/arm64",),
        distributions=(
            Distribution("apache-airflow"),
            Distribution("apache-airflow-core", "airflow-core"),
            Distribution("apache-airflow-task-sdk", "task-sdk", "task-sdk/src/airflow/sdk/__init__.py"),
        ),
        binding_voters=("potiuk@apache.org", "kaxilnaik"),
        binding_voters_file="dev/PMC.txt",
        license_excludes=("*.svg", "docs/**"),
        announce_list="announce@apache.org",
        changelog_format="rst",
        vote="asf",
        source_checks=True,
        staging="atr",
        atr="https://release-test.apache.org",
        atr_project="airflow",
        atr_committee="airflow",
        trains=(Train("providers", pattern="providers/**", version=VersionSource(VersionFrom.PROVIDER_YAML,
                                                                                 "provider.yaml"),
                      tag="providers-{id}/{version}", svn=SvnLayout.FLAT),),
        ci_environment="pypi-release",
        release_branch="v3-1-stable",
        default_command=("airflow", "api-server"),
        expose=("8080", "8793/tcp"),
        writable_venv=True,
    )
    assert not config.uses_sandbox
    assert config.main == Distribution("apache-airflow")
    assert [d.own_version for d in config.distributions] == [False, False, True]


def test_every_field_has_a_key() -> None:
    """FULL covers every field but `root`, `variant` (which variant a config describes, set by
    `for_variant`) and the machine's own platform: a new field without a key would be unreachable."""
    fields = {f.name for f in dataclasses.fields(ReleaseConfig)} - {"root", "variant", "host_platform"}
    assert {key.replace("-", "_") for key in FULL} == fields


# --- variants ---------------------------------------------------------------------------------------


def test_without_variants_there_is_the_default_image_only() -> None:
    config = parse(MINIMAL)
    assert config.variants == () and config.variant_names == ("",)
    assert config.for_variant("") == config
    with pytest.raises(ConfigError, match=r"no image variant 'slim'.*declared: none"):
        config.for_variant("slim")


def test_a_variant_sets_its_own_keys_and_keeps_the_rest() -> None:
    config = parse(with_(
        extras=["celery", "postgres"], app_command=["app", "--version"],
        build_args={"APP_USER": "airflow", "RUNTIME_APT_DEPS": "libpq5", "BUILD_APT_DEPS": "gcc"},
        smoke_commands=[["app", "check"]],
        health_check={"command": ["app", "serve"], "url": "http://127.0.0.1:1/health"},
        variants={"slim": {"extras": [], "build-args": {"RUNTIME_APT_DEPS": "", "BUILD_APT_DEPS": ""}},
                  "tiny": {"smoke-commands": [], "health-check": {}, "app-command": ["app"]},
                  "big2": {"health-check": {"command": ["app", "big"], "url": "http://127.0.0.1:2/"}}},
    ))
    assert config.variant_names == ("", "slim", "tiny", "big2")
    slim = config.for_variant("slim")
    assert (slim.variant, slim.extras) == ("slim", ())
    assert dict(slim.build_args) == {"APP_USER": "airflow", "RUNTIME_APT_DEPS": "", "BUILD_APT_DEPS": ""}
    assert slim.smoke_commands == config.smoke_commands and slim.health_check == config.health_check
    assert slim.app_command == ("app", "--version")
    tiny = config.for_variant("tiny")
    assert tiny.extras == ("celery", "postgres") and tiny.build_args == config.build_args
    assert (tiny.smoke_commands, tiny.health_check, tiny.app_command) == ((), None, ("app",))
    big = config.for_variant("big2")
    assert big.health_check is not None and big.health_check.command == ("app", "big")
    assert config.for_variant("").variant == "" and config.for_variant("").extras == ("celery", "postgres")


@pytest.mark.parametrize("name", ["Slim", "1slim", "slim-x", "slim_x", "", "latest", "master", "python",
                                  "default"])
def test_a_variant_name_that_cannot_prefix_tags_is_refused(name: str) -> None:
    assert "variants." in refused(with_(variants={name: {"extras": []}}))


@pytest.mark.parametrize(("table", "words"), [
    ({"python": ["3.11"]}, "unknown key 'python'"),
    ({"extras": "celery"}, "variants.slim.extras: expected a list"),
    ({"build-args": {"EXTRAS": "x"}}, "variants.slim.build-args.EXTRAS: the pipeline sets"),
    ({"smoke-commands": [[]]}, "variants.slim.smoke-commands: command"),
    ({"health-check": {"url": "ftp://x"}}, "variants.slim.health-check"),
])
def test_bad_variant_keys_are_refused_naming_them(table: dict[str, Any], words: str) -> None:
    assert words in refused(with_(variants={"slim": table}))


def test_variants_must_be_a_table_of_tables() -> None:
    assert "variants: expected a table" in refused(with_(variants=["slim"]))
    assert "variants.slim: expected a table" in refused(with_(variants={"slim": ["x"]}))


def test_the_entrypoint_is_a_path_and_its_build_arg_is_the_pipelines() -> None:
    assert parse(with_(entrypoint="docker/entrypoint.sh")).entrypoint == "docker/entrypoint.sh"
    assert "entrypoint: expected a script path" in refused(with_(entrypoint=["x"]))
    assert "the pipeline sets this build arg" in refused(with_(build_args={"ENTRYPOINT_SCRIPT": "x"}))


def test_lists_become_tuples_and_the_config_is_frozen() -> None:
    config = parse(FULL)
    assert isinstance(config.python, tuple)
    assert isinstance(config.extras, tuple)
    assert isinstance(config.app_command, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- defaults


def test_defaults() -> None:
    config = parse({"name": "Sample_App", "python": ["3.12", "3.9"]})
    assert config.project == "Sample_App"
    assert config.image == "sample_app"
    assert config.default_python == "3.12"
    assert config.base_image == DEFAULT_BASE_IMAGE == "python:{python}-slim-bookworm"
    for attr in ("registry", "index", "svn_dev", "svn_release", "signing_key"):
        assert getattr(config, attr) == SANDBOX
    assert config.uses_sandbox
    assert config.keys_url == ""
    assert config.install == "wheel"
    assert config.constraints == ""
    assert config.extras == ()
    assert config.app_command == ()
    assert config.uid == 50000
    assert config.dockerfile == ""  # the Dockerfile release-pipeline ships
    assert config.changelog is None and config.changelog_format == "auto"  # looked for in the tree
    assert config.mailing_list == "" and config.announce_to == ""  # never a made-up address
    assert config.vote == "asf" and config.votes and config.checks_sources  # what configs meant before
    assert config.root == Path("/target")
    assert config.distributions == (Distribution("Sample_App", ".", ""),) and config.main.name == "Sample_App"
    assert config.binding_voters == () and config.binding_voters_file == ""
    assert config.license_excludes == () and config.announce_list == ""


@pytest.mark.parametrize("key", ["registry", "index", "svn-dev", "svn-release", "signing-key"])
def test_one_sandbox_service_means_the_sandbox_is_used(key: str) -> None:
    table = {k: v for k, v in FULL.items() if k != key}
    assert parse(table).uses_sandbox
    assert not parse(FULL).uses_sandbox


def test_explicit_project_and_image_win_over_the_name() -> None:
    config = parse(with_(project="Shown", image="org/thing"))
    assert config.project == "Shown"
    assert config.image == "org/thing"


# --------------------------------------------------------------------------- base image


def test_base_image_for_substitutes_python_and_registry() -> None:
    config = parse(with_(base_image="{registry}/sandbox/python:{python}"))
    assert config.base_image_for("3.11", registry="127.0.0.1:5000") == "127.0.0.1:5000/sandbox/python:3.11"


def test_base_image_for_the_default_template() -> None:
    assert parse(MINIMAL).base_image_for("3.9") == "python:3.9-slim-bookworm"
    assert parse(MINIMAL).base_image_for("3.9", registry="ignored:5000") == "python:3.9-slim-bookworm"


def test_base_image_without_python_is_refused() -> None:
    message = refused(with_(base_image="python:3.11-slim"))
    assert "base-image" in message
    assert "{python}" in message


@pytest.mark.parametrize(
    "template",
    [
        "python:{python}-{variant}",
        "{python}:{}",
        "python:{python}-{0}",
        "{python",
        "{python.x}",
        "{python}}{",
    ],
)
def test_base_image_with_an_unknown_placeholder_is_refused_at_once(template: str) -> None:
    """A template `base_image_for` cannot fill must fail when the config is read, not mid-release."""
    assert "base-image" in refused(with_(base_image=template))


# --------------------------------------------------------------------------- unknown keys and types


def test_unknown_key_is_named() -> None:
    message = refused(with_(pythons=["3.11"]))
    assert "'pythons'" in message
    assert "known keys" in message
    assert "python" in message


def test_underscored_spelling_is_an_unknown_key() -> None:
    assert "'default_python'" in refused({**MINIMAL, "default_python": "3.11"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", 1),
        ("name", ["a"]),
        ("project", True),
        ("image", 5),
        ("python", "3.11"),
        ("python", 3.11),
        ("python", {"a": "3.11"}),
        ("default-python", 3.11),
        ("base-image", None),
        ("registry", 5000),
        ("index", ["sandbox"]),
        ("svn-dev", False),
        ("svn-release", 1),
        ("signing-key", 0xABC),
        ("keys-url", []),
        ("mailing-list", {}),
        ("install", True),
        ("constraints", ["c.txt"]),
        ("extras", "celery"),
        ("app-command", "airflow version"),
        ("uid", True),
        ("uid", False),
        ("uid", "50000"),
        ("uid", 50000.0),
        ("dockerfile", 1),
        ("changelog", None),
        ("build-args", ["A=1"]),
        ("smoke-commands", {"command": ["a"]}),
        ("smoke-commands", "airflow version"),
        ("health-check", ["airflow", "api-server"]),
        ("health-check", "http://127.0.0.1/"),
    ],
)
def test_wrong_types_are_refused_naming_the_key(key: str, value: Any) -> None:
    message = refused({**MINIMAL, key: value})
    assert message.startswith(f"[tool.release] {key}:"), message
    assert "expected" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("python", ["3.11", 3.12]),
        ("python", [["3.11"]]),
        ("extras", ["celery", 1]),
        ("extras", [None]),
        ("app-command", ["airflow", True]),
        ("app-command", [{"a": 1}]),
    ],
)
def test_lists_of_non_strings_are_refused_naming_the_key(key: str, value: Any) -> None:
    message = refused({**MINIMAL, key: value})
    assert message.startswith(f"[tool.release] {key}:"), message
    assert "string" in message


def test_empty_lists_are_fine_where_optional() -> None:
    config = parse(with_(extras=[], app_command=[]))
    assert config.extras == ()
    assert config.app_command == ()


# --------------------------------------------------------------------------- name


def test_missing_name_is_refused() -> None:
    message = refused({"python": ["3.11"]})
    assert "name" in message
    assert "missing" in message


@pytest.mark.parametrize("name", ["", "-app", "app-", "my app", "app!", "ä", "app/x", "."])
def test_bad_names_are_refused(name: str) -> None:
    assert refused(with_(name=name)).startswith("[tool.release] name:")


@pytest.mark.parametrize("name", ["a", "A1", "apache-airflow", "my_app", "zope.interface", "X-Y_z.9"])
def test_good_names_are_accepted(name: str) -> None:
    assert parse(with_(name=name)).name == name


# --------------------------------------------------------------------------- flavours


def test_missing_python_is_refused() -> None:
    assert refused({"name": "x"}).startswith("[tool.release] python:")


def test_empty_flavour_list_is_refused() -> None:
    message = refused(with_(python=[]))
    assert message.startswith("[tool.release] python:")
    assert "empty" in message


@pytest.mark.parametrize(
    "flavour", ["3", "3.", "311", "3.11.2", "2.7", "python3.11", " 3.11", "3.11 ", "3.x", "4.0", ""]
)
def test_bad_flavour_strings_are_refused(flavour: str) -> None:
    message = refused(with_(python=["3.11", flavour]))
    assert message.startswith("[tool.release] python:")
    assert repr(flavour) in message


def test_repeated_flavours_are_refused() -> None:
    message = refused(with_(python=["3.11", "3.12", "3.11"]))
    assert message.startswith("[tool.release] python:")
    assert "repeat" in message


@pytest.mark.parametrize("flavour", ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"])
def test_good_flavours_are_accepted(flavour: str) -> None:
    assert parse(with_(python=[flavour])).python == (flavour,)


def test_default_flavour_not_in_the_list_is_refused() -> None:
    message = refused(with_(python=["3.9", "3.11"], default_python="3.12"))
    assert message.startswith("[tool.release] default-python:")
    assert "'3.12'" in message


def test_explicit_default_flavour() -> None:
    table = {**MINIMAL, "python": ["3.9", "3.11"], "default-python": "3.11"}
    assert parse(table).default_python == "3.11"


# --------------------------------------------------------------------------- image


@pytest.mark.parametrize(
    "image",
    [
        "Apache/Airflow",
        "apache//airflow",
        "/airflow",
        "airflow/",
        "air flow",
        "airflow:2.0",
        "-airflow",
        "a..b",
        "",
    ],
)
def test_bad_image_names_are_refused(image: str) -> None:
    message = refused(with_(image=image))
    assert message.startswith("[tool.release] image:")
    assert repr(image) in message


@pytest.mark.parametrize("image", ["airflow", "apache/airflow", "a/b/c", "my-org/my_app", "x.y/z-1", "a1"])
def test_good_image_names_are_accepted(image: str) -> None:
    assert parse(with_(image=image)).image == image


def test_an_image_derived_from_a_name_is_lower_cased() -> None:
    assert parse({"name": "Apache-Airflow", "python": ["3.11"]}).image == "apache-airflow"


# --------------------------------------------------------------------------- install and uid


def test_install_must_be_wheel_or_index() -> None:
    message = refused(with_(install="sdist"))
    assert message.startswith("[tool.release] install:")
    assert "'sdist'" in message


def test_index_install_requires_constraints() -> None:
    message = refused(with_(install="index"))
    assert message.startswith("[tool.release] constraints:")
    assert "install = 'index'" in message
    assert "constraints" in refused(with_(install="index", constraints=""))


def test_index_install_with_constraints() -> None:
    config = parse(with_(install="index", constraints="constraints.txt"))
    assert config.install == "index"
    assert config.constraints == "constraints.txt"


@pytest.mark.parametrize("uid", [0, -1, 2**31, 2**40])
def test_bad_uids_are_refused(uid: int) -> None:
    assert refused(with_(uid=uid)).startswith("[tool.release] uid:")


@pytest.mark.parametrize("uid", [1, 100, 999, 65534])
def test_uids_of_the_base_images_system_accounts_are_refused(uid: int) -> None:
    """useradd in the Dockerfile refuses them late ("UID 1 is not unique": daemon), after the build."""
    assert refused(with_(uid=uid)) == (f"[tool.release] uid: {uid} belongs to a system account of the base "
                                       "image (below 1000, or nobody); choose one like 50000")


@pytest.mark.parametrize("uid", [1000, 50000, 65533, 65535, 2**31 - 1])
def test_good_uids(uid: int) -> None:
    assert parse(with_(uid=uid)).uid == uid


def test_config_error_is_a_release_error_with_its_exit_code() -> None:
    with pytest.raises(ReleaseError) as caught:
        parse({})
    assert caught.value.exit_code == 2


# --------------------------------------------------------------------------- files


def write(root: Path, text: str, name: str = "pyproject.toml") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_reads_the_pyproject(tmp_path: Path) -> None:
    write(tmp_path, '[project]\nname = "x"\n\n[tool.release]\nname = "x"\npython = ["3.11", "3.12"]\n')
    config = load_config(tmp_path)
    assert config.root == tmp_path
    assert config.name == "x"
    assert config.python == ("3.11", "3.12")


def test_missing_pyproject(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found") as caught:
        load_config(tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(caught.value)


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nowhere")


def test_pyproject_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").mkdir()
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        load_config(tmp_path)


def test_invalid_toml(tmp_path: Path) -> None:
    write(tmp_path, "[tool.release\nname = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(tmp_path)
    assert "pyproject.toml" in str(caught.value)


def test_invalid_utf8(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.release]\nname = "\xff"\n')
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "",
        '[project]\nname = "x"\n',
        "[tool.black]\nline-length = 100\n",
        'tool = "release"\n',
        "[tool]\nrelease = 1\n",
        'tool.release = ["x"]\n',
    ],
)
def test_no_release_table(tmp_path: Path, text: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"no \[tool\.release\] table"):
        load_config(tmp_path)


def test_errors_in_the_file_name_the_key(tmp_path: Path) -> None:
    write(tmp_path, '[tool.release]\nname = "x"\npython = ["3.11"]\nuid = true\n')
    with pytest.raises(ConfigError, match=r"^\[tool\.release\] uid:"):
        load_config(tmp_path)


def test_profile_replaces_the_pyproject(tmp_path: Path) -> None:
    write(tmp_path, '[tool.release]\nname = "from-pyproject"\npython = ["3.11"]\n')
    profile = write(
        tmp_path / "profiles", '[tool.release]\nname = "from-profile"\npython = ["3.12"]\n', "prod.toml"
    )
    config = load_config(tmp_path, profile=profile)
    assert config.name == "from-profile"
    assert config.root == tmp_path


def test_profile_named_pyproject(tmp_path: Path) -> None:
    profile = write(tmp_path / "other", '[tool.release]\nname = "other"\npython = ["3.12"]\n')
    config = load_config(tmp_path, profile=profile)
    assert config.name == "other"
    assert config.root == tmp_path


def test_missing_profile(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read") as caught:
        load_config(tmp_path, profile=tmp_path / "absent.toml")
    assert "absent.toml" in str(caught.value)


def test_invalid_profile(tmp_path: Path) -> None:
    profile = write(tmp_path, "= nope", "bad.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path, profile=profile)


def test_profile_with_invalid_utf8(tmp_path: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_bytes(b"\xfe\xff")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_config(tmp_path, profile=profile)


def test_profile_without_a_release_table(tmp_path: Path) -> None:
    profile = write(tmp_path, "[tool.other]\n", "empty.toml")
    with pytest.raises(ConfigError, match=r"empty\.toml: no \[tool\.release\] table"):
        load_config(tmp_path, profile=profile)


def test_read_pyproject_returns_the_whole_document(tmp_path: Path) -> None:
    write(tmp_path, '[project]\nname = "x"\n[tool.release]\nname = "x"\n')
    data = read_pyproject(tmp_path)
    assert data["project"] == {"name": "x"}
    assert data["tool"]["release"] == {"name": "x"}


# --------------------------------------------------------------------------- real files


def test_this_repository_configures_itself() -> None:
    config = load_config(REPO_ROOT)
    assert config.root == REPO_ROOT
    assert config.name == "release-pipeline"
    assert config.default_python in config.python
    assert config.uses_sandbox
    assert "{python}" in config.base_image
    assert config.base_image_for(config.default_python, registry="127.0.0.1:5000").startswith(
        "127.0.0.1:5000/"
    )


def test_the_sample_application_is_configured() -> None:
    config = load_config(SAMPLE)
    assert config.name == "sample-app"
    assert config.project == "Sample App"
    assert config.image == "sample/app"
    assert config.python == ("3.9", "3.11", "3.13")
    assert config.default_python == "3.11"
    assert config.app_command == ("sample-app",)
    assert config.mailing_list == "dev@sample.invalid"
    assert config.uses_sandbox
    assert config.base_image_for("3.13", registry="localhost:5000") == "localhost:5000/sandbox/python:3.13"


# --------------------------------------------------------------------------- app smoke and build args


def test_app_smoke_defaults() -> None:
    config = parse(MINIMAL)
    assert config.build_args == ()
    assert config.smoke_commands == ()
    assert config.health_check is None


def test_smoke_commands_as_lists_or_tables() -> None:
    config = parse(with_(smoke_commands=[
        ["app", "version"],
        {"command": ["app", "migrate"], "expect": "done", "timeout": 300},
    ]))
    assert config.smoke_commands == (
        SmokeCommand(("app", "version"), "", 120),
        SmokeCommand(("app", "migrate"), "done", 300),
    )


def test_health_check_fields_and_defaults() -> None:
    config = parse(with_(health_check={"command": ["app", "serve"], "url": "http://127.0.0.1:80/health",
                                       "timeout": 30, "expect": "ok"}))
    assert config.health_check == HealthCheck(("app", "serve"), "http://127.0.0.1:80/health", 30, "ok")
    minimal = parse(with_(health_check={"command": ["app"], "url": "https://localhost/h"})).health_check
    assert minimal == HealthCheck(("app",), "https://localhost/h", 120, "")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([[]], "command: expected a non-empty list of strings"),
        ([["app", 1]], "command: expected a non-empty list of strings"),
        ([3], "command: expected a non-empty list of strings"),
        ([{"expect": "x"}], "command: expected a non-empty list of strings"),
        ([{"command": "app version"}], "command: expected a non-empty list of strings"),
        ([{"command": ["app"], "expect": 1}], "expect: expected a string"),
        ([{"command": ["app"], "timeout": "60"}], "timeout: expected seconds > 0"),
        ([{"command": ["app"], "timeout": True}], "timeout: expected seconds > 0"),
        ([{"command": ["app"], "timeout": 0}], "timeout: expected seconds > 0"),
        ([{"command": ["app"], "url": "http://x/"}], "unknown field 'url'"),
    ],
)
def test_bad_smoke_commands_are_refused_naming_the_key(value: Any, words: str) -> None:
    message = refused(with_(smoke_commands=value))
    assert message.startswith("[tool.release] smoke-commands:"), message
    assert words in message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"url": "http://127.0.0.1/"}, "command: expected a non-empty list of strings"),
        ({"command": ["app"]}, "url: expected an http:// URL, got None"),
        ({"command": ["app"], "url": "127.0.0.1:8080/health"}, "url: expected an http:// URL"),
        ({"command": ["app"], "url": 8080}, "url: expected an http:// URL"),
        ({"command": ["app"], "url": "http://h/", "timeout": -5}, "timeout: expected seconds > 0"),
        ({"command": ["app"], "url": "http://h/", "retries": 3}, "unknown field 'retries'"),
    ],
)
def test_bad_health_checks_are_refused_naming_the_key(value: dict[str, Any], words: str) -> None:
    message = refused(with_(health_check=value))
    assert message.startswith("[tool.release] health-check:"), message
    assert words in message


@pytest.mark.parametrize("value", [{"A": 1}, {"A-B": "x"}, {"1A": "x"}, {"A": ["x"]}, {"": "x"}])
def test_bad_build_args_are_refused_naming_the_key(value: dict[str, Any]) -> None:
    assert refused(with_(build_args=value)).startswith("[tool.release] build-args:")


@pytest.mark.parametrize("name", sorted(RESERVED_BUILD_ARGS))
def test_a_build_arg_the_pipeline_sets_is_refused_naming_it(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(with_(build_args={"RUNTIME_APT_DEPS": "git", name: "mine"}))
    message = str(caught.value)
    assert message.startswith(f"[tool.release] build-args.{name}: the pipeline sets this build arg itself")
    assert "remove it" in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("name", ["RUNTIME_APT_DEPS", "PIP_EXTRA_INDEX_URL", "package", "Input_Hash"])
def test_build_args_the_pipeline_leaves_alone_are_accepted(name: str) -> None:
    assert parse(with_(build_args={name: "x"})).build_args == ((name, "x"),)


def test_the_installer_build_arg_is_uv_or_pip() -> None:
    assert parse(with_(build_args={"INSTALLER": "pip"})).build_args == (("INSTALLER", "pip"),)
    message = refused(with_(build_args={"INSTALLER": "conda"}))
    assert message == "[tool.release] build-args.INSTALLER = 'conda': choose one of uv, pip"


def test_build_args_are_sorted_pairs() -> None:
    config = parse(with_(build_args={"b": "2", "A_1": ""}))
    assert config.build_args == (("A_1", ""), ("b", "2"))
    assert hash(config) == hash(parse(with_(build_args={"A_1": "", "b": "2"})))


def test_the_airflow_profile_is_configured() -> None:
    config = load_config(REPO_ROOT, profile=REPO_ROOT / "examples" / "airflow" / "pyproject.toml")
    assert (config.name, config.image, config.install) == ("apache-airflow", "apache/airflow", "index")
    assert config.python == ("3.11", "3.13", "3.14")
    assert (REPO_ROOT / config.constraints).is_file()
    assert (REPO_ROOT / config.entrypoint).is_file()
    assert [c.command[:2] for c in config.smoke_commands][:2] == [("airflow", "version"), ("airflow", "db")]
    assert config.health_check is not None
    assert config.health_check.url.endswith("/api/v2/monitor/health")
    assert config.variant_names == ("", "slim")
    assert {"celery", "postgres", "mysql", "amazon", "google", "fab"} <= set(config.extras)
    slim = config.for_variant("slim")
    assert slim.extras == () and dict(slim.build_args)["RUNTIME_APT_DEPS"] == ""
    assert dict(slim.build_args)["APP_USER"] == "airflow"


# --------------------------------------------------------------------------- platforms


def test_without_platforms_images_are_built_for_the_host_only() -> None:
    config = parse_config(Path("/t"), MINIMAL, host_platform="linux/arm64")
    assert config.platforms == ()
    assert config.image_platforms == ("linux/arm64",)
    assert not config.multi_platform
    assert not parse(MINIMAL).multi_platform


def test_configured_platforms_are_kept_in_order_and_make_a_multi_platform_release() -> None:
    table = with_(platforms=["linux/arm64", "linux/amd64"])
    config = parse_config(Path("/t"), table, host_platform="linux/amd64")
    assert config.image_platforms == ("linux/arm64", "linux/amd64")
    assert config.multi_platform
    one = parse(with_(platforms=["linux/arm64"]))
    assert one.image_platforms == ("linux/arm64",) and not one.multi_platform


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "platforms: empty"),
        (["linux/s390x"], "'linux/s390x' is not a supported platform; choose from linux/amd64, linux/arm64"),
        (["arm64"], "'arm64' is not a supported platform"),
        (["linux/amd64", "linux/amd64"], "platforms repeat"),
        ([1], "every item must be a string"),
        ("linux/amd64", "expected a list of image platforms"),
    ],
)
def test_bad_platforms_are_one_line_naming_the_key(value: Any, message: str) -> None:
    error = refused(with_(platforms=value))
    assert "platforms" in error and message in error and "\n" not in error


def test_load_config_fills_in_this_machines_platform() -> None:
    from release import platforms

    assert load_config(SAMPLE).host_platform == platforms.host_platform()


# --------------------------------------------------------------------------- several distributions


def test_a_config_built_in_code_gets_its_one_distribution() -> None:
    config = ReleaseConfig(root=Path("/x"), name="x", project="X", image="x", python=("3.11",),
                           default_python="3.11")
    assert config.distributions == (Distribution("x"),)


@pytest.mark.parametrize(("value", "words"), [
    ("sample-app", "expected a list of tables"),
    (["sample-app"], "expected a table {name, path, version-from}"),
    ([{"path": "sdk"}], "name: None is not a valid distribution name"),
    ([{"name": "-bad"}], "'-bad' is not a valid distribution name"),
    ([{"name": "sample-app", "paths": "."}], "unknown field 'paths'"),
    ([{"name": "sample-app", "path": "/abs"}], "sample-app: path: '/abs' must be a relative path"),
    ([{"name": "sample-app", "path": "../up"}], "must be a relative path inside the repository"),
    ([{"name": "sample-app", "path": ""}], "expected a path inside the repository"),
    ([{"name": "sample-app", "path": 3}], "expected a path inside the repository, got 3"),
    ([{"name": "sample-app"}, {"name": "x", "version-from": "../v.py"}], "x: version-from"),
    ([{"name": "sample-app"}, {"name": "Sample_App"}], "'Sample_App' is listed twice"),
    ([{"name": "other"}], "list the release's own distribution 'sample-app' too (listed: other)"),
    ([{"name": "sample-app", "version-from": "v.py"}], "sample-app carries the release's version"),
])
def test_bad_distributions_are_refused_naming_the_key(value: Any, words: str) -> None:
    message = refused(with_(distributions=value))
    assert message.startswith("[tool.release] distributions") and words in message


def test_distributions_with_paths_and_an_own_version() -> None:
    config = parse(with_(distributions=[
        {"name": "sample-app-sdk", "path": "sdk/", "version-from": "sdk/sample_app_sdk/__init__.py"},
        {"name": "sample-app"},
    ]))
    assert config.distributions == (
        Distribution("sample-app-sdk", "sdk", "sdk/sample_app_sdk/__init__.py"), Distribution("sample-app"))
    assert config.main == Distribution("sample-app")


@pytest.mark.parametrize(("key", "value", "words"), [
    ("binding-voters", "potiuk", "expected a list of e-mail addresses or Apache ids"),
    ("binding-voters", [1], "every item must be a string"),
    ("binding-voters", ["potiuk", "Jarek Potiuk"], "'Jarek Potiuk' is not an address or an Apache id"),
    ("binding-voters", ["Kaxil"], "a vote is binding only by the address it is sent from, never by a name"),
    ("binding-voters-file", "/etc/pmc", "must be a relative path"),
    ("license-excludes", "*.svg", "expected a list of glob patterns"),
    ("announce-list", ["a@b"], "expected the address the [ANNOUNCE] email goes to"),
])
def test_bad_vote_and_licence_keys_are_refused_naming_the_key(key: str, value: Any, words: str) -> None:
    message = refused(with_(**{key.replace("-", "_"): value}))
    assert message.startswith(f"[tool.release] {key}") and words in message


def test_the_two_distribution_sample_is_configured() -> None:
    config = load_config(SAMPLE_MULTI)
    assert config.name == "sample-app"
    assert config.distributions == (
        Distribution("sample-app"),
        Distribution("sample-app-sdk", "sdk", "sdk/sample_app_sdk/__init__.py"),
    )
    assert config.binding_voters_file == "PMC.txt"
    assert "Dockerfile" in config.license_excludes


# --------------------------------------------------------------------------- staging: svn or ATR


def test_staging_is_svn_unless_set() -> None:
    config = parse(MINIMAL)
    assert (config.staging, config.atr, config.uses_atr, config.atr_in_sandbox) == ("svn", "", False, False)


def test_atr_in_the_sandbox_is_its_test_project_and_brings_the_sandbox_up() -> None:
    config = parse(with_(staging="atr", atr="sandbox", registry="registry.example.org",
                         index="https://upload.pypi.org/legacy/",
                         svn_dev="https://dist.apache.org/repos/dist/dev",
                         svn_release="https://dist.apache.org/repos/dist/release",
                         signing_key="ABCDEF0123456789"))
    assert (config.atr_project, config.atr_committee) == ("test", "test")
    assert config.atr_in_sandbox and config.uses_sandbox


def test_a_real_atr_takes_the_project_and_the_committee_defaults_to_it() -> None:
    config = parse(with_(staging="atr", atr="https://release-test.apache.org/", atr_project="airflow"))
    assert (config.atr_project, config.atr_committee) == ("airflow", "airflow")
    assert config.uses_atr and not config.atr_in_sandbox


def test_atr_configured_but_staging_in_svn_uses_no_atr() -> None:
    config = parse(with_(atr="sandbox"))
    assert not config.uses_atr and not config.atr_in_sandbox


@pytest.mark.parametrize(("changes", "key", "words"), [
    ({"staging": "dist"}, "staging", "expected 'svn' or 'atr', got 'dist'"),
    ({"staging": ["atr"]}, "staging", "expected 'svn' or 'atr'"),
    ({"staging": "atr"}, "atr", "required with staging = 'atr'"),
    ({"staging": "atr", "atr": "http://release-test.apache.org"}, "atr", "https:// URL"),
    ({"staging": "atr", "atr": "http://127.0.0.1:8443"}, "atr", "https:// URL"),
    ({"staging": "atr", "atr": "https://release-test.apache.org/api"}, "atr", "no path"),
    ({"staging": "atr", "atr": "https://rm:s3cret@release-test.apache.org"}, "atr", "carries credentials"),
    ({"staging": "atr", "atr": "release-test.apache.org"}, "atr", "https:// URL"),
    ({"staging": "atr", "atr": "https://release-test.apache.org"}, "atr-project", "required with an ATR URL"),
    ({"staging": "atr", "atr": "https://x.org", "atr_project": "Air Flow"}, "atr-project",
     "not a name in ATR"),
    ({"staging": "atr", "atr": "https://x.org", "atr_project": "a", "atr_committee": "../b"}, "atr-committee",
     "not a name in ATR"),
    ({"staging": "atr", "atr": "sandbox", "atr_project": "airflow"}, "atr-project", "holds only 'test'"),
    ({"staging": "atr", "atr": "sandbox", "atr_committee": "airflow"}, "atr-committee", "holds only 'test'"),
    ({"atr_project": "airflow"}, "atr-project", "set without atr"),
])
def test_bad_atr_settings_are_one_error_line_naming_the_key(changes: dict[str, Any], key: str,
                                                            words: str) -> None:
    message = refused(with_(**changes))
    assert message.startswith(f"[tool.release] {key}:"), message
    assert words in message and "\n" not in message
    assert "s3cret" not in message


# --------------------------------------------------------------------------- what a config may not smuggle in


@pytest.mark.parametrize(("key", "path"), [
    (key, path)
    for key in ("changelog", "dockerfile", "constraints")
    for path in ("../x", "docs/../../x", "/etc/passwd", "..", "a/../../b", "x\ny", "")
    if (key, path) != ("changelog", "")  # the project keeps none: test_no_changelog_at_all
])
def test_paths_outside_the_repository_are_refused_naming_the_key(key: str, path: str) -> None:
    table = with_(**{key: path}, install="index") if key == "constraints" else with_(**{key: path})
    message = refused(table)
    assert message.startswith(f"[tool.release] {key}:"), message
    assert "inside the repository" in message or (key, path) == ("constraints", "")


@pytest.mark.parametrize("path", ["CHANGELOG.md", "docs/NEWS.rst", "docker/Dockerfile", "a..b/c", ".gh/x"])
def test_paths_inside_the_repository_are_accepted(path: str) -> None:
    assert parse(with_(changelog=path)).changelog == path


@pytest.mark.parametrize("key", ["mailing-list", "project", "announce-list"])
@pytest.mark.parametrize("value", ["dev@x.org\nBcc: all@x.org", "dev@x.org\r\nX: y", "a\x00b", "tab\there"])
def test_a_line_break_in_an_email_header_value_is_refused(key: str, value: str) -> None:
    message = refused(with_(**{key: value}))
    assert message.startswith(f"[tool.release] {key}:"), message
    assert "one line" in message


@pytest.mark.parametrize("key", ["-K", "--output=/tmp/x", "--homedir", "ABC\nDEF", ""])
def test_a_signing_key_that_gpg_would_read_as_an_option_is_refused(key: str) -> None:
    message = refused(with_(signing_key=key))
    assert message.startswith("[tool.release] signing-key:"), message


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("index", "ftp://files.example.org/upload/"),
        ("index", "file:///srv/index"),
        ("index", "upload.pypi.org/legacy/"),
        ("svn-dev", "ftp://svn.example.org/dev"),
        ("svn-release", "dist.apache.org/repos/dist/release"),
        ("keys-url", "ftp://downloads.example.org/KEYS"),
        ("keys-url", "sandbox"),
    ],
)
def test_urls_of_schemes_a_key_cannot_use_are_refused(key: str, url: str) -> None:
    message = refused(with_(**{key: url}))
    assert message.startswith(f"[tool.release] {key}:"), message
    assert "URL" in message


SECRET = "s3cr3t-t0ken"


@pytest.mark.parametrize("key", ["index", "svn-dev", "svn-release", "keys-url"])
@pytest.mark.parametrize("url", [f"https://user:{SECRET}@host.example/x", f"https://{SECRET}@host.example/x"])
def test_urls_with_credentials_are_refused_without_showing_them(key: str, url: str) -> None:
    message = refused(with_(**{key: url}))
    assert message.startswith(f"[tool.release] {key}:"), message
    assert "credentials" in message and "<hidden>@host.example" in message
    assert SECRET not in message


@pytest.mark.parametrize("name", ["PIP_EXTRA_INDEX_URL", "ANY_URL"])
def test_a_build_arg_url_with_credentials_is_refused_without_showing_them(name: str) -> None:
    message = refused(with_(build_args={name: f"https://user:{SECRET}@pypi.example/simple"}))
    assert message.startswith(f"[tool.release] build-args.{name}:"), message
    assert SECRET not in message


@pytest.mark.parametrize("key", ["index", "svn-dev", "svn-release", "keys-url"])
@pytest.mark.parametrize("url", ["http://host.example/x", "http://127.0.0.1.host.example/x", "http://[::2]/x",
                                 "http://localhost.host.example/x"])
def test_plain_http_to_another_host_is_refused(key: str, url: str) -> None:
    message = refused(with_(**{key: url}))
    assert message.startswith(f"[tool.release] {key}:"), message
    assert "allow-http" in message


def test_a_user_name_that_looks_like_this_machine_does_not_make_a_url_local() -> None:
    message = refused(with_(index="http://localhost:1@host.example/x"))
    assert message.startswith("[tool.release] index:") and "<hidden>@host.example" in message


def test_svn_protocol_is_plain_too() -> None:
    assert "allow-http" in refused(with_(svn_dev="svn://svn.example.org/dev"))
    assert parse(with_(svn_dev="svn+ssh://svn.example.org/dev")).svn_dev == "svn+ssh://svn.example.org/dev"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://localhost/", "http://[::1]:3141/",
                                 "http://127.5.6.7/x"])
def test_plain_http_to_this_machine_is_accepted(url: str) -> None:
    assert parse(with_(index=url, keys_url=url)).index == url


def test_plain_http_to_a_listed_host_is_accepted() -> None:
    config = parse(with_(index="http://Mirror.Internal:3141/", allow_http=["mirror.internal"]))
    assert config.allow_http == ("mirror.internal",)
    assert "allow-http" in refused(with_(index="http://other.internal/", allow_http=["mirror.internal"]))


@pytest.mark.parametrize("registry", ["localhost:1@registry.example.com", "http://registry.example.com",
                                      "registry.example.com/path", "user:pw@registry.example.com",
                                      "registry.example.com:port", "-registry", "reg istry", ""])
def test_a_registry_that_is_not_host_and_port_is_refused(registry: str) -> None:
    message = refused(with_(registry=registry))
    assert message.startswith("[tool.release] registry:"), message
    assert "pw" not in message


@pytest.mark.parametrize("registry", ["registry.example.org", "127.0.0.1:5000", "localhost:5000",
                                      "[::1]:5000", "ghcr.io"])
def test_registries_as_host_and_port_are_accepted(registry: str) -> None:
    assert parse(with_(registry=registry)).registry == registry


# --------------------------------------------------------------------------- any table at all

_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["sandbox", "3.11", "http://h.example/", "https://u:p@h/", "../x", "-k", "a\nb",
                       "{python}"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
_KNOWN = sorted({*FULL, "name", "python", "not-a-key"})


@given(st.dictionaries(st.sampled_from(_KNOWN), _ANY, max_size=5), st.booleans())
def test_any_table_is_a_config_or_one_config_error_naming_the_key(changes: dict[str, Any],
                                                                   full: bool) -> None:
    """Whatever a pyproject holds: a ReleaseConfig, or one ConfigError line naming the key; never a crash."""
    table = {**(FULL if full else MINIMAL), **changes}
    try:
        parse(table)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("[tool.release] ") and "\n" not in message and len(message) < 1000, message
        assert any(message.startswith(f"[tool.release] {key}") for key in table) or "unknown key" in message


# --------------------------------------------------------------------------- policies and changelogs


def test_no_changelog_at_all() -> None:
    assert parse(with_(changelog="")).changelog == ""


@pytest.mark.parametrize("fmt", ["auto", "markdown", "rst", "towncrier", "none"])
def test_each_changelog_format_is_accepted(fmt: str) -> None:
    assert parse(with_(changelog_format=fmt)).changelog_format == fmt


@pytest.mark.parametrize("fmt", ["md", "Markdown", "RST", "keepachangelog", ""])
def test_an_unknown_changelog_format_is_one_line_naming_the_choices(fmt: str) -> None:
    message = refused(with_(changelog_format=fmt))
    assert message.startswith("[tool.release] changelog-format:")
    assert "auto, markdown, rst, towncrier, none" in message


def test_a_project_that_does_not_vote_gets_no_pmc_checks_unless_it_asks() -> None:
    none = parse(with_(vote="none"))
    assert (none.votes, none.checks_sources) == (False, False)
    asked = parse(with_(vote="none", source_checks=True))
    assert (asked.votes, asked.checks_sources) == (False, True)
    assert parse(with_(vote="none", source_checks=False)).checks_sources is False


def test_an_asf_vote_always_has_the_pmc_checks() -> None:
    assert parse(with_(vote="asf")).checks_sources
    message = refused(with_(vote="asf", source_checks=False))
    assert message.startswith("[tool.release] source-checks:") and "license-excludes" in message
    # the same without `vote`: asf is the default
    assert refused(with_(source_checks=False)) == message


@pytest.mark.parametrize("vote", ["ASF", "apache", "pmc", "", "no"])
def test_an_unknown_vote_policy_is_one_line(vote: str) -> None:
    message = refused(with_(vote=vote))
    assert message.startswith("[tool.release] vote:") and "asf, none" in message


@pytest.mark.parametrize(("key", "value"), [("vote", True), ("source-checks", "yes"), ("source-checks", 1),
                                            ("changelog-format", ["rst"])])
def test_policy_keys_have_types(key: str, value: Any) -> None:
    assert refused(with_(**{key.replace("-", "_"): value})).startswith(f"[tool.release] {key}:")


def test_the_announcement_goes_to_the_announce_list_else_the_mailing_list() -> None:
    assert parse(with_(mailing_list="dev@x.org")).announce_to == "dev@x.org"
    assert parse(with_(mailing_list="dev@x.org", announce_list="news@x.org")).announce_to == "news@x.org"
# ------------------------------------------------------------------ values the fault suite found accepted


@pytest.mark.parametrize(("key", "value", "words"), [
    ("registry", "3.12", "is not 'sandbox' or host[:port]"),  # an all-digit last label: no host name
    ("registry", "10", "is not 'sandbox' or host[:port]"),
    ("registry", "registry.example.org\n", "is not 'sandbox' or host[:port]"),  # `$` matched before a newline
    ("index", "", "empty; give a URL"),
    ("svn-dev", "", "empty; give a URL"),
    ("keys-url", "", "empty; give a URL"),
    ("index", "https://pypi.example/\n", "holds a space, line break or control character"),
    ("svn-release", "https://dist.example/repos/dist/release x", "holds a space"),
    ("changelog", "ftp://files.example/", "is a URL, not a path inside the repository"),
    ("dockerfile", "https://u:secret@pypi.example/", "is a URL, not a path inside the repository"),
    ("changelog", "-K", "starts with '-', which programs read as an option"),
    ("mailing-list", "../outside", "is not an e-mail address"),
    ("mailing-list", "/etc/passwd", "is not an e-mail address"),
    ("mailing-list", "http://pypi.example/", "is not an e-mail address"),
    ("mailing-list", "localhost:1@registry.example.com", "is not an e-mail address"),
    ("mailing-list", "-K", "is not an e-mail address"),
    ("mailing-list", "", "is not an e-mail address"),
    ("mailing-list", "3.12", "is not an e-mail address"),
    ("announce-list", "announce at apache.org", "is not an e-mail address"),
    ("signing-key", "../outside", "is not a key fingerprint"),
    ("signing-key", "/etc/passwd", "is not a key fingerprint"),  # gpg: an X.509 subject
    ("signing-key", "https://u:secret@pypi.example/", "is not a key fingerprint"),
    ("signing-key", "localhost:1@registry.example.com", "is not a key fingerprint"),
    ("signing-key", "3.12", "is not a key fingerprint"),
    ("signing-key", "Release Manager", "is not a key fingerprint"),  # words of a user id: any key's
    ("signing-key", "DEADBEEF", "is not a key fingerprint"),  # a short key id: forgeable
    ("name", "sample-app\n", "is not a valid distribution name"),
    ("image", "sample/app\n", "is not a valid repository path"),
])
def test_values_that_were_accepted_are_refused_naming_the_key(key: str, value: str, words: str) -> None:
    message = refused(with_(**{key.replace("-", "_"): value}))
    assert message.startswith(f"[tool.release] {key}: ") and words in message, message
    assert "secret" not in message and "\n" not in message


@pytest.mark.parametrize(("key", "value"), [
    ("signing-key", "0123456789ABCDEF0123456789ABCDEF01234567"),
    ("signing-key", "0x0123456789abcdef"),
    ("signing-key", "rm@apache.org"),
    ("signing-key", "<rm@apache.org>"),
    ("mailing-list", "dev@airflow.apache.org"),
    ("mailing-list", "d@x"),
    ("mailing-list", "first.last+vote@lists.example.org"),
    ("registry", "127.0.0.1:5000"),
    ("registry", "3.12.example.org"),
    ("image", "3.12"),  # a repository named 3.12 is valid (the fault suite's list no longer calls it bad)
    ("name", "3.12"),  # a valid distribution name (PEP 508)
    ("changelog", "3.12"),  # a file may be named so
    ("changelog", "localhost:1@registry.example.com"),
])
def test_values_that_stay_valid(key: str, value: str) -> None:
    assert getattr(parse(with_(**{key.replace("-", "_"): value})), key.replace("-", "_")) == value


_STRING_KEYS = ["name", "project", "image", "registry", "index", "svn-dev", "svn-release", "keys-url",
                "changelog", "dockerfile", "mailing-list", "announce-list", "signing-key", "default-python",
                "base-image", "constraints", "entrypoint"]


@given(key=st.sampled_from(_STRING_KEYS), before=st.text(max_size=15), after=st.text(max_size=15))
def test_a_line_break_anywhere_in_a_string_key_is_refused(key: str, before: str, after: str) -> None:
    """The fault suite feeds any text with a line break in it to these keys: each must refuse it."""
    table = with_(**{key.replace("-", "_"): f"{before}\n{after}"})
    if key == "constraints":
        table["install"] = "index"
    with pytest.raises(ConfigError) as caught:
        parse(table)
    assert str(caught.value).startswith(f"[tool.release] {key}"), caught.value


def fault_suite_table() -> str:
    """The sample's [tool.release] as the fault suite releases it (tests/integration/test_faults.py)."""
    text = (FIXTURES / "sample" / "pyproject.toml").read_text()
    text = text.replace('python = ["3.9", "3.11", "3.13"]', 'python = ["3.11"]')
    text = text.replace("[tool.release]\n", '[tool.release]\nregistry = "127.0.0.1:40000"\n'
                                            'index = "http://127.0.0.1:40001/"\n')
    return text.split("[tool.release]\n", 1)[1]


def test_the_fault_suite_table_itself_is_valid() -> None:
    table = tomllib.loads("[tool.release]\n" + fault_suite_table())["tool"]["release"]
    assert parse(table).python == ("3.11",)


@pytest.mark.parametrize(("key", "value"), BAD_CONFIG_PAIRS)
def test_every_bad_pair_of_the_fault_suite_is_refused_naming_its_key(key: str, value: str) -> None:
    """Before, 35 of these were accepted and the suite counted them as tried all the same."""
    table = tomllib.loads(with_bad_value(fault_suite_table(), key, value))["tool"]["release"]
    message = refused(table)
    assert message.startswith(config_refusal_prefix(key)), message


@pytest.mark.parametrize(("key", "value"), sorted(VALID_CONFIG_PAIRS))
def test_the_pairs_left_out_of_the_bad_list_are_valid(key: str, value: str) -> None:
    table = tomllib.loads(with_bad_value(fault_suite_table(), key, value))["tool"]["release"]
    assert parse(table)


# --- image conventions ------------------------------------------------------------------------------


def test_the_image_conventions_default_to_a_shell_no_ports_and_a_read_only_venv() -> None:
    config = parse(MINIMAL)
    assert (config.default_command, config.expose, config.writable_venv) == ((), (), False)


@pytest.mark.parametrize(("key", "value", "words"), [
    ("default-command", [], "non-empty list of strings"),
    ("default-command", ["app", ""], "non-empty list of strings"),
    ("default-command", ["app", 1], "non-empty list of strings"),
    ("expose", [0], "not a port"),
    ("expose", [65536], "not a port"),
    ("expose", ["80/icmp"], "not a port"),
    ("expose", [True], "not a port"),
    ("expose", [8001, "8001"], "listed twice"),
    ("writable-venv", "yes", "writable-venv"),
])
def test_bad_image_conventions_are_refused_naming_the_key(key: str, value: Any, words: str) -> None:
    message = refused(with_(**{key.replace("-", "_"): value}))
    assert message.startswith(f"[tool.release] {key}") and words in message
