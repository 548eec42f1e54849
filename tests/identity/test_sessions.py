"""Refresh rotation and reuse detection, logout, suspension and password change end sessions."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, Api, bearer
from tests.support import assert_problem, claims_of, refused

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(api: Api) -> None:
    await api.register("rot@example.com")
    first = await api.login("rot@example.com")

    rotated = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["access_token"])["sid"] == claims_of(first["access_token"])["sid"]
    me = await api.client.get("/api/identity/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200

    # The first refresh token again: a thief or the owner replays it; the family ends.
    replay = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert assert_problem(replay, 401)["type"].endswith("refresh-token-reused")
    newest = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert_problem(newest, 401)
    await refused(api, second["access_token"])
    await refused(api, first["access_token"])

    # Another session of the same user is untouched.
    other = await api.login("rot@example.com")
    me = await api.client.get("/api/identity/me", headers=bearer(other["access_token"]))
    assert me.status_code == 200


async def test_unknown_or_forged_refresh_tokens_are_refused(api: Api) -> None:
    await api.register("forge@example.com")
    tokens = await api.login("forge@example.com")
    token_id, _, _ = tokens["refresh_token"].partition(".")
    for presented in ("nonsense", f"{token_id}.wrong-secret", f"{token_id}", "x" * 200):
        response = await api.client.post("/api/identity/refresh", json={"refresh_token": presented})
        assert_problem(response, 401)
    # The genuine one still works: failed guesses do not burn it.
    ok = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert ok.status_code == 200


async def test_logout_ends_the_session(api: Api) -> None:
    await api.register("out@example.com")
    tokens = await api.login("out@example.com")
    other = await api.login("out@example.com")
    response = await api.client.post(
        "/api/identity/logout",
        json={"refresh_token": tokens["refresh_token"]},
        headers=bearer(tokens["access_token"]),
    )
    assert response.status_code == 204
    assert_problem(
        await api.client.post(
            "/api/identity/refresh", json={"refresh_token": tokens["refresh_token"]}
        ),
        401,
    )
    await refused(api, tokens["access_token"])
    me = await api.client.get("/api/identity/me", headers=bearer(other["access_token"]))
    assert me.status_code == 200


async def test_logout_with_only_the_refresh_token(api: Api) -> None:
    await api.register("out2@example.com")
    tokens = await api.login("out2@example.com")
    response = await api.client.post(
        "/api/identity/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 204
    await refused(api, tokens["access_token"])


async def test_suspension_ends_sessions_and_blocks_sign_in_until_reinstated(api: Api) -> None:
    await api.register("sus@example.com")
    tokens = await api.login("sus@example.com")
    user_id = claims_of(tokens["access_token"])["sub"]
    admin = await api.admin_token()

    suspended = await api.client.post(
        f"/api/identity/users/{user_id}/suspend", headers=bearer(admin)
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    await refused(api, tokens["access_token"])
    assert_problem(
        await api.client.post(
            "/api/identity/refresh", json={"refresh_token": tokens["refresh_token"]}
        ),
        401,
    )
    login = await api.client.post(
        "/api/identity/login", json={"email": "sus@example.com", "password": PASSWORD}
    )
    assert assert_problem(login, 403)["type"].endswith("account-suspended")

    reinstated = await api.client.post(
        f"/api/identity/users/{user_id}/reinstate", headers=bearer(admin)
    )
    assert reinstated.json()["status"] == "active"
    assert_problem(
        await api.client.post(f"/api/identity/users/{user_id}/reinstate", headers=bearer(admin)),
        409,
    )
    token = await api.token("sus@example.com")
    assert (await api.client.get("/api/identity/me", headers=bearer(token))).status_code == 200


async def test_admin_cannot_suspend_or_delete_itself(api: Api) -> None:
    admin = await api.admin_token()
    admin_id = claims_of(admin)["sub"]
    for method, path in (
        ("POST", f"/api/identity/users/{admin_id}/suspend"),
        ("DELETE", f"/api/identity/users/{admin_id}"),
    ):
        assert_problem(await api.client.request(method, path, headers=bearer(admin)), 409)


async def test_password_change_ends_other_sessions(api: Api) -> None:
    await api.register("chg@example.com")
    here = await api.login("chg@example.com")
    elsewhere = await api.login("chg@example.com")
    new_password = "another-long-passphrase-7"

    wrong = await api.client.post(
        "/api/identity/password/change",
        json={"current_password": "not-my-password", "new_password": new_password},
        headers=bearer(here["access_token"]),
    )
    assert_problem(wrong, 403)
    weak = await api.client.post(
        "/api/identity/password/change",
        json={"current_password": PASSWORD, "new_password": "password123"},
        headers=bearer(here["access_token"]),
    )
    assert_problem(weak, 422)

    changed = await api.client.post(
        "/api/identity/password/change",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(here["access_token"]),
    )
    assert changed.status_code == 204, changed.text
    await refused(api, elsewhere["access_token"])
    assert_problem(
        await api.client.post(
            "/api/identity/refresh", json={"refresh_token": elsewhere["refresh_token"]}
        ),
        401,
    )
    # The session that changed it goes on.
    me = await api.client.get("/api/identity/me", headers=bearer(here["access_token"]))
    assert me.status_code == 200
    kept = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": here["refresh_token"]}
    )
    assert kept.status_code == 200
    old = await api.client.post(
        "/api/identity/login", json={"email": "chg@example.com", "password": PASSWORD}
    )
    assert_problem(old, 401)
    await api.login("chg@example.com", new_password)
