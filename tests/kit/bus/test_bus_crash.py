from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import clearway

WORKER = Path(__file__).with_name("crash_worker.py")
TOTAL = 2000
KILL_AFTER = 400


def test_sigkill_during_a_burst_loses_nothing(tmp_path: Path) -> None:
    """Killed mid-burst with events in every stage (outbox, queue, leased, being applied), the
    service restarted on the same files applies each committed event exactly once."""
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(clearway.__file__).parents[1]), os.environ.get("PYTHONPATH")])
        )
    }
    burst = subprocess.Popen(
        [sys.executable, str(WORKER), str(tmp_path), "burst", str(TOTAL)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert burst.stdout is not None
    try:
        deadline = time.monotonic() + 60  # a cold interpreter on a busy machine
        progress = -1
        while progress < KILL_AFTER:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the burst made no progress"
            if select.select([burst.stdout], [], [], remaining)[0]:
                line = burst.stdout.readline()
                assert line, "the burst ended early"
                progress = int(line)
    finally:
        burst.send_signal(signal.SIGKILL)
        burst.wait()

    drain = subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path), "drain", str(TOTAL)],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
    )
    assert drain.returncode == 0, drain.stderr
    assert drain.stdout.strip() == "done"

    with closing(sqlite3.connect(tmp_path / "svc.db")) as conn:
        written = {row[0] for row in conn.execute("SELECT event_id FROM committed")}
        applications = Counter(row[0] for row in conn.execute("SELECT event_id FROM applied"))
        left_in_outbox = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    with closing(sqlite3.connect(tmp_path / "bus.db")) as conn:
        left_in_queue = conn.execute("SELECT count(*) FROM messages").fetchone()[0]

    assert KILL_AFTER <= len(written) < TOTAL, "killed mid-burst"
    assert set(applications) == written
    assert set(applications.values()) == {1}
    assert (left_in_outbox, left_in_queue) == (0, 0)
