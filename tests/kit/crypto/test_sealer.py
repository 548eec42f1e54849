import pytest

from clearway.kit.crypto import DecryptionError, LocalKeyStore, Sealer


def test_round_trip(store: LocalKeyStore) -> None:
    sealer = Sealer(store)
    sealed = sealer.seal(b"report.pdf bytes", "file:42")
    assert sealed[0] == 0x02
    assert b"report.pdf" not in sealed
    assert sealer.open(sealed, "file:42") == b"report.pdf bytes"
    # Every seal has its own data key.
    assert sealer.seal(b"report.pdf bytes", "file:42") != sealed


def test_text_round_trip_is_url_safe(store: LocalKeyStore) -> None:
    sealer = Sealer(store)
    token = sealer.seal_text("Grüße, +49 30 123456", "event:user.registered")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert sealer.open_text(token, "event:user.registered") == "Grüße, +49 30 123456"


def test_wrong_context_fails(store: LocalKeyStore) -> None:
    sealer = Sealer(store)
    with pytest.raises(DecryptionError):
        sealer.open(sealer.seal(b"x", "file:42"), "file:43")
    with pytest.raises(DecryptionError):
        sealer.open_text(sealer.seal_text("x", "file:42"), "file:43")


def test_damaged_envelopes_fail(store: LocalKeyStore) -> None:
    sealer = Sealer(store)
    sealed = sealer.seal(b"payload", "ctx")
    for position in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            sealer.open(bytes(tampered), "ctx")
    for broken in (b"", b"\x01" + sealed[1:], sealed[:40], sealed[:-17]):
        with pytest.raises(DecryptionError):
            sealer.open(broken, "ctx")
    with pytest.raises(DecryptionError):
        sealer.open_text("é not base64", "ctx")
