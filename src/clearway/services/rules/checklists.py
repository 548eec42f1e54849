"""Self-checks: the questions that decide a product's conditional requirements, and checklists
that keep the customer's answers and the requirements they lead to."""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import orjson
from sqlalchemy import Row, delete, insert, select, update

from clearway.contracts.rules import ChecklistAnswered
from clearway.kit.bus import publish
from clearway.kit.db import Database, page
from clearway.services.rules import tables as t
from clearway.services.rules.domain import Invalid, NotFound
from clearway.services.rules.domain.coverage import Cell
from clearway.services.rules.domain.hs import HS_EDITION, dotted
from clearway.services.rules.domain.lookup import Found, Hit, find
from clearway.services.rules.domain.markets import Market
from clearway.services.rules.domain.model import Answer, Category, Question, decide
from clearway.services.rules.store import RuleStore

MAX_ANSWERS = 100


@dataclass(frozen=True)
class Product:
    """A product in a market as the caller described it, checked."""

    market: Market
    hs_code: str | None
    category: Category | None
    text: str | None


def resolve_product(
    store: RuleStore,
    market: str,
    hs_code: str | None,
    category: str | None,
    text: str | None,
) -> Product:
    resolved = store.markets.resolve(market)
    code = store.nomenclature.normalize(hs_code) if hs_code else None
    found = None
    if category:
        found = store.categories.get(category)
        if found is None:
            raise Invalid("unknown-category", f"{category[:64]!r} is not a product category.")
    text = text.strip() if text else None
    if code is None and found is None and not text:
        raise Invalid("no-product", "Name the product: an HS code, a category or a description.")
    return Product(resolved, code, found, text)


def moment(as_of: date | None) -> datetime:
    """The instant a lookup is for: the start of `as_of` (UTC), or now."""
    return datetime.combine(as_of, time(), UTC) if as_of else datetime.now(UTC)


def lookup(store: RuleStore, product: Product, now: datetime | None = None) -> Found:
    return find(
        store.base,
        store.matcher,
        store.catalogs,
        store.markets.covering(product.market.code),
        hs_code=product.hs_code,
        category=product.category,
        text=product.text,
        now=now or datetime.now(UTC),
        phrases=store.phrases,
    )


def coverage_of(store: RuleStore, product: Product, found: Found, now: datetime) -> Cell:
    if found.ambiguous:
        return Cell("none", "the description fits several products: choose one of the alternatives")
    return store.coverage.for_product(
        store.base,
        store.markets,
        product.market,
        category=found.category,
        hs_code=found.hs_code,
        categories=store.categories.values(),
        hits=found.hits,
        now=now,
    )


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


def matched_view(store: RuleStore, found: Found) -> dict[str, Any]:
    node = store.nomenclature.nearest(found.hs_code) if found.hs_code else None
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


def market_view(store: RuleStore, market: Market) -> dict[str, Any]:
    return {
        "code": market.code,
        "name": market.name,
        "kind": market.kind,
        "members": list(market.members),
        "unions": store.markets.unions_of(market.code),
    }


def self_check(store: RuleStore, product: Product, as_of: date | None = None) -> dict[str, Any]:
    """The questions that decide the product's conditional requirements, each asked once
    (numbers with their unit)."""
    now = moment(as_of)
    found = lookup(store, product, now)
    questions: dict[str, dict[str, Any]] = {}
    for hit in found.hits:
        for condition in hit.version.content.conditions:
            entry = questions.setdefault(
                condition.question,
                {
                    **question_view(store.questions.get(condition.question), condition.question),
                    "decides": [],
                },
            )
            entry["decides"].append(hit.version.code)
    return {
        "market": market_view(store, product.market),
        "as_of": as_of,
        "matched": matched_view(store, found),
        "alternatives": alternatives_view(found),
        **coverage_view(coverage_of(store, product, found, now)),
        "groups": groups_view(found.hits),
        "questions": list(questions.values()),
        "requirements": [requirement_view(h, store.questions) for h in found.hits],
    }


def evaluate(
    store: RuleStore, product: Product, answers: Mapping[str, Answer], as_of: date | None = None
) -> tuple[Found, list[dict[str, Any]], Cell]:
    now = moment(as_of)
    found = lookup(store, product, now)
    items = []
    for hit in found.hits:
        content = hit.version.content
        decision = decide(content, answers, store.questions)
        items.append(
            {
                "code": content.code,
                "title": content.title,
                "evidence_type": content.evidence_type,
                "mandatory": not content.conditional,
                "conditional": content.conditional,
                # Undecided counts as applying: better a requirement too many than one missed.
                "applies": decision.applies is not False,
                "decided": decision.applies is not None,
                "reason": decision.reason,
                "legal_reference": content.legal_reference,
                "authority": content.authority,
                "issuers": list(content.issuers),
                "market": content.market,
                "version": hit.version.version,
                "open_questions": list(decision.open_questions),
                **source_view(hit),
            }
        )
    return found, items, coverage_of(store, product, found, now)


