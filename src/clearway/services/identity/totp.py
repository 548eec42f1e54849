"""TOTP second factor rules (RFC 6238 through `pyotp`) and recovery codes, in plain Python."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import pyotp

ISSUER = "Clearway"
# One 30-second step either side of now: a phone's clock a little off still works.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def clock() -> datetime:
    """The time codes are checked at (one place, so tests can set it)."""
    return datetime.now(UTC)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://` URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step whose code this is, if it is one and is later than `after` (a code is
    good once: RFC 6238, section 5.2); None otherwise."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 12 characters (about 59 bits each), shown once as `xxxx-xxxx-xxxx`."""

    def one() -> str:
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"

    return [one() for _ in range(RECOVERY_CODES)]


def recovery_digest(code: str) -> str:
    """What is stored for a recovery code: random codes need no slow hash, only a one-way one."""
    normalized = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(normalized.encode()).hexdigest()
