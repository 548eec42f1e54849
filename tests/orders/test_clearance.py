"""Clearance: issued only when every requirement that applies is covered by a valid report;
certificates verify, tampered ones do not, revoked ones say why."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from sqlalchemy import update

from clearway.services.orders.tables import reports
from tests.orders import rules_fixture
from tests.orders.conftest import World, assert_problem, eventually


async def request(world: World, checklist_id: str, report_ids: list[str]) -> dict:  # type: ignore[type-arg]
    response = await world.client.post(
        "/api/orders/clearances",
        json={"checklist_id": checklist_id, "report_ids": report_ids},
        headers=world.alice.headers,
    )
    return {"status": response.status_code, "body": response.json(), "response": response}


async def test_refused_with_what_is_missing_then_issued(world: World) -> None:
    order = await world.in_progress()  # the checklist says: no radio
    codes = [r["code"] for r in order["requirements"]]
    assert rules_fixture.RADIO not in codes
    first = await world.report(order["id"], codes[:-1])
    rest = await world.report(order["id"], codes[-1:])
    await world.deliver(order["id"])
    refused = await request(world, order["checklist_id"], [first["id"]])
    body = assert_problem(refused["response"], 422)
    assert [m["code"] for m in body["missing"]] == codes[-1:]
    # With a radio, the conditional radio requirement applies too, and nothing covers it.
    with_radio = await world.checklist(world.alice, radio=True)
    refused = await request(world, with_radio, [first["id"], rest["id"]])
    missing = [m["code"] for m in assert_problem(refused["response"], 422)["missing"]]
    extra = set(await world.applicable(world.alice, with_radio)) - set(codes)
    assert rules_fixture.RADIO in missing
    assert set(missing) == extra
    issued = await request(world, order["checklist_id"], [first["id"], rest["id"]])
    assert issued["status"] == 201, issued["body"]
    assert [r["code"] for r in issued["body"]["requirements"]] == sorted(codes)


async def test_withdrawn_and_expired_reports_do_not_count(world: World) -> None:
    order = await world.in_progress()
    codes = [r["code"] for r in order["requirements"]]
    report = await world.report(order["id"], codes)
    await world.client.post(
        f"/api/orders/reports/{report['id']}/withdraw",
        json={"reason": "error"},
        headers=world.lab.headers,
    )
    body = assert_problem(
        (await request(world, order["checklist_id"], [report["id"]]))["response"], 422
    )
    assert body["rejected_reports"] == [
        {"report_id": report["id"], "reason": "withdrawn by its provider"}
    ]
    assert {m["code"] for m in body["missing"]} == set(codes)


async def test_tampered_certificate_fails_verification(world: World) -> None:
    order = await world.in_progress()
    codes = [r["code"] for r in order["requirements"]]
    report = await world.report(order["id"], codes)
    await world.deliver(order["id"])
    issued = await request(world, order["checklist_id"], [report["id"]])
    token = issued["body"]["certificate"]
    header, payload, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["hs_code"] = "999999"
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    for presented in (f"{header}.{forged}.{signature}", token[:-4] + "AAAA", "not-a-jws", ""):
        verdict = await world.client.post(
            "/api/orders/clearances/verify", json={"certificate": presented}
        )
        assert verdict.status_code == 200, verdict.text
        assert verdict.json()["valid"] is False
        assert verdict.json()["status"] == "invalid"
    keys = await world.client.get("/api/orders/clearance-keys")
    assert keys.json()["keys"][0]["crv"] == "Ed25519"
    assert "d" not in keys.json()["keys"][0]


async def test_report_expiry_revokes_the_certificate(world: World) -> None:
    order = await world.in_progress()
    codes = [r["code"] for r in order["requirements"]]
    today = datetime.now(UTC).date()
    report = await world.report(order["id"], codes, expires_on=today.isoformat())
    await world.deliver(order["id"])
    issued = await request(world, order["checklist_id"], [report["id"]])
    cid = issued["body"]["id"]
    db = world.api.platform.hosted["orders"].context.db
    async with db.transaction() as session:
        await session.execute(
            update(reports)
            .where(reports.c.id == report["id"])
            .values(expires_on=today - timedelta(days=1))
        )
    status = (await world.client.get(f"/api/orders/clearances/{cid}/verify")).json()
    assert status["status"] == "revoked"
    jobs = {j.name: j for j in world.api.platform.hosted["orders"].service.jobs}
    # The job also stores it, so every reader agrees from now on.
    await jobs["orders-revoke-expired-clearances"].run()
    status = (await world.client.get(f"/api/orders/clearances/{cid}/verify")).json()
    assert status["status"] == "revoked"
    assert status["revoked_at"] is not None
    assert "expired" in status["reason"]
    assert _parse(status["expires_at"]) >= today


def _parse(value: str) -> date:
    return datetime.fromisoformat(value).date()


async def test_unknown_certificate(world: World) -> None:
    assert_problem(await world.client.get("/api/orders/clearances/nope/verify"), 404)
    page = await world.client.get("/verify/<img src=x onerror=alert(1)>")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<img" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


async def issued_clearance(world: World) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """A delivered order for Alice's (no radio) checklist, and the clearance it supports."""
    order = await world.in_progress()
    report = await world.report(order["id"], [r["code"] for r in order["requirements"]])
    await world.deliver(order["id"])
    issued = await request(world, order["checklist_id"], [report["id"]])
    assert issued["status"] == 201, issued["body"]
    return order, issued["body"]


