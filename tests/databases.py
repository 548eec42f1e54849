"""The engines under the services in tests: SQLite, and PostgreSQL databases made and dropped
per test, and SQL run on a service's database from outside the platform.

A pytest plugin (`pytest_plugins` in `tests/conftest.py`): it parametrizes the service suites
over both engines and cleans up the databases their platforms used.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from clearway.settings import SERVICES, Settings

# Every service suite runs on both engines: its tests that use the `database` fixture (through
# `seeded_data_dir`, `settings`, `platform`, `api`, `shared_api`) are parametrized over `sqlite`
# and `postgresql`; deselect one with `-k "not postgresql"`.
# Each platform on PostgreSQL gets five fresh databases `cw_<session>_<n>_<service>`, cloned
# (CREATE DATABASE … TEMPLATE, a file copy) from templates that the session's first start
# migrated and seeded with the same key store as the seeded data directory.

ENGINES = ("sqlite", "postgresql")
SERVICE_SUITES = ("identity", "rules", "orders", "monitor", "gateway", "security", "common")
TESTS = Path(__file__).parent
# A superuser connection to the server that holds the test databases (CI starts PostgreSQL).
POSTGRES_ADMIN_URL = os.environ.get(
    "CLEARWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_MARKER = "postgres.json"
# Databases of sessions older than this are leftovers of a crashed run (younger ones may belong
# to a session running alongside this one).
STALE_AFTER_SECONDS = 3600
T = TypeVar("T")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        path = metafunc.definition.path
        suite = path.relative_to(TESTS).parts[0]
        if suite in SERVICE_SUITES or path.parent == TESTS:
            metafunc.parametrize("database", ENGINES, indirect=True, scope="session")


@pytest.fixture(scope="session")
def database(request: pytest.FixtureRequest) -> str:
    """The engine under the services: `sqlite` (the default outside the service suites) or
    `postgresql`."""
    return str(getattr(request, "param", "sqlite"))


class Postgres:
    """Creates and drops the session's databases through a superuser connection.

    Tests call it from inside and outside event loops, so it works on a thread of its own; drops
    wait for a checkpoint, so they run in the background (drops share a checkpoint when
    concurrent) and the session waits for them at the end.
    """

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.session = f"cw_{int(time.time())}_{secrets.token_hex(2)}"
        self._count = 0
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="postgres-admin")
        self._dropper = ThreadPoolExecutor(1, thread_name_prefix="postgres-drop")
        self._drops: list[Future[None]] = []
        self.created: list[str] = []  # name templates (`…_{service}`), in order of creation
        self.templates: list[str] = []  # the seeds', kept until the end of the session
        self._checked = False
        self._unreachable = ""

    def app_url(self, name: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{name}"

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to its end on the admin thread (callers may be inside a loop)."""
        return self._worker.submit(asyncio.run, work).result()

    async def _execute(self, *statements: str) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            rows: list[asyncpg.Record] = []
            for statement in statements:
                rows = await connection.fetch(statement)
            return rows
        finally:
            await connection.close()

    async def _each(self, statements: list[str]) -> None:
        """One statement per connection, all at once (CREATE and DROP DATABASE take no lists)."""
        await asyncio.gather(*(self._execute(statement) for statement in statements))

    def check(self) -> None:
        """Fail, with what to do, when the server is not there; clear leftovers of old runs."""
        if not self._checked:
            self._checked = True
            try:
                rows = self.run(self._execute("SELECT datname FROM pg_database"))
            except (OSError, asyncpg.PostgresError) as exc:
                self._unreachable = (
                    f"PostgreSQL is unreachable at {self.admin_url} ({exc!r}). The postgresql "
                    "variants of the service suites need it: start it (pg_ctlcluster 15 main "
                    "start), set CLEARWAY_TEST_POSTGRES_URL to a superuser connection, or "
                    "deselect them with -k 'not postgresql'."
                )
            else:
                cutoff = time.time() - STALE_AFTER_SECONDS
                stale = [
                    row["datname"]
                    for row in rows
                    if (found := re.fullmatch(r"cw_(\d+)_[0-9a-f]{4}_.+", row["datname"]))
                    and int(found.group(1)) < cutoff
                ]
                self.run(self._each([f'DROP DATABASE "{n}" WITH (FORCE)' for n in stale]))
        if self._unreachable:
            pytest.fail(self._unreachable, pytrace=False)

    def create(self, template: str | None = None) -> str:
        """Five new databases, empty or cloned from the `template` set; their URL template."""
        self.check()
        self._count += 1
        prefix = f"{self.session}_{self._count:04d}"
        clone = f' TEMPLATE "{template}"' if template else ""
        self.run(
            self._each(
                [
                    f'CREATE DATABASE "{prefix}_{service}"{clone.replace("{service}", service)}'
                    for service in SERVICES
                ]
            )
        )
        self.created.append(f"{prefix}_{{service}}")
        return f"{prefix}_{{service}}"

    def databases_for(self, data_dir: Path) -> str:
        """The database URL of a data directory copied from a seed: cloned on first use."""
        marker = data_dir / POSTGRES_MARKER
        recorded: dict[str, str] = json.loads(marker.read_text())
        if "url" not in recorded:
            recorded = {"url": self.app_url(self.create(recorded["template"]))}
            marker.write_text(json.dumps(recorded))
        return recorded["url"]

    def drop(self, names: list[str]) -> None:
        statements = [
            f'DROP DATABASE IF EXISTS "{name.replace("{service}", service)}" WITH (FORCE)'
            for name in names
            for service in SERVICES
        ]
        if statements:
            self._drops.append(self._dropper.submit(asyncio.run, self._each(statements)))

    def close(self) -> None:
        if self._checked and not self._unreachable:
            self.drop(self.created + self.templates)
            self.created = []
        for future in self._drops:
            future.result()
        self._worker.shutdown()
        self._dropper.shutdown()


