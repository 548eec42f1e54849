"""Transactional outbox: an event is written in the same transaction as the change it announces.

If the transaction rolls back the event never existed; if it commits, the relay publishes it
to the bus sooner or later, even across crashes. A crash between publishing and deleting the row
publishes it again, which consumers absorb by de-duplicating on the event id (see `inbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from clearway.kit.bus.bus import Publisher
from clearway.kit.bus.contract import Event
from clearway.kit.bus.events import CloudEvent
from clearway.kit.db import Database
from clearway.kit.tables import metadata

log = logging.getLogger(__name__)

outbox = Table(
    "outbox",
    metadata,
    # A plain INTEGER primary key is SQLite's rowid; AUTOINCREMENT keeps it from being reused.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("type", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

BATCH = 500
_PUBLISHED = "clearway.outbox.published"
_relays: dict[Engine, set[OutboxRelay]] = {}


async def publish(session: AsyncSession, event: Event | CloudEvent) -> None:
    """Add the event to the caller's transaction; it reaches the bus only if that commits."""
    if isinstance(event, Event):
        event = event.to_cloudevent()
    await session.execute(
        insert(outbox).values(
            event_id=event.id,
            type=event.type,
            payload=event.to_json(),
            created_at=datetime.now(UTC),
        )
    )
    session.info[_PUBLISHED] = True


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    # Publishing right after the commit keeps latency low without every caller having to remember.
    if session.info.pop(_PUBLISHED, False):
        bind = session.get_bind()
        engine = bind.engine if isinstance(bind, Connection) else bind
        for relay in _relays.get(engine, ()):
            relay.wake()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PUBLISHED, None)


class OutboxRelay:
    """Moves committed events from a service's outbox to the bus, in order, in batches."""

    def __init__(self, db: Database, bus: Publisher, *, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.bus = bus
        self.poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            _relays.setdefault(self.db.writer.sync_engine, set()).add(self)
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.db.service}")

    def wake(self) -> None:
        """Publish now rather than at the next poll (an event was just committed)."""
        self._wakeup.set()

    async def stop(self) -> None:
        """Stop the background task, then publish everything still in the outbox.

        Stop relays before the bus they publish to, so this last flush still has somewhere to go.
        """
        if self._task is not None:
            _relays.get(self.db.writer.sync_engine, set()).discard(self)
            # Not cancelled: a batch cut short after publishing would be published twice.
            self._stopping = True
            self._wakeup.set()
            await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> int:
        """Publish until the outbox is empty; return how many events were published."""
        total = 0
        while moved := await self._relay_batch():
            total += moved
        return total

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                if await self._relay_batch() == BATCH:
                    continue
            except Exception:
                # The bus or the database is unavailable: keep the events and try again later.
                log.exception("outbox relay of %s failed; retrying", self.db.service)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.poll_seconds)

    async def _relay_batch(self) -> int:
        # The lock keeps `flush` and the background task from publishing the same rows twice.
        async with self._lock:
            async with self.db.read() as session:
                rows = (
                    await session.execute(
                        select(outbox.c.seq, outbox.c.payload).order_by(outbox.c.seq).limit(BATCH)
                    )
                ).all()
            if not rows:
                return 0
            await self.bus.publish_many([CloudEvent.from_json(row.payload) for row in rows])
            # Delete by the exact rows published: on PostgreSQL a lower seq may still commit later.
            async with self.db.transaction() as session:
                await session.execute(delete(outbox).where(outbox.c.seq.in_([r.seq for r in rows])))
            return len(rows)
