"""Validation against what exists: profiles name terms of the rule base, admin profiles are for
provider accounts, orders are for requirements that apply and that the provider covers,
currencies are ISO 4217, and messages read well."""

from __future__ import annotations

from typing import Any

import httpx

from tests.orders import rules_fixture
from tests.orders.conftest import World, assert_problem


async def put_profile(world: World, body: dict[str, Any]) -> httpx.Response:
    return await world.client.put("/api/orders/providers/me", json=body, headers=world.lab.headers)


async def test_a_profile_names_only_what_the_rule_base_knows(world: World) -> None:
    refused = assert_problem(
        await put_profile(
            world,
            {
                "requirement_codes": ["EU-LVD", "EU-LDV"],
                "evidence_types": ["test_report", "horoscope"],
                "markets": ["EU", "DE", "ZZ"],
            },
        ),
        422,
    )
    assert refused["type"].endswith("unknown-terms")
    assert refused["unknown"] == {
        "requirement_codes": ["EU-LDV"],
        "evidence_types": ["horoscope"],
        "markets": ["ZZ"],
    }
    # Nothing was saved; terms the rule base knows are taken (a union, an ISO country).
    me = (await world.client.get("/api/orders/providers/me", headers=world.lab.headers)).json()
    assert me["markets"] == ["EU"]
    accepted = await put_profile(
        world, {"evidence_types": ["test_report"], "markets": ["EU", "DE", "US"]}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["markets"] == ["EU", "DE", "US"]


async def test_currencies_are_iso_4217(world: World) -> None:
    body = assert_problem(await put_profile(world, {"currency": "XYZ"}), 422)
    assert "ISO 4217" in body["errors"][0]["message"]
    assert (await put_profile(world, {"currency": "chf"})).json()["currency"] == "CHF"
    order = await world.order()
    refused = await world.move(
        world.lab, order["id"], "quote", quote={"amount": 100, "currency": "ABC"}
    )
    assert_problem(refused, 422)


async def test_admin_profiles_only_for_existing_provider_accounts(world: World) -> None:
    async def add(user_id: str) -> httpx.Response:
        return await world.client.post(
            "/api/orders/providers",
            json={"user_id": user_id, "display_name": "Lab"},
            headers=world.admin.headers,
        )

    assert assert_problem(await add("no-such-user"), 422)["type"].endswith("unknown-user")
    customer = assert_problem(await add(world.alice.id), 422)
    assert customer["type"].endswith("not-a-provider")
    # A provider that registered but is not verified yet gets one (listed once verified).
    registered = await world.api.register("new-lab@example.com", role="provider")
    assert registered.status_code == 201, registered.text
    new_lab = await world.api.user_id("new-lab@example.com")
    # A refused profile leaves none behind: the corrected one is then added (not a 409).
    typo = await world.client.post(
        "/api/orders/providers",
        json={"user_id": new_lab, "requirement_codes": ["EU-LDV"]},
        headers=world.admin.headers,
    )
    assert assert_problem(typo, 422)["unknown"] == {"requirement_codes": ["EU-LDV"]}
    added = await add(new_lab)
    assert added.status_code == 201, added.text
    assert added.json()["status"] == "pending"
    # Nor for an account that was deleted.
    deleted = await world.client.delete(
        f"/api/identity/users/{world.bob.id}", headers=world.admin.headers
    )
    assert deleted.status_code == 204
    assert assert_problem(await add(world.bob.id), 422)["type"].endswith("unknown-user")


async def test_an_order_is_for_requirements_that_apply_and_the_provider_covers(
    world: World,
) -> None:
    checklist = await world.checklist(world.alice)  # no radio: EU-RED does not apply

    async def order(**body: Any) -> httpx.Response:
        return await world.client.post(
            "/api/orders/orders",
            json={"provider_id": world.lab.id, "checklist_id": checklist, **body},
            headers={**world.alice.headers, "idempotency-key": rules_fixture.new_key()},
        )

    empty = assert_problem(await order(requirement_codes=[]), 422)
    assert empty["errors"][0]["field"].endswith("requirement_codes")
    assert_problem(await order(requirement_codes=None), 422)
    not_applying = assert_problem(await order(requirement_codes=[rules_fixture.RADIO]), 422)
    assert not_applying["unknown"] == [rules_fixture.RADIO]
    # The other lab covers EU-RED only: nothing of this checklist.
    elsewhere = assert_problem(await order(provider_id=world.other_lab.id), 422)
    assert elsewhere["type"].endswith("not-covered")
    assert set(elsewhere["uncovered"]) == set(await world.applicable(world.alice, checklist))
    placed = await order(requirement_codes=["EU-LVD"])
    assert placed.status_code == 201, placed.text
    assert [r["code"] for r in placed.json()["requirements"]] == ["EU-LVD"]


async def test_refusals_read_well(world: World) -> None:
    order = await world.order()
    early = assert_problem(await world.move(world.lab, order["id"], "start"), 409)
    assert early["detail"] == "An order that is submitted cannot be started now."
    quoted = await world.move(
        world.lab, order["id"], "quote", quote={"amount": 1, "currency": "EUR"}
    )
    assert quoted.status_code == 200
    again = assert_problem(
        await world.move(world.lab, order["id"], "quote", quote={"amount": 1, "currency": "EUR"}),
        409,
    )
    assert again["detail"] == "An order that is quoted cannot be quoted now."
    assert "quoteed" not in again["detail"]
