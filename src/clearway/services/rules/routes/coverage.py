"""How far the rule base covers each market and product category (for everyone)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from clearway.services.rules import catalog
from clearway.services.rules import schemas as out
from clearway.services.rules.routes.params import AsOf, json
from clearway.services.rules.snapshot import RuleSnapshot


def router(snapshot: RuleSnapshot) -> APIRouter:
    routes = APIRouter()

    @routes.get("/api/rules/coverage", tags=["rules"], response_model=out.CoverageOut)
    async def coverage(as_of: AsOf = None) -> Response:
        """How far the rule base covers each market and product category: `complete`
        (reviewed), `partial` or `none`, with the reason."""
        return json(catalog.coverage(snapshot, as_of))

    return routes
