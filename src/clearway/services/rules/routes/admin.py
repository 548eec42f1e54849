"""Administration: editing, publishing and retiring rules, questions, rule-file import and
export (administrators only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from clearway.kit.caller import Admin
from clearway.services.rules import schemas as out
from clearway.services.rules.domain.files import detect_format, read_rule_files
from clearway.services.rules.domain.versions import Status
from clearway.services.rules.questions import Questions
from clearway.services.rules.routes.params import Limit, Offset, Text, json
from clearway.services.rules.rule_files import RuleFiles, report
from clearway.services.rules.rule_versions import RuleVersions
from clearway.services.rules.snapshot import RuleSnapshot
from clearway.services.rules.views import question_view, version_view


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def router(
    snapshot: RuleSnapshot, versions: RuleVersions, questions: Questions, files: RuleFiles
) -> APIRouter:
    routes = APIRouter()

    def market_code(market: str | None) -> str | None:
        """A market filter as typed ("eu", "Germany"): 422 for one that does not exist."""
        return snapshot.markets.resolve(market).code if market else None

    @routes.get("/api/rules/admin/rules", tags=["rules-admin"], response_model=out.RulePage)
    async def list_rules(
        _: Admin,
        market: Annotated[str | None, Query(max_length=60)] = None,
        status: Status | None = None,
        q: Text = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Response:
        """The newest version of each rule (drafts included)."""
        items, total = await versions.newest(
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

    @routes.post(
        "/api/rules/admin/rules",
        status_code=201,
        tags=["rules-admin"],
        response_model=out.RuleVersionOut,
    )
    async def create_rule(body: out.RuleBody, admin: Admin) -> Response:
        """Create a rule as a draft; customers see it once it is published."""
        assert admin.user_id is not None
        created = await versions.create(admin.user_id, body.model_dump(exclude_unset=True))
        return json(
            version_view(created), 201, {"location": f"/api/rules/admin/rules/{created.code}"}
        )

    @routes.get(
        "/api/rules/admin/rules/{code}", tags=["rules-admin"], response_model=out.RuleVersions
    )
    async def read_rule(code: str, _: Admin) -> Response:
        found = await versions.versions(code)
        return json({"code": found[-1].code, "versions": [version_view(v) for v in found]})

    @routes.patch(
        "/api/rules/admin/rules/{code}", tags=["rules-admin"], response_model=out.RuleVersionOut
    )
    async def change_rule(code: str, body: out.RuleBody, admin: Admin) -> Response:
        """Change fields: edits the draft, or starts a new draft version after a published one.
        A field left out stays as it is; `null` clears it (422 where it is required)."""
        assert admin.user_id is not None
        return json(
            version_view(
                await versions.update(admin.user_id, code, body.model_dump(exclude_unset=True))
            )
        )

    @routes.post(
        "/api/rules/admin/rules/{code}/publish",
        tags=["rules-admin"],
        response_model=out.RuleVersionOut,
    )
    async def publish(code: str, admin: Admin, body: out.Window | None = None) -> Response:
        """Publish the draft, in force from `effective_from` (default now) to `effective_to`."""
        assert admin.user_id is not None
        window = body or out.Window()
        published = await versions.publish(
            admin.user_id, code, _utc(window.effective_from), _utc(window.effective_to)
        )
        return json(version_view(published))

    @routes.post(
        "/api/rules/admin/rules/{code}/retire",
        tags=["rules-admin"],
        response_model=out.RuleVersions,
    )
    async def retire(code: str, admin: Admin, body: out.Retirement | None = None) -> Response:
        """Retire the rule now, or let it end at `effective_to`."""
        assert admin.user_id is not None
        retired = await versions.retire(
            admin.user_id, code, _utc((body or out.Retirement()).effective_to)
        )
        return json({"code": retired[-1].code, "versions": [version_view(v) for v in retired]})

    @routes.get(
        "/api/rules/admin/rules/{code}/history",
        tags=["rules-admin"],
        response_model=out.HistoryOut,
    )
    async def history(code: str, _: Admin) -> Response:
        """Who changed what and when, each change as field: {from, to}."""
        return json({"code": code.upper(), "items": await versions.history(code)})

    @routes.put(
        "/api/rules/admin/questions/{question_id}",
        tags=["rules-admin"],
        response_model=out.QuestionAsked,
    )
    async def put_question(question_id: str, body: out.QuestionBody, admin: Admin) -> Response:
        assert admin.user_id is not None
        question = await questions.put(
            admin.user_id, question_id, body.model_dump(exclude_none=True)
        )
        return json(question_view(question, question.id))

    @routes.post("/api/rules/admin/import", tags=["rules-admin"], response_model=out.ImportReport)
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
        parsed = read_rule_files([(filename, await request.body(), fmt)], snapshot.catalogs)
        plan = await files.import_files(admin.user_id, parsed, dry_run=dry_run)
        return json(report(filename, dry_run, plan))

    @routes.get(
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
        text = files.dump(format, await files.export(market_code(market)))
        media = "application/yaml" if format == "yaml" else "text/csv"
        return Response(
            text,
            media_type=f"{media}; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="rules.{format}"'},
        )

    return routes
