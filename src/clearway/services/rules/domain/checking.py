"""Checking a rule as given (an API body, a rule-file entry): every problem, field by field."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from clearway.services.rules.domain import Invalid
from clearway.services.rules.domain.categories import Category
from clearway.services.rules.domain.conditions import COMPARISONS, Condition
from clearway.services.rules.domain.content import (
    DEFAULT_OPERATORS,
    EVIDENCE_TYPES,
    FIELDS,
    MEASURES,
    OPERATORS,
    RuleContent,
)
from clearway.services.rules.domain.hs import Nomenclature
from clearway.services.rules.domain.markets import Markets
from clearway.services.rules.domain.questions import Number, Question
from clearway.services.rules.domain.versions import sane

CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,63}$")
CUSTOMS_DOCUMENT = re.compile(r"^[A-Z0-9]{1,8}$")
MAX_REGIONS = 60
URL = re.compile(r"^https?://[^\s]{3,500}$")
MAX_SCOPE = 200
MAX_ISSUERS = 10
MAX_CONDITIONS = 10


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
