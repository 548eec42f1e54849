"""rules: markets, HS nomenclature, product categories, requirements and their versions,
search, self-checks and checklists, rule files."""

from __future__ import annotations

from pathlib import Path

from clearway.kit.service import Job, Service, ServiceContext, serve_routes, service_api
from clearway.services.rules.api import routers
from clearway.services.rules.events import rule_changes
from clearway.services.rules.parts import assemble

MIGRATIONS = Path(__file__).parent / "migrations"
REFRESH_SECONDS = 5.0


def create(context: ServiceContext) -> Service:
    parts = assemble(context.db)
    snapshot = parts.snapshot
    api = service_api(
        "rules",
        "Clearway rules",
        "Markets, HS nomenclature, requirements and their versions, search and self-checks.",
    )
    serve_routes(
        api,
        *routers(
            snapshot,
            parts.versions,
            parts.questions,
            parts.files,
            parts.checklists,
            context.telemetry,
        ),
    )

    return Service(
        name="rules",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=[rule_changes(snapshot, context.cache)],
        # Competing consumers of one queue each see only some events: a cheap check catches up.
        jobs=[
            Job(
                "rules-refresh-snapshot",
                REFRESH_SECONDS,
                snapshot.refresh_if_changed,
                every_process=True,
            )
        ],
        on_start=[parts.start],
        on_stop=[snapshot.stop],
    )
