"""Object-level authorization: an order, its files and its certificates belong to its parties."""

from __future__ import annotations

import base64

from tests.orders.conftest import World, assert_problem


async def test_another_customer_cannot_see_or_touch_an_order(world: World) -> None:
    client, bob = world.client, world.bob
    order = await world.in_progress()
    oid = order["id"]
    upload = await client.post(
        f"/api/orders/orders/{oid}/attachments",
        json={"filename": "a.txt", "content_type": "text/plain",
              "content_base64": base64.b64encode(b"private").decode()},
        headers=world.alice.headers,
    )  # fmt: skip
    attachment_id = upload.json()["id"]
    for response in (
        await client.get(f"/api/orders/orders/{oid}", headers=bob.headers),
        await client.get(f"/api/orders/orders/{oid}/messages", headers=bob.headers),
        await client.post(
            f"/api/orders/orders/{oid}/messages", json={"body": "hi"}, headers=bob.headers
        ),
        await client.get(f"/api/orders/orders/{oid}/attachments", headers=bob.headers),
        await client.get(
            f"/api/orders/orders/{oid}/attachments/{attachment_id}", headers=bob.headers
        ),
        await client.get(f"/api/orders/orders/{oid}/reports", headers=bob.headers),
        await world.move(bob, oid, "cancel", reason="mine now"),
    ):
        assert_problem(response, 404)
    assert (await client.get("/api/orders/orders", headers=bob.headers)).json() == []


async def test_a_provider_sees_only_its_own_orders(world: World) -> None:
    order = await world.order()
    other = world.other_lab
    assert (await world.client.get("/api/orders/orders", headers=other.headers)).json() == []
    assert_problem(
        await world.client.get(f"/api/orders/orders/{order['id']}", headers=other.headers), 404
    )
    assert_problem(await world.move(other, order["id"], "quote",
                                    quote={"amount": 1, "currency": "EUR"}), 404)  # fmt: skip
    mine = await world.client.get("/api/orders/orders", headers=world.lab.headers)
    assert [o["id"] for o in mine.json()] == [order["id"]]


async def test_each_transition_only_by_its_party(world: World) -> None:
    order = await world.order()
    # The customer cannot quote its own order; the provider cannot accept a quote.
    refused = await world.move(world.alice, order["id"], "quote",
                               quote={"amount": 1, "currency": "EUR"})  # fmt: skip
    assert_problem(refused, 403)
    await world.move(world.lab, order["id"], "quote", quote={"amount": 1, "currency": "EUR"})
    assert_problem(await world.move(world.lab, order["id"], "accept"), 403)
    # Creating orders and requesting clearances is for customers; the gateway says so first.
    response = await world.client.post(
        "/api/orders/orders",
        json={"provider_id": world.lab.id, "checklist_id": "x"},
        headers={**world.lab.headers, "idempotency-key": "k"},
    )
    assert_problem(response, 403)


async def test_reports_and_certificates_belong_to_their_customer(world: World) -> None:
    order = await world.in_progress()
    codes = [r["code"] for r in order["requirements"]]
    report = await world.report(order["id"], codes)
    assert_problem(
        await world.client.get(f"/api/orders/reports/{report['id']}", headers=world.bob.headers),
        404,
    )
    # Bob cannot build a clearance on Alice's report, nor on Alice's checklist.
    bobs_checklist = await world.checklist(world.bob)
    refused = await world.client.post(
        "/api/orders/clearances",
        json={"checklist_id": bobs_checklist, "report_ids": [report["id"]]},
        headers=world.bob.headers,
    )
    body = assert_problem(refused, 422)
    assert body["rejected_reports"] == [
        {"report_id": report["id"], "reason": "no such report of yours"}
    ]
    await world.deliver(order["id"])
    alices = await world.client.post(
        "/api/orders/clearances",
        json={"checklist_id": order["checklist_id"], "report_ids": [report["id"]]},
        headers=world.bob.headers,
    )
    assert_problem(alices, 404)
    issued = await world.client.post(
        "/api/orders/clearances",
        json={"checklist_id": order["checklist_id"], "report_ids": [report["id"]]},
        headers=world.alice.headers,
    )
    assert issued.status_code == 201, issued.text
    cid = issued.json()["id"]
    assert_problem(
        await world.client.get(f"/api/orders/clearances/{cid}", headers=world.bob.headers), 404
    )
    assert (
        await world.client.get("/api/orders/clearances", headers=world.bob.headers)
    ).json() == []
    # Only the issuing provider withdraws a report.
    assert_problem(
        await world.client.post(
            f"/api/orders/reports/{report['id']}/withdraw",
            json={"reason": "no"},
            headers=world.other_lab.headers,
        ),
        404,
    )


async def test_notifications_are_private(world: World) -> None:
    await world.order()
    response = await world.client.get("/api/common/notifications", headers=world.bob.headers)
    assert response.json()["items"] == []
    assert_problem(await world.client.get("/api/common/notifications"), 401)
