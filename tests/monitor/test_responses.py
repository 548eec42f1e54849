"""Every external monitor route declares its response model, and answers in its shape."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from clearway.contracts.orders import OrderCreated
from clearway.gateway.routes import ROUTES
from clearway.services.monitor.schemas import (
    ActiveUsersOut,
    ActivityOut,
    AuditOut,
    AuditVerdictOut,
    FunnelOut,
    RequestStatsOut,
    TopSearchesOut,
)
from tests.conftest import Api, bearer
from tests.monitor.conftest import domain_event, event, ingested, publish, request

MODELS: dict[str, tuple[type[BaseModel], dict[str, str]]] = {
    "/api/monitor/requests/stats": (RequestStatsOut, {}),
    "/api/monitor/searches/top": (TopSearchesOut, {"granularity": "hour"}),
    "/api/monitor/users/active": (ActiveUsersOut, {}),
    "/api/monitor/orders/funnel": (FunnelOut, {}),
    "/api/monitor/activity": (ActivityOut, {"user_id": "u-shape"}),
    "/api/monitor/audit": (AuditOut, {}),
    "/api/monitor/audit/verify": (AuditVerdictOut, {}),
}


async def test_every_monitor_route_answers_its_declared_model(api: Api) -> None:
    assert {r.path for r in ROUTES if r.service == "monitor"} == set(MODELS)
    now = datetime.now(UTC)
    await publish(
        api.platform,
        [
            request(now, "/api/test/shape", user_id="u-shape"),
            request(now, "/api/test/shape", status=403, user_id="u-shape"),
            event("search.performed", now, {"hs_code": "850440", "market": "DE"}),
            domain_event(OrderCreated, now, order_id="o-shape", customer_id="u-shape"),
        ],
    )
    await ingested(api.platform, "requests", 2)
    await ingested(api.platform, "searches", 1)
    await ingested(api.platform, "order_stages", 1)
    document = (await api.client.get("/api/openapi.json")).json()
    admin = bearer(await api.admin_token())
    for path, (model, params) in MODELS.items():
        declared = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert declared["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model.__name__}"
        }, path
        response = await api.client.get(path, params=params, headers=admin)
        assert response.status_code == 200, response.text
        body = response.json()
        model.model_validate(body)
        if "items" in body:
            assert body["items"], f"{path}: nothing to check the shape of"
