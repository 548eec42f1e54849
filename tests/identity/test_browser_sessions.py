"""Sign-in for browsers: the refresh token in an HttpOnly cookie, CSRF checks on its use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from clearway.runtime.http import HttpUpstreams
from clearway.runtime.platform import Platform
from tests.conftest import PASSWORD, Api, bearer
from tests.support import assert_problem, platform_api, refused, serving

pytestmark = pytest.mark.asyncio(loop_scope="package")

WEB = {"x-clearway-client": "web"}
APP_ORIGIN = "https://app.clearway.example"


@pytest.fixture
def api(shared_api: Api) -> Api:
    return shared_api


def cookie_attributes(response: httpx.Response) -> dict[str, str]:
    """The `clearway_refresh` Set-Cookie of `response`, as attribute name → value."""
    (header,) = [
        h for h in response.headers.get_list("set-cookie") if h.startswith("clearway_refresh=")
    ]
    attributes = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


async def web_login(api: Api, email: str) -> httpx.Response:
    response = await api.client.post(
        "/api/identity/login", json={"email": email, "password": PASSWORD}, headers=WEB
    )
    assert response.status_code == 200, response.text
    return response


async def test_the_web_client_gets_the_refresh_token_as_a_cookie(api: Api) -> None:
    await api.register("web1@example.com")
    response = await web_login(api, "web1@example.com")
    body = response.json()
    assert body["refresh_token"] is None
    me = await api.client.get("/api/identity/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    cookie = cookie_attributes(response)
    assert len(cookie["clearway_refresh"]) > 20
    assert "httponly" in cookie
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/api/identity"
    assert cookie["max-age"] == str(api.platform.settings.refresh_token_ttl_seconds)
    assert "secure" not in cookie  # the public URL of the tests is http


async def test_refresh_and_logout_by_cookie(api: Api) -> None:
    await api.register("web2@example.com")
    login = await web_login(api, "web2@example.com")
    first = cookie_attributes(login)["clearway_refresh"]

    for empty in ({"content": b""}, {"json": {}}):
        rotated = await api.client.post("/api/identity/refresh", headers=WEB, **empty)  # type: ignore[arg-type]
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["refresh_token"] is None
        assert cookie_attributes(rotated)["clearway_refresh"] != first
        me = await api.client.get(
            "/api/identity/me", headers=bearer(rotated.json()["access_token"])
        )
        assert me.status_code == 200
    latest = api.client.cookies["clearway_refresh"]

    out = await api.client.post("/api/identity/logout", headers=WEB)
    assert out.status_code == 204
    assert cookie_attributes(out)["max-age"] == "0"
    assert "clearway_refresh" not in api.client.cookies
    await refused(api, rotated.json()["access_token"])
    # The session is over: its last refresh token is dead, in a cookie or in a body.
    again = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": latest}, headers=WEB
    )
    assert_problem(again, 401)
    none = await api.client.post("/api/identity/refresh", headers=WEB)
    assert_problem(none, 401)


async def test_the_cookie_is_refused_without_the_header_or_from_another_origin(
    api: Api,
) -> None:
    await api.register("web3@example.com")
    await web_login(api, "web3@example.com")
    for headers in (
        {},  # a cross-site form post can send the cookie but not the header
        {**WEB, "origin": "https://evil.example"},
        {**WEB, "origin": "null"},
    ):
        for path in ("/api/identity/refresh", "/api/identity/logout"):
            response = await api.client.post(path, headers=headers)
            assert assert_problem(response, 403)["type"].endswith("/csrf"), (path, headers)
    # The app's own origin (the public URL) passes, and the session survived the attempts.
    own = await api.client.post(
        "/api/identity/refresh", headers={**WEB, "origin": "http://localhost:8000"}
    )
    assert own.status_code == 200, own.text


async def test_other_clients_keep_the_token_in_the_body(api: Api) -> None:
    await api.register("web4@example.com")
    response = await api.client.post(
        "/api/identity/login", json={"email": "web4@example.com", "password": PASSWORD}
    )
    assert isinstance(response.json()["refresh_token"], str)
    assert "set-cookie" not in response.headers
    rotated = await api.client.post(
        "/api/identity/refresh", json={"refresh_token": response.json()["refresh_token"]}
    )
    assert isinstance(rotated.json()["refresh_token"], str)
    assert "set-cookie" not in rotated.headers


async def test_cors_origins_and_https(tmp_path: Path, seeded_data_dir: Path) -> None:
    async with platform_api(
        tmp_path / "data",
        seed=seeded_data_dir,
        public_url="https://clearway.example",
        cors_origins=[APP_ORIGIN],
    ) as api:
        preflight = await api.client.options(
            "/api/identity/refresh",
            headers={
                "origin": APP_ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, x-clearway-client",
            },
        )
        assert preflight.status_code == 200
        assert "x-clearway-client" in preflight.headers["access-control-allow-headers"].lower()
        assert preflight.headers["access-control-allow-credentials"] == "true"

        await api.register("web5@example.com")
        login = await api.client.post(
            "/api/identity/login",
            json={"email": "web5@example.com", "password": PASSWORD},
            headers={**WEB, "origin": APP_ORIGIN},
        )
        assert login.headers["access-control-allow-credentials"] == "true"
        cookie = cookie_attributes(login)
        assert "secure" in cookie
        # httpx keeps Secure cookies for https only; the browser would send it back.
        token = cookie["clearway_refresh"]
        headers = {**WEB, "cookie": f"clearway_refresh={token}"}
        for origin, status in (
            ("https://clearway.example", 200),
            (APP_ORIGIN, 200),
            ("http://clearway.example", 403),
        ):
            response = await api.client.post(
                "/api/identity/refresh", headers={**headers, "origin": origin}
            )
            assert response.status_code == status, (origin, response.text)
            if status == 200:
                token = cookie_attributes(response)["clearway_refresh"]
                headers["cookie"] = f"clearway_refresh={token}"


# --- the same through HTTP upstreams ----------------------------------------------------------


class IdentityOverHttp:
    """The gateway's upstreams with identity reached over a socket, the others in-process."""

    def __init__(self, platform: Platform, http: HttpUpstreams) -> None:
        self.inprocess = platform.upstreams
        self.http = http
        self.over_http = 0

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        self.over_http += service == "identity"
        target = self.http if service == "identity" else self.inprocess
        await target.forward(service, scope, receive, send)


