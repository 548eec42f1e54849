"""Identity as orders sees it: whether an account exists, its role and address (read when
needed, never kept here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.orders.domain import Unavailable


@dataclass(frozen=True)
class Account:
    role: str
    email: str


class AccountsClient:
    def __init__(self, calls: ServiceCalls) -> None:
        self._calls = calls

    async def find(self, user_id: str) -> Account | None:
        """The account, or None when there is no such (or a deleted) account."""
        path = f"/internal/identity/users/{quote(user_id, safe='')}/contact"
        try:
            contact: dict[str, Any] = await self._calls.get_json("identity", path)
        except ServiceCallError as exc:
            if exc.status == 404:
                return None
            raise Unavailable(
                "identity-unavailable", "Accounts cannot be checked now; try again shortly."
            ) from exc
        except KeyError as exc:  # identity is not hosted here
            raise Unavailable("identity-unavailable", "Accounts are not available.") from exc
        return Account(role=str(contact.get("role", "")), email=str(contact.get("email", "")))
