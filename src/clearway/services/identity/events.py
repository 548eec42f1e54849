"""Sealing a recipient into identity's events: personal data travels sealed, never in clear.

The events themselves are contracts (`clearway.contracts.identity`).
"""

from __future__ import annotations

from clearway.contracts.identity import Contact, recipient_context
from clearway.kit.crypto import Sealer


def sealed_recipient(sealer: Sealer, user_id: str, email: str, name: str) -> str:
    return sealer.seal_text(
        Contact(email=email, name=name).model_dump_json(), recipient_context(user_id)
    )
