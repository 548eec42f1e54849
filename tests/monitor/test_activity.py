"""A user's activity: every domain event that names them, report events included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from clearway.contracts.orders import (
    ClearanceIssued,
    OrderCreated,
    ReportExpiring,
    ReportIssued,
    ReportWithdrawn,
)
from tests.conftest import Api, bearer
from tests.monitor.conftest import domain_event, ingested, publish, query

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
DAY = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}


async def test_report_events_are_in_the_activity_of_both_sides_of_the_order(api: Api) -> None:
    token = await api.admin_token()
    parties = {"order_id": "o1", "customer_id": "c1", "provider_id": "p1"}
    stream = [
        domain_event(OrderCreated, T0, **parties),
        domain_event(
            ReportIssued,
            T0 + timedelta(minutes=1),
            report_id="r1",
            **parties,
            expires_on=date(2027, 1, 1),
        ),
        domain_event(
            ReportExpiring,
            T0 + timedelta(minutes=2),
            report_id="r1",
            **parties,
            expires_on=date(2027, 1, 1),
        ),
        domain_event(ReportWithdrawn, T0 + timedelta(minutes=3), report_id="r1", **parties),
        domain_event(
            ClearanceIssued,
            T0 + timedelta(minutes=4),
            clearance_id="k1",
            customer_id="c1",
            market="DE",
            hs_code="850440",
            reports=["r1"],
        ),
    ]
    await publish(api.platform, stream)

    async def activity(user_id: str) -> list[dict[str, Any]]:
        response = await api.client.get(
            "/api/monitor/activity", params={**DAY, "user_id": user_id}, headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    # Five events name the customer, four the provider (a clearance names no provider).
    await ingested(api.platform, "activity", 9, "user_id IN ('c1', 'p1')")
    # Newest first; a report event names the order it belongs to, like the order's own events.
    assert [(i["kind"], i["action"], i["subject"]) for i in await activity("c1")] == [
        ("event", "clearance.issued", "k1"),
        ("event", "report.withdrawn", "o1"),
        ("event", "report.expiring", "o1"),
        ("event", "report.issued", "o1"),
        ("event", "order.created", "o1"),
    ]
    assert [i["action"] for i in await activity("p1")] == [
        "report.withdrawn",
        "report.expiring",
        "report.issued",
        "order.created",
    ]
    # Report events are no stage of the order funnel.
    assert query(api.platform, "SELECT stage FROM order_stages WHERE order_id = 'o1'") == [
        ("created",)
    ]
