"""The gateway's OpenAPI describes the success body of every external orders route."""

from __future__ import annotations

from typing import Any

from clearway.gateway.routes import ROUTES
from tests.conftest import Api


def _success(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (status, answer)
        for status, answer in operation["responses"].items()
        if status.startswith("2")
    ]


async def test_every_orders_route_describes_its_success_body(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    undescribed = []
    for route in (r for r in ROUTES if r.service == "orders"):
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            undescribed.append(f"{route.method} {route.path}: not listed")
            continue
        for status, answer in _success(operation) or [("none", {})]:
            content = answer.get("content", {})
            schema = next((c.get("schema") for c in content.values()), None)
            if (
                not schema
                or schema == {}
                or (
                    schema.get("type") == "object"
                    and not (schema.get("properties") or schema.get("additionalProperties"))
                )
            ):
                undescribed.append(f"{route.method} {route.path} {status}: {content}")
            ref = (schema or {}).get("$ref") or (schema or {}).get("items", {}).get("$ref")
            if ref:
                assert ref.rsplit("/", 1)[1] in schemas, ref
    assert undescribed == []
