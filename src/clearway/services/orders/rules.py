"""The rules service as orders sees it: a customer's saved self-check (checklist), and the
terms of the rule base a provider's profile may name."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.orders.domain import Checklist, NotFound, Requirement, Unavailable
from clearway.services.orders.vocabulary import Vocabulary

UNEXPECTED = Unavailable("rules-unavailable", "The rule base answered unexpectedly.")


class RulesClient:
    def __init__(self, calls: ServiceCalls) -> None:
        self._calls = calls

    async def _get(self, path: str, missing: NotFound | None = None) -> Any:
        try:
            return await self._calls.get_json("rules", path)
        except ServiceCallError as exc:
            if missing is not None and exc.status in (404, 422):
                raise missing from exc
            raise Unavailable(
                "rules-unavailable", "The rule base cannot be reached; try again shortly."
            ) from exc
        except KeyError as exc:  # the rules service is not hosted here
            raise Unavailable("rules-unavailable", "The rule base is not available.") from exc

    async def checklist(self, checklist_id: str) -> Checklist:
        document: dict[str, Any] = await self._get(
            f"/internal/rules/checklists/{quote(checklist_id, safe='')}",
            NotFound("checklist-not-found", "No such checklist."),
        )
        try:
            return Checklist(
                id=str(document["id"]),
                owner_id=str(document["owner_id"]),
                market=str(document["market"]),
                # A checklist made from a category alone has no HS code; its category then
                # names the product, so reports still match only that product.
                hs_code=str(document["hs_code"] or f"category:{document['category']}"),
                requirements=tuple(
                    Requirement(
                        code=str(r["code"]),
                        title=str(r.get("title") or r["code"]),
                        evidence_type=str(r.get("evidence_type") or ""),
                        mandatory=bool(r.get("mandatory")),
                        applies=bool(r.get("applies")),
                    )
                    for r in document["requirements"]
                ),
            )
        except (KeyError, TypeError) as exc:
            raise UNEXPECTED from exc

    async def owned_checklist(self, checklist_id: str, customer_id: str) -> Checklist:
        """A checklist the customer saved; someone else's is as unknown as a missing one."""
        checklist = await self.checklist(checklist_id)
        if checklist.owner_id != customer_id:
            raise NotFound("checklist-not-found", "No such checklist.")
        return checklist

    async def vocabulary(self) -> Vocabulary:
        document: dict[str, Any] = await self._get("/internal/rules/vocabulary")
        try:
            return Vocabulary(
                requirement_codes=frozenset(map(str, document["requirement_codes"])),
                evidence_types=frozenset(map(str, document["evidence_types"])),
                unions=frozenset(map(str, document["unions"])),
                markets_with_rules=frozenset(map(str, document["markets_with_rules"])),
            )
        except (KeyError, TypeError) as exc:
            raise UNEXPECTED from exc
