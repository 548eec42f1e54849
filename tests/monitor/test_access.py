"""Only administrators read the monitor; its metrics are reachable from inside only."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from clearway.kit.caller import Caller
from clearway.kit.internal_auth import CALLER_HEADER, INTERNAL_HEADER
from tests.conftest import Api, bearer
from tests.monitor.conftest import ingested, publish, query, request

ROUTES = (
    "/api/monitor/requests/stats",
    "/api/monitor/searches/top",
    "/api/monitor/users/active",
    "/api/monitor/orders/funnel",
    "/api/monitor/activity?user_id=u1",
    "/api/monitor/audit",
    "/api/monitor/audit/verify",
)


async def test_only_administrators_read(api: Api) -> None:
    customer = await api.customer("reader@example.com")
    provider = await api.provider("lab@example.com")
    admin = await api.admin_token()
    for path in ROUTES:
        assert (await api.client.get(path)).status_code == 401, path
        for token in (customer, provider):
            denied = await api.client.get(path, headers=bearer(token))
            assert denied.status_code == 403, path
            assert denied.headers["content-type"] == "application/problem+json"
        assert (await api.client.get(path, headers=bearer(admin))).status_code == 200, path


async def test_denials_are_in_the_audit_trail(api: Api) -> None:
    customer = await api.customer("curious@example.com")
    user_id = await api.user_id("curious@example.com")
    assert (await api.client.get("/api/monitor/audit", headers=bearer(customer))).status_code == 403
    await ingested(api.platform, "audit_log", 1, "action = 'access.denied'")
    (row,) = query(
        api.platform, "SELECT actor, details FROM audit_log WHERE action = 'access.denied'"
    )
    assert row[0] == user_id
    assert '"status":403' in row[1] and '"route":"/api/monitor/audit"' in row[1]


async def test_metrics_are_not_public_but_served_internally(api: Api) -> None:
    admin = await api.admin_token()
    for path in ("/internal/monitor/metrics", "/metrics", "/api/monitor/metrics"):
        assert (await api.client.get(path, headers=bearer(admin))).status_code == 404, path
    platform = api.platform
    await publish(platform, [request(datetime.now(UTC), "/api/test/metrics", 502, 12.0)])
    await ingested(platform, "requests", 1, "route = '/api/test/metrics'")
    monitor = platform.hosted["monitor"].service.asgi(platform.credentials)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=monitor), base_url="http://monitor"
    ) as inside:
        assert (await inside.get("/internal/monitor/metrics")).status_code == 401  # no credential
        response = await inside.get(
            "/internal/monitor/metrics",
            headers={
                INTERNAL_HEADER.decode(): platform.credentials.token(),
                CALLER_HEADER.decode(): Caller("service").header(),
            },
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'clearway_http_requests_total{method="GET",route="/api/test/metrics",status="5xx"} 1.0'
        in text
    )
    assert "clearway_http_request_duration_seconds_bucket" in text
    assert 'clearway_monitor_events_ingested_total{kind="request"}' in text
