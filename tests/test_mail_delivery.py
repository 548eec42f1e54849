"""A mail the SMTP relay refuses is retried, then dead-lettered, and delivered once replayed:
never dropped. Against a real SMTP server (aiosmtpd) on this machine."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from clearway.runtime.platform import Platform
from clearway.settings import Settings
from tests.conftest import PASSWORD
from tests.support import eventually


class Relay:
    """Refuses every message with a transient error until told to accept."""

    def __init__(self) -> None:
        self.accepting = False
        self.refused = 0
        self.delivered: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.accepting:
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.delivered.append(envelope)
        return "250 OK"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    handler = Relay()
    controller = _Controller(handler, hostname="127.0.0.1", port=0)
    controller.start()  # type: ignore[no-untyped-call]
    try:
        yield handler, controller.port
    finally:
        controller.stop()  # type: ignore[no-untyped-call]


async def test_a_refused_mail_is_retried_dead_lettered_and_delivered_on_replay(
    settings: Settings, relay: tuple[Relay, int]
) -> None:
    handler, port = relay
    smtp = {"mail_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port}
    platform = Platform(settings.model_copy(update={**smtp, "bus_max_attempts": 3}))
    await platform.start()
    try:
        transport = httpx.ASGITransport(app=platform)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            registered = await client.post(
                "/api/identity/register",
                json={
                    "email": "retry@example.com",
                    "password": PASSWORD,
                    "role": "customer",
                    "name": "Retry",
                },
            )
            assert registered.status_code == 201

        async def dead_lettered() -> bool:
            letters = await platform.bus.dead_letters("common")
            return any(letter.event.type == "user.registered" for letter in letters)

        await eventually(dead_lettered)
        assert handler.refused == 3  # every attempt reached the relay; none was dropped
        assert handler.delivered == []

        handler.accepting = True
        assert await platform.bus.replay(None, "common") >= 1

        async def delivered() -> bool:
            return bool(handler.delivered)

        await eventually(delivered)
        assert [e.rcpt_tos for e in handler.delivered] == [["retry@example.com"]]
        assert b"Welcome to Clearway" in handler.delivered[0].content
        assert await platform.bus.dead_letters("common") == []
    finally:
        await platform.stop()