@asynccontextmanager
async def identity_served(platform: Platform) -> AsyncIterator[str]:
    app = platform.upstreams.apps["identity"]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    async with serving(config) as port:
        yield f"http://127.0.0.1:{port}"


async def test_cookies_cross_http_upstreams(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with platform_api(tmp_path / "data", seed=seeded_data_dir) as api:
        platform = api.platform
        async with identity_served(platform) as url:
            settings = platform.settings.model_copy(update={"service_urls": {"identity": url}})
            http = HttpUpstreams(settings, platform.upstreams.credentials)
            upstreams = IdentityOverHttp(platform, http)
            monkeypatch.setattr(platform.gateway, "upstreams", upstreams)
            try:
                await api.register("web6@example.com")
                login = await web_login(api, "web6@example.com")
                first = cookie_attributes(login)["clearway_refresh"]
                rotated = await api.client.post("/api/identity/refresh", headers=WEB)
                assert rotated.status_code == 200, rotated.text
                assert cookie_attributes(rotated)["clearway_refresh"] != first
                refused_csrf = await api.client.post("/api/identity/refresh")
                assert_problem(refused_csrf, 403)
                out = await api.client.post("/api/identity/logout", headers=WEB)
                assert cookie_attributes(out)["max-age"] == "0"
                assert upstreams.over_http >= 5
            finally:
                await http.close()
