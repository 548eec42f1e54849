"""Who is calling: the gateway has authenticated them and says so in one internal header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request

from clearway.kit.problems import Problem

Role = Literal["anonymous", "customer", "provider", "admin", "service"]
ROLES: tuple[Role, ...] = ("anonymous", "customer", "provider", "admin", "service")


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    user_id: str | None = None
    session_id: str | None = None

    def header(self) -> str:
        return f"{self.role};{self.user_id or ''};{self.session_id or ''}"

    @classmethod
    def parse(cls, value: str | None) -> Caller:
        if not value:
            return ANONYMOUS
        role, _, rest = value.partition(";")
        user_id, _, session_id = rest.partition(";")
        if role not in ROLES:
            return ANONYMOUS
        return cls(role, user_id or None, session_id or None)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Caller("anonymous")


async def _caller(request: Request) -> Caller:
    # Trustworthy because RequireInternalCredential already let the request in.
    return Caller.parse(request.headers.get("x-clearway-caller"))


async def _signed_in(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if caller.user_id is None:
        raise Problem(401, detail="Sign in to use this resource.")
    return caller


async def _admin(caller: Annotated[Caller, Depends(_signed_in)]) -> Caller:
    if not caller.is_admin:
        raise Problem(403, detail="Administrators only.")
    return caller


AnyCaller = Annotated[Caller, Depends(_caller)]
SignedIn = Annotated[Caller, Depends(_signed_in)]
Admin = Annotated[Caller, Depends(_admin)]
