"""monitor: request and activity records, search statistics, roll-ups, the audit trail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from clearway.contracts import MONITORED, TELEMETRY
from clearway.kit.bus import subscribe
from clearway.kit.service import (
    BatchSubscription,
    Job,
    Service,
    ServiceContext,
    serve_routes,
    service_api,
)
from clearway.services.monitor.api import build_router
from clearway.services.monitor.audit import AuditTrail, audit_mac, client_pseudonym
from clearway.services.monitor.ingest import Ingest
from clearway.services.monitor.metrics import MonitorMetrics
from clearway.services.monitor.stats import Statistics

log = logging.getLogger("clearway.monitor")

MIGRATIONS = Path(__file__).parent / "migrations"
# Envelopes per delivery: each carries up to `kit.bus.telemetry.MAX_BATCH` records.
MAX_ENVELOPES = 8
FOLD_SECONDS = 10.0
CHECKPOINT_SECONDS = 300.0
RETENTION_SECONDS = 3600.0


def create(context: ServiceContext) -> Service:
    settings = context.settings
    metrics = MonitorMetrics()
    audit = AuditTrail(context.db, audit_mac(context.blind_index))
    ingest = Ingest(context.db, audit, client_pseudonym(context.blind_index), metrics)
    stats = Statistics(context.db)
    api = service_api(
        "monitor", "Clearway monitor", "Request statistics, activity, search statistics, audit."
    )
    serve_routes(api, build_router(stats, audit, metrics))

    async def clean_up() -> dict[str, int]:
        removed = await stats.clean(
            datetime.now(UTC),
            settings.monitor_raw_retention_days,
            settings.monitor_rollup_retention_days,
        )
        for table, count in removed.items():
            metrics.retention_removed.labels(table).inc(count)
        log.info("retention clean-up", extra={"removed": removed})
        return removed

    return Service(
        name="monitor",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=[subscribe(MONITORED, ingest.domain_event)],
        batch_subscriptions=[BatchSubscription(TELEMETRY, ingest.batch, MAX_ENVELOPES)],
        jobs=[
            Job("monitor-fold", FOLD_SECONDS, stats.fold),
            Job("monitor-audit-checkpoint", CHECKPOINT_SECONDS, audit.checkpoint),
            Job("monitor-retention", RETENTION_SECONDS, clean_up),
        ],
    )
