"""What the gateway adds to every answer, and what it answers itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clearway.gateway.routes import PUBLIC, ROUTES
from clearway.kit.problems import PROBLEM_JSON
from tests.conftest import Api, bearer
from tests.support import assert_problem, hold_forward, platform_api

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def _has_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name
    assert headers["strict-transport-security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,128}", headers["x-request-id"])


async def test_request_id_is_echoed_or_generated(api: Api) -> None:
    echoed = await api.client.get("/healthz", headers={"x-request-id": "client-req-0001"})
    assert echoed.headers["x-request-id"] == "client-req-0001"
    through = await api.client.get(
        "/.well-known/jwks.json", headers={"x-request-id": "client-req-0002"}
    )
    assert through.headers["x-request-id"] == "client-req-0002"
    assert through.headers.get_list("x-request-id") == ["client-req-0002"]

    generated = await api.client.get("/.well-known/jwks.json")
    first = generated.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert (await api.client.get("/healthz")).headers["x-request-id"] != first
    for invalid in ("short", "has space in it", "x" * 200, "<script>alert(1)</script>"):
        response = await api.client.get("/healthz", headers={"x-request-id": invalid})
        assert response.headers["x-request-id"] != invalid
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_security_headers_on_every_kind_of_answer(api: Api) -> None:
    token = await api.customer("headers@example.com")
    for response in (
        await api.client.get("/healthz"),
        await api.client.get("/api/identity/me", headers=bearer(token)),
        await api.client.get("/api/identity/me"),
        await api.client.get("/no/such/route"),
        await api.client.post("/api/identity/login", json={}),
        await api.client.get("/api/openapi.json"),
    ):
        _has_security_headers(response)
    assert (await api.client.get("/api/identity/me", headers=bearer(token))).headers[
        "cache-control"
    ] == "no-store"


async def test_unknown_route_is_a_404_problem(api: Api) -> None:
    for path in ("/nope", "/api/identity", "/api/identity/users/1/2/3", "/internal/identity/x"):
        assert_problem(await api.client.get(path), 404)


async def test_internal_routes_are_not_reachable_from_outside(api: Api) -> None:
    admin = await api.admin_token()
    for path in (
        "/internal/identity/revocations",
        "/internal/identity/users/0123456789abcdef0123456789abcdef/contact",
    ):
        assert_problem(await api.client.get(path, headers=bearer(admin)), 404)


async def test_wrong_method_is_a_405_with_allow(api: Api) -> None:
    response = await api.client.get("/api/identity/register")
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"
    me = await api.client.delete("/api/identity/me")
    assert_problem(me, 405)
    assert me.headers["allow"] == "GET, PATCH"
    user = await api.client.put("/api/identity/users/0123456789abcdef0123456789abcdef")
    assert_problem(user, 405)
    assert set(user.headers["allow"].split(", ")) == {"GET", "DELETE"}


async def test_health_and_readiness(api: Api) -> None:
    health = await api.client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True
    assert set(body["databases"]) == set(api.platform.hosted)


async def test_openapi_lists_every_external_route_and_nothing_internal(api: Api) -> None:
    response = await api.client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    # Every route, the public verification page (HTML) too.
    missing = [
        f"{r.method} {r.path}" for r in ROUTES if r.method.lower() not in paths.get(r.path, {})
    ]
    assert not missing, missing
    listed = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert listed <= {(r.method, r.path) for r in ROUTES}, "only routes of the table"
    for operations in paths.values():
        for operation in operations.values():
            assert "429" in operation["responses"]
    assert not [p for p in paths if "/internal/" in p]
    assert "/internal/" not in response.text


async def test_openapi_documents_every_error_as_the_one_problem_shape(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "Problem" in schemas
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 shape is never served
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        responses = operation["responses"]
        where = f"{route.method} {route.path}"
        errors = {int(s) for s in responses if int(s) >= 400}
        for status in errors:
            if route.path.startswith("/verify/") and status == 404:
                continue  # the page for people answers 404 in HTML
            content = responses[str(status)]["content"]
            if content != problem:  # a problem with more members: Problem's are all there
                assert set(content) == {PROBLEM_JSON}, (where, status)
                extended = schemas[content[PROBLEM_JSON]["schema"]["$ref"].rpartition("/")[2]]
                assert set(schemas["Problem"]["required"]) <= set(extended["required"]), where
                assert set(schemas["Problem"]["properties"]) - {"errors"} <= set(
                    extended["properties"]
                ), where
        assert {401, 429} <= errors, where
        if route.allow != PUBLIC:
            assert 403 in errors, where
        if "{" in route.path:
            assert 404 in errors, where
        if "requestBody" in operation:
            assert {400, 413, 422} <= errors, where
    create = document["paths"]["/api/orders/orders"]["post"]
    (key,) = [p for p in create["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["required"] is True and key["in"] == "header"
    page = document["paths"]["/verify/{clearance_id}"]["get"]["responses"]
    assert set(page["200"]["content"]) == {"text/html"}
    assert set(page["404"]["content"]) == {"text/html"}


async def test_an_order_without_an_idempotency_key_is_refused(api: Api) -> None:
    token = await api.customer("no-key@example.com")
    response = await api.client.post(
        "/api/orders/orders",
        json={"provider_id": "p", "checklist_id": "c", "requirement_codes": ["X"]},
        headers=bearer(token),
    )
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["header.Idempotency-Key"]


async def test_docs_page_is_html(api: Api) -> None:
    response = await api.client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    # Nothing from elsewhere, no inline script: every script is a file the gateway serves.
    assert "http" not in response.text
    scripts = re.findall(r"<script([^>]*)>", response.text)
    assert scripts and all('src="/api/docs/' in attributes for attributes in scripts)
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]
    for asset in re.findall(r'(?:src|href)="(/api/docs/[^"]+)"', response.text):
        served = await api.client.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["content-type"].startswith(("text/javascript", "text/css"))
        assert served.content
    init = await api.client.get("/api/docs/init.js")
    assert "/api/openapi.json" in init.text


async def test_cors_follows_the_settings(tmp_path: Path, seeded_data_dir: Path) -> None:
    allowed = "https://app.clearway.example"
    # A service deadline other than the default, to see the setting reach the gateway.
    settings = {"cors_origins": [allowed], "upstream_timeout_seconds": 12.5}
    async with platform_api(tmp_path / "data", seed=seeded_data_dir, **settings) as api:
        assert api.platform.gateway.upstream_timeout == 12.5
        preflight = await api.client.options(
            "/api/identity/login",
            headers={
                "origin": allowed,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == allowed
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()

        other = await api.client.options(
            "/api/identity/login",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert other.status_code == 400
        assert other.headers["content-type"] == "application/problem+json"
        assert "origin" in other.json()["detail"].lower()
        assert "access-control-allow-origin" not in other.headers

        simple = await api.client.get("/healthz", headers={"origin": allowed})
        assert simple.headers["access-control-allow-origin"] == allowed
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
        foreign = await api.client.get("/healthz", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers


async def test_no_cors_headers_without_configured_origins(api: Api) -> None:
    response = await api.client.get("/healthz", headers={"origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_a_slow_service_gets_a_504(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Signed in first, at the normal timeout: only the request under test may be cut short.
    token = await api.customer("slow@example.com")
    # What `upstream_timeout_seconds` sets, shortened on the running gateway; the service
    # never answers (it waits on an event nobody sets), so how fast the machine is can't matter.
    normal = api.platform.gateway.upstream_timeout
    monkeypatch.setattr(api.platform.gateway, "upstream_timeout", 0.2)
    hold_forward(api.platform, monkeypatch, "/api/identity/me")
    response = await api.client.get("/api/identity/me", headers=bearer(token))
    assert_problem(response, 504)
    _has_security_headers(response)
    # Other routes are unaffected (at the normal timeout again: their speed is not under test).
    api.platform.gateway.upstream_timeout = normal
    assert (await api.client.get("/.well-known/jwks.json")).status_code == 200
