# SPDX-License-Identifier: Apache-2.0
"""Runs inside the image with its own python3 (3.9+), as the image's own user, for its SBOM
(release/steps/sbom.py):

    python3 -c SOURCE WHEELS_RECORD

Prints one JSON line: every Python distribution installed (name, version, licences, whether the
licence is an SPDX expression), every Debian package (with the licences its copyright file
names), /etc/os-release, the wheels record and the Python version.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

DPKG_FIELDS = "${Package}\t${Version}\t${Architecture}\t${source:Package}\t${db:Status-Abbrev}\n"


def licence(meta: Any) -> tuple[list[str], bool]:
    """A distribution's licences from its METADATA, and whether they are one SPDX expression."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return [expression], True
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 100:
        return [text], False
    classifiers = meta.get_all("Classifier") or []
    found = [c.split("::")[-1].strip() for c in classifiers if c.startswith("License ::")]
    return [f for f in found if f and f != "OSI Approved"], False


def python_distributions(dists: Iterable[Any]) -> list[dict[str, Any]]:
    """Each distribution once (the first one found by its lower-cased name), sorted by name."""
    found: dict[str, dict[str, Any]] = {}
    for dist in dists:
        meta = dist.metadata
        name = meta.get("Name")
        if not name or name.lower() in found:
            continue
        licences, expression = licence(meta)
        found[name.lower()] = {"name": name, "version": dist.version, "licences": licences,
                               "expression": expression}
    return sorted(found.values(), key=lambda d: str(d["name"]).lower())


def copyright_licences(text: str) -> list[str]:
    """The licence names of a machine-readable Debian copyright file (none for a free-form one)."""
    if not text.startswith("Format:"):
        return []
    found: list[str] = []
    for line in text.splitlines():
        if line.startswith("License:"):
            for name in re.split(r"\s+(?:or|and)\s+|\s*[|,]\s*", line[8:].strip()):
                if name and name not in found:
                    found.append(name)
    return found


def package_licences(package: str) -> list[str]:
    try:
        with open(f"/usr/share/doc/{package}/copyright", encoding="utf-8", errors="replace") as handle:
            return copyright_licences(handle.read(65536))
    except OSError:
        return []


def debian_packages(listing: str, licences: Any = package_licences) -> list[dict[str, Any]]:
    """The installed packages of `dpkg-query -W -f DPKG_FIELDS` output."""
    found = []
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) == 5 and parts[4].startswith("ii"):
            found.append({"name": parts[0], "version": parts[1], "arch": parts[2], "source": parts[3],
                          "licences": licences(parts[0])})
    return found


def os_release(lines: Iterable[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        key, _, value = line.strip().partition("=")
        found[key] = value.strip('"')
    return found


def dpkg_listing() -> str:
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", DPKG_FIELDS], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, check=False).stdout
    except OSError:
        return ""


def read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def report(record: str, dpkg: str, release: Mapping[str, str]) -> dict[str, Any]:
    return {"python": python_distributions(metadata.distributions()), "debian": debian_packages(dpkg),
            "os": dict(release), "wheels": read(record),
            "python_version": "{}.{}.{}".format(*sys.version_info[:3])}


def main(argv: list[str]) -> None:
    print(json.dumps(report(argv[0], dpkg_listing(), os_release(read("/etc/os-release").splitlines()))))


if __name__ == "__main__":
    main(sys.argv[1:])
