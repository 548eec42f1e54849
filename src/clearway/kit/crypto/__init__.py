"""Encryption every service uses: the key service, per-field envelopes, blind indexes, seals."""

from clearway.kit.crypto.envelope import (
    BlindIndex,
    DataKeyCache,
    FieldCipher,
    Sealer,
    data_keys,
    normalize,
)
from clearway.kit.crypto.errors import CryptoError, DecryptionError, KeyStoreError, ShreddedError
from clearway.kit.crypto.keystore import KeyService, KeyStore, LocalKeyStore, MasterKey

__all__ = [
    "BlindIndex",
    "CryptoError",
    "DataKeyCache",
    "DecryptionError",
    "FieldCipher",
    "KeyService",
    "KeyStore",
    "KeyStoreError",
    "LocalKeyStore",
    "MasterKey",
    "Sealer",
    "ShreddedError",
    "data_keys",
    "normalize",
]
