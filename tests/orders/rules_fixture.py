"""Checklists for the orders suites, saved through the rules service's own API."""

from __future__ import annotations

import uuid

from tests.conftest import Api, bearer

MARKET = "EU"
HS_CODE = "851822"  # loudspeakers
RADIO = "EU-RED"  # applies only to a product with a radio


def new_key() -> str:
    return uuid.uuid4().hex


async def save_checklist(api: Api, token: str, *, radio: bool) -> str:
    """A mains-powered consumer loudspeaker without battery; with or without a radio."""
    answers = {
        "electrical": True,
        "mains_voltage": True,
        "consumer": True,
        "battery": False,
        "radio": radio,
    }
    response = await api.client.post(
        "/api/rules/checklists",
        json={"market": MARKET, "hs_code": HS_CODE, "answers": answers},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def applicable(api: Api, token: str, checklist_id: str) -> list[str]:
    """The codes of the requirements that apply, as the rules service decided them."""
    response = await api.client.get(f"/api/rules/checklists/{checklist_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [r["code"] for r in response.json()["requirements"] if r["applies"]]
