#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerate the constraints file of the Airflow profile.

`uv pip compile` resolves `apache-airflow[EXTRAS]==VERSION` once per flavour, inside that flavour's
sandbox base image (the interpreter the image will have, whose markers it evaluates) with the
profile's BUILD_APT_DEPS installed (some extras' packages build from source even to tell their
dependencies: mysqlclient, python-ldap); the pins are merged into one file. (pip's own resolver,
which the image build runs on the finished pins, backtracked for more than half an hour on the 34
extras here; uv resolves them in about two minutes.) A pin that differs
between flavours, or exists for only some of them, carries a `python_version` marker, so the one
file serves every flavour. EXTRAS are the profile's (every variant's, together: a variant with
fewer extras installs a subset of the same pins):

    python examples/airflow/make_constraints.py                    # the version pinned now
    python examples/airflow/make_constraints.py --version 3.3.2 --python 3.11,3.13,3.14
    python examples/airflow/make_constraints.py --extras postgres,celery   # other extras

Needs the Docker Engine and the sandbox's base images (`invoke sandbox.up --profile
examples/airflow/pyproject.toml` builds them). Containers reach PyPI through the CA bundle the
base images carry.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run from a checkout without installing it

from release import sandbox  # noqa: E402
from release.adapters.engine import Engine  # noqa: E402
from release.config import ReleaseConfig, load_config  # noqa: E402
from release.errors import CommandError, ReleaseError  # noqa: E402
from release.pipeline.connect import base_images, resolve_target  # noqa: E402
from release.plan.images import context_tar  # noqa: E402

DISTRIBUTION = "apache-airflow"
PROFILE = HERE / "pyproject.toml"
UV_VERSION = "0.11.29"  # the resolver
# The base image with the build dependencies, as the Dockerfile's build stages have them.
RESOLVER = """FROM {base}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {packages} \\
    && rm -rf /var/lib/apt/lists/*
"""
RESOLVE = (
    "python3 -m venv /tmp/venv >/dev/null && /tmp/venv/bin/pip install -q uv=={uv} "
    "&& echo {requirement} | /tmp/venv/bin/uv pip compile --quiet --no-header --no-annotate "
    "--python /tmp/venv/bin/python -"
)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_from_compiled(text: str) -> dict[str, str]:
    """`uv pip compile` output (`name==version` lines) -> {normalized name: version}."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, separator, version = line.partition("==")
            if not separator:
                raise ReleaseError(f"not a pin in the resolver's output: {line!r}")
            pins[normalize(name.split("[", 1)[0])] = version.split(";", 1)[0].strip()
    return pins


def merge_pins(pins: Mapping[str, Mapping[str, str]]) -> list[str]:
    """{flavour: {name: version}} -> constraint lines; markers only where the flavours differ."""
    flavours = sorted(pins, key=lambda p: tuple(int(x) for x in p.split(".")))
    lines = []
    for name in sorted({n for found in pins.values() for n in found}):
        versions = {p: pins[p][name] for p in flavours if name in pins[p]}
        if len(versions) == len(flavours) and len(set(versions.values())) == 1:
            lines.append(f"{name}=={next(iter(versions.values()))}")
            continue
        lines += [f'{name}=={v}; python_version == "{p}"' for p, v in versions.items()]
    return lines


def requirement(version: str, extras: Sequence[str] = ()) -> str:
    return f"{DISTRIBUTION}[{','.join(extras)}]=={version}" if extras else f"{DISTRIBUTION}=={version}"


def constraints_text(version: str, pins: Mapping[str, Mapping[str, str]], extras: Sequence[str] = ()) -> str:
    flavours = sorted(pins)
    again = f"--version {version} --python {','.join(flavours)}"
    again += f" --extras {','.join(extras)}" if extras else ""
    header = [
        f"# Constraints for {requirement(version, extras)} on Python {', '.join(flavours)}: what uv "
        f"{UV_VERSION} resolved",
        "# from PyPI inside the sandbox base image of each flavour. Regenerate with:",
        f"#   python examples/airflow/make_constraints.py {again}",
    ]
    return "\n".join([*header, *merge_pins(pins)]) + "\n"


def profile_extras(config: ReleaseConfig) -> list[str]:
    """Every extra any variant of the profile installs."""
    return sorted({extra for name in config.variant_names for extra in config.for_variant(name).extras})


def resolver_image(engine: Engine, base: str, flavour: str, build_deps: str) -> str:
    """`base`, or `base` with `build_deps` installed (cached by the engine's build cache)."""
    if not build_deps.strip():
        return base
    dockerfile = RESOLVER.format(base=base, packages=" ".join(build_deps.split()))
    context = context_tar({"Dockerfile": dockerfile.encode()})
    return engine.build(context, tag=f"sandbox/constraints-resolver:{flavour}", buildargs={}).image_id


def resolve(engine: Engine, image: str, flavour: str, wanted: str) -> dict[str, str]:
    script = RESOLVE.format(uv=UV_VERSION, requirement=f"'{wanted}'")
    bundle = "/etc/ssl/certs/ca-certificates.crt"  # pip and uv trust what the base image trusts
    command = ["env", f"PIP_CERT={bundle}", f"SSL_CERT_FILE={bundle}", "PIP_DISABLE_PIP_VERSION_CHECK=1",
               "PIP_ROOT_USER_ACTION=ignore", "sh", "-c", script]
    result = engine.run(image, command, network_mode="bridge", timeout=3600)
    if result.exit_code != 0:
        raise CommandError(f"resolving {wanted} on Python {flavour} failed: {result.stderr[-2000:]}")
    return pins_from_compiled(result.stdout)


def pinned_version(path: Path) -> str:
    match = re.search(rf"^{DISTRIBUTION}==(\S+)$", path.read_text(), re.MULTILINE)
    if match is None:
        raise ReleaseError(f"{path}: no {DISTRIBUTION}== pin")
    return match.group(1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", help="the Airflow release (default: the one the current file pins)")
    parser.add_argument("--python", default="", help="comma-separated flavours (default: the profile's)")
    parser.add_argument("--extras", default=None, help="comma-separated extras (default: the profile's)")
    parser.add_argument("--output", type=Path, help="default: examples/airflow/constraints-VERSION.txt")
    args = parser.parse_args(argv)
    current = sorted(HERE.glob("constraints-*.txt"))
    version = args.version or (pinned_version(current[-1]) if current else None)
    if not version:
        parser.error("--version is required: no constraints file to read it from")
    config = load_config(HERE.parent.parent, profile=PROFILE)
    extras = (profile_extras(config) if args.extras is None
              else sorted(e.strip() for e in args.extras.split(",") if e.strip()))
    flavours = [p.strip() for p in args.python.split(",") if p.strip()] or list(config.python)
    target = resolve_target(config, sandbox.load(config.root))
    bases = base_images(config, target)
    engine = Engine(timeout=3600)
    pins = {}
    for flavour in flavours:
        print(f"resolving {requirement(version, extras)} on Python {flavour} ...", flush=True)
        build_deps = dict(config.build_args).get("BUILD_APT_DEPS", "")
        image = resolver_image(engine, bases[flavour], flavour, build_deps)
        pins[flavour] = resolve(engine, image, flavour, requirement(version, extras))
    output = args.output or HERE / f"constraints-{version}.txt"
    output.write_text(constraints_text(version, pins, extras))
    print(f"wrote {output} ({sum(1 for line in output.read_text().splitlines() if '==' in line)} pins); "
          f"the profile's [tool.release] constraints must name it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
