"""`make bench`: drive Clearway through its gateway with wrk and compare with a bare baseline.

Starts a fresh `clearway up` on a temporary data directory, signs a customer in, then runs
each profile for `--seconds` at `--connections`, and the same load against a hello-world app
on the same server stack (uvicorn, uvloop, httptools). Prints one table and the ratios.
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

from bench import monitor_ingest

HERE = Path(__file__).parent
ADMIN_PASSWORD = "bench-admin-password"
CUSTOMER = {"email": "bench@example.com", "password": "bench-customer-password"}


@dataclass(frozen=True)
class Profile:
    name: str
    path: str
    target_rps: float
    authenticated: bool = True


PROFILES = {
    "me": Profile("GET /api/identity/me (customer token)", "/api/identity/me", 3000),
    "lookup": Profile(
        "GET /api/rules/search EU 8518.22 (customer)",
        "/api/rules/search?market=EU&hs_code=8518.22",
        4000,
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
def serve(command: list[str], env: dict[str, str], ready_url: str) -> Iterator[None]:
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(ready_url)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def wrk(url: str, seconds: int, connections: int, token: str | None) -> dict[str, float]:
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
        env={**os.environ, "BENCH_TOKEN": token or ""},
        capture_output=True,
        text=True,
        check=True,
    )
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("{")][-1]
    return dict(json.loads(line))


def baseline(seconds: int, connections: int) -> dict[str, float]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.hello:app",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with serve(
        pinned("server", command), {"PYTHONPATH": str(HERE.parent)}, f"http://127.0.0.1:{port}/"
    ):
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
SERVICES = ("identity", "rules", "orders", "monitor", "common")


def run_clearway(
    profiles: list[Profile], seconds: int, connections: int, mode: str = "embedded"
) -> dict[str, dict[str, float]]:
    """Each profile against a fresh `clearway up`: the telemetry one profile leaves behind
    (request and search records still being ingested) must not weigh on the next."""
    return {p.name: run_profile(p, seconds, connections, mode) for p in profiles}


def run_profile(profile: Profile, seconds: int, connections: int, mode: str) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="clearway-bench-") as tmp:
        command = [sys.executable, "-c", "from clearway.cli import main; main()", *MODES[mode]]
        env = clearway_env(Path(tmp), port)
        if mode == "processes":
            env["CLEARWAY_SERVICE_URLS"] = json.dumps(
                {name: f"http://127.0.0.1:{free_port()}" for name in SERVICES}
            )
        # Processes mode spreads over every core by design; only one process is pinned.
        launch = command if mode == "processes" else pinned("server", command)
        with serve(launch, env, f"{base}/readyz"):
            token = customer_token(base) if profile.authenticated else None
            url = base + profile.path
            wrk(url, 3, connections, token)
            return wrk(url, seconds, connections, token)


def show(name: str, r: dict[str, float], base: dict[str, float] | None, target: float) -> None:
    ratio = f"{r['rps'] / base['rps']:.2f}" if base else "1.00"
    verdict = ""
    if target:
        ok = r["rps"] >= target and r["p99"] <= 50 and r["errors"] == 0
        verdict = "meets target" if ok else f"below target ({target:.0f} req/s, p99 <= 50 ms)"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--profile", action="append", choices=sorted(PROFILES))
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
    profiles = [PROFILES[p] for p in (args.profile or sorted(PROFILES))]

    print(
        f"{args.connections} connections, {args.seconds} s per profile, {os.cpu_count()} cores"
        + (f", server on core 0, wrk on core {PIN['wrk'][-1]}" if pinning else "")
    )
    base = baseline(args.seconds, args.connections)
    results = run_clearway(profiles, args.seconds, args.connections)
    print(
        f"\n{'profile':<44} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7} {'ratio':>7}"
    )
    show("baseline: hello world (same server stack)", base, None, 0)
    for profile in profiles:
        show(profile.name, results[profile.name], base, profile.target_rps)
    if args.mode == "processes":
        processes = run_clearway(profiles, args.seconds, args.connections, "processes")
        side_by_side(profiles, results, processes)
    ingest = asyncio.run(monitor_ingest.run(min(args.seconds, 10), monitor_ingest.DEFAULT_BATCH))
    print(
        f"\nmonitor ingest (target 5,000 events/s): {ingest['ingest_per_second']:,.0f} events/s"
        f" ingested, {ingest['sustained_per_second']:,.0f} events/s with roll-ups"
    )


if __name__ == "__main__":
    main()
