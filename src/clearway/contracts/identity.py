"""What identity offers the others: account and security events, the contact look-up, the
session revocations, and the sealing of recipients.

Personal data never travels in clear: a recipient (e-mail, name) is sealed for the user it
names (`recipient_context`), and only the mail sender opens it.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import quote

from pydantic import BaseModel

from clearway.contracts._types import IsoDatetime, Role
from clearway.kit.bus.contract import Event

SOURCE = "/clearway/identity"

AccountStatus = Literal["active", "pending", "suspended", "deleted"]


class IdentityEvent(Event):
    SOURCE: ClassVar[str] = SOURCE


class UserEvent(IdentityEvent):
    """About one account: the envelope's subject is its id."""

    SUBJECT: ClassVar[str | None] = "user_id"
    user_id: str


class UserRegistered(UserEvent):
    """A new account (also one seeded by an operator, which carries no recipient)."""

    TYPE: ClassVar[str] = "user.registered"
    role: Role
    status: AccountStatus
    country: str | None
    recipient: str | None = None
    """The sealed `Contact`, for the welcome mail."""


class UserRegistrationRepeated(UserEvent):
    """Someone registered an e-mail that has an account: the owner is told, nobody else."""

    TYPE: ClassVar[str] = "user.registration_repeated"
    recipient: str


class AccountChange(UserEvent):
    """An administrator changed an account's standing (`by`); `None` for the platform."""

    role: Role
    by: str | None = None


class UserVerified(AccountChange):
    """A provider verified (or seeded verified): it is listed in the directory."""

    TYPE: ClassVar[str] = "user.verified"
    status: AccountStatus | None = None
    country: str | None = None


class UserSuspended(AccountChange):
    TYPE: ClassVar[str] = "user.suspended"


class UserReinstated(AccountChange):
    TYPE: ClassVar[str] = "user.reinstated"


class SecondFactorReset(AccountChange):
    """An administrator removed the account's second factor (its owner lost the authenticator
    app): its sessions ended, and it signs in with the password alone until the owner turns
    the factor on again."""

    TYPE: ClassVar[str] = "user.second_factor_reset"


class UserDeleted(AccountChange):
    """The account's personal data is crypto-shredded; copies elsewhere must go too."""

    TYPE: ClassVar[str] = "user.deleted"


class UserUpdated(UserEvent):
    TYPE: ClassVar[str] = "user.updated"
    fields: list[str]
    """Which profile fields changed (never their values)."""


class PasswordResetRequested(UserEvent):
    TYPE: ClassVar[str] = "user.password_reset_requested"
    recipient: str
    link: str
    """The reset link, sealed like the recipient."""
    expires_at: IsoDatetime


class PasswordChanged(UserEvent):
    TYPE: ClassVar[str] = "user.password_changed"


class SignInEvent(IdentityEvent):
    """About sign-ins from one client: the account tried (if it exists), and the client.

    Version 2 names the client by a pseudonym only: these events are kept in the audit trail
    for a long time, and a client address is personal data.
    """

    VERSION: ClassVar[int] = 2
    user_id: str | None
    client: str | None
    """Always null since version 2 (version 1 carried the client address here): kept so that
    consumers of version 1 still read the event."""
    client_ref: str | None = None
    """Since version 2: the client address as a keyed pseudonym, 16 hex digits of an
    HMAC-SHA-256 under a key derived from the platform's blind-index secret. Equal addresses
    give equal references, so an attack from one address can be followed; the address cannot
    be recovered without the platform's keys."""


class LoginFailed(SignInEvent):
    """A wrong password or second-factor code (`user_id` null for an unknown account)."""

    TYPE: ClassVar[str] = "security.login_failed"


class Lockout(SignInEvent):
    """Sign-ins started to wait (back-off), reported once when the waits start."""

    TYPE: ClassVar[str] = "security.lockout"
    scope: Literal["account-address", "address"]
    """What is throttled: one account from one address, or an address whatever the account."""


class RefreshTokenReused(IdentityEvent):
    """A refresh token came back after use: its whole session family was revoked."""

    TYPE: ClassVar[str] = "security.refresh_token_reused"
    user_id: str
    session_id: str


class SigningKeyRotated(IdentityEvent):
    TYPE: ClassVar[str] = "security.signing_key_rotated"
    kid: str


EVENTS: tuple[type[Event], ...] = (
    UserRegistered,
    UserRegistrationRepeated,
    UserVerified,
    UserSuspended,
    UserReinstated,
    SecondFactorReset,
    UserDeleted,
    UserUpdated,
    PasswordResetRequested,
    PasswordChanged,
    LoginFailed,
    Lockout,
    RefreshTokenReused,
    SigningKeyRotated,
)

# --- sealing: a `recipient` is a `Contact` (below) sealed for the user it names ---------


def recipient_context(user_id: str) -> str:
    """What a sealed recipient (and anything sealed for that mail) is bound to: it opens only
    for the user it names, so a recipient copied into another user's event opens nowhere."""
    return f"mail-recipient|{user_id}"


# --- internal API --------------------------------------------------------------------------

JWKS_ROUTE = "/.well-known/jwks.json"
"""The public keys access tokens are signed with (the gateway verifies tokens with them)."""

CONTACT_ROUTE = "/internal/identity/users/{user_id}/contact"
REVOCATIONS_ROUTE = "/internal/identity/revocations"


def contact_path(user_id: str) -> str:
    return CONTACT_ROUTE.format(user_id=quote(user_id, safe=""))


def revocations_path(after: int) -> str:
    return f"{REVOCATIONS_ROUTE}?after={after}"


class Contact(BaseModel):
    """Whom to write to: what the contact look-up answers, and what a sealed `recipient`
    holds (see `recipient_context`)."""

    email: str
    name: str
    role: Role | None = None
    """The account's role: the contact look-up names it; a sealed recipient leaves it out."""


class Revocation(BaseModel):
    session_id: str
    until: float
    """Until when (epoch seconds) the session's access tokens could still be presented."""


class Revocations(BaseModel):
    """Sessions ended early, after a cursor; the next poll starts at `cursor`."""

    items: list[Revocation]
    cursor: int
