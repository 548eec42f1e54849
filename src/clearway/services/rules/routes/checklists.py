"""Checklists (signed in, each sees only their own)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from starlette.responses import Response

from clearway.kit.caller import Caller, SignedIn
from clearway.services.rules import schemas as out
from clearway.services.rules.checklists import Checklists, printable
from clearway.services.rules.routes.params import Limit, Offset, json
from clearway.services.rules.search import resolve_product
from clearway.services.rules.snapshot import RuleSnapshot


def _owner(caller: Caller) -> str | None:
    """Whose checklists the caller may see: their own, or (an administrator) everyone's."""
    return None if caller.is_admin else caller.user_id


def router(snapshot: RuleSnapshot, checklists: Checklists) -> APIRouter:
    routes = APIRouter()

    @routes.post(
        "/api/rules/checklists", status_code=201, tags=["rules"], response_model=out.ChecklistOut
    )
    async def create_checklist(body: out.ChecklistBody, caller: SignedIn) -> Response:
        """Answer the self-check questions; the answers become a checklist you can reopen.
        With `as_of`, it is decided against the rules in force on that date."""
        assert caller.user_id is not None
        product = resolve_product(snapshot, body.market, body.hs_code, body.category, body.q)
        created = await checklists.create(caller.user_id, product, body.answers, body.as_of)
        return json(created, 201, {"location": f"/api/rules/checklists/{created['id']}"})

    @routes.get("/api/rules/checklists", tags=["rules"], response_model=out.ChecklistPage)
    async def my_checklists(caller: SignedIn, limit: Limit = 20, offset: Offset = 0) -> Response:
        assert caller.user_id is not None
        items, total = await checklists.owned(caller.user_id, limit, offset)
        return json({"items": items, "total": total, "limit": limit, "offset": offset})

    @routes.get(
        "/api/rules/checklists/{checklist_id}", tags=["rules"], response_model=out.ChecklistOut
    )
    async def read_checklist(checklist_id: str, caller: SignedIn) -> Response:
        return json(await checklists.get(checklist_id, _owner(caller)))

    @routes.put(
        "/api/rules/checklists/{checklist_id}/answers",
        tags=["rules"],
        response_model=out.ChecklistOut,
    )
    async def answer(checklist_id: str, body: out.Answers, caller: SignedIn) -> Response:
        """Change answers; requirements are decided again against the rules in force now (or
        on the checklist's `as_of` date)."""
        assert caller.user_id is not None
        return json(await checklists.answer(checklist_id, caller.user_id, body.answers))

    @routes.delete("/api/rules/checklists/{checklist_id}", status_code=204, tags=["rules"])
    async def delete_checklist(checklist_id: str, caller: SignedIn) -> Response:
        assert caller.user_id is not None
        await checklists.delete(checklist_id, caller.user_id)
        return Response(status_code=204)

    @routes.get(
        "/api/rules/checklists/{checklist_id}/export",
        tags=["rules"],
        response_model=out.ChecklistOut,
        responses=out.PRINTABLE,  # type: ignore[arg-type]
    )
    async def export_checklist(
        checklist_id: str, caller: SignedIn, format: Literal["json", "html"] = "json"
    ) -> Response:
        """The checklist as a JSON document or a printable page."""
        checklist = await checklists.get(checklist_id, _owner(caller))
        name = f"checklist-{checklist_id}"
        if format == "html":
            return Response(
                printable(checklist),
                media_type="text/html; charset=utf-8",
                headers={
                    "content-disposition": f'inline; filename="{name}.html"',
                    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
                },
            )
        return json(
            checklist, headers={"content-disposition": f'attachment; filename="{name}.json"'}
        )

    return routes
