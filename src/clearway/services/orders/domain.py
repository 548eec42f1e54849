"""The rules of orders in plain Python: the order state machine, provider matching, clearance.

Nothing here knows about HTTP or databases, so every rule can be read and tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from clearway.contracts import orders as events
from clearway.kit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    Unavailable,
)

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "Gone",
    "Invalid",
    "NotFound",
    "TooLarge",
    "Unavailable",
]


class Gone(DomainError):
    """It existed, and was erased on purpose."""

    status = 410


# --- the order state machine -----------------------------------------------------------------


class State(StrEnum):
    SUBMITTED = "submitted"
    QUOTED = "quoted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    REPORT_DELIVERED = "report_delivered"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


TERMINAL = frozenset({State.COMPLETED, State.DECLINED, State.CANCELLED, State.EXPIRED})
OPEN = frozenset(State) - TERMINAL


class Party(StrEnum):
    """Who makes a transition: one side of the order, an administrator, or the platform."""

    CUSTOMER = "customer"
    PROVIDER = "provider"
    ADMIN = "admin"
    SYSTEM = "system"


class Action(StrEnum):
    QUOTE = "quote"
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"
    DELIVER = "deliver"
    COMPLETE = "complete"
    CANCEL = "cancel"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Transition:
    target: State
    # Which party may make it, and from which states.
    allowed: dict[Party, frozenset[State]]
    reason_required: bool = False


TRANSITIONS: dict[Action, Transition] = {
    Action.QUOTE: Transition(State.QUOTED, {Party.PROVIDER: frozenset({State.SUBMITTED})}),
    Action.ACCEPT: Transition(State.ACCEPTED, {Party.CUSTOMER: frozenset({State.QUOTED})}),
    Action.DECLINE: Transition(
        State.DECLINED,
        {
            Party.PROVIDER: frozenset({State.SUBMITTED, State.QUOTED}),
            Party.CUSTOMER: frozenset({State.QUOTED}),  # the customer turns the quote down
        },
        reason_required=True,
    ),
    Action.START: Transition(State.IN_PROGRESS, {Party.PROVIDER: frozenset({State.ACCEPTED})}),
    Action.DELIVER: Transition(
        State.REPORT_DELIVERED, {Party.PROVIDER: frozenset({State.IN_PROGRESS})}
    ),
    Action.COMPLETE: Transition(
        State.COMPLETED, {Party.CUSTOMER: frozenset({State.REPORT_DELIVERED})}
    ),
    Action.CANCEL: Transition(
        State.CANCELLED,
        {
            Party.CUSTOMER: frozenset({State.SUBMITTED, State.QUOTED, State.ACCEPTED}),
            Party.PROVIDER: frozenset({State.ACCEPTED, State.IN_PROGRESS}),
            Party.ADMIN: OPEN,
        },
        reason_required=True,
    ),
    Action.EXPIRE: Transition(State.EXPIRED, {Party.SYSTEM: frozenset({State.SUBMITTED})}),
}

# The event each transition publishes.
EVENT_OF: dict[Action, type[events.OrderTransitioned]] = {
    Action.QUOTE: events.OrderQuoted,
    Action.ACCEPT: events.OrderAccepted,
    Action.DECLINE: events.OrderDeclined,
    Action.START: events.OrderStarted,
    Action.DELIVER: events.OrderReportDelivered,
    Action.COMPLETE: events.OrderCompleted,
    Action.CANCEL: events.OrderCancelled,
    Action.EXPIRE: events.OrderExpired,
}


# How an action reads once done, in messages: "cannot be quoted now".
DONE: dict[Action, str] = {
    Action.QUOTE: "quoted",
    Action.ACCEPT: "accepted",
    Action.DECLINE: "declined",
    Action.START: "started",
    Action.DELIVER: "delivered",
    Action.COMPLETE: "completed",
    Action.CANCEL: "cancelled",
    Action.EXPIRE: "expired",
}


def in_words(state: str) -> str:
    """A state as a sentence says it: "in progress", "report delivered"."""
    return state.replace("_", " ")


def decide(state: State, action: Action, party: Party, reason: str | None) -> State:
    """The state after `party` makes `action` from `state`, or why it may not."""
    transition = TRANSITIONS[action]
    sources = transition.allowed.get(party)
    if sources is None:
        raise Forbidden("party-not-allowed", f"The {party} of an order may not {action} it.")
    if state not in sources:
        raise Conflict(
            "invalid-transition",
            f"An order that is {in_words(state)} cannot be {DONE[action]} now.",
            state=state,
        )
    if transition.reason_required and not (reason and reason.strip()):
        raise Invalid("reason-required", f"Say why the order is {transition.target}.")
    return transition.target


def check_version(current: int, expected: int | None) -> None:
    """Optimistic concurrency from the client's side: it acted on the version it saw."""
    if expected is not None and expected != current:
        raise Conflict(
            "stale-version",
            f"The order changed meanwhile (version {current}, you sent {expected}); reload it.",
            version=current,
        )


