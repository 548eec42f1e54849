"""rules: markets, HS nomenclature, product categories, requirements and their versions,
search, self-checks and checklists, rule files."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.rules import RulePublished, RuleRetired, RuleVersionEvent
from clearway.kit.bus import subscribe
from clearway.kit.service import Job, Service, ServiceContext, serve_routes, service_api
from clearway.services.rules.api import build_router
from clearway.services.rules.checklists import Checklists
from clearway.services.rules.domain.files import read_rule_files
from clearway.services.rules.domain.model import SYSTEM
from clearway.services.rules.store import RuleStore, rule_files

log = logging.getLogger("clearway.rules")

MIGRATIONS = Path(__file__).parent / "migrations"
REFRESH_SECONDS = 5.0


SNAPSHOT_KEY = "snapshot"


def create(context: ServiceContext) -> Service:
    store = RuleStore(context.db)
    api = service_api(
        "rules",
        "Clearway rules",
        "Markets, HS nomenclature, requirements and their versions, search and self-checks.",
    )
    serve_routes(api, build_router(store, context.telemetry, Checklists(context.db, store)))
    api.state.store = store  # for tests: its snapshot, and the clock its kept answers go by

    async def start() -> None:
        await store.reload()
        if await store.is_empty():
            await load_shipped(store)

    async def on_rules_changed(event: RuleVersionEvent, session: AsyncSession) -> None:
        # Published here or in another process (the CLI, another worker): rebuild the snapshot,
        # and have every other rules process rebuild theirs (each event reaches only one).
        store.invalidate()
        await context.cache.publish("rules", SNAPSHOT_KEY)

    context.cache.subscribe("rules", lambda key: store.invalidate())

    async def refresh() -> None:
        await store.refresh_if_changed()

    return Service(
        name="rules",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=[subscribe((RulePublished, RuleRetired), on_rules_changed)],
        # Competing consumers of one queue each see only some events: a cheap check catches up.
        jobs=[Job("rules-refresh-snapshot", REFRESH_SECONDS, refresh, every_process=True)],
        on_start=[start],
        on_stop=[store.stop],
    )


async def load_shipped(store: RuleStore) -> int:
    """The rule base shipped with the project, imported on first start."""
    sources = [(p.name, p.read_bytes(), "yaml") for p in rule_files(store.shipped)]
    files = read_rule_files(sources, store.catalogs)  # type: ignore[arg-type]
    plan = await store.import_files(SYSTEM, files, dry_run=False)
    log.info("loaded the shipped rule base: %d rules", len(plan))
    return len(plan)
