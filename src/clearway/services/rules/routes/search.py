"""Searching requirements and the self-check's questions (for everyone)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from clearway.contracts.rules import SearchPerformed
from clearway.kit.bus.telemetry import Telemetry
from clearway.kit.caller import AnyCaller
from clearway.services.rules import schemas as out
from clearway.services.rules.events import search_performed
from clearway.services.rules.routes.params import (
    AsOf,
    CategoryId,
    HsCode,
    Limit,
    Market,
    Offset,
    Text,
    json,
)
from clearway.services.rules.search import resolve_product, search_answer, self_check
from clearway.services.rules.snapshot import RuleSnapshot


def router(snapshot: RuleSnapshot, telemetry: Telemetry) -> APIRouter:
    routes = APIRouter()

    @routes.get("/api/rules/search", tags=["rules"], response_model=out.SearchOut)
    async def search(
        caller: AnyCaller,
        market: Market,
        hs_code: HsCode = None,
        category: CategoryId = None,
        q: Text = None,
        limit: Limit = 20,
        offset: Offset = 0,
        as_of: AsOf = None,
    ) -> Response:
        """Requirements in force for a product (HS code at any depth, national tariff line,
        category or free text) in a market (a union's rules apply in its members), ranked and
        paged, each with why; with how far the rule base covers the product (`coverage`)."""
        answer = search_answer(snapshot, market, hs_code, category, q, limit, offset, as_of)
        # One event per search, kept answer or not: the monitor counts them.
        telemetry.add(
            SearchPerformed,
            search_performed(
                query=q,
                hs_code=answer.hs_code,
                category=answer.category,
                market=answer.market,
                role=caller.role,
            ),
        )
        return Response(answer.body, media_type="application/json")

    @routes.get("/api/rules/self-check", tags=["rules"], response_model=out.SelfCheckOut)
    async def self_check_questions(
        market: Market,
        hs_code: HsCode = None,
        category: CategoryId = None,
        q: Text = None,
        as_of: AsOf = None,
    ) -> Response:
        """The questions that decide the product's conditional requirements, each asked once
        (numbers with their unit), and how far the rule base covers the product."""
        product = resolve_product(snapshot, market, hs_code, category, q)
        return json(self_check(snapshot, product, as_of))

    return routes
