"""What the rule base knows beside its rules: markets, product categories, questions, the HS
nomenclature, and how far the rules cover each market and category."""

from __future__ import annotations

from datetime import date
from typing import Any

from clearway.contracts.rules import Vocabulary
from clearway.services.rules.domain.content import EVIDENCE_TYPES
from clearway.services.rules.domain.coverage import matrix
from clearway.services.rules.domain.hs import HS_EDITION, dotted
from clearway.services.rules.domain.lookup import Interpretation
from clearway.services.rules.search import moment
from clearway.services.rules.snapshot import RuleSnapshot
from clearway.services.rules.views import market_view, question_view


def coverage(snapshot: RuleSnapshot, as_of: date | None) -> dict[str, Any]:
    """The markets x categories matrix of coverage, with the reason of each cell."""
    listed, cells = matrix(
        snapshot.coverage, snapshot.base, snapshot.markets, snapshot.categories, moment(as_of)
    )
    return {
        "as_of": as_of,
        "markets": [market_view(snapshot.markets, m) for m in listed],
        "categories": [{"id": c.id, "name": c.name} for c in snapshot.categories.values()],
        "cells": cells,
    }


def markets(snapshot: RuleSnapshot) -> dict[str, Any]:
    """Unions, and the countries the rule base has rules for."""
    codes = sorted({v.content.market for vs in snapshot.base.versions.values() for v in vs})
    known = [snapshot.markets.get(c) for c in sorted({*snapshot.markets.unions, *codes})]
    return {"items": [market_view(snapshot.markets, m) for m in known if m is not None]}


def categories(snapshot: RuleSnapshot) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "hs_codes": list(c.hs_codes),
                "keywords": list(c.keywords),
            }
            for c in snapshot.categories.values()
        ]
    }


def questions(snapshot: RuleSnapshot) -> dict[str, Any]:
    return {"items": [question_view(q, q.id) for q in snapshot.questions.values()]}


def hs_node(snapshot: RuleSnapshot, code: str) -> dict[str, Any]:
    """An HS code with its section, path and children; a national tariff line is described by
    the HS subheading it extends."""
    names = snapshot.nomenclature
    normalized = names.normalize(code)
    node = names.nearest(normalized)
    assert node is not None
    return {
        "code": normalized,
        "dotted": dotted(normalized),
        "description": node.description,
        "edition": HS_EDITION,
        "national": len(normalized) > 6,
        "section": {
            "id": node.section,
            "name": names.sections.get(node.section),
        },
        "path": [{"code": n.code, "description": n.description} for n in names.path(normalized)],
        "children": [
            {"code": n.code, "description": n.description} for n in names.children(normalized)
        ],
    }


def hs_matches(snapshot: RuleSnapshot, q: str) -> dict[str, Any]:
    """HS codes and categories matching a description (product phrases, typo-tolerant)."""
    text = q.strip().lower()
    reading = snapshot.phrases.read(text)
    # A product phrase's meanings first (all of them, if it is ambiguous), then text matches.
    read = [
        Interpretation(m.kind, m.key, m.name, 1.0) for m in (reading.meanings if reading else ())
    ]
    seen = {f.key for f in read}
    found = [*read, *(f for f in snapshot.matcher.match(text, 10) if f.key not in seen)][:10]
    return {
        "items": [{"kind": f.kind, "key": f.key, "name": f.name, "score": f.score} for f in found]
    }


def vocabulary(snapshot: RuleSnapshot) -> Vocabulary:
    """What other services may name (see `contracts.rules.Vocabulary`)."""
    versions = [v for vs in snapshot.base.versions.values() for v in vs]
    return Vocabulary(
        requirement_codes=sorted(snapshot.base.versions),
        evidence_types=list(EVIDENCE_TYPES),
        unions=sorted(snapshot.markets.unions),
        markets_with_rules=sorted({v.content.market for v in versions}),
    )
