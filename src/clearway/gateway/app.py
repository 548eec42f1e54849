"""The gateway as one ASGI app: route, authenticate, authorize, limit, forward, record.

Written as plain ASGI rather than on a web framework: it sits on every request's path and
does no more than this file shows.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import orjson
from starlette.types import Message, Receive, Scope, Send

from clearway.contracts.gateway import AdminRequest
from clearway.gateway.admission import Admission, Turn
from clearway.gateway.auth import InvalidToken, TokenVerifier
from clearway.gateway.deadlines import Deadlines
from clearway.gateway.docs import (
    ASYNCAPI_PATH,
    DOCS_CSP,
    DOCS_PAGE,
    DOCS_PATHS,
    asyncapi_document,
    docs_asset,
)
from clearway.gateway.edge import (
    BodyTimeout,
    EdgeLimits,
    RequestBody,
    has_body,
)
from clearway.gateway.ratelimit import RateLimiter
from clearway.gateway.records import WRITES, RequestRecorder
from clearway.gateway.routes import Route, RouteTable
from clearway.gateway.webapp import WebApp
from clearway.kit.caller import ANONYMOUS, Caller
from clearway.kit.ids import new_id
from clearway.kit.internal_auth import CALLER_HEADER, InternalCredentials
from clearway.kit.logging import request_id_var
from clearway.kit.problems import Problem

log = logging.getLogger("clearway.gateway")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
NO_STORE = (b"cache-control", b"no-store")
# The one `x-clearway-` header a client sets itself (`web`: the browser app); the others are
# the platform's own and never pass from outside.
CLIENT_HEADER = b"x-clearway-client"


class Upstreams(Protocol):
    """How the gateway reaches a service: in-process ASGI call or pooled HTTP."""

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None: ...


@dataclass
class LocalEndpoints:
    """Answered by the gateway itself, never forwarded."""

    ready: Callable[[], Awaitable[dict[str, Any]]]
    openapi: Callable[[], dict[str, Any]]


class Gateway:
    def __init__(
        self,
        *,
        routes: RouteTable,
        verifier: TokenVerifier,
        limiter: RateLimiter,
        recorder: RequestRecorder,
        upstreams: Upstreams,
        credentials: InternalCredentials,
        local: LocalEndpoints,
        body_limit: int,
        upstream_timeout: float,
        edge: EdgeLimits,
        admission: Admission,
        body_limits: Mapping[str, int] | None = None,
        webapp: WebApp | None = None,
    ) -> None:
        self.routes = routes
        self.webapp = webapp
        self.verifier = verifier
        self.limiter = limiter
        self.recorder = recorder
        self.upstreams = upstreams
        self.credentials = credentials
        self.local = local
        self.body_limit = body_limit
        # Per limit class (`routes.LimitClass`); a class not in it takes `body_limit`.
        self.body_limits = dict(body_limits or {})
        self.upstream_timeout = upstream_timeout
        self.deadlines = Deadlines()
        self.edge = edge
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        started = time.perf_counter()
        request_id = _request_id(scope)
        outcome = _Outcome(send, request_id)
        template = "unmatched"
        bound = request_id_var.set(request_id)  # every log line of this request carries it
        try:
            path: str = scope["path"]
            method: str = scope["method"]
            target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            refused = self.edge.head_problem(target, scope["headers"])
            if refused is not None:
                raise refused
            page = self.webapp.find(scope) if self.webapp is not None else None
            if page is not None:
                template = "webapp"
                await outcome.send_file(*WebApp.response(scope, page))
                return
            body = RequestBody(
                receive,
                self.edge.body_timeout,
                lambda: outcome.refuse(BodyTimeout()),
                empty=not has_body(scope["headers"]),
            )
            receive = body.receive
            local = ("/healthz", "/readyz", "/api/openapi.json", ASYNCAPI_PATH)
            if path in local or path in DOCS_PATHS:
                template = path
                await self._local(path, outcome)
                return
            route = self.routes.match(method, path)
            if route is None:
                if allow := self.routes.methods_for(path):
                    headers = {"allow": ", ".join(allow)}
                    raise Problem(405, detail="Method not allowed here.", headers=headers)
                raise Problem(404, detail="No such route.")
            template = route.path
            turn = self.admission.turn()
            outcome.on_start = turn.end
            try:
                if body.done:
                    await turn.take(body.disconnected)
                else:
                    body.on_complete = partial(_take_turn, turn, outcome, body)
                await self._serve(route, scope, receive, outcome, request_id, body)
            finally:
                turn.end()
        except Exception as exc:
            # Once the body is refused, that is the answer, whatever came of it in the service.
            problem = _problem_for(outcome.refusal or exc, scope["path"])
            await outcome.problem(problem, scope["path"])
        finally:
            request_id_var.reset(bound)
            self.recorder.record(
                {
                    "route": template,
                    "method": scope["method"],
                    "status": outcome.status,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                    "role": outcome.caller.role,
                    "user_id": outcome.caller.user_id,
                    "client": scope["client"][0] if scope.get("client") else None,
                    "request_id": request_id,
                }
            )

    async def _serve(
        self,
        route: Route,
        scope: Scope,
        receive: Receive,
        outcome: _Outcome,
        request_id: str,
        body: RequestBody,
    ) -> None:
        """Authenticate, authorize, limit and forward a routed request."""
        caller = outcome.caller = await self._authenticate(scope)
        if caller.role not in route.allow:
            if caller.user_id is None:
                raise Problem(401, detail="Sign in to use this route.", headers=_BEARER_CHALLENGE)
            raise Problem(403, detail="Your role may not use this route.")
        address = scope["client"][0] if scope.get("client") else "unknown"
        wait = await self.limiter.check(route.limit, address, caller.user_id)
        if wait:
            raise Problem(
                429, detail="Too many requests; slow down.", headers={"retry-after": str(wait)}
            )
        method = scope["method"]
        if caller.role == "admin" and method in WRITES:
            await self._audit_ahead(route.path, method, caller, request_id, address)
        limit = self.body_limits.get(route.limit, self.body_limit)
        receive = _limited_body(scope, receive, limit, outcome)
        await self._forward(route.service, scope, receive, outcome, caller, request_id, body)
        if outcome.refusal is not None:  # the service answered its broken-off body its way
            raise outcome.refusal

    async def _authenticate(self, scope: Scope) -> Caller:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    raise Problem(401, detail="Use a Bearer token.", headers=_BEARER_CHALLENGE)
                try:
                    return await self.verifier.authenticate(token.strip())
                except InvalidToken as exc:
                    raise Problem(401, detail=str(exc), headers=_BEARER_CHALLENGE) from exc
        return ANONYMOUS

    async def _audit_ahead(
        self, route: str, method: str, caller: Caller, request_id: str, address: str
    ) -> None:
        """An administrator's change is audited before it is made, or not made at all."""
        try:
            action = AdminRequest(
                by=caller.user_id or "",
                route=route,
                method=method,
                request_id=request_id,
                client=address,
            )
            await self.recorder.admin_action(action)
        except Exception as exc:
            log.exception("could not audit an administrator's %s %s", method, route)
            raise Problem(
                503,
                detail="The change could not be audited, so it was not made; try again shortly.",
                headers={"retry-after": "5"},
            ) from exc

    async def _forward(
        self,
        service: str,
        scope: Scope,
        receive: Receive,
        outcome: _Outcome,
        caller: Caller,
        request_id: str,
        body: RequestBody,
    ) -> None:
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if (not name.startswith(b"x-clearway-") or name == CLIENT_HEADER)
            and name != b"x-request-id"
        ]
        headers.append(self.credentials.header())
        headers.append((CALLER_HEADER, caller.header().encode("latin-1")))
        headers.append((b"x-request-id", request_id.encode("latin-1")))
        inner = dict(scope)
        inner["headers"] = headers
        # The service's time starts once the client has sent the whole body (until then the
        # body's own deadline applies: a slow upload is a 408, not the service's 504) and the
        # request has its turn (the wait for it is the admission queue's to bound, with a 503).
        loop = asyncio.get_running_loop()
        start = loop.time() if body.done else body.deadline
        clock = self.deadlines.at(start + self.upstream_timeout)
        if not body.done:
            body.on_arrived = lambda: clock.reschedule(math.inf)
            body.on_done = lambda: clock.reschedule(loop.time() + self.upstream_timeout)
        try:
            async with clock:
                await self.upstreams.forward(service, inner, receive, outcome.send)
        except TimeoutError:
            if outcome.started or outcome.refusal is not None:
                raise
            await outcome.problem(Problem(504, detail="The service took too long."), scope["path"])

    async def _local(self, path: str, outcome: _Outcome) -> None:
        if path == "/healthz":
            await outcome.json(200, {"status": "ok"})
        elif path == "/readyz":
            report = await self.local.ready()
            await outcome.json(200 if report["ready"] else 503, report)
        elif path == "/api/openapi.json":
            await outcome.json(200, self.local.openapi())
        elif path == ASYNCAPI_PATH:
            await outcome.json(200, asyncapi_document())
        elif path == "/api/docs":
            await outcome.html(DOCS_PAGE, DOCS_CSP)
        else:
            await outcome.asset(*docs_asset(path))


