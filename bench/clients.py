"""Pooled HTTP clients for the gateway's upstream calls, measured against a local hello-world.

`python -m bench.clients [--requests N] [--concurrency C]` starts `bench.hello` on uvicorn
(uvloop, httptools) and times N GETs from C concurrent tasks with httpx, aiohttp (when
installed) and the pool processes mode uses (`clearway.runtime.http.HttpUpstreams`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import uvloop

from bench.__main__ import HERE, free_port, serve
from clearway.kit.internal_auth import InternalCredentials
from clearway.runtime.http import HttpUpstreams
from clearway.settings import SERVICES, Settings


async def timed(get: Callable[[], Awaitable[Any]], requests: int, concurrency: int) -> float:
    async def worker(count: int) -> None:
        for _ in range(count):
            await get()

    await asyncio.gather(*(worker(requests // 10 // concurrency) for _ in range(concurrency)))
    started = time.perf_counter()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


async def measure(url: str, requests: int, concurrency: int) -> dict[str, str]:
    results: dict[str, str] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        results["httpx"] = await _rate(lambda: client.get(url), requests, concurrency)
    try:
        import aiohttp
    except ImportError:
        results["aiohttp"] = "not installed"
    else:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def get() -> None:
                async with session.get(url) as response:
                    await response.read()

            results["aiohttp"] = await _rate(get, requests, concurrency)
    settings = Settings(_env_file=None, service_urls={s: url for s in SERVICES})  # type: ignore[call-arg]
    pool = HttpUpstreams(settings, InternalCredentials(b"\0" * 32))

    async def forward() -> None:
        scope = {"method": "GET", "path": "/", "raw_path": b"/", "query_string": b"", "headers": []}
        await pool.forward("rules", scope, _no_body, _discard)

    results["clearway pool"] = await _rate(forward, requests, concurrency)
    await pool.close()
    return results


async def _rate(get: Callable[[], Awaitable[Any]], requests: int, concurrency: int) -> str:
    try:
        return f"{await timed(get, requests, concurrency):.0f} req/s"
    except Exception as exc:
        return f"failed: {type(exc).__name__}: {exc}"


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: dict[str, Any]) -> None:
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, action="append")
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.hello:app", "--port", str(port)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    with serve(command, {"PYTHONPATH": str(HERE.parent)}, f"http://127.0.0.1:{port}/"):
        for concurrency in args.concurrency or [10, 100]:
            results = uvloop.run(measure(f"http://127.0.0.1:{port}/", args.requests, concurrency))
            print(json.dumps({"concurrency": concurrency, **results}))


if __name__ == "__main__":
    main()
