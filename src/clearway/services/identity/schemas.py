"""What identity's API accepts and answers. Validation here; rules in `domain`."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

# Invisible characters that reorder or hide text: no place in a name, every place in phishing.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(text: object) -> object:
    """Refuse control characters (tabs and line breaks too), line separators and bidi controls,
    before whitespace is trimmed: a trailing line break is refused, not quietly cut."""
    if not isinstance(text, str):
        return text  # the type check after this one answers
    for char in text:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS:
            raise ValueError(f"must not contain control characters (found U+{ord(char):04X})")
    return text


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    BeforeValidator(_printable),  # runs first: sees the text before it is trimmed
]
Company = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    BeforeValidator(_printable),  # runs first: sees the text before it is trimmed
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ().-]{5,24}$")
]
Password = Annotated[str, Field(min_length=1, max_length=256)]


def _country(code: str) -> str:
    code = code.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


Country = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_country)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Registration(Strict):
    email: EmailStr = Field(max_length=254)
    password: Password
    role: Literal["customer", "provider"]
    name: Name
    company: Company | None = None
    phone: Phone | None = None
    country: Country | None = None


class Accepted(BaseModel):
    detail: str


OneTimeCode = Annotated[
    str,
    Field(
        min_length=6,
        max_length=32,
        description="A 6-digit code from the authenticator app, or an unused recovery code.",
    ),
]


class Credentials(Strict):
    email: EmailStr = Field(max_length=254)
    password: Password
    # Needed once the account has a second factor: a first try without it answers 401 with
    # problem type `mfa-required` (or `mfa-setup-required` for an administrator who must enrol).
    otp: OneTimeCode | None = None


class Tokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int
    # Null for the browser app: it has the refresh token as an HttpOnly cookie instead.
    refresh_token: str | None = None


class RefreshRequest(Strict):
    # Absent: the browser app's cookie carries it.
    refresh_token: str | None = Field(default=None, min_length=1, max_length=200)


class LogoutRequest(Strict):
    refresh_token: str | None = Field(default=None, min_length=1, max_length=200)


class ForgotPassword(Strict):
    email: EmailStr = Field(max_length=254)


class ResetPassword(Strict):
    token: str = Field(min_length=1, max_length=200)
    new_password: Password


class ChangePassword(Strict):
    current_password: Password
    new_password: Password


class ProfileOut(BaseModel):
    id: str
    email: str
    name: str
    company: str | None
    phone: str | None
    country: str | None
    role: str
    status: str
    created_at: datetime


class ProfileChanges(Strict):
    """A field left out stays as it is; `null` clears it (every account keeps its `name`)."""

    name: Name | None = None
    company: Company | None = None
    phone: Phone | None = None
    country: Country | None = None

    @field_validator("name")
    @classmethod
    def _name_stays(cls, name: str | None) -> str:
        if name is None:
            raise ValueError("the name cannot be removed, only changed")
        return name


class UserPage(BaseModel):
    items: list[ProfileOut]
    total: int
    limit: int
    offset: int


class Contact(BaseModel):
    email: str
    name: str


class Revocation(BaseModel):
    session_id: str
    until: float


class Revocations(BaseModel):
    items: list[Revocation]
    cursor: int


class SecondFactorStatus(BaseModel):
    enabled: bool
    recovery_codes_left: int


class SecondFactorEnrolment(BaseModel):
    secret: str = Field(description="Base32 TOTP secret (RFC 6238, SHA-1, 6 digits, 30 s).")
    otpauth_uri: str = Field(description="The same as an `otpauth://` URI, for a QR code.")


class CodeConfirmation(Strict):
    code: OneTimeCode


class SecondFactorRemoval(Strict):
    password: Password
    code: OneTimeCode


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Each works once in place of a code; shown once.")


class PublicKey(BaseModel):
    """One Ed25519 public key (RFC 8037 JWK) that verifies access tokens."""

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    use: Literal["sig"]
    alg: Literal["Ed25519"]


class KeySet(BaseModel):
    keys: list[PublicKey]


class SignInProblem(BaseModel):
    """A refused sign-in (RFC 9457). `type` ends in `invalid-credentials`, `mfa-required` (send
    the login again with `otp`), `invalid-mfa-code`, or `mfa-setup-required` (an administrator
    must enrol: `secret` and `otpauth_uri` are given, sign in again with a code from them)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    secret: str | None = None
    otpauth_uri: str | None = None
