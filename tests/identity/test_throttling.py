"""Sign-in abuse slows the guesser, never locks the owner out: back-off per account and client
address, a limit per address, and a cap on concurrent password hashing."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from clearway.services.identity.domain import BackoffPolicy, ThrottleState
from tests.conftest import PASSWORD, Api, query_sql, run_sql
from tests.support import assert_problem, client_at, platform_api

pytestmark = pytest.mark.asyncio(loop_scope="package")

LOGIN = "/api/identity/login"


async def _fail(api: Api, email: str) -> int:
    response = await api.client.post(LOGIN, json={"email": email, "password": "wrong-password-1"})
    return response.status_code


async def test_the_guessing_address_waits_while_the_owner_signs_in(
    tmp_path: Path, seeded_data_dir: Path
) -> None:
    # A first wait longer than any test run: what is asserted never depends on the clock.
    async with platform_api(
        tmp_path / "data", seed=seeded_data_dir, login_backoff_seconds=3600
    ) as platform:
        await platform.register("throttled@example.com")
        free = platform.platform.settings.login_free_failures
        async with client_at(platform, "192.0.2.1") as attacker:
            statuses = [await _fail(attacker, "throttled@example.com") for _ in range(free + 1)]
            assert statuses == [401] * free + [429]
            # Even the right password waits from there: the pair is backing off.
            waiting = await attacker.client.post(
                LOGIN, json={"email": "throttled@example.com", "password": PASSWORD}
            )
            assert_problem(waiting, 429)
            assert int(waiting.headers["retry-after"]) > 600
            # An unknown address backs off just the same (no hint that the account exists).
            unknown = [
                await _fail(attacker, "nobody-throttled@example.com") for _ in range(free + 1)
            ]
            assert unknown == [401] * free + [429]
            # Another account from the same address is not slowed by it.
            await attacker.register("bystander@example.com")
            await attacker.login("bystander@example.com")
        # The owner, elsewhere, is not slowed down at all.
        async with client_at(platform, "192.0.2.11") as owner:
            assert (await owner.login("throttled@example.com"))["access_token"]
            assert await _fail(owner, "nobody-throttled@example.com") == 401


async def test_failed_sign_ins_from_one_client_limit_the_client(shared_api: Api) -> None:
    async with client_at(shared_api, "192.0.2.3") as api:
        await api.register("victim@example.com")
        # Twenty different addresses, each failing once: no pair reaches its back-off.
        statuses = [await _fail(api, f"spray{i}@example.com") for i in range(20)]
        assert statuses == [401] * 20
        blocked = await api.client.post(
            LOGIN, json={"email": "victim@example.com", "password": PASSWORD}
        )
        assert_problem(blocked, 429)
        assert int(blocked.headers["retry-after"]) > 0
    async with client_at(shared_api, "192.0.2.33") as owner:
        await owner.login("victim@example.com")


async def test_the_wait_doubles_up_to_a_ceiling_and_is_forgotten() -> None:
    policy = BackoffPolicy(
        free_failures=3,
        first_wait=timedelta(seconds=1),
        longest_wait=timedelta(seconds=60),
        forget_after=timedelta(days=1),
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    state = ThrottleState(0, now, None)
    waits = []
    for _ in range(10):
        state.record_backoff(now, policy)
        waits.append(state.retry_after(now))
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    later = now + timedelta(days=2)
    assert not state.record_backoff(later, policy)
    assert state.failures == 1 and state.retry_after(later) == 0
    # A huge count never overflows the date arithmetic.
    assert policy.wait(10_000) == timedelta(seconds=60)


async def test_a_flood_cannot_take_every_core(tmp_path: Path, seeded_data_dir: Path) -> None:
    """One hash at a time and none waiting: a second sign-in meanwhile is refused at once."""
    async with platform_api(
        tmp_path / "data",
        seed=seeded_data_dir,
        password_hashing_concurrency=1,
        password_hashing_queue=0,
    ) as api:
        await api.register("flood@example.com")
        entered, release = threading.Event(), threading.Event()
        original = PasswordHasher.verify

        def held(self: PasswordHasher, stored: str, password: str) -> bool:
            entered.set()
            release.wait(30)
            return original(self, stored, password)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(PasswordHasher, "verify", held)
            first = asyncio.create_task(
                api.client.post(LOGIN, json={"email": "flood@example.com", "password": PASSWORD})
            )
            assert await asyncio.to_thread(entered.wait, 30)
            second = await api.client.post(
                LOGIN, json={"email": "flood@example.com", "password": PASSWORD}
            )
            assert assert_problem(second, 503)["type"].endswith("/busy")
            assert second.headers["retry-after"] == "1"
            release.set()
            assert (await first).status_code == 200
        # Once the turn is free, sign-in works again.
        await api.login("flood@example.com")


async def test_old_throttle_entries_are_pruned(tmp_path: Path, seeded_data_dir: Path) -> None:
    async with platform_api(tmp_path / "data", seed=seeded_data_dir) as api:
        for email in ("old@example.com", "fresh@example.com"):
            assert await _fail(api, email) == 401
        settings = api.platform.settings
        rows = query_sql(settings, "identity", "SELECT key FROM login_throttle")
        assert len(rows) == 3  # two account-and-address pairs, one address
        # Nothing in a key shows the client address or the e-mail.
        assert not [k for (k,) in rows if "127.0.0.1" in k or "example" in k]
        old = next(k for (k,) in rows if k.startswith("pair:"))
        aged = datetime.now(UTC) - timedelta(days=2)
        run_sql(
            settings,
            "identity",
            [("UPDATE login_throttle SET window_started = ? WHERE key = ?", (aged, old))],
        )
        jobs = {job.name: job for job in api.platform.hosted["identity"].service.jobs}
        assert await jobs["identity-prune-throttle"].run() == 1
        left = {k for (k,) in query_sql(settings, "identity", "SELECT key FROM login_throttle")}
        assert old not in left and len(left) == 2
