"""Envelope encryption: per-field ciphers in a service's database, sealed envelopes that travel.

Each subject (a user, or "service" for service-wide data) has a data key; its fields are
encrypted with AES-256-GCM under it, with their place (service, table, column, record id) as
associated data, so a ciphertext copied to another row or column does not open. Data keys are
stored wrapped by the key service and kept unwrapped in a cache bounded by age and uses.
Destroying a subject's data key makes all of its fields unreadable for good (crypto-shred).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto.errors import DecryptionError, ShreddedError
from clearway.kit.crypto.keystore import KeyService
from clearway.kit.db import Database
from clearway.kit.tables import metadata

FIELD_FORMAT = 0x01
SEALED_FORMAT = 0x02
KEY_ID_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
FIELD_HEADER_BYTES = 1 + KEY_ID_BYTES
SEALED_LENGTH_BYTES = 2

data_keys = Table(
    "data_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("subject", String(200), nullable=False, index=True),
    # NULL once shredded: the key material is gone, the row stays as a record of it.
    Column("wrapped", LargeBinary, nullable=True),
    Column("master_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
)


@dataclass(slots=True)
class _Entry:
    cipher: AESGCM
    born: float
    uses: int = 0


class DataKeyCache:
    """Unwrapped data keys, each dropped after `max_age_seconds` or `max_uses`, whichever first.

    The age bound is how long a key shredded by another process stays usable here; the use
    bound limits how much one unwrap serves. Past `max_entries` the least recently used go.
    """

    def __init__(
        self,
        max_age_seconds: float,
        max_uses: int,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_seconds = max_age_seconds
        self.max_uses = max_uses
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        # Keys evicted because they were shredded: a reader that unwrapped one just before the
        # shred committed must not put it back (bounded like the entries; shreds are rare).
        self._gone: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_id: bytes) -> AESGCM | None:
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is None:
                return None
            if self._clock() - entry.born >= self.max_age_seconds:
                del self._entries[key_id]
                return None
            entry.uses += 1
            if entry.uses >= self.max_uses:
                del self._entries[key_id]
            else:
                self._entries.move_to_end(key_id)
            return entry.cipher

    def put(self, key_id: bytes, cipher: AESGCM) -> None:
        with self._lock:
            if key_id in self._gone:
                return
            self._entries[key_id] = _Entry(cipher, self._clock())
            self._entries.move_to_end(key_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def evict(self, key_id: bytes) -> None:
        """Drop a shredded key, and keep it from coming back."""
        with self._lock:
            self._entries.pop(key_id, None)
            self._gone[key_id] = None
            while len(self._gone) > self.max_entries:
                self._gone.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class FieldCipher:
    """Encrypts and decrypts one service's sensitive fields inside the caller's transaction."""

    def __init__(self, service: str, keys: KeyService, cache: DataKeyCache) -> None:
        self.service = service
        self._keys = keys
        self._cache = cache

    async def encrypt(
        self,
        session: AsyncSession,
        subject: str,
        table: str,
        column: str,
        record_id: str | int,
        plaintext: str,
    ) -> bytes:
        """`0x01 | data key id | nonce | ciphertext+tag`, bound to the field's place."""
        key_id, cipher = await self._subject_key(session, subject)
        header = bytes([FIELD_FORMAT]) + key_id
        nonce = os.urandom(NONCE_BYTES)
        aad = header + self._place(table, column, record_id)
        return header + nonce + cipher.encrypt(nonce, plaintext.encode(), aad)

    async def decrypt(
        self,
        session: AsyncSession,
        table: str,
        column: str,
        record_id: str | int,
        ciphertext: bytes,
    ) -> str:
        """The plaintext; no database query once the data key is cached."""
        if len(ciphertext) < FIELD_HEADER_BYTES + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("ciphertext is truncated")
        if ciphertext[0] != FIELD_FORMAT:
            raise DecryptionError(f"unknown ciphertext format {ciphertext[0]}")
        header = ciphertext[:FIELD_HEADER_BYTES]
        key_id = header[1:]
        cipher = self._cache.get(key_id)
        if cipher is None:
            cipher = await self._stored_key(session, key_id)
        body = FIELD_HEADER_BYTES + NONCE_BYTES
        try:
            plaintext = cipher.decrypt(
                ciphertext[FIELD_HEADER_BYTES:body],
                ciphertext[body:],
                header + self._place(table, column, record_id),
            )
        except InvalidTag as exc:
            raise DecryptionError("ciphertext was altered or belongs to another field") from exc
        return plaintext.decode()

    async def shred(self, session: AsyncSession, subject: str) -> int:
        """Destroy the subject's data keys, so its ciphertexts never open again; returns how many.

        Other processes may hold a key in their cache for up to its `max_age_seconds`.
        """
        ids = (
            await session.scalars(
                select(data_keys.c.id).where(
                    data_keys.c.subject == subject, data_keys.c.destroyed_at.is_(None)
                )
            )
        ).all()
        if ids:
            await session.execute(
                update(data_keys)
                .where(data_keys.c.id.in_(ids))
                .values(wrapped=None, destroyed_at=datetime.now(UTC))
            )

        for key_id in ids:
            self._cache.evict(bytes.fromhex(key_id))
        return len(ids)

    async def rewrap(self, session: AsyncSession, batch: int = 500) -> int:
        """Rewrap up to `batch` data keys under the active master key; returns how many.

        Only keys on an older version move, so a process whose key store is stale (rotated
        elsewhere and not yet reloaded) never rewraps keys back to its older version.
        """
        active = self._keys.active_version()
        rows = (
            await session.execute(
                select(data_keys.c.id, data_keys.c.wrapped)
                .where(data_keys.c.master_version < active, data_keys.c.wrapped.is_not(None))
                .limit(batch)
            )
        ).all()
        if not rows:
            return 0
        rewrapped = []
        for key_id, wrapped in rows:
            context = self._wrap_context(key_id)
            data_key = self._keys.unwrap(wrapped, context)
            rewrapped.append({"key_id": key_id, "new": self._keys.wrap(data_key, context)})
        await session.execute(
            update(data_keys)
            .where(data_keys.c.id == bindparam("key_id"))
            .values(wrapped=bindparam("new"), master_version=active),
            rewrapped,
        )
        return len(rows)

    async def rewrap_all(self, db: Database, batch: int = 500) -> int:
        """Rewrap every data key, one transaction per batch so writers are never held long."""
        total = 0
        while True:
            async with db.transaction() as session:
                done = await self.rewrap(session, batch)
            total += done
            if done < batch:
                return total

    async def shredded(self, session: AsyncSession, subject: str) -> bool:
        """Whether the subject was crypto-shredded: what arrives for it later is not kept."""
        found = await session.execute(
            select(data_keys.c.id)
            .where(data_keys.c.subject == subject, data_keys.c.destroyed_at.is_not(None))
            .limit(1)
        )
        return found.first() is not None

    async def _subject_key(self, session: AsyncSession, subject: str) -> tuple[bytes, AESGCM]:
        # Always asks the database which key is the subject's, so a key created in a
        # transaction that later rolls back is never used for another record.
        row = (
            await session.execute(
                select(data_keys.c.id, data_keys.c.wrapped)
                .where(data_keys.c.subject == subject, data_keys.c.destroyed_at.is_(None))
                .order_by(data_keys.c.created_at, data_keys.c.id)
                .limit(1)
            )
        ).first()
        if row is not None:
            key_id = bytes.fromhex(row.id)
            cipher = self._cache.get(key_id)
            return key_id, cipher if cipher is not None else self._unwrap(key_id, row.wrapped)
        key_id = uuid.uuid4().bytes
        data_key = AESGCM.generate_key(bit_length=256)
        await session.execute(
            insert(data_keys).values(
                id=key_id.hex(),
                subject=subject,
                wrapped=self._keys.wrap(data_key, self._wrap_context(key_id.hex())),
                master_version=self._keys.active_version(),
                created_at=datetime.now(UTC),
            )
        )
        cipher = AESGCM(data_key)
        self._cache.put(key_id, cipher)
        return key_id, cipher

    async def _stored_key(self, session: AsyncSession, key_id: bytes) -> AESGCM:
        row = (
            await session.execute(select(data_keys.c.wrapped).where(data_keys.c.id == key_id.hex()))
        ).first()
        if row is None:
            raise DecryptionError("ciphertext names an unknown data key")
        if row.wrapped is None:
            raise ShreddedError("the data key was destroyed")
        return self._unwrap(key_id, row.wrapped)

    def _unwrap(self, key_id: bytes, wrapped: bytes) -> AESGCM:
        cipher = AESGCM(self._keys.unwrap(wrapped, self._wrap_context(key_id.hex())))
        self._cache.put(key_id, cipher)
        return cipher

    def _wrap_context(self, key_id: str) -> bytes:
        return f"{self.service}|data_key|{key_id}".encode()

    def _place(self, table: str, column: str, record_id: str | int) -> bytes:
        return f"{self.service}|{table}|{column}|{record_id}".encode()