class Checklists:
    def __init__(self, db: Database, store: RuleStore) -> None:
        self.db = db
        self.store = store

    async def create(
        self,
        owner_id: str,
        product: Product,
        answers: Mapping[str, Answer],
        as_of: date | None = None,
    ) -> dict[str, Any]:
        _check_answers(answers, self.store.questions)
        found, items, cell = evaluate(self.store, product, answers, as_of)
        now = datetime.now(UTC)
        checklist_id = uuid.uuid4().hex
        row = {
            "id": checklist_id,
            "owner_id": owner_id,
            "market": product.market.code,
            "hs_code": found.hs_code,
            "category": found.category.id if found.category else None,
            "answers": orjson.dumps(dict(answers)).decode(),
            "requirements": orjson.dumps(items).decode(),
            "as_of": as_of.isoformat() if as_of else None,
            "coverage": orjson.dumps(coverage_view(cell)).decode(),
            "created_at": now,
            "updated_at": now,
        }
        async with self.db.transaction() as session:
            await session.execute(insert(t.checklists).values(**row))
        return await self.get(checklist_id)

    async def get(self, checklist_id: str, owner_id: str | None = None) -> dict[str, Any]:
        """The checklist; with `owner_id`, only if it is theirs (else it does not exist)."""
        async with self.db.read() as session:
            row = (
                await session.execute(select(t.checklists).where(t.checklists.c.id == checklist_id))
            ).first()
        if row is None or (owner_id is not None and row.owner_id != owner_id):
            raise NotFound("no-such-checklist", "There is no such checklist.")
        return _checklist(row, self.store.questions)

    async def owned(
        self, owner_id: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        mine = t.checklists.c.owner_id == owner_id
        async with self.db.read() as session:
            order = [t.checklists.c.created_at.desc()]
            rows, total = await page(session, t.checklists, [mine], order, limit, offset)
        return [_checklist(r, self.store.questions) for r in rows], total

    async def answer(
        self, checklist_id: str, owner_id: str, answers: Mapping[str, Answer]
    ) -> dict[str, Any]:
        """Change answers; the requirements are decided again against the rules in force now
        (or on the checklist's `as_of` date)."""
        current = await self.get(checklist_id, owner_id)
        merged = {**current["answers"], **answers}
        _check_answers(merged, self.store.questions)
        product = Product(
            self.store.markets.resolve(current["market"]),
            current["hs_code"],
            self.store.categories.get(current["category"] or ""),
            None,
        )
        as_of = date.fromisoformat(current["as_of"]) if current["as_of"] else None
        _, items, cell = evaluate(self.store, product, merged, as_of)
        async with self.db.transaction() as session:
            await session.execute(
                update(t.checklists)
                .where(t.checklists.c.id == checklist_id)
                .values(
                    answers=orjson.dumps(merged).decode(),
                    requirements=orjson.dumps(items).decode(),
                    coverage=orjson.dumps(coverage_view(cell)).decode(),
                    updated_at=datetime.now(UTC),
                )
            )
            await publish(session, ChecklistAnswered(checklist_id=checklist_id))
        return await self.get(checklist_id, owner_id)

    async def delete(self, checklist_id: str, owner_id: str) -> None:
        await self.get(checklist_id, owner_id)
        async with self.db.transaction() as session:
            await session.execute(delete(t.checklists).where(t.checklists.c.id == checklist_id))


def _check_answers(answers: Mapping[str, Answer], questions: Mapping[str, Question]) -> None:
    if len(answers) > MAX_ANSWERS:
        raise Invalid("too-many-answers", f"At most {MAX_ANSWERS} answers.")
    errors = [
        {"field": f"answers.{question_id}", "message": problem}
        for question_id, answer in answers.items()
        if (question := questions.get(question_id)) is not None
        and (problem := question.check_answer(answer)) is not None
    ]
    if errors:
        raise Invalid(
            "invalid-answers",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )


# Checklists saved before coverage was recorded.
_UNRECORDED = {"coverage": "partial", "coverage_reason": "saved before coverage was recorded"}


def _checklist(row: Row[Any], questions: Mapping[str, Question]) -> dict[str, Any]:
    answers: dict[str, Answer] = orjson.loads(row.answers)
    requirements: list[dict[str, Any]] = orjson.loads(row.requirements)
    asked = dict.fromkeys(q for r in requirements for q in r.get("open_questions", ()))
    coverage = orjson.loads(row.coverage) if row.coverage else _UNRECORDED
    return {
        "id": row.id,
        "owner_id": row.owner_id,
        "market": row.market,
        "hs_code": row.hs_code,
        "category": row.category,
        "as_of": row.as_of,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "coverage": coverage["coverage"],
        "coverage_reason": coverage["coverage_reason"],
        "answers": answers,
        "open_questions": [question_view(questions.get(q), q) for q in asked],
        "groups": {
            "mandatory": [r["code"] for r in requirements if r["mandatory"]],
            "conditional": [r["code"] for r in requirements if r["conditional"]],
        },
        "requirements": requirements,
    }


def printable(checklist: Mapping[str, Any]) -> str:
    """A self-contained HTML page for printing (no scripts, no outside resources)."""
    e = html.escape
    rows = "".join(
        "<tr><td>{}</td><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            e(r["code"]),
            e(r["title"]),
            e(r["legal_reference"]),
            e(r["evidence_type"].replace("_", " ")),
            "applies" if r["applies"] else "does not apply",
            e(r["reason"]),
        )
        for r in checklist["requirements"]
    )
    product = " / ".join(
        p
        for p in (
            checklist["hs_code"] and f"HS {dotted(checklist['hs_code'])}",
            checklist["category"],
        )
        if p
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>Clearway checklist {e(checklist['id'])}</title>"
        "<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}</style>"
        f"<h1>Compliance checklist</h1><p>Market: {e(checklist['market'])} &middot; Product: "
        f"{e(product)} &middot; Created {e(str(checklist['created_at'])[:19])} UTC"
        + (f" &middot; Rules in force on {e(checklist['as_of'])}" if checklist["as_of"] else "")
        + f"</p><p>Coverage of the rule base: {e(checklist['coverage'])}"
        f" ({e(checklist['coverage_reason'])})</p>"
        "<table><tr><th>Code</th><th>Requirement</th><th>Evidence</th><th>Status</th>"
        f"<th>Why</th></tr>{rows}</table></html>"
    )
