"""How the rule base is shown: the JSON shapes of requirements, questions, products, markets
and versions that searches, self-checks, checklists and administration answer with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from clearway.services.rules.domain.categories import Category
from clearway.services.rules.domain.coverage import Cell
from clearway.services.rules.domain.hs import HS_EDITION, Nomenclature, dotted
from clearway.services.rules.domain.lookup import Found, Hit
from clearway.services.rules.domain.markets import Market, Markets
from clearway.services.rules.domain.questions import Question
from clearway.services.rules.domain.versions import RuleVersion


def encode(body: Any) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_UTC_Z)


def coverage_view(cell: Cell) -> dict[str, Any]:
    """How far the answer can be relied on: `complete`, `partial` or `none`, and why."""
    return {"coverage": cell.coverage, "coverage_reason": cell.reason}


def groups_view(hits: list[Hit]) -> dict[str, list[str]]:
    """The codes of the mandatory requirements and of those that depend on answers."""
    return {
        "mandatory": [h.version.code for h in hits if not h.version.content.conditional],
        "conditional": [h.version.code for h in hits if h.version.content.conditional],
    }


def question_view(question: Question | None, question_id: str) -> dict[str, Any]:
    """A question as asked: its text, and for a number its unit and bounds."""
    if question is None:
        return {"id": question_id, "text": question_id, "kind": "yes_no", "unit": None}
    view: dict[str, Any] = {"id": question.id, "text": question.text, "kind": question.kind}
    view["unit"] = question.unit
    if question.numeric:
        view["min"], view["max"] = question.min, question.max
    return view


def question_views(hit: Hit, questions: Mapping[str, Question]) -> list[dict[str, Any]]:
    views = []
    for c in hit.version.content.conditions:
        question = questions.get(c.question)
        views.append(
            {
                **question_view(question, c.question),
                "applies_when": c.data(),
                "applies_if": c.describe(question.unit if question else None),
            }
        )
    return views


def source_view(hit: Hit) -> dict[str, Any]:
    """What a requirement is, whom it binds and where it comes from (clearway-rules/2)."""
    content = hit.version.content
    return {
        "measure": content.measure,
        "customs_document": content.customs_document,
        "operators": list(content.operators),
        "regions": list(content.regions),
        "url": content.url,
        "publication": content.publication,
        "last_verified": content.last_verified.isoformat() if content.last_verified else None,
    }


def requirement_view(hit: Hit, questions: Mapping[str, Question]) -> dict[str, Any]:
    """A requirement as customers see it, with why it applies to their product."""
    content = hit.version.content
    return {
        "code": content.code,
        "version": hit.version.version,
        "market": content.market,
        "title": content.title,
        "legal_reference": content.legal_reference,
        "authority": content.authority,
        "evidence_type": content.evidence_type,
        "issuers": list(content.issuers),
        "mandatory": not content.conditional,
        "conditional": content.conditional,
        "match": content.match,
        "questions": question_views(hit, questions),
        "validity_months": content.validity_months,
        **source_view(hit),
        "notes": content.notes,
        "effective_from": hit.version.effective_from,
        "effective_to": hit.version.effective_to,
        "score": hit.score,
        "why": {
            "reason": hit.reason,
            "matched_hs_code": hit.matched_hs,
            "scope_hs_code": hit.scope_hs,
            "scope_category": hit.scope_category,
            "narrower": hit.narrower,
        },
    }


def _category(category: Category | None) -> dict[str, Any] | None:
    if category is None:
        return None
    return {"id": category.id, "name": category.name, "hs_codes": list(category.hs_codes)}


def matched_view(nomenclature: Nomenclature, found: Found) -> dict[str, Any]:
    node = nomenclature.nearest(found.hs_code) if found.hs_code else None
    return {
        "hs_code": found.hs_code,
        "hs_code_dotted": dotted(found.hs_code) if found.hs_code else None,
        "hs_description": node.description if node else None,
        "hs_edition": HS_EDITION,
        "category": _category(found.category),
        "hs_category": _category(found.hs_category),
        "interpretation": _interpretation(found.interpretation),
        "ambiguous": found.ambiguous,
    }


def _interpretation(found: Any) -> dict[str, Any] | None:
    if found is None:
        return None
    return {"kind": found.kind, "key": found.key, "name": found.name, "score": found.score}


def alternatives_view(found: Found) -> list[dict[str, Any]]:
    return [v for a in found.alternatives if (v := _interpretation(a)) is not None]


def market_view(markets: Markets, market: Market) -> dict[str, Any]:
    return {
        "code": market.code,
        "name": market.name,
        "kind": market.kind,
        "members": list(market.members),
        "unions": markets.unions_of(market.code),
    }


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
