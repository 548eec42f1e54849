"""Clearance certificates: compact JWS signed with the platform's Ed25519 key (RFC 9864 `Ed25519`).

The private key is stored encrypted in orders' database. A rotation makes a new key sign; old
keys stay published, since a certificate must verify for as long as it is valid.
"""

from __future__ import annotations

from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto import FieldCipher
from clearway.kit.crypto.signing import ALGORITHM, SigningKeyRing, public_key
from clearway.services.orders.tables import signing_keys

TYPE = "clearance+jws"
KEY_SUBJECT = "service:clearance-keys"


class InvalidCertificate(Exception):
    """The presented text is not a certificate this platform signed, unaltered."""


class CertificateSigner:
    def __init__(self, cipher: FieldCipher) -> None:
        self._keys = SigningKeyRing(cipher, signing_keys, KEY_SUBJECT)
        self._public: dict[str, OKPKey] = {}

    async def load(self, session: AsyncSession) -> None:
        """Load the active key (creating the first one) and every public key."""
        rows = await self._keys.load(session)
        self._public = {r.kid: public_key(r.public_jwk) for r in rows}

    async def rotate(self, session: AsyncSession) -> str:
        kid = await self._keys.rotate(session)
        await self.load(session)
        return kid

    @property
    def kid(self) -> str:
        return self._keys.active.kid

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self._public.values()]}

    def sign(self, claims: dict[str, Any]) -> str:
        active = self._keys.active
        header = {"alg": ALGORITHM, "kid": active.kid, "typ": TYPE}
        return jws.serialize_compact(
            header, orjson.dumps(claims, option=orjson.OPT_SORT_KEYS), active.key, [ALGORITHM]
        )

    async def verify(self, session: AsyncSession, token: str) -> dict[str, Any]:
        """The claims of a certificate whose signature checks out; else `InvalidCertificate`."""
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidCertificate("not a compact JWS") from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or header.get("typ") != TYPE or not isinstance(kid, str):
            raise InvalidCertificate("not a Clearway clearance certificate")
        key = self._public.get(kid) or await self._stored_key(session, kid)
        if key is None:
            raise InvalidCertificate("signed with an unknown key")
        try:
            payload = jws.deserialize_compact(token, key, algorithms=[ALGORITHM]).payload
            claims = orjson.loads(payload)
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidCertificate("the signature does not match the content") from exc
        if not isinstance(claims, dict):
            raise InvalidCertificate("unexpected content")
        return claims

    async def _stored_key(self, session: AsyncSession, kid: str) -> OKPKey | None:
        # Another process may have rotated since this one loaded.
        row = (
            await session.execute(
                select(signing_keys.c.public_jwk).where(signing_keys.c.kid == kid)
            )
        ).first()
        if row is None:
            return None
        key = public_key(row.public_jwk)
        self._public[kid] = key
        return key