_BEARER_CHALLENGE = {"www-authenticate": 'Bearer realm="clearway"'}


async def _take_turn(turn: Turn, outcome: _Outcome, body: RequestBody) -> None:
    """A request with a body takes its turn as the service reads the body's last part; a
    refusal then is the answer, whatever the service makes of its broken-off read."""
    try:
        await turn.take(body.disconnected)
    except Problem as refused:
        outcome.refuse(refused)
        raise


def _limited_body(scope: Scope, receive: Receive, limit: int, outcome: _Outcome) -> Receive:
    """Refuse a body over the limit before the service reads a byte past it.

    A declared length is judged before anything is read. A chunked body goes on to the service
    as it arrives, counted: the chunk that crosses the limit never reaches it, and its read of
    the body fails there, so the service's request is broken off with nothing half kept.
    """
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                size = int(value)
            except ValueError as exc:
                raise Problem(400, detail="Invalid Content-Length.") from exc
            if size > limit:
                raise _too_large(limit)
            return receive
    if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return receive
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            # Raised as a problem: the service's error handling answers it (to no one, the
            # answer is dropped) rather than logging it as a failure of its own.
            refusal = _too_large(limit)
            outcome.refuse(refusal)
            raise refusal
        return message

    return counted


def _too_large(limit: int) -> Problem:
    detail = f"The request body is too large: at most {limit} bytes here."
    return Problem(413, detail=detail, max_bytes=limit)


