"""Searches and self-checks: a product as the caller names it, the requirements in force for it
in a market, and the questions that decide the conditional ones."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from clearway.services.rules.answers import Answer
from clearway.services.rules.domain import Invalid
from clearway.services.rules.domain.categories import Category
from clearway.services.rules.domain.coverage import Cell
from clearway.services.rules.domain.lookup import Found, find
from clearway.services.rules.domain.markets import Market
from clearway.services.rules.snapshot import RuleSnapshot
from clearway.services.rules.views import (
    alternatives_view,
    coverage_view,
    encode,
    groups_view,
    market_view,
    matched_view,
    question_view,
    requirement_view,
)


@dataclass(frozen=True)
class Product:
    """A product in a market as the caller described it, checked."""

    market: Market
    hs_code: str | None
    category: Category | None
    text: str | None


def resolve_product(
    snapshot: RuleSnapshot,
    market: str,
    hs_code: str | None,
    category: str | None,
    text: str | None,
) -> Product:
    resolved = snapshot.markets.resolve(market)
    code = snapshot.nomenclature.normalize(hs_code) if hs_code else None
    found = None
    if category:
        found = snapshot.categories.get(category)
        if found is None:
            raise Invalid("unknown-category", f"{category[:64]!r} is not a product category.")
    text = text.strip() if text else None
    if code is None and found is None and not text:
        raise Invalid("no-product", "Name the product: an HS code, a category or a description.")
    return Product(resolved, code, found, text)


def moment(as_of: date | None) -> datetime:
    """The instant a lookup is for: the start of `as_of` (UTC), or now."""
    return datetime.combine(as_of, time(), UTC) if as_of else datetime.now(UTC)


def lookup(snapshot: RuleSnapshot, product: Product, now: datetime | None = None) -> Found:
    return find(
        snapshot.base,
        snapshot.matcher,
        snapshot.catalogs,
        snapshot.markets.covering(product.market.code),
        hs_code=product.hs_code,
        category=product.category,
        text=product.text,
        now=now or datetime.now(UTC),
        phrases=snapshot.phrases,
    )


def coverage_of(snapshot: RuleSnapshot, product: Product, found: Found, now: datetime) -> Cell:
    if found.ambiguous:
        return Cell("none", "the description fits several products: choose one of the alternatives")
    return snapshot.coverage.for_product(
        snapshot.base,
        snapshot.markets,
        product.market,
        category=found.category,
        hs_code=found.hs_code,
        categories=snapshot.categories.values(),
        hits=found.hits,
        now=now,
    )


def self_check(
    snapshot: RuleSnapshot, product: Product, as_of: date | None = None
) -> dict[str, Any]:
    """The questions that decide the product's conditional requirements, each asked once
    (numbers with their unit)."""
    now = moment(as_of)
    found = lookup(snapshot, product, now)
    questions: dict[str, dict[str, Any]] = {}
    for hit in found.hits:
        for condition in hit.version.content.conditions:
            entry = questions.setdefault(
                condition.question,
                {
                    **question_view(snapshot.questions.get(condition.question), condition.question),
                    "decides": [],
                },
            )
            entry["decides"].append(hit.version.code)
    return {
        "market": market_view(snapshot.markets, product.market),
        "as_of": as_of,
        "matched": matched_view(snapshot.nomenclature, found),
        "alternatives": alternatives_view(found),
        **coverage_view(coverage_of(snapshot, product, found, now)),
        "groups": groups_view(found.hits),
        "questions": list(questions.values()),
        "requirements": [requirement_view(h, snapshot.questions) for h in found.hits],
    }


def search_answer(
    snapshot: RuleSnapshot,
    market: str,
    hs_code: str | None,
    category: str | None,
    q: str | None,
    limit: int,
    offset: int,
    as_of: date | None,
) -> Answer:
    """Requirements in force for a product in a market, ranked and paged, each with why; kept
    while the snapshot and the time allow."""
    if q and hs_code is None and category is None:
        with contextlib.suppress(Invalid):  # "8518.22" typed as text is an HS code
            hs_code = snapshot.nomenclature.normalize(q)
    # The answer does not depend on the caller (the role only goes into the search's event),
    # so one kept answer serves everyone.
    key = (market, hs_code, category, q, limit, offset, as_of)

    def render(now: datetime) -> Answer:
        # Raises on bad input before anything is kept.
        product = resolve_product(snapshot, market, hs_code, category, q)
        at = moment(as_of) if as_of else now
        found = lookup(snapshot, product, at)
        page = found.hits[offset : offset + limit]
        body = {
            "market": market_view(snapshot.markets, product.market),
            "as_of": as_of,
            "query": {"q": q, "hs_code": hs_code, "category": category},
            "matched": matched_view(snapshot.nomenclature, found),
            "alternatives": alternatives_view(found),
            **coverage_view(coverage_of(snapshot, product, found, at)),
            "groups": groups_view(found.hits),
            "total": len(found.hits),
            "limit": limit,
            "offset": offset,
            "items": [requirement_view(h, snapshot.questions) for h in page],
        }
        return Answer(
            encode(body),
            found.hs_code,
            found.category.id if found.category else None,
            product.market.code,
        )

    return snapshot.answers.get(key, render)


def requirements(snapshot: RuleSnapshot, product: Product) -> dict[str, Any]:
    """Published requirements in force now for a product in a market, as other services need
    them."""
    now = datetime.now(UTC)
    found = lookup(snapshot, product, now)
    return {
        "market": product.market.code,
        "hs_code": found.hs_code,
        **coverage_view(coverage_of(snapshot, product, found, now)),
        "requirements": [
            {
                "code": h.version.code,
                "title": h.version.content.title,
                "evidence_type": h.version.content.evidence_type,
                "mandatory": not h.version.content.conditional,
                "conditional": h.version.content.conditional,
                "questions": [
                    {"id": q["id"], "text": q["text"], "applies_when": q["applies_when"]}
                    for q in requirement_view(h, snapshot.questions)["questions"]
                ],
            }
            for h in found.hits
        ],
    }
