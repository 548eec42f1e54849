"""An open-loop load: requests leave at a constant rate whether or not earlier ones answered.

A closed-loop generator (Locust, wrk) waits for an answer before it sends the next request, so
a slow server slows the load down and its worst moments are measured less often than they
happen ("coordinated omission"). Here request *i* is due at `start + i / rate`; its latency is
counted from that due time, not from when a connection became free to send it. What a user
would have waited is what is reported.

Plain asyncio streams on uvloop, keep-alive connections from a pool that grows when every
connection is busy (up to `max_connections`), one process: it offers a few thousand requests a
second before its own core is the limit, and says so (`late`: requests sent over 10 ms after
their due time because the generator itself was behind).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import uvloop

LATE_MS = 10.0


@dataclass(frozen=True)
class Result:
    offered: float
    achieved: float
    sent: int
    errors: int
    late: int
    failures: dict[str, int]  # what the errors were: a status, or the connection's fate
    p50: float
    p90: float
    p99: float
    max: float


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


def percentile(ordered: Sequence[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def offer(
    port: int,
    paths: Sequence[str],
    token: str,
    rate: float,
    seconds: float,
    max_connections: int = 4000,
) -> Result:
    """Send `rate` requests/s for `seconds` to 127.0.0.1:`port`, cycling through `paths`."""
    requests = [
        (
            f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
            f"authorization: Bearer {token}\r\n\r\n"
        ).encode()
        for path in paths
    ]
    idle: list[Connection] = []
    opened = 0
    latencies: list[float] = []
    ok = late = 0
    failures: Counter[str] = Counter()
    tasks: set[asyncio.Task[None]] = set()

    async def one(request: bytes, due: float) -> None:
        nonlocal opened, ok, late
        if (time.perf_counter() - due) * 1000 > LATE_MS:
            late += 1
        # A kept-alive connection the server closed while it sat idle fails before any byte of
        # an answer: as HTTP clients do for a request that is safe to repeat, send it again on
        # a new connection (its latency still counts from when it was due).
        for attempt in (1, 2):
            # The retry takes a new connection: the next idle one may have been closed too.
            connection = idle.pop() if idle and attempt == 1 else None
            reused = connection is not None
            try:
                if connection is None:
                    if opened >= max_connections:
                        failures["no free connection"] += 1
                        return
                    opened += 1
                    connection = Connection(*await asyncio.open_connection("127.0.0.1", port))
                status = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                opened -= 1  # the connection is dropped
                stale = isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
                if reused and stale and attempt == 1:
                    continue
                failures[type(exc).__name__] += 1
                return
            latencies.append((time.perf_counter() - due) * 1000)
            ok += status < 400
            if status >= 400:
                failures[str(status)] += 1
            idle.append(connection)
            return

    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(requests[i % len(requests)], due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    elapsed = time.perf_counter() - start
    for connection in idle:
        connection.writer.close()
    ordered = sorted(latencies)
    return Result(
        offered=rate,
        achieved=len(latencies) / elapsed,
        sent=total,
        errors=total - ok,
        late=late,
        failures=dict(failures),
        p50=percentile(ordered, 0.50),
        p90=percentile(ordered, 0.90),
        p99=percentile(ordered, 0.99),
        max=ordered[-1] if ordered else 0.0,
    )


def sweep(
    port: int, paths: Sequence[str], token: str, rates: Sequence[float], seconds: float
) -> list[Result]:
    """Each rate in turn, stopping after the first one the server cannot keep up with."""
    results: list[Result] = []
    for rate in rates:
        result = uvloop.run(offer(port, paths, token, rate, seconds))
        results.append(result)
        if result.achieved < 0.9 * rate or result.p99 > 5000:
            break
    return results
