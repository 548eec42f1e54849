"""What a provider's profile may name: only terms the rule base knows, so that a customer's
search can ever find it (a typo in a requirement code would list the provider for nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pycountry

from clearway.services.orders.domain import Invalid


@dataclass(frozen=True)
class Vocabulary:
    requirement_codes: frozenset[str]
    evidence_types: frozenset[str]
    unions: frozenset[str]  # besides every ISO 3166 country
    markets_with_rules: frozenset[str]

    def is_market(self, code: str) -> bool:
        return code in self.unions or (
            len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None
        )


def check_profile(changes: Mapping[str, Any], vocabulary: Vocabulary) -> None:
    """Refuse (422, listing them per field) terms of a profile change the rule base lacks."""
    known: dict[str, Callable[[str], bool]] = {
        "requirement_codes": vocabulary.requirement_codes.__contains__,
        "evidence_types": vocabulary.evidence_types.__contains__,
        "markets": vocabulary.is_market,
    }
    unknown = {
        field: _unknown(changes[field], known[field]) for field in known if changes.get(field)
    }
    unknown = {field: terms for field, terms in unknown.items() if terms}
    if unknown:
        raise Invalid(
            "unknown-terms",
            "The rule base does not know: "
            + "; ".join(f"{field} {', '.join(terms)}" for field, terms in unknown.items()),
            unknown=unknown,
        )


def _unknown(terms: Iterable[str], known: Callable[[str], bool]) -> list[str]:
    return sorted({t for t in terms if not known(t)})
