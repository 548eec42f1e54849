from clearway.kit.crypto import BlindIndex, LocalKeyStore

SECRET = b"s" * 32


def test_stable_and_full_length() -> None:
    digest = BlindIndex(SECRET).compute("identity", "users", "email", "ada@example.com")
    assert digest == BlindIndex(SECRET).compute("identity", "users", "email", "ada@example.com")
    assert len(digest) == 64
    int(digest, 16)


def test_normalizes_case_and_whitespace() -> None:
    index = BlindIndex(SECRET)
    assert index.compute("identity", "users", "email", "  Ada@Example.COM\n") == index.compute(
        "identity", "users", "email", "ada@example.com"
    )
    assert index.compute("identity", "users", "email", "ada@example.com") != index.compute(
        "identity", "users", "email", "bob@example.com"
    )


def test_differs_per_place_and_secret() -> None:
    index = BlindIndex(SECRET)
    value = "ada@example.com"
    digests = {
        index.compute("identity", "users", "email", value),
        index.compute("identity", "users", "backup_email", value),
        index.compute("identity", "contacts", "email", value),
        index.compute("orders", "users", "email", value),
        BlindIndex(b"o" * 32).compute("identity", "users", "email", value),
    }
    assert len(digests) == 5


def test_secret_from_the_key_store_survives_restart(store: LocalKeyStore) -> None:
    first = BlindIndex(store.secret("blind-index")).compute("identity", "users", "email", "a@b.c")
    restarted = LocalKeyStore(store.path, b"r" * 32)
    again = BlindIndex(restarted.secret("blind-index")).compute(
        "identity", "users", "email", "a@b.c"
    )
    assert first == again
