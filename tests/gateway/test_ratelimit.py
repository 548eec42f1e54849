"""Token buckets per user, per client address and for the auth class: 429, Retry-After, recovery.

The gateway's buckets read a `ManualClock` here: time stands still while a test spends a
bucket and moves only when the test moves it, so exactly the burst passes and the bucket
refills exactly on time, however fast the machine answers.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from clearway.gateway.ratelimit import MemoryStore
from tests.conftest import Api, bearer
from tests.gateway.clock import ManualClock
from tests.support import assert_problem, client_at, platform_api

pytestmark = pytest.mark.asyncio(loop_scope="module")

BURST = 3
LIMITS = {
    "ratelimit_user_per_second": 0.5,
    "ratelimit_user_burst": BURST,
    "ratelimit_address_per_second": 0.5,
    "ratelimit_address_burst": BURST,
    "ratelimit_auth_per_second": 0.5,
    "ratelimit_auth_burst": BURST,
}
INTERVAL = 2  # seconds per token at 0.5/s

Send = Callable[[], Awaitable[httpx.Response]]


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def limited(
    tmp_path_factory: pytest.TempPathFactory, seeded_data_dir: Path, clock: ManualClock
) -> AsyncIterator[Api]:
    """Small buckets; each test calls from its own client address, so buckets are its own."""
    directory = tmp_path_factory.mktemp("limits") / "data"
    async with platform_api(directory, seed=seeded_data_dir, **LIMITS) as api:
        api.platform.gateway.limiter.store = MemoryStore(clock)
        yield api


async def _spend(send: Send, tokens: int = BURST) -> httpx.Response:
    """Spend `tokens` (each passes), then the next request is the 429 this returns."""
    for n in range(tokens):
        response = await send()
        assert response.status_code != 429, f"request {n + 1} of {tokens}: {response.text}"
    return await send()


async def _recovers(limited: httpx.Response, send: Send, clock: ManualClock) -> None:
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) == INTERVAL
    clock.advance(INTERVAL - 0.001)
    early = await send()
    assert_problem(early, 429)
    assert early.headers["retry-after"] == "1"  # a millisecond left, in whole seconds
    clock.advance(0.001)
    again = await send()
    assert again.status_code != 429, again.text
    assert_problem(await send(), 429)  # one token came back, not more


async def test_per_user_limit(limited: Api, clock: ManualClock) -> None:
    async with client_at(limited, "198.51.100.1") as api:
        await api.register("busy@example.com")
        token = await api.token("busy@example.com")

        def me() -> Awaitable[httpx.Response]:
            return api.client.get("/api/identity/me", headers=bearer(token))

        refused = await _spend(me)
        # Another user is not slowed by it; anonymous calls use the address bucket.
        assert (await api.client.get("/.well-known/jwks.json")).status_code == 200
        await _recovers(refused, me, clock)


async def test_per_address_limit_for_anonymous_callers(limited: Api, clock: ManualClock) -> None:
    async with client_at(limited, "198.51.100.2") as api:

        def jwks() -> Awaitable[httpx.Response]:
            return api.client.get("/.well-known/jwks.json")

        refused = await _spend(jwks)
        # A different client address has its own bucket.
        other = httpx.ASGITransport(app=api.platform, client=("10.9.8.7", 1234))
        async with httpx.AsyncClient(transport=other, base_url="http://testserver") as client:
            assert (await client.get("/.well-known/jwks.json")).status_code == 200
        await _recovers(refused, jwks, clock)


async def test_auth_routes_have_their_own_stricter_bucket(limited: Api, clock: ManualClock) -> None:
    async with client_at(limited, "198.51.100.3") as api:
        attempts = itertools.count()

        def login() -> Awaitable[httpx.Response]:
            # A new account each time: identity's own lock-out of one account must not
            # answer for the gateway.
            email = f"a{next(attempts)}@example.com"
            return api.client.post(
                "/api/identity/login", json={"email": email, "password": "x" * 12}
            )

        # The address's other buckets are untouched: it is the auth class that is spent.
        assert (await api.client.get("/.well-known/jwks.json")).status_code == 200
        refused = await _spend(login)
        # Whatever the route of the class, the bucket is the same.
        forgot = await api.client.post(
            "/api/identity/password/forgot", json={"email": "a@example.com"}
        )
        assert_problem(forgot, 429)
        assert (await api.client.get("/.well-known/jwks.json")).status_code == 200
        await _recovers(refused, login, clock)