CONCURRENT_CHANGE = Conflict(
    "concurrent-change", "Someone changed the order at the same moment; reload it and retry."
)


def other_party(party: Party, customer_id: str, provider_id: str) -> list[str]:
    """Whom to tell about a change: the other side, or both when neither side made it."""
    if party is Party.CUSTOMER:
        return [provider_id]
    if party is Party.PROVIDER:
        return [customer_id]
    return [customer_id, provider_id]


def check_open(state: str, what: str) -> None:
    """Messages and files belong to a running order: a closed one takes none (409)."""
    if State(state) in TERMINAL:
        raise Conflict(
            "order-closed", f"This order is {in_words(state)}: it takes no new {what}.", state=state
        )


# --- checklists and requirements (as the rules service gives them) ---------------------------


@dataclass(frozen=True)
class Requirement:
    code: str
    title: str
    evidence_type: str
    mandatory: bool
    applies: bool


@dataclass(frozen=True)
class Checklist:
    id: str
    owner_id: str
    market: str
    hs_code: str
    requirements: tuple[Requirement, ...]

    @property
    def applicable(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.applies)


def order_requirements(checklist: Checklist, requested: Sequence[str] | None) -> list[str]:
    """The requirement codes an order covers: those asked for, else every one that applies.
    Only requirements that apply to the checklist can be ordered; an empty list is no order."""
    applicable = {r.code for r in checklist.applicable}
    if requested is None:
        if not applicable:
            raise Invalid("nothing-to-order", "No requirement of this checklist applies.")
        return [r.code for r in checklist.applicable]
    if not requested:
        raise Invalid("nothing-to-order", "Name at least one requirement, or leave the list out.")
    unknown = sorted(set(requested) - applicable)
    if unknown:
        raise Invalid(
            "unknown-requirement",
            "Some requirements do not apply to this checklist: " + ", ".join(unknown),
            unknown=unknown,
        )
    return list(dict.fromkeys(requested))


def check_covered(provider: ProviderCoverage, requirements: Sequence[Requirement]) -> None:
    """An order goes to a provider that covers each of its requirements."""
    uncovered = [r.code for r in requirements if not covers(provider, r)]
    if uncovered:
        raise Invalid(
            "not-covered",
            "The provider does not cover: " + ", ".join(uncovered),
            uncovered=uncovered,
        )


# --- the provider directory ------------------------------------------------------------------


class ProviderStatus(StrEnum):
    PENDING = "pending"  # not yet verified by an administrator: not listed
    LISTED = "listed"
    SUSPENDED = "suspended"
    REMOVED = "removed"  # the account was deleted


def provider_status(verified: bool, suspended: bool, removed: bool) -> ProviderStatus:
    if removed:
        return ProviderStatus.REMOVED
    if suspended:
        return ProviderStatus.SUSPENDED
    return ProviderStatus.LISTED if verified else ProviderStatus.PENDING


@dataclass(frozen=True)
class ProviderCoverage:
    provider_id: str
    requirement_codes: frozenset[str]
    evidence_types: frozenset[str]
    markets: frozenset[str]
    turnaround_days: int | None


@dataclass(frozen=True)
class Match:
    provider_id: str
    covered: tuple[str, ...]
    missing: tuple[str, ...]
    market_match: bool
    score: float


def covers(provider: ProviderCoverage, requirement: Requirement) -> bool:
    """A provider covers a requirement it names, or any requirement of an evidence type it does."""
    return (
        requirement.code in provider.requirement_codes
        or requirement.evidence_type in provider.evidence_types
    )