@pytest.mark.parametrize("market", ["AQ", "KP"])
async def test_a_market_the_rule_base_does_not_cover_cannot_be_cleared(
    world: World, market: str
) -> None:
    saved = await world.client.post(
        "/api/rules/checklists",
        json={"market": market, "hs_code": rules_fixture.HS_CODE, "answers": {}},
        headers=world.alice.headers,
    )
    assert saved.status_code == 201, saved.text
    assert not [r for r in saved.json()["requirements"] if r["applies"]]
    refused = await request(world, saved.json()["id"], [])
    body = assert_problem(refused["response"], 422)
    assert body["type"].endswith("cannot-clear")
    assert "no requirement" in body["reason"]
    assert body["missing"] == []


async def test_a_report_counts_once_its_order_is_delivered(world: World) -> None:
    order = await world.in_progress()
    report = await world.report(order["id"], [r["code"] for r in order["requirements"]])
    refused = await request(world, order["checklist_id"], [report["id"]])
    body = assert_problem(refused["response"], 422)
    assert body["rejected_reports"] == [
        {
            "report_id": report["id"],
            "reason": "its order is in progress, not delivered or completed",
        }
    ]
    await world.deliver(order["id"])
    assert (await request(world, order["checklist_id"], [report["id"]]))["status"] == 201


async def test_cancelling_the_order_revokes_its_clearances(world: World) -> None:
    order, clearance = await issued_clearance(world)
    cancelled = await world.move(world.admin, order["id"], "cancel", reason="Fraud suspected.")
    assert cancelled.status_code == 200, cancelled.text
    status = (await world.client.get(f"/api/orders/clearances/{clearance['id']}/verify")).json()
    assert status["status"] == "revoked"
    assert f"order {order['id']}" in status["reason"] and "cancelled" in status["reason"]
    page = await world.client.get(f"/verify/{clearance['id']}")
    assert "Revoked." in page.text and "cancelled" in page.text


async def test_answers_that_make_a_new_requirement_apply_revoke_the_clearance(
    world: World,
) -> None:
    order, clearance = await issued_clearance(world)
    changed = await world.client.put(
        f"/api/rules/checklists/{order['checklist_id']}/answers",
        json={"answers": {"radio": True}},
        headers=world.alice.headers,
    )
    assert changed.status_code == 200, changed.text
    path = f"/api/orders/clearances/{clearance['id']}/verify"

    async def revoked() -> bool:
        return (await world.client.get(path)).json()["status"] == "revoked"

    await eventually(revoked)
    reason = (await world.client.get(path)).json()["reason"]
    assert "answers changed" in reason and rules_fixture.RADIO in reason
    assert "answers changed" in (await world.client.get(f"/verify/{clearance['id']}")).text


async def test_answers_that_change_nothing_that_applies_keep_it(world: World) -> None:
    order, clearance = await issued_clearance(world)
    other, other_clearance = await issued_clearance(world)
    # Answering again what was answered changes nothing that applies; the event is handled
    # (the second checklist's change revokes its clearance), and the first one still stands.
    same = await world.client.put(
        f"/api/rules/checklists/{order['checklist_id']}/answers",
        json={"answers": {"radio": False}},
        headers=world.alice.headers,
    )
    assert same.status_code == 200, same.text
    await world.client.put(
        f"/api/rules/checklists/{other['checklist_id']}/answers",
        json={"answers": {"radio": True}},
        headers=world.alice.headers,
    )

    async def other_revoked() -> bool:
        path = f"/api/orders/clearances/{other_clearance['id']}/verify"
        return (await world.client.get(path)).json()["status"] == "revoked"

    await eventually(other_revoked)
    path = f"/api/orders/clearances/{clearance['id']}/verify"
    assert (await world.client.get(path)).json()["status"] == "valid"


async def test_far_off_report_dates_are_refused(world: World) -> None:
    order = await world.in_progress()
    code = order["requirements"][0]["code"]
    for issued, expires in (("2025-01-01", "9999-12-31"), ("1899-12-31", "2099-01-01"),
                            ("2025-01-01", "2201-01-01")):  # fmt: skip
        response = await world.client.post(
            f"/api/orders/orders/{order['id']}/reports",
            json={"requirement_codes": [code], "title": "t", "issued_on": issued,
                  "expires_on": expires},
            headers=world.lab.headers,
        )  # fmt: skip
        body = assert_problem(response, 422)
        assert body["errors"][0]["field"].endswith(("issued_on", "expires_on")), body


async def test_the_last_days_never_overflow(world: World) -> None:
    order = await world.in_progress()
    codes = [r["code"] for r in order["requirements"]]
    report = await world.report(order["id"], codes, expires_on="2200-12-31")
    await world.deliver(order["id"])
    issued = await request(world, order["checklist_id"], [report["id"]])
    assert issued["status"] == 201, issued["body"]
    assert issued["body"]["expires_at"].startswith("2201-01-01")
    # A row an older version accepted (the last day there is) still clears and verifies.
    db = world.api.platform.hosted["orders"].context.db
    async with db.transaction() as session:
        await session.execute(
            update(reports).where(reports.c.id == report["id"]).values(expires_on=date.max)
        )
    again = await request(world, order["checklist_id"], [report["id"]])
    assert again["status"] == 201, again["body"]
    assert again["body"]["expires_at"].startswith("9999-12-31")
    status = await world.client.get(f"/api/orders/clearances/{again['body']['id']}/verify")
    assert status.status_code == 200 and status.json()["status"] == "valid"
