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


class Credentials(Strict):
    email: EmailStr = Field(max_length=254)
    password: Password


class Tokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int
    refresh_token: str


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


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
