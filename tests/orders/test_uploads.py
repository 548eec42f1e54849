"""Uploads: a per-file limit, per-order and per-user storage quotas (413 with the figures, held
against concurrent uploads too), the gateway's larger body limit for upload routes only, and no
new files or messages on a closed order (409)."""

from __future__ import annotations

import asyncio
import base64
import shutil
from pathlib import Path

import httpx
import pytest

from clearway.settings import Settings
from tests.conftest import test_settings
from tests.orders.conftest import User, World, assert_problem

FILE_LIMIT, ORDER_QUOTA, USER_QUOTA = 4096, 6000, 9000


@pytest.fixture
def settings(tmp_path: Path, seeded_data_dir: Path) -> Settings:
    shutil.copytree(seeded_data_dir, tmp_path / "data")
    return test_settings(
        tmp_path / "data",
        orders_attachment_max_bytes=FILE_LIMIT,
        orders_order_storage_bytes=ORDER_QUOTA,
        orders_user_storage_bytes=USER_QUOTA,
    )


async def upload(world: World, who: User, order_id: str, size: int) -> httpx.Response:
    return await world.client.post(
        f"/api/orders/orders/{order_id}/attachments",
        json={
            "filename": "notes.txt",
            "content_type": "text/plain",
            "content_base64": base64.b64encode(b"x" * size).decode(),
        },
        headers=who.headers,
    )


async def test_the_file_limit_and_the_quotas_answer_413_with_the_figures(world: World) -> None:
    first, second, third = [await world.order() for _ in range(3)]
    too_big = assert_problem(await upload(world, world.alice, first["id"], FILE_LIMIT + 1), 413)
    assert too_big["type"].endswith("file-too-large")
    assert (too_big["size"], too_big["max_bytes"]) == (FILE_LIMIT + 1, FILE_LIMIT)
    as_form = await world.client.post(
        f"/api/orders/orders/{first['id']}/attachments",
        files={"file": ("notes.txt", b"x" * (FILE_LIMIT + 1), "text/plain")},
        headers=world.alice.headers,
    )
    assert assert_problem(as_form, 413)["max_bytes"] == FILE_LIMIT

    assert (await upload(world, world.alice, first["id"], 4000)).status_code == 201
    full = assert_problem(await upload(world, world.lab, first["id"], 2001), 413)
    assert full["type"].endswith("order-storage-full")
    assert (full["size"], full["used"], full["limit"]) == (2001, 4000, ORDER_QUOTA)
    assert "4000" in full["detail"] and str(ORDER_QUOTA) in full["detail"]
    # The lab's own uploads elsewhere are its own; Alice's count against her quota.
    assert (await upload(world, world.lab, first["id"], 2000)).status_code == 201
    assert (await upload(world, world.alice, second["id"], 4000)).status_code == 201
    mine = assert_problem(await upload(world, world.alice, third["id"], 1001), 413)
    assert mine["type"].endswith("user-storage-full")
    assert (mine["used"], mine["limit"]) == (8000, USER_QUOTA)
    assert (await upload(world, world.alice, third["id"], 1000)).status_code == 201


async def test_concurrent_uploads_never_take_an_order_or_a_user_past_its_quota(
    world: World,
) -> None:
    orders = [await world.order() for _ in range(3)]
    # Two 4000-byte files per order at once: each order has room for one, Alice for two.
    results = await asyncio.gather(
        *(upload(world, world.alice, order["id"], 4000) for order in orders for _ in range(2))
    )
    stored = [r for r in results if r.status_code == 201]
    assert len(stored) == 2, [r.text for r in results]
    for refused in (r for r in results if r.status_code != 201):
        problem = assert_problem(refused, 413)
        assert problem["type"].endswith(("order-storage-full", "user-storage-full"))
        assert problem["used"] + problem["size"] > problem["limit"]
    per_order = []
    for order in orders:
        listed = await world.client.get(
            f"/api/orders/orders/{order['id']}/attachments", headers=world.alice.headers
        )
        per_order.append(sum(a["size"] for a in listed.json()))
    assert max(per_order) <= ORDER_QUOTA
    assert sum(per_order) == 8000 <= USER_QUOTA


async def test_closed_orders_take_no_messages_or_files(world: World) -> None:
    order = await world.order()
    cancelled = await world.move(world.alice, order["id"], "cancel", reason="Not needed.")
    assert cancelled.status_code == 200, cancelled.text
    path = f"/api/orders/orders/{order['id']}"
    for who in (world.alice, world.lab):
        message = await world.client.post(
            f"{path}/messages", json={"body": "Hello?"}, headers=who.headers
        )
        assert assert_problem(message, 409)["type"].endswith("order-closed")
        assert assert_problem(await upload(world, who, order["id"], 10), 409)["state"] == (
            "cancelled"
        )
    # A completed order too.
    done = await world.in_progress()
    await world.report(done["id"], [r["code"] for r in done["requirements"]])
    await world.deliver(done["id"])
    assert (await world.move(world.alice, done["id"], "complete")).status_code == 200
    late = await world.client.post(
        f"/api/orders/orders/{done['id']}/messages", json={"body": "Thanks!"},
        headers=world.alice.headers,
    )  # fmt: skip
    assert assert_problem(late, 409)["state"] == "completed"
    assert_problem(await upload(world, world.lab, done["id"], 10), 409)
