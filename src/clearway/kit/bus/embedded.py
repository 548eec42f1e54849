"""The embedded bus: durable queues in one SQLite file, so Clearway needs nothing else installed.

Every call runs on one worker thread that owns the connection, so the event loop never waits on
SQLite (or on another process holding its write lock). The file uses WAL with synchronous=FULL:
once `publish_many` returns, the events survive SIGKILL and power loss.

Several processes may open the same file and consume the same queue: a consumer claims messages
with a lease, and a message whose consumer died is delivered again once its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import ParamSpec, TypeVar

from clearway.kit.bus.bus import (
    DeadLetter,
    QueueSubscription,
    Subscribing,
    describe_error,
    gives_up,
    matching_queues,
    retry_delay,
)
from clearway.kit.bus.events import CloudEvent
from clearway.kit.owner_only import owner_only_file
from clearway.settings import Settings

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

FILENAME = "bus.db"
SCHEMA_VERSION = 2
# Finding expired leases must not scan a queue's backlog: leased messages are a few batches,
# queued ones can be millions. (Version 2 added this index; version 1 files get it on open.)
LEASED_INDEX = (
    "CREATE INDEX messages_leased ON messages (queue, leased_until) WHERE leased_until IS NOT NULL"
)
SCHEMA = f"""
CREATE TABLE subscriptions (
    queue TEXT NOT NULL,
    pattern TEXT NOT NULL,
    PRIMARY KEY (queue, pattern)
) WITHOUT ROWID;
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    leased_until REAL,
    last_error TEXT,
    failed_at REAL,
    dead INTEGER NOT NULL DEFAULT 0,
    UNIQUE (queue, event_id)
);
CREATE INDEX messages_by_queue ON messages (queue, dead, id);
{LEASED_INDEX};
"""
UPGRADES = {1: LEASED_INDEX}
# AUTOINCREMENT: a dead letter's id, shown to an operator, never comes to mean another message.

LEASE_EXPIRED = "lease expired after the last attempt (did the consumer crash?)"


@dataclass(slots=True)
class _Claim:
    """Messages leased to this process; `lease` (their leased_until) proves they still are."""

    lease: float
    messages: list[tuple[int, int, bytes]]  # id, attempts including this one, payload


@dataclass(slots=True)
class _Pending:
    """Events from concurrent `publish_many` calls, committed together in one transaction."""

    rows: list[tuple[str, str, bytes]] = field(default_factory=list)
    queues: set[str] | None = None  # set once committed


@dataclass(slots=True)
class _Outcome:
    done: list[int] = field(default_factory=list)
    # id, attempts, error, whether it is dead (no retry left, or never deliverable)
    failed: list[tuple[int, int, str, bool]] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, so a transaction never fails half-way to upgrade.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class EmbeddedBus(Subscribing):
    """A `Bus` on a SQLite file.

    `lease_seconds` is how long a crashed consumer's messages wait before they are redelivered;
    it must exceed the time one claim takes to handle (up to `prefetch` events one by one, or
    one batch), or a slow consumer's messages are delivered twice. A delivery cut short by a
    crash counts as an attempt, so an event that kills its consumer still ends up dead.
    `async with` opens the bus for administration (dead letters, replay) without consuming.
    """

    def __init__(
        self,
        path: Path,
        max_attempts: int,
        retry_base_seconds: float,
        *,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        prefetch: int = 32,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.path = path
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.prefetch = prefetch
        self._subscriptions: dict[str, QueueSubscription] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clearway-bus")
        self._conn: sqlite3.Connection | None = None
        self._pending = _Pending()
        self._publish_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedBus:
        return cls(
            settings.resolved_data_dir / FILENAME,
            settings.bus_max_attempts,
            settings.bus_retry_base_seconds,
        )

    # Subscribing and consuming

    async def start(self) -> None:
        """Record the subscriptions, then consume. Start before any publisher of their events."""
        self._refuse_restart()
        subscriptions = [(s.queue, s.topics) for s in self._subscriptions.values()]
        await self._call(self._record_subscriptions, subscriptions)
        self._start_consumers()

    async def stop(self) -> None:
        """Let in-flight handlers finish, hand back unstarted messages, close the file for good."""
        if not await self._stop_consumers():
            return
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown()

    async def _consume(self, subscription: QueueSubscription) -> None:
        while not self._stopping:
            subscription.wakeup.clear()
            try:
                claim, next_due = await self._call(
                    self._claim, subscription.queue, subscription.limit
                )
                if claim is None:
                    wait = min(self.poll_seconds, max(0.0, next_due - time.time()))
                    with suppress(TimeoutError):
                        await asyncio.wait_for(subscription.wakeup.wait(), wait)
                    continue
                outcome = await self._deliver(subscription, claim)
                await self._call(self._settle, claim.lease, outcome)
            except Exception:
                # The file is locked or unavailable; leases hand our messages back if this lasts.
                log.exception("consumer of queue %s failed; retrying", subscription.queue)
                await asyncio.sleep(self.poll_seconds)

    async def _deliver(self, subscription: QueueSubscription, claim: _Claim) -> _Outcome:
        outcome = _Outcome()
        if self._stopping:
            outcome.released.extend(message_id for message_id, _, _ in claim.messages)
            return outcome
        events: list[tuple[int, int, CloudEvent]] = []
        for message_id, attempts, payload in claim.messages:
            try:
                events.append((message_id, attempts, CloudEvent.from_json(payload)))
            except ValueError as error:
                outcome.failed.append(self._failure(message_id, attempts, error))
        if subscription.batch_handler is not None:
            if events:
                try:
                    await subscription.batch_handler([event for _, _, event in events])
                    outcome.done.extend(message_id for message_id, _, _ in events)
                except Exception as error:
                    log.warning("batch handler of %s failed", subscription.queue, exc_info=True)
                    outcome.failed.extend(
                        self._failure(i, attempts, error) for i, attempts, _ in events
                    )
            return outcome
        assert subscription.handler is not None
        for position, (message_id, attempts, event) in enumerate(events):
            if self._stopping:
                outcome.released.extend(message_id for message_id, _, _ in events[position:])
                break
            try:
                await subscription.handler(event)
                outcome.done.append(message_id)
            except Exception as error:
                log.warning(
                    "handler of %s failed on %s", subscription.queue, event.id, exc_info=True
                )
                outcome.failed.append(self._failure(message_id, attempts, error))
        return outcome

    def _failure(
        self, message_id: int, attempts: int, error: BaseException
    ) -> tuple[int, int, str, bool]:
        dead = gives_up(error, attempts, self.max_attempts)
        return message_id, attempts, describe_error(error), dead

    # Publishing and administration

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        if not events:
            return
        # Group commit: calls arriving while a transaction runs share the next one (and its
        # fsync). Each caller returns once its own group is committed; if a group's commit
        # fails, every caller of that group tries it again (inserting twice is harmless).
        pending = self._pending
        pending.rows.extend((event.id, event.type, event.to_json()) for event in events)
        async with self._publish_lock:
            if pending.queues is None:
                if pending is self._pending:
                    self._pending = _Pending()
                pending.queues = await self._call(self._insert, pending.rows)
                for queue in pending.queues:
                    if subscription := self._subscriptions.get(queue):
                        subscription.wakeup.set()

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        rows = await self._call(self._select_dead, queue)
        return [
            DeadLetter(
                id=message_id,
                queue=message_queue,
                event=CloudEvent.from_json(payload),
                attempts=attempts,
                last_error=last_error or "",
                failed_at=datetime.fromtimestamp(failed_at, UTC),
            )
            for message_id, message_queue, payload, attempts, last_error, failed_at in rows
        ]

    async def replay(self, ids: Sequence[int] | None, queue: str | None = None) -> int:
        count = await self._call(self._revive, None if ids is None else list(ids), queue)
        for subscription in self._subscriptions.values():
            subscription.wakeup.set()
        return count

    # Everything below runs on the bus thread.

    async def _call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._closed:
            raise RuntimeError("the bus is stopped")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            owner_only_file(self.path)
            conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            with _immediate(conn):
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif version in UPGRADES:
                    conn.execute(UPGRADES[version])
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif version != SCHEMA_VERSION:
                    raise RuntimeError(
                        f"{self.path}: bus schema {version}, expected {SCHEMA_VERSION}"
                    )
            self._conn = conn
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _record_subscriptions(self, subscriptions: list[tuple[str, tuple[str, ...]]]) -> None:
        conn = self._connection()
        with _immediate(conn):
            for queue, topics in subscriptions:
                conn.execute("DELETE FROM subscriptions WHERE queue = ?", (queue,))
                conn.executemany(
                    "INSERT INTO subscriptions (queue, pattern) VALUES (?, ?)",
                    [(queue, topic) for topic in topics],
                )

    def _insert(self, rows: list[tuple[str, str, bytes]]) -> set[str]:
        conn = self._connection()
        now = time.time()
        with _immediate(conn):
            subscriptions = conn.execute("SELECT queue, pattern FROM subscriptions").fetchall()
            queues_by_type: dict[str, set[str]] = {}
            copies: list[tuple[str, str, str, bytes, float]] = []
            for event_id, event_type, payload in rows:
                queues = queues_by_type.get(event_type)
                if queues is None:
                    queues = queues_by_type[event_type] = matching_queues(subscriptions, event_type)
                copies.extend((queue, event_id, event_type, payload, now) for queue in queues)
            # A republished event (relay crash) is already queued: the copy is not added twice.
            conn.executemany(
                "INSERT INTO messages (queue, event_id, type, payload, available_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (queue, event_id) DO NOTHING",
                copies,
            )
        return set().union(*queues_by_type.values())

    def _claim(self, queue: str, limit: int) -> tuple[_Claim | None, float]:
        """Lease up to `limit` ready messages; with none, say when the next one will be ready."""
        conn = self._connection()
        now = time.time()
        ready = """
            SELECT id, attempts, payload FROM messages
            WHERE queue = ? AND dead = 0 AND available_at <= ?
              AND (leased_until IS NULL OR leased_until < ?)
            ORDER BY id LIMIT ?
        """
        # Look before taking the write lock: idle consumers in many processes poll this often.
        if conn.execute(ready, (queue, now, now, 1)).fetchone() is None:
            (next_due,) = conn.execute(
                "SELECT MIN(MAX(available_at, COALESCE(leased_until, 0))) FROM messages"
                " WHERE queue = ? AND dead = 0",
                (queue,),
            ).fetchone()
            return None, now + self.poll_seconds if next_due is None else next_due
        lease = now + self.lease_seconds
        with _immediate(conn):
            # A message whose consumer died on its last attempt would otherwise loop forever.
            conn.execute(
                "UPDATE messages SET dead = 1, leased_until = NULL, last_error = ?, failed_at = ?"
                " WHERE queue = ? AND dead = 0 AND leased_until < ? AND attempts >= ?",
                (LEASE_EXPIRED, now, queue, now, self.max_attempts),
            )
            rows = conn.execute(ready, (queue, now, now, limit)).fetchall()
            # A message that failed before is delivered alone, so it cannot sink a whole batch.
            fresh = 0
            while fresh < len(rows) and rows[fresh][1] == 0:
                fresh += 1
            rows = rows[: fresh or 1]
            conn.executemany(
                "UPDATE messages SET leased_until = ?, attempts = attempts + 1 WHERE id = ?",
                [(lease, row[0]) for row in rows],
            )
        if not rows:
            return None, now
        return _Claim(lease, [(i, attempts + 1, payload) for i, attempts, payload in rows]), now

    def _settle(self, lease: float, outcome: _Outcome) -> None:
        conn = self._connection()
        now = time.time()
        dead = []
        retry = []
        for message_id, attempts, error, gone in outcome.failed:
            if gone:
                dead.append((error, now, message_id, lease))
            else:
                delay = retry_delay(self.retry_base_seconds, attempts)
                retry.append((now + delay, error, now, message_id, lease))
        # `leased_until = lease` skips a message whose lease ran out and went to someone else.
        with _immediate(conn):
            conn.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in outcome.done])
            conn.executemany(
                "UPDATE messages SET dead = 1, leased_until = NULL, last_error = ?, failed_at = ?"
                " WHERE id = ? AND leased_until = ?",
                dead,
            )
            conn.executemany(
                "UPDATE messages SET available_at = ?, leased_until = NULL, last_error = ?,"
                " failed_at = ? WHERE id = ? AND leased_until = ?",
                retry,
            )
            conn.executemany(
                "UPDATE messages SET attempts = attempts - 1, leased_until = NULL"
                " WHERE id = ? AND leased_until = ?",
                [(i, lease) for i in outcome.released],
            )

    def _select_dead(self, queue: str | None) -> list[tuple[int, str, bytes, int, str, float]]:
        sql = "SELECT id, queue, payload, attempts, last_error, failed_at FROM messages"
        sql += " WHERE dead = 1" + (" AND queue = ?" if queue else "") + " ORDER BY id"
        return self._connection().execute(sql, (queue,) if queue else ()).fetchall()

    def _revive(self, ids: list[int] | None, queue: str | None) -> int:
        conn = self._connection()
        sql = (
            "UPDATE messages SET dead = 0, attempts = 0, available_at = :now, leased_until = NULL,"
            " last_error = NULL, failed_at = NULL WHERE dead = 1"
        )
        if queue is not None:
            sql += " AND queue = :queue"
        parameters = {"now": time.time(), "queue": queue}
        with _immediate(conn):
            if ids is None:
                return conn.execute(sql, parameters).rowcount
            sql += " AND id = :id"
            return sum(conn.execute(sql, {**parameters, "id": i}).rowcount for i in ids)