def rank_providers(
    providers: Iterable[ProviderCoverage], needed: Sequence[Requirement], market: str | None
) -> list[Match]:
    """Providers covering at least one needed requirement, best first: most requirements
    covered, then serving the market, then the quickest turnaround."""
    matches: list[tuple[tuple[int, int, int, str], Match]] = []
    for provider in providers:
        covered = tuple(r.code for r in needed if covers(provider, r))
        if needed and not covered:
            continue
        in_market = market is None or market in provider.markets
        if market is not None and not in_market and not needed:
            continue
        missing = tuple(r.code for r in needed if r.code not in covered)
        score = len(covered) / len(needed) if needed else 1.0
        turnaround = provider.turnaround_days if provider.turnaround_days is not None else 10_000
        key = (-len(covered), 0 if in_market else 1, turnaround, provider.provider_id)
        matches.append((key, Match(provider.provider_id, covered, missing, in_market, score)))
    return [m for _, m in sorted(matches, key=lambda pair: pair[0])]


# --- reports and clearance -------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A report presented for a clearance, with what makes it count or not."""

    report_id: str
    requirement_codes: frozenset[str]
    market: str
    hs_code: str
    expires_on: date
    withdrawn: bool
    order_state: State


# A report counts once its order has delivered it: not while the work may still change.
DELIVERED = frozenset({State.REPORT_DELIVERED, State.COMPLETED})


def report_validity(evidence: Evidence, market: str, hs_code: str, today: date) -> str | None:
    """Why a report cannot support a clearance for this product and market, or None."""
    if evidence.withdrawn:
        return "withdrawn by its provider"
    if evidence.expires_on < today:
        return f"expired on {evidence.expires_on.isoformat()}"
    if evidence.market != market or evidence.hs_code != hs_code:
        return "issued for another product or market"
    if evidence.order_state not in DELIVERED:
        return f"its order is {in_words(evidence.order_state)}, not delivered or completed"
    return None


@dataclass
class Assessment:
    covered: dict[str, str] = field(default_factory=dict)  # requirement code -> report id
    missing: list[Requirement] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # report id -> reason

    @property
    def complete(self) -> bool:
        return not self.missing


NOTHING_APPLIES = (
    "the rule base has no requirement for this product in this market, so no evidence can "
    "show it may be shipped there"
)


def assess_clearance(checklist: Checklist, evidence: Sequence[Evidence], today: date) -> Assessment:
    """Every requirement that applies (mandatory, or conditional and triggered by the answers)
    must be covered by a valid report. A product or market the rule base does not cover has
    nothing a clearance could rest on: it cannot be cleared (`cannot_clear`)."""
    if not checklist.applicable:
        raise Invalid(
            "cannot-clear",
            f"This cannot be cleared: {NOTHING_APPLIES}.",
            reason=NOTHING_APPLIES,
            market=checklist.market,
            hs_code=checklist.hs_code,
            missing=[],
        )
    assessment = Assessment()
    valid: list[Evidence] = []
    for item in evidence:
        reason = report_validity(item, checklist.market, checklist.hs_code, today)
        if reason is None:
            valid.append(item)
        else:
            assessment.rejected[item.report_id] = reason
    for requirement in checklist.applicable:
        # Of several reports for one requirement, rely on the one that lasts longest.
        candidates = [e for e in valid if requirement.code in e.requirement_codes]
        if candidates:
            best = max(candidates, key=lambda e: (e.expires_on, e.report_id))
            assessment.covered[requirement.code] = best.report_id
        else:
            assessment.missing.append(requirement)
    return assessment


def newly_unmet(checklist: Checklist, relied_codes: Iterable[str]) -> list[str]:
    """The requirements that apply to a checklist now but that a clearance issued on it has no
    report for (its answers changed since)."""
    relied = set(relied_codes)
    return sorted(r.code for r in checklist.applicable if r.code not in relied)


def check_report_dates(issued_on: date, expires_on: date, today: date) -> None:
    if issued_on > today:
        raise Invalid("report-dates", "A report cannot be issued in the future.")
    if expires_on <= issued_on:
        raise Invalid("report-dates", "A report must expire after the day it is issued.")
    if expires_on < today:
        raise Invalid("report-dates", "This report has already expired.")
