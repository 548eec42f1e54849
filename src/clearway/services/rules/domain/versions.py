"""Versions of a rule and their life: every change makes or edits a draft version; a published
version is in force from its effective date until its end date, and publishing a newer one ends
the older one where the newer one starts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from clearway.services.rules.domain import Conflict, Invalid
from clearway.services.rules.domain.content import RuleContent

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
