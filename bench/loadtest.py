"""`make loadtest`: the published design's Taurus load test (its Table 4), run on Clearway.

The published test ran closed-loop virtual users with no think time, 100 threads per load
server, from 1 to 100 servers: 100 to 10,000 concurrent users. This reproduces it on one
machine, at the same levels, in three ways:

1. Taurus (`bzt`) with its Locust executor and `bench/locustfile.py` (a realistic mix): the
   published method. Locust is Python and tops out at a few thousand requests a second on one
   core; its CPU share is recorded, and where it was the bottleneck the table says so.
2. wrk at the same levels, one connection per user, the same mix (`bench/mix.lua`): a C
   generator, so what is measured is the server's capacity, not the generator's.
3. An open-loop sweep (`bench/openloop.py`): constant arrival rates up to saturation, latency
   counted from when each request was due, so no coordinated omission.

Everything targets 127.0.0.1 only, each run is bounded in time, and the tool raises its own
file-descriptor limit for 10,000 connections. Results (JSON, a Markdown table and a PNG chart)
go to `bench/results/loadtest-<time>/`. `--quick` is a two-level smoke in under 3 minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import httpx

from bench import openloop
from bench.__main__ import ADMIN_PASSWORD, HERE, clearway_env, free_port, serve
from bench.request_path import cpu_seconds

LEVELS = (100, 500, 1000, 5000, 10000)
QUICK_LEVELS = (50, 200)
# The published Table 4 where the paper states the figures; "—" where it gives none here.
PUBLISHED: dict[int, dict[str, float]] = {
    100: {"rps": 49.8, "avg_ms": 1800.0},
    10000: {"rps": 5425.95, "avg_ms": 1800.0},
}
PUBLISHED_TOTAL = {"requests": 3_250_144, "failed": 3}
OPEN_LOOP_RATES = (100, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000)
QUICK_RATES = (200, 400)
# Open-loop requests: the mix's reads (writes need a body per request).
OPEN_LOOP_PATHS = (
    "/api/rules/search?market=EU&hs_code=8518.22",
    "/api/identity/me",
    "/api/rules/search?market=US&q=power%20bank",
    "/api/rules/self-check?market=GB&hs_code=8516.71",
    "/api/orders/orders?limit=20",
    "/api/orders/providers?market=EU",
)
CUSTOMERS = 20
# How long a closed-loop user waits for its answer, and so how long the server lets a request
# queue for its turn (CLEARWAY_GATEWAY_QUEUE_TIMEOUT_SECONDS, 30 s by default). With N users
# and no think time, each waits N / throughput (Little's law): 10,000 users on one worker at
# 200-400 req/s wait 25-50 s. The published test's threads waited for every answer; a bound
# below that wait would turn a slow level into failures that say nothing about connections.
PATIENCE_SECONDS = 120
QUICK_CUSTOMERS = 4
PASSWORD = "load-test-passphrase-1"


@dataclass
class Row:
    users: int
    generator: str
    rps: float
    avg_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    failed: int
    generator_cpu: float  # share of one core the generator used
    note: str = ""
    # The server's own record of the level (the monitor's): its mean latency and how many
    # requests it recorded. A mean far below the generator's means the generator held the time.
    server_avg_ms: float | None = None
    server_requests: int | None = None
    server_errors: dict[str, int] | None = None  # 5xx the server recorded, by route

    def judge(self) -> None:
        """Say so where the generator, not the server, was the bottleneck."""
        verdict = ""
        if self.generator_cpu >= 0.9:
            verdict = "generator-bound (its core was busy)"
        elif self.server_avg_ms is not None and self.server_avg_ms < 0.5 * self.avg_ms:
            verdict = "generator-bound (the server's own mean is under half the generator's)"
        errors = ", ".join(f"{n} on {route}" for route, n in (self.server_errors or {}).items())
        answered = f"server's 5xx: {errors}" if errors else ""
        self.note = ", ".join(part for part in (self.note, answered, verdict) if part)


def raise_fd_limit(needed: int) -> int:
    """Every connection is a file descriptor on both ends: take what is needed, children too.

    The soft limit goes up to the hard one; the hard one goes up too where the process may
    raise it (root, as in a container), never past the kernel's `nr_open`.
    """
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if needed > hard:
        try:
            ceiling = int(Path("/proc/sys/fs/nr_open").read_text())
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, min(needed, ceiling)))
        except (OSError, ValueError):
            pass  # not permitted here: the hard limit stands, and the caller says so
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# The kernel caps a listener's backlog at net.core.somaxconn, and SYNs waiting for their
# handshake at tcp_max_syn_backlog. wrk opens all of a level's connections at once: a backlog
# smaller than the level overflows, and each dropped SYN is retried 1, 3, 7, 15 s later, which
# the generator sees as a slow, then a timed-out, server (measured: 40,969 overflows at 10,000
# users behind a backlog of 4,096).
LISTEN_LIMITS = (
    Path("/proc/sys/net/core/somaxconn"),
    Path("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
)
MAX_BACKLOG = 65535  # the largest `CLEARWAY_BACKLOG`
# A server using less than this share of a core has nothing left over from the last level.
QUIET_CORES = 0.2


def backlog_for(users: int) -> int:
    return min(MAX_BACKLOG, max(4096, users + 1024))


@contextmanager
def listen_limits(backlog: int) -> Iterator[int]:
    """Raise the kernel's backlog caps to `backlog` where they are lower and this process may
    (root, as in a container: they belong to its network namespace), and put them back after.
    Yields the backlog the server will really get."""
    previous: dict[Path, str] = {}
    try:
        for limit in LISTEN_LIMITS:
            try:
                current = limit.read_text()
                if int(current) < backlog:
                    limit.write_text(str(backlog))
                    previous[limit] = current
            except (OSError, ValueError):
                pass  # not Linux, or not permitted: the cap stands and the caller says so
        try:
            cap = int(LISTEN_LIMITS[0].read_text())
        except (OSError, ValueError):
            cap = backlog
        yield min(backlog, cap)
    finally:
        for limit, value in previous.items():
            limit.write_text(value)


# Generator and server on separate cores where the machine has two or more.
CORES = os.cpu_count() or 1
SERVER_CORES = "0" if CORES == 2 else f"0-{CORES // 2 - 1}" if CORES > 2 else ""
GENERATOR_CORES = str(CORES - 1) if CORES == 2 else f"{CORES // 2}-{CORES - 1}" if CORES > 2 else ""


def pinned(cores: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cores, *command] if cores and shutil.which("taskset") else command


# --- the system under test ------------------------------------------------------------------


def seed(base: str, customers: int) -> dict[str, object]:
    """Signed-in customers for the virtual users, and what the writes need: a verified provider
    covering a checklist's requirements, and that checklist's owner."""
    with httpx.Client(base_url=base, timeout=60) as http:

        def register(email: str, role: str) -> None:
            body = {"email": email, "password": PASSWORD, "role": role, "name": "Load Test"}
            http.post("/api/identity/register", json=body).raise_for_status()

        def login(email: str, password: str = PASSWORD) -> str:
            answer = http.post("/api/identity/login", json={"email": email, "password": password})
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        customers = [
            {"email": f"load{i}@example.com", "token": login(f"load{i}@example.com")}
            for i in range(customers)
            if register(f"load{i}@example.com", "customer") is None
        ]
        owner = customers[0]["token"]
        checklist = http.post(
            "/api/rules/checklists",
            json={"market": "EU", "hs_code": "8518.22", "answers": {"radio": True}},
            headers={"authorization": f"Bearer {owner}"},
        )
        checklist.raise_for_status()
        codes = [item["code"] for item in checklist.json()["requirements"]][:3]
        register("lab@example.com", "provider")  # signs in once an administrator verified it
        admin = {"authorization": f"Bearer {login('admin@clearway.example', ADMIN_PASSWORD)}"}
        users = http.get("/api/identity/users", params={"email": "lab@example.com"}, headers=admin)
        user_id = users.json()["items"][0]["id"]
        http.post(f"/api/identity/users/{user_id}/verify", headers=admin).raise_for_status()
        provider = login("lab@example.com")
        profile = http.put(
            "/api/orders/providers/me",
            json={
                "display_name": "Load Test Lab",
                "requirement_codes": codes,
                "markets": ["EU"],
                "turnaround_days": 10,
            },
            headers={"authorization": f"Bearer {provider}"},
        )
        profile.raise_for_status()
        return {
            "customers": customers,
            "provider_id": profile.json()["id"],
            "checklist_id": checklist.json()["id"],
            "requirement_codes": codes,
            "order_customer_auth": {"authorization": f"Bearer {owner}"},
            "token": owner,
        }


def refresh(base: str, seeded: dict[str, object]) -> dict[str, object]:
    """New access tokens for the same accounts: a full run outlasts their 15 minutes."""
    with httpx.Client(base_url=base, timeout=60) as http:

        def token(email: str) -> str:
            answer = http.post("/api/identity/login", json={"email": email, "password": PASSWORD})
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        customers = [{**c, "token": token(c["email"])} for c in seeded["customers"]]
    owner = customers[0]["token"]
    return {
        **seeded,
        "customers": customers,
        "token": owner,
        "order_customer_auth": {"authorization": f"Bearer {owner}"},
    }


@contextmanager
def clearway(
    workers: int, customers: int, backlog: int, log: Path
) -> Iterator[tuple[int, dict[str, object], int]]:
    """A fresh server, seeded: its port, what the users need, and its process id."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="clearway-loadtest-") as tmp:
        env = clearway_env(Path(tmp), port) | {
            "CLEARWAY_WORKERS": str(workers),
            "CLEARWAY_RATELIMIT_AUTH_PER_SECOND": "1000000",
            "CLEARWAY_RATELIMIT_AUTH_BURST": "1000000",
            "CLEARWAY_BACKLOG": str(backlog),
            "CLEARWAY_GATEWAY_QUEUE_TIMEOUT_SECONDS": str(PATIENCE_SECONDS),
            # a load generator of 10,000 users is one trusted client, not an abuser
            "CLEARWAY_EDGE_MAX_CONNECTIONS": "20000",
        }
        command = [sys.executable, "-c", "from clearway.cli import main; main()", "up"]
        ready = f"({workers} workers)" if workers > 1 else ""
        # One worker gets the server's core(s); more workers spread over every core by design.
        launch = pinned(SERVER_CORES, command) if workers == 1 else command
        with serve(launch, env, f"{base}/readyz", ready, keep_log=log) as process:
            yield port, seed(base, customers), process.pid


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (with workers: each worker and the background process)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
            pending.extend(int(child) for child in children.split())
    return found


