"""Services answer only calls that carry the internal credential; clients cannot forge who calls."""

from __future__ import annotations

import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from clearway.kit.internal_auth import AUDIENCE
from clearway.runtime.platform import Platform
from tests.conftest import Api, bearer
from tests.support import assert_problem, claims_of

PATHS = (
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/api/identity/users"),
    ("GET", "/api/identity/me"),
    ("POST", "/api/identity/login"),
    ("GET", "/internal/identity/revocations"),
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


def _internal_token(seed: bytes, **claims: object) -> str:
    key = OKPKey.import_key(
        Ed25519PrivateKey.from_private_bytes(seed[:32]), parameters={"kid": "internal"}
    )
    now = int(time.time())
    values = {"iss": "gateway", "aud": AUDIENCE, "iat": now, "exp": now + 60, **claims}
    return jwt.encode({"alg": "Ed25519", "kid": "internal"}, values, key, algorithms=["Ed25519"])


def _direct(platform: Platform, service: str) -> httpx.AsyncClient:
    app = platform.hosted[service].service.asgi(platform.credentials)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_a_service_reached_directly_answers_401(api: Api) -> None:
    platform = api.platform
    seed = platform.keystore.secret("internal-credential")
    admin = claims_of(await api.admin_token())
    caller = f"admin;{admin['sub']};{admin['sid']}"
    forged = {
        "none": None,
        "empty": "",
        "garbage": "not-a-token",
        "foreign key": _internal_token(b"f" * 32),
        "expired": _internal_token(seed, iat=int(time.time()) - 600, exp=int(time.time()) - 300),
        "wrong audience": _internal_token(seed, aud="clearway-api"),
        "no expiry": jwt.encode(
            {"alg": "Ed25519", "kid": "internal"},
            {"iss": "gateway", "aud": AUDIENCE},
            OKPKey.import_key(
                Ed25519PrivateKey.from_private_bytes(seed[:32]), parameters={"kid": "internal"}
            ),
            algorithms=["Ed25519"],
        ),
        "a user's access token": await api.admin_token(),
    }
    for service in ("identity", "common"):
        async with _direct(platform, service) as client:
            for why, token in forged.items():
                headers = {"x-clearway-caller": caller}
                if token is not None:
                    headers["x-clearway-internal"] = token
                for method, path in (*PATHS, ("GET", "/api/common/mailbox")):
                    response = await client.request(method, path, headers=headers)
                    assert response.status_code == 401, f"{service} {path} with {why}"
                    assert_problem(response, 401)
            # The control: with a genuine credential the same client gets through.
            genuine = {"x-clearway-internal": platform.credentials.token()}
            ok = await client.get(
                "/.well-known/jwks.json" if service == "identity" else "/api/common/keys",
                headers={**genuine, "x-clearway-caller": caller},
            )
            assert ok.status_code == 200, ok.text


async def test_client_sent_caller_headers_are_stripped(api: Api) -> None:
    customer = await api.customer("spoof@example.com")
    for header in ("admin;x;y", "admin;;", "service;;"):
        response = await api.client.get(
            "/api/identity/users",
            headers={**bearer(customer), "x-clearway-caller": header},
        )
        assert_problem(response, 403)
        anonymous = await api.client.get(
            "/api/identity/users", headers={"x-clearway-caller": header}
        )
        assert_problem(anonymous, 401)
    # On a public route a spoofed caller would end someone else's session if it got through.
    await api.register("victim@example.com")
    victim_tokens = await api.login("victim@example.com")
    claims = claims_of(victim_tokens["access_token"])
    spoofed = await api.client.post(
        "/api/identity/logout",
        headers={
            "x-clearway-caller": f"customer;{claims['sub']};{claims['sid']}",
            "x-clearway-internal": api.platform.credentials.token(),
        },
    )
    assert spoofed.status_code == 204
    # The caller header is the one the gateway wrote: /me answers for the token's user only.
    me = await api.client.get(
        "/api/identity/me",
        headers={**bearer(customer), "x-clearway-caller": f"customer;{claims['sub']};"},
    )
    assert me.json()["email"] == "spoof@example.com"
    await api.platform.gateway_host.poll_revocations()  # what the gateway would learn next
    still = await api.client.get("/api/identity/me", headers=bearer(victim_tokens["access_token"]))
    assert still.status_code == 200
    refresh = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": victim_tokens["refresh_token"]}
    )
    assert refresh.status_code == 200
