"""Token buckets per user, per client address and for the auth class: 429, Retry-After, recovery."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.conftest import Api, bearer
from tests.support import assert_problem, client_at, platform_api

pytestmark = pytest.mark.asyncio(loop_scope="module")

# One token every 2 s: slow enough that no bucket refills while a loaded machine answers the
# few requests that empty it (what is tested is the limit, not how fast the machine is).
LIMITS = {
    "ratelimit_user_per_second": 0.5,
    "ratelimit_user_burst": 3,
    "ratelimit_address_per_second": 0.5,
    "ratelimit_address_burst": 3,
    "ratelimit_auth_per_second": 0.5,
    "ratelimit_auth_burst": 3,
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def limited(
    tmp_path_factory: pytest.TempPathFactory, seeded_data_dir: Path
) -> AsyncIterator[Api]:
    """Small buckets; each test calls from its own client address, so buckets are its own."""
    directory = tmp_path_factory.mktemp("limits") / "data"
    async with platform_api(directory, seed=seeded_data_dir, **LIMITS) as api:
        yield api


async def _until_limited(send: object, most: int = 10) -> httpx.Response:
    for _ in range(most):
        response: httpx.Response = await send()  # type: ignore[operator]
        if response.status_code == 429:
            return response
    raise AssertionError(f"no 429 within {most} requests")


async def _recovers(api: Api, limited: httpx.Response, send: object) -> None:
    assert_problem(limited, 429)
    wait = int(limited.headers["retry-after"])
    assert 1 <= wait <= 2
    await asyncio.sleep(wait)
    again: httpx.Response = await send()  # type: ignore[operator]
    assert again.status_code != 429, again.text


async def test_per_user_limit(limited: Api) -> None:
    async with client_at(limited, "198.51.100.1") as api:
        await api.register("busy@example.com")
        token = await api.token("busy@example.com")

        def me() -> object:
            return api.client.get("/api/identity/me", headers=bearer(token))

        limited = await _until_limited(me)
        # Another user is not slowed by it; anonymous calls use the address bucket.
        assert (await api.client.get("/.well-known/jwks.json")).status_code == 200
        await _recovers(api, limited, me)


async def test_per_address_limit_for_anonymous_callers(limited: Api) -> None:
    async with client_at(limited, "198.51.100.2") as api:

        def jwks() -> object:
            return api.client.get("/.well-known/jwks.json")

        limited = await _until_limited(jwks)
        # A different client address has its own bucket.
        other = httpx.ASGITransport(app=api.platform, client=("10.9.8.7", 1234))
        async with httpx.AsyncClient(transport=other, base_url="http://testserver") as client:
            assert (await client.get("/.well-known/jwks.json")).status_code == 200
        await _recovers(api, limited, jwks)


async def test_auth_routes_have_their_own_stricter_bucket(limited: Api) -> None:
    async with client_at(limited, "198.51.100.3") as api:
        attempts = itertools.count()

        def login() -> object:
            # A new address each time: on a slow machine the bucket refills between attempts,
            # and identity's own lock-out of one account must not answer for the gateway.
            email = f"a{next(attempts)}@example.com"
            return api.client.post(
                "/api/identity/login", json={"email": email, "password": "x" * 12}
            )

        limited = await _until_limited(login)
        assert int(limited.headers["retry-after"]) >= 1
        # Whatever the route of the class, the bucket is the same.
        forgot = await api.client.post(
            "/api/identity/password/forgot", json={"email": "a@example.com"}
        )
        assert_problem(forgot, 429)
        await _recovers(api, limited, login)