def _problem_for(error: Exception, path: str) -> Problem:
    """What a request that failed with `error` is answered."""
    if isinstance(error, Problem):
        return error
    log.exception("gateway error on %s", path)
    return Problem(502, detail="The service failed to answer.")


class _Outcome:
    """Wraps `send`: adds the gateway's headers and remembers the status."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id.encode("latin-1")
        self.status = 0
        self.started = False
        # Set when the gateway refused the body part-way (too slow, too large): whatever the
        # service answers to what it got is dropped, and the refusal is answered instead.
        self.refusal: Problem | None = None
        self.caller = ANONYMOUS
        # Ends the request's admission turn once its response starts (gateway/admission.py).
        self.on_start: Callable[[], None] | None = None

    def refuse(self, refusal: Problem) -> None:
        self.refusal = refusal

    async def send(self, message: Message) -> None:
        if self.refusal is not None:
            return
        if message["type"] == "http.response.start":
            self.started = True
            if self.on_start is not None:
                self.on_start()
            self.status = message["status"]
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers.extend(SECURITY_HEADERS)
            headers.append((b"x-request-id", self._request_id))
            if b"content-security-policy" not in present:
                headers.append(API_CSP)
            if b"cache-control" not in present:
                headers.append(NO_STORE)
            message = {**message, "headers": headers}
        await self._send(message)

    async def problem(self, problem: Problem, instance: str) -> None:
        if self.started:
            return  # too late to change the answer; the connection is closed by the server
        self.refusal = None
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()]
        await self._body(
            problem.status,
            orjson.dumps(problem.body(instance or None)),
            b"application/problem+json",
            headers,
        )

    async def send_file(self, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        await self.send({"type": "http.response.start", "status": 200, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})

    async def json(self, status: int, body: Any) -> None:
        await self._body(status, orjson.dumps(body), b"application/json", [])

    async def html(self, body: str, csp: str) -> None:
        headers = [(b"content-security-policy", csp.encode())]
        await self._body(200, body.encode(), b"text/html; charset=utf-8", headers)

    async def asset(self, body: bytes, media_type: str) -> None:
        """A static file of the gateway's own (the docs page's); the same for everyone."""
        cache = (b"cache-control", b"public, max-age=86400")
        await self._body(200, body, media_type.encode(), [cache])

    async def _body(
        self, status: int, body: bytes, content_type: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ]
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if REQUEST_ID.match(candidate):
                return candidate
            break
    return new_id()
