"""What orders' API accepts and answers. Shape and bounds here; rules in `domain`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Market = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2,8}$")
]


def _iso_4217(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str,
    StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(_iso_4217),
    Field(description="An ISO 4217 currency code, such as EUR."),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ().-]{5,24}$")
]
Money = Annotated[int, Field(ge=0, le=10_000_000_000)]  # minor units (cents)
# Dates a person may mean: far-off ones are typos, and date arithmetic stays far from overflow.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2200, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def not_null(**constraints: Any) -> Any:
    """A field that may be left out, but is never `null` when sent (422)."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


class Accreditation(Strict):
    kind: Short = Field(description="For example `notified-body` or `ISO/IEC 17025`.")
    identifier: Short = Field(description="For example a notified-body number such as `0123`.")
    issuer: Short | None = None


class ProfileChanges(Strict):
    """A field left out stays as it is; `null` clears a field that may be empty. The lists are
    never null: send `[]` to empty one."""

    display_name: Short | None = None
    description: Text | None = None
    requirement_codes: list[Code] = not_null(max_length=500)
    evidence_types: list[Code] = not_null(max_length=50)
    markets: list[Market] = not_null(max_length=100)
    accreditations: list[Accreditation] = not_null(max_length=50)
    turnaround_days: Annotated[int, Field(ge=1, le=365)] | None = None
    price_min: Money | None = None
    price_max: Money | None = None
    currency: Currency | None = None
    contact_email: EmailStr | None = Field(default=None, max_length=254)
    contact_phone: Phone | None = None


class ProviderAdd(ProfileChanges):
    user_id: Id


class ProviderOut(BaseModel):
    id: str
    status: str
    display_name: str | None
    description: str | None
    requirement_codes: list[str]
    evidence_types: list[str]
    markets: list[str]
    accreditations: list[dict[str, Any]]
    turnaround_days: int | None
    price_min: int | None
    price_max: int | None
    currency: str | None
    contact_email: str | None
    contact_phone: str | None
    updated_at: datetime


class MatchOut(BaseModel):
    covered: list[str]
    missing: list[str]
    market_match: bool
    score: float


class ProviderHit(BaseModel):
    provider: ProviderOut
    match: MatchOut | None


class ProviderSearch(BaseModel):
    checklist_id: str | None
    market: str | None
    items: list[ProviderHit]


class OrderCreate(Strict):
    provider_id: Id
    checklist_id: Id
    requirement_codes: list[Code] = not_null(
        min_length=1,
        max_length=200,
        description="Requirements of the checklist that apply; left out: every one of them.",
    )
    note: Text | None = None


class Quote(Strict):
    amount: Money
    currency: Currency
    turnaround_days: Annotated[int, Field(ge=1, le=365)] | None = None


class TransitionIn(Strict):
    action: Literal["quote", "accept", "decline", "start", "deliver", "complete", "cancel"]
    reason: Reason | None = None
    version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The version you acted on; a stale one answers 409."
    )
    quote: Quote | None = None


class RequirementRef(BaseModel):
    code: str
    title: str
    evidence_type: str


class QuoteOut(BaseModel):
    amount: int
    currency: str | None
    turnaround_days: int | None


class Step(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    party: str
    actor_id: str | None
    reason: str | None
    at: datetime


class OrderOut(BaseModel):
    id: str
    customer_id: str
    provider_id: str
    checklist_id: str
    market: str
    hs_code: str
    requirements: list[RequirementRef]
    state: str
    version: int
    quote: QuoteOut | None
    answer_by: datetime
    created_at: datetime
    updated_at: datetime
    history: list[Step] | None = None


class MessageIn(Strict):
    body: Text


class MessageOut(BaseModel):
    id: str
    order_id: str
    author_id: str
    author_party: str
    body: str
    created_at: datetime


class AttachmentJson(Strict):
    filename: Short
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    content_base64: Annotated[str, StringConstraints(min_length=1)]


class AttachmentOut(BaseModel):
    id: str
    order_id: str
    uploader_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class ReportIn(Strict):
    requirement_codes: list[Code] = Field(min_length=1, max_length=200)
    title: Short
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = (
        None
    )
    issued_on: Day
    expires_on: Day
    attachment_id: Id | None = None


class ReportOut(BaseModel):
    id: str
    order_id: str
    provider_id: str
    customer_id: str
    market: str
    hs_code: str
    requirement_codes: list[str]
    title: str
    reference: str | None
    attachment_id: str | None
    issued_on: date
    expires_on: date
    status: Literal["valid", "expired", "withdrawn"]
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    created_at: datetime


class WithdrawIn(Strict):
    reason: Reason


class ClearanceRequest(Strict):
    checklist_id: Id
    report_ids: list[Id] = Field(max_length=200)


class ReliedReport(BaseModel):
    code: str
    report_id: str
    provider_id: str
    expires_on: date


class ClearanceStatus(BaseModel):
    id: str
    valid: bool
    status: Literal["valid", "revoked"]
    reason: str | None
    market: str
    hs_code: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    requirements: list[ReliedReport]


class ClearanceOut(ClearanceStatus):
    customer_id: str
    checklist_id: str
    certificate: str = Field(description="The certificate: a compact JWS (Ed25519).")


class VerifyRequest(Strict):
    certificate: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]


class Verification(BaseModel):
    valid: bool
    signature_valid: bool
    status: Literal["valid", "revoked", "invalid"]
    reason: str | None
    id: str | None = None
    market: str | None = None
    hs_code: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    requirements: list[ReliedReport] | None = None
    claims: dict[str, Any] | None = None


class Jwk(BaseModel):
    """A public key (RFC 8037 OKP): `crv` Ed25519, `x` the key, `kid` its id."""

    model_config = ConfigDict(extra="allow")
    kty: str
    crv: str
    x: str
    kid: str | None = None
    use: str | None = None
    alg: str | None = None


class Jwks(BaseModel):
    keys: list[Jwk]
