"""Profile changes: a field left out stays, `null` clears only what may be empty (else 422),
and whatever is already stored never breaks the directory for anyone."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from clearway.services.orders.tables import providers
from tests.orders.conftest import World, assert_problem

LISTS = ("markets", "accreditations", "requirement_codes", "evidence_types")


@pytest.mark.parametrize("field", LISTS)
async def test_null_for_a_list_is_refused_and_nothing_is_saved(world: World, field: str) -> None:
    me = "/api/orders/providers/me"
    before = (await world.client.get(me, headers=world.lab.headers)).json()
    body = assert_problem(
        await world.client.put(me, json={field: None}, headers=world.lab.headers), 422
    )
    assert any(e["field"].endswith(field) for e in body["errors"]), body
    after = (await world.client.get(me, headers=world.lab.headers)).json()
    assert after[field] == before[field]
    directory = await world.client.get("/api/orders/providers", headers=world.alice.headers)
    assert directory.status_code == 200, directory.text
    # The same through the administrator's PATCH.
    assert_problem(
        await world.client.patch(
            f"/api/orders/providers/{world.lab.id}", json={field: None}, headers=world.admin.headers
        ),
        422,
    )


async def test_absent_keeps_and_null_clears_a_nullable_field(world: World) -> None:
    me = "/api/orders/providers/me"
    changed = await world.client.put(me, json={"description": "EMC"}, headers=world.lab.headers)
    assert changed.status_code == 200, changed.text
    kept = changed.json()
    assert kept["display_name"] == "Acme Test Lab"  # absent: unchanged
    assert kept["markets"] == ["EU"]
    assert kept["contact_email"] == "desk@acme-lab.example"
    cleared = await world.client.put(
        me, json={"contact_email": None, "turnaround_days": None}, headers=world.lab.headers
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["contact_email"] is None
    assert cleared.json()["turnaround_days"] is None
    assert cleared.json()["description"] == "EMC"


@pytest.mark.parametrize("stored", ["null", "not json", '{"a": 1}', "[1, null]"])
async def test_reads_survive_a_damaged_stored_row(world: World, stored: str) -> None:
    db = world.api.platform.hosted["orders"].context.db
    async with db.transaction() as session:
        await session.execute(
            update(providers)
            .where(providers.c.user_id == world.lab.id)
            .values(**dict.fromkeys(LISTS, stored))
        )
    directory = await world.client.get("/api/orders/providers", headers=world.alice.headers)
    assert directory.status_code == 200, directory.text
    mine = next(
        i["provider"] for i in directory.json()["items"] if i["provider"]["id"] == world.lab.id
    )
    assert mine["markets"] == [] and mine["accreditations"] == []
    admin = world.admin.headers
    path = f"/api/orders/providers/{world.lab.id}"
    for response in (
        await world.client.get(path, headers=world.alice.headers),
        await world.client.patch(path, json={"description": "fixed"}, headers=admin),
        await world.client.post(f"{path}/suspend", headers=admin),
        await world.client.post(f"{path}/reinstate", headers=admin),
    ):
        assert response.status_code == 200, response.text
    # And the provider can repair its profile.
    repaired = await world.client.put(
        "/api/orders/providers/me", json={"markets": ["EU"]}, headers=world.lab.headers
    )
    assert repaired.json()["markets"] == ["EU"]
