"""Fixtures every suite shares: a whole platform on a temporary data directory, and a client
that talks to it through the gateway (in-process ASGI, no socket).

The engines under it (SQLite, PostgreSQL databases per test) and SQL from outside the platform
are `tests.databases`, loaded as a plugin; the suites import its helpers from here too.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearway.kit.bus.embedded import FILENAME as BUS_FILE
from clearway.runtime.platform import Platform
from clearway.settings import SERVICES, Settings

# Before the import below: a plugin this conftest also imports is rewritten like the conftest.
pytest.register_assert_rewrite("tests.databases")
from tests.databases import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    POSTGRES_MARKER,
    database_contents,
    postgres,
    query_sql,
    run_sql,
)

pytest_plugins = ("tests.databases",)

__all__ = [
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "PASSWORD",
    "POSTGRES_ADMIN_URL",
    "ROOMY_LIMITS",
    "Api",
    "bearer",
    "database_contents",
    "postgres",
    "query_sql",
    "run_sql",
    "test_settings",
]

ADMIN_EMAIL = "admin@clearway.example"
ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "a-long-enough-passphrase"
# Functional tests send requests as fast as the machine answers, so a fast machine would meet
# the real limits (HTTP 429) where a slow one does not; the rate-limit tests set their own.
ROOMY_LIMITS = {
    f"ratelimit_{kind}_{measure}": 1000
    for kind in ("auth", "user", "address")
    for measure in ("per_second", "burst")
}


def test_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a platform on `data_dir`.

    A copy of a PostgreSQL seed (see `seeded_data_dir`) gets its own databases, cloned from the
    seed's templates on first use and kept for later platforms on the same directory.
    """
    if "database_url" not in overrides and (data_dir / POSTGRES_MARKER).exists():
        overrides["database_url"] = postgres.databases_for(data_dir)
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "root_secret": "root-secret-for-tests-0123456789",
        # Cheap hashes keep the suite fast; the algorithm and code path are the real ones.
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        **ROOMY_LIMITS,
        "bus_retry_base_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


test_settings.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


@dataclass
class Api:
    """A client through the gateway, with shortcuts for signing in."""

    client: httpx.AsyncClient
    platform: Platform

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/api/identity/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def token(self, email: str, password: str = PASSWORD) -> str:
        return str((await self.login(email, password))["access_token"])

    async def admin_token(self) -> str:
        return await self.token(ADMIN_EMAIL, ADMIN_PASSWORD)

    async def register(
        self, email: str, role: str = "customer", password: str = PASSWORD, **fields: Any
    ) -> httpx.Response:
        body = {"email": email, "password": password, "role": role, "name": "Test User"}
        body.update(fields)
        return await self.client.post("/api/identity/register", json=body)

    async def user_id(self, email: str) -> str:
        admin = await self.admin_token()
        response = await self.client.get(
            "/api/identity/users", params={"email": email}, headers=bearer(admin)
        )
        return str(response.json()["items"][0]["id"])

    async def customer(self, email: str) -> str:
        """Register a customer and return an access token for it."""
        assert (await self.register(email)).status_code == 201
        return await self.token(email)

    async def provider(self, email: str) -> str:
        """Register a provider, have the administrator verify it, return its access token."""
        assert (await self.register(email, role="provider")).status_code == 201
        user_id = await self.user_id(email)
        admin = await self.admin_token()
        verified = await self.client.post(
            f"/api/identity/users/{user_id}/verify", headers=bearer(admin)
        )
        assert verified.status_code == 200, verified.text
        return await self.token(email)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _first_start(directory: Path, **overrides: Any) -> None:
    settings = test_settings(directory, **overrides)
    platform = Platform(settings)
    await platform.start()
    try:
        # The first start publishes the whole rule base (some 300 events): delivered here, once,
        # rather than by every test's platform before it gets to the test's own events.
        deadline = time.monotonic() + 300
        while not await _settled(settings):
            assert time.monotonic() < deadline, "the first start's events were not delivered"
            await asyncio.sleep(0.1)
    finally:
        await platform.stop()


async def _settled(settings: Settings) -> bool:
    """No event of the platform's left to deliver: every outbox relayed, every queue empty."""

    def backlog() -> int:
        waiting = sum(query_sql(settings, s, "SELECT COUNT(*) FROM outbox")[0][0] for s in SERVICES)
        with closing(sqlite3.connect(settings.resolved_data_dir / BUS_FILE)) as bus:
            (queued,) = bus.execute("SELECT COUNT(*) FROM messages WHERE dead = 0").fetchone()
        return int(waiting) + int(queued)

    return await asyncio.to_thread(backlog) == 0


@pytest.fixture(scope="session")
def _seeds() -> dict[str, Path]:
    """Seeded data directories by engine, made on first use."""
    return {}


@pytest.fixture(scope="session")
def seeded_data_dir(
    database: str, _seeds: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A data directory after a first start (migrations, keys, administrator, rule base).

    Each test starts from a copy: the first start is what costs seconds, and suites that test
    the first start itself build their own platform from an empty directory. On PostgreSQL the
    directory names the template databases of the same first start (`postgres.json`), and
    `test_settings` gives each copy databases cloned from them.
    """
    if database not in _seeds:
        directory = tmp_path_factory.mktemp(f"seeded-{database}") / "data"
        if database == "postgresql":
            template = postgres.create()
            asyncio.run(_first_start(directory, database_url=postgres.app_url(template)))
            # Kept for the session: templates are dropped at its end, not by the first test.
            postgres.created.remove(template)
            postgres.templates.append(template)
            (directory / POSTGRES_MARKER).write_text(json.dumps({"template": template}))
        else:
            asyncio.run(_first_start(directory))
        _seeds[database] = directory
    return _seeds[database]


@pytest.fixture
def settings(tmp_path: Path, seeded_data_dir: Path) -> Settings:
    shutil.copytree(seeded_data_dir, tmp_path / "data")
    return test_settings(tmp_path / "data")


@pytest.fixture
async def platform(settings: Settings) -> AsyncIterator[Platform]:
    platform = Platform(settings)
    await platform.start()
    try:
        yield platform
    finally:
        await platform.stop()


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=platform)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, platform)
