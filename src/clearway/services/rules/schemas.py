"""The shapes of what the rules service takes (request bodies, checked) and of its answers,
for the OpenAPI document.

The hot paths render with orjson (search answers are even kept rendered, see answers.py), so
these models describe the bodies rather than build them; the API tests check the bodies
against them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from clearway.services.rules.domain.versions import sane

Coverage = Literal["complete", "partial", "none"]
Number = int | float
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
AnswerValue = bool | float  # yes/no, or a number in the question's unit


# --- request bodies ----------------------------------------------------------------------


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


# --- answers -----------------------------------------------------------------------------


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


class ChecklistAbout(Answered):
    """What a checklist is for and when it was decided: what a whole one and a summary share."""

    id: str
    owner_id: str
    market: str
    hs_code: str | None
    category: str | None
    as_of: date | None
    created_at: datetime
    updated_at: datetime


class ChecklistOut(ChecklistAbout):
    answers: dict[str, bool | Number]
    open_questions: list[QuestionAsked]
    groups: Groups
    requirements: list[ChecklistRequirement]


class ChecklistSummary(ChecklistAbout):
    """A checklist in a list: what it is for and how it stands, counted. Its requirements,
    answers and questions are read whole from `/api/rules/checklists/{id}`."""

    requirement_count: int
    applies_count: int = Field(description="Requirements that apply, as the answers decide.")
    undecided_count: int = Field(
        description="Requirements an open question still decides; they count as applying."
    )
    open_question_count: int


class ChecklistPage(BaseModel):
    items: list[ChecklistSummary]
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
