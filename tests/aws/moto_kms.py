"""What moto lacks to stand in for KMS here: RSAES_OAEP Decrypt of a ciphertext made outside it.

moto 5 keeps asymmetric KMS keys and hands out their public parts, but its Decrypt only opens
its own symmetric format. `decrypt_rsa_oaep` wraps moto's Decrypt so that, for an RSA key made
for encryption, it decrypts with the key's own private key and the padding KMS documents for
RSAES_OAEP_SHA_256, so wrapping with the public key and unwrapping through Decrypt are both
exercised. `serve` runs moto's server with it (for `bench.lambda_cold_start`).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from moto.kms.exceptions import InvalidCiphertextException
from moto.kms.models import KmsBackend

from clearway.kit.crypto.kms import OAEP


def decrypt_rsa_oaep(original: Any) -> Any:
    def decrypt(
        self: KmsBackend,
        ciphertext_blob: bytes,
        encryption_context: dict[str, str],
        key_id: str | None = None,
    ) -> tuple[bytes, str]:
        if key_id is not None:
            key = self.keys[self.any_id_to_key_id(key_id)]
            if key.key_spec.startswith("RSA_") and key.key_usage == "ENCRYPT_DECRYPT":
                try:
                    plaintext = key.private_key.private_key.decrypt(ciphertext_blob, OAEP)
                except ValueError:
                    raise InvalidCiphertextException() from None
                return plaintext, key.arn
        result: tuple[bytes, str] = original(self, ciphertext_blob, encryption_context, key_id)
        return result

    return decrypt


def serve(port: int) -> None:
    """moto's server on 127.0.0.1:`port`, with RSAES_OAEP Decrypt, until killed."""
    from moto.server import ThreadedMotoServer

    KmsBackend.decrypt = decrypt_rsa_oaep(KmsBackend.decrypt)  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
