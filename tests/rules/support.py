"""Helpers for the rules tests: rules in a quiet market (New Zealand has no shipped rules)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, bearer

MARKET = "NZ"


def rule(code: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "market": MARKET,
        "title": f"Requirement {code}",
        "legal_reference": "Test Act 2024, section 1",
        "authority": "Test authority",
        "evidence_type": "test_report",
        "issuers": ["Test laboratory"],
        "hs_codes": ["8518"],
    }
    body.update(fields)
    return body


async def create(api: Api, admin: str, **fields: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/api/rules/admin/rules", json=rule(**fields), headers=bearer(admin)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def publish(api: Api, admin: str, code: str, **window: Any) -> dict[str, Any]:
    response = await api.client.post(
        f"/api/rules/admin/rules/{code}/publish", json=window, headers=bearer(admin)
    )
    assert response.status_code == 200, response.text
    published: dict[str, Any] = response.json()
    return published


async def search(api: Api, **params: Any) -> dict[str, Any]:
    params.setdefault("market", MARKET)
    response = await api.client.get("/api/rules/search", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def codes(found: dict[str, Any]) -> list[str]:
    return [item["code"] for item in found["items"]]
