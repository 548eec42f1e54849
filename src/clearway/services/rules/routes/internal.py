"""For other services (not in the gateway's route table, so outsiders cannot reach them)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from clearway.contracts.rules import (
    CHECKLIST_ROUTE,
    REQUIREMENTS_ROUTE,
    VOCABULARY_ROUTE,
    Vocabulary,
)
from clearway.contracts.rules import Checklist as SavedChecklist
from clearway.services.rules import catalog
from clearway.services.rules.checklists import Checklists, shared
from clearway.services.rules.routes.params import CategoryId, HsCode, Market, json
from clearway.services.rules.search import requirements, resolve_product
from clearway.services.rules.snapshot import RuleSnapshot


def router(snapshot: RuleSnapshot, checklists: Checklists) -> APIRouter:
    routes = APIRouter()

    @routes.get(REQUIREMENTS_ROUTE, tags=["internal"])
    async def internal_requirements(
        market: Market, hs_code: HsCode = None, category: CategoryId = None
    ) -> Response:
        """Published requirements in force now for a product in a market."""
        product = resolve_product(snapshot, market, hs_code, category, None)
        return json(requirements(snapshot, product))

    @routes.get(VOCABULARY_ROUTE, tags=["internal"])
    async def internal_vocabulary() -> Vocabulary:
        """What other services may name (see `contracts.rules.Vocabulary`)."""
        return catalog.vocabulary(snapshot)

    @routes.get(CHECKLIST_ROUTE, tags=["internal"], response_model=SavedChecklist)
    async def internal_checklist(checklist_id: str) -> Response:
        return json(shared(await checklists.get(checklist_id)))

    return routes
