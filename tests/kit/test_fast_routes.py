"""The fast lane answers exactly what FastAPI answers: the same values reach the endpoint, the
same 422 problem for bad input, the same errors, and only for the routes it can take."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any, Literal

import httpx
import orjson
import pytest
from fastapi import APIRouter, FastAPI, Header, Query, Request
from opentelemetry.trace import NoOpTracerProvider
from starlette.exceptions import HTTPException
from starlette.responses import Response

from clearway.kit.caller import Admin, AnyCaller, Caller, SignedIn
from clearway.kit.errors import NotFound
from clearway.kit.fast_routes import KEPT_QUERIES, FastLane, fast_routes
from clearway.kit.problems import Problem
from clearway.kit.service import serve_routes, service_api

Market = Annotated[str, Query(min_length=2, max_length=60, description="EU, US …")]
HsCode = Annotated[str | None, Query(max_length=20)]
Limit = Annotated[int, Query(ge=1, le=100)]
AsOf = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
Tags = Annotated[list[str], Query(alias="tag")]
DEFAULT_TAGS = ["any"]

CUSTOMER = {"x-clearway-caller": Caller("customer", "u-1", "s-1").header()}
ADMIN = {"x-clearway-caller": Caller("admin", "a-1", "s-2").header()}


def echo(request: Request, **arguments: Any) -> Response:
    """What the endpoint was given, with the types, and who answered (not compared)."""
    body = {name: [type(value).__name__, repr(value)] for name, value in arguments.items()}
    body["scope"] = [
        request.scope["route"].path,
        request.scope["endpoint"].__name__,
        request.app is request.scope["app"],
        request.scope["path_params"],
    ]
    lane = "fastapi" if "fastapi_inner_astack" in request.scope else "fast lane"
    return Response(orjson.dumps(body), media_type="application/json", headers={"x-lane": lane})


def build() -> FastAPI:
    router = APIRouter()

    @router.get("/search")
    async def search(
        caller: AnyCaller,
        request: Request,
        market: Market,
        hs_code: HsCode = None,
        limit: Limit = 20,
        as_of: AsOf = None,
        tags: Tags = DEFAULT_TAGS,  # FastAPI copies it for every request
        flag: bool = False,
        kind: Literal["a", "b"] = "a",
        ratio: float | None = None,
    ) -> Response:
        answer = echo(request, caller=caller, market=market, hs_code=hs_code, limit=limit)
        tags.append("seen")  # a default handed out as it is would show this next time
        extra = echo(request, as_of=as_of, tags=tags, flag=flag, kind=kind, ratio=ratio)
        both = orjson.loads(answer.body) | orjson.loads(extra.body)
        return Response(orjson.dumps(both), headers={"x-lane": answer.headers["x-lane"]})

    @router.get("/lookup")  # no list among its arguments: a query's are kept once validated
    async def lookup(
        caller: AnyCaller, request: Request, market: Market, limit: Limit = 20, as_of: AsOf = None
    ) -> Response:
        return echo(request, caller=caller, market=market, limit=limit, as_of=as_of)

    @router.get("/me")
    async def me(caller: SignedIn, request: Request, n: int = 0) -> Response:
        return echo(request, caller=caller, n=n)

    @router.get("/admin")
    async def admin(caller: Admin, again: SignedIn, request: Request) -> Response:
        return echo(request, caller=caller, again=again)

    @router.get("/problem")
    async def problem() -> Response:
        raise Problem(409, detail="Not now.", type="busy", retry=3)

    @router.get("/domain")
    async def domain() -> Response:
        raise NotFound("no-such-thing", "There is no such thing.", headers={"x-why": "gone"})

    @router.get("/http")
    async def http() -> Response:
        raise HTTPException(418, "Short and stout.")

    @router.get("/crash")
    async def crash() -> Response:
        raise RuntimeError("an unexpected failure")

    # Not for the fast lane: FastAPI answers these.
    @router.get("/with-header")
    async def with_header(request: Request, x_thing: Annotated[str, Header()]) -> Response:
        return echo(request, x_thing=x_thing)

    @router.get("/sync")
    def sync(request: Request) -> Response:
        return echo(request)

    @router.get("/plain-json")
    async def plain_json() -> dict[str, str]:
        return {"kind": "serialized by FastAPI"}

    @router.get("/things/{name}")
    async def thing(request: Request, name: str) -> Response:
        return echo(request, name=name)

    @router.get("/things/special")
    async def special(request: Request) -> Response:  # the route above answers its path
        return echo(request)

    @router.post("/search")
    async def post_search(request: Request) -> Response:
        return echo(request)

    api = service_api("test", "Test", "A service for the fast lane's tests.")
    serve_routes(api, router)
    return api


@pytest.fixture
def app() -> FastAPI:
    return build()


@pytest.fixture
async def clients(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    def client(asgi: Any) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    async with client(FastLane(app)) as fast, client(app) as plain:
        yield fast, plain


async def both(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    url: str,
    headers: dict[str, str] | None = None,
) -> tuple[httpx.Response, httpx.Response]:
    fast, plain = clients
    answers = (await fast.get(url, headers=headers), await plain.get(url, headers=headers))
    for answer in answers:
        answer.headers.pop("x-lane", None)
    return answers


def test_only_the_simple_reads_take_the_fast_lane(app: FastAPI) -> None:
    expected = ["/admin", "/crash", "/domain", "/http", "/lookup", "/me", "/problem", "/search"]
    assert sorted(fast_routes(app)) == expected


def test_an_app_with_middleware_of_its_own_keeps_its_whole_stack(app: FastAPI) -> None:
    app.add_middleware(_Marker)
    assert FastLane(app).routes == {}


def test_an_app_instrumented_by_fastapi_keeps_its_whole_stack() -> None:
    app = FastAPI(telemetry={"tracer_provider": NoOpTracerProvider()})

    @app.get("/traced")
    async def traced(request: Request) -> Response:
        return echo(request)

    assert "/traced" in fast_routes(app)
    assert FastLane(app).routes == {}


class _Marker:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


GOOD = [
    "/search?market=EU",
    "/search?market=EU&hs_code=8518.22&limit=5&as_of=2024-05-01&tag=a&tag=b&flag=true&kind=b",
    "/search?market=EU&market=US",  # the last one counts
    "/search?market=EU&unknown=1&tags=not-the-alias",
    "/search?market=EU&hs_code=&tag=",
    "/search?market=E%20U&limit=007&flag=yes&ratio=1e3&as_of=2024-05-01T00:00:00",
    "/search?market=%C3%A9t%C3%A9&ratio=-0.5&flag=0",
    "/search?market=EU&ratio=nan",
]

BAD = [
    "/search",
    "/search?market=E",
    "/search?market=EU&limit=0",
    "/search?market=EU&limit=abc",
    "/search?market=EU&limit=101&as_of=1999-12-31",
    "/search?market=EU&as_of=not-a-date",
    "/search?market=EU&kind=c&flag=maybe",
    "/search?market=EU&hs_code=" + "9" * 21,
    "/search?market=" + "x" * 61 + "&ratio=many",
    "/search?limit=2.5&as_of=2101-01-01",
]


@pytest.mark.parametrize("url", GOOD)
@pytest.mark.parametrize("headers", [None, CUSTOMER], ids=["anonymous", "customer"])
async def test_good_input_reaches_the_endpoint_with_the_same_values(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    url: str,
    headers: dict[str, str] | None,
) -> None:
    first = await clients[0].get(url, headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers["x-lane"] == "fast lane"
    for _ in range(2):  # and again: nothing of one request is left for the next
        fast_answer, plain_answer = await both(clients, url, headers)
        assert fast_answer.status_code == plain_answer.status_code == 200
        assert fast_answer.headers == plain_answer.headers
        assert fast_answer.json() == plain_answer.json()
    # The default list is the endpoint's to change: each request gets a fresh copy.
    assert orjson.loads(first.content)["tags"][1].count("'seen'") == 1


@pytest.mark.parametrize("url", BAD)
async def test_bad_input_gets_fastapis_own_422_problem(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], url: str
) -> None:
    fast_answer, plain_answer = await both(clients, url, CUSTOMER)
    assert fast_answer.status_code == plain_answer.status_code == 422
    assert fast_answer.headers["content-type"] == "application/problem+json"
    assert fast_answer.headers == plain_answer.headers
    assert fast_answer.content == plain_answer.content
    assert fast_answer.json()["errors"]


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/me", None, 401),
        ("/me?n=not-a-number", None, 401),  # the caller is checked before the parameters
        ("/me?n=not-a-number", CUSTOMER, 422),
        ("/me?n=7", CUSTOMER, 200),
        ("/admin", CUSTOMER, 403),
        ("/admin", ADMIN, 200),
        ("/problem", None, 409),
        ("/domain", None, 404),
        ("/http", None, 418),
        ("/crash", None, 500),
    ],
)
async def test_errors_are_answered_by_the_apps_own_handlers(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    url: str,
    headers: dict[str, str] | None,
    status: int,
) -> None:
    fast_answer, plain_answer = await both(clients, url, headers)
    assert fast_answer.status_code == plain_answer.status_code == status
    assert fast_answer.headers == plain_answer.headers
    assert fast_answer.content == plain_answer.content


async def test_an_unexpected_error_is_answered_and_raised_to_the_server(app: FastAPI) -> None:
    for asgi in (FastLane(app), app):
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            with pytest.raises(RuntimeError, match="an unexpected failure"):
                await client.get("/crash")


@pytest.mark.parametrize(
    "url",
    [
        "/with-header",
        "/sync",
        "/plain-json",
        "/things/special",
        "/things/other",
        "/nowhere",
        "/search/",
    ],
)
async def test_other_routes_are_answered_by_fastapi_as_before(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], url: str
) -> None:
    fast_answer, plain_answer = await both(clients, url, {"x-thing": "t"})
    assert fast_answer.status_code == plain_answer.status_code
    assert fast_answer.headers == plain_answer.headers
    assert fast_answer.content == plain_answer.content


async def test_a_post_to_a_fast_path_goes_to_fastapi(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=FastLane(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.post("/search?market=EU")
    assert answer.status_code == 200
    assert answer.headers["x-lane"] == "fastapi"


async def test_overridden_dependencies_are_honoured(app: FastAPI) -> None:
    @app.get("/who")  # a route of the app's own, so the app's overrides apply to it
    async def who(caller: SignedIn, request: Request) -> Response:
        return echo(request, caller=caller)

    async def someone() -> Caller:
        return Caller("provider", "p-9")

    lane = FastLane(app)
    assert "/who" in lane.routes
    transport = httpx.ASGITransport(app=lane)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/who", headers=CUSTOMER)).headers["x-lane"] == "fast lane"
        app.dependency_overrides[SignedIn.__metadata__[0].dependency] = someone
        answer = await client.get("/who")
    assert answer.status_code == 200
    assert answer.headers["x-lane"] == "fastapi"
    assert "p-9" in answer.json()["caller"][1]


async def test_a_query_asked_again_skips_validation_and_gets_the_same_values(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validated: list[str] = []
    for route in fast_routes(app).values():  # the lane's routes share the app's fields
        for query in route.queries:
            real = query.field.validate

            def counting(raw: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
                validated.append(raw)
                return _real(raw, *args, **kwargs)

            monkeypatch.setattr(query.field, "validate", counting)
    url = "/lookup?market=EU&limit=5&as_of=2024-05-01"
    first = (await clients[0].get(url, headers=CUSTOMER)).json()
    assert len(validated) == 3
    validated.clear()
    for headers in (CUSTOMER, ADMIN):  # the caller is not the query's: resolved every time
        fast_answer, plain_answer = await both(clients, url, headers)
        assert fast_answer.json() == plain_answer.json()
    assert len(validated) == 6  # FastAPI's two requests, three each; the fast lane's none
    assert fast_answer.json()["caller"] != first["caller"]
    assert "date(2024, 5, 1)" in first["as_of"][1]


async def test_only_short_queries_of_unchangeable_values_are_kept(app: FastAPI) -> None:
    lane = FastLane(app)
    transport = httpx.ASGITransport(app=lane)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.get("/search?market=EU")  # a list (the default tags): the endpoint's
        await client.get("/lookup?market=EU&note=" + "x" * 300)  # valid, too long to keep
        await client.get("/lookup?market=E")  # a 422: nothing validated to keep
        assert lane.routes["/search"].kept == lane.routes["/lookup"].kept == {}
        for n in range(KEPT_QUERIES + 10):
            answer = await client.get(f"/lookup?market=M{n}&limit={n % 100 + 1}")
            assert answer.is_success
    kept = lane.routes["/lookup"].kept
    assert len(kept) == KEPT_QUERIES
    assert b"market=M0&limit=1" not in kept  # the oldest went first
    assert f"market=M{KEPT_QUERIES + 9}&limit=34".encode() in kept
