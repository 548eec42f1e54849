"""Checklists: a customer's answers to a self-check, kept with the requirements they lead to,
decided again whenever the answers change."""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Row, delete, insert, select, update

from clearway.contracts.rules import ChecklistAnswered
from clearway.kit.bus import publish
from clearway.kit.db import Database, page
from clearway.services.rules import tables as t
from clearway.services.rules.domain import Invalid, NotFound
from clearway.services.rules.domain.coverage import Cell
from clearway.services.rules.domain.decisions import decide
from clearway.services.rules.domain.hs import dotted
from clearway.services.rules.domain.lookup import Found
from clearway.services.rules.domain.questions import Answer, Question
from clearway.services.rules.search import Product, coverage_of, lookup, moment
from clearway.services.rules.snapshot import RuleSnapshot
from clearway.services.rules.views import coverage_view, question_view, source_view

MAX_ANSWERS = 100
# What other services see of a checklist (`contracts.rules.Checklist`).
_SHARED = ("id", "owner_id", "market", "hs_code", "category", "coverage", "coverage_reason")
_SHARED_REQUIREMENT = ("code", "title", "evidence_type", "mandatory", "applies", "reason")
# What a list shows of a checklist instead of its requirements (`counts`).
COUNTS = ("requirement_count", "applies_count", "undecided_count", "open_question_count")
# What a list reads of a checklist: all but its requirements and answers, the bulk of it.
_LISTED = [c for c in t.checklists.c if c.name not in ("requirements", "answers")]


def evaluate(
    snapshot: RuleSnapshot,
    product: Product,
    answers: Mapping[str, Answer],
    as_of: date | None = None,
) -> tuple[Found, list[dict[str, Any]], Cell]:
    now = moment(as_of)
    found = lookup(snapshot, product, now)
    items = []
    for hit in found.hits:
        content = hit.version.content
        decision = decide(content, answers, snapshot.questions)
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
    return found, items, coverage_of(snapshot, product, found, now)


class Checklists:
    def __init__(self, db: Database, snapshot: RuleSnapshot) -> None:
        self.db = db
        self.snapshot = snapshot

    async def create(
        self,
        owner_id: str,
        product: Product,
        answers: Mapping[str, Answer],
        as_of: date | None = None,
    ) -> dict[str, Any]:
        _check_answers(answers, self.snapshot.questions)
        found, items, cell = evaluate(self.snapshot, product, answers, as_of)
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
            **counts(items),
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
        return _checklist(row, self.snapshot.questions)

    async def owned(
        self, owner_id: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the owner's checklists, newest first, as summaries: their counts, not
        their requirements and answers (a whole checklist is tens of kilobytes, most of it the
        requirements' texts), so a page of them stays small and quick."""
        mine = t.checklists.c.owner_id == owner_id
        async with self.db.read() as session:
            order = [t.checklists.c.created_at.desc()]
            rows, total = await page(
                session, t.checklists, [mine], order, limit, offset, columns=_LISTED
            )
        return [{**_about(r), **{k: getattr(r, k) for k in COUNTS}} for r in rows], total

    async def answer(
        self, checklist_id: str, owner_id: str, answers: Mapping[str, Answer]
    ) -> dict[str, Any]:
        """Change answers; the requirements are decided again against the rules in force now
        (or on the checklist's `as_of` date)."""
        current = await self.get(checklist_id, owner_id)
        merged = {**current["answers"], **answers}
        _check_answers(merged, self.snapshot.questions)
        product = Product(
            self.snapshot.markets.resolve(current["market"]),
            current["hs_code"],
            self.snapshot.categories.get(current["category"] or ""),
            None,
        )
        as_of = date.fromisoformat(current["as_of"]) if current["as_of"] else None
        _, items, cell = evaluate(self.snapshot, product, merged, as_of)
        async with self.db.transaction() as session:
            await session.execute(
                update(t.checklists)
                .where(t.checklists.c.id == checklist_id)
                .values(
                    answers=orjson.dumps(merged).decode(),
                    requirements=orjson.dumps(items).decode(),
                    coverage=orjson.dumps(coverage_view(cell)).decode(),
                    updated_at=datetime.now(UTC),
                    **counts(items),
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


def _about(row: Row[Any]) -> dict[str, Any]:
    """What a checklist is for and when it was decided: the fields a summary shares with it."""
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
    }


def _asked(requirements: list[dict[str, Any]]) -> dict[str, None]:
    """The questions still open, each once, in the order the requirements ask them."""
    return dict.fromkeys(q for r in requirements for q in r.get("open_questions", ()))


def counts(requirements: list[dict[str, Any]]) -> dict[str, int]:
    """What a list shows of a checklist, kept beside its requirements whenever they are
    decided. Undecided requirements count as applying in the checklist; here they are apart."""
    return {
        "requirement_count": len(requirements),
        "applies_count": sum(1 for r in requirements if r["applies"] and r["decided"]),
        "undecided_count": sum(1 for r in requirements if not r["decided"]),
        "open_question_count": len(_asked(requirements)),
    }


def _checklist(row: Row[Any], questions: Mapping[str, Question]) -> dict[str, Any]:
    answers: dict[str, Answer] = orjson.loads(row.answers)
    requirements: list[dict[str, Any]] = orjson.loads(row.requirements)
    asked = _asked(requirements)
    return {
        **_about(row),
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


def shared(checklist: Mapping[str, Any]) -> dict[str, Any]:
    """A checklist as other services see it (`contracts.rules.Checklist`)."""
    return {
        **{k: checklist[k] for k in _SHARED},
        "created_at": checklist["created_at"],
        "requirements": [{k: r[k] for k in _SHARED_REQUIREMENT} for r in checklist["requirements"]],
    }
