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


async def test_the_placed_order_is_answered_as_it_was_stored(world: World) -> None:
    # The answer to a placement is built from what the transaction wrote, not read back.
    checklist_id = await world.checklist(world.alice)
    body = {"provider_id": world.lab.id, "checklist_id": checklist_id}
    headers = {**world.alice.headers, "idempotency-key": "as-stored"}
    placed = await world.client.post("/api/orders/orders", json=body, headers=headers)
    assert placed.status_code == 201, placed.text
    stored = await world.client.get(
        f"/api/orders/orders/{placed.json()['id']}", headers=world.alice.headers
    )
    assert stored.status_code == 200
    assert placed.json() == stored.json()
    again = await world.client.post("/api/orders/orders", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == stored.json()


async def test_a_key_raced_with_another_body_is_refused_not_doubled(world: World) -> None:
    # Two bodies under one key at once: one order, and the other request is told the key is
    # taken, whichever committed first.
    checklist_id = await world.checklist(world.alice)
    headers = {**world.alice.headers, "idempotency-key": "raced-bodies"}
    bodies = [
        {"provider_id": world.lab.id, "checklist_id": checklist_id},
        {"provider_id": world.lab.id, "checklist_id": checklist_id, "note": "urgent"},
    ]
    results = await asyncio.gather(
        *(world.client.post("/api/orders/orders", json=b, headers=headers) for b in bodies)
    )
    assert sorted(r.status_code for r in results) == [201, 422], [r.text for r in results]
    refused = next(r for r in results if r.status_code == 422)
    assert assert_problem(refused, 422)["type"].endswith("idempotency-key-reused")
    listed = await world.client.get("/api/orders/orders", headers=world.alice.headers)
    assert len(listed.json()) == 1
