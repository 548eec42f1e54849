"""A fast lane in front of a service's FastAPI app for its simplest reads.

FastAPI answers every request generically: a middleware stack, a linear walk over the routes,
two exit stacks, then `solve_dependencies`, which works out again for every query parameter
where to look, whether it is a list and how to validate it. Measured with
`python -m bench.request_path`, that machinery was most of a hot read's CPU time.

For a `GET` route whose path has no parameters, whose arguments are query scalars or lists and
dependencies that need only the request (the caller), and whose endpoint returns a `Response`,
all of that is worked out once here. A request for such a route is answered by: parse the
query (Starlette's own parser), validate each parameter with the very validator FastAPI built
for it, resolve the dependencies, call the endpoint, send its response.

Parsing and validating depend on the query string alone, and a hot read is asked the same few
questions again and again, so the validated arguments of the last `KEPT_QUERIES` query strings
are kept and a query string seen before skips both. Only short query strings are kept, and only
arguments that cannot be changed (a list is the endpoint's to change, so a query with one is
validated every time).

Whatever the fast lane is not sure of, the app answers as before, untouched: a path it does not
know, a parameter that fails validation or is missing (so a 422 is FastAPI's own, word for
word, and a dependency's 401 still comes before it), overridden dependencies; and every
request if the app has middleware of its own or FastAPI's OpenTelemetry instrumentation is
configured as the process starts. An error raised by a dependency or the endpoint goes through
the app's own exception handlers, in the order its middleware would apply them. The routes
themselves are not changed, so the OpenAPI document is what it was.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, get_args
from uuid import UUID

from fastapi import FastAPI, params
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute
from pydantic import BaseModel, Json
from starlette.datastructures import QueryParams
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

# Defaults that are safe to hand out as they are; FastAPI deep-copies the others per request.
_IMMUTABLE = (type(None), bool, int, float, str, bytes)
# Validated values that can be handed to every request that asks the same.
_SHAREABLE = (*_IMMUTABLE, date, time, timedelta, Decimal, Enum, UUID)
KEPT_QUERIES = 1024  # per route
KEPT_LENGTH = 256  # bytes: hot reads ask short questions, and the memo stays under a megabyte
_FAILED = "clearway.fast_routes.failed"


class _Declined(Exception):
    """The fast lane leaves this request to the app (raised before anything has run)."""


@dataclass(frozen=True, slots=True)
class _Query:
    name: str
    alias: str
    many: bool
    required: bool
    default: Any
    field: ModelField

    def value(self, query: QueryParams) -> Any:
        # `in` first: a missing key costs `Mapping.get` a raised and caught KeyError.
        if self.alias not in query:
            raw: Any = None
        else:
            raw = query.getlist(self.alias) if self.many else query[self.alias]
        if raw is None:
            if self.required:
                raise _Declined
            default = self.default
            return default if isinstance(default, _IMMUTABLE) else deepcopy(default)
        value, errors = self.field.validate(raw, {}, loc=("query", self.alias))
        if errors:
            raise _Declined
        return value


@dataclass(frozen=True, slots=True)
class _Dependency:
    """A dependency that needs the request and other such dependencies only (the caller)."""

    name: str | None
    call: Callable[..., Awaitable[Any]]
    request_param: str | None
    inner: tuple[_Dependency, ...]
    cached: bool

    async def solve(self, request: Request, cache: dict[Any, Any]) -> Any:
        values = await _solve_all(self.inner, request, cache)
        if self.cached and self.call in cache:
            return cache[self.call]
        if self.request_param is not None:
            values[self.request_param] = request
        solved = await self.call(**values)
        cache.setdefault(self.call, solved)  # as FastAPI: the first answer is the one kept
        return solved


async def _solve_all(
    dependencies: tuple[_Dependency, ...], request: Request, cache: dict[Any, Any]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for dependency in dependencies:
        solved = await dependency.solve(request, cache)
        if dependency.name is not None:
            values[dependency.name] = solved
    return values


@dataclass(frozen=True, slots=True)
class FastRoute:
    route: APIRoute
    app: FastAPI
    dependencies: tuple[_Dependency, ...]
    queries: tuple[_Query, ...]
    request_param: str | None
    kept: dict[bytes, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    def arguments(self, request: Request) -> dict[str, Any]:
        """The query's validated arguments (a copy the endpoint's call may have)."""
        raw: bytes = request.scope["query_string"]
        known = self.kept.get(raw)
        if known is not None:
            return dict(known)
        query = request.query_params
        arguments = {q.name: q.value(query) for q in self.queries}
        if len(raw) <= KEPT_LENGTH and all(isinstance(v, _SHAREABLE) for v in arguments.values()):
            if len(self.kept) >= KEPT_QUERIES:
                del self.kept[next(iter(self.kept))]  # the oldest goes
            self.kept[raw] = arguments
            return dict(arguments)
        return arguments

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> Response:
        """The endpoint's response; raises `_Declined` before running anything it cannot do."""
        request = Request(scope, receive, send)
        arguments = self.arguments(request)
        # From here on the request is the fast lane's: set what the app's router would have.
        scope["app"] = self.app
        scope.setdefault("router", self.app.router)
        scope["endpoint"] = self.route.endpoint
        scope["path_params"] = {}
        scope["route"] = self.route
        arguments.update(await _solve_all(self.dependencies, request, {}))
        if self.request_param is not None:
            arguments[self.request_param] = request
        response = await self.route.dependant.call(**arguments)  # type: ignore[misc]
        if not isinstance(response, Response):
            raise TypeError(f"{self.route.path} promised a Response and returned {response!r}")
        return response


