"""Where one request's time goes: the gateway path taken apart, piece by piece, in CPU time.

`python -m bench.request_path [--requests N]` starts the whole platform in this process on a
temporary data directory, signs a customer in, then calls the ASGI apps directly (no socket,
no HTTP client) N times each way and divides the CPU time its thread spent by N:

- the whole path (gateway + service), as `clearway up` serves a request once parsed;
- the service alone, called with the internal credential as the gateway calls it;
- the gateway alone, forwarding to an upstream that answers at once;
- inside the gateway: the token check, the rate limit, the request record.

The HTTP server's own share (parsing, writing, the event loop) is measured by running the
hello-world baseline on the same server stack under wrk and dividing its CPU time by the
requests it answered. CPU time, not wall time: the figures do not depend on what else the
machine runs, so they compare across runs. A cProfile listing of the whole path follows.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.__main__ import HERE, free_port, hello_command, serve
from clearway.kit.caller import Caller
from clearway.kit.internal_auth import (
    CALLER_HEADER,
    INTERNAL_HEADER,
    RequireInternalCredential,
)
from clearway.runtime.inprocess import InProcessUpstreams
from clearway.runtime.platform import Platform
from clearway.settings import Settings

PATHS = {
    "me": "/api/identity/me",
    "search": "/api/rules/search?market=EU&hs_code=8518.22",
}
SERVICE = {"me": "identity", "search": "rules"}
PASSWORD = "profile-passphrase-1"


def scope_for(url: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    path, _, query = url.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def call(app: ASGIApp, scope: Scope) -> int:
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


async def cpu_per_call(step: Callable[[], Awaitable[Any]], count: int) -> float:
    """Microseconds of the serving thread's CPU per call, after a warm-up.

    The thread's, not the process's: the database threads go on with what earlier rounds left
    them (the monitor storing thousands of request records and search events), and would land
    on whichever piece is measured meanwhile. The two paths measured never leave the thread."""
    for _ in range(max(50, count // 20)):
        await step()
    started = time.thread_time()
    for _ in range(count):
        await step()
    spent = time.thread_time() - started
    # The calls above never wait, so nothing else ran meanwhile: let the platform's background
    # tasks (the bus, telemetry flushes) catch up, outside the measurement.
    await asyncio.sleep(0.2)
    return spent / count * 1e6


async def answer_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


async def breakdown(
    requests: int, repeat: int = 1, compare: bool = False
) -> tuple[dict[str, dict[str, list[float]]], str]:
    with tempfile.TemporaryDirectory(prefix="clearway-profile-") as tmp:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(tmp),
            admin_password="profile-admin-password",
            ratelimit_user_per_second=1e9,
            ratelimit_user_burst=10**9,
            ratelimit_address_per_second=1e9,
            ratelimit_address_burst=10**9,
        )
        platform = Platform(settings)
        await platform.start()
        try:
            transport = httpx.ASGITransport(app=platform.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                body = {
                    "email": "p@example.com",
                    "password": PASSWORD,
                    "role": "customer",
                    "name": "Profile",
                }
                (await http.post("/api/identity/register", json=body)).raise_for_status()
                login = await http.post(
                    "/api/identity/login", json={"email": body["email"], "password": PASSWORD}
                )
                token = login.json()["access_token"]
                auth = {"authorization": f"Bearer {token}"}
                user_id = (await http.get("/api/identity/me", headers=auth)).json()["id"]
            bearer = [(b"authorization", f"Bearer {token}".encode())]
            runs: dict[str, dict[str, list[float]]] = {}
            gateway = platform.gateway
            upstreams = gateway.upstreams
            assert isinstance(upstreams, InProcessUpstreams)
            for name, url in PATHS.items():
                full = scope_for(url, bearer)
                internal = scope_for(
                    url,
                    [
                        (INTERNAL_HEADER, platform.credentials.token().encode()),
                        (CALLER_HEADER, Caller("customer", user_id).header().encode()),
                    ],
                )
                hosted = platform.hosted[SERVICE[name]]
                # The same service behind FastAPI alone, as before the fast lane.
                plain = RequireInternalCredential(hosted.service.api, platform.credentials)

                async def whole_path_plain(
                    scope: Scope = full, app: ASGIApp = plain, service: str = SERVICE[name]
                ) -> int:
                    fast = upstreams.apps[service]
                    upstreams.apps[service] = app
                    try:
                        return await call(platform.app, scope)
                    finally:
                        upstreams.apps[service] = fast

                async def gateway_alone(scope: Scope = full) -> int:
                    real = gateway.upstreams
                    gateway.upstreams = _Immediate()
                    try:
                        return await call(gateway, scope)
                    finally:
                        gateway.upstreams = real

                async def record(route: str = url.partition("?")[0]) -> None:
                    gateway.recorder.record(
                        {
                            "route": route,
                            "method": "GET",
                            "status": 200,
                            "latency_ms": 1.0,
                            "role": "customer",
                            "user_id": user_id,
                            "client": "127.0.0.1",
                            "request_id": "0" * 32,
                        }
                    )

                steps: dict[str, Callable[[], Awaitable[Any]]] = {
                    "whole path": partial(call, platform.app, full),
                    "service": partial(call, hosted.app, internal),
                    "gateway": gateway_alone,
                    "token check": partial(gateway.verifier.authenticate, token),
                    "rate limit": partial(gateway.limiter.check, "default", "127.0.0.1", user_id),
                    "request record": record,
                }
                if compare:
                    steps["whole path, FastAPI only"] = whole_path_plain
                    steps["service, FastAPI only"] = partial(call, plain, internal)
                runs[name] = {piece: [] for piece in steps}
                # Rounds interleave the pieces, so a busy spell on the machine is spread
                # over all of them rather than landing on one.
                for _ in range(repeat):
                    for piece, step in steps.items():
                        runs[name][piece].append(await cpu_per_call(step, requests))
            profile = cProfile.Profile()
            scope = scope_for(PATHS["me"], bearer)
            profile.enable()
            for _ in range(requests):
                await call(platform.app, scope)
            profile.disable()
            listing = io.StringIO()
            pstats.Stats(profile, stream=listing).sort_stats("tottime").print_stats(25)
            return runs, listing.getvalue()
        finally:
            await platform.stop()


class _Immediate:
    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        await answer_at_once(scope, receive, send)


def server_cost(seconds: int = 5) -> float:
    """CPU microseconds the server stack (uvicorn, uvloop, httptools) spends per request on the
    hello world: what every request costs before the gateway sees it."""
    port = free_port()
    command = hello_command(port)
    with serve(command, {"PYTHONPATH": str(HERE.parent)}, f"http://127.0.0.1:{port}/") as server:
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                "-c50",
                f"-d{seconds}s",
                "-s",
                str(HERE / "report.lua"),
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        cpu = cpu_seconds(server.pid) - before
    requests = json.loads(next(ln for ln in out.splitlines() if ln.startswith("{")))["requests"]
    return cpu / int(requests) * 1e6


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far."""
    return sum(cpu_times(pid))


