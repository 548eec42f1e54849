"""The rules service as orders sees it: a customer's saved self-check (checklist)."""

from __future__ import annotations

from pydantic import ValidationError

from clearway.contracts import rules
from clearway.contracts.rules import checklist_path
from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.orders.domain import Checklist, NotFound, Requirement, Unavailable


class RulesClient:
    def __init__(self, calls: ServiceCalls) -> None:
        self._calls = calls

    async def checklist(self, checklist_id: str) -> Checklist:
        try:
            document = await self._calls.get_json("rules", checklist_path(checklist_id))
            saved = rules.Checklist.model_validate(document)
        except ServiceCallError as exc:
            if exc.status in (404, 422):
                raise NotFound("checklist-not-found", "No such checklist.") from exc
            raise Unavailable(
                "rules-unavailable", "The rule base cannot be reached; try again shortly."
            ) from exc
        except KeyError as exc:  # the rules service is not hosted here
            raise Unavailable("rules-unavailable", "The rule base is not available.") from exc
        except ValidationError as exc:
            raise Unavailable("rules-unavailable", "The rule base answered unexpectedly.") from exc
        return Checklist(
            id=saved.id,
            owner_id=saved.owner_id,
            market=saved.market,
            # A checklist made from a category alone has no HS code; its category then
            # names the product, so reports still match only that product.
            hs_code=saved.hs_code or f"category:{saved.category}",
            requirements=tuple(
                Requirement(
                    code=r.code,
                    title=r.title or r.code,
                    evidence_type=r.evidence_type or "",
                    mandatory=r.mandatory,
                    applies=r.applies,
                )
                for r in saved.requirements
            ),
        )

    async def owned_checklist(self, checklist_id: str, customer_id: str) -> Checklist:
        """A checklist the customer saved; someone else's is as unknown as a missing one."""
        checklist = await self.checklist(checklist_id)
        if checklist.owner_id != customer_id:
            raise NotFound("checklist-not-found", "No such checklist.")
        return checklist
