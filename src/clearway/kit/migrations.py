"""Versioned migrations per service (Alembic), applied at start.

Every service keeps its revisions in its own `migrations/` folder; they share one Alembic
environment (`kit/alembic/env.py`) so a service only writes revisions, never plumbing.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from sqlalchemy import Connection, text

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
    """Bring the service's database to its newest revision.

    The version table (`alembic_version`) lives in the service's own database or schema. The
    whole upgrade is one transaction: on SQLite under the writer's lock, on PostgreSQL (whose
    DDL is transactional) under an advisory lock, so processes starting together take turns
    and the later ones find the work done.
    """

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(versions, connection), "heads")

    async with db.writer.connect() as connection:
        if not db.is_sqlite:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"clearway-migrate-{db.service}"},
            )
            if db.schema and not await connection.scalar(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": db.schema}
            ):
                await connection.execute(text(f'CREATE SCHEMA "{db.schema}"'))
        await connection.run_sync(upgrade)
        await connection.commit()


def create_kit_tables() -> None:
    """The kit's tables (outbox, inbox, data keys) as every service's first revision made them.

    Frozen like any revision: a later change to a kit table gets a revision of its own in each
    service, and this stays as it is.
    """
    op.create_table(
        "data_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("master_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_data_keys_subject"), "data_keys", ["subject"], unique=False)
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_index(op.f("ix_inbox_processed_at"), "inbox", ["processed_at"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        sqlite_autoincrement=True,
    )
