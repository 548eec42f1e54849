"""Clearance: issued only when every requirement that applies is covered by a valid report;
certificates verify, tampered ones do not, revoked ones say why."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import orjson
from sqlalchemy import update

from clearway.services.orders.tables import reports
from tests.orders import rules_fixture
from tests.orders.conftest import World, assert_problem


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
    refused = await request(world, order["checklist_id"], [first["id"]])
    body = assert_problem(refused["response"], 422)
    assert [m["code"] for m in body["missing"]] == codes[-1:]
    # With a radio, the conditional radio requirement applies too, and nothing covers it.
    with_radio = await world.checklist(world.alice, radio=True)
    rest = await world.report(order["id"], codes[-1:])
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
