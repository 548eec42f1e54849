"""Registration, verification, welcome mail, sign-in and the profile, through the gateway."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import PASSWORD, Api, bearer
from tests.support import assert_problem, b64decode, claims_of, mails

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


async def test_customer_registers_gets_welcome_mail_and_signs_in(api: Api) -> None:
    response = await api.register(
        "ada@example.com", name="Ada Lovelace", company="Engines Ltd", phone="+44 20 7946 0000"
    )
    assert response.status_code == 201
    welcome = await mails(api, "ada@example.com", "welcome")
    assert len(welcome) == 1
    assert welcome[0]["recipient"] == "ada@example.com"
    assert "Ada Lovelace" in welcome[0]["text"]

    tokens = await api.login("ada@example.com")
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert 0 < tokens["expires_in"] <= 900
    claims = claims_of(tokens["access_token"])
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert claims["role"] == "customer"
    assert claims["aud"] == "clearway-api"
    assert claims["iss"] == "clearway"

    me = await api.client.get("/api/identity/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    profile = me.json()
    assert profile["email"] == "ada@example.com"
    assert profile["name"] == "Ada Lovelace"
    assert profile["company"] == "Engines Ltd"
    assert profile["phone"] == "+44 20 7946 0000"
    assert profile["role"] == "customer"
    assert profile["status"] == "active"
    assert profile["id"] == claims["sub"]


async def test_provider_is_pending_until_an_admin_verifies_it(api: Api) -> None:
    assert (await api.register("lab@example.com", role="provider")).status_code == 201
    welcome = await mails(api, "lab@example.com", "welcome")
    assert "waiting for an administrator" in welcome[0]["text"]

    pending = await api.client.post(
        "/api/identity/login", json={"email": "lab@example.com", "password": PASSWORD}
    )
    body = assert_problem(pending, 403)
    assert body["type"].endswith("account-pending")

    user_id = await api.user_id("lab@example.com")
    admin = await api.admin_token()
    verified = await api.client.post(f"/api/identity/users/{user_id}/verify", headers=bearer(admin))
    assert verified.status_code == 200
    assert verified.json()["status"] == "active"
    again = await api.client.post(f"/api/identity/users/{user_id}/verify", headers=bearer(admin))
    assert_problem(again, 409)

    token = await api.token("lab@example.com")
    assert claims_of(token)["role"] == "provider"


async def test_pending_provider_with_wrong_password_learns_nothing(api: Api) -> None:
    assert (await api.register("lab2@example.com", role="provider")).status_code == 201
    response = await api.client.post(
        "/api/identity/login", json={"email": "lab2@example.com", "password": "wrong-password-x"}
    )
    assert_problem(response, 401)


async def test_wrong_password_is_refused_like_an_unknown_email(api: Api) -> None:
    await api.register("bob@example.com")
    wrong = await api.client.post(
        "/api/identity/login", json={"email": "bob@example.com", "password": "not-the-password"}
    )
    unknown = await api.client.post(
        "/api/identity/login", json={"email": "nobody@example.com", "password": "not-the-password"}
    )
    assert_problem(wrong, 401)
    assert_problem(unknown, 401)
    assert wrong.json() == unknown.json()


async def test_profile_changes_and_what_cannot_change(api: Api) -> None:
    token = await api.customer("carol@example.com")
    changed = await api.client.patch(
        "/api/identity/me",
        json={"name": "Carol Q", "company": "Q GmbH", "phone": "+49 30 1234567", "country": "de"},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["company"], body["phone"], body["country"]) == (
        "Carol Q",
        "Q GmbH",
        "+49 30 1234567",
        "DE",
    )
    cleared = await api.client.patch(
        "/api/identity/me", json={"company": None}, headers=bearer(token)
    )
    assert cleared.status_code == 200
    assert cleared.json()["company"] is None
    assert cleared.json()["name"] == "Carol Q"

    for forbidden in ({"role": "admin"}, {"status": "active"}, {"email": "x@example.com"}):
        refused = await api.client.patch("/api/identity/me", json=forbidden, headers=bearer(token))
        assert_problem(refused, 422)
    no_name = await api.client.patch("/api/identity/me", json={"name": None}, headers=bearer(token))
    assert_problem(no_name, 422)
    me = (await api.client.get("/api/identity/me", headers=bearer(token))).json()
    assert me["role"] == "customer"
    assert me["email"] == "carol@example.com"


async def test_me_is_always_the_caller(api: Api) -> None:
    alice = await api.customer("alice@example.com")
    mallory = await api.customer("mallory@example.com")
    alice_id = claims_of(alice)["sub"]
    me = await api.client.get("/api/identity/me", headers=bearer(mallory))
    assert me.json()["email"] == "mallory@example.com"
    # Query or path tricks do not make /me someone else's.
    with_query = await api.client.get(
        "/api/identity/me", params={"user_id": alice_id}, headers=bearer(mallory)
    )
    assert with_query.json()["email"] == "mallory@example.com"
    assert_problem(
        await api.client.get(f"/api/identity/me/{alice_id}", headers=bearer(mallory)), 404
    )
    # The admin-only user routes refuse customers, for every user, themselves included.
    for user_id in (alice_id, claims_of(mallory)["sub"]):
        for method, path in (
            ("GET", f"/api/identity/users/{user_id}"),
            ("POST", f"/api/identity/users/{user_id}/suspend"),
            ("DELETE", f"/api/identity/users/{user_id}"),
        ):
            response = await api.client.request(method, path, headers=bearer(mallory))
            assert_problem(response, 403)
    patched = await api.client.patch(
        "/api/identity/me", json={"name": "Mallory"}, headers=bearer(mallory)
    )
    assert patched.json()["id"] != alice_id
    alice_me = (await api.client.get("/api/identity/me", headers=bearer(alice))).json()
    assert alice_me["name"] == "Test User"


async def test_jwks_publishes_only_public_ed25519_keys(api: Api) -> None:
    response = await api.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "OKP"
        assert key["crv"] == "Ed25519"
        assert key["alg"] == "Ed25519"
        assert "d" not in key
    token = await api.customer("jwks@example.com")
    header = orjson.loads(b64decode(token.split(".")[0]))
    assert header["alg"] == "Ed25519"
    assert header["kid"] in {k["kid"] for k in keys}


async def test_a_patch_leaves_absent_fields_and_clears_null_ones(api: Api) -> None:
    token = await api.customer("absent@example.com")
    full = {"name": "Abe Sent", "company": "A Ltd", "phone": "+44 20 7946 0000", "country": "GB"}
    assert (
        await api.client.patch("/api/identity/me", json=full, headers=bearer(token))
    ).status_code == 200
    # Absent: unchanged.
    renamed = await api.client.patch(
        "/api/identity/me", json={"name": "Abe Present"}, headers=bearer(token)
    )
    assert renamed.json() | {"name": "Abe Sent"} == (
        await api.client.get("/api/identity/me", headers=bearer(token))
    ).json() | {"name": "Abe Sent"}
    assert {k: renamed.json()[k] for k in ("company", "phone", "country")} == {
        "company": "A Ltd",
        "phone": "+44 20 7946 0000",
        "country": "GB",
    }
    # Null: cleared where the field may be empty; refused (and nothing saved) where it may not.
    cleared = await api.client.patch(
        "/api/identity/me", json={"phone": None, "country": None}, headers=bearer(token)
    )
    assert (cleared.json()["phone"], cleared.json()["country"]) == (None, None)
    assert cleared.json()["company"] == "A Ltd"
    refused = await api.client.patch(
        "/api/identity/me", json={"name": None, "company": None}, headers=bearer(token)
    )
    problem = assert_problem(refused, 422)
    assert "name" in str(problem)
    me = (await api.client.get("/api/identity/me", headers=bearer(token))).json()
    assert (me["name"], me["company"]) == ("Abe Present", "A Ltd")
