"""Identity as orders sees it: whether an account exists, its role and address (read when
needed, never kept here)."""

from __future__ import annotations

from pydantic import ValidationError

from clearway.contracts.identity import Contact, contact_path
from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.orders.domain import Unavailable


class AccountsClient:
    def __init__(self, calls: ServiceCalls) -> None:
        self._calls = calls

    async def find(self, user_id: str) -> Contact | None:
        """The account, or None when there is no such (or a deleted) account."""
        try:
            document = await self._calls.get_json("identity", contact_path(user_id))
        except ServiceCallError as exc:
            if exc.status == 404:
                return None
            raise Unavailable(
                "identity-unavailable", "Accounts cannot be checked now; try again shortly."
            ) from exc
        except KeyError as exc:  # identity is not hosted here
            raise Unavailable("identity-unavailable", "Accounts are not available.") from exc
        try:
            return Contact.model_validate(document)
        except ValidationError as exc:
            raise Unavailable("identity-unavailable", "Identity answered unexpectedly.") from exc
