#!/usr/bin/env python3
"""Regenerate the constraints file of the Airflow profile.

pip resolves `apache-airflow==VERSION` once per flavour, inside that flavour's sandbox base image
(the interpreter the image will have), with the pip version the Dockerfile uses; the pins are
merged into one file. A pin that differs between flavours, or exists for only some of them,
carries a `python_version` marker, so the one file serves every flavour:

    python examples/airflow/make_constraints.py                    # the version pinned now
    python examples/airflow/make_constraints.py --version 3.3.2 --python 3.11,3.13
    python examples/airflow/make_constraints.py --extras postgres,celery   # = the profile's extras

Needs the Docker Engine and the base images sandbox/python:<flavour> (`invoke sandbox.up
--profile examples/airflow/pyproject.toml` builds them). Containers reach PyPI through the CA
bundle the base images carry.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run from a checkout without installing it

from release.adapters.engine import Engine  # noqa: E402
from release.errors import CommandError, ReleaseError  # noqa: E402

DISTRIBUTION = "apache-airflow"
PIP_VERSION = "26.0.1"  # the Dockerfile's PIP_VERSION: the same resolver the image build runs
BASE_IMAGE = "sandbox/python:{python}"
RESOLVE = (
    "python3 -m venv /tmp/venv >/dev/null && /tmp/venv/bin/pip install -q pip=={pip} "
    "&& /tmp/venv/bin/pip install -q --dry-run --ignore-installed --report - {requirement}"
)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_from_report(report: Mapping[str, Any]) -> dict[str, str]:
    """`pip install --dry-run --report` JSON -> {normalized name: version}."""
    return {normalize(item["metadata"]["name"]): str(item["metadata"]["version"])
            for item in report["install"]}


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
        f"# Constraints for {requirement(version, extras)} on Python {', '.join(flavours)}: what pip "
        f"{PIP_VERSION} resolved",
        "# from PyPI inside the sandbox base image of each flavour. Regenerate with:",
        f"#   python examples/airflow/make_constraints.py {again}",
    ]
    return "\n".join([*header, *merge_pins(pins)]) + "\n"


def resolve(engine: Engine, flavour: str, wanted: str) -> dict[str, str]:
    script = RESOLVE.format(pip=PIP_VERSION, requirement=f"'{wanted}'")
    command = ["env", "PIP_CERT=/etc/ssl/certs/ca-certificates.crt", "PIP_DISABLE_PIP_VERSION_CHECK=1",
               "PIP_ROOT_USER_ACTION=ignore", "sh", "-c", script]
    result = engine.run(BASE_IMAGE.format(python=flavour), command, network_mode="bridge", timeout=900)
    if result.exit_code != 0:
        raise CommandError(f"resolving {wanted} on Python {flavour} failed: {result.stderr[-2000:]}")
    return pins_from_report(json.loads(result.stdout))


def pinned_version(path: Path) -> str:
    match = re.search(rf"^{DISTRIBUTION}==(\S+)$", path.read_text(), re.MULTILINE)
    if match is None:
        raise ReleaseError(f"{path}: no {DISTRIBUTION}== pin")
    return match.group(1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", help="the Airflow release (default: the one the current file pins)")
    parser.add_argument("--python", default="3.11,3.13", help="comma-separated flavours")
    parser.add_argument("--extras", default="", help="comma-separated extras, as in the profile")
    parser.add_argument("--output", type=Path, help="default: examples/airflow/constraints-VERSION.txt")
    args = parser.parse_args(argv)
    current = sorted(HERE.glob("constraints-*.txt"))
    version = args.version or (pinned_version(current[-1]) if current else None)
    if not version:
        parser.error("--version is required: no constraints file to read it from")
    extras = sorted(e.strip() for e in args.extras.split(",") if e.strip())
    engine = Engine()
    pins = {}
    for flavour in (p.strip() for p in args.python.split(",") if p.strip()):
        print(f"resolving {requirement(version, extras)} on Python {flavour} ...", flush=True)
        pins[flavour] = resolve(engine, flavour, requirement(version, extras))
    output = args.output or HERE / f"constraints-{version}.txt"
    output.write_text(constraints_text(version, pins, extras))
    print(f"wrote {output} ({sum(1 for line in output.read_text().splitlines() if '==' in line)} pins); "
          f"the profile's [tool.release] constraints must name it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
