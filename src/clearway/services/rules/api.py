"""The rules service's HTTP API: thin handlers over the store, the lookup and checklists."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from clearway.contracts.rules import (
    CHECKLIST_ROUTE,
    REQUIREMENTS_ROUTE,
    VOCABULARY_ROUTE,
    Vocabulary,
)
from clearway.contracts.rules import Checklist as SavedChecklist
from clearway.kit.bus.telemetry import Telemetry
from clearway.kit.caller import Admin, AnyCaller, SignedIn
from clearway.services.rules import domain
from clearway.services.rules import schemas as out
from clearway.services.rules.answers import Answer
from clearway.services.rules.checklists import (
    Checklists,
    alternatives_view,
    coverage_of,
    coverage_view,
    groups_view,
    lookup,
    market_view,
    matched_view,
    moment,
    printable,
    question_view,
    requirement_view,
    resolve_product,
    self_check,
)
from clearway.services.rules.domain.coverage import matrix
from clearway.services.rules.domain.files import (
    detect_format,
    dump_csv,
    dump_yaml,
    read_rule_files,
)
from clearway.services.rules.domain.hs import HS_EDITION, dotted
from clearway.services.rules.domain.lookup import Interpretation
from clearway.services.rules.domain.model import EVIDENCE_TYPES, RuleVersion, Status, sane
from clearway.services.rules.events import search_performed
from clearway.services.rules.store import RuleStore

Market = Annotated[str, Query(min_length=2, max_length=60, description="EU, US, DE, Japan …")]
HsCode = Annotated[
    str | None,
    Query(max_length=20, description="85, 8518, 8518.22, or a national line like 8518.22.00"),
]
CategoryId = Annotated[str | None, Query(max_length=64)]
Text = Annotated[str | None, Query(max_length=200, description="Free text, typos welcome")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=10_000)]
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
AsOf = Annotated[
    date | None,
    Query(ge=EARLIEST, le=LATEST, description="The rules in force on this date (default today)"),
]
AnswerValue = bool | float  # yes/no, or a number in the question's unit


def encode(body: Any) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_UTC_Z)


def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The hot paths skip response-model validation: orjson straight to bytes."""
    return Response(
        encode(body), status_code=status, media_type="application/json", headers=headers
    )


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleBody(Strict):
    """A rule's fields (see docs/rule-files.md); on change, only the fields to change."""

    code: str | None = Field(default=None, max_length=64)
    market: str | None = Field(default=None, max_length=60)
    title: str | None = Field(default=None, max_length=400)
    legal_reference: str | None = Field(default=None, max_length=1000)
    authority: str | None = Field(default=None, max_length=600)
    evidence_type: str | None = Field(default=None, max_length=40)
    issuers: list[Annotated[str, Field(max_length=600)]] | None = Field(default=None, max_length=50)
    hs_codes: list[Annotated[str, Field(max_length=20)]] | None = Field(
        default=None, max_length=500
    )
    categories: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=500
    )
    # yes/no, or a range of a number: {gt: 100}, {between: [10, 100]}
    conditions: dict[Annotated[str, Field(max_length=64)], bool | dict[str, Any]] | None = None
    match: Literal["all", "any"] | None = None
    validity_months: int | None = None
    url: str | None = Field(default=None, max_length=600)
    notes: str | None = Field(default=None, max_length=4000)
    measure: str | None = Field(default=None, max_length=40)
    customs_document: str | None = Field(default=None, max_length=16)
    operators: list[Annotated[str, Field(max_length=40)]] | None = Field(
        default=None, max_length=10
    )
    regions: list[Annotated[str, Field(max_length=12)]] | None = Field(default=None, max_length=100)
    publication: str | None = Field(default=None, max_length=400)
    last_verified: date | None = Field(default=None, ge=EARLIEST, le=LATEST)


def _sane(moment: datetime) -> datetime:
    if not sane(moment):
        raise ValueError("must be a date from 1900 to 2100")
    return moment


Moment = Annotated[datetime, AfterValidator(_sane)]


class Window(Strict):
    effective_from: Moment | None = None
    effective_to: Moment | None = None


class Retirement(Strict):
    effective_to: Moment | None = None


