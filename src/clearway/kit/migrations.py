"""Versioned migrations per service (Alembic), applied at start.

Every service keeps its revisions in its own `migrations/` folder; they share one Alembic
environment (`kit/alembic/env.py`) so a service only writes revisions, never plumbing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from clearway.kit.db import Database

ENVIRONMENT = Path(__file__).parent / "alembic"


def alembic_config(versions: Path, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ENVIRONMENT))
    config.set_main_option("version_locations", str(versions))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


async def migrate(db: Database, versions: Path) -> None:
    """Bring the service's database to its newest revision."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(versions, connection), "heads")

    async with db.writer.connect() as connection:
        await connection.run_sync(upgrade)
        await connection.commit()