postgres = Postgres(POSTGRES_ADMIN_URL)


@pytest.fixture(scope="session", autouse=True)
def _postgres_session() -> Iterator[None]:
    yield
    postgres.close()


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """Drop the databases that platforms started during this test used (not those of wider
    fixtures, set up before it; whatever is left goes at the end of the session)."""
    before = len(postgres.created)
    yield
    postgres.drop(postgres.created[before:])
    del postgres.created[before:]


def run_sql(
    settings: Settings, service: str, statements: Sequence[tuple[str, Sequence[Any]]]
) -> list[tuple[Any, ...]]:
    """Run statements (`?` placeholders) in one transaction on a service's database, from
    outside the platform (as someone with access to the database would); the last one's rows.

    Timestamps come back as `datetime` on PostgreSQL and as text on SQLite.
    """
    url = make_url(settings.database_url_for(service))
    if url.get_backend_name() == "sqlite":
        with closing(sqlite3.connect(str(url.database), timeout=10)) as db, db:
            rows: list[tuple[Any, ...]] = []
            for statement, parameters in statements:
                rows = db.execute(statement, [_sqlite_value(p) for p in parameters]).fetchall()
            return rows
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            # The caller blocks its event loop: never wait forever for a lock the platform holds.
            await connection.execute("SET lock_timeout = '10s'")
            async with connection.transaction():
                rows: list[tuple[Any, ...]] = []
                for statement, parameters in statements:
                    sql = _numbered(statement)
                    rows = [tuple(row) for row in await connection.fetch(sql, *parameters)]
                return rows
        finally:
            await connection.close()

    return postgres.run(run())


def query_sql(settings: Settings, service: str, statement: str, *parameters: Any) -> list[Any]:
    """One statement's rows (see `run_sql`)."""
    return run_sql(settings, service, [(statement, parameters)])


def database_contents(settings: Settings, service: str) -> bytes:
    """Every value in every table of a service's database: bytes as they are, the rest as
    UTF-8 text (what reading the database, rather than its files, exposes)."""
    if make_url(settings.database_url_for(service)).get_backend_name() == "sqlite":
        catalog = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        catalog = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    values = [
        value
        for (table,) in query_sql(settings, service, catalog)
        for row in query_sql(settings, service, f'SELECT * FROM "{table}"')
        for value in row
        if value is not None
    ]
    return b"\0".join(v if isinstance(v, bytes) else str(v).encode() for v in values)


def _numbered(statement: str) -> str:
    """`?` placeholders as PostgreSQL's `$1`, `$2`, …"""
    first, *rest = statement.split("?")
    return first + "".join(f"${number}{part}" for number, part in enumerate(rest, 1))


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy keeps timestamps on SQLite as naive UTC text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value
