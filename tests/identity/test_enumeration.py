"""No user enumeration: registration, password reset and sign-in answer alike for any address."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, Api
from tests.support import mails, platform_api


def _same(a: object, b: object) -> None:
    assert a == b, f"{a!r} != {b!r}"


async def test_registering_a_taken_address_looks_like_a_new_registration(api: Api) -> None:
    first = await api.register("taken@example.com", name="First Owner")
    again = await api.register("taken@example.com", name="Someone Else", role="provider")
    fresh = await api.register("fresh@example.com")
    for response in (first, again):
        _same(response.status_code, fresh.status_code)
        _same(response.json(), fresh.json())
        _same(response.headers["content-type"], fresh.headers["content-type"])
    # The owner learns of the attempt by mail; the account is unchanged.
    notice = await mails(api, "taken@example.com", "registration_repeated")
    assert "First Owner" in notice[0]["text"]
    assert "Someone Else" not in notice[0]["text"]
    tokens = await api.login("taken@example.com")
    assert tokens["access_token"]


async def test_sign_in_answers_alike_for_unknown_address_and_wrong_password(
    tmp_path: Path, seeded_data_dir: Path
) -> None:
    # Real-ish hashing cost, so that skipping the hash for unknown addresses would show.
    costly = {"argon2_memory_kib": 32768, "argon2_time_cost": 2}
    async with platform_api(tmp_path / "data", seed=seeded_data_dir, **costly) as api:
        await api.register("real@example.com")
        timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
        bodies: dict[str, set[bytes]] = {"unknown": set(), "wrong": set()}
        statuses: set[int] = set()
        # Four of each stays under the back-off (after 5 per account and address) and the
        # address limit (20).
        for attempt in range(4):
            for kind, email in (
                ("unknown", f"ghost{attempt}@example.com"),
                ("wrong", "real@example.com"),
            ):
                started = time.perf_counter()
                response = await api.client.post(
                    "/api/identity/login", json={"email": email, "password": "wrong-password-1"}
                )
                timings[kind].append(time.perf_counter() - started)
                bodies[kind].add(response.content)
                statuses.add(response.status_code)
        assert statuses == {401}
        assert bodies["unknown"] == bodies["wrong"]
        unknown, wrong = (statistics.median(timings[k]) for k in ("unknown", "wrong"))
        assert max(unknown, wrong) < 3 * min(unknown, wrong), timings
        await api.login("real@example.com", PASSWORD)


pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


async def test_forgot_password_answers_alike(api: Api) -> None:
    await api.register("member@example.com")
    known = await api.client.post(
        "/api/identity/password/forgot", json={"email": "member@example.com"}
    )
    unknown = await api.client.post(
        "/api/identity/password/forgot", json={"email": "stranger@example.com"}
    )
    _same(known.status_code, unknown.status_code)
    _same(known.content, unknown.content)
    _same(known.headers["content-type"], unknown.headers["content-type"])
