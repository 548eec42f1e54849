"""Behind RDS Proxy (or PgBouncer in transaction mode) the statement caches are off."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from clearway.kit.db import Database
from clearway.runtime.platform import Platform
from tests.conftest import POSTGRES_ADMIN_URL, postgres, test_settings

APP_URL = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://")


async def cache_sizes(db: Database) -> tuple[int, int]:
    """(asyncpg's statement cache, SQLAlchemy's prepared statement cache) of a live connection."""
    async with db.writer.connect() as connection:
        await connection.execute(text("SELECT 1"))
        raw = await connection.get_raw_connection()
        adapted = raw.dbapi_connection
        asyncpg_connection = raw.driver_connection
        return (
            asyncpg_connection._stmt_cache.get_max_size(),  # type: ignore[union-attr]
            0
            if adapted._prepared_statement_cache is None
            else adapted._prepared_statement_cache.capacity,
        )


async def test_statement_caches_off_behind_a_proxy_postgresql() -> None:
    postgres.check()
    cached = Database("orders", APP_URL)
    uncached = Database("orders", APP_URL, statement_cache=False)
    try:
        on = await cache_sizes(cached)
        off = await cache_sizes(uncached)
    finally:
        await cached.dispose()
        await uncached.dispose()
    assert on[0] > 0 and on[1] > 0
    assert off == (0, 0)


def test_the_setting_reaches_every_service_database(tmp_path: Path) -> None:
    """Only the engines are built here: nothing connects."""
    settings = test_settings(
        tmp_path, database_url=APP_URL + "_{service}", database_statement_cache=False
    )
    platform = Platform(settings)
    for name, host in platform.hosted.items():
        url = host.context.db.writer.url
        assert url.query.get("prepared_statement_cache_size") == "0", name
