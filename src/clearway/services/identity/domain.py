"""Identity's rules in plain Python: accounts, passwords, sign-in throttling, sessions."""

from __future__ import annotations

import gzip
import hashlib
import math
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from functools import cache
from pathlib import Path

from clearway.kit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
)

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Throttled",
    "Unauthorized",
]

COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128  # argon2 hashes anything, but a megabyte password is an attack


class Role(StrEnum):
    CUSTOMER = "customer"
    PROVIDER = "provider"
    ADMIN = "admin"


class Status(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # a provider until an administrator verifies it
    SUSPENDED = "suspended"
    DELETED = "deleted"


class Throttled(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "throttled",
            "Too many failed sign-ins. Try again later.",
            headers={"retry-after": str(retry_after)},
        )


INVALID_CREDENTIALS = Unauthorized("invalid-credentials", "The e-mail or password is wrong.")


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().casefold() for line in lines if line.strip())


def check_password(password: str, *, email: str | None = None) -> None:
    """The password policy: long enough, not too long, not common, not the e-mail."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "weak-password", f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            "weak-password", f"The password may have at most {MAX_PASSWORD_LENGTH} characters."
        )
    folded = password.casefold()
    if folded in common_passwords():
        raise Invalid("weak-password", "This password is too common; choose another.")
    if email and folded in (email.casefold(), email.casefold().split("@")[0]):
        raise Invalid("weak-password", "The password must not be your e-mail address.")


def secret_digest(secret: str) -> str:
    """How a single-use secret (refresh token, reset link) is stored: it is random and long,
    so a plain SHA-256 suffices where a password needs a slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Keep(Enum):
    """A profile field a change leaves as it is (where `None` clears it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class ProfileEdit:
    """What a user changes in their profile: each field a new value, `None` (cleared) or
    `KEEP`. Every account keeps its name."""

    name: str | Keep = KEEP
    company: str | Keep | None = KEEP
    phone: str | Keep | None = KEEP
    country: str | Keep | None = KEEP

    def changed(self) -> dict[str, str | None]:
        """The fields that change, by name, with their new values."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return {name: value for name, value in values.items() if value is not KEEP}


def initial_status(role: Role) -> Status:
    if role is Role.ADMIN:
        raise Invalid("role", "Administrators cannot register themselves.")
    return Status.PENDING if role is Role.PROVIDER else Status.ACTIVE


def check_can_sign_in(status: Status) -> None:
    """Called only after the password matched: the answer reveals nothing to a stranger."""
    if status is Status.PENDING:
        raise Forbidden(
            "account-pending", "This provider account is waiting for an administrator's check."
        )
    if status is Status.SUSPENDED:
        raise Forbidden("account-suspended", "This account is suspended.")
    if status is Status.DELETED:
        raise INVALID_CREDENTIALS


def verify(status: Status) -> Status:
    if status is not Status.PENDING:
        raise Conflict("not-pending", f"Only a pending account can be verified; it is {status}.")
    return Status.ACTIVE


def suspend(status: Status) -> Status:
    if status not in (Status.ACTIVE, Status.PENDING):
        raise Conflict("not-suspendable", f"An account that is {status} cannot be suspended.")
    return Status.SUSPENDED


def reinstate(status: Status) -> Status:
    if status is not Status.SUSPENDED:
        raise Conflict(
            "not-suspended", f"Only a suspended account can be reinstated; it is {status}."
        )
    return Status.ACTIVE


@dataclass(frozen=True)
class ThrottlePolicy:
    """Failed sign-ins allowed within `window` before the key is locked for `lockout`."""

    max_failures: int
    window: timedelta
    lockout: timedelta


@dataclass(frozen=True)
class BackoffPolicy:
    """`free_failures` failures, then a wait before each next try that doubles with each
    further failure, up to `longest_wait`.

    Failures are forgotten after `forget_after` without one, so a typo last week costs nothing.
    """

    free_failures: int
    first_wait: timedelta
    longest_wait: timedelta
    forget_after: timedelta

    def wait(self, failures: int) -> timedelta | None:
        extra = failures - self.free_failures
        if extra < 0:
            return None
        doubled: timedelta = self.first_wait * 2 ** min(extra, 40)
        return min(self.longest_wait, doubled)


@dataclass
class ThrottleState:
    failures: int
    window_started: datetime
    locked_until: datetime | None

    def retry_after(self, now: datetime) -> int:
        """Seconds until the key may try again; 0 when it may now."""
        if self.locked_until is None or self.locked_until <= now:
            return 0
        return max(1, math.ceil((self.locked_until - now).total_seconds()))

    def record_failure(self, now: datetime, policy: ThrottlePolicy) -> bool:
        """Count one failure; True when this failure locks the key."""
        if now - self.window_started > policy.window:
            self.failures, self.window_started, self.locked_until = 0, now, None
        self.failures += 1
        if self.failures >= policy.max_failures:
            self.locked_until = now + policy.lockout
            self.failures = 0
            self.window_started = now
            return True
        return False

    def record_backoff(self, now: datetime, policy: BackoffPolicy) -> bool:
        """Count one failure (the window runs from the latest); True when a wait starts."""
        if now - self.window_started > policy.forget_after:
            self.failures = 0
        self.failures += 1
        self.window_started = now
        wait = policy.wait(self.failures)
        self.locked_until = now + wait if wait else None
        return wait is not None


@dataclass(frozen=True)
class RefreshToken:
    token_id: str
    family_id: str
    user_id: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


class RefreshVerdict(StrEnum):
    ROTATE = "rotate"
    REUSED = "reused"  # replay of a used token: the whole family is revoked
    DEAD = "dead"  # expired or revoked


def judge_refresh(token: RefreshToken, now: datetime) -> RefreshVerdict:
    if token.revoked_at is not None:
        return RefreshVerdict.DEAD
    if token.used_at is not None:
        return RefreshVerdict.REUSED
    if token.expires_at <= now:
        return RefreshVerdict.DEAD
    return RefreshVerdict.ROTATE
