"""How well the rule base covers a market and a product: `complete`, `partial` or `none`, with
the reason. An empty list of requirements means "nothing applies" only where coverage is
complete; elsewhere it means "we do not know", and the answer says so.

Cells of the markets x categories matrix are declared in `data/coverage.yaml` (format
`clearway-coverage/1`) where someone checked them; the rest is computed from the rules: some
rules in force for the category is `partial`, none is `none`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]

from clearway.services.rules.domain.categories import Category
from clearway.services.rules.domain.hs import dotted
from clearway.services.rules.domain.lookup import Hit, RuleBase
from clearway.services.rules.domain.markets import Market, Markets

Level = Literal["complete", "partial", "none"]
LEVELS: tuple[Level, ...] = ("none", "partial", "complete")  # weakest first
FORMAT = "clearway-coverage/1"


@dataclass(frozen=True, slots=True)
class Cell:
    coverage: Level
    reason: str
    declared: bool = False


class Coverage:
    """The declared cells, and the computation of the others."""

    def __init__(self, declared: Mapping[tuple[str, str], Cell] | None = None) -> None:
        self.declared = dict(declared or {})

    @classmethod
    def from_yaml(
        cls, path: Path, markets: Markets, categories: Mapping[str, Category]
    ) -> Coverage:
        """Read and check the declarations (a missing file declares nothing)."""
        if not path.exists():
            return cls()
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if document.get("format", FORMAT) != FORMAT:
            raise ValueError(f"{path}: format must be {FORMAT}")
        declared: dict[tuple[str, str], Cell] = {}
        for raw_market, entry in (document.get("markets") or {}).items():
            market = markets.get(str(raw_market))
            if market is None:
                raise ValueError(f"{path}: {raw_market!r} is not a market")
            for category, value in ((entry or {}).get("categories") or {}).items():
                if category not in categories:
                    raise ValueError(f"{path}: {market.code}: {category!r} is not a category")
                declared[(market.code, category)] = _declared_cell(
                    path, market, categories[category], value
                )
        return cls(declared)

    def cell(
        self,
        base: RuleBase,
        markets: Markets,
        market: Market,
        category: Category,
        now: datetime,
    ) -> Cell:
        """One cell of the matrix: declared for the market (or a union it belongs to), else
        computed from the rules in force."""
        covering = markets.covering(market.code)
        found = bool(base.by_category(covering, category, now))
        declared = self._declared(covering, category.id)
        if declared is not None:
            return _with_rules(declared, found)
        if not base.has_rules(covering):
            return Cell("none", "no rules for this market")
        if found:
            return Cell(
                "partial",
                f"some rules for {category.name.lower()} in this market; not reviewed as complete",
            )
        return Cell("none", f"no rules for {category.name.lower()} in this market")

    def for_product(
        self,
        base: RuleBase,
        markets: Markets,
        market: Market,
        *,
        category: Category | None,
        hs_code: str | None,
        categories: Iterable[Category],
        hits: list[Hit],
        now: datetime,
    ) -> Cell:
        """How far an answer for this product in this market can be relied on."""
        covering = markets.covering(market.code)
        if not base.has_rules(covering):
            return Cell("none", "no rules for this market")
        if category is not None:
            return self.cell(base, markets, market, category, now)
        if hs_code is None:
            return Cell("none", "the description was not understood: give an HS code or a category")
        declared = [
            cell
            for c in categories
            if (cell := self._declared(covering, c.id)) is not None
            and any(hs_code.startswith(code) for code in c.hs_codes)
        ]
        if declared:
            weakest = min(declared, key=lambda c: LEVELS.index(c.coverage))
            return _with_rules(weakest, bool(hits))
        if hits:
            return Cell(
                "partial", f"rules found for HS {dotted(hs_code)}; not reviewed as complete"
            )
        chapter = hs_code[:2]
        if not base.has_rules_under(covering, chapter, now):
            return Cell("none", f"no rules for HS chapter {chapter} in this market")
        return Cell("none", f"no rules for HS {dotted(hs_code)} in this market")

    def _declared(self, covering: list[str], category: str) -> Cell | None:
        # The market's own declaration first, then its unions'.
        for code in covering:
            found = self.declared.get((code, category))
            if found is not None:
                return found
        return None


def _declared_cell(path: Path, market: Market, category: Category, value: Any) -> Cell:
    reason: Any = None
    if isinstance(value, str):
        level: Any = value
    elif isinstance(value, Mapping):
        level, reason = value.get("coverage"), value.get("reason")
    else:
        raise ValueError(f"{path}: {market.code}/{category.id}: give a coverage level")
    if level not in LEVELS:
        raise ValueError(f"{path}: {market.code}/{category.id}: coverage is one of {LEVELS}")
    default = {
        "complete": f"{category.name.lower()} in {market.name}: reviewed as complete",
        "partial": f"{category.name.lower()} in {market.name}: some requirements are missing",
        "none": f"{category.name.lower()} in {market.name}: not covered",
    }[level]
    return Cell(level, str(reason or default), True)


def _with_rules(cell: Cell, found: bool) -> Cell:
    """A cell declared `none` that has rules after all is partial (they still apply)."""
    if cell.coverage == "none" and found:
        return Cell("partial", cell.reason, cell.declared)
    return cell


def matrix(
    coverage: Coverage,
    base: RuleBase,
    markets: Markets,
    categories: Mapping[str, Category],
    now: datetime,
) -> tuple[list[Market], list[dict[str, Any]]]:
    """Markets (those with rules or declarations) x every category."""
    codes = {m for m, _ in coverage.declared} | base.markets_with_rules()
    listed = sorted(
        (found for code in codes if (found := markets.get(code)) is not None),
        key=lambda m: (m.kind != "union", m.code),
    )
    cells = [
        {
            "market": market.code,
            "category": category.id,
            **_cell_view(coverage.cell(base, markets, market, category, now)),
        }
        for market in listed
        for category in categories.values()
    ]
    return listed, cells


def _cell_view(cell: Cell) -> dict[str, Any]:
    return {"coverage": cell.coverage, "reason": cell.reason, "declared": cell.declared}


def markdown(
    listed: list[Market], categories: Mapping[str, Category], cells: list[dict[str, Any]]
) -> str:
    """The matrix as the docs show it (docs/coverage.md)."""
    symbol = {"complete": "●", "partial": "◐", "none": "○"}
    by = {(c["market"], c["category"]): c for c in cells}
    lines = [
        "# Coverage of the shipped rule base",
        "",
        "Generated from the shipped rule files and `data/coverage.yaml` by"
        " `clearway rules coverage --markdown`; do not edit by hand.",
        "",
        "● complete (reviewed) · ◐ partial · ○ none. Every answer of the API states its"
        " coverage with the reason; `GET /api/rules/coverage` serves this matrix.",
        "",
        "| category | " + " | ".join(m.code for m in listed) + " |",
        "|---|" + "---|" * len(listed),
    ]
    for category in categories.values():
        row = [symbol[by[(m.code, category.id)]["coverage"]] for m in listed]
        lines.append(f"| {category.name} (`{category.id}`) | " + " | ".join(row) + " |")
    counts = {level: sum(1 for c in cells if c["coverage"] == level) for level in symbol}
    lines += [
        "",
        f"{len(listed)} markets, {len(categories)} categories: {counts['complete']} cells"
        f" complete, {counts['partial']} partial, {counts['none']} none.",
        "",
    ]
    gaps = [c for c in cells if c["coverage"] == "none"]
    if gaps:
        lines += ["## Not covered", ""]
        lines += [f"- {c['market']} / {c['category']}: {c['reason']}" for c in gaps]
        lines.append("")
    return "\n".join(lines)
