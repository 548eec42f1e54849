from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing, suppress
from pathlib import Path

import boto3
import nats
import pytest
from moto import mock_aws
from nats.js.errors import NotFoundError
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import Bus, CloudEvent, EmbeddedBus, NatsBus
from clearway.kit.bus.inbox import inbox
from clearway.kit.bus.outbox import outbox
from clearway.kit.bus.sns_sqs import SnsSqsBus
from clearway.kit.db import Database
from clearway.kit.ids import new_id

# Test-only tables live on their own metadata so the kit's shared one stays clean.
test_metadata = MetaData()
applied = Table(
    "applied",
    test_metadata,
    Column("n", Integer, primary_key=True),
    Column("event_id", String(64), nullable=False),
)


# How long to wait for an asynchronous outcome before failing: generous, so that a machine busy
# with other work never fails a test; a passing test returns as soon as its condition holds.
PATIENCE = 30.0


async def eventually(condition: Callable[[], bool], seconds: float = PATIENCE) -> None:
    """Wait, in short steps, until `condition` holds; fail after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def apply(e: CloudEvent, session: AsyncSession) -> None:
    """A consumer's change: one row per application, so a second one would show."""
    await session.execute(insert(applied).values(event_id=e.id))


async def applied_ids(db: Database) -> list[str]:
    async with db.read() as session:
        return list(await session.scalars(select(applied.c.event_id).order_by(applied.c.n)))


def queued(path: Path, queue: str) -> list[tuple[str, int, int]]:
    """(event_id, attempts, dead) of every message in a queue, read straight from the file."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT event_id, attempts, dead FROM messages WHERE queue = ? ORDER BY id", (queue,)
        ).fetchall()


def event(type: str = "order.created", **data: object) -> CloudEvent:
    return CloudEvent.new("/clearway/test", type, dict(data))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database("orders", f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}")
    async with database.writer.begin() as connection:
        await connection.run_sync(outbox.metadata.create_all, tables=[outbox, inbox])
        await connection.run_sync(test_metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def bus_path(tmp_path: Path) -> Path:
    return tmp_path / "bus.db"


@pytest.fixture
async def bus(bus_path: Path) -> AsyncIterator[EmbeddedBus]:
    embedded = EmbeddedBus(bus_path, max_attempts=3, retry_base_seconds=0.1, poll_seconds=0.2)
    yield embedded
    await embedded.stop()


NATS_URL = os.environ.get("CLEARWAY_TEST_NATS_URL", "nats://127.0.0.1:4222")
START_NATS = (
    "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server --"
    " -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
)


async def jetstream_answers(url: str) -> None:
    connection = await nats.connect(url, connect_timeout=PATIENCE, allow_reconnect=False)
    try:
        await connection.jetstream().account_info()
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The NATS server the tests use; a missing server fails them (CI starts one), never skips."""
    try:
        asyncio.run(asyncio.wait_for(jetstream_answers(NATS_URL), PATIENCE))
    except Exception as error:
        pytest.fail(
            f"NATS with JetStream is not reachable at {NATS_URL} ({error!r}). Start it with"
            f" `{START_NATS}` (.ci/run does) or point CLEARWAY_TEST_NATS_URL at one.",
            pytrace=False,
        )
    return NATS_URL


def unique_stream() -> str:
    """A stream (and subject prefix) of a test's own, so tests never see each other's events."""
    return f"CWT_{new_id()[:12]}"


async def delete_streams(url: str, stream: str) -> None:
    connection = await nats.connect(url, connect_timeout=PATIENCE, allow_reconnect=False)
    try:
        js = connection.jetstream()
        for name in (stream, f"{stream}_DLQ"):
            with suppress(NotFoundError):
                await js.delete_stream(name)
    finally:
        await connection.close()


AWS_REGION = "eu-central-1"


def moto_client(service: str) -> object:
    """A client of moto's in-process stand-in for SNS and SQS (active inside `mock_aws`)."""
    return boto3.client(service, region_name=AWS_REGION)


class BusFactory:
    """Makes buses of one adapter that share their queues (one file, one NATS stream, or one
    name prefix on SNS and SQS), as several processes of one deployment do; stops them all at
    the end of the test."""

    def __init__(self, kind: str, bus_path: Path, nats_url: str | None) -> None:
        self.kind = kind
        self.bus_path = bus_path
        self.nats_url = nats_url
        self.stream = unique_stream()
        self.made: list[Bus] = []
        self.aws = mock_aws() if kind == "sns-sqs" else None
        if self.aws is not None:
            self.aws.start()

    def __call__(self, max_attempts: int = 3, retry_base_seconds: float = 0.1) -> Bus:
        bus: Bus
        if self.aws is not None:
            bus = SnsSqsBus(
                self.stream.replace("_", "-"),
                moto_client,
                max_attempts=max_attempts,
                retry_base_seconds=retry_base_seconds,
                visibility_seconds=30,
                wait_seconds=0,
                poll_seconds=0.05,
            )
        elif self.nats_url is None:
            bus = EmbeddedBus(self.bus_path, max_attempts, retry_base_seconds, poll_seconds=0.1)
        else:
            bus = NatsBus(
                self.nats_url,
                stream=self.stream,
                max_attempts=max_attempts,
                retry_base_seconds=retry_base_seconds,
                poll_seconds=0.2,
            )
        self.made.append(bus)
        return bus

    async def close(self) -> None:
        for bus in self.made:
            await bus.stop()
        if self.nats_url is not None:
            await delete_streams(self.nats_url, self.stream)
        if self.aws is not None:
            self.aws.stop()


@pytest.fixture(params=["embedded", "nats", "sns-sqs"])
def bus_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def bus_server(bus_kind: str, request: pytest.FixtureRequest) -> str | None:
    """The NATS URL for the "nats" adapter (checked reachable, synchronously), else None."""
    return str(request.getfixturevalue("nats_url")) if bus_kind == "nats" else None


@pytest.fixture
async def bus_factory(
    bus_kind: str, bus_path: Path, bus_server: str | None
) -> AsyncIterator[BusFactory]:
    factory = BusFactory(bus_kind, bus_path, bus_server)
    try:
        yield factory
    finally:
        await factory.close()


@pytest.fixture
def any_bus(bus_factory: BusFactory) -> Bus:
    """A bus of each adapter, with the default test settings (3 attempts, 0.1 s back-off)."""
    return bus_factory()


async def stop_while_handling(bus: Bus) -> tuple[CloudEvent, CloudEvent]:
    """Stop `bus` while its handler of queue "slow" runs the first of three events: stop waits
    for that handler, which finishes; return the two events it never started."""
    started = asyncio.Event()
    release = asyncio.Event()
    finished: list[str] = []

    async def slow(e: CloudEvent) -> None:
        started.set()
        await release.wait()
        finished.append(e.id)

    bus.subscribe("slow", ["*"], slow)
    await bus.start()
    first, second, third = event(), event(), event()
    await bus.publish_many([first, second, third])
    await asyncio.wait_for(started.wait(), PATIENCE)

    stopping = asyncio.create_task(bus.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, PATIENCE)
    assert finished == [first.id]
    return second, third