class QuestionBody(Strict):
    """A yes/no question, or (`kind` number) a quantity in `unit` between `min` and `max`."""

    text: str = Field(min_length=5, max_length=300)
    kind: Literal["yes_no", "number"] = "yes_no"
    unit: str | None = Field(default=None, max_length=20)
    min: float | None = None
    max: float | None = None


class ChecklistBody(Strict):
    market: str = Field(min_length=2, max_length=60)
    hs_code: str | None = Field(default=None, max_length=20)
    category: str | None = Field(default=None, max_length=64)
    q: str | None = Field(default=None, max_length=200)
    answers: dict[Annotated[str, Field(max_length=64)], AnswerValue] = Field(default_factory=dict)
    as_of: date | None = Field(default=None, ge=EARLIEST, le=LATEST)


class Answers(Strict):
    answers: dict[Annotated[str, Field(max_length=64)], AnswerValue]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def version_view(version: RuleVersion) -> dict[str, Any]:
    return {
        **version.content.to_dict(),
        "version": version.version,
        "status": version.status.value,
        "effective_from": version.effective_from,
        "effective_to": version.effective_to,
        "in_force": version.in_force(datetime.now(UTC)),
        "created_at": version.created_at,
        "created_by": version.created_by,
        "updated_at": version.updated_at,
        "updated_by": version.updated_by,
    }


