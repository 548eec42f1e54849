"""The short-lived credential that proves a call came from the gateway or another service.

The gateway signs a token (Ed25519, 60 s) with a key only it and the services hold; a service
refuses any request without a valid one. Tokens are re-minted before they expire and a
verified token is remembered until its expiry, so the check costs a dict lookup per request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from starlette.types import ASGIApp, Receive, Scope, Send

from clearway.kit.problems import problem_bytes

INTERNAL_HEADER = b"x-clearway-internal"
CALLER_HEADER = b"x-clearway-caller"
AUDIENCE = "clearway-internal"
ALGORITHM = "Ed25519"
LIFETIME_SECONDS = 60
RENEW_BEFORE_SECONDS = 20


def _okp_key(seed: bytes) -> OKPKey:
    private = Ed25519PrivateKey.from_private_bytes(seed[:32])
    return OKPKey.import_key(private, parameters={"kid": "internal"})


@dataclass
class _Minted:
    token: str
    expires_at: float
    header: tuple[bytes, bytes]
    """The token as a forwarded request carries it, encoded once."""


class InternalCredentials:
    """Mints and verifies internal credentials from one 32-byte seed held by the key store."""

    def __init__(self, seed: bytes, issuer: str = "gateway") -> None:
        self._key = _okp_key(seed)
        self._issuer = issuer
        self._minted: _Minted | None = None
        self._verified: dict[str, float] = {}

    def token(self) -> str:
        return self._current().token

    def header(self) -> tuple[bytes, bytes]:
        """The `x-clearway-internal` header that carries the current token."""
        return self._current().header

    def _current(self) -> _Minted:
        now = time.time()
        if self._minted is None or self._minted.expires_at - now < RENEW_BEFORE_SECONDS:
            expires = now + LIFETIME_SECONDS
            claims = {"iss": self._issuer, "aud": AUDIENCE, "iat": int(now), "exp": int(expires)}
            header = {"alg": ALGORITHM, "kid": "internal"}
            token = jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])
            self._minted = _Minted(token, expires, (INTERNAL_HEADER, token.encode("latin-1")))
        return self._minted

    def verify(self, token: str) -> bool:
        now = time.time()
        expires = self._verified.get(token)
        if expires is not None:
            if expires > now:
                return True
            del self._verified[token]
            return False
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return False
        claims = decoded.claims
        exp = claims.get("exp")
        if claims.get("aud") != AUDIENCE or not isinstance(exp, int) or exp <= now:
            return False
        if len(self._verified) > 1024:  # only a handful are live at once; drop the stale
            self._verified = {t: e for t, e in self._verified.items() if e > now}
        self._verified[token] = float(exp)
        return True


_UNAUTHORIZED = problem_bytes(401, detail="This service only answers calls from the gateway.")
_UNAUTHORIZED_HEADERS = [
    (b"content-type", b"application/problem+json"),
    (b"content-length", str(len(_UNAUTHORIZED)).encode()),
]


class RequireInternalCredential:
    """ASGI middleware in front of every service: no credential, no service (`401`)."""

    def __init__(self, app: ASGIApp, credentials: InternalCredentials) -> None:
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = None
            for name, value in scope["headers"]:
                if name == INTERNAL_HEADER:
                    token = value.decode("latin-1")
                    break
            if token is None or not self.credentials.verify(token):
                start = {"type": "http.response.start", "status": 401}
                await send({**start, "headers": _UNAUTHORIZED_HEADERS})
                await send({"type": "http.response.body", "body": _UNAUTHORIZED})
                return
        await self.app(scope, receive, send)
