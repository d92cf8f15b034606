# SPDX-License-Identifier: Apache-2.0
"""Runs inside the image with its own python3 (3.9+) for the health check of the app smoke checks
(release/steps/smoke.py):

    python3 -c SOURCE URL TIMEOUT EXPECT GRACE COMMAND...

Starts COMMAND (the server), polls URL from inside the container until it answers 200 with
EXPECT in the body, the server exits or TIMEOUT passes, then stops the server (SIGTERM, SIGKILL
after GRACE seconds). Prints one JSON line: {ok, status, body, seconds, exit, log}.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, Callable


def ask(url: str) -> tuple[int | None, str | None]:
    """One request: (status, body); (None, None) when nothing answers (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None, None


def healthy(status: int | None, body: str, expect: str) -> bool:
    return status == 200 and expect in body


def watch(ask_once: Callable[[], tuple[int | None, str | None]], exited: Callable[[], int | None], *,
          timeout: float, expect: str, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll until healthy, the server exited or `timeout` passed: {ok, status, body, exit, seconds}."""
    started = clock()
    found: dict[str, Any] = {"ok": False, "status": None, "body": "", "exit": None}
    while clock() - started < timeout:
        found["exit"] = exited()
        if found["exit"] is not None:
            break
        status, body = ask_once()
        found["status"] = status if status is not None else found["status"]
        if body is not None:
            found["body"] = body[-2000:]
            if healthy(status, body, expect):
                found["ok"] = True
                break
        sleep(1)
    found["seconds"] = round(clock() - started, 1)
    return found


def stop(server: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the server's process group, SIGKILL it after `grace` seconds."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main(argv: Sequence[str]) -> None:
    url, timeout, expect, grace, command = argv[0], float(argv[1]), argv[2], float(argv[3]), list(argv[4:])
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        found = watch(lambda: ask(url), server.poll, timeout=timeout, expect=expect)
        stop(server, grace)
        log.seek(0)
        found["log"] = log.read()[-4000:].decode("utf-8", "replace")
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1:])
