"""Helpers for the suites that run a real `clearway up` process on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ROOMY_LIMITS

COMMAND = [sys.executable, "-c", "from clearway.cli import main; main()"]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_until_ready(url: str, process: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"clearway exited with {process.returncode} during start-up")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready within {within} s")


def clearway_env(data_dir: Path, port: int) -> dict[str, str]:
    """A fresh data directory, the test administrator, fast hashing and retries, roomy limits."""
    return {
        **os.environ,
        "CLEARWAY_DATA_DIR": str(data_dir),
        # Generated beside the data directory, never inside it (and never in the home directory).
        "CLEARWAY_ROOT_SECRET_FILE": str(data_dir.parent / "root.secret"),
        "CLEARWAY_PORT": str(port),
        "CLEARWAY_ADMIN_EMAIL": ADMIN_EMAIL,
        "CLEARWAY_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CLEARWAY_ARGON2_MEMORY_KIB": "1024",
        "CLEARWAY_ARGON2_TIME_COST": "1",
        **{f"CLEARWAY_{name.upper()}": str(value) for name, value in ROOMY_LIMITS.items()},
        "CLEARWAY_BUS_RETRY_BASE_SECONDS": "0.05",
        "CLEARWAY_LOG_LEVEL": "warning",
    }
