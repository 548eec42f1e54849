"""The whole platform with `bus_url` pointing at NATS: an event crosses services through it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from clearway.kit.bus import NatsBus
from clearway.runtime.platform import Platform
from tests.conftest import Api, test_settings
from tests.support import mails

from .conftest import delete_streams, unique_stream


async def test_registration_mail_travels_over_nats(
    tmp_path: Path, seeded_data_dir: Path, nats_url: str
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_data_dir, data_dir)
    stream = unique_stream()
    platform = Platform(test_settings(data_dir, bus_url=nats_url, bus_stream=stream))
    assert isinstance(platform.bus, NatsBus)
    try:
        await platform.start()
        transport = httpx.ASGITransport(app=platform)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, platform)
            assert (await api.register("over-nats@example.com")).status_code == 201
            # identity's outbox → NATS → common's durable consumer → the mailbox
            [welcome] = await mails(api, "over-nats@example.com", "welcome")
            assert welcome["recipient"] == "over-nats@example.com"
    finally:
        await platform.stop()
        await delete_streams(nats_url, stream)
