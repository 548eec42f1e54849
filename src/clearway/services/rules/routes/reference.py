"""What searches are phrased in: markets, categories, questions and HS codes (for everyone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.responses import Response

from clearway.services.rules import catalog
from clearway.services.rules import schemas as out
from clearway.services.rules.routes.params import json
from clearway.services.rules.snapshot import RuleSnapshot


def router(snapshot: RuleSnapshot) -> APIRouter:
    routes = APIRouter()

    @routes.get("/api/rules/markets", tags=["rules"], response_model=out.MarketsOut)
    async def markets() -> Response:
        """Unions, and the countries the rule base has rules for (any ISO country is accepted)."""
        return json(catalog.markets(snapshot))

    @routes.get("/api/rules/categories", tags=["rules"], response_model=out.CategoriesOut)
    async def categories() -> Response:
        return json(catalog.categories(snapshot))

    @routes.get("/api/rules/questions", tags=["rules"], response_model=out.QuestionsOut)
    async def questions() -> Response:
        return json(catalog.questions(snapshot))

    @routes.get("/api/rules/hs/{code}", tags=["rules"], response_model=out.HsNodeOut)
    async def hs_node(code: Annotated[str, Field(max_length=20)]) -> Response:
        """An HS code with its section, path (chapter, heading) and children; a national
        tariff line is described by the HS subheading it extends."""
        return json(catalog.hs_node(snapshot, code))

    @routes.get("/api/rules/hs", tags=["rules"], response_model=out.HsMatchesOut)
    async def hs_search(q: Annotated[str, Query(min_length=2, max_length=200)]) -> Response:
        """HS codes and categories matching a description (product phrases, typo-tolerant)."""
        return json(catalog.hs_matches(snapshot, q))

    return routes
