"""Administration of accounts: search with filters and paging, and deletion by crypto-shredding."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_EMAIL, PASSWORD, Api, bearer, query_sql
from tests.support import assert_client_error, assert_problem, claims_of, refused

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


async def _users(api: Api, admin: str, **params: object) -> dict[str, object]:
    response = await api.client.get("/api/identity/users", params=params, headers=bearer(admin))
    assert response.status_code == 200, response.text
    page: dict[str, object] = response.json()
    return page


def _emails(page: dict[str, object]) -> set[str]:
    items = page["items"]
    assert isinstance(items, list)
    return {item["email"] for item in items}


async def test_list_users_filters_and_pages(api: Api) -> None:
    # Iceland and Liechtenstein: no other test of the package registers users there.
    await api.register("is1@example.com", country="IS")
    await api.register("is2@example.com", country="is")
    await api.register("li1@example.com", country="LI")
    await api.register("is-lab@example.com", role="provider", country="IS")
    admin = await api.admin_token()
    mine = {"is1@example.com", "is2@example.com", "li1@example.com", "is-lab@example.com"}

    everyone = await _users(api, admin, limit=100)
    assert mine | {ADMIN_EMAIL} <= _emails(everyone)
    assert everyone["total"] == len(everyone["items"])  # type: ignore[arg-type]
    assert "is-lab@example.com" in _emails(await _users(api, admin, role="provider", limit=100))
    assert not mine & _emails(await _users(api, admin, role="customer", country="LU"))
    assert _emails(await _users(api, admin, role="admin")) == {ADMIN_EMAIL}
    pending = _emails(await _users(api, admin, status="pending", limit=100))
    assert "is-lab@example.com" in pending
    assert not pending & (mine - {"is-lab@example.com"})
    assert _emails(await _users(api, admin, country="is")) == {
        "is1@example.com",
        "is2@example.com",
        "is-lab@example.com",
    }
    assert _emails(await _users(api, admin, role="customer", country="IS")) == {
        "is1@example.com",
        "is2@example.com",
    }
    assert _emails(await _users(api, admin, status="pending", country="IS")) == {
        "is-lab@example.com"
    }
    assert _emails(await _users(api, admin, country="LI")) == {"li1@example.com"}
    # E-mail matches exactly, however it is cased.
    assert _emails(await _users(api, admin, email="LI1@Example.com")) == {"li1@example.com"}
    assert (await _users(api, admin, email="li@example.com"))["total"] == 0

    pages = [await _users(api, admin, country="IS", limit=2, offset=o) for o in (0, 2)]
    assert [len(p["items"]) for p in pages] == [2, 1]  # type: ignore[arg-type]
    assert all(p["total"] == 3 for p in pages)
    assert _emails(pages[0]) | _emails(pages[1]) == _emails(await _users(api, admin, country="IS"))
    assert (await _users(api, admin, country="IS", offset=3))["items"] == []

    for bad in (
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"limit": "many"},
        {"role": "root"},
        {"status": "deleted"},
        {"country": "D1"},
        {"email": "x" * 300},
    ):
        response = await api.client.get("/api/identity/users", params=bad, headers=bearer(admin))
        assert_client_error(response)


async def test_get_user_and_unknown_ids(api: Api) -> None:
    token = await api.customer(
        "one@example.com",
    )
    admin = await api.admin_token()
    user_id = claims_of(token)["sub"]
    found = await api.client.get(f"/api/identity/users/{user_id}", headers=bearer(admin))
    assert found.json()["email"] == "one@example.com"
    for action in ("GET", "verify", "suspend", "reinstate", "DELETE"):
        unknown = "0" * 32
        if action in ("GET", "DELETE"):
            response = await api.client.request(
                action, f"/api/identity/users/{unknown}", headers=bearer(admin)
            )
        else:
            response = await api.client.post(
                f"/api/identity/users/{unknown}/{action}", headers=bearer(admin)
            )
        assert_problem(response, 404)


async def test_delete_crypto_shreds_the_user(api: Api) -> None:
    assert (await api.register("gone@example.com", name="Gone Person")).status_code == 201
    session = await api.login("gone@example.com")
    user_id = claims_of(session["access_token"])["sub"]
    admin = await api.admin_token()

    deleted = await api.client.delete(f"/api/identity/users/{user_id}", headers=bearer(admin))
    assert deleted.status_code == 204
    assert_problem(
        await api.client.get(f"/api/identity/users/{user_id}", headers=bearer(admin)), 404
    )
    assert_problem(
        await api.client.delete(f"/api/identity/users/{user_id}", headers=bearer(admin)), 404
    )
    assert (await _users(api, admin, email="gone@example.com"))["total"] == 0
    login = await api.client.post(
        "/api/identity/login", json={"email": "gone@example.com", "password": PASSWORD}
    )
    assert_problem(login, 401)
    await refused(api, session["access_token"])

    settings = api.platform.settings
    keys = query_sql(
        settings,
        "identity",
        "SELECT wrapped, destroyed_at FROM data_keys WHERE subject = ?",
        f"user:{user_id}",
    )
    (row,) = query_sql(
        settings,
        "identity",
        "SELECT email_enc, name_enc, company_enc, phone_enc, password_hash, email_index"
        " FROM users WHERE id = ?",
        user_id,
    )
    assert keys, "the user had a data key"
    assert all(wrapped is None and destroyed is not None for wrapped, destroyed in keys)
    assert row == (None, None, None, None, None, None)

    # The address is free again for a new account.
    assert (await api.register("gone@example.com")).status_code == 201
    assert (await api.login("gone@example.com"))["access_token"]
