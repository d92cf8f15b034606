# SPDX-License-Identifier: Apache-2.0
"""One error family. Each error carries the exit code the CLI uses; only the entry point exits."""

from __future__ import annotations


class ReleaseError(Exception):
    """Base of every error the pipeline reports to a user. The message says what to do."""

    exit_code: int = 1


class ConfigError(ReleaseError):
    """`[tool.release]` is missing, malformed, or inconsistent."""

    exit_code = 2


class VersionError(ReleaseError):
    """A version string is not a canonical PEP 440 release version."""

    exit_code = 2


class ToolMissingError(ReleaseError):
    """An outside program the pipeline needs is not installed."""

    exit_code = 3


class CommandError(ReleaseError):
    """An outside program ran and failed."""

    exit_code = 4


class ServiceError(ReleaseError):
    """An outside service (engine, registry, index, svn) is unreachable or answered wrongly."""

    exit_code = 5


class RefusedError(ReleaseError):
    """The pipeline refuses to do something unsafe (dirty tree, digest mismatch, reuse of a version)."""

    exit_code = 6


class VerificationError(ReleaseError):
    """Artefacts, signatures, checksums or images failed a check."""

    exit_code = 7


class PreflightError(RefusedError):
    """The dry run found what a real run would refuse (each listed above it): exit 6, like the refusal."""
