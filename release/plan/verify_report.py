# SPDX-License-Identifier: Apache-2.0
"""What a verification found, file by file, and how it is reported: the report a voter reads
(`invoke verify`), the refusal that names every failing file before staging, and the error a
rejected candidate raises. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from release.errors import VerificationError


@dataclass
class FileCheck:
    name: str
    problems: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VerifyReport:
    candidate: str
    url: str
    commit: str
    checks: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.checks if not check.ok)

    def render(self) -> str:
        rebuilt = f", rebuilt from {self.commit}" if self.commit else ""
        lines = [f"Candidate {self.candidate} at {self.url}{rebuilt}"]
        for check in self.checks:
            mark, why = ("ok  ", check.passed) if check.ok else ("FAIL", check.problems)
            lines.append(f"  {mark} {check.name}: {'; '.join(why)}")
        verdict = "all checks hold" if self.ok else f"{len(self.failed)} of {len(self.checks)} files fail"
        return "\n".join([*lines, verdict])


class CandidateRejected(VerificationError):
    """The candidate failed verification; `report` says which file and why."""

    def __init__(self, report: VerifyReport) -> None:
        super().__init__(report.render())
        self.report = report


def failed_checks(checks: Mapping[str, FileCheck]) -> list[str]:
    """`name: problem; problem` for every file that failed a check, in name order: how a refusal
    before staging names them."""
    return [f"{name}: {'; '.join(check.problems)}" for name, check in sorted(checks.items())
            if check.problems]
