"""rules: markets, HS nomenclature, product categories, requirements and their versions,
search, self-checks and checklists, rule files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clearway.kit.db import Database
from clearway.kit.service import Job, Service, ServiceContext, serve_routes, service_api
from clearway.services.rules.api import routers
from clearway.services.rules.checklists import Checklists
from clearway.services.rules.events import rule_changes
from clearway.services.rules.questions import Questions
from clearway.services.rules.rule_files import RuleFiles
from clearway.services.rules.rule_versions import RuleVersions
from clearway.services.rules.snapshot import RuleSnapshot

MIGRATIONS = Path(__file__).parent / "migrations"
REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class Parts:
    """The service's pieces on one database: the snapshot searches read, and the use cases
    that write (the service builds them once per process, a CLI command once per run)."""

    db: Database
    snapshot: RuleSnapshot
    versions: RuleVersions
    questions: Questions
    files: RuleFiles
    checklists: Checklists


def assemble(db: Database) -> Parts:
    snapshot = RuleSnapshot(db)
    versions = RuleVersions(db, snapshot)
    questions = Questions(db, snapshot)
    files = RuleFiles(db, snapshot, versions, questions)
    return Parts(db, snapshot, versions, questions, files, Checklists(db, snapshot))


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

    async def start() -> None:
        await snapshot.reload()
        if await snapshot.is_empty():
            await parts.files.load_shipped()

    async def refresh() -> None:
        await snapshot.refresh_if_changed()

    return Service(
        name="rules",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=[rule_changes(snapshot, context.cache)],
        # Competing consumers of one queue each see only some events: a cheap check catches up.
        jobs=[Job("rules-refresh-snapshot", REFRESH_SECONDS, refresh, every_process=True)],
        on_start=[start],
        on_stop=[snapshot.stop],
    )