class FastLane:
    """ASGI app: the fast routes of `app` answered here, everything else by `app` itself."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        # The app's own middleware would be skipped, and so would FastAPI's OpenTelemetry
        # spans if the process starts with a provider: with either, the app answers all.
        plain = not app.user_middleware and not app.root_path and not _instrumented(app)
        self.routes = fast_routes(app) if plain else {}
        self._errors = _error_handling(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            fast = self.routes.get(scope["path"])
        if fast is None or self._overridden(fast.route):
            await self.app(scope, receive, send)
            return
        try:
            response = await fast.answer(scope, receive, send)
        except _Declined:
            await self.app(scope, receive, send)
            return
        except Exception as exc:
            scope[_FAILED] = exc
            await self._errors(scope, receive, send)
            return
        await response(scope, receive, send)

    @staticmethod
    def _overridden(route: APIRoute) -> bool:
        provider = route.dependency_overrides_provider
        return bool(provider is not None and getattr(provider, "dependency_overrides", None))


def _instrumented(app: FastAPI) -> bool:
    # Asked once: FastAPI's own check reads the environment on every call (2.5 µs).
    telemetry = getattr(app, "_native_telemetry", None)
    return telemetry is not None and bool(telemetry.enabled())


def fast_routes(app: FastAPI) -> dict[str, FastRoute]:
    """The app's routes the fast lane can answer, by path."""
    found: dict[str, FastRoute] = {}
    for index, route in enumerate(app.router.routes):
        if not isinstance(route, APIRoute) or route.methods != {"GET"}:
            continue
        if _shadowed(app, index, route.path) or route.path in found:
            continue
        compiled = _compile(app, route)
        if compiled is not None:
            found[route.path] = compiled
    return found


def _shadowed(app: FastAPI, index: int, path: str) -> bool:
    """Whether the router would not reach this route for a GET of its own path."""
    probe: Scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    own, _ = app.router.routes[index].matches(dict(probe))
    if own is not Match.FULL:
        return True
    return any(route.matches(dict(probe))[0] is Match.FULL for route in app.router.routes[:index])


def _compile(app: FastAPI, route: APIRoute) -> FastRoute | None:
    dependant = route.dependant
    if not _plain(dependant) or dependant.path_params or not callable(dependant.call):
        return None
    if not inspect.iscoroutinefunction(dependant.call):
        return None
    returns = get_typed_return_annotation(dependant.call)
    if not (inspect.isclass(returns) and issubclass(returns, Response)):
        return None
    queries = tuple(_query(field) for field in dependant.query_params)
    dependencies = tuple(_dependency(sub) for sub in dependant.dependencies)
    if None in queries or None in dependencies:
        return None
    return FastRoute(
        route=route,
        app=app,
        dependencies=dependencies,  # type: ignore[arg-type]
        queries=queries,  # type: ignore[arg-type]
        request_param=dependant.request_param_name,
    )


def _plain(dependant: Dependant) -> bool:
    """No parameters beyond the query, the request and dependencies."""
    return not (
        dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.parent_oauth_scopes
        or getattr(dependant, "concurrency", None) is not None
    )


def _query(field: ModelField) -> _Query | None:
    info = field.field_info
    if not isinstance(info, params.Query) or info.validation_alias not in (None, field.alias):
        return None
    if info.default_factory is not None or info.validate_default:
        return None
    if any(type(item) is Json for item in info.metadata) or _mentions_model(info.annotation):
        return None  # JSON in a parameter, or a query model: FastAPI reads those differently
    return _Query(
        name=field.name,
        alias=field.alias,
        many=field_annotation_is_sequence(info.annotation),
        required=info.is_required(),
        default=info.default,
        field=field,
    )


def _mentions_model(annotation: Any) -> bool:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return True
    return any(_mentions_model(arg) for arg in get_args(annotation))


def _dependency(dependant: Dependant) -> _Dependency | None:
    call = dependant.call
    if call is None or not inspect.iscoroutinefunction(call) or not _plain(dependant):
        return None
    if dependant.query_params or dependant.path_params:
        return None
    inner = tuple(_dependency(sub) for sub in dependant.dependencies)
    if None in inner:
        return None
    return _Dependency(
        name=dependant.name,
        call=call,
        request_param=dependant.request_param_name,
        inner=inner,  # type: ignore[arg-type]
        cached=dependant.use_cache,
    )


async def _reraise(scope: Scope, receive: Receive, send: Send) -> None:
    raise scope.pop(_FAILED)


def _error_handling(app: FastAPI) -> ASGIApp:
    """The app's exception handlers in its own middleware's order, around an app that raises
    the fast lane's error: the unexpected ones by the server-error middleware (which answers
    and re-raises), the rest by the exception middleware (`FastAPI.build_middleware_stack`)."""
    server_error = None
    handlers: dict[Any, Any] = {}
    for key, handler in app.exception_handlers.items():
        if key in (500, Exception):
            server_error = handler
        else:
            handlers[key] = handler
    inner = ExceptionMiddleware(_reraise, handlers=handlers, debug=app.debug)
    return ServerErrorMiddleware(inner, handler=server_error, debug=app.debug)
