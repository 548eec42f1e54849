"""Identity's tables. Personal data lives only in the `*_enc` columns, encrypted per field."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from clearway.kit.db import UTCDateTime

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email_index", String(64), unique=True, nullable=True),  # blind index, NULL once deleted
    Column("email_enc", LargeBinary, nullable=True),
    Column("name_enc", LargeBinary, nullable=True),
    Column("company_enc", LargeBinary, nullable=True),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("country", String(2), nullable=True),
    Column("role", String(16), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("password_hash", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("family_id", String(32), nullable=False, index=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Sessions (token families) ended early; the gateway polls this to refuse their access tokens.
revocations = Table(
    "revocations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(32), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Failed sign-ins per e-mail (blind index, whether or not an account exists) and per address.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(96), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started", UTCDateTime(), nullable=False),
    Column("locked_until", UTCDateTime(), nullable=True),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_enc", LargeBinary, nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("retired_at", UTCDateTime(), nullable=True),
)

# A user's TOTP second factor: pending until confirmed with a code (`enabled_at`). The secret is
# encrypted under the user's data key; `last_step` refuses a code seen before (RFC 6238, 5.2).
second_factors = Table(
    "second_factors",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("secret_enc", LargeBinary, nullable=False),
    Column("enabled_at", UTCDateTime(), nullable=True),
    Column("last_step", Integer, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Single-use recovery codes, stored as SHA-256 digests (they are random, not chosen).
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("used_at", UTCDateTime(), nullable=True),
)

# When an account's owner was last told that someone registered with its address again.
registration_notices = Table(
    "registration_notices",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("sent_at", UTCDateTime(), nullable=False),
)

Index("ix_revocations_expires", revocations.c.expires_at)
