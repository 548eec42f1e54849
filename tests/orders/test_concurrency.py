"""Conflicting transitions at once: one wins, the other gets 409. Retries make one order."""

from __future__ import annotations

import asyncio

from tests.orders.conftest import World, assert_problem


async def test_conflicting_transitions_one_wins(world: World) -> None:
    for _ in range(3):
        order = await world.order()
        quote = {"amount": 100, "currency": "EUR"}
        assert (await world.move(world.lab, order["id"], "quote", quote=quote)).status_code == 200
        # The customer accepts the quote while the provider withdraws from it.
        results = await asyncio.gather(
            world.move(world.alice, order["id"], "accept"),
            world.move(world.lab, order["id"], "decline", reason="fully booked"),
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert_problem(loser, 409)
        final = await world.client.get(
            f"/api/orders/orders/{order['id']}", headers=world.alice.headers
        )
        assert final.json()["version"] == 3
        assert len(final.json()["history"]) == 3


async def test_stale_version_is_refused(world: World) -> None:
    order = await world.order()
    quote = {"amount": 100, "currency": "EUR"}
    assert (
        await world.move(world.lab, order["id"], "quote", quote=quote, version=1)
    ).status_code == 200
    stale = await world.move(world.alice, order["id"], "accept", version=1)
    assert assert_problem(stale, 409)["type"].endswith("stale-version")


async def test_concurrent_retries_make_one_order(world: World) -> None:
    checklist_id = await world.checklist(world.alice)
    body = {"provider_id": world.lab.id, "checklist_id": checklist_id}
    headers = {**world.alice.headers, "idempotency-key": "retry-me"}
    results = await asyncio.gather(
        *(world.client.post("/api/orders/orders", json=body, headers=headers) for _ in range(5))
    )
    assert {r.status_code for r in results} <= {200, 201}
    assert len({r.json()["id"] for r in results}) == 1
    listed = await world.client.get("/api/orders/orders", headers=world.alice.headers)
    assert len(listed.json()) == 1