def normalize(value: str) -> str:
    """NFKC, trimmed and case-folded, so a lookup matches however the user typed the value."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


class BlindIndex:
    """Keyed digests of encrypted values, for exact lookups on them (e-mail at login).

    Each (service, table, column) gets its own key, so equal values in different columns
    cannot be linked, and without the secret a digest cannot be tested against guesses.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._keys: dict[tuple[str, str, str], bytes] = {}

    def compute(self, service: str, table: str, column: str, value: str) -> str:
        place = (service, table, column)
        key = self._keys.get(place)
        if key is None:
            key = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=b"clearway-blind-index",
                info="|".join(place).encode(),
            ).derive(self._secret)
            self._keys[place] = key
        return hmac.new(key, normalize(value).encode(), hashlib.sha256).hexdigest()


class Sealer:
    """Self-contained envelopes for data that leaves the database (event payloads, files).

    Each seal gets a fresh data key, wrapped inline: `0x02 | wrapped length (2 bytes) | wrapped
    | nonce | ciphertext+tag`, so whoever may unwrap can open it without a data key table.
    """

    def __init__(self, keys: KeyService) -> None:
        self._keys = keys

    def seal(self, plaintext: bytes, context: str) -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = self._keys.wrap(data_key, _sealed_context(context))
        header = (
            bytes([SEALED_FORMAT]) + len(wrapped).to_bytes(SEALED_LENGTH_BYTES, "big") + wrapped
        )
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, header + context.encode())
        return header + nonce + ciphertext

    def open(self, sealed: bytes, context: str) -> bytes:
        start = 1 + SEALED_LENGTH_BYTES
        if len(sealed) < start or sealed[0] != SEALED_FORMAT:
            raise DecryptionError("not a sealed envelope of a known format")
        end = start + int.from_bytes(sealed[1:start], "big")
        if len(sealed) < end + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("sealed envelope is truncated")
        data_key = self._keys.unwrap(sealed[start:end], _sealed_context(context))
        body = end + NONCE_BYTES
        try:
            return AESGCM(data_key).decrypt(
                sealed[end:body], sealed[body:], sealed[:end] + context.encode()
            )
        except InvalidTag as exc:
            raise DecryptionError("sealed envelope was altered") from exc

    def seal_text(self, plaintext: str, context: str) -> str:
        """Sealed text as unpadded URL-safe base64, to carry inside JSON or a URL."""
        sealed = self.seal(plaintext.encode(), context)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open_text(self, token: str, context: str) -> str:
        try:
            sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError as exc:
            raise DecryptionError("sealed text is not base64") from exc
        return self.open(sealed, context).decode()


def _sealed_context(context: str) -> bytes:
    # Its own prefix keeps envelope wraps apart from data key wraps ("<service>|data_key|…").
    return f"sealed|{context}".encode()
