"""The rules service as orders sees it: a customer's saved self-check (checklist), and the
terms of the rule base a provider's profile may name."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from clearway.contracts import rules
from clearway.contracts.rules import VOCABULARY_ROUTE, checklist_path
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
        document = await self._get(
            checklist_path(checklist_id), NotFound("checklist-not-found", "No such checklist.")
        )
        try:
            saved = rules.Checklist.model_validate(document)
        except ValidationError as exc:
            raise UNEXPECTED from exc
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

    async def vocabulary(self) -> Vocabulary:
        try:
            terms = rules.Vocabulary.model_validate(await self._get(VOCABULARY_ROUTE))
        except ValidationError as exc:
            raise UNEXPECTED from exc
        return Vocabulary(
            requirement_codes=frozenset(terms.requirement_codes),
            evidence_types=frozenset(terms.evidence_types),
            unions=frozenset(terms.unions),
            markets_with_rules=frozenset(terms.markets_with_rules),
        )
