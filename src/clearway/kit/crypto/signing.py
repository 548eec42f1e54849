"""Ed25519 signing keys (RFC 9864 `Ed25519`), kept in a service's own `signing_keys` table.

Identity signs access tokens with them, orders signs clearance certificates. The private part
is stored encrypted with the service's field cipher; a rotation retires the active key and
adds a new one, and retired keys stay readable so what they signed still verifies. Which
retired keys a service publishes, and when it reloads after a rotation, is the service's call.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from joserfc.jwk import OKPKey
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto.envelope import FieldCipher

ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: OKPKey


class SigningKeyRing:
    """The keys in `table` (kid, private_enc, public_jwk, created_at, retired_at); private
    parts encrypted under the data key of `subject`."""

    def __init__(self, cipher: FieldCipher, table: Table, subject: str) -> None:
        self._cipher = cipher
        self._table = table
        self._subject = subject
        self._active: SigningKey | None = None

    async def load(self, session: AsyncSession) -> Sequence[Any]:
        """Hold the active key (creating the first one); return every key row, oldest first."""
        rows = await self._rows(session)
        if not rows:
            await self.rotate(session)
            rows = await self._rows(session)
        active = next((r for r in reversed(rows) if r.retired_at is None), rows[-1])
        private = await self._cipher.decrypt(
            session, self._table.name, "private_enc", active.kid, active.private_enc
        )
        self._active = SigningKey(active.kid, OKPKey.import_key(orjson.loads(private)))
        return rows

    async def rotate(self, session: AsyncSession) -> str:
        """Retire the active key and add a new one, in the caller's transaction; the held key
        changes only on the next `load` (so a rolled-back rotation never signs anything)."""
        now = datetime.now(UTC)
        kid = secrets.token_urlsafe(12)
        key = OKPKey.generate_key(
            "Ed25519", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}
        )
        private = orjson.dumps(key.as_dict(private=True)).decode()
        table = self._table
        await session.execute(
            update(table).where(table.c.retired_at.is_(None)).values(retired_at=now)
        )
        await session.execute(
            table.insert().values(
                kid=kid,
                private_enc=await self._cipher.encrypt(
                    session, self._subject, table.name, "private_enc", kid, private
                ),
                public_jwk=orjson.dumps(key.as_dict(private=False)).decode(),
                created_at=now,
            )
        )
        return kid

    @property
    def active(self) -> SigningKey:
        assert self._active is not None, "load() first"
        return self._active

    async def _rows(self, session: AsyncSession) -> Sequence[Any]:
        return (await session.execute(select(self._table).order_by(self._table.c.created_at))).all()


def public_key(public_jwk: str) -> OKPKey:
    """A stored public key, for verifying."""
    return OKPKey.import_key(orjson.loads(public_jwk))
