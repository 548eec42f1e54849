"""Scheduled jobs: unanswered orders expire, providers are reminded, customers are warned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from clearway.services.orders.tables import orders
from tests.orders.conftest import World, eventually


async def run(world: World, name: str) -> int:
    jobs = {j.name: j for j in world.api.platform.hosted["orders"].service.jobs}
    return int(await jobs[name].run())  # type: ignore[call-overload]


async def answer_by(world: World, order_id: str, when: datetime) -> None:
    db = world.api.platform.hosted["orders"].context.db
    async with db.transaction() as session:
        await session.execute(update(orders).where(orders.c.id == order_id).values(answer_by=when))


async def kinds(world: World, user_headers: dict[str, str]) -> set[str]:
    response = await world.client.get("/api/common/notifications", headers=user_headers)
    return {n["type"] for n in response.json()["items"]}


async def test_unanswered_orders_are_reminded_then_expire(world: World) -> None:
    order = await world.order()
    answered = await world.order()
    await world.move(world.lab, answered["id"], "quote", quote={"amount": 1, "currency": "EUR"})
    now = datetime.now(UTC)
    await answer_by(world, order["id"], now + timedelta(hours=2))
    assert await run(world, "orders-remind-providers") == 1
    assert await run(world, "orders-remind-providers") == 0  # once only

    async def reminded() -> bool:
        return "order.answer_reminder" in await kinds(world, world.lab.headers)

    await eventually(reminded)
    await answer_by(world, order["id"], now - timedelta(minutes=1))
    await answer_by(world, answered["id"], now - timedelta(minutes=1))
    assert await run(world, "orders-expire-unanswered") == 1
    expired = await world.client.get(
        f"/api/orders/orders/{order['id']}", headers=world.alice.headers
    )
    assert expired.json()["state"] == "expired"
    assert expired.json()["history"][-1]["party"] == "system"

    async def both_told() -> bool:
        return "order.expired" in await kinds(world, world.alice.headers) and (
            "order.expired" in await kinds(world, world.lab.headers)
        )

    await eventually(both_told)


async def test_customers_are_warned_before_a_report_expires(world: World) -> None:
    order = await world.in_progress()
    codes = [r["code"] for r in order["requirements"]]
    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    await world.report(order["id"], codes, expires_on=soon)
    await world.report(order["id"], codes)  # far in the future
    assert await run(world, "orders-warn-expiring-reports") == 1
    assert await run(world, "orders-warn-expiring-reports") == 0

    async def warned() -> bool:
        return "report.expiring" in await kinds(world, world.alice.headers)

    await eventually(warned)
