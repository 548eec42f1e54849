"""A real `clearway up` process over real HTTP: the identity flow, then a graceful stop under
load and a restart on the same data directory that has lost nothing.

The scenario runs once (it starts the process twice); the tests below each check one promise
of it, so a broken promise names itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

pytestmark = pytest.mark.slow

ADMIN_EMAIL = "admin@clearway.example"
ADMIN_PASSWORD = "admin-password-for-e2e"
PASSWORD = "a-long-enough-passphrase"
READY_WITHIN = 90.0
EXIT_WITHIN = 30.0
MAIL_WITHIN = 20.0
IN_FLIGHT = 3
JUST_BEFORE = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    """`clearway up` on a data directory, its output in a file (no pipe to fill up)."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CLEARWAY_DATA_DIR": str(data_dir),
            "CLEARWAY_ADMIN_EMAIL": ADMIN_EMAIL,
            "CLEARWAY_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CLEARWAY_ROOT_SECRET": "root-secret-for-e2e-0123456789abcdef",
            "CLEARWAY_ARGON2_MEMORY_KIB": "1024",
            "CLEARWAY_ARGON2_TIME_COST": "1",
            "CLEARWAY_RATELIMIT_AUTH_PER_SECOND": "1000",
            "CLEARWAY_RATELIMIT_AUTH_BURST": "1000",
            "CLEARWAY_BUS_RETRY_BASE_SECONDS": "0.05",
        }
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from clearway.cli import main; main()",
                    "up",
                    "--port",
                    str(self.port),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    raise AssertionError(f"clearway up exited early:\n{self.output()}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"not ready within {READY_WITHIN} s:\n{self.output()}")

    async def wait(self, within: float) -> int | None:
        """The exit code, or None if still running after `within` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            code = self.popen.poll()
            if code is not None:
                return code
            await asyncio.sleep(0.05)
        return None

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class Outcome:
    flow: dict[str, Any] = field(default_factory=dict)
    in_flight: list[int] = field(default_factory=list)
    in_flight_sent_before_term: bool = False
    exit_code: int | None = None
    exit_seconds: float | None = None
    mails_after_restart: dict[str, int] = field(default_factory=dict)
    log: str = ""


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _token(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/identity/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _welcome_count(client: httpx.AsyncClient, admin: str, email: str) -> int:
    response = await client.get(
        "/api/common/mailbox",
        params={"recipient": email, "template": "welcome"},
        headers=_bearer(admin),
    )
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def _await_welcome(client: httpx.AsyncClient, admin: str, email: str) -> int:
    deadline = time.monotonic() + MAIL_WITHIN
    while True:
        count = await _welcome_count(client, admin, email)
        if count or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.2)


async def _flow(client: httpx.AsyncClient) -> dict[str, Any]:
    """register → login → me → admin verifies a provider → the mailbox, over real HTTP."""
    seen: dict[str, Any] = {}
    reg = await client.post(
        "/api/identity/register",
        json={"email": "e2e-customer@example.com", "password": PASSWORD, "role": "customer",
              "name": "E2E Customer", "country": "DE"},
    )  # fmt: skip
    seen["register"] = reg.status_code
    customer = await _token(client, "e2e-customer@example.com")
    me = await client.get("/api/identity/me", headers=_bearer(customer))
    seen["me"] = (me.status_code, me.json().get("email"))
    provider = await client.post(
        "/api/identity/register",
        json={"email": "e2e-lab@example.com", "password": PASSWORD, "role": "provider",
              "name": "E2E Lab"},
    )  # fmt: skip
    seen["register_provider"] = provider.status_code
    pending = await client.post(
        "/api/identity/login", json={"email": "e2e-lab@example.com", "password": PASSWORD}
    )
    seen["pending_login"] = pending.status_code
    admin = await _token(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    users = await client.get(
        "/api/identity/users", params={"email": "e2e-lab@example.com"}, headers=_bearer(admin)
    )
    lab_id = users.json()["items"][0]["id"]
    verified = await client.post(f"/api/identity/users/{lab_id}/verify", headers=_bearer(admin))
    seen["verify"] = (verified.status_code, verified.json().get("status"))
    seen["provider_login"] = (
        await client.post(
            "/api/identity/login", json={"email": "e2e-lab@example.com", "password": PASSWORD}
        )
    ).status_code
    seen["welcome"] = await _await_welcome(client, admin, "e2e-customer@example.com")
    return seen


def _registration(email: str) -> bytes:
    body = {"email": email, "password": PASSWORD, "role": "customer", "name": "Late Comer"}
    return orjson.dumps(body)


async def _stop_under_load(process: Process, outcome: Outcome) -> list[str]:
    """SIGTERM while requests are in flight; returns the e-mails registered around it."""
    go = asyncio.Event()
    sent = asyncio.Semaphore(0)
    emails = [f"in-flight-{i}@example.com" for i in range(IN_FLIGHT)]

    async def slow_body(payload: bytes) -> AsyncIterator[bytes]:
        # Half the body now, the rest once the server has been told to stop: the request is
        # in flight (headers read, application called) when SIGTERM arrives.
        yield payload[: len(payload) // 2]
        sent.release()
        await go.wait()
        yield payload[len(payload) // 2 :]

    async with httpx.AsyncClient(base_url=process.base_url, timeout=EXIT_WITHIN) as client:
        before = [f"just-before-{i}@example.com" for i in range(JUST_BEFORE)]
        for response in await asyncio.gather(
            *(
                client.post("/api/identity/register", json=orjson.loads(_registration(e)))
                for e in before
            )
        ):
            assert response.status_code == 201, response.text
        tasks = [
            asyncio.create_task(
                client.post(
                    "/api/identity/register",
                    content=slow_body(_registration(email)),
                    headers={"content-type": "application/json"},
                )
            )
            for email in emails
        ]
        async with asyncio.timeout(EXIT_WITHIN):
            for _ in emails:
                await sent.acquire()
        outcome.in_flight_sent_before_term = True
        started = time.monotonic()
        process.popen.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)  # the server is shutting down before the bodies complete
        go.set()
        responses = await asyncio.gather(*tasks, return_exceptions=True)
        outcome.in_flight = [
            r.status_code if isinstance(r, httpx.Response) else -1 for r in responses
        ]
        outcome.exit_code = await process.wait(EXIT_WITHIN)
        if outcome.exit_code is not None:
            outcome.exit_seconds = time.monotonic() - started
    return before + emails


async def _scenario(tmp_path: Path) -> Outcome:
    data_dir = tmp_path / "data"
    outcome = Outcome()
    first = Process(data_dir, tmp_path / "first.log")
    try:
        await first.ready()
        async with httpx.AsyncClient(base_url=first.base_url, timeout=15) as client:
            outcome.flow = await _flow(client)
        registered = await _stop_under_load(first, outcome)
    finally:
        first.kill()
        outcome.log = first.output()
    second = Process(data_dir, tmp_path / "second.log")
    try:
        await second.ready()
        async with httpx.AsyncClient(base_url=second.base_url, timeout=15) as client:
            admin = await _token(client, ADMIN_EMAIL, ADMIN_PASSWORD)
            for email in registered:
                outcome.mails_after_restart[email] = await _await_welcome(client, admin, email)
        second.popen.send_signal(signal.SIGTERM)
        await second.wait(EXIT_WITHIN)
    finally:
        second.kill()
    return outcome


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    yield asyncio.run(_scenario(tmp_path_factory.mktemp("up")))


def test_identity_flow_over_real_http(outcome: Outcome) -> None:
    assert outcome.flow == {
        "register": 201,
        "me": (200, "e2e-customer@example.com"),
        "register_provider": 201,
        "pending_login": 403,
        "verify": (200, "active"),
        "provider_login": 200,
        "welcome": 1,
    }


def test_in_flight_requests_complete_after_sigterm(outcome: Outcome) -> None:
    assert outcome.in_flight_sent_before_term
    assert outcome.in_flight == [201] * IN_FLIGHT, outcome.log


def test_the_process_stops_within_30_seconds(outcome: Outcome) -> None:
    assert outcome.exit_code is not None, outcome.log
    assert outcome.exit_seconds is not None and outcome.exit_seconds < EXIT_WITHIN


def test_the_process_exits_0_after_sigterm(outcome: Outcome) -> None:
    assert outcome.exit_code == 0, f"exit code {outcome.exit_code}"


def test_nothing_registered_before_the_stop_is_lost(outcome: Outcome) -> None:
    assert len(outcome.mails_after_restart) == IN_FLIGHT + JUST_BEFORE
    missing = [email for email, count in outcome.mails_after_restart.items() if count != 1]
    assert not missing, f"welcome mail missing or doubled after restart: {missing}"
