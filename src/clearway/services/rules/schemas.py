"""The shapes of the rules service's answers, for the OpenAPI document.

The hot paths render with orjson (search answers are even kept rendered, see answers.py), so
these models describe the bodies rather than build them; the API tests check the bodies
against them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

Coverage = Literal["complete", "partial", "none"]
Number = int | float


class MarketOut(BaseModel):
    code: str
    name: str
    kind: Literal["country", "union"]
    members: list[str]
    unions: list[str]


class CategoryRef(BaseModel):
    id: str
    name: str
    hs_codes: list[str]


class InterpretationOut(BaseModel):
    kind: Literal["category", "hs"]
    key: str
    name: str
    score: float


class MatchedOut(BaseModel):
    """How the product was understood."""

    hs_code: str | None
    hs_code_dotted: str | None
    hs_description: str | None
    hs_edition: str
    category: CategoryRef | None
    hs_category: CategoryRef | None  # the category the HS code falls in
    interpretation: InterpretationOut | None
    ambiguous: bool  # the text fits several products: no rules, see `alternatives`


class QuestionAsked(BaseModel):
    id: str
    text: str
    kind: Literal["yes_no", "number"]
    unit: str | None = None
    min: Number | None = None
    max: Number | None = None


class ConditionOut(QuestionAsked):
    applies_when: bool | dict[str, Any]  # yes/no, or {gt: 100}, {between: [a, b]}
    applies_if: str  # "yes", "more than 100 Wh"


class WhyOut(BaseModel):
    reason: str
    matched_hs_code: str | None
    scope_hs_code: str | None
    scope_category: str | None
    narrower: bool


class SourceFields(BaseModel):
    measure: str | None = None
    customs_document: str | None = None
    operators: list[str] = []
    regions: list[str] = []
    url: str | None = None
    publication: str | None = None
    last_verified: date | None = None


class RequirementOut(SourceFields):
    code: str
    version: int
    market: str
    title: str
    legal_reference: str
    authority: str
    evidence_type: str
    issuers: list[str]
    mandatory: bool
    conditional: bool
    match: Literal["all", "any"]
    questions: list[ConditionOut]
    validity_months: int | None
    notes: str | None
    effective_from: datetime | None
    effective_to: datetime | None
    score: float
    why: WhyOut


class Groups(BaseModel):
    mandatory: list[str]
    conditional: list[str]


class Answered(BaseModel):
    """What every product answer states: how far the rule base covers it, and why."""

    coverage: Coverage
    coverage_reason: str


class SearchQuery(BaseModel):
    q: str | None
    hs_code: str | None
    category: str | None


class SearchOut(Answered):
    market: MarketOut
    as_of: date | None
    query: SearchQuery
    matched: MatchedOut
    alternatives: list[InterpretationOut]
    groups: Groups
    total: int
    limit: int
    offset: int
    items: list[RequirementOut]


class SelfCheckQuestion(QuestionAsked):
    decides: list[str]


class SelfCheckOut(Answered):
    market: MarketOut
    as_of: date | None
    matched: MatchedOut
    alternatives: list[InterpretationOut]
    groups: Groups
    questions: list[SelfCheckQuestion]
    requirements: list[RequirementOut]


class MarketsOut(BaseModel):
    items: list[MarketOut]


class CategoryOut(BaseModel):
    id: str
    name: str
    description: str
    hs_codes: list[str]
    keywords: list[str]


class CategoriesOut(BaseModel):
    items: list[CategoryOut]


class QuestionsOut(BaseModel):
    items: list[QuestionAsked]


class HsRef(BaseModel):
    code: str
    description: str


class SectionOut(BaseModel):
    id: str
    name: str | None


class HsNodeOut(BaseModel):
    code: str
    dotted: str
    description: str
    edition: str
    national: bool  # a national tariff line: described by the HS subheading it extends
    section: SectionOut
    path: list[HsRef]
    children: list[HsRef]


class HsMatchesOut(BaseModel):
    items: list[InterpretationOut]


class CoverageCell(BaseModel):
    market: str
    category: str
    coverage: Coverage
    reason: str
    declared: bool  # someone reviewed this cell (data/coverage.yaml); else computed


class CoverageCategory(BaseModel):
    id: str
    name: str


class CoverageOut(BaseModel):
    as_of: date | None
    markets: list[MarketOut]
    categories: list[CoverageCategory]
    cells: list[CoverageCell]


class ChecklistRequirement(SourceFields):
    code: str
    title: str
    evidence_type: str
    mandatory: bool
    conditional: bool
    applies: bool
    decided: bool
    reason: str
    legal_reference: str
    authority: str
    issuers: list[str]
    market: str
    version: int
    open_questions: list[str]


class ChecklistOut(Answered):
    id: str
    owner_id: str
    market: str
    hs_code: str | None
    category: str | None
    as_of: date | None
    created_at: datetime
    updated_at: datetime
    answers: dict[str, bool | Number]
    open_questions: list[QuestionAsked]
    groups: Groups
    requirements: list[ChecklistRequirement]


class ChecklistPage(BaseModel):
    items: list[ChecklistOut]
    total: int
    limit: int
    offset: int


class RuleVersionOut(SourceFields):
    code: str
    market: str
    title: str
    legal_reference: str
    authority: str
    evidence_type: str
    issuers: list[str]
    hs_codes: list[str]
    categories: list[str]
    conditions: dict[str, bool | dict[str, Any]]
    match: Literal["all", "any"]
    validity_months: int | None
    notes: str | None
    version: int
    status: Literal["draft", "published", "retired"]
    effective_from: datetime | None
    effective_to: datetime | None
    in_force: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class RulePage(BaseModel):
    items: list[RuleVersionOut]
    total: int
    limit: int
    offset: int


class RuleVersions(BaseModel):
    code: str
    versions: list[RuleVersionOut]


class HistoryEntry(BaseModel):
    version: int
    action: str
    actor: str
    at: datetime
    source: str | None
    changes: dict[str, Any]


class HistoryOut(BaseModel):
    code: str
    items: list[HistoryEntry]


class PlannedOut(BaseModel):
    code: str
    file: str
    line: int
    action: str
    version: int
    changes: dict[str, Any]


class ImportReport(BaseModel):
    dry_run: bool
    file: str
    counts: dict[str, int]
    items: list[PlannedOut]


RULE_FILE = {
    200: {
        "description": "A rule file (docs/rule-files.md)",
        "content": {
            # YAML parses into a document (`format`, `questions`, `rules`); CSV stays text.
            "application/yaml": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}
PRINTABLE = {
    200: {
        "description": "The checklist as JSON, or as a printable page",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}
