"""Typed answers: every external rules route declares its response model in the OpenAPI, and
the bodies served (rendered by orjson on the fast paths) match those models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from clearway.gateway.routes import ROUTES
from clearway.services.rules import schemas as out
from tests.conftest import Api, bearer
from tests.rules.test_files import upload
from tests.rules.test_format_v2 import V2


def _valid(model: type[BaseModel], body: Any) -> None:
    model.model_validate(body)


async def test_every_external_rules_route_declares_its_success_body(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    rules = [r for r in ROUTES if r.path.startswith("/api/rules/")]
    assert len(rules) > 20
    for route in rules:
        operation = document["paths"][route.path][route.method.lower()]
        success = next(
            (
                operation["responses"][s]
                for s in ("200", "201", "204")
                if s in operation["responses"]
            ),
            None,
        )
        assert success is not None, route.path
        if "204" in operation["responses"]:
            continue
        content = success.get("content", {})
        schemas = [c.get("schema", {}) for c in content.values()]
        assert any(s.get("$ref") or s.get("type") == "string" for s in schemas), (
            route.method,
            route.path,
            content,
        )


async def test_the_bodies_served_match_their_models(api: Api) -> None:
    admin = await api.admin_token()
    assert (await upload(api, admin, V2, filename="v2.yaml")).status_code == 200
    get = api.client.get
    search = await get("/api/rules/search", params={"market": "NZ", "hs_code": "85076000"})
    _valid(out.SearchOut, search.json())
    assert search.json()["items"]
    ambiguous = await get("/api/rules/search", params={"market": "EU", "q": "scooter"})
    _valid(out.SearchOut, ambiguous.json())
    check = await get("/api/rules/self-check", params={"market": "NZ", "hs_code": "850760"})
    _valid(out.SelfCheckOut, check.json())
    _valid(out.CoverageOut, (await get("/api/rules/coverage")).json())
    _valid(out.MarketsOut, (await get("/api/rules/markets")).json())
    _valid(out.CategoriesOut, (await get("/api/rules/categories")).json())
    _valid(out.QuestionsOut, (await get("/api/rules/questions")).json())
    _valid(out.HsNodeOut, (await get("/api/rules/hs/8507.60.00")).json())
    _valid(out.HsMatchesOut, (await get("/api/rules/hs", params={"q": "drone"})).json())
    token = await api.customer("typed@example.com")
    created = await api.client.post(
        "/api/rules/checklists",
        json={"market": "NZ", "hs_code": "850760", "answers": {"pack_wh": 120}},
        headers=bearer(token),
    )
    _valid(out.ChecklistOut, created.json())
    mine = await get("/api/rules/checklists", headers=bearer(token))
    _valid(out.ChecklistPage, mine.json())
    listed = await get("/api/rules/admin/rules", params={"market": "NZ"}, headers=bearer(admin))
    _valid(out.RulePage, listed.json())
    one = await get("/api/rules/admin/rules/T-V2-BIG-PACK", headers=bearer(admin))
    _valid(out.RuleVersions, one.json())
    history = await get("/api/rules/admin/rules/T-V2-BIG-PACK/history", headers=bearer(admin))
    _valid(out.HistoryOut, history.json())
    question = await api.client.put(
        "/api/rules/admin/questions/cell_voltage",
        json={"text": "What is the cell's nominal voltage?", "kind": "number", "unit": "V"},
        headers=bearer(admin),
    )
    _valid(out.QuestionAsked, question.json())
    assert question.json()["unit"] == "V"
    report = await upload(api, admin, V2, filename="v2.yaml", dry_run=True)
    _valid(out.ImportReport, report.json())
