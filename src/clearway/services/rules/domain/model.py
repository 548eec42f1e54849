"""Rules, their versions and conditions.

A rule says: in this market, products in this scope (HS codes at any depth, or categories) face
this requirement (legal reference, authority, evidence, issuers), either always (mandatory) or
when the deciding questions are answered a certain way (conditional). Every change makes or
edits a draft version; a published version is in force from its effective date until its end
date, and publishing a newer one ends the older one where the newer one starts.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
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
# What kind of measure a rule is, beside the evidence it asks for (as in TARIC and UNCTAD's
# classification of non-tariff measures, simplified).
MEASURES = (
    "prohibition",
    "restriction",
    "licence",
    "certification",
    "registration",
    "labelling",
    "document",
)
# The economic operators an obligation can fall on (EU Regulation 2019/1020 and 2023/988 terms).
OPERATORS = (
    "manufacturer",
    "importer",
    "distributor",
    "fulfilment_service_provider",
    "authorised_representative",
    "responsible_person",
)
DEFAULT_OPERATORS = ("manufacturer", "importer")
COMPARISONS = ("gt", "ge", "lt", "le", "between")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,63}$")
REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
CUSTOMS_DOCUMENT = re.compile(r"^[A-Z0-9]{1,8}$")
MAX_REGIONS = 60
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
URL = re.compile(r"^https?://[^\s]{3,500}$")
MAX_SCOPE = 200
MAX_ISSUERS = 10
MAX_CONDITIONS = 10
SYSTEM = "system"  # the actor of changes nobody made by hand (the shipped rule base)
# Dates a rule can sensibly carry (laws from 1900 on, plans up to 2100); nothing else reaches
# date arithmetic, so it cannot overflow.
YEARS = range(1900, 2101)


def sane(moment: date) -> bool:
    return moment.year in YEARS


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


Number = int | float
Answer = bool | Number  # a yes/no answer, or a quantity in the question's unit


@dataclass(frozen=True, slots=True)
class Question:
    """A deciding question: yes/no, or a quantity (`kind` "number") in `unit` within bounds."""

    id: str
    text: str
    kind: Literal["yes_no", "number"] = "yes_no"
    unit: str | None = None
    min: Number | None = None
    max: Number | None = None

    @property
    def numeric(self) -> bool:
        return self.kind == "number"

    def spec(self) -> dict[str, Any] | None:
        """What a numeric question adds to its text (None for yes/no)."""
        if not self.numeric:
            return None
        return {"kind": self.kind, "unit": self.unit, "min": self.min, "max": self.max}

    def to_file(self) -> str | dict[str, Any]:
        """As a rule file writes it: the text, or a mapping for a numeric question."""
        spec = self.spec()
        if spec is None:
            return self.text
        return {"text": self.text, **{k: v for k, v in spec.items() if v is not None}}

    def check_answer(self, answer: Any) -> str | None:
        """What is wrong with an answer to this question (None: nothing)."""
        if not self.numeric:
            return None if isinstance(answer, bool) else "answer yes (true) or no (false)"
        if isinstance(answer, bool) or not isinstance(answer, int | float):
            return f"answer with a number{f' in {self.unit}' if self.unit else ''}"
        if (self.min is not None and answer < self.min) or (
            self.max is not None and answer > self.max
        ):
            return f"answer a number from {self.min} to {self.max}"
        return None


def _number(value: Number) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_COMPARISON_TEXT = {"gt": "more than", "ge": "at least", "lt": "less than", "le": "at most"}


@dataclass(frozen=True, slots=True)
class Condition:
    """When a requirement applies: an answer to a yes/no question, or a range of a quantity
    (every bound must hold: `{gt: 100, le: 160}`)."""

    question: str
    applies_when: bool | None = None
    bounds: tuple[tuple[str, Number | tuple[Number, Number]], ...] = ()

    @property
    def numeric(self) -> bool:
        return bool(self.bounds)

    def holds(self, answer: Answer) -> bool:
        if not self.numeric:
            return isinstance(answer, bool) and answer == self.applies_when
        if isinstance(answer, bool):
            return False
        for op, bound in self.bounds:
            if isinstance(bound, tuple):
                if not bound[0] <= answer <= bound[1]:
                    return False
            elif not {
                "gt": answer > bound,
                "ge": answer >= bound,
                "lt": answer < bound,
                "le": answer <= bound,
            }[op]:
                return False
        return True

    def data(self) -> bool | dict[str, Any]:
        """As stored and written in rule files: yes/no, or {op: bound}."""
        if not self.numeric:
            assert self.applies_when is not None
            return self.applies_when
        return {op: list(b) if isinstance(b, tuple) else b for op, b in self.bounds}

    def describe(self, unit: str | None = None) -> str:
        """ "yes", or "more than 100 Wh" (the answer under which it applies)."""
        if not self.numeric:
            return "yes" if self.applies_when else "no"
        suffix = f" {unit}" if unit else ""
        parts = []
        for op, bound in self.bounds:
            if isinstance(bound, tuple):
                parts.append(f"from {_number(bound[0])} to {_number(bound[1])}{suffix}")
            else:
                parts.append(f"{_COMPARISON_TEXT[op]} {_number(bound)}{suffix}")
        return " and ".join(parts)

    @classmethod
    def from_data(cls, question: str, data: Any) -> Condition:
        """From `data()` output that was validated when it was stored."""
        if isinstance(data, Mapping):
            return cls(
                question,
                None,
                tuple((op, tuple(b) if isinstance(b, list) else b) for op, b in data.items()),
            )
        return cls(question, bool(data))


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
    measure: str | None = None
    customs_document: str | None = None
    operators: tuple[str, ...] = DEFAULT_OPERATORS
    regions: tuple[str, ...] = ()
    publication: str | None = None
    last_verified: date | None = None

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
            "conditions": {c.question: c.data() for c in self.conditions},
            "match": self.match,
            "validity_months": self.validity_months,
            "url": self.url,
            "notes": self.notes,
            "measure": self.measure,
            "customs_document": self.customs_document,
            "operators": list(self.operators),
            "regions": list(self.regions),
            "publication": self.publication,
            "last_verified": self.last_verified.isoformat() if self.last_verified else None,
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
            conditions=tuple(Condition.from_data(q, a) for q, a in data["conditions"].items()),
            match=data["match"],
            validity_months=data["validity_months"],
            url=data["url"],
            notes=data["notes"],
            # Versions stored before clearway-rules/2 lack these.
            measure=data.get("measure"),
            customs_document=data.get("customs_document"),
            operators=tuple(data.get("operators") or DEFAULT_OPERATORS),
            regions=tuple(data.get("regions") or ()),
            publication=data.get("publication"),
            last_verified=(
                date.fromisoformat(data["last_verified"]) if data.get("last_verified") else None
            ),
        )


FIELDS = tuple(RuleContent.__dataclass_fields__)
REQUIRED = ("code", "market", "title", "legal_reference", "authority", "evidence_type", "issuers")
# What a rule of a clearway-rules/2 file must also give (older files and the API may omit them).
REQUIRED_V2 = ("measure", "url", "last_verified")


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


_PAIRS = {")": "(", "]": "["}


def balanced(text: str) -> bool:
    """Brackets and parentheses close in order. An unquoted comma inside a YAML flow list
    splits "Maker (module A, module B)" into two entries that are not."""
    stack = []
    for char in text:
        if char in "([":
            stack.append(char)
        elif char in _PAIRS and (not stack or stack.pop() != _PAIRS[char]):
            return False
    return not stack


def _check_balanced(name: str, values: Sequence[str | None], errors: list[FieldError]) -> None:
    for value in values:
        if value is not None and not balanced(value):
            errors.append(
                FieldError(
                    name,
                    f"{value[:60]!r} has unbalanced brackets or parentheses"
                    " (quote list entries that contain commas)",
                )
            )
            return


def _date(raw: Mapping[str, Any], name: str, errors: list[FieldError]) -> date | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    found = None
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            found = date.fromisoformat(value.strip())
    if found is None or not sane(found):
        errors.append(FieldError(name, "must be a date like 2026-11-30, from 1900 to 2100"))
        return None
    return found


def build_content(
    raw: Mapping[str, Any], catalog: Catalog, *, strict: bool = False
) -> tuple[RuleContent | None, list[FieldError]]:
    """Check a rule as given (API body, rule-file entry); returns it or every problem found.
    `strict`: as a clearway-rules/2 file, where measure, url and last_verified are required."""
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
            market = None
    title = _text(raw, "title", 200, errors, required=True)
    legal_reference = _text(raw, "legal_reference", 500, errors, required=True)
    authority = _text(raw, "authority", 300, errors, required=True)
    evidence_type = _text(raw, "evidence_type", 40, errors, required=True)
    if evidence_type is not None and evidence_type not in EVIDENCE_TYPES:
        errors.append(FieldError("evidence_type", f"must be one of {', '.join(EVIDENCE_TYPES)}"))
    measure = _text(raw, "measure", 40, errors, required=strict)
    if measure is not None and measure not in MEASURES:
        errors.append(FieldError("measure", f"must be one of {', '.join(MEASURES)}"))
    customs_document = _text(raw, "customs_document", 8, errors, required=False)
    if customs_document is not None and not CUSTOMS_DOCUMENT.match(customs_document.upper()):
        errors.append(FieldError("customs_document", "is a code like Y929 or C400"))
    issuers = _list(raw, "issuers", MAX_ISSUERS, errors)
    if not issuers:
        errors.append(FieldError("issuers", "name at least one who may issue the evidence"))
    if any(len(i) > 300 for i in issuers):
        errors.append(FieldError("issuers", "each may have at most 300 characters"))
    operators = _list(raw, "operators", len(OPERATORS), errors) or list(DEFAULT_OPERATORS)
    for operator in operators:
        if operator not in OPERATORS:
            errors.append(
                FieldError("operators", f"{operator[:40]!r} is not one of {', '.join(OPERATORS)}")
            )
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
    regions = [r.upper() for r in _list(raw, "regions", MAX_REGIONS, errors)]
    if market is not None:
        for region in regions:
            try:
                catalog.markets.region(market, region)
            except Invalid as exc:
                errors.append(FieldError("regions", str(exc)))
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
    url = _text(raw, "url", 500, errors, required=strict)
    if url is not None and not URL.match(url):
        errors.append(FieldError("url", "must be an http(s) address"))
    publication = _text(raw, "publication", 200, errors, required=False)
    last_verified = _date(raw, "last_verified", errors)
    if strict and last_verified is None and "last_verified" not in {e.field for e in errors}:
        errors.append(FieldError("last_verified", "is required: the date the source was checked"))
    notes = _text(raw, "notes", 2000, errors, required=False)
    _check_balanced("title", [title], errors)
    _check_balanced("legal_reference", [legal_reference], errors)
    _check_balanced("authority", [authority], errors)
    _check_balanced("publication", [publication], errors)
    _check_balanced("issuers", issuers, errors)
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
            measure=measure,
            customs_document=customs_document.upper() if customs_document else None,
            operators=tuple(dict.fromkeys(operators)),
            regions=tuple(dict.fromkeys(regions)),
            publication=publication,
            last_verified=last_verified,
        ),
        [],
    )


def _bounds(
    question: str, value: Mapping[Any, Any], errors: list[FieldError]
) -> tuple[tuple[str, Number | tuple[Number, Number]], ...] | None:
    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    bounds: list[tuple[str, Number | tuple[Number, Number]]] = []
    for op, bound in value.items():
        if op not in COMPARISONS:
            errors.append(
                FieldError("conditions", f"{question!r}: compare with {', '.join(COMPARISONS)}")
            )
            return None
        if op == "between":
            if (
                not isinstance(bound, list | tuple)
                or len(bound) != 2
                or not all(number(b) for b in bound)
                or bound[0] > bound[1]
            ):
                errors.append(
                    FieldError("conditions", f"{question!r}: between takes [low, high] numbers")
                )
                return None
            bounds.append((op, (bound[0], bound[1])))
        elif not number(bound):
            errors.append(FieldError("conditions", f"{question!r}: {op} takes a number"))
            return None
        else:
            bounds.append((op, bound))
    if not bounds:
        errors.append(FieldError("conditions", f"{question!r}: give a comparison like gt: 100"))
        return None
    return tuple(bounds)


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
        known = catalog.questions.get(question) if isinstance(question, str) else None
        if known is None:
            errors.append(FieldError("conditions", f"{question!r} is not a known question"))
        elif known.numeric:
            if not isinstance(answer, Mapping):
                errors.append(
                    FieldError("conditions", f"{question!r} asks a number: write {{gt: 100}}")
                )
            elif (bounds := _bounds(question, answer, errors)) is not None:
                found.append(Condition(question, None, bounds))
        elif not isinstance(answer, bool):
            errors.append(FieldError("conditions", f"the answer for {question!r} must be yes/no"))
        else:
            found.append(Condition(question, answer))
    return tuple(found)


QUESTION_KEYS = frozenset({"text", "kind", "unit", "min", "max"})


def check_question(question_id: str, value: Any) -> Question:
    """A question as a rule file or the API gives it: its text (yes/no), or a mapping
    `{text: ..., kind: number, unit: Wh, min: 0, max: 100000}`."""
    if not isinstance(question_id, str) or not QUESTION_ID.match(question_id):
        raise Invalid("invalid-question", f"{question_id!r}: question ids are like 'has_radio'")
    spec: Mapping[str, Any] = value if isinstance(value, Mapping) else {"text": value}
    text = spec.get("text")
    if not isinstance(text, str) or not 5 <= len(text.strip()) <= 300:
        raise Invalid("invalid-question", f"question {question_id!r} needs a text of 5-300 chars")
    unknown = sorted(str(k) for k in set(spec) - QUESTION_KEYS)
    if unknown:
        raise Invalid("invalid-question", f"question {question_id!r}: unknown key {unknown[0]!r}")
    kind = spec.get("kind") or "yes_no"
    if kind not in ("yes_no", "number"):
        raise Invalid("invalid-question", f"question {question_id!r}: kind is yes_no or number")
    text = " ".join(text.split())
    if kind == "yes_no":
        if any(spec.get(k) is not None for k in ("unit", "min", "max")):
            raise Invalid(
                "invalid-question", f"question {question_id!r}: only a number has unit and bounds"
            )
        return Question(question_id, text)
    unit = spec.get("unit")
    if unit is not None and (not isinstance(unit, str) or not 1 <= len(unit.strip()) <= 20):
        raise Invalid("invalid-question", f"question {question_id!r}: a unit like Wh, V or kg")
    low, high = spec.get("min"), spec.get("max")
    for bound in (low, high):
        if bound is not None and (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        ):
            raise Invalid("invalid-question", f"question {question_id!r}: min and max are numbers")
    if low is not None and high is not None and low > high:
        raise Invalid("invalid-question", f"question {question_id!r}: min is above max")
    return Question(question_id, text, "number", unit.strip() if unit else None, low, high)


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
            if v.effective_from is not None and v.effective_from >= at:
                # It never started: retired with the window it had, never ending before it begins.
                endings.append(Ending(v.version, Status.RETIRED, v.effective_to))
                continue
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


def _answered(answer: Answer, question: Question | None) -> str:
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    unit = question.unit if question else None
    return f"{_number(answer)}{f' {unit}' if unit else ''}"


def decide(
    content: RuleContent, answers: Mapping[str, Answer], questions: Mapping[str, Question]
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

    def wanted(c: Condition) -> str:
        found = questions.get(c.question)
        return c.describe(found.unit if found else None)

    hits, misses, open_ = [], [], []
    for condition in content.conditions:
        answer = answers.get(condition.question)
        if answer is None:
            open_.append(condition.question)
        elif condition.holds(answer):
            hits.append(condition)
        else:
            misses.append((condition, answer))
    if content.match == "all":
        if misses:
            c, given = misses[0]
            return Decision(
                False,
                f"Does not apply: you answered {_answered(given, questions.get(c.question))} to "
                f"\u201c{text(c.question)}\u201d.",
            )
        if not open_:
            return Decision(
                True,
                "Applies: "
                + "; ".join(f"\u201c{text(c.question)}\u201d \u2192 {wanted(c)}" for c in hits),
            )
    else:
        if hits:
            c = hits[0]
            given = answers[c.question]
            return Decision(
                True,
                f"Applies: you answered {_answered(given, questions.get(c.question))} to "
                f"\u201c{text(c.question)}\u201d.",
            )
        if not open_:
            return Decision(False, "Does not apply: none of the deciding answers holds.")
    return Decision(
        None,
        "Not decided yet: answer " + "; ".join(f"\u201c{text(q)}\u201d" for q in open_),
        tuple(open_),
    )
