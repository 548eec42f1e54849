"""The whole business loop through the gateway: find a provider, order, quote, accept, talk,
deliver reports, complete, get a clearance certificate that anyone can verify."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.orders import rules_fixture
from tests.orders.conftest import User, World, assert_problem, eventually

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def notifications(world: World, user: User) -> list[dict[str, Any]]:
    response = await world.client.get("/api/common/notifications", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def mailbox(world: World, email: str) -> list[dict[str, Any]]:
    response = await world.client.get(
        "/api/common/mailbox", params={"recipient": email}, headers=world.admin.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_whole_loop(world: World) -> None:
    client, alice, lab = world.client, world.alice, world.lab
    checklist_id = await world.checklist(alice, radio=True)

    # The directory: providers covering the checklist, best coverage first.
    found = await client.get(
        "/api/orders/providers", params={"checklist_id": checklist_id}, headers=alice.headers
    )
    assert found.status_code == 200, found.text
    hits = found.json()["items"]
    assert [h["provider"]["id"] for h in hits] == [lab.id, world.other_lab.id]
    assert hits[0]["match"]["missing"] == []
    assert hits[0]["provider"]["accreditations"][0]["identifier"] == "0123"
    assert hits[1]["match"]["market_match"] is False

    # The order: created once per idempotency key; the provider hears of it.
    body = {"provider_id": lab.id, "checklist_id": checklist_id, "note": "Please hurry."}
    headers = {**alice.headers, "idempotency-key": "order-1"}
    created = await client.post("/api/orders/orders", json=body, headers=headers)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["state"] == "submitted"
    applicable = await world.applicable(alice, checklist_id)
    assert [r["code"] for r in order["requirements"]] == applicable
    assert rules_fixture.RADIO in applicable

    async def lab_notified() -> bool:
        return any(n["type"] == "order.created" for n in await notifications(world, lab))

    await eventually(lab_notified)

    async def lab_mailed() -> bool:
        mails = await mailbox(world, lab.email)
        return any(order["id"][:8] in m["subject"] for m in mails)

    await eventually(lab_mailed)

    # Quote, accept, start; each step recorded with who and when.
    quote = {"amount": 150000, "currency": "eur", "turnaround_days": 8}
    quoted = await world.move(lab, order["id"], "quote", quote=quote, version=1)
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["quote"] == {"amount": 150000, "currency": "EUR", "turnaround_days": 8}
    assert (await world.move(alice, order["id"], "accept")).status_code == 200
    started = await world.move(lab, order["id"], "start")
    assert started.json()["state"] == "in_progress"
    history = started.json()["history"]
    assert [h["to_state"] for h in history] == ["submitted", "quoted", "accepted", "in_progress"]
    assert [h["party"] for h in history] == ["customer", "provider", "customer", "provider"]

    # Messages and documents.
    said = await client.post(
        f"/api/orders/orders/{order['id']}/messages",
        json={"body": "Samples are on their way."},
        headers=alice.headers,
    )
    assert said.status_code == 201, said.text
    thread = await client.get(f"/api/orders/orders/{order['id']}/messages", headers=lab.headers)
    assert [m["body"] for m in thread.json()] == ["Please hurry.", "Samples are on their way."]
    uploaded = await client.post(
        f"/api/orders/orders/{order['id']}/attachments",
        json={
            "filename": "datasheet.pdf",
            "content_type": "application/pdf",
            "content_base64": base64.b64encode(PDF).decode(),
        },
        headers=alice.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    fetched = await client.get(
        f"/api/orders/orders/{order['id']}/attachments/{attachment['id']}", headers=lab.headers
    )
    assert fetched.status_code == 200
    assert fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    assert "datasheet.pdf" in fetched.headers["content-disposition"]

    # Delivering needs a report for every requirement of the order.
    early = await world.move(lab, order["id"], "deliver")
    assert assert_problem(early, 422)["missing"] == applicable
    codes = [r["code"] for r in order["requirements"]]
    first = await world.report(order["id"], codes[:2], attachment_id=attachment["id"])
    second = await world.report(order["id"], codes[2:], expires_on="2098-06-30")
    assert first["status"] == "valid"
    delivered = await world.move(lab, order["id"], "deliver")
    assert delivered.json()["state"] == "report_delivered", delivered.text
    completed = await world.move(alice, order["id"], "complete")
    assert completed.json()["state"] == "completed"

    # Clearance: issued, signed, verifiable by anyone.
    issued = await client.post(
        "/api/orders/clearances",
        json={"checklist_id": checklist_id, "report_ids": [first["id"], second["id"]]},
        headers=alice.headers,
    )
    assert issued.status_code == 201, issued.text
    clearance = issued.json()
    assert clearance["valid"] is True
    assert clearance["expires_at"].startswith("2098-07-01")
    anonymous = httpx.Headers()
    status = await client.get(f"/api/orders/clearances/{clearance['id']}/verify", headers=anonymous)
    assert status.status_code == 200
    assert status.json()["status"] == "valid"
    assert "customer_id" not in status.json()
    presented = await client.post(
        "/api/orders/clearances/verify", json={"certificate": clearance["certificate"]}
    )
    assert presented.json()["valid"] is True
    assert presented.json()["claims"]["hs_code"] == rules_fixture.HS_CODE
    page = await client.get(f"/verify/{clearance['id']}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Valid." in page.text

    async def alice_told() -> bool:
        kinds = {n["type"] for n in await notifications(world, alice)}
        return {"order.quoted", "report.issued", "clearance.issued"} <= kinds

    await eventually(alice_told)

    # The provider withdraws a report: the certificate is revoked and says why.
    withdrawn = await client.post(
        f"/api/orders/reports/{first['id']}/withdraw",
        json={"reason": "Wrong sample tested."},
        headers=lab.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    status = await client.get(f"/api/orders/clearances/{clearance['id']}/verify")
    assert status.json()["status"] == "revoked"
    assert status.json()["valid"] is False
    assert first["id"] in status.json()["reason"]
    presented = await client.post(
        "/api/orders/clearances/verify", json={"certificate": clearance["certificate"]}
    )
    assert presented.json()["signature_valid"] is True
    assert presented.json()["valid"] is False
    assert presented.json()["status"] == "revoked"
    page = await client.get(f"/verify/{clearance['id']}")
    assert "Revoked." in page.text

    async def alice_told_revoked() -> bool:
        return any(n["type"] == "clearance.revoked" for n in await notifications(world, alice))

    await eventually(alice_told_revoked)


async def test_idempotent_creation(world: World) -> None:
    checklist_id = await world.checklist(world.alice)
    body = {"provider_id": world.lab.id, "checklist_id": checklist_id}
    headers = {**world.alice.headers, "idempotency-key": "same-key"}
    first = await world.client.post("/api/orders/orders", json=body, headers=headers)
    again = await world.client.post("/api/orders/orders", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    mine = await world.client.get("/api/orders/orders", headers=world.alice.headers)
    assert len(mine.json()) == 1
    # The same key with another body is refused; another customer's key space is its own.
    changed = await world.client.post(
        "/api/orders/orders", json={**body, "note": "different"}, headers=headers
    )
    assert assert_problem(changed, 422)["type"].endswith("idempotency-key-reused")
    missing = await world.client.post("/api/orders/orders", json=body, headers=world.alice.headers)
    # A required header, documented as such: its absence is a validation problem naming it.
    assert assert_problem(missing, 422)["errors"][0]["field"] == "header.Idempotency-Key"


async def test_multipart_upload(world: World) -> None:
    order = await world.order()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = await world.client.post(
        f"/api/orders/orders/{order['id']}/attachments",
        files={"file": ("label.png", png, "image/png")},
        headers=world.lab.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(png)
    listed = await world.client.get(
        f"/api/orders/orders/{order['id']}/attachments", headers=world.alice.headers
    )
    assert [a["filename"] for a in listed.json()] == ["label.png"]
