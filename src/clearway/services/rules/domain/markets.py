"""Markets: a country (ISO 3166-1, through pycountry) or a union of member countries (YAML).

A rule written for a union applies in each member; a search for a member also finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry
import yaml  # type: ignore[import-untyped]

from clearway.services.rules.domain import Invalid

ALIASES = {"UK": "GB"}  # the United Kingdom's usual name is not its ISO code


@dataclass(frozen=True, slots=True)
class Market:
    code: str
    name: str
    kind: str  # "country" or "union"
    members: tuple[str, ...] = ()


class Markets:
    def __init__(self, unions: list[Market]) -> None:
        self.unions = {u.code: u for u in unions}
        self._member_of: dict[str, list[str]] = {}
        for union in unions:
            for member in union.members:
                self._member_of.setdefault(member, []).append(union.code)

    @classmethod
    def from_yaml(cls, path: Path) -> Markets:
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        unions = []
        for code, union in document["unions"].items():
            members = tuple(sorted(union["members"]))
            for member in members:
                if pycountry.countries.get(alpha_2=member) is None:
                    raise ValueError(f"{path}: {code} member {member} is not an ISO country")
            unions.append(Market(code, union["name"], "union", members))
        return cls(unions)

    def get(self, code: str) -> Market | None:
        if code in self.unions:
            return self.unions[code]
        country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
        if country is None:
            return None
        return Market(country.alpha_2, _country_name(country), "country")

    def resolve(self, raw: str) -> Market:
        """A market as typed: "EU", "European Union", "DE", "DEU", "Germany", "UK"."""
        text = raw.strip()
        upper = ALIASES.get(text.upper(), text.upper())
        found = self.get(upper) if upper.isalpha() else None
        if found is None:
            folded = text.casefold()
            for union in self.unions.values():
                if union.name.casefold() == folded:
                    return union
            try:
                country = pycountry.countries.lookup(text)
            except LookupError:
                raise Invalid(
                    "unknown-market",
                    f"{raw[:60]!r} is not a market: use an ISO 3166 country code or a union"
                    f" ({', '.join(sorted(self.unions))}).",
                ) from None
            found = self.get(country.alpha_2)
        assert found is not None
        return found

    def covering(self, code: str) -> list[str]:
        """The markets whose rules apply in `code`: itself and the unions it belongs to."""
        return [code, *self._member_of.get(code, ())]

    def unions_of(self, code: str) -> list[str]:
        return list(self._member_of.get(code, ()))

    def region(self, market: str, code: str) -> str:
        """The name of a part of `market` a rule may be limited to: a member of a union ("DE"
        in EU) or a subdivision (ISO 3166-2: "US-CA", "CA-QC", "DE-BY" in EU)."""
        union = self.unions.get(market)
        members = union.members if union else (market,)
        if len(code) == 2:
            if union is None or code not in members:
                raise Invalid("unknown-region", f"{code!r} is not a member state of {market}.")
            found = self.get(code)
            assert found is not None
            return found.name
        subdivision = pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
        if subdivision is None or subdivision.country_code not in members:
            raise Invalid(
                "unknown-region", f"{code[:12]!r} is not an ISO 3166-2 subdivision of {market}."
            )
        return str(subdivision.name)


def _country_name(country: Any) -> str:
    return str(getattr(country, "common_name", None) or country.name)
