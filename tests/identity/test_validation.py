"""Bad input of every field of every identity route: a 4xx problem, never a 5xx, never accepted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, Api, bearer
from tests.support import assert_client_error, assert_problem

VALID_REGISTRATION: dict[str, Any] = {
    "email": "valid@example.com",
    "password": PASSWORD,
    "role": "customer",
    "name": "Valid Name",
    "company": "Valid Co",
    "phone": "+49 30 123456",
    "country": "DE",
}
MISSING = object()

REGISTRATION_CASES: list[tuple[str, Any]] = [
    ("email", MISSING),
    ("email", None),
    ("email", ""),
    ("email", "not-an-email"),
    ("email", "two@@example.com"),
    ("email", "a" * 250 + "@example.com"),
    ("email", 42),
    ("email", ["valid@example.com"]),
    ("password", MISSING),
    ("password", None),
    ("password", ""),
    ("password", "short"),
    ("password", "x" * 129),  # over the policy's maximum
    ("password", "x" * 257),  # over the schema's maximum
    ("password", "password123"),  # common
    ("password", "Password123"),  # common, whatever the case
    ("password", "refused@example.com"),  # the e-mail itself
    ("password", "REFUSED@example.com"),  # the e-mail, whatever the case
    ("password", 1234567890123),
    ("role", MISSING),
    ("role", "admin"),
    ("role", "service"),
    ("role", "root"),
    ("role", ""),
    ("role", None),
    ("name", MISSING),
    ("name", None),
    ("name", ""),
    ("name", "   "),
    ("name", "n" * 201),
    ("name", 7),
    ("company", ""),
    ("company", "c" * 201),
    ("company", {"name": "x"}),
    ("phone", "call me"),
    ("phone", "+1"),
    ("phone", "1" * 40),
    ("phone", "+49 30 123456; DROP TABLE users"),
    ("phone", 4930123456),
    ("country", "XX"),
    ("country", "DEU"),
    ("country", "D"),
    ("country", "1A"),
    ("country", ""),
    ("country", 49),
]


async def test_registration_refuses_every_bad_field(api: Api) -> None:
    for field, value in REGISTRATION_CASES:
        body = {**VALID_REGISTRATION, "email": "refused@example.com"}
        if value is MISSING:
            del body[field]
        else:
            body[field] = value
        response = await api.client.post("/api/identity/register", json=body)
        assert 400 <= response.status_code < 500, f"{field}={value!r}: {response.status_code}"
        assert_client_error(response)
    listed = await api.client.get(
        "/api/identity/users",
        params={"email": "refused@example.com"},
        headers=bearer(await api.admin_token()),
    )
    assert listed.json()["total"] == 0


async def test_registration_accepts_the_valid_body(api: Api) -> None:
    response = await api.client.post("/api/identity/register", json=VALID_REGISTRATION)
    assert response.status_code == 201


async def test_registration_refuses_extra_fields(api: Api) -> None:
    for extra in ({"status": "active"}, {"id": "0" * 32}, {"is_admin": True}, {"Role": "x"}):
        response = await api.client.post(
            "/api/identity/register", json={**VALID_REGISTRATION, **extra}
        )
        assert_client_error(response)


BODY_ROUTES: list[tuple[str, dict[str, Any], bool]] = [
    ("/api/identity/register", VALID_REGISTRATION, False),
    ("/api/identity/login", {"email": "valid@example.com", "password": PASSWORD}, False),
    ("/api/identity/refresh", {"refresh_token": "abc.def"}, False),
    ("/api/identity/password/forgot", {"email": "valid@example.com"}, False),
    ("/api/identity/password/reset", {"token": "abc", "new_password": PASSWORD}, False),
    (
        "/api/identity/password/change",
        {"current_password": PASSWORD, "new_password": PASSWORD + "2"},
        True,
    ),
]


async def test_malformed_bodies_are_refused(api: Api) -> None:
    token = await api.customer("body@example.com")
    for path, valid, signed_in in BODY_ROUTES:
        await _refuses_malformed(api, path, valid, bearer(token) if signed_in else {})


async def _refuses_malformed(
    api: Api, path: str, valid: dict[str, Any], auth: dict[str, str]
) -> None:
    headers = {"content-type": "application/json", **auth}
    for raw in (
        b"{",
        b'{"email": ',
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"[]",
        b"null",
        b'"a string"',
        b"42",
        b"",
        b'{"a": 1}',
    ):
        response = await api.client.post(path, content=raw, headers=headers)
        assert_client_error(response)
    extra = await api.client.post(path, json={**valid, "unexpected": 1}, headers=headers)
    assert_client_error(extra)
    for field in valid:
        missing = {k: v for k, v in valid.items() if k != field}
        if path == "/api/identity/register" and field in ("company", "phone", "country"):
            continue  # optional
        response = await api.client.post(path, json=missing, headers=headers)
        assert_client_error(response)
        wrong_type = await api.client.post(path, json={**valid, field: [1]}, headers=headers)
        assert_client_error(wrong_type)
        too_long = await api.client.post(path, json={**valid, field: "x" * 2000}, headers=headers)
        assert_client_error(too_long)


pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


async def test_logout_refuses_bad_bodies(api: Api) -> None:
    for body in ({"refresh_token": ""}, {"refresh_token": 5}, {"other": 1}, [1]):
        response = await api.client.post("/api/identity/logout", json=body)
        assert_client_error(response)


async def test_profile_changes_refuse_bad_fields(api: Api) -> None:
    token = await api.customer("patch@example.com")
    for body in (
        {"name": ""},
        {"name": "n" * 201},
        {"name": None},
        {"company": "c" * 201},
        {"phone": "nope"},
        {"country": "ZZ"},
        {"country": 1},
        {"email": "new@example.com"},
        {"role": "admin"},
        [],
    ):
        response = await api.client.patch("/api/identity/me", json=body, headers=bearer(token))
        assert_client_error(response)
    me = (await api.client.get("/api/identity/me", headers=bearer(token))).json()
    assert me["name"] == "Test User"
    assert me["role"] == "customer"


async def test_oversized_bodies_are_refused_with_413(api: Api) -> None:
    limit = api.platform.settings.body_limit_bytes
    big = b'{"email": "' + b"a" * (limit + 10) + b'"}'
    response = await api.client.post(
        "/api/identity/register", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    chunked = await api.client.post(
        "/api/identity/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(chunked, 413)


async def test_a_body_within_the_limit_sent_in_chunks_still_works(api: Api) -> None:
    await api.register("chunk@example.com")
    payload = b'{"email": "chunk@example.com", "password": "%s"}' % PASSWORD.encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(payload), 7):
            yield payload[i : i + 7]

    response = await api.client.post(
        "/api/identity/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text


async def test_invalid_content_length_is_a_client_error(api: Api) -> None:
    response = await api.client.post(
        "/api/identity/login",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": "abc"},
    )
    assert_client_error(response)