def busy_cores(pid: int, seconds: float = 2.0) -> float:
    """How many cores the server's processes used over the next `seconds`."""

    def spent() -> float:
        total = 0.0
        for member in process_tree(pid):
            with contextlib.suppress(OSError):
                total += cpu_seconds(member)
        return total

    before = spent()
    time.sleep(seconds)
    return (spent() - before) / seconds


def settle(pid: int, limit: float = 300.0) -> float:
    """Wait until the server has done what the last level left it (the events its orders
    caused, the monitor's ingest of its request records), so that each level starts from a
    quiet server, not from its predecessor's backlog. Returns the seconds waited."""
    started = time.monotonic()
    while busy_cores(pid) >= QUIET_CORES and time.monotonic() - started < limit:
        pass
    return time.monotonic() - started


# --- the server's own record -----------------------------------------------------------------


def next_minute() -> None:
    """Start a level on a minute: the monitor keeps request statistics per minute, so a level
    that owns its minutes can be read back alone."""
    time.sleep(60 - time.time() % 60 + 0.5)


@dataclass
class Record:
    """What the monitor recorded over a level's minutes."""

    avg_ms: float
    requests: int
    errors: dict[str, int]  # 5xx by "METHOD route"


def server_record(base: str, started: float, ended: float) -> Record:
    """What the monitor recorded over the minutes from `started` to `ended`, once its ingest
    has caught up (two reads a few seconds apart agree)."""

    def iso(moment: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))

    with httpx.Client(base_url=base, timeout=60) as http:
        login = http.post(
            "/api/identity/login",
            json={"email": "admin@clearway.example", "password": ADMIN_PASSWORD},
        )
        login.raise_for_status()
        auth = {"authorization": f"Bearer {login.json()['access_token']}"}
        window = {"from": iso(started), "to": iso(ended + 1), "granularity": "minute"}
        last: Record | None = None
        for _ in range(30):
            answer = http.get("/api/monitor/requests/stats", params=window, headers=auth)
            answer.raise_for_status()
            items = [i for i in answer.json()["items"] if i["mean_ms"] is not None]
            count = sum(i["requests"] for i in items)
            errors: dict[str, int] = {}
            for i in items:
                if i["errors"]:
                    key = f"{i['method']} {i['route']}"
                    errors[key] = errors.get(key, 0) + i["errors"]
            mean = sum(i["mean_ms"] * i["requests"] for i in items) / max(1, count)
            record = Record(mean, count, errors)
            if record == last:
                return record
            last = record
            time.sleep(3)
    return record  # still moving after 90 s: the latest read


