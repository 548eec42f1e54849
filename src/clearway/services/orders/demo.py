"""The demo (`clearway up --demo`): identity seeds a verified demo provider; orders gives it a
published profile that covers the whole rule base, so the demo customer finds it for any
checklist and can order from it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.identity import UserVerified
from clearway.services.orders.accounts import AccountsClient
from clearway.services.orders.providers import Directory
from clearway.services.orders.rules import RulesClient

# The address identity gives the demo provider's account.
DEMO_PROVIDER_EMAIL = "provider@demo.clearway.example"


class DemoSeed:
    def __init__(self, directory: Directory, rules: RulesClient, accounts: AccountsClient) -> None:
        self.directory = directory
        self.rules = rules
        self.accounts = accounts

    async def on_provider_verified(self, event: UserVerified, session: AsyncSession) -> None:
        """Runs after the directory listed the provider (same event, same transaction)."""
        user_id = event.user_id
        if event.role != "provider":
            return
        account = await self.accounts.find(user_id)
        if account is None or account.email != DEMO_PROVIDER_EMAIL:
            return
        vocabulary = await self.rules.vocabulary()
        await self.directory.seed(
            session,
            user_id,
            {
                "display_name": "Demo Test Lab",
                "description": "A demo laboratory: it tests for every requirement Clearway knows.",
                "requirement_codes": sorted(vocabulary.requirement_codes),
                "evidence_types": sorted(vocabulary.evidence_types),
                "markets": sorted(vocabulary.markets_with_rules | vocabulary.unions),
                "accreditations": [{"kind": "ISO/IEC 17025", "identifier": "DEMO-0001"}],
                "turnaround_days": 10,
                "price_min": 50_000,
                "price_max": 250_000,
                "currency": "EUR",
            },
        )
