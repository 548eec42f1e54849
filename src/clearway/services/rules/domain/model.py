"""Rules, their versions and conditions.

A rule says: in this market, products in this scope (HS codes at any depth, or categories) face
this requirement (legal reference, authority, evidence, issuers), either always (mandatory) or
when the deciding questions are answered a certain way (conditional). Every change makes or
edits a draft version; a published version is in force from its effective date until its end
date, and publishing a newer one ends the older one where the newer one starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from clearway.services.rules.domain import Conflict, Invalid
from clearway.services.rules.domain.hs import Nomenclature
from clearway.services.rules.domain.markets import Markets

EVIDENCE_TYPES = (
    "test_report",
    "declaration_of_conformity",
    "certificate",
    "registration",
    "notification",
    "technical_file",
    "labelling",
    "safety_data_sheet",
    "licence",
)
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,63}$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
URL = re.compile(r"^https?://[^\s]{3,500}$")
MAX_SCOPE = 200
MAX_ISSUERS = 10
MAX_CONDITIONS = 10
SYSTEM = "system"  # the actor of changes nobody made by hand (the shipped rule base)


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class Category:
    """A product category of the platform, mapped onto HS codes."""

    id: str
    name: str
    hs_codes: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Condition:
    question: str
    applies_when: bool  # the answer under which the requirement applies


class Catalog(Protocol):
    """What validating a rule needs to know about the rest of the rule base."""

    @property
    def nomenclature(self) -> Nomenclature: ...
    @property
    def markets(self) -> Markets: ...
    @property
    def categories(self) -> Mapping[str, Category]: ...
    @property
    def questions(self) -> Mapping[str, Question]: ...


@dataclass(frozen=True, slots=True)
class RuleContent:
    code: str
    market: str
    title: str
    legal_reference: str
    authority: str
    evidence_type: str
    issuers: tuple[str, ...]
    hs_codes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    match: Literal["all", "any"] = "all"
    validity_months: int | None = None
    url: str | None = None
    notes: str | None = None

    @property
    def conditional(self) -> bool:
        return bool(self.conditions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the order of the rule-file columns."""
        return {
            "code": self.code,
            "market": self.market,
            "title": self.title,
            "legal_reference": self.legal_reference,
            "authority": self.authority,
            "evidence_type": self.evidence_type,
            "issuers": list(self.issuers),
            "hs_codes": list(self.hs_codes),
            "categories": list(self.categories),
            "conditions": {c.question: c.applies_when for c in self.conditions},
            "match": self.match,
            "validity_months": self.validity_months,
            "url": self.url,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleContent:
        """From `to_dict` output that was validated when it was stored."""
        return cls(
            code=data["code"],
            market=data["market"],
            title=data["title"],
            legal_reference=data["legal_reference"],
            authority=data["authority"],
            evidence_type=data["evidence_type"],
            issuers=tuple(data["issuers"]),
            hs_codes=tuple(data["hs_codes"]),
            categories=tuple(data["categories"]),
            conditions=tuple(Condition(q, bool(a)) for q, a in data["conditions"].items()),
            match=data["match"],
            validity_months=data["validity_months"],
            url=data["url"],
            notes=data["notes"],
        )


FIELDS = tuple(RuleContent.__dataclass_fields__)
REQUIRED = ("code", "market", "title", "legal_reference", "authority", "evidence_type", "issuers")


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


def _text(
    raw: Mapping[str, Any], name: str, limit: int, errors: list[FieldError], *, required: bool
) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(name, "is required"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be text"))
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        errors.append(FieldError(name, f"may have at most {limit} characters"))
        return None
    return value


def _list(raw: Mapping[str, Any], name: str, limit: int, errors: list[FieldError]) -> list[str]:
    value = raw.get(name)
    if value is None:
        return []
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        errors.append(FieldError(name, "must be a list of text values"))
        return []
    if len(value) > limit:
        errors.append(FieldError(name, f"may have at most {limit} entries"))
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def build_content(
    raw: Mapping[str, Any], catalog: Catalog
) -> tuple[RuleContent | None, list[FieldError]]:
    """Check a rule as given (API body, rule-file entry); returns it or every problem found."""
    errors: list[FieldError] = []
    unknown = sorted(set(raw) - set(FIELDS))
    errors.extend(FieldError(name, "is not a rule field") for name in unknown)
    code = _text(raw, "code", 64, errors, required=True)
    if code is not None:
        code = code.upper()
        if not CODE.match(code):
            errors.append(FieldError("code", "use capital letters, digits and dashes (EU-RED)"))
    market = _text(raw, "market", 60, errors, required=True)
    if market is not None:
        try:
            market = catalog.markets.resolve(market).code
        except Invalid as exc:
            errors.append(FieldError("market", str(exc)))
    title = _text(raw, "title", 200, errors, required=True)
    legal_reference = _text(raw, "legal_reference", 500, errors, required=True)
    authority = _text(raw, "authority", 300, errors, required=True)
    evidence_type = _text(raw, "evidence_type", 40, errors, required=True)
    if evidence_type is not None and evidence_type not in EVIDENCE_TYPES:
        errors.append(FieldError("evidence_type", f"must be one of {', '.join(EVIDENCE_TYPES)}"))
    issuers = _list(raw, "issuers", MAX_ISSUERS, errors)
    if not issuers:
        errors.append(FieldError("issuers", "name at least one who may issue the evidence"))
    if any(len(i) > 300 for i in issuers):
        errors.append(FieldError("issuers", "each may have at most 300 characters"))
    hs_codes: list[str] = []
    for value in _list(raw, "hs_codes", MAX_SCOPE, errors):
        try:
            hs_codes.append(catalog.nomenclature.normalize(value))
        except Invalid as exc:
            errors.append(FieldError("hs_codes", str(exc)))
    categories = _list(raw, "categories", MAX_SCOPE, errors)
    for category in categories:
        if category not in catalog.categories:
            errors.append(FieldError("categories", f"{category!r} is not a product category"))
    if not hs_codes and not categories and "hs_codes" not in {e.field for e in errors}:
        errors.append(FieldError("hs_codes", "give the product scope: HS codes or categories"))
    conditions = _conditions(raw.get("conditions"), catalog, errors)
    match: Literal["all", "any"] = "all"
    if raw.get("match") == "any":
        match = "any"
    elif raw.get("match") not in (None, "all"):
        errors.append(FieldError("match", "must be 'all' or 'any'"))
    validity = raw.get("validity_months")
    if validity is not None and (
        isinstance(validity, bool) or not isinstance(validity, int) or not 1 <= validity <= 600
    ):
        errors.append(FieldError("validity_months", "must be a whole number of months, 1-600"))
    url = _text(raw, "url", 500, errors, required=False)
    if url is not None and not URL.match(url):
        errors.append(FieldError("url", "must be an http(s) address"))
    notes = _text(raw, "notes", 2000, errors, required=False)
    if errors:
        return None, errors
    assert code and market and title and legal_reference and authority and evidence_type
    return (
        RuleContent(
            code=code,
            market=market,
            title=title,
            legal_reference=legal_reference,
            authority=authority,
            evidence_type=evidence_type,
            issuers=tuple(issuers),
            hs_codes=tuple(dict.fromkeys(hs_codes)),
            categories=tuple(dict.fromkeys(categories)),
            conditions=conditions,
            match=match,
            validity_months=validity,
            url=url,
            notes=notes,
        ),
        [],
    )


def _conditions(value: Any, catalog: Catalog, errors: list[FieldError]) -> tuple[Condition, ...]:
    if value is None or value == {}:
        return ()
    if not isinstance(value, Mapping):
        errors.append(FieldError("conditions", "must map question ids to yes/no"))
        return ()
    if len(value) > MAX_CONDITIONS:
        errors.append(FieldError("conditions", f"may have at most {MAX_CONDITIONS} questions"))
        return ()
    found = []
    for question, answer in value.items():
        if not isinstance(question, str) or question not in catalog.questions:
            errors.append(FieldError("conditions", f"{question!r} is not a known question"))
        elif not isinstance(answer, bool):
            errors.append(FieldError("conditions", f"the answer for {question!r} must be yes/no"))
        else:
            found.append(Condition(question, answer))
    return tuple(found)


def check_question(question_id: str, text: Any) -> Question:
    if not isinstance(question_id, str) or not QUESTION_ID.match(question_id):
        raise Invalid("invalid-question", f"{question_id!r}: question ids are like 'has_radio'")
    if not isinstance(text, str) or not 5 <= len(text.strip()) <= 300:
        raise Invalid("invalid-question", f"question {question_id!r} needs a text of 5-300 chars")
    return Question(question_id, " ".join(text.split()))


# --- versions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleVersion:
    content: RuleContent
    version: int
    status: Status
    effective_from: datetime | None
    effective_to: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @property
    def code(self) -> str:
        return self.content.code

    def in_force(self, now: datetime) -> bool:
        """What customers see: published, started, not ended. Drafts and retired never."""
        return (
            self.status is Status.PUBLISHED
            and self.effective_from is not None
            and self.effective_from <= now
            and (self.effective_to is None or now < self.effective_to)
        )


class Change(StrEnum):
    CREATE = "create"  # a new rule
    EDIT_DRAFT = "edit-draft"  # the newest version is a draft: change it in place
    NEW_VERSION = "new-version"  # the newest version is published or retired: add a draft
    UNCHANGED = "unchanged"


def plan_change(latest: RuleVersion | None, content: RuleContent) -> Change:
    if latest is None:
        return Change.CREATE
    if latest.content == content:
        return Change.UNCHANGED
    return Change.EDIT_DRAFT if latest.status is Status.DRAFT else Change.NEW_VERSION


def check_window(effective_from: datetime, effective_to: datetime | None) -> None:
    if effective_to is not None and effective_to <= effective_from:
        raise Invalid("invalid-dates", "The end date must come after the effective date.")


def check_publishable(latest: RuleVersion) -> None:
    if latest.status is not Status.DRAFT:
        raise Conflict(
            "not-draft",
            f"Only a draft can be published; version {latest.version} is {latest.status}.",
        )


@dataclass(frozen=True, slots=True)
class Ending:
    """What publishing or retiring does to another version of the same rule."""

    version: int
    status: Status
    effective_to: datetime | None


def supersede(versions: Sequence[RuleVersion], starts: datetime) -> list[Ending]:
    """Publishing a version effective from `starts` ends the published ones where it starts.

    One that would only start later is retired: the newer publication replaces it.
    """
    endings = []
    for v in versions:
        if v.status is not Status.PUBLISHED:
            continue
        assert v.effective_from is not None
        if v.effective_from >= starts:
            endings.append(Ending(v.version, Status.RETIRED, v.effective_to))
        elif v.effective_to is None or v.effective_to > starts:
            endings.append(Ending(v.version, Status.PUBLISHED, starts))
    return endings


def retirement(versions: Sequence[RuleVersion], at: datetime, now: datetime) -> list[Ending]:
    """Retire a rule: now (retired at once), or at a future date (in force until then)."""
    endings = []
    for v in versions:
        if v.status is Status.RETIRED:
            continue
        if v.status is Status.DRAFT or at <= now:
            end = v.effective_to if v.effective_to and v.effective_to <= at else at
            endings.append(Ending(v.version, Status.RETIRED, end))
        elif v.effective_to is None or v.effective_to > at:
            assert v.effective_from is not None
            if v.effective_from >= at:
                endings.append(Ending(v.version, Status.RETIRED, v.effective_to))
            else:
                endings.append(Ending(v.version, Status.PUBLISHED, at))
    if not endings:
        raise Conflict("already-retired", "This rule is already retired.")
    return endings


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """Field by field: {"title": {"from": "old", "to": "new"}}; only what changed."""
    before = before or {}
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


# --- conditions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    applies: bool | None  # None: not decided yet (a deciding question is unanswered)
    reason: str
    open_questions: tuple[str, ...] = field(default=())


def _yes_no(answer: bool) -> str:
    return "yes" if answer else "no"


def decide(
    content: RuleContent, answers: Mapping[str, bool], questions: Mapping[str, Question]
) -> Decision:
    """Whether a requirement applies given the customer's answers.

    `all`: applies when every deciding answer is the one it names, not when any differs.
    `any`: applies when one does, not when none can any more.
    """
    if not content.conditions:
        return Decision(True, "Mandatory for every product in this scope.")

    def text(question: str) -> str:
        found = questions.get(question)
        return found.text if found else question

    hits, misses, open_ = [], [], []
    for condition in content.conditions:
        answer = answers.get(condition.question)
        if answer is None:
            open_.append(condition.question)
        elif answer == condition.applies_when:
            hits.append(condition)
        else:
            misses.append(condition)
    if content.match == "all":
        if misses:
            c = misses[0]
            return Decision(
                False,
                f"Does not apply: you answered {_yes_no(not c.applies_when)} to "
                f"\u201c{text(c.question)}\u201d.",
            )
        if not open_:
            return Decision(
                True,
                "Applies: "
                + "; ".join(
                    f"\u201c{text(c.question)}\u201d \u2192 {_yes_no(c.applies_when)}" for c in hits
                ),
            )
    else:
        if hits:
            c = hits[0]
            return Decision(
                True,
                f"Applies: you answered {_yes_no(c.applies_when)} to "
                f"\u201c{text(c.question)}\u201d.",
            )
        if not open_:
            return Decision(False, "Does not apply: none of the deciding answers holds.")
    return Decision(
        None,
        "Not decided yet: answer " + "; ".join(f"\u201c{text(q)}\u201d" for q in open_),
        tuple(open_),
    )
