"""Retention removes exactly what it should: raw records (and minute roll-ups) after the raw
period, hour and day roll-ups after the roll-up period, the audit trail never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clearway.contracts.identity import Lockout
from clearway.contracts.orders import OrderCreated
from tests.conftest import Api, bearer
from tests.monitor.conftest import domain_event, event, ingested, job, publish, query, request

ROUTE = "/api/test/retention"


async def test_retention_removes_exactly_what_it_should(api: Api) -> None:
    platform = api.platform
    assert platform.settings.monitor_raw_retention_days == 14
    assert platform.settings.monitor_rollup_retention_days == 400
    now = datetime.now(UTC)
    ancient, old, recent = (
        now - timedelta(days=500),
        now - timedelta(days=20),
        now - timedelta(days=10),
    )
    search = {"hs_code": "850440", "market": "DE"}
    await publish(
        platform,
        [
            *[request(ancient, ROUTE, user_id="u-ancient") for _ in range(3)],
            *[request(old, ROUTE, user_id="u-old") for _ in range(2)],
            request(recent, ROUTE, user_id="u-recent"),
            event("search.performed", ancient, search),
            event("search.performed", old, search),
            event("search.performed", recent, search),
            domain_event(OrderCreated, ancient, order_id="o-ancient", customer_id="u-ancient"),
            domain_event(OrderCreated, old, order_id="o-old", customer_id="u-old"),
            domain_event(Lockout, ancient, user_id="u-ancient", scope="account-address"),
        ],
    )
    await ingested(platform, "requests", 6, f"route = '{ROUTE}'")
    await ingested(platform, "order_stages", 2)
    await ingested(platform, "audit_log", 1, "action = 'security.lockout'")
    await job(platform, "monitor-fold")()

    def rollups(granularity: str) -> int:
        sql = "SELECT SUM(requests) FROM request_rollups WHERE route = ? AND granularity = ?"
        return int(query(platform, sql, ROUTE, granularity)[0][0] or 0)

    assert [rollups(g) for g in ("minute", "hour", "day")] == [6, 6, 6]
    audit_before = query(platform, "SELECT COUNT(*) FROM audit_log")[0][0]

    removed = await job(platform, "monitor-retention")()

    assert query(platform, f"SELECT user_id FROM requests WHERE route = '{ROUTE}'") == [
        ("u-recent",)
    ]
    assert [rollups(g) for g in ("minute", "hour", "day")] == [1, 3, 3]
    assert query(platform, "SELECT COUNT(*) FROM searches")[0][0] == 1
    market = "SELECT SUM(count) FROM search_rollups WHERE dimension = 'market'"
    assert query(platform, market)[0][0] == 2
    assert sorted(
        query(platform, "SELECT DISTINCT user_id FROM active_users WHERE user_id LIKE 'u-%'")
    ) == [
        ("u-old",),
        ("u-recent",),
    ]
    assert query(platform, "SELECT order_id FROM order_stages") == [("o-old",)]
    assert query(platform, "SELECT COUNT(*) FROM activity WHERE user_id LIKE 'u-%'") == [(0,)]
    assert query(platform, "SELECT COUNT(*) FROM audit_log")[0][0] == audit_before
    assert isinstance(removed, dict) and removed["requests"] == 5
    assert removed["request_rollups"] == 4  # rows: ancient minute, hour, day; old minute

    admin = await api.admin_token()
    verified = await api.client.get("/api/monitor/audit/verify", headers=bearer(admin))
    assert verified.json()["ok"] is True