# --- the three generators -------------------------------------------------------------------


def taurus(port: int, seeded: dict[str, object], users: int, hold: int, out: Path) -> Row:
    """One level through Taurus's Locust executor; stats from the samples of the hold window."""
    level = out / f"taurus-{users}"
    level.mkdir(parents=True, exist_ok=True)
    seed_file = level / "seed.json"
    seed_file.write_text(json.dumps(seeded))
    ramp = max(5, min(30, users // 300))
    config = {
        "execution": [
            {
                "executor": "locust",
                "concurrency": users,
                "ramp-up": f"{ramp}s",
                "hold-for": f"{hold}s",
                "scenario": "clearway",
            }
        ],
        "scenarios": {
            "clearway": {
                "default-address": f"http://127.0.0.1:{port}",
                "script": str(HERE / "locustfile.py"),
            }
        },
        "settings": {"check-updates": False, "artifacts-dir": str(level / "artifacts")},
        "reporting": [
            {"module": "final-stats", "summary": True, "dump-csv": str(level / "final.csv")}
        ],
        "modules": {"console": {"disable": True}},
    }
    config_file = level / "taurus.json"
    config_file.write_text(json.dumps(config, indent=1))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(
        pinned(
            GENERATOR_CORES, [str(Path(sys.executable).with_name("bzt")), "-q", str(config_file)]
        ),
        env={
            **os.environ,
            "LOADTEST_SEED": str(seed_file),
            "LOADTEST_TIMEOUT": str(PATIENCE_SECONDS),
        },
        check=False,
        stdout=(level / "bzt.out").open("w"),
        stderr=subprocess.STDOUT,
        timeout=ramp + hold + PATIENCE_SECONDS + 300,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / wall
    return steady(users, level / "artifacts", ramp, hold, cpu)


def steady(users: int, artifacts: Path, ramp: int, hold: int, cpu: float) -> Row:
    """Locust's samples (kpi.jtl) from the end of the ramp-up to the end of the hold."""
    samples: list[tuple[float, float, bool]] = []
    for jtl in artifacts.glob("kpi*.jtl"):
        with jtl.open() as f:
            for line in csv.DictReader(f):
                stamp = float(line["timeStamp"]) / 1000
                samples.append((stamp, float(line["elapsed"]), line["success"] == "true"))
    if not samples:
        raise SystemExit(f"Taurus left no samples in {artifacts}: see its bzt.out")
    first = min(s[0] for s in samples)
    window = [s for s in samples if first + ramp <= s[0] < first + ramp + hold]
    elapsed = sorted(s[1] for s in window)
    failed = sum(1 for s in window if not s[2])
    return Row(
        users=users,
        generator="Taurus + Locust",
        rps=len(window) / hold,
        avg_ms=sum(elapsed) / max(1, len(elapsed)),
        p95_ms=openloop.percentile(elapsed, 0.95),
        p99_ms=openloop.percentile(elapsed, 0.99),
        requests=len(window),
        failed=failed,
        generator_cpu=cpu,
    )


def wrk(port: int, seeded: dict[str, object], users: int, hold: int) -> Row:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(
        pinned(
            GENERATOR_CORES,
            [
                "wrk",
                "-t1",
                f"-c{users}",
                f"-d{hold}s",
                "--timeout",
                f"{PATIENCE_SECONDS}s",
                "-s",
                str(HERE / "mix.lua"),
                f"http://127.0.0.1:{port}",
            ],
        ),
        env={
            **os.environ,
            "LOADTEST_TOKEN": str(seeded["token"]),
            "LOADTEST_TOKENS": json.dumps([c["token"] for c in seeded["customers"]]),
            "LOADTEST_PROVIDER_ID": str(seeded["provider_id"]),
            "LOADTEST_CHECKLIST_ID": str(seeded["checklist_id"]),
            "LOADTEST_REQUIREMENT_CODES": json.dumps(seeded["requirement_codes"]),
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=hold + PATIENCE_SECONDS + 120,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / wall
    r = json.loads([ln for ln in result.stdout.splitlines() if ln.startswith("{")][-1])
    return Row(
        users=users,
        generator="wrk",
        rps=r["rps"],
        avg_ms=r["avg"],
        p95_ms=r["p95"],
        p99_ms=r["p99"],
        requests=int(r["requests"]),
        failed=int(r["errors"]),
        generator_cpu=cpu,
        note=", ".join(f"{k}: {v}" for k, v in r["failures"].items() if v),
    )


# --- the report -----------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [
        "| users | generator | req/s | avg ms | p95 ms | p99 ms | requests | failed | generator CPU"
        " | server avg ms | published req/s | published avg ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        published = PUBLISHED.get(r.users, {})
        server = "—" if r.server_avg_ms is None else f"{r.server_avg_ms:,.1f}"
        lines.append(
            f"| {r.users:,} | {r.generator} | {r.rps:,.0f} | {r.avg_ms:,.1f} | {r.p95_ms:,.1f}"
            f" | {r.p99_ms:,.1f} | {r.requests:,} | {r.failed:,} | {r.generator_cpu:.0%}"
            f"{' ' + r.note if r.note else ''} | {server} | {published.get('rps', '—')}"
            f" | {published.get('avg_ms', '—')} |"
        )
    lines.append(
        f"\nPublished totals over all levels: {PUBLISHED_TOTAL['requests']:,} requests,"
        f" {PUBLISHED_TOTAL['failed']} failed."
    )
    return "\n".join(lines)


def open_loop_table(results: list[openloop.Result]) -> str:
    lines = [
        "| offered req/s | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | errors | sent late"
        " | what failed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.offered:,.0f} | {r.achieved:,.0f} | {r.p50:,.1f} | {r.p90:,.1f}"
            f" | {r.p99:,.1f} | {r.max:,.1f} | {r.errors:,} | {r.late:,}"
            f" | {', '.join(f'{k}: {v}' for k, v in r.failures.items()) or '—'} |"
        )
    return "\n".join(lines)


def chart(rows: list[Row], sweep: list[openloop.Result], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # The open-loop panel only when there is a sweep to draw (`--no-open-loop` leaves none).
    panels = 3 if sweep else 2
    figure, axes = plt.subplots(1, panels, figsize=(5.4 * panels, 4.8))
    throughput, latency = axes[0], axes[1]
    for generator, style in (("Taurus + Locust", "o-"), ("wrk", "s-")):
        mine = [r for r in rows if r.generator == generator]
        if mine:
            users = [r.users for r in mine]
            throughput.plot(users, [r.rps for r in mine], style, label=f"Clearway ({generator})")
            latency.plot(users, [r.avg_ms for r in mine], style, label=f"avg ({generator})")
            latency.plot(
                users, [r.p99_ms for r in mine], style, alpha=0.4, label=f"p99 ({generator})"
            )
            recorded = [r for r in mine if r.server_avg_ms is not None]
            if recorded:
                latency.plot(
                    [r.users for r in recorded],
                    [r.server_avg_ms for r in recorded],
                    style[0] + ":",
                    label=f"server's own avg ({generator})",
                )
    published = sorted(PUBLISHED.items())
    throughput.plot(
        [u for u, _ in published], [p["rps"] for _, p in published], "k^--", label="published"
    )
    latency.plot(
        [u for u, _ in published],
        [p["avg_ms"] for _, p in published],
        "k^--",
        label="published avg",
    )
    for axis, title, unit in ((throughput, "throughput", "req/s"), (latency, "latency", "ms")):
        axis.set_xscale("log")
        axis.set_xlabel("concurrent users")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.legend(fontsize=7)
    if sweep:
        curve = axes[2]
        offered = [r.offered for r in sweep]
        curve.plot(offered, [r.p50 for r in sweep], "o-", label="p50")
        curve.plot(offered, [r.p99 for r in sweep], "s-", label="p99")
        curve.set_yscale("log")
        curve.set_xlabel("offered req/s (open loop)")
        curve.set_ylabel("ms from due time")
        curve.set_title("open-loop latency")
        curve.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="two small levels, under 3 minutes")
    parser.add_argument("--levels", type=int, nargs="+", help=f"users per level (default {LEVELS})")
    parser.add_argument("--hold", type=int, help="seconds each level is held (default 60)")
    parser.add_argument("--workers", type=int, default=1, help="`clearway up --workers N`")
    parser.add_argument("--no-taurus", action="store_true")
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--no-open-loop", action="store_true")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results/…)")
    args = parser.parse_args()
    levels = args.levels or (QUICK_LEVELS if args.quick else LEVELS)
    hold = args.hold or (10 if args.quick else 60)
    rates = QUICK_RATES if args.quick else OPEN_LOOP_RATES
    out = args.out or HERE / "results" / time.strftime("loadtest-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    # Each process holds one end of a connection: the server's and the generator's limits are
    # their own, so each needs one descriptor per user, plus its files and sockets.
    needed = max(levels) + 100
    limit = raise_fd_limit(needed)
    if needed > limit:
        raise SystemExit(
            f"{max(levels):,} users need about {needed:,} descriptors in the server and in"
            f" the generator each; the hard limit is {limit:,}"
        )
    backlog = backlog_for(max(levels))
    if not args.no_wrk and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (make loadtest does this)")
    sharing = (
        f"server on core(s) {SERVER_CORES}, generators on core(s) {GENERATOR_CORES}"
        if SERVER_CORES and shutil.which("taskset")
        else "server and generators share the only core"
    )
    rows: list[Row] = []
    sweep: list[openloop.Result] = []
    customers = QUICK_CUSTOMERS if args.quick else CUSTOMERS
    with (
        listen_limits(backlog) as listening,
        clearway(args.workers, customers, listening, out / "server.log") as (port, seeded, pid),
    ):
        print(
            f"{CORES} cores: {sharing}; {args.workers} worker(s); {hold} s per level;"
            f" levels {', '.join(f'{u:,}' for u in levels)}; listen backlog {listening:,}"
            + ("" if listening >= max(levels) else " (capped by net.core.somaxconn: raise it)"),
            flush=True,
        )
        base = f"http://127.0.0.1:{port}"

        def level(run: Callable[[dict[str, object]], Row]) -> None:
            waited = settle(pid)
            if waited > 10:
                print(f"(the server was busy for {waited:.0f} s after the last level)", flush=True)
            # Whole minutes per level, so the server's record of it is its own; not in the
            # 3-minute smoke, where its levels share minutes and the record is left out.
            if not args.quick:
                next_minute()
            started = time.time()
            row = run(refresh(base, seeded))  # fresh tokens: a full run outlasts them
            if not args.quick:
                record = server_record(base, started, time.time())
                row.server_avg_ms, row.server_requests = record.avg_ms, record.requests
                row.server_errors = record.errors
            row.judge()
            rows.append(row)
            print(table(rows[-1:]).splitlines()[-3], flush=True)

        for users in levels:
            if not args.no_taurus:
                level(partial(taurus, port, users=users, hold=hold, out=out))
        for users in levels:
            if not args.no_wrk:
                level(partial(wrk, port, users=users, hold=hold))
        if not args.no_open_loop:
            settle(pid)
            token = str(refresh(base, seeded)["token"])
            sweep = openloop.sweep(port, OPEN_LOOP_PATHS, token, rates, 10 if args.quick else 30)
    report = f"## Closed loop\n\n{table(rows)}\n\n## Open loop\n\n{open_loop_table(sweep)}\n"
    (out / "results.md").write_text(f"{sharing}; {args.workers} worker(s)\n\n{report}")
    (out / "results.json").write_text(
        json.dumps(
            {"rows": [asdict(r) for r in rows], "open_loop": [asdict(r) for r in sweep]}, indent=1
        )
    )
    chart(rows, sweep, out / "loadtest.png")
    print(f"\n{report}\nresults, chart: {out}")


if __name__ == "__main__":
    main()
