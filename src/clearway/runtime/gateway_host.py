"""The gateway in a process, with what it needs besides the services: signing keys and
revocations from identity, rate limits, request records, the metrics listener."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp

from clearway.contracts.identity import JWKS_ROUTE, Revocations, revocations_path
from clearway.gateway.admission import Admission
from clearway.gateway.app import Gateway, LocalEndpoints
from clearway.gateway.auth import RevocationList, TokenVerifier
from clearway.gateway.cors import ProblemCORSMiddleware
from clearway.gateway.docs import merge
from clearway.gateway.edge import EdgeLimits
from clearway.gateway.ratelimit import RateLimiter
from clearway.gateway.records import RequestRecorder
from clearway.gateway.routes import RouteTable
from clearway.gateway.webapp import WebApp
from clearway.kit.service import Job
from clearway.runtime.foundation import Foundation, HostUpstreams
from clearway.runtime.inprocess import InProcessUpstreams
from clearway.runtime.metrics import MetricsEndpoint, MetricsServer

REVOCATION_POLL_SECONDS = 1.0
# Requests in the services at once (gateway/admission.py): few where they share this process's
# event loop, many where a request in flight mostly waits on the network.
IN_FLIGHT_IN_PROCESS = 32
IN_FLIGHT_REMOTE = 256


class GatewayHost:
    """The gateway and what it needs besides the services: keys, revocations, limits, records."""

    def __init__(
        self,
        base: Foundation,
        upstreams: HostUpstreams,
        ready: Callable[[], Awaitable[dict[str, Any]]],
        documents: Callable[[], Awaitable[dict[str, dict[str, Any]]]],
    ) -> None:
        settings = base.settings
        self.base = base
        self.upstreams = upstreams
        self._documents = documents
        self.routes = RouteTable()
        self.revocations = RevocationList()
        self.verifier = TokenVerifier(
            settings.jwt_issuer,
            settings.jwt_audience,
            lambda: upstreams.get_json("identity", JWKS_ROUTE),
            self.revocations,
        )
        self.recorder = RequestRecorder(base.bus)
        self.limiter = RateLimiter(settings)
        self.gateway = Gateway(
            routes=self.routes,
            verifier=self.verifier,
            limiter=self.limiter,
            recorder=self.recorder,
            upstreams=upstreams,
            credentials=base.credentials,
            local=LocalEndpoints(ready=ready, openapi=self.openapi),
            body_limit=settings.body_limit_bytes,
            body_limits={"upload": settings.body_limit_upload_bytes},
            upstream_timeout=settings.upstream_timeout_seconds,
            edge=EdgeLimits.from_settings(settings),
            admission=Admission(
                settings.gateway_max_in_flight
                or (
                    IN_FLIGHT_IN_PROCESS
                    if isinstance(upstreams, InProcessUpstreams)
                    else IN_FLIGHT_REMOTE
                ),
                settings.gateway_queue_timeout_seconds,
            ),
            webapp=WebApp.packaged(),
        )
        self.app: ASGIApp = self.gateway
        if settings.cors_origins:
            self.app = ProblemCORSMiddleware(
                self.gateway,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "idempotency-key",
                    "x-request-id",
                    "x-clearway-client",
                ],
                # The browser app's refresh cookie (identity checks Origin and the header).
                allow_credentials=True,
                expose_headers=["x-request-id", "retry-after", "location"],
                max_age=600,
            )
        self._openapi: dict[str, Any] | None = None
        self._service_documents: dict[str, dict[str, Any]] = {}
        self.metrics: MetricsServer | None = None

    async def start(self, *, background: bool = True) -> None:
        """After the services it reaches are up: keys, revocations, records, metrics.

        Without `background` (a Lambda function, frozen between requests) records are not
        published by a timer but flushed after each request, and there is no metrics listener.
        """
        settings = self.base.settings
        await self.limiter.store.start()
        await self.verifier.refresh_keys()
        await self.poll_revocations()
        self._service_documents = await self._documents()
        poll = Job(
            "gateway-revocations",
            REVOCATION_POLL_SECONDS,
            self.poll_revocations,
            every_process=True,
        )
        self.base.jobs.add(poll)
        if not background:
            return
        self.recorder.start()
        if settings.metrics_port is not None:
            self.metrics = MetricsServer(
                MetricsEndpoint(self.upstreams, self.base.credentials),
                settings.metrics_host,
                settings.metrics_port,
            )
            await self.metrics.start()

    async def stop_listeners(self) -> None:
        if self.metrics is not None:
            await self.metrics.stop()

    async def stop(self) -> None:
        """Flush request records (to the bus, still open) and close the limiter's store."""
        await self.recorder.stop()
        await self.limiter.store.close()

    async def poll_revocations(self) -> None:
        document = Revocations.model_validate(
            await self.upstreams.get_json("identity", revocations_path(self.revocations.cursor))
        )
        for item in document.items:
            self.revocations.add(item.session_id, item.until)
        self.revocations.cursor = document.cursor

    def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            self._openapi = merge(self.routes.routes, self._service_documents)
        return self._openapi
