"""Rules: what a requirement says and where it applies.

A rule says: in this market, products in this scope (HS codes at any depth, or categories) face
this requirement (legal reference, authority, evidence, issuers), either always (mandatory) or
when the deciding questions are answered a certain way (conditional).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from clearway.services.rules.domain.conditions import Condition

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
