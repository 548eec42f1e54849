"""Failed sign-ins lock the e-mail (known or not) and the client address: 429, Retry-After."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, Api
from tests.support import assert_problem, client_at

pytestmark = pytest.mark.asyncio(loop_scope="package")

LOGIN = "/api/identity/login"


async def _fail(api: Api, email: str) -> int:
    response = await api.client.post(LOGIN, json={"email": email, "password": "wrong-password-1"})
    return response.status_code


async def test_failed_sign_ins_lock_the_account(shared_api: Api) -> None:
    async with client_at(shared_api, "192.0.2.1") as api:
        await api.register("throttled@example.com")
        allowed = api.platform.settings.login_failures_before_lockout
        assert [await _fail(api, "throttled@example.com") for _ in range(allowed)] == [
            401
        ] * allowed
        locked = await api.client.post(
            LOGIN, json={"email": "throttled@example.com", "password": PASSWORD}
        )
        assert_problem(locked, 429)
        assert int(locked.headers["retry-after"]) > 0
        # Another account from the same client is not locked by it.
        await api.register("bystander@example.com")
        await api.login("bystander@example.com")


async def test_unknown_addresses_lock_the_same_way(shared_api: Api) -> None:
    async with client_at(shared_api, "192.0.2.2") as api:
        allowed = api.platform.settings.login_failures_before_lockout
        statuses = [await _fail(api, "nobody-throttled@example.com") for _ in range(allowed + 1)]
        assert statuses == [401] * allowed + [429]
        again = await api.client.post(
            LOGIN, json={"email": "nobody-throttled@example.com", "password": "wrong-password-1"}
        )
        assert_problem(again, 429)
        assert int(again.headers["retry-after"]) > 0
    # The lock is on the e-mail: another client address meets it too.
    async with client_at(shared_api, "192.0.2.22") as elsewhere:
        assert await _fail(elsewhere, "nobody-throttled@example.com") == 429


async def test_failed_sign_ins_from_one_client_lock_the_client(shared_api: Api) -> None:
    async with client_at(shared_api, "192.0.2.3") as api:
        await api.register("victim@example.com")
        # Twenty different addresses, each failing once: no account reaches its own limit.
        statuses = [await _fail(api, f"spray{i}@example.com") for i in range(20)]
        assert statuses == [401] * 20
        blocked = await api.client.post(
            LOGIN, json={"email": "victim@example.com", "password": PASSWORD}
        )
        assert_problem(blocked, 429)
        assert int(blocked.headers["retry-after"]) > 0
