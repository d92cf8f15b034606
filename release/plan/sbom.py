# SPDX-License-Identifier: Apache-2.0
"""Reading a CycloneDX SBOM back: the schema check (cyclonedx-python-lib's validator) and what it
says (the image digest it describes, its Python and Debian components). Pure: the sbom step writes
SBOMs with these rules and the provenance checks read them with the same."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cyclonedx.schema import SchemaVersion
from packaging.utils import canonicalize_name

SCHEMA_VERSION = SchemaVersion.V1_6


def validate(text: str) -> str:
    """'' when `text` is a valid CycloneDX 1.6 JSON document, else the first problem."""
    # Imported here, not with the module: the validator's jsonschema loads format checkers whose
    # grammar (rfc3987_syntax) takes seconds to build, which every command importing the pipeline
    # paid, `--help` and the dry run included.
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SCHEMA_VERSION).validate_str(text)
    if error is None:
        return ""
    first = next(iter(error), None) if isinstance(error, Iterable) else error
    return str(getattr(first, "data", first))[:300]


@dataclass(frozen=True)
class SbomSummary:
    """What a check of an SBOM found: the digest it describes and the components it lists."""

    digest: str
    python: Mapping[str, str]  # canonical name -> version
    debian: Mapping[str, str]  # package -> version
    wheel_sha256: frozenset[str]  # sha256 hashes of the Python components


def summarise(text: str) -> SbomSummary:
    """Pure: read a (validated) SBOM back for checks."""
    data = json.loads(text)
    root = (data.get("metadata") or {}).get("component") or {}
    python: dict[str, str] = {}
    debian: dict[str, str] = {}
    hashes: set[str] = set()
    for component in data.get("components") or []:
        purl = str(component.get("purl") or "")
        if purl.startswith("pkg:pypi/"):
            python[str(canonicalize_name(component["name"]))] = component.get("version", "")
            hashes |= {h["content"] for h in component.get("hashes") or [] if h.get("alg") == "SHA-256"}
        elif purl.startswith("pkg:deb/"):
            debian[component["name"]] = component.get("version", "")
    return SbomSummary(str(root.get("bom-ref") or ""), python, debian, frozenset(hashes))
