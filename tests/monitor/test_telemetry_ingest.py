"""The telemetry the platform itself sends (built without validation on the hot path) is what
the monitor stores: a request through the gateway becomes its request record, a search its
search row."""

from __future__ import annotations

from tests.conftest import Api, bearer
from tests.monitor.conftest import ingested, query


async def test_requests_and_searches_through_the_gateway_are_stored(api: Api) -> None:
    platform = api.platform
    token = await api.customer("telemetry@example.com")
    me = await api.client.get("/api/identity/me", headers=bearer(token))
    assert me.status_code == 200
    user_id = me.json()["id"]
    missing = await api.client.get("/api/identity/no-such-route")
    assert missing.status_code == 404
    found = await api.client.get(
        "/api/rules/search", params={"market": "EU", "hs_code": "8518.22"}, headers=bearer(token)
    )
    assert found.status_code == 200
    await platform.gateway.recorder.flush()
    await platform.hosted["rules"].telemetry.flush()

    await ingested(platform, "requests", 1, "route = '/api/identity/me'")
    await ingested(platform, "requests", 1, "route = 'unmatched' AND status = 404")
    await ingested(platform, "searches", 1, "hs_code = '851822'")
    ((method, status, role, stored_user, request_id, latency),) = query(
        platform,
        "SELECT method, status, role, user_id, request_id, latency_ms FROM requests"
        " WHERE route = '/api/identity/me'",
    )
    assert (method, status, role, stored_user) == ("GET", 200, "customer", user_id)
    assert request_id == me.headers["x-request-id"] and latency >= 0
    assert query(
        platform,
        "SELECT hs_chapter, hs_heading, market, role FROM searches WHERE hs_code = '851822'",
    ) == [("85", "8518", "EU", "customer")]
