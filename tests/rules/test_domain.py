"""The rules in plain Python: HS codes, conditions, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clearway.services.rules.domain import Invalid
from clearway.services.rules.domain.conditions import Condition
from clearway.services.rules.domain.content import RuleContent
from clearway.services.rules.domain.decisions import decide
from clearway.services.rules.domain.hs import nomenclature, prefixes
from clearway.services.rules.domain.lookup import RuleBase
from clearway.services.rules.domain.questions import Question
from clearway.services.rules.domain.versions import RuleVersion, Status, retirement, supersede

NOW = datetime(2025, 6, 1, tzinfo=UTC)
QUESTIONS = {"radio": Question("radio", "Radio?"), "battery": Question("battery", "Battery?")}


def content(*conditions: Condition, match: str = "all") -> RuleContent:
    return RuleContent(
        code="X-1",
        market="EU",
        title="t",
        legal_reference="l",
        authority="a",
        evidence_type="test_report",
        issuers=("i",),
        hs_codes=("8518",),
        conditions=conditions,
        match=match,  # type: ignore[arg-type]
    )


def version(
    number: int, status: Status, start: datetime | None, end: datetime | None = None
) -> RuleVersion:
    return RuleVersion(content(), number, status, start, end, NOW, "a", NOW, "a")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("85", "85"),
        ("8518", "8518"),
        ("8518.22", "851822"),
        ("8518 22", "851822"),
        ("8518.22.00", "85182200"),  # a national tariff line (CN8) is kept whole
        ("8518.22.0090", "8518220090"),  # and a TARIC or HTS line
    ],
)
def test_hs_codes_are_normalised(typed: str, code: str) -> None:
    assert nomenclature().normalize(typed) == code


@pytest.mark.parametrize("typed", ["", "8", "851", "85a8", "8518.2", "12345678901", "8599", "77"])
def test_bad_hs_codes_are_refused(typed: str) -> None:
    with pytest.raises(Invalid):
        nomenclature().normalize(typed)


def test_prefixes_cover_every_depth() -> None:
    assert prefixes("851822") == ["85", "8518", "851822"]
    assert prefixes("8518") == ["85", "8518"]


def test_mandatory_always_applies() -> None:
    assert decide(content(), {}, QUESTIONS).applies is True


def test_all_conditions() -> None:
    rule = content(Condition("radio", True), Condition("battery", False))
    assert decide(rule, {"radio": True, "battery": False}, QUESTIONS).applies is True
    assert decide(rule, {"radio": False}, QUESTIONS).applies is False
    undecided = decide(rule, {"radio": True}, QUESTIONS)
    assert undecided.applies is None
    assert undecided.open_questions == ("battery",)
    assert "Battery?" in undecided.reason


def test_any_condition() -> None:
    rule = content(Condition("radio", True), Condition("battery", True), match="any")
    assert decide(rule, {"battery": True}, QUESTIONS).applies is True
    assert decide(rule, {"radio": False, "battery": False}, QUESTIONS).applies is False
    assert decide(rule, {"radio": False}, QUESTIONS).applies is None


def test_visibility_of_versions() -> None:
    assert not version(1, Status.DRAFT, NOW - timedelta(days=1)).in_force(NOW)
    assert version(1, Status.PUBLISHED, NOW - timedelta(days=1)).in_force(NOW)
    assert not version(1, Status.PUBLISHED, NOW + timedelta(days=1)).in_force(NOW)
    assert not version(1, Status.PUBLISHED, NOW - timedelta(days=2), NOW).in_force(NOW)
    assert not version(1, Status.RETIRED, NOW - timedelta(days=1)).in_force(NOW)


def test_the_next_change_is_the_next_start_or_end_after_now() -> None:
    day = timedelta(days=1)
    base = RuleBase(
        [
            version(1, Status.PUBLISHED, NOW - 2 * day, NOW + 3 * day),
            version(2, Status.PUBLISHED, NOW + 2 * day),
        ],
        {},
    )
    assert base.next_change(NOW) == NOW + 2 * day
    assert base.next_change(NOW + 2 * day) == NOW + 3 * day  # strictly after
    assert base.next_change(NOW + 3 * day) is None
    assert RuleBase([], {}).next_change(NOW) is None


def test_publishing_ends_the_older_version_where_the_new_one_starts() -> None:
    old = version(1, Status.PUBLISHED, NOW - timedelta(days=30))
    later = NOW + timedelta(days=10)
    [ending] = supersede([old], later)
    assert (ending.status, ending.effective_to) == (Status.PUBLISHED, later)


def test_retiring_later_keeps_the_rule_until_then() -> None:
    current = version(1, Status.PUBLISHED, NOW - timedelta(days=30))
    [ending] = retirement([current], NOW + timedelta(days=5), NOW)
    assert ending.status is Status.PUBLISHED and ending.effective_to == NOW + timedelta(days=5)
    [now] = retirement([current], NOW, NOW)
    assert now.status is Status.RETIRED
