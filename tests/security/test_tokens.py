"""Attacks on access tokens at the gateway: each one a 401 problem, before any service is asked."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson
import pytest
from joserfc.jwk import OKPKey

from tests.conftest import Api, bearer
from tests.support import (
    active_signing_key,
    assert_problem,
    b64decode,
    b64encode,
    claims_of,
    mint,
    refused,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


ME = "/api/identity/me"


def _compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        (b64encode(orjson.dumps(header)), b64encode(orjson.dumps(claims)), b64encode(signature))
    )


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = ".".join((b64encode(orjson.dumps(header)), b64encode(orjson.dumps(claims))))
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64encode(signature)}"


async def _refused(api: Api, token: str, why: str) -> None:
    response = await api.client.get(ME, headers=bearer(token))
    assert response.status_code == 401, f"{why}: {response.status_code} {response.text}"
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer"), why


async def _customer(api: Api) -> tuple[str, dict[str, Any], dict[str, Any]]:
    token = await api.customer("target@example.com")
    header = orjson.loads(b64decode(token.split(".")[0]))
    return token, header, claims_of(token)


async def test_a_token_minted_like_identity_passes(api: Api) -> None:
    """The control for the tests below: the minting helper makes tokens the gateway takes."""
    _, _, claims = await _customer(api)
    key = await active_signing_key(api.platform)
    claims = {**claims, "jti": "control"}
    response = await api.client.get(ME, headers=bearer(mint(key, claims)))
    assert response.status_code == 200, response.text


async def test_alg_none_and_algorithm_swaps(api: Api) -> None:
    _, header, claims = await _customer(api)
    admin_claims = {**claims, "role": "admin"}
    for alg in ("none", "None", "NONE"):
        await _refused(api, _compact({**header, "alg": alg}, admin_claims), f"alg {alg}")
        await _refused(api, _compact({**header, "alg": alg}, claims), f"alg {alg}")
    jwks = (await api.client.get("/.well-known/jwks.json")).json()["keys"]
    public = next(k for k in jwks if k["kid"] == header["kid"])
    for secret in (b64decode(public["x"]), public["x"].encode(), orjson.dumps(public)):
        for alg in ("HS256",):
            forged = _hs256({**header, "alg": alg}, admin_claims, secret)
            await _refused(api, forged, f"{alg} with the public key")
    # The right key and a valid Ed25519 signature, under the older, unspecified name "EdDSA".
    key = await active_signing_key(api.platform)
    eddsa_header = {**header, "alg": "EdDSA"}
    signing_input = _compact(eddsa_header, claims).rsplit(".", 1)[0]
    signature = key.private_key.sign(signing_input.encode())  # type: ignore[union-attr]
    await _refused(api, f"{signing_input}.{b64encode(signature)}", "alg EdDSA")


async def test_claims_that_must_hold(api: Api) -> None:
    _, _, claims = await _customer(api)
    key = await active_signing_key(api.platform)
    now = int(time.time())
    cases: dict[str, dict[str, Any]] = {
        "expired": {**claims, "iat": now - 3600, "nbf": now - 3600, "exp": now - 600},
        "wrong audience": {**claims, "aud": "another-api"},
        "wrong issuer": {**claims, "iss": "https://evil.example"},
        "no expiry": {k: v for k, v in claims.items() if k != "exp"},
        "no subject": {k: v for k, v in claims.items() if k != "sub"},
        "no audience": {k: v for k, v in claims.items() if k != "aud"},
        "not yet valid": {**claims, "nbf": now + 3600, "exp": now + 4000},
        "role service": {**claims, "role": "service"},
        "role anonymous": {**claims, "role": "anonymous"},
        "unknown role": {**claims, "role": "superuser"},
        "no role": {k: v for k, v in claims.items() if k != "role"},
    }
    for why, case in cases.items():
        await _refused(api, mint(key, case), why)


async def test_tampered_payload_keeps_no_signature_valid(api: Api) -> None:
    token, header, claims = await _customer(api)
    signature = token.split(".")[2]
    for change in ({"role": "admin"}, {"sub": "0" * 32}, {"exp": claims["exp"] + 3600}):
        tampered = _compact(header, {**claims, **change}).rsplit(".", 1)[0] + "." + signature
        await _refused(api, tampered, f"tampered {change}")
    admin_only = await api.client.get(
        "/api/identity/users",
        headers=bearer(
            _compact(header, {**claims, "role": "admin"}).rsplit(".", 1)[0] + "." + signature
        ),
    )
    assert_problem(admin_only, 401)


async def test_tokens_signed_by_unknown_keys(api: Api) -> None:
    _, header, claims = await _customer(api)
    stranger = OKPKey.generate_key("Ed25519", parameters={"kid": header["kid"]})
    await _refused(api, mint(stranger, claims, kid=header["kid"]), "known kid, foreign key")
    await _refused(api, mint(stranger, claims, kid="made-up-kid"), "unknown kid")
    await _refused(api, mint(stranger, {**claims, "role": "admin"}, kid=""), "empty kid")


async def test_revoked_after_logout(api: Api) -> None:
    token, _, _ = await _customer(api)
    response = await api.client.post("/api/identity/logout", headers=bearer(token))
    assert response.status_code == 204
    await refused(api, token)
    await _refused(api, token, "after logout")


async def test_garbage(api: Api) -> None:
    token, _, _ = await _customer(api)
    refresh = (await api.login("target@example.com"))["refresh_token"]
    for junk in (
        "garbage",
        "a.b.c",
        "a.b",
        "...",
        "eyJhbGciOiJFZDI1NTE5In0.e30.",
        token + "x",
        token[:-4],
        token.replace(".", "", 1),
        refresh,
        "x" * 10_000,
    ):
        await _refused(api, junk, f"garbage {junk[:30]!r}")
    latin = await api.client.get(ME, headers={"authorization": "Bearer é€".encode()})
    assert_problem(latin, 401)
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", token, f"Token {token}"):
        response = await api.client.get(ME, headers={"authorization": header})
        assert_problem(response, 401)
    # A bad token on a public route is still refused: a caller is never silently anonymous.
    response = await api.client.get("/.well-known/jwks.json", headers=bearer("garbage"))
    assert_problem(response, 401)
