"""What rules offers the others: rule publication events, changed checklist answers, search
telemetry, and the internal reads of a saved checklist, of the requirements in force and of
the rule base's vocabulary."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from pydantic import BaseModel

from clearway.contracts._types import CallerRole, IsoDatetime
from clearway.kit.bus.contract import Event

SOURCE = "/clearway/rules"


class RulesEvent(Event):
    SOURCE: ClassVar[str] = SOURCE


class RuleVersionEvent(RulesEvent):
    """A version of a rule changed what is in force; subscribers refresh their rule base."""

    SUBJECT: ClassVar[str | None] = "code"
    code: str
    version: int
    market: str
    effective_from: IsoDatetime | None
    effective_to: IsoDatetime | None


class RulePublished(RuleVersionEvent):
    TYPE: ClassVar[str] = "rule.published"


class RuleRetired(RuleVersionEvent):
    TYPE: ClassVar[str] = "rule.retired"
    at: IsoDatetime


class SearchPerformed(RulesEvent):
    """One per search, for the monitor's statistics; deliberately nothing about who searched.
    High-volume: published in telemetry batches (`<type>.batch`), not through an outbox."""

    TYPE: ClassVar[str] = "search.performed"
    query: str | None
    hs_code: str | None
    hs_chapter: str | None
    hs_heading: str | None
    category: str | None
    market: str
    role: CallerRole


class ChecklistAnswered(RulesEvent):
    """A saved checklist's answers changed, so what applies to it may have (orders re-checks
    the clearances issued on it). Sent through the outbox with the change, unlike searches."""

    TYPE: ClassVar[str] = "checklist.answered"
    SUBJECT: ClassVar[str | None] = "checklist_id"
    checklist_id: str


EVENTS: tuple[type[Event], ...] = (RulePublished, RuleRetired, ChecklistAnswered, SearchPerformed)

# --- internal API --------------------------------------------------------------------------

CHECKLIST_ROUTE = "/internal/rules/checklists/{checklist_id}"
REQUIREMENTS_ROUTE = "/internal/rules/requirements"
VOCABULARY_ROUTE = "/internal/rules/vocabulary"


def checklist_path(checklist_id: str) -> str:
    return CHECKLIST_ROUTE.format(checklist_id=quote(checklist_id, safe=""))


class ChecklistRequirement(BaseModel):
    code: str
    title: str
    evidence_type: str | None
    mandatory: bool
    applies: bool
    """Whether a conditional requirement applies, from the customer's answers."""
    reason: str | None


class Checklist(BaseModel):
    """A customer's saved self-check, as orders reads it to place an order."""

    id: str
    owner_id: str
    market: str
    hs_code: str | None
    category: str | None
    created_at: datetime
    requirements: list[ChecklistRequirement]


class Vocabulary(BaseModel):
    """What other services may name: published requirement codes, evidence types, unions (any
    ISO 3166 country is a market too), and the markets that have rules."""

    requirement_codes: list[str]
    evidence_types: list[str]
    unions: list[str]
    markets_with_rules: list[str]
