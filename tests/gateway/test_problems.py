"""Every error the edge answers says what went wrong and where (RFC 9457 `instance`)."""

from __future__ import annotations

import pytest

from tests.conftest import Api, bearer
from tests.support import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_a_malformed_json_body_names_the_problem(shared_api: Api) -> None:
    response = await shared_api.client.post(
        "/api/identity/login",
        content=b'{"email": "a@example.com"\n "password": "x"}',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["instance"] == "/api/identity/login"
    assert body["errors"] == [
        {
            "field": "body",
            "message": "body is not valid JSON: Expecting ',' delimiter at line 2 column 2",
        }
    ]


async def test_a_too_large_body_is_a_413_with_its_instance(shared_api: Api) -> None:
    limit = shared_api.platform.settings.body_limit_bytes
    response = await shared_api.client.post(
        "/api/identity/register",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 413)
    assert body["instance"] == "/api/identity/register"


async def test_a_broken_multipart_body_is_a_400_with_its_instance(shared_api: Api) -> None:
    token = await shared_api.customer("multipart@example.com")
    path = "/api/orders/orders/some-order/attachments"
    # multipart without its boundary: the form parser refuses it before any order is looked up
    response = await shared_api.client.post(
        path,
        content=b"--zz\r\n",
        headers={"content-type": "multipart/form-data", **bearer(token)},
    )
    body = assert_problem(response, 400)
    assert body["instance"] == path
