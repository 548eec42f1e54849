"""The orders service's view of a checklist, as the rules service answers it."""

from typing import Any

from clearway.kit.caller import Caller
from clearway.services.orders.rules import RulesClient


class _Rules:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    async def get_json(self, service: str, path: str, caller: Caller | None = None) -> Any:
        return self.document


def _checklist(hs_code: str | None, category: str | None) -> dict[str, Any]:
    return {
        "id": "c1",
        "owner_id": "u1",
        "market": "EU",
        "hs_code": hs_code,
        "category": category,
        "created_at": "2026-01-05T10:00:00Z",
        "requirements": [],
    }


async def test_a_category_checklist_names_its_product_by_category() -> None:
    checklist = await RulesClient(_Rules(_checklist(None, "toys"))).checklist("c1")
    assert checklist.hs_code == "category:toys"


async def test_an_hs_checklist_names_its_product_by_hs_code() -> None:
    checklist = await RulesClient(_Rules(_checklist("851822", "audio-radio"))).checklist("c1")
    assert checklist.hs_code == "851822"
