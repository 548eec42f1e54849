"""Bad input gets a clear 4xx problem, never a 500; unsafe files are refused."""

from __future__ import annotations

import base64
import shutil

import pytest

from clearway.services.orders.scanning import EICAR
from tests.orders.conftest import World, assert_problem


def as_json(name: str, kind: str, content: bytes) -> dict[str, str]:
    return {
        "filename": name,
        "content_type": kind,
        "content_base64": base64.b64encode(content).decode(),
    }


@pytest.mark.parametrize(
    ("upload", "kind"),
    [
        (as_json("virus.txt", "text/plain", EICAR), "file-rejected"),
        (
            as_json("tool.pdf", "application/pdf", b"MZ\x90\x00" + b"\x00" * 50),
            "file-type-mismatch",
        ),
        (as_json("fake.pdf", "application/pdf", b"<html>hi</html>"), "file-type-mismatch"),
        (as_json("run.exe", "application/x-msdownload", b"MZ\x90\x00"), "file-type-not-allowed"),
        (as_json("doc.png", "application/pdf", b"%PDF-1.4"), "file-type-mismatch"),
        (as_json("big.txt", "text/plain", b"a" * 5000), "file-too-large"),
        (as_json("empty.txt", "text/plain", b""), "validation"),
        ({"filename": "x.txt", "content_type": "text/plain", "content_base64": "%%%"}, "file"),
        (as_json("script.txt", "text/plain", b"#!/bin/sh\nrm -rf /\n"), "file-rejected"),
    ],
)
async def test_unsafe_or_wrong_files_are_refused(
    world: World, upload: dict[str, str], kind: str
) -> None:
    order = await world.order()
    response = await world.client.post(
        f"/api/orders/orders/{order['id']}/attachments", json=upload, headers=world.alice.headers
    )
    body = assert_problem(response, 413 if kind == "file-too-large" else 422)
    assert body["type"].endswith(kind), body


@pytest.fixture
def settings(tmp_path, seeded_data_dir):  # type: ignore[no-untyped-def]
    from tests.conftest import test_settings

    shutil.copytree(seeded_data_dir, tmp_path / "data")
    return test_settings(tmp_path / "data", orders_attachment_max_bytes=4096)


async def test_bad_requests(world: World) -> None:
    client, alice = world.client, world.alice
    order = await world.order()
    oid = order["id"]
    cases = [
        (await client.post("/api/orders/orders", json={"provider_id": world.lab.id},
                           headers={**alice.headers, "idempotency-key": "a"}), 422),
        (await client.post("/api/orders/orders",
                           json={"provider_id": world.lab.id, "checklist_id": "missing"},
                           headers={**alice.headers, "idempotency-key": "b"}), 404),
        (await client.post("/api/orders/orders",
                           json={"provider_id": "nobody", "checklist_id": order["checklist_id"]},
                           headers={**alice.headers, "idempotency-key": "c"}), 422),
        (await client.post("/api/orders/orders",
                           json={"provider_id": world.lab.id, "checklist_id": order["checklist_id"],
                                 "requirement_codes": ["NOPE"]},
                           headers={**alice.headers, "idempotency-key": "d"}), 422),
        (await world.move(world.lab, oid, "teleport"), 422),
        (await world.move(world.lab, oid, "quote"), 422),
        (await world.move(world.lab, oid, "decline"), 422),
        (await world.move(world.lab, oid, "start"), 409),
        (await world.move(world.lab, oid, "quote", quote={"amount": -1, "currency": "EUR"}), 422),
        (await client.post(f"/api/orders/orders/{oid}/messages", json={"body": ""},
                           headers=alice.headers), 422),
        (await client.post(f"/api/orders/orders/{oid}/attachments", content=b"raw",
                           headers={**alice.headers, "content-type": "application/x-raw"}), 415),
        (await client.get("/api/orders/orders/unknown", headers=alice.headers), 404),
        (await client.get("/api/orders/orders?state=bogus", headers=alice.headers), 422),
        (await client.post(f"/api/orders/orders/{oid}/reports",
                           json={"requirement_codes": ["EU-LVD"], "title": "t",
                                 "issued_on": "2025-01-01", "expires_on": "2099-01-01"},
                           headers=world.lab.headers), 409),
        (await client.post("/api/orders/clearances", json={"checklist_id": "x", "report_ids": "y"},
                           headers=alice.headers), 422),
        (await client.post("/api/orders/clearances/verify", json={}), 422),
        (await client.put("/api/orders/providers/me", json={"markets": ["not a market"]},
                          headers=world.lab.headers), 422),
        (await client.put("/api/orders/providers/me", json={"price_min": 10, "price_max": 5},
                          headers=world.lab.headers), 422),
    ]  # fmt: skip
    for response, status in cases:
        assert_problem(response, status)


async def test_report_dates_are_checked(world: World) -> None:
    order = await world.in_progress()
    code = order["requirements"][0]["code"]
    for issued, expires in (("2099-01-01", "2099-02-01"), ("2025-02-01", "2025-01-01"),
                            ("2020-01-01", "2021-01-01")):  # fmt: skip
        response = await world.client.post(
            f"/api/orders/orders/{order['id']}/reports",
            json={"requirement_codes": [code], "title": "t", "issued_on": issued,
                  "expires_on": expires},
            headers=world.lab.headers,
        )  # fmt: skip
        assert assert_problem(response, 422)["type"].endswith("report-dates")
