"""`make bench`: drive Clearway through its gateway with wrk and compare with a bare baseline.

Starts a fresh `clearway up` (one worker per core by default) on a temporary data directory,
signs a customer in, then runs each profile for `--seconds` at `--connections`, and the same
load against a hello-world app on the same server stack (uvicorn, uvloop, httptools, as many
workers). Prints one table and the ratios, then how the monitor kept up with the records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import feeder, monitor_ingest
from clearway.settings import SERVICES

HERE = Path(__file__).parent
ADMIN_PASSWORD = "bench-admin-password"
CUSTOMER = {"email": "bench@example.com", "password": "bench-customer-password"}


@dataclass(frozen=True)
class Profile:
    name: str
    path: str
    authenticated: bool = True
    feed_rate: int = 0  # extra request records per second into the monitor, beside the load
    paced: int = 0  # offered requests per second (0: as fast as the server answers)


PROFILES = {
    "me": Profile("GET /api/identity/me (customer token)", "/api/identity/me"),
    "lookup": Profile(
        "GET /api/rules/search EU 8518.22 (customer)", "/api/rules/search?market=EU&hs_code=8518.22"
    ),
    # Issue 5: at a steady 3,000 req/s, what 5,000 more events/s of ingest do to the latency.
    "me-paced": Profile("GET /api/identity/me at 3,000 req/s", "/api/identity/me", paced=3000),
    "me-ingest": Profile(
        "  same + 5,000 events/s more ingest",
        "/api/identity/me",
        feed_rate=5000,
        paced=3000,
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not become ready in {timeout:.0f} s")


# On a small machine the load generator and the server fight for the same cores, and wrk's
# clock then measures its own waiting. With `--pin` (the default where `taskset` exists) a
# one-process server gets the first core and wrk the last, for the baseline and Clearway alike.
PIN = {"server": ["taskset", "-c", "0"], "wrk": ["taskset", "-c", str((os.cpu_count() or 1) - 1)]}
pinning = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(role: str, command: list[str]) -> list[str]:
    return [*PIN[role], *command] if pinning else command


@contextmanager
def serve(
    command: list[str],
    env: dict[str, str],
    ready_url: str,
    ready_line: str = "",
    keep_log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server until the block ends (the block gets its process); ready once `ready_url`
    answers 200 and, if given, `ready_line` is in its output (with workers, /readyz answers
    before the last one starts).
    Its output goes to a file shown if it fails to start, not to a pipe that could fill up,
    and copied to `keep_log` when the server has stopped."""
    output = tempfile.NamedTemporaryFile(prefix="clearway-bench-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
    )
    try:
        try:
            wait_ready(ready_url)
            deadline = time.monotonic() + 60
            while ready_line and ready_line not in Path(output.name).read_text(errors="replace"):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"{ready_line!r} not seen in the server's output")
                time.sleep(0.2)
        except SystemExit:
            print(Path(output.name).read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        if keep_log is not None:
            shutil.copyfile(output.name, keep_log)
        output.close()


def wrk(
    url: str, seconds: int, connections: int, token: str | None, paced: int = 0
) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (make bench does this)")
    result = subprocess.run(
        pinned(
            "wrk",
            [
                "wrk",
                f"-t{1 if pinning else min(2, connections)}",  # one core: one wrk thread
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(HERE / "report.lua"),
                url,
            ],
        ),
        env={
            **os.environ,
            "BENCH_TOKEN": token or "",
            # Each connection pauses so that all of them together offer `paced` requests/s.
            **({"BENCH_DELAY_MS": f"{1000 * connections / paced:.1f}"} if paced else {}),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("{")][-1]
    return dict(json.loads(line))


def hello_command(port: int, workers: int = 1) -> list[str]:
    """The baseline: `bench.hello` on the server stack `clearway up` uses."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.hello:app",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def baseline(seconds: int, connections: int, workers: int) -> dict[str, float]:
    port = free_port()
    command = hello_command(port, workers)
    launch = pinned("server", command) if workers == 1 else command
    with serve(launch, {"PYTHONPATH": str(HERE.parent)}, f"http://127.0.0.1:{port}/"):
        wrk(f"http://127.0.0.1:{port}/", 3, connections, None)  # warm-up
        return wrk(f"http://127.0.0.1:{port}/", seconds, connections, None)


def clearway_env(data_dir: Path, port: int) -> dict[str, str]:
    return {
        "CLEARWAY_DATA_DIR": str(data_dir),
        "CLEARWAY_PORT": str(port),
        "CLEARWAY_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CLEARWAY_LOG_LEVEL": "warning",
        # The load comes from one address and one user: lift the limits out of the way, as
        # an operator would for a trusted load generator.
        "CLEARWAY_RATELIMIT_USER_PER_SECOND": "1000000",
        "CLEARWAY_RATELIMIT_USER_BURST": "1000000",
        "CLEARWAY_RATELIMIT_ADDRESS_PER_SECOND": "1000000",
        "CLEARWAY_RATELIMIT_ADDRESS_BURST": "1000000",
    }


def customer_token(base: str) -> str:
    body = {**CUSTOMER, "role": "customer", "name": "Bench Customer", "country": "DE"}
    httpx.post(f"{base}/api/identity/register", json=body, timeout=30).raise_for_status()
    login = httpx.post(f"{base}/api/identity/login", json=CUSTOMER, timeout=30)
    login.raise_for_status()
    return str(login.json()["access_token"])


# How `clearway up` runs: everything in one process, or the gateway and each service in its own.
MODES = {"embedded": ["up"], "processes": ["up", "--processes"]}


def run_clearway(
    profiles: list[Profile],
    seconds: int,
    connections: int,
    mode: str = "embedded",
    workers: int = 1,
) -> dict[str, dict[str, float]]:
    """Each profile against a fresh `clearway up`: the telemetry one profile leaves behind
    (request and search records still being ingested) must not weigh on the next."""
    return {p.name: run_profile(p, seconds, connections, mode, workers) for p in profiles}


def run_profile(
    profile: Profile, seconds: int, connections: int, mode: str, workers: int
) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="clearway-bench-") as tmp:
        data_dir = Path(tmp)
        command = [sys.executable, "-c", "from clearway.cli import main; main()", *MODES[mode]]
        env = clearway_env(data_dir, port)
        ready_line = ""
        if mode == "processes":
            env["CLEARWAY_SERVICE_URLS"] = json.dumps(
                {name: f"http://127.0.0.1:{free_port()}" for name in SERVICES}
            )
        else:
            env["CLEARWAY_WORKERS"] = str(workers)
            ready_line = f"({workers} workers)" if workers > 1 else ""
        # Several processes spread over every core by design; only a lone process is pinned.
        launch = pinned("server", command) if mode == "embedded" and workers == 1 else command
        with serve(launch, env, f"{base}/readyz", ready_line):
            token = customer_token(base) if profile.authenticated else None
            url = base + profile.path
            wrk(url, 3, connections, token)
            with fed(data_dir, profile.feed_rate, seconds) as published:
                result = wrk(url, seconds, connections, token, profile.paced)
            result.update(published)
            result.update(drain(data_dir))
            return result


@contextmanager
def fed(data_dir: Path, rate: int, seconds: int) -> Iterator[dict[str, float]]:
    """With a rate, `bench.feeder` publishes that many request records a second meanwhile."""
    published: dict[str, float] = {}
    if not rate:
        yield published
        return
    arguments = ["--data-dir", str(data_dir), "--rate", str(rate), "--seconds", str(seconds)]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.feeder", *arguments],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    try:
        yield published
    finally:
        out, _ = process.communicate(timeout=seconds + 60)
        published["fed"] = float(json.loads(out.strip().splitlines()[-1])["published"])


def drain(data_dir: Path, within: float = 120.0) -> dict[str, float]:
    """The monitor's backlog when the load stops, and how long it takes to ingest it."""
    left = feeder.backlog(data_dir)
    started = time.monotonic()
    while feeder.backlog(data_dir) and time.monotonic() - started < within:
        time.sleep(0.1)
    return {"backlog": float(left), "drain_seconds": time.monotonic() - started}


# The request path's target: this share of the hello world's throughput in the same run, with
# this p99 and no error.
TARGET_RATIO, TARGET_P99_MS = 0.25, 25.0


def show(name: str, r: dict[str, float], base: dict[str, float] | None, paced: int = 0) -> None:
    ratio = "paced" if paced else f"{r['rps'] / base['rps']:.2f}" if base else "1.00"
    verdict = ""
    if base and not paced:
        ok = (
            r["rps"] >= TARGET_RATIO * base["rps"]
            and r["p99"] <= TARGET_P99_MS
            and r["errors"] == 0
        )
        verdict = "meets target" if ok else "below target"
        verdict += f" (>= {TARGET_RATIO} of hello world, p99 <= {TARGET_P99_MS:.0f} ms, no error)"
    print(
        f"{name:<44} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p95']:>8.2f} {r['p99']:>8.2f}"
        f" {int(r['errors']):>7} {ratio:>7}  {verdict}"
    )


def side_by_side(
    profiles: list[Profile],
    embedded: dict[str, dict[str, float]],
    processes: dict[str, dict[str, float]],
) -> None:
    """The same profiles in both modes: what hosting each service in its own process costs."""
    print(f"\n{'profile':<44} {'mode':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for profile in profiles:
        for mode, results in (("embedded", embedded), ("processes", processes)):
            r = results[profile.name]
            print(
                f"{profile.name if mode == 'embedded' else '':<44} {mode:<10} {r['rps']:>9.0f}"
                f" {r['p50']:>8.2f} {r['p99']:>8.2f} {int(r['errors']):>7}"
            )


def ingest_report(profiles: list[Profile], results: dict[str, dict[str, float]]) -> None:
    """Every request is a record for the monitor (a search two): did ingest keep up? `queued`
    is what was left when the load stopped, in bus messages (envelopes of up to 500 events)."""
    print(f"\n{'monitor while serving':<44} {'events/s':>9} {'queued':>8} {'drained':>8}")
    for profile in profiles:
        r = results[profile.name]
        per_request = 2 if "/search" in profile.path else 1  # a search adds search.performed
        rate = r["rps"] * per_request + r.get("fed", 0) / r["seconds"]
        print(
            f"{profile.name:<44} {rate:>9,.0f} {int(r['backlog']):>8} {r['drain_seconds']:>7.1f}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--profile", action="append", choices=list(PROFILES))
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="`clearway up --workers N` (default: one per core); the baseline runs as many",
    )
    parser.add_argument(
        "--mode",
        choices=sorted(MODES),
        default="embedded",
        help="processes: also run every profile against `clearway up --processes`, side by side",
    )
    parser.add_argument("--no-pin", action="store_true", help="let server and wrk share every core")
    args = parser.parse_args()
    global pinning
    pinning = pinning and not args.no_pin
    profiles = [PROFILES[p] for p in (args.profile or PROFILES)]

    print(
        f"{args.connections} connections, {args.seconds} s per profile, {os.cpu_count()} cores,"
        f" {args.workers} worker(s)"
        + (
            f", server on core 0, wrk on core {PIN['wrk'][-1]}"
            if pinning and args.workers == 1
            else ", server and wrk share the cores"
        )
    )
    base = baseline(args.seconds, args.connections, args.workers)
    results = run_clearway(profiles, args.seconds, args.connections, workers=args.workers)
    print(
        f"\n{'profile':<44} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7} {'ratio':>7}"
    )
    show("baseline: hello world (same server stack)", base, None)
    for profile in profiles:
        show(profile.name, results[profile.name], base, profile.paced)
    ingest_report(profiles, results)
    if args.mode == "processes":
        processes = run_clearway(profiles, args.seconds, args.connections, "processes")
        side_by_side(profiles, results, processes)
    ingest = asyncio.run(monitor_ingest.run(min(args.seconds, 10), monitor_ingest.DEFAULT_BATCH))
    print(
        f"\nmonitor ingest alone (target 5,000 events/s): {ingest['ingest_per_second']:,.0f}"
        f" events/s ingested, {ingest['sustained_per_second']:,.0f} events/s with roll-ups"
    )


if __name__ == "__main__":
    main()
