"""Erasure: once an account is deleted, the other side of its orders can no longer read what
that user wrote or received (note, messages, attachments, reasons); the rest reads "erased"."""

from __future__ import annotations

import base64
from typing import Any

from tests.orders.conftest import User, World, assert_problem, eventually

ERASED = "[erased]"


async def attach(world: World, who: User, order_id: str, name: str, text: bytes) -> str:
    uploaded = await world.client.post(
        f"/api/orders/orders/{order_id}/attachments",
        json={
            "filename": name,
            "content_type": "text/plain",
            "content_base64": base64.b64encode(text).decode(),
        },
        headers=who.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["id"])


async def exchange(world: World, customer: User) -> dict[str, Any]:
    """An order with a note, a message each way, a file each way, cancelled with a reason."""
    order = await world.order(customer, note=f"Note of {customer.email}")
    path = f"/api/orders/orders/{order['id']}"
    for who, text in ((world.lab, "Which voltage?"), (customer, "230 V, please")):
        posted = await world.client.post(
            f"{path}/messages", json={"body": text}, headers=who.headers
        )
        assert posted.status_code == 201, posted.text
    files = [
        await attach(world, customer, order["id"], "wiring.txt", b"live, neutral, earth"),
        await attach(world, world.lab, order["id"], "quote.txt", b"EUR 1200"),
    ]
    cancelled = await world.move(customer, order["id"], "cancel", reason="Found a cheaper lab.")
    assert cancelled.status_code == 200, cancelled.text
    return {"order": order, "path": path, "files": files}


async def readings(world: World, path: str) -> dict[str, Any]:
    headers = world.lab.headers
    order = await world.client.get(path, headers=headers)
    messages = await world.client.get(f"{path}/messages", headers=headers)
    files = await world.client.get(f"{path}/attachments", headers=headers)
    for response in (order, messages, files):
        assert response.status_code == 200, response.text
    return {
        "reasons": [s["reason"] for s in order.json()["history"] if s["reason"]],
        "messages": [m["body"] for m in messages.json()],
        "files": [f["filename"] for f in files.json()],
    }


async def test_deleting_an_account_erases_its_side_of_every_order(world: World) -> None:
    alices = await exchange(world, world.alice)
    bobs = await exchange(world, world.bob)
    before = await readings(world, alices["path"])
    assert before["messages"] == [
        "Note of alice@example.com",
        "Which voltage?",
        "230 V, please",
    ]
    assert before["reasons"] == ["Found a cheaper lab."]

    deleted = await world.client.delete(
        f"/api/identity/users/{world.alice.id}", headers=world.admin.headers
    )
    assert deleted.status_code == 204, deleted.text

    async def erased() -> bool:
        return (await readings(world, alices["path"]))["messages"] == [ERASED] * 3

    await eventually(erased)
    after = await readings(world, alices["path"])
    assert after == {"reasons": [ERASED], "messages": [ERASED] * 3, "files": [ERASED] * 2}
    for attachment_id in alices["files"]:
        gone = await world.client.get(
            f"{alices['path']}/attachments/{attachment_id}", headers=world.lab.headers
        )
        assert assert_problem(gone, 410)["type"].endswith("attachment-erased")
    # Another customer's orders with the same provider are untouched.
    bob = await readings(world, bobs["path"])
    assert bob["messages"][0] == "Note of bob@example.com"
    assert bob["reasons"] == ["Found a cheaper lab."]
    kept = await world.client.get(
        f"{bobs['path']}/attachments/{bobs['files'][0]}", headers=world.lab.headers
    )
    assert kept.status_code == 200 and kept.content == b"live, neutral, earth"
