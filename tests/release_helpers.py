# SPDX-License-Identifier: Apache-2.0
"""Helpers for end-to-end release tests: a sample checkout on a real sandbox, and its state."""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

from conftest import git, make_sample_repo, vote_policy

from benchmarks.bench import set_version
from release import sandbox
from release.adapters.index import PackageIndex
from release.adapters.registry import RegistryClient
from release.config import ReleaseConfig, load_config
from release.pipeline.connect import Target, connect
from release.pipeline.release import ReleaseReport, RunOptions, run_release
from release.progress import Event
from release.versions import parse_version

FLAVOURS = ("3.11", "3.13")


@dataclass
class SampleRelease:
    """A sample checkout whose [tool.release] points at its own sandbox."""

    root: Path
    flavours: tuple[str, ...] = FLAVOURS
    lines: list[str] = field(default_factory=list)
    # text seen in progress -> (service to kill, seconds later)
    triggers: dict[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def create(cls, dest: Path, flavours: tuple[str, ...] = FLAVOURS, *,
               fixture: str = "sample", vote: str = "none") -> SampleRelease:
        """A checkout of `fixture` (tests/fixtures/), building only `flavours`; `vote="none"` (these
        tests release finals in one command), `vote="asf"` for the vote loop."""
        root = make_sample_repo(dest, fixture=fixture, vote=vote)
        pyproject = root / "pyproject.toml"
        listed = ", ".join(f'"{p}"' for p in flavours)
        text = pyproject.read_text().replace('python = ["3.9", "3.11", "3.13"]', f"python = [{listed}]")
        pyproject.write_text(text)
        git(root, "commit", "-qam", "Build fewer flavours in tests")
        return cls(root, flavours)

    @property
    def config(self) -> ReleaseConfig:
        return load_config(self.root)

    def target(self) -> Target:
        return connect(self.config, flavours=self.flavours, progress=self.lines.append)

    def set_vote(self, vote: str) -> None:
        """Commit another vote policy (`asf` or `none`) for the tests that follow."""
        pyproject = self.root / "pyproject.toml"
        text = pyproject.read_text()
        for policy in ("asf", "none"):
            text = text.replace("[tool.release]\n" + vote_policy(policy), "[tool.release]\n", 1)
        pyproject.write_text(text.replace("[tool.release]\n", "[tool.release]\n" + vote_policy(vote), 1))
        git(self.root, "commit", "-qam", f"vote = {vote}")

    def set_version(self, version: str) -> None:
        """Commit `version` as the declared version, with its changelog section."""
        set_version(self.root, version)

    def release(self, version: str, **options: object) -> ReleaseReport:
        declared = str(parse_version(version).in_tree)
        if self.declared() != declared:
            self.set_version(declared)
        run_options = RunOptions(flavours=self.flavours, **options)  # type: ignore[arg-type]
        return run_release(self.config, parse_version(version), self.target(), run_options,
                           announce=lambda name, does: self.say(f"==> {name}: {does}"),
                           say=self.say)

    def say(self, item: str | Event) -> None:
        line = str(item)
        self.lines.append(line)
        for text, (service, delay) in list(self.triggers.items()):
            if text in line:
                del self.triggers[text]
                if delay:
                    threading.Timer(delay, self.kill, args=(service,)).start()
                else:
                    self.kill(service)

    def declared(self) -> str:
        text = (self.root / "sample_app" / "__init__.py").read_text()
        start = text.index('__version__ = "') + len('__version__ = "')
        return text[start:text.index('"', start)]

    def services(self) -> sandbox.Services:
        found = sandbox.load(self.root)
        assert found is not None
        return found

    def registry(self) -> RegistryClient:
        return RegistryClient(self.services().registry)

    def index(self) -> PackageIndex:
        url = self.services().index_url
        return PackageIndex(url, url + "simple/")

    def tag_digests(self) -> dict[str, str]:
        registry = self.registry()
        image = self.config.image
        found = {}
        for tag in registry.tags(image):
            digest = registry.manifest_digest(image, tag)
            assert digest is not None
            found[tag] = digest
        return found

    def kill(self, service: str) -> None:
        """SIGKILL a sandbox service (registry or index), as a crash would."""
        state = json.loads((self.root / ".release" / "services.json").read_text())
        os.kill(int(state["processes"][service]["pid"]), signal.SIGKILL)
