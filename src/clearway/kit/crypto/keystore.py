"""The key service in its local form: versioned X25519 master keys in a small SQLite file.

Data keys are wrapped with HPKE under the active master public key, so anything may wrap, but
only the holder of the root secret, which encrypts the private keys at rest, can unwrap. Old
versions stay after a rotation so existing data keys keep opening until they are rewrapped.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clearway.kit.crypto.errors import DecryptionError, KeyStoreError
from clearway.kit.owner_only import owner_only_file

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
VERSION_BYTES = 4
MIN_ROOT_SECRET_BYTES = 16
NONCE_BYTES = 12
# Bumped when the file's tables change, so an old build refuses a newer store.
SCHEMA_VERSION = 1
SCHEMA = (
    """CREATE TABLE master_keys (
        version INTEGER PRIMARY KEY,
        public_key BLOB NOT NULL,
        private_key BLOB NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'retired'))
    )""",
    """CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        created_at TEXT NOT NULL
    )""",
)

KeyState = Literal["active", "retired"]


class KeyService(Protocol):
    """What envelope encryption needs from a key service, local or remote."""

    def active_version(self) -> int: ...

    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...


class KeyStore(KeyService, Protocol):
    """A key service with its administration and named secrets: `LocalKeyStore`, or
    `KmsKeyStore` (`clearway.kit.crypto.kms`) on AWS."""

    def ensure(self) -> None: ...

    def reload(self) -> None: ...

    def versions(self) -> tuple[MasterKey, ...]: ...

    def rotate(self) -> int: ...

    def secret(self, name: str, size: int = 32) -> bytes: ...


@dataclass(frozen=True)
class MasterKey:
    """One master key version as an operator sees it (never the key material)."""

    version: int
    state: KeyState
    created_at: datetime


@dataclass(frozen=True)
class _Keys:
    active: int
    public: X25519PublicKey
    private: dict[int, X25519PrivateKey]
    versions: tuple[MasterKey, ...]


class LocalKeyStore:
    """Master keys and named secrets in one file, all key material sealed under the root secret.

    Several processes (server workers, the CLI) share the file: writes take SQLite's write lock,
    and a process that meets a version it does not know re-reads the file before giving up.
    """

    def __init__(self, path: Path, root_secret: bytes) -> None:
        if len(root_secret) < MIN_ROOT_SECRET_BYTES:
            raise KeyStoreError(f"the root secret must be at least {MIN_ROOT_SECRET_BYTES} bytes")
        self.path = path
        kek = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"clearway-keystore",
            info=b"clearway|keystore|sealing-key",
        ).derive(root_secret)
        self._kek = AESGCM(kek)
        self._keys: _Keys | None = None
        self._secrets: dict[str, bytes] = {}

    def ensure(self) -> None:
        """Create the store and master key version 1 if missing, then load it."""
        with self._connect(write=True) as db:
            if not self._has_keys(db):
                self._add_version(db, 1)
            self._keys = self._parse(db)

    def reload(self) -> None:
        """Re-read the file: another process (the CLI) may have rotated."""
        with self._connect(write=False) as db:
            self._keys = self._parse(db)

    def active_version(self) -> int:
        return self._loaded().active

    def versions(self) -> tuple[MasterKey, ...]:
        return self._loaded().versions

    def rotate(self) -> int:
        """Make a new active version; retired ones stay so existing wraps still open."""
        with self._connect(write=True) as db:
            # Parsing first proves the root secret before a key is sealed under it.
            latest = max(k.version for k in self._parse(db).versions) if self._has_keys(db) else 0
            db.execute("UPDATE master_keys SET state = 'retired' WHERE state = 'active'")
            self._add_version(db, latest + 1)
            self._keys = self._parse(db)
        return self._keys.active

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """HPKE-encrypt to the active public key; the version prefix tells unwrap which key."""
        keys = self._loaded()
        prefix = keys.active.to_bytes(VERSION_BYTES, "big")
        return prefix + SUITE.encrypt(data_key, keys.public, info=prefix + context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if len(wrapped) <= VERSION_BYTES:
            raise DecryptionError("wrapped key is truncated")
        prefix = wrapped[:VERSION_BYTES]
        version = int.from_bytes(prefix, "big")
        private = self._loaded().private.get(version)
        if private is None:
            self.reload()
            private = self._loaded().private.get(version)
            if private is None:
                raise DecryptionError(f"unknown master key version {version}")
        try:
            return SUITE.decrypt(wrapped[VERSION_BYTES:], private, info=prefix + context)
        except InvalidTag as exc:
            raise DecryptionError("wrapped key does not open in this context") from exc

    def secret(self, name: str, size: int = 32) -> bytes:
        """A named random secret, created on first use, from which other modules derive keys."""
        value = self._secrets.get(name)
        if value is None:
            self._loaded()  # proves the root secret before a secret is sealed under it
            aad = b"clearway|secret|" + name.encode()
            with self._connect(write=True) as db:
                row = db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
                if row is None:
                    value = os.urandom(size)
                    db.execute(
                        "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)",
                        (name, self._seal(value, aad), _now()),
                    )
                else:
                    value = self._open(row[0], aad)
            self._secrets[name] = value
        if len(value) != size:
            raise KeyStoreError(f"secret {name!r} holds {len(value)} bytes, not {size}")
        return value

    def _loaded(self) -> _Keys:
        if self._keys is None:
            self.ensure()
        return cast(_Keys, self._keys)

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        if write and not self.path.exists():
            owner_only_file(self.path)
        elif not self.path.exists():
            raise KeyStoreError(f"no key store at {self.path}")
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            try:
                if write:
                    db.execute("BEGIN IMMEDIATE")
                self._check_schema(db, create=write)
                yield db
                if write:
                    db.execute("COMMIT")
            finally:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                db.close()
        except sqlite3.Error as exc:
            raise KeyStoreError(f"the key store {self.path} is unusable: {exc}") from exc

    def _check_schema(self, db: sqlite3.Connection, *, create: bool) -> None:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version == 0 and create:
            for statement in SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version == 0:
            raise KeyStoreError(f"the key store {self.path} is empty; run ensure() first")
        elif version != SCHEMA_VERSION:
            raise KeyStoreError(
                f"the key store {self.path} has format {version}; this build reads {SCHEMA_VERSION}"
            )

    @staticmethod
    def _has_keys(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM master_keys LIMIT 1").fetchone() is not None

    def _add_version(self, db: sqlite3.Connection, version: int) -> None:
        private = X25519PrivateKey.generate()
        public = private.public_key().public_bytes_raw()
        db.execute(
            "INSERT INTO master_keys (version, public_key, private_key, created_at, state)"
            " VALUES (?, ?, ?, ?, 'active')",
            (
                version,
                public,
                self._seal(private.private_bytes_raw(), _master_aad(version, public)),
                _now(),
            ),
        )

    def _parse(self, db: sqlite3.Connection) -> _Keys:
        rows = db.execute(
            "SELECT version, public_key, private_key, created_at, state"
            " FROM master_keys ORDER BY version"
        ).fetchall()
        private: dict[int, X25519PrivateKey] = {}
        versions: list[MasterKey] = []
        active: list[int] = []
        for version, public, sealed, created_at, state in rows:
            key = X25519PrivateKey.from_private_bytes(
                self._open(sealed, _master_aad(version, public))
            )
            if key.public_key().public_bytes_raw() != public:
                raise KeyStoreError(f"master key {version} does not match its public key")
            private[version] = key
            versions.append(MasterKey(version, state, datetime.fromisoformat(created_at)))
            if state == "active":
                active.append(version)
        if len(active) != 1:
            raise KeyStoreError(
                f"the key store {self.path} has {len(active)} active master keys, not 1"
            )
        return _Keys(active[0], private[active[0]].public_key(), private, tuple(versions))

    def _seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._kek.encrypt(nonce, plaintext, aad)

    def _open(self, sealed: bytes, aad: bytes) -> bytes:
        try:
            return self._kek.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise KeyStoreError(
                f"the root secret does not open the key store {self.path}: the root secret is "
                "wrong, or the store belongs to another installation"
            ) from exc


def _master_aad(version: int, public: bytes) -> bytes:
    # Binds each sealed private key to its row, so rows cannot be swapped.
    return b"clearway|master|" + version.to_bytes(VERSION_BYTES, "big") + public


def _now() -> str:
    return datetime.now(UTC).isoformat()