def cpu_times(pid: int, thread: int | None = None) -> tuple[float, float]:
    """User and system CPU seconds a process, or one of its threads, has used so far."""
    fields = proc_stat(pid, thread)
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def proc_stat(pid: int, thread: int | None = None) -> list[str]:
    """The fields of /proc/<pid>/stat (or of a thread's) after the command's name, the first
    being the state (field 3 of proc(5)); the name may hold spaces and parentheses."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    return Path(path).read_text().rpartition(")")[2].split()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--no-server", action="store_true", help="skip the server's share")
    parser.add_argument("--profile", action="store_true", help="print the cProfile listing")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every measurement; medians are shown"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also measure the services behind FastAPI alone, without the kit's fast lane",
    )
    args = parser.parse_args()
    runs, listing = asyncio.run(breakdown(args.requests, args.repeat, args.compare))
    results = {n: {piece: median(values) for piece, values in runs[n].items()} for n in runs}
    servers = [] if args.no_server else [server_cost() for _ in range(args.repeat)]
    server = median(servers) if servers else 0.0
    rounds = f", median of {args.repeat} rounds" if args.repeat > 1 else ""
    print(f"CPU µs per request ({args.requests:,} calls each{rounds}, {os.cpu_count()} cores)\n")
    print(f"{'piece':<34}" + "".join(f"{name:>12}" for name in PATHS))
    pieces = ("token check", "rate limit", "request record")
    compared = ("whole path, FastAPI only", "service, FastAPI only") if args.compare else ()
    for piece in ("whole path", "service", "gateway", *pieces):
        label = piece if piece in ("whole path",) else f"  {piece}"
        print(f"{label:<34}" + "".join(f"{results[n][piece]:>12.1f}" for n in PATHS))
    rest = {n: results[n]["gateway"] - sum(results[n][p] for p in pieces) for n in PATHS}
    print(f"{'  routing, headers, forwarding':<34}" + "".join(f"{rest[n]:>12.1f}" for n in PATHS))
    for piece in compared:
        print(f"{piece:<34}" + "".join(f"{results[n][piece]:>12.1f}" for n in PATHS))
    if server:
        print(f"{'server (uvicorn + httptools)':<34}" + f"{server:>12.1f}" * len(PATHS))
        total = {n: results[n]["whole path"] + server for n in PATHS}
        print(f"{'total per request':<34}" + "".join(f"{total[n]:>12.1f}" for n in PATHS))
        per_core = "".join(f"{1e6 / total[n]:>12,.0f}" for n in PATHS)
        print(f"{'=> requests/s per core':<34}" + per_core)
        print(f"{'hello world per core':<34}" + f"{1e6 / server:>12,.0f}" * len(PATHS))
    if args.repeat > 1:
        # How far apart the rounds were: the noise a difference has to stand out from.
        print(f"\n{'spread (max - min) / median':<34}")
        for piece in ("whole path", "service", *compared):
            spread = "".join(f"{_spread(runs[n][piece]):>11.0%} " for n in PATHS)
            print(f"{'  ' + piece:<34}" + spread)
        if servers:
            print(f"{'  server':<34}" + f"{_spread(servers):>11.0%} " * len(PATHS))
    if args.profile:
        print("\n" + listing)


def _spread(values: list[float]) -> float:
    return (max(values) - min(values)) / median(values)


if __name__ == "__main__":
    main()
