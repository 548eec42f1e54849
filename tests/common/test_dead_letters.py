"""Dead letters through the gateway: an administrator lists the events a queue gave up on and
replays them."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearway.kit.bus import CloudEvent
from clearway.runtime.platform import Platform
from tests.conftest import Api, bearer, test_settings

WAIT_SECONDS = 60.0


@pytest.fixture
async def api(tmp_path: Path, seeded_data_dir: Path) -> AsyncIterator[Api]:
    """A platform whose queues give up after the first failure, so a poison event dead-letters
    at once."""
    shutil.copytree(seeded_data_dir, tmp_path / "data")
    platform = Platform(test_settings(tmp_path / "data", bus_max_attempts=1))
    await platform.start()
    try:
        transport = httpx.ASGITransport(app=platform)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, platform)
    finally:
        await platform.stop()


async def poison(api: Api) -> CloudEvent:
    """A mail request without a recipient: it does not fit the `MailRequested` contract, so
    common's queue gives up on it at once, every time."""
    event = CloudEvent.new("/tests", "mail.requested", {"template": "welcome", "values": {}})
    await api.platform.bus.publish_many([event])
    return event


async def dead_letter_of(api: Api, token: str, event: CloudEvent) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        while True:
            # Every queue whose consumer validates the event gives up on it: common's is asked for.
            response = await api.client.get(
                "/api/common/dead-letters", params={"queue": "common"}, headers=bearer(token)
            )
            assert response.status_code == 200, response.text
            for letter in response.json():
                if letter["event_id"] == event.id:
                    return dict(letter)
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(wait(), WAIT_SECONDS)


async def test_a_poison_event_is_listed_with_its_failure(api: Api) -> None:
    admin = await api.admin_token()
    event = await poison(api)
    letter = await dead_letter_of(api, admin, event)
    assert letter["queue"] == "common"
    assert letter["event_type"] == "mail.requested"
    assert letter["event_source"] == "/tests"
    assert letter["data"] == {"template": "welcome", "values": {}}
    assert letter["attempts"] == 1
    assert letter["last_error"].startswith("Undeliverable: mail.requested v1:")
    assert "user_id" in letter["last_error"]  # the field the contract misses
    only_other = await api.client.get(
        "/api/common/dead-letters", params={"queue": "orders"}, headers=bearer(admin)
    )
    assert [x["event_id"] for x in only_other.json()] == []


async def test_replay_puts_the_event_back_for_its_consumer(api: Api) -> None:
    admin = await api.admin_token()
    event = await poison(api)
    first = await dead_letter_of(api, admin, event)
    replayed = await api.client.post(
        "/api/common/dead-letters/replay", json={"ids": [first["id"]]}, headers=bearer(admin)
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {"replayed": 1}
    # The consumer really took it again: still poisonous, it failed anew and came back.
    again = await dead_letter_of(api, admin, event)
    assert again["failed_at"] > first["failed_at"]
    assert again["attempts"] == 1


async def test_replay_all_of_one_queue(api: Api) -> None:
    admin = await api.admin_token()
    events = [await poison(api), await poison(api)]
    for event in events:
        await dead_letter_of(api, admin, event)
    response = await api.client.post(
        "/api/common/dead-letters/replay",
        json={"all": True, "queue": "common"},
        headers=bearer(admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["replayed"] >= 2


async def test_replaying_unknown_ids_or_nothing_is_a_clear_problem(api: Api) -> None:
    admin = await api.admin_token()
    unknown = await api.client.post(
        "/api/common/dead-letters/replay", json={"ids": [987654]}, headers=bearer(admin)
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    for body in ({}, {"ids": [1], "all": True}, {"all": True, "queue": "Not A Queue!"}):
        bad = await api.client.post(
            "/api/common/dead-letters/replay", json=body, headers=bearer(admin)
        )
        assert bad.status_code == 422, body
        assert bad.headers["content-type"].startswith("application/problem+json")


async def test_only_administrators_see_dead_letters(api: Api) -> None:
    customer = await api.customer("dlq-customer@example.com")
    listed = await api.client.get("/api/common/dead-letters", headers=bearer(customer))
    assert listed.status_code == 403
    replay = await api.client.post(
        "/api/common/dead-letters/replay", json={"all": True}, headers=bearer(customer)
    )
    assert replay.status_code == 403
    anonymous = await api.client.get("/api/common/dead-letters")
    assert anonymous.status_code == 401
