"""`clearway up --demo`: the demo customer finds the demo provider for its checklist and can
order from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clearway.services.identity import DEMO_PASSWORD
from clearway.settings import Settings
from tests.conftest import Api, bearer, test_settings
from tests.orders import rules_fixture
from tests.orders.conftest import eventually


@pytest.fixture
def settings(tmp_path: Path, seeded_data_dir: Path) -> Settings:
    shutil.copytree(seeded_data_dir, tmp_path / "data")
    return test_settings(tmp_path / "data", demo=True)


async def test_the_demo_customer_finds_the_demo_provider_and_orders(api: Api) -> None:
    customer = bearer(await api.token("customer@demo.clearway.example", DEMO_PASSWORD))
    provider = bearer(await api.token("provider@demo.clearway.example", DEMO_PASSWORD))

    async def published() -> bool:
        me = await api.client.get("/api/orders/providers/me", headers=provider)
        return me.status_code == 200 and bool(me.json()["requirement_codes"])

    await eventually(published)
    profile = (await api.client.get("/api/orders/providers/me", headers=provider)).json()
    assert profile["status"] == "listed"
    assert profile["display_name"] == "Demo Test Lab"
    checklist = await rules_fixture.save_checklist(
        api, (await api.login("customer@demo.clearway.example", DEMO_PASSWORD))["access_token"],
        radio=True,
    )  # fmt: skip
    found = await api.client.get(
        "/api/orders/providers", params={"checklist_id": checklist}, headers=customer
    )
    assert found.status_code == 200, found.text
    hits = found.json()["items"]
    assert [h["provider"]["id"] for h in hits] == [profile["id"]]
    assert hits[0]["match"]["missing"] == [] and hits[0]["match"]["market_match"] is True
    ordered = await api.client.post(
        "/api/orders/orders",
        json={"provider_id": profile["id"], "checklist_id": checklist},
        headers={**customer, "idempotency-key": rules_fixture.new_key()},
    )
    assert ordered.status_code == 201, ordered.text
    assert ordered.json()["state"] == "submitted"
