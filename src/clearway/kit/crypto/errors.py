"""Crypto errors: callers catch `CryptoError`, or `DecryptionError` to tell bad data apart."""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error this package raises."""


class KeyStoreError(CryptoError):
    """The key store cannot be opened or used (wrong root secret, damaged file)."""


class DecryptionError(CryptoError):
    """A ciphertext does not open: tampered, moved to another context, or of unknown format."""


class ShreddedError(DecryptionError):
    """The data key was destroyed on purpose (crypto-shred): the data is gone, not damaged."""
