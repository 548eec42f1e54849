"""Forgotten passwords: a single-use, expiring link by mail; the answer never tells who exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from clearway.services.identity.tables import password_resets
from tests.conftest import PASSWORD, Api, bearer
from tests.support import assert_problem, claims_of, mails, refused, reset_token

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


NEW_PASSWORD = "a-brand-new-passphrase"


async def test_reset_link_works_once_and_ends_sessions(api: Api) -> None:
    await api.register("reset@example.com", name="Rita Reset")
    session = await api.login("reset@example.com")
    forgot = await api.client.post(
        "/api/identity/password/forgot", json={"email": "reset@example.com"}
    )
    assert forgot.status_code == 202
    mail = (await mails(api, "reset@example.com", "password_reset"))[0]
    assert "Rita Reset" in mail["text"]
    token = await reset_token(api, "reset@example.com")

    weak = await api.client.post(
        "/api/identity/password/reset", json={"token": token, "new_password": "short"}
    )
    assert_problem(weak, 422)  # refused, and the link is not spent by it
    done = await api.client.post(
        "/api/identity/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    again = await api.client.post(
        "/api/identity/password/reset", json={"token": token, "new_password": NEW_PASSWORD + "x"}
    )
    assert assert_problem(again, 422)["type"].endswith("invalid-reset-link")

    await refused(api, session["access_token"])
    old = await api.client.post(
        "/api/identity/login", json={"email": "reset@example.com", "password": PASSWORD}
    )
    assert_problem(old, 401)
    await api.login("reset@example.com", NEW_PASSWORD)


async def test_made_up_reset_tokens_are_refused(api: Api) -> None:
    await api.register("guess@example.com")
    for token in ("made-up-token", "A" * 43, "x"):
        response = await api.client.post(
            "/api/identity/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
        )
        assert_problem(response, 422)


async def test_forgot_answers_the_same_for_unknown_and_known_addresses(api: Api) -> None:
    await api.register("known@example.com")
    known = await api.client.post(
        "/api/identity/password/forgot", json={"email": "known@example.com"}
    )
    unknown = await api.client.post(
        "/api/identity/password/forgot", json={"email": "unknown@example.com"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.headers.get("content-type") == unknown.headers.get("content-type")
    await mails(api, "known@example.com", "password_reset")
    admin_mail = await mails(api, "unknown@example.com", at_least=0)
    assert admin_mail == []


async def test_expired_reset_link_is_refused(api: Api) -> None:
    await api.register("late@example.com")
    await api.client.post("/api/identity/password/forgot", json={"email": "late@example.com"})
    token = await reset_token(api, "late@example.com")
    # Time passes: the link's expiry (`password_reset_ttl_seconds`) is now behind us.
    user_id = await api.user_id("late@example.com")
    async with api.platform.hosted["identity"].context.db.transaction() as session:
        await session.execute(
            update(password_resets)
            .where(password_resets.c.user_id == user_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await api.client.post(
        "/api/identity/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert assert_problem(response, 422)["type"].endswith("invalid-reset-link")
    await api.login("late@example.com")  # the password did not change


async def test_a_suspended_account_gets_no_reset_mail(api: Api) -> None:
    token = await api.customer("quiet@example.com")
    admin = await api.admin_token()
    user_id = claims_of(token)["sub"]
    await api.client.post(f"/api/identity/users/{user_id}/suspend", headers=bearer(admin))
    response = await api.client.post(
        "/api/identity/password/forgot", json={"email": "quiet@example.com"}
    )
    assert response.status_code == 202
    # Refused before anything is written: no reset link, so no event for a mail to come from.
    async with api.platform.hosted["identity"].context.db.read() as session:
        links = await session.scalars(
            select(password_resets.c.id).where(password_resets.c.user_id == user_id)
        )
        assert links.all() == []
    # And no mail in flight: once reinstated, a new request's mail arrives (events reach the
    # mailer in order), and it is the only one.
    await api.client.post(f"/api/identity/users/{user_id}/reinstate", headers=bearer(admin))
    await api.client.post("/api/identity/password/forgot", json={"email": "quiet@example.com"})
    assert len(await mails(api, "quiet@example.com", "password_reset")) == 1
