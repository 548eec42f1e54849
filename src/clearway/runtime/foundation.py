"""What every Clearway process opens once, whichever services it hosts.

The key store (a file in the data directory opened by the root secret, or KMS on AWS), the
internal credentials, the bus, the cache bus, the job runner, and the keys derived from the
store that every service shares (blind index, sealer).
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

from clearway.gateway.app import Upstreams
from clearway.kit.aws import aws_client
from clearway.kit.bus import open_bus
from clearway.kit.cache_bus import cache_bus_from_settings
from clearway.kit.crypto import BlindIndex, KeyStore, LocalKeyStore, Sealer
from clearway.kit.crypto.kms import KmsKeyStore
from clearway.kit.files import FileStore, LocalFileStore
from clearway.kit.files_s3 import S3FileStore
from clearway.kit.internal_auth import InternalCredentials
from clearway.kit.owner_only import owner_only_directory
from clearway.kit.service import ServiceCalls
from clearway.runtime.aws.invoke import lambda_decrypt
from clearway.runtime.jobs import JobRunner
from clearway.settings import Settings

log = logging.getLogger("clearway.platform")


def root_secret(settings: Settings) -> bytes:
    """The secret that opens the key store: from settings, else from its file (made once)."""
    if settings.root_secret is not None:
        return settings.root_secret.get_secret_value().encode()
    path = settings.resolved_root_secret_file
    legacy = settings.resolved_data_dir / "root.secret"
    if settings.root_secret_file is None and legacy.exists():
        log.warning(
            "the root secret is inside the data directory (%s), so a copy of the data carries "
            "its key: move it to %s (or set CLEARWAY_ROOT_SECRET_FILE)",
            legacy,
            path,
        )
        path = legacy
    elif not path.exists() and _create_secret_file(path):
        log.warning("generated a root secret in %s; keep it safe and backed up", path)
    return path.read_text().strip().encode()


def _create_secret_file(path: Path) -> bool:
    """Write a new secret to `path` unless it exists; whole or not at all, whoever races."""
    owner_only_directory(path.parent)
    fd, temp = tempfile.mkstemp(prefix=".root.secret.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, path)  # fails if another process made one first: theirs stands
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temp)


def open_keystore(settings: Settings) -> KeyStore:
    """The local key store (one file in the data directory, opened by every process on the
    machine); on AWS (`keys_backend` "kms") KMS and Secrets Manager take its place."""
    keystore: KeyStore
    if settings.keys_backend == "kms":
        keystore = KmsKeyStore(
            aws_client("kms", settings),
            aws_client("secretsmanager", settings),
            alias_prefix=settings.kms_alias_prefix,
            secrets_prefix=settings.secrets_prefix,
            decrypt=lambda_decrypt(settings) if settings.kms_unwrap_function else None,
        )
    else:
        keystore = LocalKeyStore(settings.resolved_data_dir / "keys.db", root_secret(settings))
    keystore.ensure()
    return keystore


def open_files(settings: Settings, service: str, sealer: Sealer) -> FileStore:
    """A service's file store: a directory under the data directory, or S3 on AWS."""
    if settings.files_backend == "s3":
        s3 = aws_client("s3", settings)
        return S3FileStore(s3, settings.files_bucket, service, sealer, settings.files_kms_key_id)
    return LocalFileStore(settings.resolved_data_dir / "files" / service, sealer)


class HostUpstreams(Upstreams, ServiceCalls, Protocol):
    """How this process reaches services: in-process ASGI calls or pooled HTTP."""

    async def close(self) -> None: ...


class Foundation:
    """What every process opens once, whichever services it hosts."""

    def __init__(self, settings: Settings, *, leader: bool = True) -> None:
        self.settings = settings
        self.keystore = open_keystore(settings)
        self.credentials = InternalCredentials(self.keystore.secret("internal-credential"))
        self.bus = open_bus(settings)
        self.cache = cache_bus_from_settings(settings)
        self.jobs = JobRunner(leader=leader)
        self.blind_index = BlindIndex(self.keystore.secret("blind-index"))
        self.sealer = Sealer(self.keystore)
