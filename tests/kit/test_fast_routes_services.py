"""The hot reads of the real services answer the same through the fast lane as through FastAPI
alone: the same bytes for good input, the same problem for bad input or a missing sign-in."""

from __future__ import annotations

import httpx

from clearway.kit.caller import Caller
from clearway.kit.fast_routes import FastLane
from clearway.kit.internal_auth import RequireInternalCredential
from clearway.runtime.platform import Platform
from tests.conftest import Api

SEARCHES = [
    "market=EU&hs_code=8518.22",
    "market=EU&hs_code=8518.22&limit=2&offset=1",
    "market=DE&q=headphones",
    "market=EU&q=8518.22&as_of=2024-06-01",
    "market=US&hs_code=85",
    "market=EU",  # neither product nor text: the service's own problem
    "market=E",
    "market=EU&hs_code=8518.22&limit=0",
    "market=EU&hs_code=8518.22&limit=many",
    "market=EU&hs_code=8518.22&offset=10001",
    "market=EU&as_of=1999-12-31&hs_code=85",
    "market=EU&as_of=yesterday&hs_code=85",
    "hs_code=8518.22",
    "market=EU&hs_code=" + "8" * 21,
    "market=Narnia&hs_code=8518.22",
]


async def answers(
    platform: Platform, service: str, url: str, caller: Caller | None
) -> list[httpx.Response]:
    hosted = platform.hosted[service]
    headers = {"x-clearway-internal": platform.credentials.token()}
    if caller is not None:
        headers["x-clearway-caller"] = caller.header()
    fast = hosted.app
    plain = RequireInternalCredential(hosted.service.api, platform.credentials)
    found = []
    for app in (fast, plain):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            found.append(await client.get(url, headers=headers))
    return found


def assert_same(fast: httpx.Response, plain: httpx.Response) -> None:
    assert fast.status_code == plain.status_code
    assert fast.headers == plain.headers
    assert fast.content == plain.content


async def test_the_hot_reads_take_the_fast_lane(platform: Platform) -> None:
    for service, path in (("identity", "/api/identity/me"), ("rules", "/api/rules/search")):
        lane = platform.hosted[service].app
        assert isinstance(lane, RequireInternalCredential)
        assert isinstance(lane.app, FastLane)
        assert path in lane.app.routes


async def test_search_answers_the_same(platform: Platform) -> None:
    statuses = set()
    for query in SEARCHES:  # one platform for all: starting one is what takes the time
        caller = Caller("customer", "u-1", "s-1")
        fast, plain = await answers(platform, "rules", f"/api/rules/search?{query}", caller)
        assert_same(fast, plain)
        statuses.add(fast.status_code)
    assert statuses >= {200, 422}


async def test_me_answers_the_same(api: Api) -> None:
    await api.customer("fast-lane@example.com")
    user_id = await api.user_id("fast-lane@example.com")
    for caller in (Caller("customer", user_id, "s-1"), Caller("anonymous"), None):
        fast, plain = await answers(api.platform, "identity", "/api/identity/me", caller)
        assert_same(fast, plain)
    me = Caller("customer", user_id)
    fast, _ = await answers(api.platform, "identity", "/api/identity/me", me)
    assert fast.status_code == 200
    assert fast.json()["email"] == "fast-lane@example.com"
