# SPDX-License-Identifier: Apache-2.0
"""The smoke test's verdicts on C headers and unresolved shared libraries in the final image (the
production extras' build dependencies stay in the build stages), without an engine."""

from __future__ import annotations

from typing import Any

import pytest

from release.adapters.engine import ImageInfo
from release.identity import ImageId
from release.steps.smoke import Expected, fact_checks

SHA = "a" * 64
WHEEL = "sample_app-1.10.6-py3-none-any.whl"
EXPECT = Expected(image=ImageId("3.11"), name="sample-app", version="1.10.6", wheels={WHEEL: SHA}, labels={})
INFO = ImageInfo("sha256:i", 1, {"org.release-pipeline.wheel.sha256": SHA}, (), "50000:0",
                 ("/opt/venv/bin/dumb-init", "--", "/entrypoint"), ())


def facts(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "python": "3.11", "uid": 50000, "version": "1.10.6", "wheels": f"{SHA}  {WHEEL}\n",
        "pip_check": [0, "No broken requirements found."], "tools": {"gcc": None, "node": None},
        "pid1": "/opt/venv/bin/dumb-init", "headers": [0, []], "libraries": [120, {}], "shell": [0, ""],
    }
    found.update(changes)
    return found


def verdicts(found: dict[str, Any]) -> dict[str, str]:
    return {c.name: ("skipped" if c.skipped else "ok" if c.ok else c.detail)
            for c in fact_checks(found, INFO, EXPECT)}


def test_an_image_as_the_release_promises_passes_every_check() -> None:
    found = verdicts(facts())
    assert set(found.values()) <= {"ok", "skipped"}  # no app command given: that check is skipped
    assert {found[name] for name in ("no-build-tools", "no-headers", "shared-libs", "shell")} == {"ok"}


def test_c_headers_in_the_final_image_fail_it() -> None:
    found = verdicts(facts(headers=[2, ["/usr/include/libpq-fe.h", "/usr/include/stdio.h"]]))
    assert found["no-headers"] == "2 C headers, e.g. /usr/include/libpq-fe.h, /usr/include/stdio.h"


def test_a_compiler_on_path_fails_it() -> None:
    found = verdicts(facts(tools={"gcc": "/usr/bin/gcc", "c++": "/usr/bin/c++", "node": None}))
    assert "gcc" in found["no-build-tools"] and "c++" in found["no-build-tools"]


def test_a_shared_library_that_misses_a_library_fails_it() -> None:
    missing = {"/opt/venv/lib/python3.11/site-packages/MySQLdb/_mysql.cpython-311-x86_64-linux-gnu.so":
               ["libmariadb.so.3"], "/opt/venv/lib/x/_ldap.so": ["libldap-2.5.so.0", "liblber-2.5.so.0"]}
    found = verdicts(facts(libraries=[120, missing]))
    assert found["shared-libs"].startswith("2 of 120 shared libraries miss libraries: ")
    assert "_mysql.cpython-311-x86_64-linux-gnu.so: libmariadb.so.3" in found["shared-libs"]
    assert "_ldap.so: liblber-2.5.so.0, libldap-2.5.so.0" in found["shared-libs"]


def test_without_ldd_the_library_check_is_skipped() -> None:
    assert verdicts(facts(libraries=[120, None]))["shared-libs"] == "skipped"


@pytest.mark.parametrize("absent", ["headers", "libraries"])
def test_a_probe_from_an_older_image_fails_no_check_it_cannot_judge(absent: str) -> None:
    found = facts()
    del found[absent]
    assert verdicts(found)["no-headers" if absent == "headers" else "shared-libs"] in {"ok", "skipped"}
