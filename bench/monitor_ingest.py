"""Monitor ingest throughput: request records through the monitor's batch handler.

Builds the monitor service alone on a fresh temporary data directory (SQLite, as embedded),
feeds its `gateway.request` batch handler batches of realistic records for a bounded time,
then folds them into the roll-ups, and prints events/s for each and for both together (they
share SQLite's one writer), and the CPU each costs per event (the process's, SQLite's thread
included: robust to what else the machine runs, unlike events/s). Run:
`python -m bench.monitor_ingest [--seconds 10] [--batch 1000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from clearway.contracts.gateway import GatewayRequest
from clearway.kit.bus import CloudEvent, telemetry
from clearway.kit.bus.events import batch
from clearway.runtime.foundation import Foundation
from clearway.runtime.service_host import ServiceHost
from clearway.settings import Settings

DEFAULT_BATCH = telemetry.MAX_BATCH  # events per envelope, as the gateway publishes them
ROUTES = [
    ("GET", "/api/identity/me"),
    ("GET", "/api/rules/requirements"),
    ("GET", "/api/rules/search"),
    ("POST", "/api/orders"),
    ("GET", "/api/orders/{order_id}"),
    ("POST", "/api/identity/login"),
]
STATUSES = [200] * 90 + [201] * 3 + [404] * 3 + [401, 403, 429, 500]


FIELDS = tuple(GatewayRequest.model_fields)


def records(count: int, users: list[str]) -> list[tuple[Any, ...]]:
    """Rows of `gateway.request` events, as the gateway's telemetry sends them."""
    now = time.time()
    rows = []
    for _ in range(count):
        method, route = random.choice(ROUTES)
        user = random.choice(users)
        data: dict[str, Any] = {
            "route": route,
            "method": method,
            "status": random.choice(STATUSES),
            "latency_ms": round(random.lognormvariate(1.5, 0.8), 3),
            "role": "customer",
            "user_id": user,
            "client": "198.51.100.23",
            "request_id": uuid.uuid4().hex,
        }
        rows.append((now, *[data[name] for name in FIELDS]))
    return rows


def envelope(rows: list[tuple[Any, ...]]) -> CloudEvent:
    """A batch of `rows`, its events' ids new."""
    return batch("/bench", GatewayRequest.TYPE, FIELDS, rows)


class _NoCalls:
    async def get_json(self, service: str, path: str, caller: Any = None) -> Any:
        raise RuntimeError("the monitor bench calls no service")


async def run(seconds: float, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="clearway-bench-monitor-") as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=Path(tmp), root_secret="bench-root-secret-0123456789abcdef"
        )
        host = ServiceHost("monitor", Foundation(settings), _NoCalls())
        service, db = host.service, host.context.db
        await host.migrate()
        handler = service.batch_subscriptions[0].handler
        fold = next(job.run for job in service.jobs if job.name == "monitor-fold")
        users = [uuid.uuid4().hex for _ in range(200)]
        # Build batches ahead of time: measure the handler, not the generator.
        batches = [records(batch, users) for _ in range(20)]
        ingested, started, deadline = 0, time.perf_counter(), time.perf_counter() + seconds
        cpu = time.process_time()
        round_ = 0
        while time.perf_counter() < deadline:
            rows = batches[round_ % len(batches)]
            await handler([envelope(rows)])  # a new envelope: new ids, or the handler skips them
            ingested += len(rows)
            round_ += 1
        ingest_seconds = time.perf_counter() - started
        ingest_cpu = time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        await fold()
        fold_seconds = time.perf_counter() - started
        fold_cpu = time.process_time() - cpu
        await db.dispose()
    return {
        "events": ingested,
        "ingest_per_second": ingested / ingest_seconds,
        "fold_per_second": ingested / fold_seconds,
        # Both share the one SQLite writer: what the monitor sustains end to end.
        "sustained_per_second": ingested / (ingest_seconds + fold_seconds),
        "ingest_cpu_us": ingest_cpu / ingested * 1e6,
        "fold_cpu_us": fold_cpu / ingested * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to ingest")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="events per batch")
    args = parser.parse_args()
    result = asyncio.run(run(args.seconds, args.batch))
    print(
        f"monitor ingest: {result['events']:.0f} events,"
        f" {result['ingest_per_second']:,.0f} events/s ingested (batches of {args.batch}),"
        f" {result['fold_per_second']:,.0f} events/s folded into roll-ups;"
        f" sustained {result['sustained_per_second']:,.0f} events/s;"
        f" CPU µs per event: {result['ingest_cpu_us']:.1f} ingesting,"
        f" {result['fold_cpu_us']:.1f} folding"
    )


if __name__ == "__main__":
    main()
