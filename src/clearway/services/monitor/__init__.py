"""monitor: request and activity records, search statistics, roll-ups, the audit trail."""

from __future__ import annotations

from pathlib import Path

from clearway.kit.service import Job, Service, ServiceContext, serve_routes, service_api
from clearway.services.monitor import events
from clearway.services.monitor.api import build_router
from clearway.services.monitor.audit import AuditTrail, audit_mac, client_pseudonym
from clearway.services.monitor.metrics import MonitorMetrics
from clearway.services.monitor.retention import Retention
from clearway.services.monitor.rollups import Rollups
from clearway.services.monitor.statistics import Statistics

MIGRATIONS = Path(__file__).parent / "migrations"
FOLD_SECONDS = 10.0
CHECKPOINT_SECONDS = 300.0
RETENTION_SECONDS = 3600.0


def create(context: ServiceContext) -> Service:
    settings = context.settings
    metrics = MonitorMetrics()
    audit = AuditTrail(context.db, audit_mac(context.blind_index))
    ingest = events.Ingest(context.db, audit, client_pseudonym(context.blind_index), metrics)
    rollups = Rollups(context.db)
    retention = Retention(
        context.db,
        rollups,
        metrics,
        settings.monitor_raw_retention_days,
        settings.monitor_rollup_retention_days,
    )
    api = service_api(
        "monitor", "Clearway monitor", "Request statistics, activity, search statistics, audit."
    )
    serve_routes(api, build_router(Statistics(context.db, rollups), audit, metrics))
    return Service(
        name="monitor",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=events.subscriptions(ingest),
        batch_subscriptions=events.batch_subscriptions(ingest),
        jobs=[
            Job("monitor-fold", FOLD_SECONDS, rollups.fold),
            Job("monitor-audit-checkpoint", CHECKPOINT_SECONDS, audit.checkpoint),
            Job("monitor-retention", RETENTION_SECONDS, retention.run),
        ],
    )
