"""`clearway up --workers 2`: two processes of the whole platform behind one port, and the
background process beside them.

One real supervisor for the module on a fresh data directory (the background process's first
start is tested too). Requests go over fresh connections, so the kernel spreads them over both
workers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from clearway.runtime.workers import BACKGROUND_NICENESS
from tests.e2e.support import COMMAND, clearway_env, free_ports, wait_until_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc"),
]

START_SECONDS = 90.0
STOP_SECONDS = 45.0
PASSWORD = "a-long-enough-passphrase"
ROUNDS = 40  # requests on fresh connections: both workers answer some (kernel hashing)
PROCESSES = 3  # two workers and the background process


@dataclass
class Running:
    base: str
    metrics_port: int
    process: subprocess.Popen[bytes]


def workers_of(supervisor: int) -> set[int]:
    """The supervisor's processes (not multiprocessing's resource tracker)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue  # it ended while we looked
        if f"\nPPid:\t{supervisor}\n" in status and b"spawn_main" in command:
            found.add(int(proc.name))
    return found


def consecutive_free_ports() -> int:
    """A port whose successors are free too: process i serves metrics on port + i."""
    for _ in range(50):
        (port,) = free_ports(1)
        sockets = [socket.socket() for _ in range(PROCESSES)]
        try:
            for i, sock in enumerate(sockets):
                sock.bind(("127.0.0.1", port + i))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return port
    raise AssertionError("no two consecutive free ports")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    (port,) = free_ports(1)
    metrics_port = consecutive_free_ports()
    env = {
        **clearway_env(tmp_path_factory.mktemp("workers") / "data", port),
        "CLEARWAY_METRICS_PORT": str(metrics_port),
    }
    process = subprocess.Popen([*COMMAND, "up", "--workers", "2"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        # The background process starts alone, then the workers: all are up once their metrics
        # listeners are.
        for i in range(PROCESSES):
            wait_until_ready(f"http://127.0.0.1:{metrics_port + i}/metrics", process, START_SECONDS)
        wait_until_ready(f"{base}/readyz", process, START_SECONDS)
        yield Running(base, metrics_port, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def fresh_connections() -> httpx.Client:
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=10)


def test_two_workers_and_the_background_process_each_have_a_metrics_port(
    running: Running,
) -> None:
    assert len(workers_of(running.process.pid)) == PROCESSES
    with fresh_connections() as client:
        for i in range(PROCESSES):
            response = client.get(f"http://127.0.0.1:{running.metrics_port + i}/metrics")
            assert response.status_code == 200
            assert "clearway_" in response.text


def test_the_background_process_yields_the_cores_to_the_workers(running: Running) -> None:
    def stat(pid: int) -> list[str]:
        """/proc/<pid>/stat's fields after pid and (comm): field 3 is [0]."""
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def niceness(pid: int) -> int:
        return int(stat(pid)[16])  # field 19

    def started(pid: int) -> tuple[int, int]:
        return int(stat(pid)[19]), pid  # field 22: ticks after boot (pids wrap around)

    background, *workers = sorted(workers_of(running.process.pid), key=started)  # started first
    assert niceness(background) == BACKGROUND_NICENESS
    assert [niceness(pid) for pid in workers] == [0, 0]


def test_the_background_process_ingests_the_request_records(running: Running) -> None:
    """Workers leave telemetry to the background process: its monitor counts the records."""
    background = f"http://127.0.0.1:{running.metrics_port + PROCESSES - 1}/metrics"
    with fresh_connections() as client:
        for _ in range(ROUNDS):
            assert client.get(f"{running.base}/healthz").status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = client.get(background).text
            counted = [
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith('clearway_monitor_events_ingested_total{kind="request"}')
            ]
            if counted and counted[0] >= ROUNDS:
                return
            time.sleep(0.5)
    raise AssertionError(f"the background process did not count {ROUNDS} request records")


def test_a_profile_change_is_seen_through_every_worker_at_once(running: Running) -> None:
    """Identity caches profiles in each worker; a change made through one must drop the copy
    the other holds (the cache bus), not linger for the cache's lifetime."""
    email = "workers@example.com"
    with fresh_connections() as client:
        created = client.post(
            f"{running.base}/api/identity/register",
            json={
                "email": email,
                "password": PASSWORD,
                "role": "customer",
                "name": "Before",
                "country": "DE",
            },
        )
        assert created.status_code == 201, created.text
        login = client.post(
            f"{running.base}/api/identity/login", json={"email": email, "password": PASSWORD}
        )
        headers = {"authorization": f"Bearer {login.json()['access_token']}"}
        # Both workers now cache the profile with the old name.
        for _ in range(ROUNDS):
            me = client.get(f"{running.base}/api/identity/me", headers=headers)
            assert me.json()["name"] == "Before"
        changed = client.patch(
            f"{running.base}/api/identity/me", headers=headers, json={"name": "After"}
        )
        assert changed.status_code == 200, changed.text
        names = [
            client.get(f"{running.base}/api/identity/me", headers=headers).json()["name"]
            for _ in range(ROUNDS)
        ]
    assert set(names) == {"After"}


def test_a_killed_process_is_replaced_even_the_background_one(running: Running) -> None:
    before = workers_of(running.process.pid)
    victim = min(before)  # the first started: the background process
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        now = workers_of(running.process.pid)
        if len(now) == PROCESSES and victim not in now:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the killed worker was not replaced")
    with fresh_connections() as client:
        statuses = {client.get(f"{running.base}/readyz").status_code for _ in range(ROUNDS)}
    assert statuses == {200}


def test_sigterm_stops_every_worker_and_exits_0(running: Running) -> None:
    workers = workers_of(running.process.pid)
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=STOP_SECONDS) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_port_in_use_is_refused_with_its_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*COMMAND, "up", "--workers", "2"],
            env=clearway_env(tmp_path / "data", port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
