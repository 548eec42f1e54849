"""One Lambda execution environment: built once, then reused by every invocation it serves.

It holds what a process of `clearway serve PART` holds (key store, credentials, bus clients,
database pool, the service or the gateway) and one event loop that outlives invocations, so
pooled connections and caches stay valid between them. It never runs migrations (the deploy
step does) and starts nothing in the background: a frozen environment runs no timers. Instead,
before each invocation the every-process jobs that are due run (signing keys, revocations,
the rules snapshot), and after it the outbox and telemetry of what it wrote are published.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

from mangum import Mangum

from clearway.kit.bus.sns_sqs import Received, SnsSqsBus
from clearway.kit.internal_auth import InternalCredentials
from clearway.kit.service import Job
from clearway.runtime.aws.invoke import Invoke, LambdaUpstreams, lambda_invoke
from clearway.runtime.hosting import Host
from clearway.runtime.processes import GatewayProcess, ServiceProcess
from clearway.settings import SERVICES, Settings

log = logging.getLogger("clearway.aws")

SWEEP = "outbox-sweep"


class Environment:
    """The gateway or one service, as one Lambda function's execution environment."""

    def __init__(self, settings: Settings, part: str, invoke: Invoke | None = None) -> None:
        if part != "gateway" and part not in SERVICES:
            raise ValueError(f"lambda_part must be 'gateway' or a service, not {part!r}")
        self.part = part
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        call = invoke or lambda_invoke(settings)

        def connect(settings: Settings, credentials: InternalCredentials) -> LambdaUpstreams:
            return LambdaUpstreams(settings, credentials, call)

        self.process: GatewayProcess | ServiceProcess
        if part == "gateway":
            self.process = GatewayProcess(settings, connect)
        else:
            self.process = ServiceProcess(settings, part, connect)
        self.host: Host = self.process.host
        bus = self.host.base.bus
        self.bus = bus if isinstance(bus, SnsSqsBus) else None
        # Lifespan off: start-up is ours (no migrations, no background tasks).
        self.asgi = Mangum(self.process, lifespan="off")
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        host = self.host
        for service in host.services.values():
            service.wire()
            host.base.jobs.add(Job(f"{service.name}-{SWEEP}", 60.0, self.drain))
        await host.base.cache.start()
        for service in host.services.values():
            for hook in service.service.on_start:
                await hook()
        if host.gateway is not None:
            await host.gateway.start(background=False)
        host.started = True
        # As in `Host.start`: long-lived start-up objects are never scanned again.
        gc.collect()
        gc.freeze()

    # Invocations

    def http(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """An API Gateway HTTP API (v2) event, from API Gateway or from the gateway's Invoke."""
        self.loop.run_until_complete(self.host.base.jobs.run_due())
        try:
            answer: dict[str, Any] = self.asgi(event, context)
        finally:
            self.loop.run_until_complete(self._drain_quietly())
        return answer

    def sqs(self, event: dict[str, Any]) -> dict[str, Any]:
        """An SQS batch from the queue(s) of this service: each event applied once, failures
        retried after their back-off or dead-lettered, and reported as partial batch failures."""
        return self.loop.run_until_complete(self._sqs(event))

    async def _sqs(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.bus is None:
            raise RuntimeError("SQS batches need bus_url sns-sqs://…")
        await self.host.base.jobs.run_due()
        failures: list[str] = []
        by_queue: dict[str, list[Received]] = {}
        for record in event.get("Records", []):
            queue = self.bus.queue_of(record.get("eventSourceARN", ""))
            if queue is None:
                log.error("%s has no subscription for %s", self.part, record.get("eventSourceARN"))
                failures.append(record["messageId"])
            else:
                by_queue.setdefault(queue, []).append(Received.from_lambda(record))
        for queue, received in by_queue.items():
            try:
                outcome = await self.bus.settle(queue, received)
            except Exception:
                log.exception("could not settle a batch of %s", queue)
                failures.extend(r.message_id for r in received)
            else:
                failures.extend(r.message_id for r in [*outcome.failed, *outcome.not_started])
        await self._drain_quietly()
        return {"batchItemFailures": [{"itemIdentifier": f} for f in failures]}

    def job(self, event: dict[str, Any]) -> dict[str, Any]:
        """An EventBridge Scheduler invocation whose input names the job: {"job": "<name>"}."""
        name = event.get("job")
        jobs = self.host.base.jobs
        if not isinstance(name, str) or name not in jobs.names:
            raise ValueError(f"no job {name!r} in {self.part}; known: {sorted(jobs.names)}")

        async def run() -> object:
            try:
                return await jobs.run(name)
            finally:
                await self._drain_quietly()

        result = self.loop.run_until_complete(run())
        return {"job": name, "result": result if isinstance(result, int | str | None) else None}

    async def drain(self) -> int:
        """Publish what this invocation wrote: outboxes, telemetry, request records."""
        published = 0
        for service in self.host.services.values():
            await service.telemetry.flush()
            published += await service.relay.flush()
        if self.host.gateway is not None:
            await self.host.gateway.recorder.flush()
        return published

    async def _drain_quietly(self) -> None:
        # What is left (the bus unreachable) stays in the outbox for the sweeper's next run.
        try:
            await self.drain()
        except Exception:
            log.exception("could not publish after the invocation; the sweeper will")
