"""Helpers for suites that test promises through the gateway: problems, mail, tokens, platforms."""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
import uvicorn
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from clearway.kit.bus import CloudEvent
from clearway.kit.bus.events import expand
from clearway.runtime.platform import Platform
from clearway.services.identity.tables import signing_keys
from tests.conftest import Api, bearer, test_settings

PROBLEM_JSON = "application/problem+json"
RESET_TOKEN = re.compile(r"reset-password\?token=([A-Za-z0-9_-]+)")


def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """An RFC 9457 answer: the media type, and `type`, `title`, `status` matching the response."""
    context = f"{response.request.method} {response.request.url.path}: {response.text[:300]}"
    if status is not None:
        assert response.status_code == status, context
    assert 400 <= response.status_code < 600, context
    assert response.headers["content-type"].startswith(PROBLEM_JSON), context
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("type"), str), context
    assert isinstance(body.get("title"), str), context
    assert body.get("status") == response.status_code, context
    return body


def assert_client_error(response: httpx.Response) -> dict[str, Any]:
    """Bad input: a 4xx problem, never a 5xx."""
    body = assert_problem(response)
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    return body


# How long to wait for something asynchronous before failing: generous, so that a machine busy
# with other work never fails a test; a passing test returns as soon as its condition holds.
PATIENCE = 30.0


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = PATIENCE, interval: float = 0.05
) -> None:
    """Poll `check` until it holds; fail after `within` seconds (delivery is asynchronous)."""
    deadline = time.monotonic() + within
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)


@asynccontextmanager
async def serving(config: uvicorn.Config) -> AsyncIterator[int]:
    """`config`'s app behind a real HTTP server on a free port of 127.0.0.1, in this loop;
    yields the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))

    async def started() -> bool:
        return server.started

    try:
        await eventually(started, within=30)
        yield int(listener.getsockname()[1])
    finally:
        server.should_exit = True
        await task
        listener.close()


async def mails(
    api: Api,
    recipient: str,
    template: str | None = None,
    *,
    at_least: int = 1,
    within: float = PATIENCE,
) -> list[dict[str, Any]]:
    """The mail in the local mailbox for `recipient`, waiting until `at_least` have arrived."""
    admin = await api.admin_token()
    params = {"recipient": recipient, "limit": "100"}
    if template:
        params["template"] = template
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        nonlocal found
        response = await api.client.get("/api/common/mailbox", params=params, headers=bearer(admin))
        assert response.status_code == 200, response.text
        found = response.json()["items"]
        return len(found) >= at_least

    await eventually(arrived, within)
    return found


async def reset_token(api: Api, email: str, *, at_least: int = 1) -> str:
    """The token from the newest password-reset mail's link."""
    newest = (await mails(api, email, "password_reset", at_least=at_least))[0]
    match = RESET_TOKEN.search(newest["text"])
    assert match, newest["text"]
    return match.group(1)


async def refused(api: Api, token: str, within: float = PATIENCE) -> None:
    """The gateway refuses `token` soon (it polls revocations every second)."""

    async def is_refused() -> bool:
        response = await api.client.get("/api/identity/me", headers=bearer(token))
        return response.status_code == 401

    await eventually(is_refused, within)


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without verifying (for looking, never for trusting)."""
    return dict(orjson.loads(b64decode(token.split(".")[1])))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def active_signing_key(platform: Platform) -> OKPKey:
    """Identity's current private signing key, to mint tokens that differ in one claim only."""
    context = platform.hosted["identity"].context
    async with context.db.read() as session:
        row = (
            await session.execute(
                select(signing_keys)
                .where(signing_keys.c.retired_at.is_(None))
                .order_by(signing_keys.c.created_at.desc())
            )
        ).first()
        assert row is not None
        private = await context.cipher.decrypt(
            session, "signing_keys", "private_enc", row.kid, row.private_enc
        )

    async def published() -> bool:
        # A key rotated in by an earlier test is signed with once identity reloads its keys.
        platform.jobs.trigger("identity-signing-keys")
        jwks = await platform.upstreams.get_json("identity", "/.well-known/jwks.json")
        return row.kid in {k["kid"] for k in jwks["keys"]}

    await eventually(published)
    return OKPKey.import_key(orjson.loads(private))


def mint(
    key: OKPKey, claims: dict[str, Any], *, alg: str = "Ed25519", kid: str | None = None
) -> str:
    header = {"alg": alg, "kid": kid if kid is not None else key.kid, "typ": "at+jwt"}
    return jwt.encode(header, claims, key, algorithms=[alg])


@asynccontextmanager
async def platform_api(
    data_dir: Path, *, seed: Path | None = None, **overrides: Any
) -> AsyncIterator[Api]:
    """A platform with settings overrides, and a client through its gateway (as `api`).

    `seed`: start from a copy of this data directory (the `seeded_data_dir` fixture) rather
    than paying for a first start.
    """
    if seed is not None:
        shutil.copytree(seed, data_dir)
    platform = Platform(test_settings(data_dir, **overrides))
    await platform.start()
    try:
        transport = httpx.ASGITransport(app=platform)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, platform)
    finally:
        await platform.stop()


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def shared_api(
    tmp_path_factory: pytest.TempPathFactory, seeded_data_dir: Path
) -> AsyncIterator[Api]:
    """One platform for a whole test package, for tests that need no fresh one.

    A platform starts in seconds (migrations, the shipped rule base), so tests that only add
    their own users (distinct e-mails) share one. Modules using it run on the package's event
    loop: `pytestmark = pytest.mark.asyncio(loop_scope="package")`. Tests that count users,
    lock addresses or change settings build their own with `platform_api`.
    """
    directory = tmp_path_factory.mktemp("shared") / "data"
    async with platform_api(directory, seed=seeded_data_dir) as api:
        yield api


@asynccontextmanager
async def client_at(api: Api, address: str) -> AsyncIterator[Api]:
    """The same platform seen from another client address (own rate and sign-in buckets)."""
    transport = httpx.ASGITransport(app=api.platform, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, api.platform)


@dataclass
class HeldForward:
    """What `hold_forward` gives: set `release` to let the held path on; `forwarded` lists the
    path of every request the gateway forwarded, in order."""

    release: asyncio.Event
    forwarded: list[str]


def hold_forward(platform: Platform, monkeypatch: pytest.MonkeyPatch, path: str) -> HeldForward:
    """From now on the gateway's forward of `path` waits until `release` is set (for ever, if
    nothing sets it): a service that is stuck, whatever the machine's speed."""
    held = HeldForward(asyncio.Event(), [])
    upstreams = platform.upstreams
    original = upstreams.forward

    async def forward(service: str, scope: Scope, receive: Receive, send: Send) -> None:
        held.forwarded.append(scope["path"])
        if scope["path"] == path:
            await held.release.wait()
        await original(service, scope, receive, send)

    monkeypatch.setattr(upstreams, "forward", forward)
    return held


def capture_published(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> list[CloudEvent]:
    """Every event the platform publishes from now on, telemetry envelopes opened."""
    published: list[CloudEvent] = []
    original = platform.bus.publish_many

    async def capture(events: Sequence[CloudEvent]) -> None:
        published.extend(event for envelope in events for event in expand(envelope))
        await original(events)

    monkeypatch.setattr(platform.bus, "publish_many", capture)
    return published
