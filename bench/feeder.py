"""Extra monitor load: request records published into a running Clearway's embedded bus.

`python -m bench.feeder --data-dir DIR --rate 5000 --seconds 30` publishes `gateway.request`
events at a steady rate, in envelopes as a second gateway would, into the bus file on DIR;
its monitor ingests them beside the records of the requests it serves. Prints one JSON line
with the number published. `make bench` runs it next to a wrk profile to show what the ingest
does to the gateway's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

from bench.monitor_ingest import envelope, records
from clearway.kit.bus.embedded import FILENAME, EmbeddedBus
from clearway.runtime.workers import BACKGROUND_NICENESS

TICK_SECONDS = 0.05  # 20 batches a second: steady, not one burst per second
MONITOR_QUEUE = "monitor.batch"


async def feed(data_dir: Path, rate: int, seconds: float) -> int:
    bus = EmbeddedBus(data_dir / FILENAME, max_attempts=5, retry_base_seconds=1.0)
    users = [uuid.uuid4().hex for _ in range(200)]
    per_tick = max(1, round(rate * TICK_SECONDS))
    published, started = 0, time.monotonic()
    async with bus:
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) - published  # catch up after a slow tick, never burst ahead
            if due > 0:
                records_due = records(min(due, 4 * per_tick), users)
                await bus.publish_many([envelope(records_due)])
                published += len(records_due)
            await asyncio.sleep(TICK_SECONDS)
    return published


def backlog(data_dir: Path) -> int:
    """Events queued for the monitor's batch consumer and not yet ingested."""
    with sqlite3.connect(data_dir / FILENAME, timeout=10) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE queue = ? AND dead = 0", (MONITOR_QUEUE,)
        ).fetchone()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rate", type=int, default=5000, help="events per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    # The feeder stands in for records of traffic served elsewhere: its own work (building and
    # writing the events) is not what is measured, so it yields the cores as the background
    # process that ingests them does.
    os.nice(BACKGROUND_NICENESS)
    published = asyncio.run(feed(args.data_dir, args.rate, args.seconds))
    print(json.dumps({"published": published}), flush=True)


if __name__ == "__main__":
    main()
