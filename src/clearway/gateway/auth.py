"""Authentication at the gateway: access tokens verified against identity's JWKS.

Only the fully specified `Ed25519` algorithm (RFC 9864) is accepted, so `alg: none`, HMAC
with the public key and every other swap fail before a signature is even looked at. A token
is verified once and remembered until it expires; revocation is checked on every request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from clearway.kit.caller import ROLES, Caller

ALGORITHMS = ["Ed25519"]
CACHE_LIMIT = 50_000
# Unknown key ids refetch the JWKS at most this often; callers wait for the next fetch.
JWKS_REFRESH_MIN_SECONDS = 1.0


class InvalidToken(Exception):
    """The token cannot be trusted; the message is safe to show."""


class RevocationList:
    """Sessions whose tokens must no longer pass, until those tokens would have expired."""

    def __init__(self) -> None:
        self._sessions: dict[str, float] = {}
        self.cursor = 0

    def add(self, session_id: str, until: float) -> None:
        self._sessions[session_id] = until

    def is_revoked(self, session_id: str) -> bool:
        until = self._sessions.get(session_id)
        if until is None:
            return False
        if until < time.time():
            del self._sessions[session_id]
            return False
        return True


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        fetch_jwks: Callable[[], Awaitable[dict[str, Any]]],
        revocations: RevocationList,
    ) -> None:
        self._fetch_jwks = fetch_jwks
        self._keys: KeySet | None = None
        self._kids: set[str] = set()
        self._fetched_at = 0.0
        self._refreshing = asyncio.Lock()
        self._registry = JWTClaimsRegistry(
            leeway=5,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        self._verified: dict[str, tuple[Caller, float]] = {}
        self.revocations = revocations

    async def refresh_keys(self) -> None:
        document = await self._fetch_jwks()
        self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        self._kids = {str(k.get("kid")) for k in document.get("keys", [])}
        self._fetched_at = time.monotonic()

    async def _refresh_for(self, kid: str) -> None:
        """A key rotation: the new key is in the JWKS before it signs anything.

        Refusing until the next scheduled refetch would sign out everyone who signs in just
        after a rotation; refetching on every unknown kid would let anyone make the gateway
        fetch at will. So requests that meet an unknown kid share one fetch, at most one per
        `JWKS_REFRESH_MIN_SECONDS`, and wait for it.
        """
        arrived = time.monotonic()
        async with self._refreshing:
            if kid in self._kids or self._fetched_at >= arrived:
                return  # fetched while this request waited: its answer stands
            wait = self._fetched_at + JWKS_REFRESH_MIN_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.refresh_keys()

    async def authenticate(self, token: str) -> Caller:
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None and cached[1] > now:
            caller = cached[0]
        else:
            caller, expires = await self._verify(token)
            if len(self._verified) >= CACHE_LIMIT:
                self._verified = {t: v for t, v in self._verified.items() if v[1] > now}
                if len(self._verified) >= CACHE_LIMIT:
                    self._verified.clear()
            self._verified[token] = (caller, expires)
        if caller.session_id and self.revocations.is_revoked(caller.session_id):
            raise InvalidToken("The session has ended; sign in again.")
        return caller

    async def _verify(self, token: str) -> tuple[Caller, float]:
        try:
            header = jws.extract_compact(token.encode("ascii")).protected
        except (JoseError, ValueError, UnicodeError) as exc:
            raise InvalidToken("The access token is malformed.") from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("The access token's algorithm is not accepted.")
        kid = str(header.get("kid"))
        if self._keys is None or kid not in self._kids:
            await self._refresh_for(kid)
        if self._keys is None or kid not in self._kids:
            raise InvalidToken("The access token was signed by an unknown key.")
        try:
            decoded = jwt.decode(token, self._keys, algorithms=ALGORITHMS)
            self._registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken("The access token is invalid or has expired.") from exc
        claims = decoded.claims
        role = claims.get("role")
        if role not in ROLES or role in ("anonymous", "service"):
            raise InvalidToken("The access token carries no valid role.")
        caller = Caller(role, str(claims["sub"]), str(claims.get("sid") or "") or None)
        return caller, float(claims["exp"])
