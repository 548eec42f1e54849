"""Access tokens: Ed25519-signed JWTs (RFC 9864 `Ed25519`), keys published as a JWKS.

The private key is stored encrypted in identity's database and held in memory once loaded.
On a key rotation a new key signs; the previous one stays in the JWKS until every token it
signed has expired, so rotation never signs anyone out.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto import FieldCipher
from clearway.services.identity.tables import signing_keys

ALGORITHM = "Ed25519"
KEY_SUBJECT = "service:signing-keys"
# How often every identity process re-reads the key set: a rotation (by any process) takes
# effect within this, and the old key stays published until its tokens have expired.
RELOAD_SECONDS = 5.0


@dataclass
class SigningKey:
    kid: str
    key: OKPKey


class TokenIssuer:
    def __init__(self, cipher: FieldCipher, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._cipher = cipher
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl_seconds
        self._active: SigningKey | None = None
        self._jwks: dict[str, Any] = {"keys": []}

    async def load(self, session: AsyncSession) -> None:
        """Load the active key (creating the first one) and the published key set."""
        rows = (
            await session.execute(select(signing_keys).order_by(signing_keys.c.created_at))
        ).all()
        if not rows:
            await self.rotate(session)
            await self.load(session)
            return
        now = datetime.now(UTC)
        published = []
        for row in rows:
            if row.retired_at is None or row.retired_at + timedelta(seconds=self.ttl + 60) > now:
                published.append(orjson.loads(row.public_jwk))
        active = next((r for r in reversed(rows) if r.retired_at is None), rows[-1])
        private = await self._cipher.decrypt(
            session, "signing_keys", "private_enc", active.kid, active.private_enc
        )
        self._active = SigningKey(active.kid, OKPKey.import_key(orjson.loads(private)))
        self._jwks = {"keys": published}

    async def rotate(self, session: AsyncSession) -> str:
        now = datetime.now(UTC)
        kid = secrets.token_urlsafe(12)
        key = OKPKey.generate_key(
            "Ed25519", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}
        )
        private = orjson.dumps(key.as_dict(private=True)).decode()
        await session.execute(
            update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=now)
        )
        await session.execute(
            signing_keys.insert().values(
                kid=kid,
                private_enc=await self._cipher.encrypt(
                    session, KEY_SUBJECT, "signing_keys", "private_enc", kid, private
                ),
                public_jwk=orjson.dumps(key.as_dict(private=False)).decode(),
                created_at=now,
            )
        )
        # Memory changes only once the caller's transaction has committed and `load` runs
        # (`RELOAD_SECONDS`): a rolled-back rotation never signs a token.
        return kid

    def jwks(self) -> dict[str, Any]:
        return self._jwks

    def issue(self, user_id: str, role: str, session_id: str) -> str:
        assert self._active is not None, "load() first"
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "role": role,
            "sid": session_id,
            "jti": secrets.token_urlsafe(12),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
        }
        header = {"alg": ALGORITHM, "kid": self._active.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._active.key, algorithms=[ALGORITHM])
