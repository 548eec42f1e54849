"""What identity's API accepts and answers. Validation here; rules in `domain`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Company = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
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
    name: Name | None = None
    company: Company | None = None
    phone: Phone | None = None
    country: Country | None = None


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
