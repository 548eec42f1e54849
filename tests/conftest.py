"""Fixtures every suite shares: a whole platform on a temporary data directory, and a client
that talks to it through the gateway (in-process ASGI, no socket)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearway.runtime.platform import Platform
from clearway.settings import Settings

ADMIN_EMAIL = "admin@clearway.example"
ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "a-long-enough-passphrase"


def test_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "root_secret": "root-secret-for-tests-0123456789",
        # Cheap hashes keep the suite fast; the algorithm and code path are the real ones.
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "ratelimit_auth_per_second": 1000.0,
        "ratelimit_auth_burst": 1000,
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


@pytest.fixture(scope="session")
def seeded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory after a first start (migrations, keys, administrator, rule base).

    Each test starts from a copy: the first start is what costs seconds, and suites that test
    the first start itself build their own platform from an empty directory.
    """
    directory = tmp_path_factory.mktemp("seeded") / "data"

    async def first_start() -> None:
        platform = Platform(test_settings(directory))
        await platform.start()
        await platform.stop()

    asyncio.run(first_start())
    return directory


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
