"""A master key rotation also rotates the token signing key, once it has committed."""

from __future__ import annotations

import base64

import orjson

from tests.conftest import Api, bearer
from tests.support import eventually


def _kid(token: str) -> str:
    header = token.split(".")[0]
    return str(orjson.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


async def test_new_tokens_are_signed_by_the_rotated_key_and_old_ones_still_pass(
    api: Api,
) -> None:
    before = await api.customer("signing-keys@example.com")
    admin = await api.admin_token()
    assert (
        await api.client.post("/api/common/keys/rotate", headers=bearer(admin))
    ).status_code == 200

    async def rotated() -> bool:
        return _kid(await api.token("signing-keys@example.com")) != _kid(before)

    await eventually(rotated)
    fresh = await api.token("signing-keys@example.com")
    published = {k["kid"] for k in (await api.client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {_kid(before), _kid(fresh)} <= published
    for token in (before, fresh):
        assert (await api.client.get("/api/identity/me", headers=bearer(token))).status_code == 200


async def test_the_documents_describe_the_key_set_and_sign_in_problems(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    jwks = document["paths"]["/.well-known/jwks.json"]["get"]["responses"]["200"]
    assert jwks["content"]["application/json"]["schema"]["$ref"].endswith("/KeySet")
    login = document["paths"]["/api/identity/login"]["post"]["responses"]["401"]
    problem = login["content"]["application/problem+json"]["schema"]["$ref"]
    assert problem.endswith("/SignInProblem")
    schemas = document["components"]["schemas"]
    assert {"secret", "otpauth_uri"} <= set(schemas["SignInProblem"]["properties"])
    assert "otp" in schemas["Credentials"]["properties"]
    # What is served matches what is described.
    keys = (await api.client.get("/.well-known/jwks.json")).json()["keys"]
    assert keys and set(keys[0]) == set(schemas["PublicKey"]["properties"])
