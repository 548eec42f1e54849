"""TOTP second factor: enrol, confirm, sign in with a code or a recovery code, disable;
administrators required to have one; and an administrator's reset of a lost one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from clearway.contracts.identity import SecondFactorReset
from clearway.services.identity import totp
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, Api, bearer
from tests.support import assert_problem, eventually, mails, platform_api, refused

pytestmark = pytest.mark.asyncio(loop_scope="package")

LOGIN = "/api/identity/login"
START = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """The time codes are checked at: moved by the test, one 30-second step at a time."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def step(self) -> None:
        self.now += timedelta(seconds=30)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(totp, "clock", fake)
    yield fake


@pytest.fixture
def api(shared_api: Api) -> Api:
    return shared_api


def code(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


async def sign_in(
    api: Api, email: str, password: str = PASSWORD, otp: str | None = None
) -> httpx.Response:
    body = {"email": email, "password": password}
    if otp is not None:
        body["otp"] = otp
    return await api.client.post(LOGIN, json=body)


async def test_a_user_turns_totp_on_and_signs_in_with_it(api: Api, clock: Clock) -> None:
    email = "mfa1@example.com"
    token = await api.customer(email)
    status = await api.client.get("/api/identity/mfa", headers=bearer(token))
    assert status.json() == {"enabled": False, "recovery_codes_left": 0}

    enrolment = await api.client.post("/api/identity/mfa/enrol", headers=bearer(token))
    assert enrolment.status_code == 200, enrolment.text
    secret = enrolment.json()["secret"]
    assert enrolment.json()["otpauth_uri"].startswith("otpauth://totp/Clearway:")
    # Until confirmed, the password alone still signs in.
    assert (await sign_in(api, email)).status_code == 200

    wrong = await api.client.post(
        "/api/identity/mfa/confirm", json={"code": "000000"}, headers=bearer(token)
    )
    assert assert_problem(wrong, 401)["type"].endswith("/invalid-mfa-code")
    confirmed = await api.client.post(
        "/api/identity/mfa/confirm", json={"code": code(secret, clock)}, headers=bearer(token)
    )
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10

    # From now on the password alone is not enough: a clear second step.
    needed = await sign_in(api, email)
    assert assert_problem(needed, 401)["type"].endswith("/mfa-required")
    assert_problem(await sign_in(api, email, otp="123456"), 401)
    # The code used to confirm is spent (RFC 6238 5.2); the next one works, once.
    spent = await sign_in(api, email, otp=code(secret, clock))
    assert assert_problem(spent, 401)["type"].endswith("/invalid-mfa-code")
    clock.step()
    assert (await sign_in(api, email, otp=code(secret, clock))).status_code == 200
    assert_problem(await sign_in(api, email, otp=code(secret, clock)), 401)
    # A wrong password with a right code is still wrong, and says nothing about the code.
    clock.step()
    wrong_password = await sign_in(api, email, "not-the-password-9", otp=code(secret, clock))
    assert assert_problem(wrong_password, 401)["type"].endswith("/invalid-credentials")

    # A recovery code works once in place of a code.
    assert (await sign_in(api, email, otp=recovery[0].upper())).status_code == 200
    assert_problem(await sign_in(api, email, otp=recovery[0]), 401)
    status = await api.client.get("/api/identity/mfa", headers=bearer(token))
    assert status.json() == {"enabled": True, "recovery_codes_left": 9}

    # Turning it off takes the password and a code.
    no_password = await api.client.post(
        "/api/identity/mfa/disable",
        json={"password": "not-the-password-9", "code": recovery[1]},
        headers=bearer(token),
    )
    assert_problem(no_password, 403)
    off = await api.client.post(
        "/api/identity/mfa/disable",
        json={"password": PASSWORD, "code": recovery[1]},
        headers=bearer(token),
    )
    assert off.status_code == 204, off.text
    assert (await sign_in(api, email)).status_code == 200


async def test_new_recovery_codes_replace_the_old(api: Api, clock: Clock) -> None:
    token = await api.customer("mfa2@example.com")
    secret = (await api.client.post("/api/identity/mfa/enrol", headers=bearer(token))).json()[
        "secret"
    ]
    first = await api.client.post(
        "/api/identity/mfa/confirm", json={"code": code(secret, clock)}, headers=bearer(token)
    )
    clock.step()
    renewed = await api.client.post(
        "/api/identity/mfa/recovery-codes",
        json={"code": code(secret, clock)},
        headers=bearer(token),
    )
    assert renewed.status_code == 200, renewed.text
    old, new = first.json()["recovery_codes"], renewed.json()["recovery_codes"]
    assert_problem(await sign_in(api, "mfa2@example.com", otp=old[0]), 401)
    assert (await sign_in(api, "mfa2@example.com", otp=new[0])).status_code == 200
    again = await api.client.post("/api/identity/mfa/enrol", headers=bearer(token))
    assert_problem(again, 409)


async def test_administrators_can_be_required_to_use_a_second_factor(
    tmp_path: Path, seeded_data_dir: Path, clock: Clock
) -> None:
    async with platform_api(tmp_path / "data", seed=seeded_data_dir, require_admin_mfa=True) as api:
        # Customers are not affected.
        await api.register("mfa3@example.com")
        assert (await sign_in(api, "mfa3@example.com")).status_code == 200

        setup = await sign_in(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        problem = assert_problem(setup, 401)
        assert problem["type"].endswith("/mfa-setup-required")
        secret = problem["secret"]
        assert problem["otpauth_uri"].startswith("otpauth://")
        # Asking again shows the same pending secret; a wrong code does not pass.
        assert (
            assert_problem(await sign_in(api, ADMIN_EMAIL, ADMIN_PASSWORD), 401)["secret"] == secret
        )
        assert_problem(await sign_in(api, ADMIN_EMAIL, ADMIN_PASSWORD, "000000"), 401)

        first = await sign_in(api, ADMIN_EMAIL, ADMIN_PASSWORD, code(secret, clock))
        assert first.status_code == 200, first.text
        needed = await sign_in(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert assert_problem(needed, 401)["type"].endswith("/mfa-required")
        admin = first.json()["access_token"]
        status = await api.client.get("/api/identity/mfa", headers=bearer(admin))
        assert status.json()["enabled"] is True
        clock.step()
        keep = await api.client.post(
            "/api/identity/mfa/disable",
            json={"password": ADMIN_PASSWORD, "code": code(secret, clock)},
            headers=bearer(admin),
        )
        assert_problem(keep, 409)


async def _audited(api: Api, admin: str, action: str, user_id: str) -> list[dict[str, Any]]:
    """The audit entries of `action` about `user_id`, once there is one (read page by page)."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        found.clear()
        offset, total = 0, 1
        while offset < total:
            params = {"limit": "1000", "offset": str(offset)}
            page = await api.client.get("/api/monitor/audit", params=params, headers=bearer(admin))
            assert page.status_code == 200, page.text
            items, total = page.json()["items"], page.json()["total"]
            found.extend(
                i for i in items if i["action"] == action and i["details"]["user_id"] == user_id
            )
            offset += len(items) or total
        return bool(found)

    await eventually(arrived)
    return found


async def test_an_administrator_resets_a_lost_second_factor(api: Api, clock: Clock) -> None:
    email = "mfa-lost@example.com"
    token = await api.customer(email)
    secret = (await api.client.post("/api/identity/mfa/enrol", headers=bearer(token))).json()[
        "secret"
    ]
    confirmed = await api.client.post(
        "/api/identity/mfa/confirm", json={"code": code(secret, clock)}, headers=bearer(token)
    )
    assert confirmed.status_code == 200, confirmed.text
    assert assert_problem(await sign_in(api, email), 401)["type"].endswith("/mfa-required")
    user_id = await api.user_id(email)
    reset = f"/api/identity/users/{user_id}/second-factor"

    # Only an administrator may, and only for an account that exists.
    assert_problem(await api.client.delete(reset, headers=bearer(token)), 403)
    other = await api.customer("mfa-lost-bystander@example.com")
    assert_problem(await api.client.delete(reset, headers=bearer(other)), 403)
    admin = await api.admin_token()
    unknown = await api.client.delete(
        "/api/identity/users/0123456789abcdef0123456789abcdef/second-factor",
        headers=bearer(admin),
    )
    assert assert_problem(unknown, 404)["type"].endswith("/user-not-found")
    assert assert_problem(await sign_in(api, email), 401)["type"].endswith("/mfa-required")

    done = await api.client.delete(reset, headers=bearer(admin))
    assert done.status_code == 204, done.text
    # The user's sessions ended; the password alone signs in, and the factor is off.
    await refused(api, token)
    signed_in = await sign_in(api, email)
    assert signed_in.status_code == 200, signed_in.text
    fresh = signed_in.json()["access_token"]
    status = await api.client.get("/api/identity/mfa", headers=bearer(fresh))
    assert status.json() == {"enabled": False, "recovery_codes_left": 0}
    # The user is told, by mail and in the app.
    [mail] = await mails(api, email, "account_update")
    assert mail["subject"] == "The second factor of your Clearway account was reset"

    async def notified() -> bool:
        listed = await api.client.get("/api/common/notifications", headers=bearer(fresh))
        assert listed.status_code == 200, listed.text
        return any(n["type"] == SecondFactorReset.TYPE for n in listed.json()["items"])

    await eventually(notified)
    # The audit trail names the administrator who did it.
    admin_id = await api.user_id(ADMIN_EMAIL)
    [entry] = await _audited(api, admin, SecondFactorReset.TYPE, user_id)
    assert entry["actor"] == admin_id

    # Nothing left to reset; and an administrator's own factor needs its code.
    assert assert_problem(await api.client.delete(reset, headers=bearer(admin)), 409)[
        "type"
    ].endswith("/mfa-disabled")
    own = f"/api/identity/users/{admin_id}/second-factor"
    assert assert_problem(await api.client.delete(own, headers=bearer(admin)), 409)[
        "type"
    ].endswith("/self-reset")
