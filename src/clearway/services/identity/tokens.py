"""Access tokens: Ed25519-signed JWTs (RFC 9864 `Ed25519`), keys published as a JWKS.

The private key is stored encrypted in identity's database and held in memory once loaded.
On a key rotation a new key signs; the previous one stays in the JWKS until every token it
signed has expired, so rotation never signs anyone out.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from joserfc import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto import FieldCipher
from clearway.kit.crypto.signing import ALGORITHM, SigningKeyRing
from clearway.services.identity.tables import signing_keys

KEY_SUBJECT = "service:signing-keys"
# How often every identity process re-reads the key set: a rotation (by any process) takes
# effect within this, and the old key stays published until its tokens have expired.
RELOAD_SECONDS = 5.0


class TokenIssuer:
    def __init__(self, cipher: FieldCipher, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._keys = SigningKeyRing(cipher, signing_keys, KEY_SUBJECT)
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl_seconds
        self._jwks: dict[str, Any] = {"keys": []}

    async def load(self, session: AsyncSession) -> None:
        """Load the active key (creating the first one) and the published key set."""
        rows = await self._keys.load(session)
        now = datetime.now(UTC)
        published = []
        for row in rows:
            if row.retired_at is None or row.retired_at + timedelta(seconds=self.ttl + 60) > now:
                published.append(orjson.loads(row.public_jwk))
        self._jwks = {"keys": published}

    async def rotate(self, session: AsyncSession) -> str:
        # Memory changes only once the caller's transaction has committed and `load` runs
        # (`RELOAD_SECONDS`): a rolled-back rotation never signs a token.
        return await self._keys.rotate(session)

    def jwks(self) -> dict[str, Any]:
        return self._jwks

    def issue(self, user_id: str, role: str, session_id: str) -> str:
        active = self._keys.active
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
        header = {"alg": ALGORITHM, "kid": active.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, active.key, algorithms=[ALGORITHM])
