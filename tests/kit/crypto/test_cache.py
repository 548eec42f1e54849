from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearway.kit.crypto import DataKeyCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key() -> AESGCM:
    return AESGCM(AESGCM.generate_key(bit_length=256))


def test_entries_expire_by_age() -> None:
    clock = Clock()
    cache = DataKeyCache(max_age_seconds=60, max_uses=1000, clock=clock)
    cipher = key()
    cache.put(b"k", cipher)
    clock.now += 59.9
    assert cache.get(b"k") is cipher
    clock.now += 0.1
    assert cache.get(b"k") is None
    assert len(cache) == 0


def test_entries_expire_by_uses() -> None:
    cache = DataKeyCache(max_age_seconds=60, max_uses=3, clock=Clock())
    cipher = key()
    cache.put(b"k", cipher)
    assert [cache.get(b"k") for _ in range(4)] == [cipher, cipher, cipher, None]
    # Putting it back (after a fresh unwrap) starts counting again.
    cache.put(b"k", cipher)
    assert cache.get(b"k") is cipher


def test_least_recently_used_go_past_max_entries() -> None:
    cache = DataKeyCache(max_age_seconds=60, max_uses=1000, max_entries=2, clock=Clock())
    cache.put(b"a", key())
    cache.put(b"b", key())
    assert cache.get(b"a") is not None
    cache.put(b"c", key())
    assert len(cache) == 2
    assert cache.get(b"b") is None
    assert cache.get(b"a") is not None
    assert cache.get(b"c") is not None


def test_evict() -> None:
    cache = DataKeyCache(max_age_seconds=60, max_uses=1000)
    cache.put(b"k", key())
    cache.evict(b"k")
    cache.evict(b"absent")
    assert cache.get(b"k") is None


def test_a_shredded_key_does_not_come_back() -> None:
    """A reader that unwrapped the key just before the shred committed cannot cache it again."""
    cache = DataKeyCache(max_age_seconds=60, max_uses=1000)
    cache.put(b"k", key())
    cache.evict(b"k")
    cache.put(b"k", key())
    assert cache.get(b"k") is None
