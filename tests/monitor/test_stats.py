"""Roll-ups through the gateway, checked against a known request stream worked out by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from clearway.contracts.orders import OrderAccepted, OrderCompleted, OrderCreated, OrderDeclined
from tests.conftest import Api, bearer
from tests.monitor.conftest import domain_event, envelopes, event, eventually, publish, request

T0 = datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)
DAY = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}


def known_stream() -> list[Any]:
    """Minute 10:00 on /api/test/a: 100 requests, 5 answered 500 and 10 answered 404, with
    latencies on bin bounds (10.24 ms = 0.01 ms · 2^10, and doublings) so percentiles are exact.
    Minute 10:01: 20 more at 10.24 ms. Minute 10:00 on /api/test/b: 10 POSTs, all 503."""
    stream = []
    latencies = [10.24] * 50 + [20.48] * 40 + [40.96] * 5 + [81.92] * 4 + [163.84]
    for i, latency in enumerate(latencies):
        status = 500 if i % 20 == 0 else 404 if i % 10 == 5 else 200
        stream.append(request(T0 + timedelta(milliseconds=i), "/api/test/a", status, latency))
    stream += [request(T0 + timedelta(minutes=1), "/api/test/a", 200, 10.24) for _ in range(20)]
    stream += [
        request(T0, "/api/test/b", 503, 1.0, method="POST", role="admin", user_id="admin-1")
        for _ in range(10)
    ]
    return stream


async def stats(api: Api, token: str, **params: str) -> list[dict[str, Any]]:
    response = await api.client.get(
        "/api/monitor/requests/stats", params={**DAY, **params}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_roll_ups_match_figures_worked_out_by_hand(api: Api) -> None:
    token = await api.admin_token()
    await publish(api.platform, known_stream())

    async def all_in() -> bool:
        rows = await stats(api, token, granularity="day", route="/api/test/a")
        return bool(rows) and rows[0]["requests"] == 120

    await eventually(all_in)

    minutes = await stats(api, token, granularity="minute", route="/api/test/a")
    assert [(m["start"], m["requests"]) for m in minutes] == [
        ("2026-01-01T10:00:00Z", 100),
        ("2026-01-01T10:01:00Z", 20),
    ]
    first = minutes[0]
    assert first["errors"] == 5 and first["client_errors"] == 10
    assert first["error_rate"] == 0.05
    assert first["rps"] == round(100 / 60, 6)
    # Sorted: 50 at 10.24, 40 at 20.48, 5 at 40.96, 4 at 81.92, 1 at 163.84.
    assert (first["p50_ms"], first["p95_ms"], first["p99_ms"]) == (10.24, 40.96, 81.92)
    assert first["max_ms"] == 163.84
    assert first["mean_ms"] == round((512 + 819.2 + 204.8 + 327.68 + 163.84) / 100, 3)

    # The hour holds 120: ranks 60, 114 and 119 fall on 10.24, 40.96 and 81.92.
    (hour,) = await stats(api, token, granularity="hour", route="/api/test/a")
    assert hour["start"] == "2026-01-01T10:00:00Z"
    assert (hour["requests"], hour["errors"], hour["client_errors"]) == (120, 5, 10)
    assert hour["error_rate"] == round(5 / 120, 6)
    assert hour["rps"] == round(120 / 3600, 6)
    assert (hour["p50_ms"], hour["p95_ms"], hour["p99_ms"]) == (10.24, 40.96, 81.92)
    (day,) = await stats(api, token, granularity="day", route="/api/test/a")
    assert {k: v for k, v in day.items() if k not in ("start", "rps")} == {
        k: v for k, v in hour.items() if k not in ("start", "rps")
    }

    (post,) = await stats(api, token, granularity="hour", route="/api/test/b")
    assert (post["method"], post["requests"], post["error_rate"]) == ("POST", 10, 1.0)

    # A record that arrives late is folded into its own bucket.
    await publish(api.platform, [request(T0, "/api/test/a", 200, 10.24)])

    async def late() -> bool:
        rows = await stats(api, token, granularity="minute", route="/api/test/a")
        return rows[0]["requests"] == 101

    await eventually(late)


async def test_the_same_record_delivered_twice_counts_once(api: Api) -> None:
    token = await api.admin_token()
    (envelope,) = envelopes([request(T0, "/api/test/once")])
    await api.platform.bus.publish_many([envelope])
    await eventually(lambda: _count(api, token, "/api/test/once", 1))
    # The bus delivers the same message again only after a failure; feed the handler directly,
    # as a redelivery would.
    await api.platform.hosted["monitor"].service.batch_subscriptions[0].handler([envelope])
    assert (await stats(api, token, granularity="day", route="/api/test/once"))[0]["requests"] == 1


async def _count(api: Api, token: str, route: str, expected: int) -> bool:
    rows = await stats(api, token, granularity="day", route=route)
    return bool(rows) and rows[0]["requests"] == expected


async def test_csv_export(api: Api) -> None:
    token = await api.admin_token()
    await publish(api.platform, known_stream())
    await eventually(lambda: _count(api, token, "/api/test/a", 120))
    for extra in ({"params": {"format": "csv"}}, {"headers": {"accept": "text/csv"}}):
        response = await api.client.get(
            "/api/monitor/requests/stats",
            params={**DAY, "granularity": "hour", **extra.get("params", {})},
            headers={**bearer(token), **extra.get("headers", {})},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        by_route = {row["route"]: row for row in rows}
        assert by_route["/api/test/a"]["requests"] == "120"
        assert by_route["/api/test/a"]["p95_ms"] == "40.96"
        assert by_route["/api/test/b"]["error_rate"] == "1.0"


async def test_bad_ranges_are_422_problems(api: Api) -> None:
    token = await api.admin_token()
    for path, params in (
        (
            "/api/monitor/requests/stats",
            {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        ),
        (
            "/api/monitor/requests/stats",
            {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        ),
        ("/api/monitor/requests/stats", {"from": "yesterday"}),
        ("/api/monitor/requests/stats", {"granularity": "week"}),
        (
            "/api/monitor/users/active",
            {"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"},
        ),
        ("/api/monitor/audit", {"from": "2026-01-02T00:00:00Z", "to": "2026-01-02T00:00:00Z"}),
    ):
        response = await api.client.get(path, params=params, headers=bearer(token))
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_searches_users_funnel_and_activity(api: Api) -> None:
    token = await api.admin_token()
    searches = [
        *[{"hs_code": "850440", "hs_chapter": "85", "hs_heading": "8504", "market": "DE"}] * 3,
        *[{"hs_code": "940510", "hs_chapter": "94", "hs_heading": "9405", "market": "fr"}] * 2,
        {"category": "toys", "market": "DE"},
    ]
    day2 = T0 + timedelta(days=1)
    stream = [
        *[
            event("search.performed", T0, {**s, "query": "secret", "role": "customer"})
            for s in searches
        ],
        *[domain_event(OrderCreated, T0, order_id=f"o{i}", customer_id="c1") for i in range(1, 5)],
        *[domain_event(OrderAccepted, T0, order_id=f"o{i}") for i in (1, 2, 3)],
        domain_event(OrderCompleted, T0, order_id="o1"),
        domain_event(OrderDeclined, T0, order_id="o4"),
        domain_event(OrderCreated, T0 - timedelta(days=3), order_id="o5"),
        domain_event(OrderAccepted, T0, order_id="o5"),
        request(T0, "/api/test/a", user_id="c1"),
        request(day2, "/api/test/a", user_id="c1"),
        request(T0, "/api/test/a", role="provider", user_id="p1"),
        request(day2, "/api/test/a", role="provider", user_id="p2"),
    ]
    await publish(api.platform, stream)
    two_days = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-03T00:00:00Z"}

    async def get(path: str, **params: str) -> dict[str, Any]:
        response = await api.client.get(path, params={**two_days, **params}, headers=bearer(token))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def complete() -> bool:
        funnel = await get("/api/monitor/orders/funnel")
        active = await get("/api/monitor/users/active")
        top = await get("/api/monitor/searches/top", by="market")
        return (
            funnel["submitted"] == 4
            and funnel["declined"] == 1
            and sum(i["users"] for i in active["items"]) == 3
            and sum(i["count"] for i in top["items"]) == 6
        )

    await eventually(complete)
    products = await get("/api/monitor/searches/top", by="product")
    assert products["items"] == [
        {"key": "850440", "count": 3},
        {"key": "940510", "count": 2},
        {"key": "toys", "count": 1},
    ]
    markets = await get("/api/monitor/searches/top", by="market", granularity="day")
    assert markets["items"] == [{"key": "DE", "count": 4}, {"key": "FR", "count": 2}]
    assert markets["series"] == [
        {"start": "2026-01-01T00:00:00Z", "key": "DE", "count": 4},
        {"start": "2026-01-01T00:00:00Z", "key": "FR", "count": 2},
    ]
    chapters = await get("/api/monitor/searches/top", by="chapter", limit="1")
    assert chapters["items"] == [{"key": "85", "count": 3}]

    funnel = await get("/api/monitor/orders/funnel")
    assert {k: funnel[k] for k in ("submitted", "accepted", "completed", "declined")} == {
        "submitted": 4,
        "accepted": 3,
        "completed": 1,
        "declined": 1,
    }
    assert (funnel["accepted_rate"], funnel["completed_rate"]) == (0.75, 0.25)

    active = await get("/api/monitor/users/active")
    assert active["items"] == [{"role": "customer", "users": 1}, {"role": "provider", "users": 2}]
    assert {(d["day"][:10], d["role"], d["users"]) for d in active["by_day"]} == {
        ("2026-01-01", "customer", 1),
        ("2026-01-01", "provider", 1),
        ("2026-01-02", "customer", 1),
        ("2026-01-02", "provider", 1),
    }

    activity = await get("/api/monitor/activity", user_id="c1")
    kinds = [(item["kind"], item["action"]) for item in activity["items"]]
    assert kinds.count(("request", "GET /api/test/a")) == 2
    assert kinds.count(("event", "order.created")) == 4
    assert activity["items"][0]["time"].startswith("2026-01-02")  # newest first
