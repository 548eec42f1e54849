"""Self-checks: the questions that decide a product's conditional requirements, and checklists
that keep the customer's answers and the requirements they lead to."""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Row, delete, insert, select, update

from clearway.contracts.rules import ChecklistAnswered
from clearway.kit.bus import publish
from clearway.kit.db import Database, page
from clearway.services.rules import tables as t
from clearway.services.rules.domain import Invalid, NotFound
from clearway.services.rules.domain.hs import dotted
from clearway.services.rules.domain.lookup import Found, Hit, find
from clearway.services.rules.domain.markets import Market
from clearway.services.rules.domain.model import Category, Question, decide
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
    )


def question_views(hit: Hit, questions: Mapping[str, Question]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.question,
            "text": questions[c.question].text if c.question in questions else c.question,
            "applies_when": c.applies_when,
        }
        for c in hit.version.content.conditions
    ]


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
        "url": content.url,
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


def matched_view(store: RuleStore, found: Found) -> dict[str, Any]:
    node = store.nomenclature.get(found.hs_code) if found.hs_code else None
    category = found.category
    return {
        "hs_code": found.hs_code,
        "hs_code_dotted": dotted(found.hs_code) if found.hs_code else None,
        "hs_description": node.description if node else None,
        "category": (
            {"id": category.id, "name": category.name, "hs_codes": list(category.hs_codes)}
            if category
            else None
        ),
        "interpretation": _interpretation(found.interpretation),
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


def self_check(store: RuleStore, product: Product) -> dict[str, Any]:
    """The questions that decide the product's conditional requirements, each asked once."""
    found = lookup(store, product)
    questions: dict[str, dict[str, Any]] = {}
    for hit in found.hits:
        for view in question_views(hit, store.questions):
            entry = questions.setdefault(
                view["id"], {"id": view["id"], "text": view["text"], "decides": []}
            )
            entry["decides"].append(hit.version.code)
    return {
        "market": market_view(store, product.market),
        "matched": matched_view(store, found),
        "questions": list(questions.values()),
        "requirements": [requirement_view(h, store.questions) for h in found.hits],
    }


def evaluate(
    store: RuleStore, product: Product, answers: Mapping[str, bool]
) -> tuple[Found, list[dict[str, Any]]]:
    found = lookup(store, product)
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
            }
        )
    return found, items


class Checklists:
    def __init__(self, db: Database, store: RuleStore) -> None:
        self.db = db
        self.store = store

    async def create(
        self, owner_id: str, product: Product, answers: Mapping[str, bool]
    ) -> dict[str, Any]:
        _check_answers(answers)
        found, items = evaluate(self.store, product, answers)
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
        self, checklist_id: str, owner_id: str, answers: Mapping[str, bool]
    ) -> dict[str, Any]:
        """Change answers; the requirements are decided again against the rules now in force."""
        current = await self.get(checklist_id, owner_id)
        merged = {**current["answers"], **answers}
        _check_answers(merged)
        product = Product(
            self.store.markets.resolve(current["market"]),
            current["hs_code"],
            self.store.categories.get(current["category"] or ""),
            None,
        )
        _, items = evaluate(self.store, product, merged)
        async with self.db.transaction() as session:
            await session.execute(
                update(t.checklists)
                .where(t.checklists.c.id == checklist_id)
                .values(
                    answers=orjson.dumps(merged).decode(),
                    requirements=orjson.dumps(items).decode(),
                    updated_at=datetime.now(UTC),
                )
            )
            await publish(session, ChecklistAnswered(checklist_id=checklist_id))
        return await self.get(checklist_id, owner_id)

    async def delete(self, checklist_id: str, owner_id: str) -> None:
        await self.get(checklist_id, owner_id)
        async with self.db.transaction() as session:
            await session.execute(delete(t.checklists).where(t.checklists.c.id == checklist_id))


def _check_answers(answers: Mapping[str, bool]) -> None:
    if len(answers) > MAX_ANSWERS:
        raise Invalid("too-many-answers", f"At most {MAX_ANSWERS} answers.")


def _checklist(row: Row[Any], questions: Mapping[str, Question]) -> dict[str, Any]:
    answers: dict[str, bool] = orjson.loads(row.answers)
    requirements: list[dict[str, Any]] = orjson.loads(row.requirements)
    asked = dict.fromkeys(q for r in requirements for q in r.get("open_questions", ()))
    return {
        "id": row.id,
        "owner_id": row.owner_id,
        "market": row.market,
        "hs_code": row.hs_code,
        "category": row.category,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "answers": answers,
        "open_questions": [
            {"id": q, "text": questions[q].text if q in questions else q} for q in asked
        ],
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
        f"{e(product)} &middot; Created {e(str(checklist['created_at'])[:19])} UTC</p>"
        "<table><tr><th>Code</th><th>Requirement</th><th>Evidence</th><th>Status</th>"
        f"<th>Why</th></tr>{rows}</table></html>"
    )
