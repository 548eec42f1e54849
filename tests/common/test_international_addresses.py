"""An address like `zoë@exämple.org` is accepted at registration and its mail is delivered
(SMTPUTF8 for the local part, the domain in IDNA form where ASCII suffices), through the
gateway and a real SMTP server (aiosmtpd) on this machine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.kit.mail.test_smtp_mailer import Collector, EphemeralController, received
from tests.support import eventually, platform_api


@pytest.fixture
def relay() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    controller = EphemeralController(handler, hostname="127.0.0.1", port=0, enable_SMTPUTF8=True)
    controller.start()  # type: ignore[no-untyped-call]
    try:
        yield handler, controller.port
    finally:
        controller.stop()  # type: ignore[no-untyped-call]


@pytest.fixture
async def api(
    tmp_path: Path, seeded_data_dir: Path, relay: tuple[Collector, int]
) -> AsyncIterator[Api]:
    smtp: dict[str, Any] = {"mail_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": relay[1]}
    async with platform_api(tmp_path / "data", seed=seeded_data_dir, **smtp) as api:
        yield api


@pytest.mark.asyncio
async def test_international_addresses_get_their_mail(
    api: Api, relay: tuple[Collector, int]
) -> None:
    handler, _ = relay
    for email in ("zoë@exämple.org", "ann@exämple.org"):
        response = await api.register(email, name="Zoë")
        assert response.status_code == 201, response.text
        assert (await api.login(email))["access_token"]

    async def delivered() -> bool:
        return len(handler.envelopes) >= 2

    await eventually(delivered)
    recipients = sorted(r for envelope in handler.envelopes for r in envelope.rcpt_tos)
    # An ASCII local part goes out all ASCII (IDNA domain): any relay takes it.
    assert recipients == ["ann@xn--exmple-cua.org", "zoë@exämple.org"]
    utf8 = next(e for e in handler.envelopes if e.rcpt_tos == ["zoë@exämple.org"])
    assert "SMTPUTF8" in utf8.mail_options
    assert received(utf8)["To"] == "zoë@exämple.org"
    assert not await api.platform.bus.dead_letters("common")