def build_router(store: RuleStore, telemetry: Telemetry, checklists: Checklists) -> APIRouter:
    router = APIRouter()

    # --- for everyone ---------------------------------------------------------------------

    @router.get("/api/rules/search", tags=["rules"], response_model=out.SearchOut)
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
        if q and hs_code is None and category is None:
            with contextlib.suppress(domain.Invalid):  # "8518.22" typed as text is an HS code
                hs_code = store.nomenclature.normalize(q)
        # The answer does not depend on the caller (the role only goes into the event below),
        # so one kept answer serves everyone.
        key = (market, hs_code, category, q, limit, offset, as_of)

        def render(now: datetime) -> Answer:
            # Raises on bad input before anything is kept.
            product = resolve_product(store, market, hs_code, category, q)
            at = moment(as_of) if as_of else now
            found = lookup(store, product, at)
            page = found.hits[offset : offset + limit]
            body = {
                "market": market_view(store, product.market),
                "as_of": as_of,
                "query": {"q": q, "hs_code": hs_code, "category": category},
                "matched": matched_view(store, found),
                "alternatives": alternatives_view(found),
                **coverage_view(coverage_of(store, product, found, at)),
                "groups": groups_view(found.hits),
                "total": len(found.hits),
                "limit": limit,
                "offset": offset,
                "items": [requirement_view(h, store.questions) for h in page],
            }
            return Answer(
                encode(body),
                found.hs_code,
                found.category.id if found.category else None,
                product.market.code,
            )

        answer = store.answers.get(key, render)
        # One event per search, kept answer or not: the monitor counts them.
        telemetry.add(
            search_performed(
                query=q,
                hs_code=answer.hs_code,
                category=answer.category,
                market=answer.market,
                role=caller.role,
            )
        )
        return Response(answer.body, media_type="application/json")

    @router.get("/api/rules/self-check", tags=["rules"], response_model=out.SelfCheckOut)
    async def self_check_questions(
        market: Market,
        hs_code: HsCode = None,
        category: CategoryId = None,
        q: Text = None,
        as_of: AsOf = None,
    ) -> Response:
        """The questions that decide the product's conditional requirements, each asked once
        (numbers with their unit), and how far the rule base covers the product."""
        product = resolve_product(store, market, hs_code, category, q)
        return json(self_check(store, product, as_of))

    @router.get("/api/rules/coverage", tags=["rules"], response_model=out.CoverageOut)
    async def coverage(as_of: AsOf = None) -> Response:
        """How far the rule base covers each market and product category: `complete`
        (reviewed), `partial` or `none`, with the reason."""
        listed, cells = matrix(
            store.coverage, store.base, store.markets, store.categories, moment(as_of)
        )
        return json(
            {
                "as_of": as_of,
                "markets": [market_view(store, m) for m in listed],
                "categories": [{"id": c.id, "name": c.name} for c in store.categories.values()],
                "cells": cells,
            }
        )

    @router.get("/api/rules/markets", tags=["rules"], response_model=out.MarketsOut)
    async def markets() -> Response:
        """Unions, and the countries the rule base has rules for (any ISO country is accepted)."""
        codes = sorted({v.content.market for vs in store.base.versions.values() for v in vs})
        known = [store.markets.get(c) for c in sorted({*store.markets.unions, *codes})]
        return json({"items": [market_view(store, m) for m in known if m is not None]})

    @router.get("/api/rules/categories", tags=["rules"], response_model=out.CategoriesOut)
    async def categories() -> Response:
        return json(
            {
                "items": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "description": c.description,
                        "hs_codes": list(c.hs_codes),
                        "keywords": list(c.keywords),
                    }
                    for c in store.categories.values()
                ]
            }
        )

    @router.get("/api/rules/questions", tags=["rules"], response_model=out.QuestionsOut)
    async def questions() -> Response:
        return json({"items": [question_view(q, q.id) for q in store.questions.values()]})

    @router.get("/api/rules/hs/{code}", tags=["rules"], response_model=out.HsNodeOut)
    async def hs_node(code: Annotated[str, Field(max_length=20)]) -> Response:
        """An HS code with its section, path (chapter, heading) and children; a national
        tariff line is described by the HS subheading it extends."""
        normalized = store.nomenclature.normalize(code)
        node = store.nomenclature.nearest(normalized)
        assert node is not None
        return json(
            {
                "code": normalized,
                "dotted": dotted(normalized),
                "description": node.description,
                "edition": HS_EDITION,
                "national": len(normalized) > 6,
                "section": {
                    "id": node.section,
                    "name": store.nomenclature.sections.get(node.section),
                },
                "path": [
                    {"code": n.code, "description": n.description}
                    for n in store.nomenclature.path(normalized)
                ],
                "children": [
                    {"code": n.code, "description": n.description}
                    for n in store.nomenclature.children(normalized)
                ],
            }
        )

    @router.get("/api/rules/hs", tags=["rules"], response_model=out.HsMatchesOut)
    async def hs_search(q: Annotated[str, Query(min_length=2, max_length=200)]) -> Response:
        """HS codes and categories matching a description (product phrases, typo-tolerant)."""
        text = q.strip().lower()
        reading = store.phrases.read(text)
        # A product phrase's meanings first (all of them, if it is ambiguous), then text matches.
        read = [
            Interpretation(m.kind, m.key, m.name, 1.0)
            for m in (reading.meanings if reading else ())
        ]
        seen = {f.key for f in read}
        found = [*read, *(f for f in store.matcher.match(text, 10) if f.key not in seen)][:10]
        return json(
            {
                "items": [
                    {"kind": f.kind, "key": f.key, "name": f.name, "score": f.score} for f in found
                ]
            }
        )

    # --- checklists (signed in, each sees only their own) ---------------------------------

    @router.post(
        "/api/rules/checklists", status_code=201, tags=["rules"], response_model=out.ChecklistOut
    )
    async def create_checklist(body: ChecklistBody, caller: SignedIn) -> Response:
        """Answer the self-check questions; the answers become a checklist you can reopen.
        With `as_of`, it is decided against the rules in force on that date."""
        assert caller.user_id is not None
        product = resolve_product(store, body.market, body.hs_code, body.category, body.q)
        created = await checklists.create(caller.user_id, product, body.answers, body.as_of)
        return json(created, 201, {"location": f"/api/rules/checklists/{created['id']}"})

    @router.get("/api/rules/checklists", tags=["rules"], response_model=out.ChecklistPage)
    async def my_checklists(caller: SignedIn, limit: Limit = 20, offset: Offset = 0) -> Response:
        assert caller.user_id is not None
        items, total = await checklists.owned(caller.user_id, limit, offset)
        return json({"items": items, "total": total, "limit": limit, "offset": offset})

    def _owner(caller: Any) -> str | None:
        return None if caller.is_admin else caller.user_id

    @router.get(
        "/api/rules/checklists/{checklist_id}", tags=["rules"], response_model=out.ChecklistOut
    )
    async def read_checklist(checklist_id: str, caller: SignedIn) -> Response:
        return json(await checklists.get(checklist_id, _owner(caller)))

    @router.put(
        "/api/rules/checklists/{checklist_id}/answers",
        tags=["rules"],
        response_model=out.ChecklistOut,
    )
    async def answer(checklist_id: str, body: Answers, caller: SignedIn) -> Response:
        """Change answers; requirements are decided again against the rules in force now (or
        on the checklist's `as_of` date)."""
        assert caller.user_id is not None
        return json(await checklists.answer(checklist_id, caller.user_id, body.answers))

    @router.delete("/api/rules/checklists/{checklist_id}", status_code=204, tags=["rules"])
    async def delete_checklist(checklist_id: str, caller: SignedIn) -> Response:
        assert caller.user_id is not None
        await checklists.delete(checklist_id, caller.user_id)
        return Response(status_code=204)

    @router.get(
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

    # --- administration ---------------------------------------------------------------------

    def market_code(market: str | None) -> str | None:
        """A market filter as typed ("eu", "Germany"): 422 for one that does not exist."""
        return store.markets.resolve(market).code if market else None

    @router.get("/api/rules/admin/rules", tags=["rules-admin"], response_model=out.RulePage)
    async def list_rules(
        _: Admin,
        market: Annotated[str | None, Query(max_length=60)] = None,
        status: Status | None = None,
        q: Text = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Response:
        """The newest version of each rule (drafts included)."""
        items, total = await store.newest(
            market=market_code(market),
            status=status,
            text=q,
            limit=limit,
            offset=offset,
        )
        return json(
            {
                "items": [version_view(v) for v in items],
                "total": total,
                "limit": limit,
                "offset": offset,
            }
        )

    @router.post(
        "/api/rules/admin/rules",
        status_code=201,
        tags=["rules-admin"],
        response_model=out.RuleVersionOut,
    )
    async def create_rule(body: RuleBody, admin: Admin) -> Response:
        """Create a rule as a draft; customers see it once it is published."""
        assert admin.user_id is not None
        created = await store.create(admin.user_id, body.model_dump(exclude_unset=True))
        return json(
            version_view(created), 201, {"location": f"/api/rules/admin/rules/{created.code}"}
        )

    @router.get(
        "/api/rules/admin/rules/{code}", tags=["rules-admin"], response_model=out.RuleVersions
    )
    async def read_rule(code: str, _: Admin) -> Response:
        versions = await store.versions(code)
        return json({"code": versions[-1].code, "versions": [version_view(v) for v in versions]})

    @router.patch(
        "/api/rules/admin/rules/{code}", tags=["rules-admin"], response_model=out.RuleVersionOut
    )
    async def change_rule(code: str, body: RuleBody, admin: Admin) -> Response:
        """Change fields: edits the draft, or starts a new draft version after a published one.
        A field left out stays as it is; `null` clears it (422 where it is required)."""
        assert admin.user_id is not None
        return json(
            version_view(
                await store.update(admin.user_id, code, body.model_dump(exclude_unset=True))
            )
        )

    @router.post(
        "/api/rules/admin/rules/{code}/publish",
        tags=["rules-admin"],
        response_model=out.RuleVersionOut,
    )
    async def publish(code: str, admin: Admin, body: Window | None = None) -> Response:
        """Publish the draft, in force from `effective_from` (default now) to `effective_to`."""
        assert admin.user_id is not None
        window = body or Window()
        published = await store.publish(
            admin.user_id, code, _utc(window.effective_from), _utc(window.effective_to)
        )
        return json(version_view(published))

    @router.post(
        "/api/rules/admin/rules/{code}/retire",
        tags=["rules-admin"],
        response_model=out.RuleVersions,
    )
    async def retire(code: str, admin: Admin, body: Retirement | None = None) -> Response:
        """Retire the rule now, or let it end at `effective_to`."""
        assert admin.user_id is not None
        versions = await store.retire(
            admin.user_id, code, _utc((body or Retirement()).effective_to)
        )
        return json({"code": versions[-1].code, "versions": [version_view(v) for v in versions]})

    @router.get(
        "/api/rules/admin/rules/{code}/history",
        tags=["rules-admin"],
        response_model=out.HistoryOut,
    )
    async def history(code: str, _: Admin) -> Response:
        """Who changed what and when, each change as field: {from, to}."""
        return json({"code": code.upper(), "items": await store.history(code)})

    @router.put(
        "/api/rules/admin/questions/{question_id}",
        tags=["rules-admin"],
        response_model=out.QuestionAsked,
    )
    async def put_question(question_id: str, body: QuestionBody, admin: Admin) -> Response:
        assert admin.user_id is not None
        question = await store.put_question(
            admin.user_id, question_id, body.model_dump(exclude_none=True)
        )
        return json(question_view(question, question.id))

    @router.post("/api/rules/admin/import", tags=["rules-admin"], response_model=out.ImportReport)
    async def import_file(
        request: Request,
        admin: Admin,
        filename: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[\w.\- ]+$")],
        format: Literal["yaml", "csv"] | None = None,
        dry_run: bool = True,
    ) -> Response:
        """Import a rule file (the request body), all or nothing. `dry_run` (the default) only
        reports what would change; errors name their file and line."""
        assert admin.user_id is not None
        fmt = detect_format(filename, format)
        files = read_rule_files([(filename, await request.body(), fmt)], store.catalogs)
        plan = await store.import_files(admin.user_id, files, dry_run=dry_run)
        counts: dict[str, int] = {}
        for item in plan:
            counts[item.action] = counts.get(item.action, 0) + 1
        return json(
            {
                "dry_run": dry_run,
                "file": filename,
                "counts": counts,
                "items": [item.__dict__ for item in plan],
            }
        )

    @router.get(
        "/api/rules/admin/export",
        tags=["rules-admin"],
        response_class=Response,
        responses=out.RULE_FILE,  # type: ignore[arg-type]
    )
    async def export(
        _: Admin,
        format: Literal["yaml", "csv"] = "yaml",
        market: Annotated[str | None, Query(max_length=60)] = None,
    ) -> Response:
        """The newest version of every rule as a rule file that imports back unchanged."""
        rules = await store.export(market_code(market))
        text = dump_yaml(rules, store.questions) if format == "yaml" else dump_csv(rules)
        media = "application/yaml" if format == "yaml" else "text/csv"
        return Response(
            text,
            media_type=f"{media}; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="rules.{format}"'},
        )

    # --- internal (other services; not in the gateway's route table) -----------------------

    @router.get(REQUIREMENTS_ROUTE, tags=["internal"])
    async def internal_requirements(
        market: Market, hs_code: HsCode = None, category: CategoryId = None
    ) -> Response:
        """Published requirements in force now for a product in a market."""
        product = resolve_product(store, market, hs_code, category, None)
        now = datetime.now(UTC)
        found = lookup(store, product, now)
        return json(
            {
                "market": product.market.code,
                "hs_code": found.hs_code,
                **coverage_view(coverage_of(store, product, found, now)),
                "requirements": [
                    {
                        "code": h.version.code,
                        "title": h.version.content.title,
                        "evidence_type": h.version.content.evidence_type,
                        "mandatory": not h.version.content.conditional,
                        "conditional": h.version.content.conditional,
                        "questions": [
                            {"id": q["id"], "text": q["text"], "applies_when": q["applies_when"]}
                            for q in requirement_view(h, store.questions)["questions"]
                        ],
                    }
                    for h in found.hits
                ],
            }
        )

    @router.get(VOCABULARY_ROUTE, tags=["internal"])
    async def internal_vocabulary() -> Vocabulary:
        """What other services may name (see `contracts.rules.Vocabulary`)."""
        versions = [v for vs in store.base.versions.values() for v in vs]
        return Vocabulary(
            requirement_codes=sorted(store.base.versions),
            evidence_types=list(EVIDENCE_TYPES),
            unions=sorted(store.markets.unions),
            markets_with_rules=sorted({v.content.market for v in versions}),
        )

    @router.get(CHECKLIST_ROUTE, tags=["internal"], response_model=SavedChecklist)
    async def internal_checklist(checklist_id: str) -> Response:
        checklist = await checklists.get(checklist_id)
        keys = ("code", "title", "evidence_type", "mandatory", "applies", "reason")
        return json(
            {
                **{
                    k: checklist[k]
                    for k in (
                        "id",
                        "owner_id",
                        "market",
                        "hs_code",
                        "category",
                        "coverage",
                        "coverage_reason",
                    )
                },
                "created_at": checklist["created_at"],
                "requirements": [{k: r[k] for k in keys} for r in checklist["requirements"]],
            }
        )

    return router
